"""The webhook outbox as the delivery worker sees it: due deliveries, claims, results.

A delivery is due when it is pending, its `next_attempt_at` has come on its company's
test clock, and no live lease holds it. A claim is a conditional UPDATE that marks due
deliveries with the claim's token and a lease; only the rows it marked are the claim's,
so several workers (threads or processes, on one database) never attempt one twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from sandbox.storage.core import Company
from sandbox.storage.webhooks import Webhook, WebhookDelivery, WebhookEvent

PER_COMPANY_LIMIT = 100  # due deliveries read per company and poll


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
    webhook_id: str
    url: str
    secret: str
    event_type: str
    body: bytes
    clock_offset: timedelta


def _free(real_now: datetime) -> object:
    return or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < real_now)


def due(session: Session, real_now: datetime) -> list[Due]:
    """Each pending, unleased delivery due on its company's test clock, oldest first."""
    pending = WebhookDelivery.status == "pending"
    companies = session.execute(
        select(Company.id, Company.clock_offset_seconds).where(
            Company.id.in_(select(WebhookDelivery.company_id).where(pending).distinct())
        )
    ).all()
    found = []
    for company_id, offset in companies:
        company_now = real_now + timedelta(seconds=offset or 0)
        ids = session.scalars(
            select(WebhookDelivery.id)
            .where(
                pending,
                WebhookDelivery.company_id == company_id,
                WebhookDelivery.next_attempt_at <= company_now,
                _free(real_now),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(PER_COMPANY_LIMIT)
        ).all()
        found += [Due(delivery_id, company_id, company_now) for delivery_id in ids]
    return found


def claim(
    session: Session, chosen: Iterable[Due], real_now: datetime, lease: timedelta, token: str
) -> list[Job]:
    """Lease those of `chosen` still pending, due and free; the jobs of the ones marked."""
    by_clock: dict[datetime, list[str]] = {}
    for item in chosen:
        by_clock.setdefault(item.company_now, []).append(item.delivery_id)
    for company_now, ids in by_clock.items():
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(ids),
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= company_now,
                _free(real_now),
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
            company_id=webhook.company_id,
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


def held(session: Session, jobs: Iterable[Job]) -> dict[str, WebhookDelivery]:
    """The deliveries of `jobs` whose claim still holds, locked for their update."""
    jobs = list(jobs)
    tokens = {job.delivery_id: job.token for job in jobs}
    found = session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id.in_(list(tokens))).with_for_update()
    )
    return {d.id: d for d in found if d.lease_token == tokens[d.id]}
