"""Authentication and scopes: who may call, and what a key without the scope gets."""

from __future__ import annotations

import secrets

from contracts.client import NO_KEY, Client
from contracts.context import Context, Keyed, Rule
from contracts.exchange import Exchange
from contracts.factory import SetupError, expand, unique
from contracts.outcome import Verdict
from contracts.rules.sampling import one_per_kind, one_per_tag
from contracts.spec import Operation

RULES = (
    Rule("auth.missing-key", "A request without an Authorization header is 401 unauthorized."),
    Rule(
        "auth.malformed-key",
        "A malformed Authorization header (another scheme, an empty or garbled token) is 401.",
    ),
    Rule("auth.unknown-key", "A well-formed test key the server never issued is 401."),
    Rule("auth.live-key", "A live key (sk_live_…) is 401."),
    Rule("auth.scope", "A key lacking an operation's scope gets 403 forbidden."),
)
MALFORMED = ("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token {key}", "{key}", "Bearer {key} x")


def check(ctx: Context, verdicts: dict[str, Verdict]) -> None:
    """Probe each sampled operation with each kind of bad key, then the scopes.

    The probes go out through a client of their own: a server may count requests without
    a valid key in a window of their own, which must not stall the main key's.
    """
    anonymous = Client(ctx.base_url, None, ctx.recorder)
    prefixes = ctx.spec.document.get("x-test-mode", {}).get("key_prefixes", {})
    test_prefix, live_prefix = prefixes.get("test", "sk_test_"), prefixes.get("live", "sk_live_")
    operations = ctx.spec.contract if ctx.profile.probe_all else one_per_tag(ctx.spec.contract)
    for index, op in enumerate(operations):
        if "auth.missing-key" in verdicts:
            answer = _send(anonymous, ctx, op, {"Authorization": None}, key=NO_KEY)
            _expect_401(verdicts["auth.missing-key"], op, answer, "no Authorization header")
        if "auth.malformed-key" in verdicts:
            template = MALFORMED[index % len(MALFORMED)]
            value = template.format(key=ctx.main.client.key or "")
            answer = _send(anonymous, ctx, op, {"Authorization": value}, key=NO_KEY)
            _expect_401(verdicts["auth.malformed-key"], op, answer, f"Authorization: {template}")
        if "auth.unknown-key" in verdicts:
            answer = _send(anonymous, ctx, op, {}, key=test_prefix + secrets.token_hex(12))
            _expect_401(verdicts["auth.unknown-key"], op, answer, "an unknown test key")
        if "auth.live-key" in verdicts:
            answer = _send(anonymous, ctx, op, {}, key=live_prefix + secrets.token_hex(12))
            _expect_401(verdicts["auth.live-key"], op, answer, "a live key")
    if "auth.scope" in verdicts:
        check_scopes(ctx, verdicts["auth.scope"])


def check_scopes(ctx: Context, verdict: Verdict) -> None:
    """Every key that lacks a scope gets 403 on the operations that need it."""
    limited = [k for k in ctx.keys if k.account.lacks(ctx.spec.scopes)]
    if not limited:
        verdict.skip("no key given lacks a scope: add a read-only key as an extra key")
        return
    for keyed in limited:
        needing = [op for op in ctx.spec.contract if keyed.account.lacks(op.scopes)]
        if not ctx.profile.probe_all:
            needing = one_per_kind(needing)
        for op in needing:
            params = _params_for(ctx, keyed, op)
            body = op.body_example if op.body_schema is not None else None
            answer = keyed.client.request(
                op.method, expand(op.path, params), json=body, operation_id=op.operation_id
            )
            missing = [s for s in op.scopes if s not in keyed.account.scopes]
            body = answer.json() if answer.status == 403 else None
            verdict.expect(
                answer.status == 403 and isinstance(body, dict) and body.get("code") == "forbidden",
                op.label,
                f"403 forbidden for {keyed.label}, which lacks {', '.join(missing)}",
                answer,
            )


def _params_for(ctx: Context, keyed: Keyed, op: Operation) -> dict[str, str]:
    """Real ids when the limited key shares the main key's company, unknown ones otherwise."""
    if keyed.account.company_id == ctx.main.account.company_id:
        try:
            return ctx.main.factory.path_params(op)
        except SetupError:
            pass  # an id the kit cannot make: an unknown one serves as well
    return {name: unique("x") for name in op.path_parameters}


def _send(
    client: Client, ctx: Context, op: Operation, headers: dict[str, str | None], key: object
) -> Exchange:
    params = {name: unique("x") for name in op.path_parameters}
    body = op.body_example if op.body_schema is not None else None
    return client.request(
        op.method,
        expand(op.path, params),
        json=body,
        headers=headers,
        key=key,
        operation_id=op.operation_id,
    )


def _expect_401(verdict: Verdict, op: Operation, answer: Exchange, sent: str) -> None:
    body = answer.json()
    verdict.expect(
        answer.status == 401 and isinstance(body, dict) and body.get("code") == "unauthorized",
        op.label,
        f"401 unauthorized for {sent}",
        answer,
    )
