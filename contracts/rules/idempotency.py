"""Idempotent creates: replays, conflicts, concurrency, and keys scoped to a company.

Every POST that takes the `Idempotency-Key` parameter is a create. Each gets its own
resources (a fresh factory) so that one create never spends another's dependency.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from contracts.context import Context, Rule
from contracts.exchange import Exchange
from contracts.factory import Factory, SetupError
from contracts.outcome import Verdict
from contracts.spec import Operation, Spec
from contracts.variation import vary

RULES = (
    Rule(
        "idempotency.replay",
        "The same Idempotency-Key and payload replay the first response byte for byte, "
        "with Idempotent-Replayed: true.",
    ),
    Rule("idempotency.conflict", "The same Idempotency-Key with another payload is 409 conflict."),
    Rule(
        "idempotency.concurrent",
        "Concurrent requests with one Idempotency-Key create one resource (counted by the list).",
    ),
    Rule(
        "idempotency.company-scoped",
        "An Idempotency-Key used by one company never replays for another.",
    ),
)
REPLAYED = "Idempotent-Replayed"


def check(ctx: Context, verdicts: dict[str, Verdict]) -> None:
    """Run every selected idempotency check on every create operation."""
    for op in ctx.spec.creates:
        ctx.progress(f"idempotency {op.operation_id}")
        try:
            check_operation(ctx, op, verdicts)
        except SetupError as exc:
            for verdict in verdicts.values():
                verdict.expect(
                    False, op.label, "a resource made from the spec's example", exc.exchange
                )


def check_operation(ctx: Context, op: Operation, verdicts: dict[str, Verdict]) -> None:
    factory = ctx.main.factory.fresh()
    params, body = factory.path_params(op), factory.body(op)
    key = f"contracts-{ctx.token}-{secrets.token_hex(6)}"
    first = factory.send(op, params=params, body=body, headers={"Idempotency-Key": key})
    if not first.ok:
        for verdict in verdicts.values():
            verdict.expect(False, op.label, "2xx for the spec's example", first)
        return
    if replay := verdicts.get("idempotency.replay"):
        again = factory.send(op, params=params, body=body, headers={"Idempotency-Key": key})
        replay.expect(
            first.header(REPLAYED) != "true", op.label, f"no {REPLAYED} on the first answer", first
        )
        replay.expect(
            again.status == first.status and again.body == first.body,
            op.label,
            f"the first answer again ({first.status}, same bytes)",
            again,
        )
        replay.expect(
            again.header(REPLAYED) == "true",
            op.label,
            f"{REPLAYED}: true",
            again,
            f"{REPLAYED}: {again.header(REPLAYED)}",
        )
    if conflict := verdicts.get("idempotency.conflict"):
        changed = vary(ctx.spec, body, op.body_schema)
        if changed is None:
            conflict.skip(f"{op.label}: no field of the example can be varied")
        else:
            answer = factory.send(op, params=params, body=changed, headers={"Idempotency-Key": key})
            code = (answer.json() or {}).get("code") if answer.status == 409 else None
            conflict.expect(code == "conflict", op.label, "409 conflict", answer)
    if scoped := verdicts.get("idempotency.company-scoped"):
        check_company_scope(ctx, op, params, body, key, first, scoped)
    if concurrent := verdicts.get("idempotency.concurrent"):
        check_concurrency(ctx, op, ctx.main.factory.fresh(), concurrent)


def check_company_scope(
    ctx: Context,
    op: Operation,
    params: dict,
    body: Any,
    key: str,
    first: Exchange,
    verdict: Verdict,
) -> None:
    other = ctx.other
    if other is None:
        verdict.skip("no --other-key: a key of another company is needed")
        return
    if other.account.lacks(op.scopes):
        verdict.skip(f"{op.label}: the other key lacks {', '.join(op.scopes)}")
        return
    answer = other.factory.send(op, params=params, body=body, headers={"Idempotency-Key": key})
    verdict.expect(
        answer.header(REPLAYED) != "true" and answer.body != first.body,
        op.label,
        "no replay of another company's answer",
        answer,
    )


def check_concurrency(ctx: Context, op: Operation, factory: Factory, verdict: Verdict) -> None:
    """N requests at once with one key: one resource, every 2xx answer the same."""
    params, body = factory.path_params(op), factory.body(op)
    counter = counting_list(ctx.spec, op)
    list_params = {}
    if counter is not None:
        list_params = {k: v for k, v in params.items() if k in counter.path_parameters}
        if len(list_params) < len(counter.path_parameters):
            counter = None
    before = count(factory, counter, list_params)
    key = f"contracts-{ctx.token}-{secrets.token_hex(6)}"
    answers: list[Exchange] = []
    barrier = threading.Barrier(ctx.profile.concurrency)

    def send() -> None:
        client = factory.client.fork()
        barrier.wait()
        answers.append(
            factory.send(
                op, params=params, body=body, client=client, headers={"Idempotency-Key": key}
            )
        )

    threads = [threading.Thread(target=send) for _ in range(ctx.profile.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = [a for a in answers if a.ok]
    refused = [a for a in answers if a.status == 409]
    verdict.expect(
        bool(created) and len(created) + len(refused) == len(answers),
        op.label,
        "2xx (or 409 while the first is in flight) for every concurrent request",
        next((a for a in answers if not a.ok and a.status != 409), answers[0]),
    )
    if not created:
        return
    verdict.expect(
        len({a.body for a in created}) == 1, op.label, "the same body for every 2xx", created[-1]
    )
    if counter is not None and before is not None:
        after = count(factory, counter, list_params)
        verdict.expect(
            after == before + 1,
            op.label,
            f"one new item in {counter.operation_id} (total {before} -> {before + 1})",
            got=f"total {before} -> {after}",
        )


def counting_list(spec: Spec, create: Operation) -> Operation | None:
    """The list that shows what `create` makes: same path, else same item schema."""
    same_path = [op for op in spec.lists if op.path == create.path]
    if same_path:
        return same_path[0]
    made = create.success_schema
    return next((op for op in spec.lists if made is not None and op.item_schema is made), None)


def count(factory: Factory, listing: Operation | None, params: dict) -> int | None:
    if listing is None:
        return None
    answer = factory.send(listing, params=params, query={"limit": 1})
    total = (answer.json() or {}).get("total") if answer.ok else None
    return total if isinstance(total, int) else None
