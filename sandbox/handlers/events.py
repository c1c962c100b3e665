"""Events: track one, track a batch of up to 1,000, the legacy `/track`, list and get."""

from __future__ import annotations

import os
import time
from typing import Any

from sandbox.conventions import quotas
from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import page
from sandbox.domain.metrics import parse_instant
from sandbox.errors import ApiError
from sandbox.handlers.lookups import known_websites, require_website, unknown_website
from sandbox.storage.analytics import Event, instant, micros
from sandbox.storage.base import iso
from sandbox.storage.ingest import store_events

# In ASCII order, so that the time part of an id sorts like the time it encodes.
DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
STAMP_LENGTH, RANDOM_LENGTH = 9, 11


def _base62(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        out.append(DIGITS[digit])
    return "".join(reversed(out))


def event_ids(count: int) -> list[str]:
    """`count` fresh `evt_` ids: 9 characters of the current time (µs), then 11 random ones.

    Time first keeps new ids at the end of the primary-key index, so inserts stay cheap
    on a table of millions of events. The random part comes from one read of the system's
    random source; bytes of 248 or more are dropped so that `byte % 62` stays uniform.
    """
    stamp = _base62(time.time_ns() // 1000, STAMP_LENGTH)
    wanted = count * RANDOM_LENGTH
    symbols: list[str] = []
    while len(symbols) < wanted:
        symbols += [DIGITS[b % 62] for b in os.urandom(wanted + wanted // 8 + 8) if b < 248]
    return [
        f"evt_{stamp}{''.join(symbols[i : i + RANDOM_LENGTH])}"
        for i in range(0, wanted, RANDOM_LENGTH)
    ]


def _row(ctx: RequestContext, item: dict[str, Any], name: str, event_id: str) -> dict[str, Any]:
    moment = parse_instant(item["timestamp"], "timestamp") if "timestamp" in item else ctx.now
    return {
        "id": event_id,
        "company_id": ctx.company_id,
        "business_id": ctx.business.id,
        "event": name,
        "ts": micros(moment),
        "properties": item.get("properties") or {},
        "visitor_id": item.get("visitor_id"),
        "website_id": item.get("website_id"),
        "received_at": ctx.now,
    }


def _track_one(ctx: RequestContext, name: str) -> Reply:
    if (website_id := ctx.body.get("website_id")) is not None:
        require_website(ctx, website_id)
    row = _row(ctx, ctx.body, name, event_ids(1)[0])
    quotas.consume(ctx, quotas.EVENTS_PER_DAY, 1)
    store_events(ctx.session, [row])
    return 201, {"success": True, "event_id": row["id"], "timestamp": iso(instant(row["ts"]))}


def track_event(ctx: RequestContext) -> Reply:
    """201 with the stored event's id; 422 for an unknown website; 429 over the daily quota."""
    return _track_one(ctx, ctx.body["event"])


def track_event_legacy(ctx: RequestContext) -> Reply:
    """201 like trackEvent, from the older `event_name` shape (deprecated: see the spec)."""
    return _track_one(ctx, ctx.body["event_name"])


def _item_error(index: int, error: ApiError) -> dict[str, Any]:
    details = [{**d, "field": f"events[{index}].{d['field']}"} for d in error.details or []]
    return {"index": index, "code": error.code, "message": error.message, "details": details}


def track_event_batch(ctx: RequestContext) -> Reply:
    """200 with per-item results: bad items are reported by index, the others stored at once.

    The batch's stored events count against the daily quota as a whole (429, nothing stored).
    """
    items = ctx.body["events"]
    default_website = ctx.body.get("website_id")
    # Only the items that passed their own validation name websites to look up.
    valid = [item for index, item in enumerate(items) if index not in ctx.item_errors]
    wanted = {item.get("website_id") for item in valid} | {default_website}
    known = known_websites(ctx, {w for w in wanted if isinstance(w, str)})
    if default_website is not None and default_website not in known:
        raise unknown_website(default_website)
    ids = iter(event_ids(len(items)))
    rows, errors = [], []
    for index, item in enumerate(items):
        try:
            if (refused := ctx.item_errors.get(index)) is not None:
                raise refused
            item = {"website_id": default_website, **item} if default_website else item
            if item.get("website_id") is not None and item["website_id"] not in known:
                raise unknown_website(item["website_id"])
            rows.append(_row(ctx, item, item["event"], next(ids)))
        except ApiError as error:
            errors.append(_item_error(index, error))
    if rows:
        quotas.consume(ctx, quotas.EVENTS_PER_DAY, len(rows))
        store_events(ctx.session, rows)
    return 200, {
        "success": not errors,
        "processed": len(rows),
        "failed": len(errors),
        "event_ids": [row["id"] for row in rows],
        "errors": errors,
    }


def list_events(ctx: RequestContext) -> Reply:
    """200 with a page of events, newest first, filtered by name, website, visitor and time."""
    query = ctx.scoped(Event)
    for name in ("event", "website_id", "visitor_id"):
        if (value := ctx.query.get(name)) is not None:
            query = query.where(getattr(Event, name) == value)
    if ctx.query.get("from"):
        query = query.where(Event.ts >= micros(parse_instant(ctx.query["from"], "from")))
    if ctx.query.get("to"):
        query = query.where(Event.ts < micros(parse_instant(ctx.query["to"], "to")))
    return 200, page(ctx, query.order_by(Event.ts.desc(), Event.id.desc()))


def get_event(ctx: RequestContext) -> Reply:
    """200 with the event."""
    return 200, ctx.get(Event, ctx.path["event_id"], "event").to_api()
