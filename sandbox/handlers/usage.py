"""Usage: ingest usage events idempotently, list and get them, and read usage per meter."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import page
from sandbox.domain import usage
from sandbox.domain.metrics import parse_instant, time_range
from sandbox.errors import NotFound
from sandbox.storage.base import iso
from sandbox.storage.metering import Customer, Meter, UsageEvent


def ingest_usage_events(ctx: RequestContext) -> Reply:
    """200 with a result per item: ingested, duplicate (its event_id was seen) or rejected."""
    results = usage.ingest(
        ctx.session, ctx.company_id, ctx.business.id, ctx.body["events"], ctx.now, ctx.item_errors
    )
    statuses = [result["status"] for result in results]
    return 200, {
        "ingested": statuses.count(usage.INGESTED),
        "duplicates": statuses.count(usage.DUPLICATE),
        "rejected": statuses.count(usage.REJECTED),
        "results": results,
    }


def list_usage_events(ctx: RequestContext) -> Reply:
    """200 with a page of usage events, newest first, filtered by customer, name and time."""
    query = ctx.scoped(UsageEvent)
    for name in ("customer_id", "event_name"):
        if (value := ctx.query.get(name)) is not None:
            query = query.where(getattr(UsageEvent, name) == value)
    if ctx.query.get("from"):
        query = query.where(UsageEvent.timestamp >= parse_instant(ctx.query["from"], "from"))
    if ctx.query.get("to"):
        query = query.where(UsageEvent.timestamp < parse_instant(ctx.query["to"], "to"))
    order = (UsageEvent.timestamp.desc(), UsageEvent.event_id.desc())
    return 200, page(ctx, query.order_by(*order))


def get_usage_event(ctx: RequestContext) -> Reply:
    """200 with the usage event of that event_id in the caller's business."""
    event_id = ctx.path["event_id"]
    event = ctx.session.scalar(ctx.scoped(UsageEvent).where(UsageEvent.event_id == event_id))
    if event is None:
        raise NotFound(f"No usage event with event_id {event_id}")
    return 200, event.to_api()


def get_meter_usage(ctx: RequestContext) -> Reply:
    """200 with the meter's aggregation over [from, to); 404 for an unknown meter or customer.

    `from` defaults to the start of the test clock's month, `to` to its now.
    """
    meter = ctx.get(Meter, ctx.path["meter_id"], "meter")
    customer_id = ctx.query.get("customer_id")
    if customer_id is not None:
        ctx.get(Customer, customer_id, "customer")
    month_start = datetime(ctx.now.year, ctx.now.month, 1, tzinfo=UTC)
    start, end = time_range(ctx.query, ctx.now, default_start=month_start)
    value, count = usage.aggregate(ctx.session, meter, customer_id, start, end)
    return 200, {
        "meter_id": meter.id,
        "event_name": meter.event_name,
        "aggregation": meter.aggregation,
        "customer_id": customer_id,
        "from": iso(start),
        "to": iso(end),
        "value": value,
        "event_count": count,
    }
