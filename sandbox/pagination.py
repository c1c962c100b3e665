"""Offset/limit pagination: the one page shape every list answers with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, select

from sandbox.context import RequestContext


def page(
    ctx: RequestContext,
    query: Select[Any],
    serialize: Callable[[Any], dict[str, Any]] = lambda row: row.to_api(),
) -> dict[str, Any]:
    """`{items, total, limit, offset, has_more}` of an ordered query, at the request's limit/offset.

    The query must have a total order (end its ORDER BY with the primary key) so that
    walking the pages yields every row once.
    """
    limit, offset = ctx.query["limit"], ctx.query["offset"]
    # One query: each row carries the total; only a page past the end counts separately.
    found = ctx.session.execute(
        query.add_columns(func.count().over()).limit(limit).offset(offset)
    ).all()
    if found:
        total = found[0][-1]
    else:
        total = ctx.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery())
        )
    items = [serialize(row[0]) for row in found]
    return {
        "items": items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "has_more": offset + len(items) < (total or 0),
    }
