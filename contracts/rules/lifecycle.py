"""Delete means gone: a resource the spec can delete is read, deleted, then missing.

For every create whose response links to a delete, one resource is made with the main
key from the spec's example and read through the create's read link (200); the delete
link is followed (2xx); the read is then a 404 envelope and the resource is absent from
its list (walked up to the profile's page budget). A server that keeps serving a deleted
resource fails here in every profile, without depending on the fuzzer's stateful path.
"""

from __future__ import annotations

from typing import Any

from contracts.context import Context, Rule
from contracts.exchange import Exchange
from contracts.factory import SetupError, expand
from contracts.links import evaluate_all
from contracts.outcome import Verdict
from contracts.rules.idempotency import counting_list
from contracts.spec import Link, Operation

RULES = (
    Rule(
        "lifecycle.delete",
        "A deleted resource is gone: reading it is a 404 envelope and its list omits it.",
    ),
)
PAGE_LIMIT = 100


def check(ctx: Context, verdicts: dict[str, Verdict]) -> None:
    verdict = verdicts["lifecycle.delete"]
    for create in ctx.spec.creates:
        targets = [(ctx.spec.operation(link.operation_id), link) for link in create.links]
        delete = next(((op, ln) for op, ln in targets if op.method == "delete"), None)
        if delete is None or delete[0].sandbox_only:
            continue
        read = next(
            ((op, ln) for op, ln in targets if op.method == "get" and op.path == delete[0].path),
            None,
        )
        ctx.progress(f"lifecycle {create.operation_id} -> {delete[0].operation_id}")
        gone(ctx, verdict, create, delete, read)


def gone(
    ctx: Context,
    verdict: Verdict,
    create: Operation,
    delete: tuple[Operation, Link],
    read: tuple[Operation, Link] | None,
) -> None:
    """Create, read, delete, then check the read and the list for one resource."""
    factory = ctx.main.factory.fresh()
    try:
        body = factory.body(create)
        made = factory.send(create, params=factory.path_params(create), body=body)
    except SetupError as exc:
        made, body = exc.exchange, None
    if not verdict.expect(made.ok, create.label, "2xx for the spec's example", made):
        return

    def follow(pair: tuple[Operation, Link]) -> Exchange:
        op, link = pair
        params = evaluate_all(link.parameters, request_body=body, response=made)
        return ctx.main.client.request(
            op.method, expand(op.path, params), operation_id=op.operation_id
        )

    if read is not None:
        verdict.expect(follow(read).status == 200, read[0].label, "200 before the delete", None)
    deleted = follow(delete)
    if not verdict.expect(deleted.ok, delete[0].label, "2xx for the delete", deleted):
        return
    if read is not None:
        after = follow(read)
        code = (after.json() or {}).get("code") if after.status == 404 else None
        verdict.expect(code == "not_found", read[0].label, "404 not_found once deleted", after)
    made_id = (made.json() or {}).get("id")
    listing = counting_list(ctx.spec, create)
    if listing is not None and made_id and not listing.path_parameters:
        found, answer = listed(ctx, listing, made_id)
        verdict.expect(
            answer is not None and answer.ok and not found,
            listing.label,
            f"no {made_id} in the list once deleted",
            answer,
        )


def listed(ctx: Context, listing: Operation, wanted: str) -> tuple[bool, Exchange | None]:
    """(whether `wanted` is among the list's item ids, the last page's answer)."""
    answer = None
    for page in range(ctx.profile.max_pages):
        answer = ctx.main.factory.send(
            listing, params={}, query={"limit": PAGE_LIMIT, "offset": page * PAGE_LIMIT}
        )
        body: Any = answer.json() if answer.ok else None
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return False, answer
        if any(isinstance(item, dict) and item.get("id") == wanted for item in items):
            return True, answer
        if not body.get("has_more"):
            break
    return False, answer
