"""The contract kit: checks any server that claims to implement openapi.yaml.

It talks to the server over HTTP only, given a base URL and keys, and reads the spec
itself; it never imports `sandbox`. Imports point one way:

    cli, pytest_plugin, test_platform
      └─> runner ─> rules/* ─> context ─> factory, account ─> client ─> exchange, throttle
             │           └─> fuzzing (schemathesis)  └─> spec, links, variation
             └─> report, junit ─> outcome

- `spec`: the parsed spec; an `Operation` knows its scopes, links and examples, and
  whether it creates (takes Idempotency-Key) or lists (its 2xx is a Page).
- `exchange`, `client`, `throttle`: one recorded request and response; a client per key
  that keeps under the rate limit and records everything it sends.
- `account`: what a key can do, from `GET /account`; `configuration`: what the keys
  given cannot check (named, and the rule families it blocks).
- `factory`, `links`, `variation`: valid requests from the spec's examples, with the
  resources they name created first; link expressions; a one-field variant of a body.
- `context`, `profile`: a run's shared state; the `quick` and `full` budgets.
- `rules/`: one module per rule family, each with `RULES` and `check(ctx, verdicts)`;
  `rules/sampling` picks the operations a probe visits.
- `fuzzing`: the schemathesis adapter behind `rules/conformance` (auth provider, hooks and
  events, all on the run's own schema: nothing registered globally).
- `outcome`: `Verdict` (one rule's tally) and `Failure` (evidence, reproduction).
- `runner`: builds the context and runs the selected families in order.
- `report`, `junit`: the table a person reads with curl reproductions; JUnit XML.
- `cli`, `pytest_plugin`, `test_platform`: `contracts run|rules`, and the suite in pytest.
"""
