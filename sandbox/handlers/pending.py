"""Operations of the spec whose handlers are still being written: each answers 500.

Temporary: the app's test suite fails while this table is not empty.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.context import Reply, RequestContext
from sandbox.errors import ApiError


def not_yet(operation_id: str) -> Callable[[RequestContext], Reply]:
    def handler(ctx: RequestContext) -> Reply:
        raise ApiError(f"{operation_id} is not implemented yet")

    return handler
