"""The sliding window: no 60-second span admits more than the limit, on every store, served too.

Unit tests drive `RateLimiter` with a clock they set; the served tests hammer one key of a
real `sandbox serve` with two workers from several threads.
"""

from __future__ import annotations

import http.client
import threading
import time
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.conventions.ratelimit import LIFTED_LIMIT, RateLimiter, RateState
from sandbox.storage.database import Database
from sandbox.storage.locks import ENTRIES, FILE_SIZE, SharedCounters

from ..conftest import BASE
from ..served import banner_key, serving

MINUTE = 1_800_000_000  # a whole minute in epoch seconds
WINDOW = 60.0


class Clock:
    """A clock the test sets: epoch seconds in `now`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def most_in_any_window(times: list[float], seconds: float = WINDOW) -> int:
    """The most of `times` inside one span [start, start + seconds), whatever its start."""
    ordered = sorted(times)
    return max(
        (bisect_left(ordered, start + seconds) - i for i, start in enumerate(ordered)), default=0
    )


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The seeded test database (SQLite, and PostgreSQL when configured)."""
    db = Database(database_url)
    yield db
    db.dispose()


def hits(limiter: RateLimiter, clock: Clock, times: list[float], limit: int) -> list[RateState]:
    """One request of the bucket "key:test" at each of `times`."""
    states = []
    for moment in times:
        clock.now = moment
        states.append(limiter.hit("key:test", limit))
    return states


def test_no_sixty_seconds_admit_more_than_the_limit_across_minute_boundaries(
    database: Database,
) -> None:
    # A request every quarter second from 1.5 s before a minute to 150 s later: a fixed
    # window would admit 6 before the minute and 6 more right after it.
    clock = Clock(MINUTE)
    limiter = RateLimiter(database, clock=clock)
    times = [MINUTE - 1.5 + 0.25 * step for step in range(600)]
    states = hits(limiter, clock, times, 6)
    admitted = [t for t, state in zip(times, states, strict=True) if not state.exceeded]
    assert most_in_any_window(admitted) <= 6
    # A request leaves the window 60 to 61 s after it came: three bursts of 6 in 150 s.
    assert len(admitted) == 18
    assert admitted[6] - admitted[0] <= 61


def test_refused_requests_do_not_count(database: Database) -> None:
    clock = Clock(MINUTE)
    limiter = RateLimiter(database, clock=clock)
    spent = hits(limiter, clock, [MINUTE + 0.5] * 5, 5)
    assert [s.exceeded for s in spent] == [False] * 5
    # Retrying every half second while refused, up to the last moment the five still count.
    retries = hits(limiter, clock, [MINUTE + 0.6 + 0.5 * n for n in range(121)], 5)
    assert all(s.exceeded and s.remaining == 0 and s.reset == MINUTE + 61 for s in retries)
    back = hits(limiter, clock, [MINUTE + 61.0] * 6, 5)
    assert [s.exceeded for s in back] == [False] * 5 + [True]


@pytest.mark.parametrize(
    ("at", "exceeded", "remaining", "reset", "retry_after"),
    [
        (0.2, False, 2, 61, 61),
        (10.5, False, 1, 61, 51),  # some left: Reset is when the oldest request leaves
        (20.5, False, 0, 61, 41),  # none left: when one is admitted again
        (30.7, True, 0, 61, 31),
        (60.99, True, 0, 61, 1),  # second 0 still counts during second 60
        (61.0, False, 0, 71, 10),
        (70.999, True, 0, 71, 1),
        (71.2, False, 0, 81, 10),
        (140.0, False, 2, 201, 61),  # everything before second 80 has left
    ],
)
def test_headers_count_the_sliding_window(
    database: Database, at: float, exceeded: bool, remaining: int, reset: int, retry_after: int
) -> None:
    clock = Clock(MINUTE)
    limiter = RateLimiter(database, clock=clock)
    script = [0.2, 10.5, 20.5, 30.7, 60.99, 61.0, 70.999, 71.2, 140.0]
    states = hits(limiter, clock, [MINUTE + t for t in script[: script.index(at) + 1]], 3)
    assert states[-1] == RateState(3, remaining, MINUTE + reset, exceeded, retry_after)
    assert states[-1].headers() == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(MINUTE + reset),
    }
    assert states[-1].error().headers == {"Retry-After": str(retry_after)}


def test_a_client_hammering_while_limited_gets_back_in(database: Database) -> None:
    clock = Clock(MINUTE + 0.5)
    limiter = RateLimiter(database, clock=clock)
    assert not any(s.exceeded for s in hits(limiter, clock, [MINUTE + 0.5] * 4, 4))
    clock.now = MINUTE + 61.5  # the four have left; eight threads race for their places
    outcomes: list[bool] = []

    def hammer_limiter() -> None:
        for _ in range(50):
            outcomes.append(limiter.hit("key:test", 4).exceeded)

    threads = [threading.Thread(target=hammer_limiter) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(False) == 4


def test_a_clock_set_back_a_little_counts_the_requests_as_later(database: Database) -> None:
    clock = Clock(MINUTE)
    limiter = RateLimiter(database, clock=clock)
    hits(limiter, clock, [MINUTE + 30.5] * 2, 2)
    assert hits(limiter, clock, [MINUTE + 25.5], 2)[0].exceeded
    # The two stamped at second 30 count until second 91, whatever the clock said since.
    assert hits(limiter, clock, [MINUTE + 90.9], 2)[0].exceeded
    assert not hits(limiter, clock, [MINUTE + 91.0], 2)[0].exceeded


def test_scale_zero_lifts_the_limit_and_still_counts_down(database: Database) -> None:
    clock = Clock(MINUTE)
    limiter = RateLimiter(database, scale=0, clock=clock)
    states = hits(limiter, clock, [MINUTE + 0.5] * 100, 6)
    assert not any(s.exceeded for s in states)
    assert [s.remaining for s in states] == [LIFTED_LIMIT - n for n in range(1, 101)]
    assert {s.reset for s in states} == {MINUTE + 61}
    later = hits(limiter, clock, [MINUTE + 61.0], 6)[0]
    assert later.remaining == LIFTED_LIMIT - 1


def test_a_bucket_keeps_its_counts_among_many(tmp_path: Path) -> None:
    counters = SharedCounters(tmp_path / "db.ratelimits")
    clock = Clock(MINUTE)
    assert counters.hit("key:busy", 1, 61, clock).admitted
    clock.now += 1
    assert all(counters.hit(f"anon:{n}", 1, 61, clock).admitted for n in range(ENTRIES - 1))
    assert not counters.hit("key:busy", 1, 61, clock).admitted
    clock.now += 61  # every count has left: the entries are taken over by new buckets
    assert all(counters.hit(f"key:{n}", 1, 61, clock).admitted for n in range(ENTRIES))


def test_a_counters_file_of_another_layout_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "db.ratelimits"
    path.write_bytes(b"\xff" * FILE_SIZE)
    tally = SharedCounters(path).hit("key:test", 1, 61, Clock(MINUTE))
    assert tally.admitted and tally.used == 1


@dataclass(frozen=True)
class Answer:
    """One served answer: when it arrived and what it said."""

    at: float
    status: int
    remaining: int
    reset: int
    retry_after: int | None


def hammer(port: int, key: str, threads: int, seconds: float) -> list[Answer]:
    """GET /account with `key` from `threads` threads (a connection each) for `seconds`."""
    answers: list[Answer] = []
    deadline = time.time() + seconds

    def run() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while time.time() < deadline:
                connection.request(
                    "GET", f"{BASE}/account", headers={"Authorization": f"Bearer {key}"}
                )
                response = response_of(connection)
                answers.append(response)
        finally:
            connection.close()

    def response_of(connection: http.client.HTTPConnection) -> Answer:
        response = connection.getresponse()
        response.read()
        retry_after = response.getheader("Retry-After")
        return Answer(
            time.time(),
            response.status,
            int(response.getheader("X-RateLimit-Remaining") or -1),
            int(response.getheader("X-RateLimit-Reset") or -1),
            int(retry_after) if retry_after is not None else None,
        )

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return answers


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_served_workers_never_admit_more_than_the_limit(
    request: pytest.FixtureRequest, store: str
) -> None:
    db_url = request.getfixturevalue(f"{store}_url")
    # The starter plan's 60 a minute at 0.1: a limit of 6, shared by two worker processes.
    args = ("--workers", "2", "--threads", "2", "--rate-limit-scale", "0.1")
    with serving(db_url, *args) as (port, lines):
        answers = hammer(port, banner_key(lines, "starter"), threads=8, seconds=4)
    admitted = [a.at for a in answers if a.status == 200]
    refused = [a for a in answers if a.status == 429]
    assert len(admitted) + len(refused) == len(answers) > 50
    assert 1 <= most_in_any_window(admitted) <= 6
    for answer in refused:
        assert answer.remaining == 0
        assert answer.retry_after is not None and 1 <= answer.retry_after <= 61
        assert answer.reset - answer.retry_after <= answer.at
