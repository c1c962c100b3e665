"""Offset/limit pagination: the one page shape every list answers with.

A page is read as plain rows (SQLAlchemy Core on the request's connection), not as ORM
instances: a model's `to_api` reads only its mapped columns, so it serializes a row just
as well, at a fraction of the cost. Rows carry the model's attribute names, and the
list's total in a column computed once per statement (a scalar subquery), so a page is
one statement; the count runs alone only for a page past the end.

The common list shape (the business's rows, equality filters, newest first) is a
`Listing`: its statements are built once per model and set of filters, with every
value a bound parameter, so a request neither builds nor keys a statement. Lists with
other conditions pass their own query to `page`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, select

from sandbox.conventions.context import RequestContext
from sandbox.storage.base import table_of
from sandbox.storage.rows import columns_of


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
    count = select(func.count()).select_from(query.order_by(None).subquery())
    rows = query.with_only_columns(*columns_of(model), _total(count)).limit(limit).offset(offset)
    return _page(ctx, rows, count, {}, serialize or model.to_api)


def _total(count: Select[Any]) -> Any:
    return count.scalar_subquery().label("page_total")


@dataclass(frozen=True)
class Listing:
    """The page and count statements of one list shape, built once.

    Parameters: `company_id`, `business_id`, `limit`, `offset` and one per filter.
    """

    model: type
    rows: Select[Any]
    count: Select[Any]


@functools.cache
def listing(model: type, filters: tuple[str, ...] = ()) -> Listing:
    """The business's `model` rows whose columns equal the `filters` values, newest first."""
    table = table_of(model).c
    base = select(*columns_of(model)).where(
        table.company_id == bindparam("company_id"),
        table.business_id == bindparam("business_id"),
        *(getattr(model, name) == bindparam(name) for name in filters),
    )
    count = select(func.count()).select_from(base.subquery())
    rows = (
        base.add_columns(_total(count))
        .order_by(table.created_at.desc(), table.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return Listing(model, rows, count)


def page_of(
    ctx: RequestContext, shape: Listing, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The page of a `Listing` for the caller's business, `values` giving its filters."""
    params = {
        "company_id": ctx.company_id,
        "business_id": ctx.business.id,
        "limit": ctx.query["limit"],
        "offset": ctx.query["offset"],
        **(values or {}),
    }
    # A model's `to_api`, called on a row of its columns (see storage/rows.py).
    to_item: Callable[[Any], dict[str, Any]] = shape.model.to_api  # type: ignore[attr-defined]
    # (`Listing.model` is any model: each has `to_api`, which a type cannot state here.)
    return _page(ctx, shape.rows, shape.count, params, to_item, prepared=True)


def _page(
    ctx: RequestContext,
    rows_statement: Select[Any],
    count_statement: Select[Any],
    params: dict[str, Any],
    to_item: Callable[[Any], dict[str, Any]],
    *,
    prepared: bool = False,
) -> dict[str, Any]:
    """The page; `prepared` runs statements built once (a `Listing`'s) prepared."""
    limit, offset = ctx.query["limit"], ctx.query["offset"]
    rows: Sequence[Any]
    if prepared:
        rows = ctx.transaction.rows(rows_statement, params)
    else:
        rows = ctx.connection.execute(rows_statement, params).all()
    if rows:
        total = rows[0].page_total
    elif offset == 0:
        total = 0
    else:  # past the end: no row to carry the total
        total = ctx.connection.execute(count_statement, params).scalar_one()
    items = [to_item(row) for row in rows]
    return {
        "items": items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "has_more": offset + len(items) < total,
    }
