"""Per-key rate limits over a sliding minute, counted where every worker and server sees them.

Each request is stamped with the whole second it reaches the limiter. It is admitted when
fewer than the limit were admitted in its second and the 60 before it (and in any later
second, stamped by a clock a moment ahead); a refused request is not counted. Any 60-second
span, whatever its start, lies within 61 whole seconds, so none ever admits more than the
limit; the price is under a second: an admitted request stops counting 60 to 61 seconds
after it arrived, so pacing at the limit per 61 seconds is never refused.

Counts live in the shared-memory counters beside a SQLite file (check and count are one
step under a file lock) or, on a server database, in `rate_counters`, one row per bucket
and second: a request is counted and committed unless the window it reads is already
full, then the window is summed again and the count taken back if the sum passes the
limit. Of any admitted requests the one committed last sums all the others, so together
they never pass the limit either; a refused request leaves nothing counted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import BigInteger, Integer, String, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql

from sandbox.errors import RateLimited
from sandbox.storage.core import RateCounter
from sandbox.storage.database import Database
from sandbox.storage.locks import Tally, freeing_second

WINDOW_SECONDS = 60
SPAN = WINDOW_SECONDS + 1  # whole seconds a request counts in: its own and the 60 after
LIFTED_LIMIT = 1_000_000_000
CLEANUP_SECONDS = 60  # how often a process deletes the rows no window sums any more
EXCEEDED_MESSAGE = (
    "Rate limit of {limit} requests per minute exceeded; retry after {seconds} seconds"
)

# Counts one request unless the window, as committed when the statement starts, is full.
_COUNT = (
    postgresql.insert(RateCounter)
    .from_select(
        ["bucket", "window", "count"],
        select(
            bindparam("bucket_name", type_=String), bindparam("second", type_=BigInteger), 1
        ).where(
            select(func.coalesce(func.sum(RateCounter.count), 0))
            .where(
                RateCounter.bucket == bindparam("bucket_name"),
                RateCounter.window >= bindparam("first"),
            )
            .scalar_subquery()
            < bindparam("limit", type_=Integer)
        ),
    )
    .on_conflict_do_update(
        index_elements=[RateCounter.bucket, RateCounter.window],
        set_={"count": RateCounter.count + 1},
    )
    .returning(RateCounter.count)
)
_WINDOW = (
    select(RateCounter.window, RateCounter.count)
    .where(
        RateCounter.bucket == bindparam("bucket_name"),
        RateCounter.window >= bindparam("first"),
        RateCounter.count > 0,
    )
    .order_by(RateCounter.window)
)
_TAKE_BACK = (
    update(RateCounter)
    .where(
        RateCounter.bucket == bindparam("bucket_name"), RateCounter.window == bindparam("second")
    )
    .values(count=RateCounter.count - 1)
)
_FORGET = delete(RateCounter).where(RateCounter.window < bindparam("before"))


@dataclass(frozen=True)
class RateState:
    """The caller's position in its sliding window, as the X-RateLimit-* headers say it.

    `remaining`: how many more requests would be admitted right now. `reset` (epoch
    seconds): the next moment, if no more requests come, at which more are admitted than
    now: with none remaining, when one will be admitted again; with some remaining, when
    the oldest counted request leaves the window. `retry_after`: whole seconds from now
    until `reset`, at least 1.
    """

    limit: int
    remaining: int
    reset: int
    exceeded: bool
    retry_after: int = 1

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }

    def error(self) -> RateLimited:
        """The 429 for this state, with `Retry-After` in whole seconds until `reset`."""
        return RateLimited(
            EXCEEDED_MESSAGE.format(limit=self.limit, seconds=self.retry_after), self.retry_after
        )


def state_of(limit: int, tally: Tally) -> RateState:
    """The state a request leaves its bucket in, from what it found there.

    A refused request says 0 remaining, even when a request counted beside it has given
    its count back since (on a server database the two are separate statements)."""
    reset = tally.freeing + SPAN
    remaining = max(0, limit - tally.used) if tally.admitted else 0
    return RateState(limit, remaining, reset, not tally.admitted, max(1, reset - tally.second))


class RateLimiter:
    """Admits requests per bucket over a sliding minute; `scale` multiplies limits, 0 lifts them.

    Counts are shared by every process: in the database's shared-memory counters beside a
    SQLite file, or in the `rate_counters` table of a server database (every server on it
    must keep its clock in time). `clock` gives epoch seconds.
    """

    def __init__(
        self, database: Database, scale: float = 1.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.database = database
        self.scale = scale
        self.clock = clock
        self._last_cleanup = 0

    def limit_for(self, per_minute: int) -> int:
        """The effective limit for a plan's requests per minute."""
        if self.scale == 0:
            return LIFTED_LIMIT
        return max(1, math.ceil(per_minute * self.scale))

    def hit(self, bucket: str, per_minute: int) -> RateState:
        """Admit and count one request of `bucket`, or refuse it (`exceeded`) uncounted."""
        limit = self.limit_for(per_minute)
        if self.database.counters is not None:
            tally = self.database.counters.hit(bucket, limit, SPAN, self.clock)
        else:
            tally = self._hit_in_database(bucket, limit)
        return state_of(limit, tally)

    def _hit_in_database(self, bucket: str, limit: int) -> Tally:
        """Count (committed) unless the window is full, sum it, take the count back past `limit`."""
        second = int(self.clock())
        first = second - SPAN + 1
        values = {"bucket_name": bucket, "second": second, "first": first, "limit": limit}
        prepared = self.database.prepared
        with self.database.engine.connect() as connection:
            # Each statement commits on its own: the sum must see every count committed before.
            connection.execution_options(isolation_level="AUTOCOMMIT")
            counted = bool(prepared(_COUNT).all(connection, values))
            rows = prepared(_WINDOW).all(connection, values)
            counts = [0] * (max(second, rows[-1].window if rows else second) - first + 1)
            for row in rows:
                counts[row.window - first] += row.count
            used = sum(counts)
            admitted = counted and used <= limit
            if counted and not admitted:  # another request got in first
                prepared(_TAKE_BACK).all(connection, values)
                counts[second - first] -= 1
                used -= 1
            if second - self._last_cleanup >= CLEANUP_SECONDS:
                self._last_cleanup = second
                # Kept for two spans: a server whose clock is a little behind still sums them.
                prepared(_FORGET).all(connection, {"before": second - 2 * SPAN})
        return Tally(admitted, second, used, freeing_second(first, counts, limit))
