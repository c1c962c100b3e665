"""The delivery worker: POSTs due webhook deliveries, signed, and records every attempt.

A delivery is due when it is pending and its `next_attempt_at` has come on its
company's test clock, so advancing the clock makes retries due without waiting. Several
workers (threads or processes) may run on one database: each claims due deliveries with
a conditional UPDATE (sandbox/storage/outbox.py) and attempts only what it marked, so
each attempt is made once. A worker claims no more than it can start at once, each
lease outlasts the longest attempt (host resolution plus the POST's deadline), and the
POSTs run concurrently as coroutines on the worker's event loop, at most CONCURRENCY in
flight and PER_COMPANY of them for one company, so one company's slow or dead receivers
cannot hold the others back. POSTs happen outside any transaction; finished attempts
are recorded together, each only while its claim still holds (a webhook deleted
meanwhile drops it).

Each attempt itself (the target checked, the POST, its outcome described) is
sandbox/domain/attempts.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
from collections import Counter
from datetime import datetime, timedelta

from sandbox.domain import pinned
from sandbox.domain.attempts import Attempter
from sandbox.domain.targets import TargetPolicy
from sandbox.domain.webhooks import RetryPolicy
from sandbox.storage import attempt_records, outbox
from sandbox.storage.attempt_records import Attempt
from sandbox.storage.base import utcnow
from sandbox.storage.database import Database
from sandbox.storage.outbox import Due, Job

log = logging.getLogger("sandbox.webhooks")
LEASE_MARGIN_SECONDS = 30
TICK_SECONDS = 0.05  # while busy, the outbox is claimed from and recorded to this often
BACKLOG_SECONDS = 0.002  # the pause before the next tick when the last left some due
CONCURRENCY = 64  # POSTs in flight per worker
PER_COMPANY = 48  # of which at most this many for one company: the others keep the rest


def fair_share(due: list[Due], busy: Counter[str], room: int, per_company: int) -> list[Due]:
    """Up to `room` of `due` (oldest first within a company), taking companies in turn
    and none past `per_company` in flight counting the `busy` ones."""
    queues: dict[str, list[Due]] = {}
    for item in due:
        queues.setdefault(item.company_id, []).append(item)
    taken: list[Due] = []
    counts = Counter(busy)
    while len(taken) < room and queues:
        for company_id in list(queues):
            if len(taken) == room:
                break
            if counts[company_id] >= per_company or not queues[company_id]:
                del queues[company_id]
                continue
            taken.append(queues[company_id].pop(0))
            counts[company_id] += 1
    return taken


class DeliveryWorker:
    """Delivers due webhook deliveries; `run_due` once, or `start` a thread that polls.

    Each run is an event loop on the calling thread: it claims and records between its
    POSTs, which are coroutines on the same loop (no thread per POST, no handing over).
    """

    def __init__(
        self,
        database: Database,
        policy: RetryPolicy,
        *,
        poll_seconds: float = 0.5,
        targets: TargetPolicy | None = None,
        concurrency: int = CONCURRENCY,
        per_company: int = PER_COMPANY,
        verify: bool | str = True,
    ) -> None:
        """`policy`: the spec's retry schedule and deadline; `verify`: how receivers' TLS
        certificates are checked (the system's CAs by default, a CA bundle's path, or
        False for not at all)."""
        self.database = database
        self.poll_seconds = poll_seconds
        self.policy = policy
        self.targets = targets or TargetPolicy()
        self.concurrency = concurrency
        self.per_company = per_company
        self._attempter = Attempter(self.targets, policy, pinned.tls_context(verify))
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._wakes: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._busy: Counter[str] = Counter()  # company -> POSTs in flight
        self._done: list[Attempt] = []
        self._left_behind = False  # the last tick left due deliveries unclaimed
        self._backlog = False  # ... and some of them could have been claimed at once
        self._wake: asyncio.Event | None = None  # the running loop's, while it polls

    @property
    def longest_attempt(self) -> float:
        """Seconds one attempt can take: resolving the host, then the POST's deadline."""
        return self.targets.resolve_seconds + self.policy.timeout_seconds

    def start(self) -> None:
        """Start polling on a daemon thread (requests never wait for it)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.run_forever, name="webhook-delivery", daemon=True
            )
            self._thread.start()

    def request_stop(self) -> None:
        """Have `run_forever` finish its attempts in flight, record them and return
        (safe from another thread and from a signal handler)."""
        self._stopping.set()
        for loop, wake in list(self._wakes):
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # that run has ended
                pass

    def stop(self) -> None:
        """Stop polling and wait for the attempts in progress to be recorded."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(self.longest_attempt + LEASE_MARGIN_SECONDS)
            self._thread = None

    def run_forever(self) -> None:
        """Poll and deliver in this thread until `stop` (from another thread or a signal)."""
        asyncio.run(self._run_forever())

    def run_due(self, now: datetime | None = None) -> int:
        """Attempt every delivery due at real time `now` (default: now), waiting for each
        attempt and recording it; returns how many were attempted."""
        return asyncio.run(self._run_due(now))

    async def _run_forever(self) -> None:
        wake = self._wake = asyncio.Event()
        entry = (asyncio.get_running_loop(), wake)
        self._wakes.append(entry)
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping.is_set():
                try:
                    started = self._tick(utcnow())
                except Exception:  # a bad poll must not end the worker; the next one retries
                    log.exception("webhook delivery poll failed")
                    started, self._backlog = [], False  # after a pause, not at once
                in_flight = {task for task in in_flight | set(started) if not task.done()}
                # More due than a tick could take: the next comes at once. Else, with
                # attempts in flight, their results gather meanwhile (one transaction per
                # tick); with none, nothing is due until a poll.
                pause = self.poll_seconds
                if self._backlog:
                    pause = BACKLOG_SECONDS
                elif in_flight:
                    pause = TICK_SECONDS
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), pause)
                wake.clear()
            if in_flight:
                await asyncio.wait(in_flight)
            self._tick(None)
        finally:
            self._wakes.remove(entry)
            self._wake = None

    async def _run_due(self, now: datetime | None) -> int:
        attempted = 0
        while not self._stopping.is_set():
            started = self._tick(now or utcnow())
            if not started:
                break
            await asyncio.wait(started)
            attempted += len(started)
        self._tick(None)
        return attempted

    def _tick(self, real_now: datetime | None) -> list[asyncio.Task[None]]:
        """Record the attempts that finished and, unless `real_now` is None, claim as many
        due deliveries as can start now, fairly; one write transaction for both. Starts
        the POSTs of those the claim leased on the running loop."""
        finished, self._done = self._done, []
        room = self.concurrency - sum(self._busy.values())
        chosen: list[Due] = []
        self._left_behind = self._backlog = False
        if real_now is not None and room > 0:
            limit = min(room, self.per_company)
            with self.database.unit(write=False) as unit:  # polling never queues
                due = outbox.due(unit, real_now, limit)
            chosen = fair_share(due, self._busy, room, self.per_company)
            found = Counter(item.company_id for item in due)
            self._left_behind = len(chosen) < len(due) or limit in found.values()
            self._backlog = bool(chosen) and (
                len(chosen) == room or self._more_due(found, chosen, limit)
            )
        if not finished and not chosen:
            return []
        # What the write needs is bound before it queues for the write lock, and what the
        # claim leased is read once it committed: the lock covers the writes alone.
        lease = timedelta(seconds=self.longest_attempt + LEASE_MARGIN_SECONDS)
        recorded = attempt_records.records(self.database, finished, self._after)
        claimed = outbox.claims(self.database, chosen, utcnow(), lease, secrets.token_hex(8))
        with self.database.unit() as unit:
            outbox.lock(unit.connection, [a.delivery_id for a in finished] + claimed.ids)
            for dropped in attempt_records.record(unit, recorded):
                log.info(
                    "delivery %s was dropped or reclaimed during its attempt",
                    dropped.delivery_id,
                )
            outbox.claim(unit, claimed)
        if not claimed.ids:
            return []
        with self.database.unit(write=False) as unit:
            jobs = outbox.jobs(unit.connection, claimed)
        self._busy.update(job.company_id for job in jobs)
        return [asyncio.create_task(self._attempt(job)) for job in jobs]

    def _more_due(self, found: Counter[str], chosen: list[Due], limit: int) -> bool:
        """Whether a company below its cap in flight may have more due than were `found`
        (its `limit` were)."""
        taken = Counter(item.company_id for item in chosen)
        return any(
            count >= limit and self._busy[company] + taken[company] < self.per_company
            for company, count in found.items()
        )

    async def _attempt(self, job: Job) -> None:
        try:
            attempt = await self._attempter.attempt(job)
            self._done.append(attempt)  # the list `_tick` holds now, not the one at the start
        except Exception:  # a fault of ours: the claim runs out and the delivery is retried
            log.exception("webhook delivery %s: the attempt failed unrecorded", job.delivery_id)
        finally:
            self._busy[job.company_id] -= 1
            if self._busy[job.company_id] <= 0:
                del self._busy[job.company_id]
            if self._left_behind and self._wake is not None:  # room for what waits
                self._wake.set()

    def _after(self, number: int, attempt: Attempt) -> tuple[str, datetime | None]:
        """A delivery's status and next attempt after its attempt `number`."""
        if attempt.succeeded:
            return "succeeded", None
        next_attempt_at = self.policy.next_attempt(number, attempt.attempted_at)
        return ("pending" if next_attempt_at else "failed"), next_attempt_at
