"""The request log (x-sandbox-only): every request the company made, with its exchange."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import page
from sandbox.storage.core import RequestLogBody, RequestLogEntry, unpack_exchange

# What getRequestLogEntry shows of a request logged before bodies were kept.
NO_EXCHANGE: dict[str, Any] = {
    "request_headers": {},
    "request_body": None,
    "request_body_truncated": False,
    "response_headers": {},
    "response_body": None,
    "response_body_truncated": False,
}


def list_request_log(ctx: RequestContext) -> Reply:
    """200 with a page of the company's requests, newest first, filtered as the query asks."""
    log = RequestLogEntry
    query = select(log).where(log.company_id == ctx.company_id)
    if (status := ctx.query.get("status")) is not None:
        query = query.where(log.status == status)
    if (status_class := ctx.query.get("status_class")) is not None:
        lowest = int(status_class[0]) * 100
        query = query.where(log.status >= lowest, log.status < lowest + 100)
    if (operation_id := ctx.query.get("operation_id")) is not None:
        query = query.where(log.operation_id == operation_id)
    if (request_id := ctx.query.get("request_id")) is not None:
        query = query.where(log.request_id == request_id)
    query = query.order_by(log.created_at.desc(), log.id.desc())
    return 200, page(ctx, query)


def get_request_log_entry(ctx: RequestContext) -> Reply:
    """200 with one logged request and its headers and bodies; NotFound if not the company's.

    The exchange is the entry's own, or (logged by an older sandbox) its row in
    `request_log_bodies`, or none.
    """
    entry_id = ctx.path["request_log_id"]
    entry = ctx.get(RequestLogEntry, entry_id, "logged request", company_wide=True)
    packed = entry.exchange  # deferred: loaded here
    if packed is None and (older := ctx.session.get(RequestLogBody, entry_id)) is not None:
        packed = older.packed
    exchange = NO_EXCHANGE if packed is None else unpack_exchange(packed)
    return 200, {**entry.to_api(), **exchange}
