"""Per-key, per-minute rate limits, counted in the database so every worker shares them."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql

from sandbox.errors import RateLimited
from sandbox.storage.core import RateCounter
from sandbox.storage.database import Database

WINDOW_SECONDS = 60
LIFTED_LIMIT = 1_000_000_000


@dataclass(frozen=True)
class RateState:
    """The caller's position in the current window, as the X-RateLimit-* headers say it."""

    limit: int
    remaining: int
    reset: int
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }

    def error(self) -> RateLimited:
        """The 429 for this state."""
        retry_after = max(1, self.reset - int(time.time()))
        return RateLimited(
            f"Rate limit of {self.limit} requests per minute exceeded;"
            f" retry after {retry_after} seconds",
            retry_after,
        )


class RateLimiter:
    """Counts requests per bucket and minute; `scale` multiplies plan limits, 0 lifts them.

    Counts are shared by every process: in the database's shared-memory counters beside a
    SQLite file, or in the `rate_counters` table of a server database.
    """

    def __init__(self, database: Database, scale: float = 1.0) -> None:
        self.database = database
        self.scale = scale
        self._last_cleanup = 0

    def limit_for(self, per_minute: int) -> int:
        """The effective limit for a plan's requests per minute."""
        if self.scale == 0:
            return LIFTED_LIMIT
        return max(1, math.ceil(per_minute * self.scale))

    def hit(self, bucket: str, per_minute: int) -> RateState:
        """Count one request in `bucket`'s current window."""
        window = int(time.time() // WINDOW_SECONDS)
        if self.database.counters is not None:
            count = self.database.counters.increment(bucket, window)
        else:
            count = self._count_in_database(bucket, window)
        limit = self.limit_for(per_minute)
        return RateState(
            limit=limit,
            remaining=max(0, limit - count),
            reset=(window + 1) * WINDOW_SECONDS,
            exceeded=count > limit,
        )

    def _count_in_database(self, bucket: str, window: int) -> int:
        statement = (
            postgresql.insert(RateCounter)
            .values(bucket=bucket, window=window, count=1)
            .on_conflict_do_update(
                index_elements=[RateCounter.bucket, RateCounter.window],
                set_={"count": RateCounter.count + 1},
            )
            .returning(RateCounter.count)
        )
        with self.database.engine.begin() as connection:
            count = connection.execute(statement).scalar_one()
            if window != self._last_cleanup:
                connection.execute(delete(RateCounter).where(RateCounter.window < window - 1))
                self._last_cleanup = window
        return int(count)
