"""The delivery worker: POSTs due webhook deliveries, signed, and records every attempt.

A delivery is due when it is pending and its `next_attempt_at` has come on its
company's test clock, so advancing the clock makes retries due without waiting. Several
workers (threads or processes) may run on one database: each claims due deliveries with
a conditional UPDATE (sandbox/storage/outbox.py) and attempts only what it marked, so
each attempt is made once. A worker claims no more than it can start at once, each
lease outlasts the longest attempt (host resolution plus the POST's deadline), and the
POSTs run concurrently on a bounded pool, at most PER_COMPANY of them for one company,
so one company's slow or dead receivers cannot hold the pool. POSTs happen outside any
transaction; finished attempts are recorded together, each only while its claim still
holds (a webhook deleted meanwhile drops it).

Each attempt resolves the URL's host once and checks it against the target policy
(sandbox/domain/targets.py) before connecting, then connects to the addresses it checked,
naming the server after the URL (Host header, TLS SNI and certificate). A refused or
unresolved target is a failed attempt with no connection made; it follows the retry
schedule like a receiver that is down, since DNS may change again.
"""

from __future__ import annotations

import logging
import queue
import re
import secrets
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy.orm import Session

from sandbox.domain import pinned, signing
from sandbox.domain.targets import TargetPolicy, TargetRefused, Unresolved
from sandbox.domain.webhooks import RetryPolicy
from sandbox.spec import load_spec
from sandbox.storage import outbox
from sandbox.storage.base import utcnow
from sandbox.storage.database import Database
from sandbox.storage.outbox import Due, Job
from sandbox.storage.webhooks import DeliveryAttempt, WebhookDelivery

log = logging.getLogger("sandbox.webhooks")
LEASE_MARGIN_SECONDS = 30
TICK_SECONDS = 0.02  # while busy, the outbox is claimed from and recorded to this often
CONCURRENCY = 32  # POSTs in flight per worker
PER_COMPANY = 24  # of which at most this many for one company: the others keep the rest
ERRNO = re.compile(r"\[Errno -?\d+\][^'\")]*")
ERROR_LENGTH = 300
NOT_DELIVERED = "Not delivered, no connection made: {reason}"


@dataclass(frozen=True)
class Result:
    """What one POST came to: a status code, or the error when no response came."""

    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def describe(error: requests.RequestException, timeout: float) -> str:
    """A short, stable description of why no response came."""
    if isinstance(error, pinned.DeadlinePassed | requests.Timeout):
        return pinned.DEADLINE_PASSED.format(seconds=timeout)
    text = str(error)
    if match := ERRNO.search(text):
        return f"{type(error).__name__}: {match.group(0).strip()}"
    return f"{type(error).__name__}: {text}"[:ERROR_LENGTH]


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
    """Delivers due webhook deliveries; `run_due` once, or `start` a thread that polls."""

    def __init__(
        self,
        database: Database,
        poll_seconds: float = 0.5,
        *,
        policy: RetryPolicy | None = None,
        targets: TargetPolicy | None = None,
        concurrency: int = CONCURRENCY,
        per_company: int = PER_COMPANY,
        verify: bool | str = True,
    ) -> None:
        """`verify`: how receivers' TLS certificates are checked (requests' `verify`: the
        system's CAs by default, or a CA bundle's path)."""
        self.database = database
        self.poll_seconds = poll_seconds
        self.policy = policy or RetryPolicy.from_spec(load_spec())
        self.targets = targets or TargetPolicy()
        self.concurrency = concurrency
        self.per_company = per_company
        self.verify = verify
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._busy: Counter[str] = Counter()  # company -> POSTs in flight
        self._done: queue.SimpleQueue[tuple[Job, Result]] = queue.SimpleQueue()
        self._wake = threading.Event()  # an attempt finished (room to start another)

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
        """Have `run_forever` finish its attempts in flight, record them and return."""
        self._stopping.set()
        self._wake.set()

    def stop(self) -> None:
        """Stop polling and wait for the attempts in progress to be recorded."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(self.longest_attempt + LEASE_MARGIN_SECONDS)
            self._thread = None

    def run_forever(self) -> None:
        """Poll and deliver in this thread until `stop` (from another thread or a signal)."""
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="webhook-post") as pool:
            in_flight: set[Future[None]] = set()
            while not self._stopping.is_set():
                try:
                    self._record()
                    started = self._dispatch(pool, utcnow())
                except Exception:  # a bad poll must not end the worker; the next one retries
                    log.exception("webhook delivery poll failed")
                    started = []
                in_flight = {f for f in in_flight | set(started) if not f.done()}
                if started:  # results gather meanwhile: one claim and one record per tick
                    self._stopping.wait(TICK_SECONDS)
                else:  # nothing due, or no room: until an attempt ends, or a poll
                    self._wake.wait(self.poll_seconds)
                    self._wake.clear()
            wait(in_flight)
            self._record()

    def run_due(self, now: datetime | None = None) -> int:
        """Attempt every delivery due at real time `now` (default: now), waiting for each
        attempt and recording it; returns how many were attempted."""
        attempted = 0
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="webhook-post") as pool:
            while not self._stopping.is_set():
                started = self._dispatch(pool, now or utcnow())
                if not started:
                    break
                wait(started)
                self._record()
                attempted += len(started)
        return attempted

    def _dispatch(self, pool: ThreadPoolExecutor, real_now: datetime) -> list[Future[None]]:
        """Claim as many due deliveries as can start now, fairly, and start their POSTs."""
        with self._lock:
            room = self.concurrency - sum(self._busy.values())
            busy = Counter(self._busy)
        if room <= 0:
            return []
        with self.database.transaction(write=False) as session:  # polling never queues
            due = outbox.due(session, real_now)
        chosen = fair_share(due, busy, room, self.per_company)
        if not chosen:
            return []
        lease = timedelta(seconds=self.longest_attempt + LEASE_MARGIN_SECONDS)
        with self.database.transaction() as session:
            jobs = outbox.claim(session, chosen, utcnow(), lease, secrets.token_hex(8))
        with self._lock:
            self._busy.update(job.company_id for job in jobs)
        return [pool.submit(self._attempt, job) for job in jobs]

    def _attempt(self, job: Job) -> None:
        try:
            self._done.put((job, self._post(job)))
        finally:
            with self._lock:
                self._busy[job.company_id] -= 1
                if self._busy[job.company_id] <= 0:
                    del self._busy[job.company_id]
            self._wake.set()

    def _post(self, job: Job) -> Result:
        """POST the delivery once, if its target passes; a 2xx within the timeout succeeds."""
        timeout = self.policy.timeout_seconds
        headers = signing.delivery_headers(
            job.secret,
            job.body,
            int(time.time()),
            webhook_id=job.webhook_id,
            delivery_id=job.delivery_id,
            event_type=job.event_type,
        )
        attempted_at = utcnow() + job.clock_offset
        started = time.perf_counter()
        status_code, error = None, None
        try:
            response = pinned.post(
                self._http(), self.targets.pin(job.url), job.body, headers, timeout
            )
            status_code = response.status_code
            response.close()
        except TargetRefused as refusal:
            error = NOT_DELIVERED.format(reason=refusal)[:ERROR_LENGTH]
        except Unresolved as failure:
            error = str(failure)[:ERROR_LENGTH]
        except requests.RequestException as failure:
            error = describe(failure, timeout)
        duration_ms = int((time.perf_counter() - started) * 1000)
        return Result(attempted_at, status_code, error, duration_ms)

    def _http(self) -> requests.Session:
        """This thread's HTTP session (kept between attempts)."""
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = pinned.session()
            http.verify = self.verify
        return http

    def _record(self) -> None:
        """Append each finished attempt and move its delivery on, where the claim holds."""
        results = []
        while True:
            try:
                results.append(self._done.get_nowait())
            except queue.Empty:
                break
        if not results:
            return
        with self.database.transaction() as session:
            deliveries = outbox.held(session, (job for job, _ in results))
            for job, result in results:
                delivery = deliveries.get(job.delivery_id)
                if delivery is None:
                    log.info(
                        "delivery %s was dropped or reclaimed during its attempt", job.delivery_id
                    )
                    continue
                self._move_on(session, delivery, result)

    def _move_on(self, session: Session, delivery: WebhookDelivery, result: Result) -> None:
        number = delivery.attempt_count + 1
        session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                number=number,
                company_id=delivery.company_id,
                attempted_at=result.attempted_at,
                status_code=result.status_code,
                error=result.error,
                duration_ms=result.duration_ms,
            )
        )
        delivery.attempt_count = number
        delivery.lease_until, delivery.lease_token = None, None
        if result.succeeded:
            delivery.status, delivery.next_attempt_at = "succeeded", None
        else:
            delivery.next_attempt_at = self.policy.next_attempt(number, result.attempted_at)
            if delivery.next_attempt_at is None:
                delivery.status = "failed"
