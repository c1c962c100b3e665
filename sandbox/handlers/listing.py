"""What list operations share: the business's rows, filtered by query fields, newest first."""

from __future__ import annotations

from typing import Any

from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import listing, page_of


def newest_first(ctx: RequestContext, model: Any, *filters: str) -> Reply:
    """200 with a page of `model` rows of the caller's business, newest first.

    Each name in `filters` is a query parameter that, when given, must equal the column
    of the same name.
    """
    given = {name: value for name in filters if (value := ctx.query.get(name)) is not None}
    return 200, page_of(ctx, listing(model, tuple(given)), given)
