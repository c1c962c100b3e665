"""The delivery worker: POSTs due webhook deliveries, signed, and records every attempt.

A delivery is due when it is pending and its `next_attempt_at` has come on its
company's test clock, so advancing the clock makes retries due without waiting. Several
processes may each run a worker on one database: a worker claims a batch of deliveries
with conditional UPDATEs (pending, due, lease free) that mark them with its token, and
goes on only with the rows it marked, so each attempt is made once. POSTs happen outside
any transaction; a result is recorded only while the claim still holds (a webhook
deleted meanwhile drops it).

Each attempt resolves the URL's host once and checks it against the target policy
(sandbox/domain/targets.py) before connecting, then connects to the addresses it checked,
naming the server after the URL (Host header, TLS SNI and certificate). A refused or
unresolved target is a failed attempt with no connection made; it follows the retry
schedule like a receiver that is down, since DNS may change again.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from sandbox.domain import pinned, signing
from sandbox.domain.targets import TargetPolicy, TargetRefused, Unresolved
from sandbox.domain.webhooks import RetryPolicy
from sandbox.spec import load_spec
from sandbox.storage.base import utcnow
from sandbox.storage.core import Company
from sandbox.storage.database import Database
from sandbox.storage.webhooks import DeliveryAttempt, Webhook, WebhookDelivery, WebhookEvent

log = logging.getLogger("sandbox.webhooks")
LEASE_MARGIN_SECONDS = 30
BATCH_SIZE = 100
CLAIM_BATCH = 20
RECORD_EVERY_SECONDS = 0.1
ERRNO = re.compile(r"\[Errno -?\d+\][^'\")]*")
ERROR_LENGTH = 300
NOT_DELIVERED = "Not delivered, no connection made: {reason}"


@dataclass(frozen=True)
class Job:
    """A claimed delivery and what its POST needs."""

    delivery_id: str
    token: str
    webhook_id: str
    url: str
    secret: str
    event_type: str
    body: bytes
    clock_offset: timedelta


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


class DeliveryWorker:
    """Delivers due webhook deliveries; `run_due` once, or `start` a daemon thread that polls."""

    def __init__(
        self,
        database: Database,
        poll_seconds: float = 0.5,
        *,
        policy: RetryPolicy | None = None,
        targets: TargetPolicy | None = None,
    ) -> None:
        self.database = database
        self.poll_seconds = poll_seconds
        self.policy = policy or RetryPolicy.from_spec(load_spec())
        self.targets = targets or TargetPolicy()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._local = threading.local()

    def start(self) -> None:
        """Start polling on a daemon thread (requests never wait for it)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="webhook-delivery", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the attempt in progress to be recorded."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(self.policy.timeout_seconds + LEASE_MARGIN_SECONDS)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                attempted = self.run_due()
            except Exception:  # a bad poll must not end the thread; the next one retries
                log.exception("webhook delivery poll failed")
                attempted = 0
            if not attempted:
                self._stopping.wait(self.poll_seconds)

    def run_due(self, now: datetime | None = None) -> int:
        """Attempt each delivery due at real time `now` (default: now); returns the count.

        Deliveries are claimed CLAIM_BATCH at a time in one transaction and their results
        recorded together (at least every RECORD_EVERY_SECONDS), so a busy sandbox spends
        two write transactions per batch, not two per delivery.
        """
        real_now = now or utcnow()
        attempted = 0
        due = self._due(real_now)
        for start in range(0, len(due), CLAIM_BATCH):
            if self._stopping.is_set():
                break
            jobs = self._claim(due[start : start + CLAIM_BATCH])
            attempted += self._attempt(jobs)
        return attempted

    def _attempt(self, jobs: list[Job]) -> int:
        """POST each claimed job in turn, recording results as they accumulate."""
        results: list[tuple[Job, Result]] = []
        last_record = time.monotonic()
        posted = 0
        for job in jobs:
            if self._stopping.is_set():
                break
            results.append((job, self._post(job)))
            posted += 1
            if time.monotonic() - last_record >= RECORD_EVERY_SECONDS:
                self._record(results)
                results, last_record = [], time.monotonic()
        self._record(results)
        self._release(jobs[posted:])
        return posted

    def _due(self, real_now: datetime) -> list[tuple[str, datetime]]:
        """(id, company clock) of each pending, unleased delivery due on its test clock."""
        pending = WebhookDelivery.status == "pending"
        with self.database.transaction(write=False) as session:  # polling never queues for writes
            companies = session.execute(
                select(Company.id, Company.clock_offset_seconds).where(
                    Company.id.in_(select(WebhookDelivery.company_id).where(pending).distinct())
                )
            ).all()
            due = []
            for company_id, offset in companies:
                company_now = real_now + timedelta(seconds=offset or 0)
                ids = session.scalars(
                    select(WebhookDelivery.id)
                    .where(
                        pending,
                        WebhookDelivery.company_id == company_id,
                        WebhookDelivery.next_attempt_at <= company_now,
                    )
                    .where(
                        or_(
                            WebhookDelivery.lease_until.is_(None),
                            WebhookDelivery.lease_until < real_now,
                        )
                    )
                    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                    .limit(BATCH_SIZE)
                ).all()
                due += [(delivery_id, company_now) for delivery_id in ids]
        return due

    def _claim(self, due: list[tuple[str, datetime]]) -> list[Job]:
        """Lease those still pending, due and free; the jobs of the ones this worker got.

        One conditional UPDATE per company clock marks them with this claim's token, so a
        delivery another worker leased meanwhile is left out.
        """
        token = secrets.token_hex(8)
        # Leases run on real time read now. They outlast every attempt of the batch made
        # one after another: each resolves its host (bounded) and POSTs within its deadline.
        real_now = utcnow()
        longest_attempt = self.targets.resolve_seconds + self.policy.timeout_seconds
        lease = timedelta(seconds=longest_attempt * len(due) + LEASE_MARGIN_SECONDS)
        by_clock: dict[datetime, list[str]] = {}
        for delivery_id, company_now in due:
            by_clock.setdefault(company_now, []).append(delivery_id)
        with self.database.transaction() as session:
            for company_now, ids in by_clock.items():
                session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id.in_(ids),
                        WebhookDelivery.status == "pending",
                        WebhookDelivery.next_attempt_at <= company_now,
                        or_(
                            WebhookDelivery.lease_until.is_(None),
                            WebhookDelivery.lease_until < real_now,
                        ),
                    )
                    .values(lease_until=real_now + lease, lease_token=token)
                    .execution_options(synchronize_session=False)
                )
            rows = session.execute(
                select(WebhookDelivery.id, Webhook, WebhookEvent, Company.clock_offset_seconds)
                .join(Webhook, WebhookDelivery.webhook_id == Webhook.id)
                .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                .join(Company, Company.id == WebhookDelivery.company_id)
                .where(WebhookDelivery.lease_token == token)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            ).all()
            return [
                Job(
                    delivery_id=delivery_id,
                    token=token,
                    webhook_id=webhook.id,
                    url=webhook.url,
                    secret=webhook.secret,
                    event_type=event.type,
                    body=event.body.encode(),
                    clock_offset=timedelta(seconds=offset or 0),
                )
                for delivery_id, webhook, event, offset in rows
            ]

    def _release(self, jobs: list[Job]) -> None:
        """Give back the leases of claimed jobs that were not attempted (the worker stops)."""
        if not jobs:
            return
        with self.database.transaction() as session:
            session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id.in_([job.delivery_id for job in jobs]),
                    WebhookDelivery.lease_token == jobs[0].token,
                )
                .values(lease_until=None, lease_token=None)
                .execution_options(synchronize_session=False)
            )

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
        return http

    def _record(self, results: list[tuple[Job, Result]]) -> None:
        """Append each attempt and move its delivery on, where the claim still holds."""
        if not results:
            return
        with self.database.transaction() as session:
            found = session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.id.in_([job.delivery_id for job, _ in results]))
                .with_for_update()
            )
            deliveries = {delivery.id: delivery for delivery in found}
            for job, result in results:
                delivery = deliveries.get(job.delivery_id)
                if delivery is None or delivery.lease_token != job.token:
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
