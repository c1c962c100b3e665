"""The webhook outbox: what a write reads before it queues events, and what the delivery
worker reads and claims (due deliveries, claims, the jobs they lease). How a finished
attempt is recorded is sandbox/storage/attempt_records.py.

A delivery is due when it is pending, its `next_attempt_at` has come on its company's
test clock, and no live lease holds it. A claim is a conditional UPDATE that marks due
deliveries with the claim's token and a lease; only the rows it marked are the claim's,
so several workers (threads or processes, on one database) never attempt one twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Select, and_, bindparam, func, or_, select, update

from sandbox.storage.base import table_of
from sandbox.storage.core import Company
from sandbox.storage.database import Database, Transaction
from sandbox.storage.prepared import Bound
from sandbox.storage.webhooks import Webhook, WebhookDelivery, WebhookEvent


@dataclass(frozen=True)
class Due:
    """A due delivery: its id, its company and the company's clock when it was read."""

    delivery_id: str
    company_id: str
    company_now: datetime


@dataclass(frozen=True)
class Job:
    """A claimed delivery and what its POST needs."""

    delivery_id: str
    company_id: str
    token: str
    number: int  # the number its attempt takes: the delivery's attempts so far, plus one
    webhook_id: str
    url: str
    secret: str
    event_type: str
    body: bytes
    clock_offset: timedelta


_companies, _webhooks = table_of(Company), table_of(Webhook)
CLOCK_AND_SUBSCRIBERS = (
    select(_companies.c.clock_offset_seconds, _webhooks.c.id, _webhooks.c.events)
    .select_from(
        _companies.outerjoin(
            _webhooks,
            and_(
                _webhooks.c.company_id == _companies.c.id,
                _webhooks.c.business_id == bindparam("business_id"),
                _webhooks.c.enabled.is_(True),
            ),
        )
    )
    .where(_companies.c.id == bindparam("company_id"))
    .order_by(_webhooks.c.id)
)


def clock_and_subscribers(
    transaction: Transaction, company_id: str, business_id: str
) -> tuple[int, list[tuple[str, list[str]]]] | None:
    """In one prepared statement, what a write reads before it writes: the company's
    test-clock offset (seconds) and its business's enabled webhooks (id, event types);
    None if the company is gone."""
    rows = transaction.rows(
        CLOCK_AND_SUBSCRIBERS, {"company_id": company_id, "business_id": business_id}
    )
    if not rows:
        return None
    webhooks = [(webhook_id, events) for _, webhook_id, events in rows if webhook_id is not None]
    return rows[0][0] or 0, webhooks


_deliveries = table_of(WebhookDelivery)
_pending = _deliveries.c.status == "pending"
_free = or_(_deliveries.c.lease_until.is_(None), _deliveries.c.lease_until < bindparam("real_now"))
# The deliveries named by id (`ids`: expanding), as claims and records pick them.
CHOSEN = _deliveries.c.id.in_(bindparam("ids", expanding=True))


def _companies_with_pending() -> Select[str, int]:
    """Each company with a pending delivery, and its clock offset: a skip scan of the
    due index (one seek per company), so its cost does not grow with the pending rows."""
    first = (
        select(func.min(_deliveries.c.company_id).label("company_id"))
        .where(_pending)
        .cte("pending_companies", recursive=True)
    )
    following = select(
        select(func.min(_deliveries.c.company_id))
        .where(_pending, _deliveries.c.company_id > first.c.company_id)
        .scalar_subquery()
    ).where(first.c.company_id.is_not(None))
    walk = first.union_all(following)
    return select(Company.id, Company.clock_offset_seconds).join(
        walk, Company.id == walk.c.company_id
    )


# The statements each poll runs, built once.
COMPANIES_WITH_PENDING = _companies_with_pending()
DUE = (
    select(_deliveries.c.id)
    .where(
        _pending,
        _deliveries.c.company_id == bindparam("company_id"),
        _deliveries.c.next_attempt_at <= bindparam("company_now"),
        _free,
    )
    .order_by(_deliveries.c.next_attempt_at, _deliveries.c.id)
    .limit(bindparam("limit"))
)
# Run once per delivery, found by its primary key: with `id IN (…)` SQLite's planner,
# which has no statistics, would read every pending delivery through the due index
# instead, holding the write lock meanwhile.
CLAIM = (
    update(_deliveries)
    .where(
        _deliveries.c.id == bindparam("claimed_id"),
        _pending,
        _deliveries.c.next_attempt_at <= bindparam("company_now"),
        _free,
    )
    .values(lease_until=bindparam("lease_ends"), lease_token=bindparam("claim_token"))
)
JOBS = (
    select(
        _deliveries.c.id,
        _deliveries.c.company_id,
        _deliveries.c.attempt_count,
        Webhook.id,
        Webhook.url,
        Webhook.secret,
        WebhookEvent.type,
        WebhookEvent.body,
        Company.clock_offset_seconds,
    )
    .join(Webhook, _deliveries.c.webhook_id == Webhook.id)
    .join(WebhookEvent, WebhookEvent.id == _deliveries.c.event_id)
    .join(Company, Company.id == _deliveries.c.company_id)
    .where(CHOSEN, _deliveries.c.lease_token == bindparam("claim_token"))
    .order_by(_deliveries.c.next_attempt_at, _deliveries.c.id)
)
# Row locks in id order, as a reset takes them (sandbox/fixtures): no deadlock between them.
LOCK = select(_deliveries.c.id).where(CHOSEN).order_by(_deliveries.c.id).with_for_update()


def lock(connection: Connection, delivery_ids: Iterable[str]) -> None:
    """Lock these deliveries' rows until the transaction ends, in id order (first thing in
    a transaction that records and claims, so that it waits for a reset, or a reset for it,
    and neither for the other)."""
    if connection.dialect.name == "sqlite":  # one writer at a time holds the whole file
        return
    ids = sorted(set(delivery_ids))
    if ids:
        connection.execute(LOCK, {"ids": ids}).all()


def due(transaction: Transaction, real_now: datetime, limit: int) -> list[Due]:
    """Up to `limit` pending, unleased deliveries of each company due on its test clock,
    oldest first (prepared statements: every poll runs them)."""
    found = []
    for company_id, offset in transaction.rows(COMPANIES_WITH_PENDING, {}):
        company_now = real_now + timedelta(seconds=offset or 0)
        values = {
            "company_id": company_id,
            "company_now": company_now,
            "real_now": real_now,
            "limit": limit,
        }
        found += [
            Due(delivery_id, company_id, company_now)
            for (delivery_id,) in transaction.rows(DUE, values)
        ]
    return found


@dataclass(frozen=True)
class Claims:
    """A claim of due deliveries under one token, its values bound ahead of the write
    transaction that makes it (`claim`), so that the write lock covers the writes alone."""

    token: str
    ids: list[str]
    leases: Bound


def claims(
    database: Database, chosen: Sequence[Due], real_now: datetime, lease: timedelta, token: str
) -> Claims:
    """The claim, under `token`, of those of `chosen` still pending, due and free when it
    is made: each leased until `real_now + lease`."""
    rows = [
        {
            "claimed_id": item.delivery_id,
            "company_now": item.company_now,
            "real_now": real_now,
            "lease_ends": real_now + lease,
            "claim_token": token,
        }
        for item in chosen
    ]
    ids = [item.delivery_id for item in chosen]
    return Claims(token, ids, database.prepared(CLAIM).bound_many(rows))


def claim(transaction: Transaction, claims: Claims) -> None:
    """Make the claim: lease those of its deliveries still pending, due and free. Which
    were leased is known once it committed (`jobs`)."""
    transaction.run(claims.leases)


def jobs(connection: Connection, claims: Claims) -> list[Job]:
    """The jobs of the deliveries a committed claim leased (none if it leased none)."""
    if not claims.ids:
        return []
    rows = connection.execute(JOBS, {"ids": claims.ids, "claim_token": claims.token}).all()
    return [
        Job(
            delivery_id=delivery_id,
            company_id=company_id,
            token=claims.token,
            number=attempt_count + 1,
            webhook_id=webhook_id,
            url=url,
            secret=secret,
            event_type=event_type,
            body=body.encode(),
            clock_offset=timedelta(seconds=offset or 0),
        )
        for (
            delivery_id,
            company_id,
            attempt_count,
            webhook_id,
            url,
            secret,
            event_type,
            body,
            offset,
        ) in rows
    ]
