"""Metering: a usage event is counted once, and once ingested it cannot be changed.

The ingest operation is the one whose request body has `events[].event_id`; the usage
operation is the GET whose 2xx schema has `value` and `event_count`; the meter comes
from the create whose response links to the usage operation; the read of one event from
the ingest's own link.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.context import Context, Rule
from contracts.exchange import Exchange
from contracts.factory import Factory, SetupError, expand
from contracts.links import evaluate_all
from contracts.outcome import Verdict
from contracts.spec import METHODS, Operation, Spec

RULES = (
    Rule(
        "metering.no-double-count",
        "A repeated event_id, in a later request or the same batch, is reported as a duplicate "
        "and never counted twice in usage.",
    ),
    Rule(
        "metering.immutable",
        "An ingested event cannot be changed: other methods on it are 405 and a re-ingest with "
        "new values leaves it as it was.",
    ),
)


def ingest_operation(spec: Spec) -> Operation | None:
    for op in spec.contract:
        events = (op.body_schema or {}).get("properties", {}).get("events", {})
        item = spec.resolve(events.get("items", {}))
        if op.method == "post" and "event_id" in item.get("properties", {}):
            return op
    return None


def usage_operation(spec: Spec) -> Operation | None:
    for op in spec.contract:
        properties = (op.success_schema or {}).get("properties", {})
        if op.method == "get" and {"value", "event_count"} <= set(properties):
            return op
    return None


def check(ctx: Context, verdicts: dict[str, Verdict]) -> None:
    spec, factory = ctx.spec, ctx.main.factory.fresh()
    ingest, usage = ingest_operation(spec), usage_operation(spec)
    meter_create = next(
        (
            op
            for op in spec.creates
            for link in op.links
            if usage and link.operation_id == usage.operation_id
        ),
        None,
    )
    if ingest is None or usage is None or meter_create is None:
        for verdict in verdicts.values():
            verdict.skip("the spec has no ingest, usage or meter operation")
        return
    try:
        meter_body = factory.body(meter_create)
        meter_body["event_name"] = f"contracts.{ctx.token}"
        meter = factory.send(meter_create, body=meter_body, params={})
        if not meter.ok:
            raise SetupError(meter_create, meter)
        event = factory.body(ingest)["events"][0]
    except SetupError as exc:
        for verdict in verdicts.values():
            verdict.expect(
                False, meter_create.label, "a meter made from the spec's example", exc.exchange
            )
        return
    when = clock_now(ctx) - timedelta(minutes=5)
    event.update(
        event_id=str(uuid.uuid4()),
        event_name=meter_body["event_name"],
        value=3,
        timestamp=when.isoformat().replace("+00:00", "Z"),
    )
    link = next(link for link in meter_create.links if link.operation_id == usage.operation_id)
    usage_params = evaluate_all(link.parameters, request_body=meter_body, response=meter)
    window = {"from": _stamp(when - timedelta(hours=1)), "to": _stamp(when + timedelta(hours=1))}

    def measure() -> tuple[Any, Any, Exchange]:
        answer = factory.send(usage, params=usage_params, query=window)
        body = answer.json() if answer.ok else {}
        return body.get("event_count"), body.get("value"), answer

    first = factory.send(ingest, body={"events": [event]}, params={})
    counted = measure()
    again = factory.send(ingest, body={"events": [event, dict(event)]}, params={})
    if counting := verdicts.get("metering.no-double-count"):
        counting.expect(
            first.ok and _statuses(first) == ["ingested"],
            ingest.label,
            "the new event ingested",
            first,
        )
        counting.expect(counted[0] == 1, usage.label, "event_count 1 after one ingest", counted[2])
        counting.expect(
            again.ok and _statuses(again) == ["duplicate", "duplicate"],
            ingest.label,
            "both repeats reported as duplicate",
            again,
        )
        recount = measure()
        counting.expect(
            recount[:2] == counted[:2],
            usage.label,
            f"usage unchanged by the repeats (event_count {counted[0]}, value {counted[1]})",
            recount[2],
        )
    if immutable := verdicts.get("metering.immutable"):
        check_immutable(ctx, factory, ingest, first, event, immutable)


def check_immutable(
    ctx: Context,
    factory: Factory,
    ingest: Operation,
    first: Exchange,
    event: dict,
    verdict: Verdict,
) -> None:
    reads = [link for link in ingest.links if ctx.spec.operation(link.operation_id).method == "get"]
    if not reads:
        verdict.skip(f"{ingest.label} links to no read of one event")
        return
    read_op = ctx.spec.operation(reads[0].operation_id)
    params = evaluate_all(reads[0].parameters, request_body={"events": [event]}, response=first)
    path = expand(read_op.path, params)
    before = ctx.main.client.request("GET", path, operation_id=read_op.operation_id)
    verdict.expect(before.ok, read_op.label, "the ingested event", before)
    item = ctx.spec.document["paths"][read_op.path]
    for method in (m for m in METHODS if m not in item):
        answer = ctx.main.client.request(method, path, json=event if method != "delete" else None)
        verdict.expect(
            answer.status == 405,
            f"{method.upper()} {read_op.path}",
            "405: an ingested event cannot be changed",
            answer,
        )
    factory.send(ingest, body={"events": [dict(event, value=event["value"] + 1)]}, params={})
    after = ctx.main.client.request("GET", path, operation_id=read_op.operation_id)
    verdict.expect(
        after.status == before.status and after.body == before.body,
        read_op.label,
        "the event as first ingested",
        after,
    )


def clock_now(ctx: Context) -> datetime:
    """The company's clock as GET /account told it (`now`), else this machine's."""
    try:
        now = datetime.fromisoformat(str(ctx.main.account.raw.get("now")).replace("Z", "+00:00"))
    except ValueError:
        now = datetime.now(UTC)
    return now.astimezone(UTC).replace(microsecond=0)


def _statuses(answer: Exchange) -> list[Any]:
    body = answer.json() or {}
    return [r.get("status") for r in body.get("results", []) if isinstance(r, dict)]


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
