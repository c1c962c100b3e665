"""Offset/limit pagination: the one page shape every list answers with.

A page is read as plain rows (SQLAlchemy Core on the session's connection), not as ORM
instances: a model's `to_api` reads only its mapped columns, so it serializes a row just
as well, at a fraction of the cost. Rows carry the model's attribute names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, inspect, select
from sqlalchemy.sql.elements import ColumnElement

from sandbox.context import RequestContext


def page(
    ctx: RequestContext,
    query: Select[Any],
    serialize: Callable[[Any], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`{items, total, limit, offset, has_more}` of an ordered query of one model.

    `query` selects one mapped model (`select(Model)…`); `serialize` turns a row into an
    item (default: the model's `to_api` applied to the row). The query must have a total
    order (end its ORDER BY with the primary key) so that walking the pages yields every
    row once.
    """
    model = query.column_descriptions[0]["entity"]
    limit, offset = ctx.query["limit"], ctx.query["offset"]
    connection = ctx.session.connection()
    rows = connection.execute(
        query.with_only_columns(*columns_of(model)).limit(limit).offset(offset)
    ).all()
    if rows and offset == 0 and len(rows) < limit:
        total = len(rows)  # the whole list fits on the first page
    else:
        counted = select(func.count()).select_from(query.order_by(None).subquery())
        total = connection.execute(counted).scalar_one()
    to_item = serialize or model.to_api
    items = [to_item(row) for row in rows]
    return {
        "items": items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "has_more": offset + len(items) < total,
    }


@functools.cache
def columns_of(model: type) -> tuple[ColumnElement[Any], ...]:
    """The model's table columns, each labeled with its attribute name."""
    return tuple(attr.columns[0].label(attr.key) for attr in inspect(model).mapper.column_attrs)
