"""The first section of the guide: from no key to a verified webhook, for client developers.

The steps are ours, not the spec's: they link to the convention sections the spec states
once, and show the first request in every language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.docs.blocks import Block, Request

if TYPE_CHECKING:
    from sandbox.docs.section import Context

TITLE = "Getting started"
STEPS = """\
Every example on this page runs as it is against a fresh sandbox: it names ids the
sandbox has, and reads your key from `SANDBOX_KEY`.

1. **Get a test key.** Start a sandbox with `sandbox serve`. It prints the base URL, the
   test keys of its seeded companies and one line to paste into your shell:
   `export SANDBOX_KEY=sk_test_…` (a full-access key). `sandbox keys` lists the keys again.
   Test keys start with `sk_test_`: nothing is charged and no SMS leaves the machine.
2. **Make a first request.** `GET /account` answers with the company, plan and scopes of
   the key: the request beside this list, in curl, Python or JavaScript (pick one with the
   tabs; the page remembers it). On the page a sandbox serves at `/docs`, every operation
   also has a **Try it** panel: paste your key once and send.
3. **Create safely.** Send a fresh `Idempotency-Key` with every create and the same one
   when you retry it: a retry then replays the first answer instead of creating twice.
   See [Idempotency](#idempotency).
4. **Page through lists.** Lists take `limit` and `offset` and answer `has_more`: ask for
   the next page while it is true. See [Pagination](#pagination).
5. **Handle errors.** Every error is one JSON shape, `{code, message, details,
   request_id}`: branch on `code`, show `message`, and quote `request_id` when you report
   a problem. A 429 says when to retry in `Retry-After`. See [Errors](#errors) and
   [Rate limits](#rate-limits).
6. **Receive webhooks.** Subscribe a URL with `POST /webhooks`; each delivery is a signed
   `POST`. Check its signature before you trust it, with the Node.js or Python snippet in
   [Webhooks](#webhooks).
7. **Try the unhappy paths.** Magic payment methods and phone numbers make a charge fail
   or an SMS bounce on purpose. See [Test mode](#test-mode).
"""


def getting_started(ctx: Context) -> list[Block]:
    """The first request (the spec's first operation), in every language."""
    if not ctx.operations or not ctx.operations[0].samples:
        return []
    first = ctx.operations[0]
    return [Request(f"{first.method.upper()} {first.path}", first.samples)]
