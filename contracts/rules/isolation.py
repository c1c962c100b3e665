"""Tenant isolation: what one company creates, another can neither see nor touch.

For every create, the resource is made with the main key; then each operation its
response links to (read, update, delete, cancel, list-by-parent, pay) is called with a
key of another company, which must get 404, and the resource must be unchanged.
"""

from __future__ import annotations

from contracts.context import Context, Keyed, Rule
from contracts.exchange import Exchange
from contracts.factory import SetupError, expand
from contracts.links import evaluate_all
from contracts.outcome import Verdict
from contracts.rules.idempotency import counting_list
from contracts.rules.sampling import one_per_tag
from contracts.spec import Operation

RULES = (
    Rule("isolation.read", "A resource of one company is 404 to another company's key on reads."),
    Rule(
        "isolation.write",
        "Another company's key gets 404 on updates, deletes and actions, and the resource stays "
        "unchanged.",
    ),
    Rule("isolation.list", "A resource of one company never appears in another company's list."),
    Rule("isolation.business", "X-Business-Id naming another company's business is 404."),
)
BUSINESS_HEADER = "X-Business-Id"


def check(ctx: Context, verdicts: dict[str, Verdict]) -> None:
    """Create each resource with the main key and aim every linked operation at it."""
    other = ctx.other
    if other is None:
        for verdict in verdicts.values():
            verdict.skip("no --other-key: a key of another company is needed")
        return
    if business := verdicts.get("isolation.business"):
        check_business(ctx, other, business)
    for create in ctx.spec.creates:
        if not create.links:
            continue
        ctx.progress(f"isolation {create.operation_id}")
        factory = ctx.main.factory.fresh()
        try:
            body = factory.body(create)
            made = factory.send(create, params=factory.path_params(create), body=body)
        except SetupError as exc:
            made = exc.exchange
        if not made.ok:
            for verdict in verdicts.values():
                verdict.expect(False, create.label, "2xx for the spec's example", made)
            continue
        check_links(ctx, other, create, made, body, verdicts)
        if listed := verdicts.get("isolation.list"):
            check_list(ctx, other, create, made, listed)


def check_links(
    ctx: Context,
    other: Keyed,
    create: Operation,
    made: Exchange,
    body: object,
    verdicts: dict[str, Verdict],
) -> None:
    links = [(ctx.spec.operation(link.operation_id), link) for link in create.links]
    reads = [(op, link) for op, link in links if op.method == "get" and not op.lists]
    read_op, read_link = reads[0] if reads else (None, None)

    def read() -> Exchange | None:
        if read_op is None or read_link is None:
            return None
        params = evaluate_all(read_link.parameters, request_body=body, response=made)
        return ctx.main.client.request(
            "GET", expand(read_op.path, params), operation_id=read_op.operation_id
        )

    for target, link in links:
        if target.sandbox_only:
            continue
        writes = target.method != "get"
        verdict = verdicts.get("isolation.write" if writes else "isolation.read")
        if verdict is None:
            continue
        if other.account.lacks(target.scopes):
            verdict.skip(f"{target.label}: the other key lacks {', '.join(target.scopes)}")
            continue
        before = read() if writes else None
        params = evaluate_all(link.parameters, request_body=body, response=made)
        sent_body = None
        if link.request_body is not None:
            # The link names some fields; the rest is the target's own example, as a
            # client would send it (and as schemathesis merges a link's body).
            sent_body = {
                **example_body(other, target),
                **evaluate_all(link.request_body, request_body=body, response=made),
            }
        elif target.body_schema is not None:
            sent_body = target.body_example
        answer = other.factory.send(target, params=params, body=sent_body)
        if link.request_body is not None:
            # The id travels in the body: any refusal will do, acceptance never.
            verdict.expect(
                400 <= answer.status < 500 and answer.status != 403,
                target.label,
                f"a 4xx (not 403) for another company's {link.name} target",
                answer,
            )
        else:
            verdict.expect(
                answer.status == 404, target.label, "404 for another company's resource", answer
            )
        if before is not None:
            after = read()
            verdict.expect(
                after is not None and after.status == before.status and after.body == before.body,
                target.label,
                "the resource unchanged for its owner",
                after,
            )


def example_body(keyed: Keyed, target: Operation) -> dict:
    """The target's example body filled for `keyed` ({} when it has none or it fails)."""
    try:
        body = keyed.factory.body(target) if target.body_schema is not None else None
    except SetupError:
        return {}
    return body if isinstance(body, dict) else {}


def check_business(ctx: Context, other: Keyed, verdict: Verdict) -> None:
    """The main key asks for the other company's business: every read is 404."""
    foreign = (other.account.raw.get("business") or {}).get("id")
    reads = [
        op
        for op in ctx.spec.contract
        if op.method == "get" and not op.path_parameters and op.parameter(BUSINESS_HEADER)
    ]
    if not foreign or not reads:
        verdict.skip("the other key's account names no business, or no read takes the header")
        return
    for op in reads if ctx.profile.probe_all else one_per_tag(reads):
        try:
            query = ctx.main.factory.query(op)
        except SetupError as exc:
            verdict.expect(False, op.label, "a resource made from the spec's example", exc.exchange)
            continue
        answer = ctx.main.factory.send(
            op, params={}, query=query, headers={BUSINESS_HEADER: foreign}
        )
        code = (answer.json() or {}).get("code") if answer.status == 404 else None
        verdict.expect(
            code == "not_found",
            op.label,
            f"404 not_found for {BUSINESS_HEADER} of another company",
            answer,
        )


def check_list(ctx: Context, other: Keyed, create: Operation, made: Exchange, v: Verdict) -> None:
    listing = counting_list(ctx.spec, create)
    made_id = (made.json() or {}).get("id")
    if listing is None or not made_id or listing.path_parameters:
        return
    if other.account.lacks(listing.scopes):
        v.skip(f"{listing.label}: the other key lacks {', '.join(listing.scopes)}")
        return
    answer = other.factory.send(listing, params={}, query={"limit": 200})
    items = (answer.json() or {}).get("items") if answer.ok else None
    ids = {item.get("id") for item in items or [] if isinstance(item, dict)}
    v.expect(
        answer.ok and made_id not in ids,
        listing.label,
        f"no {made_id} in another company's list",
        answer,
    )
