"""Webhook events and their deliveries: written in the request's transaction (an outbox).

`record_event` is the app's event sink behind `ctx.emit`: for each enabled webhook of
the business subscribed to the event type it queues a pending delivery, due at once, of
the event stored with the exact body every attempt will POST. Nothing is sent here; the
delivery worker picks deliveries up once the transaction has committed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select

from sandbox.conventions import clock
from sandbox.conventions.auth import UNKNOWN
from sandbox.conventions.context import RequestContext
from sandbox.errors import Unauthorized
from sandbox.ids import new_id
from sandbox.spec import Spec
from sandbox.storage.base import iso
from sandbox.storage.core import Company
from sandbox.storage.database import Transaction
from sandbox.storage.webhooks import Webhook, WebhookDelivery, WebhookEvent

TEST_EVENT = "webhook.test"


@dataclass(frozen=True)
class RetryPolicy:
    """How often a delivery is attempted and how long it waits after each failure (spec values)."""

    delays_seconds: tuple[int, ...]
    max_attempts: int
    timeout_seconds: float

    @classmethod
    def from_spec(cls, spec: Spec) -> RetryPolicy:
        """The spec's policy: `x-test-mode` schedule and timeout, attempts per delivery."""
        attempts = spec.raw["components"]["schemas"]["WebhookDelivery"]["properties"][
            "attempt_count"
        ]
        return cls(
            delays_seconds=tuple(spec.test_mode["webhook_retry_schedule_seconds"]),
            max_attempts=int(attempts["maximum"]),
            timeout_seconds=float(spec.test_mode["webhook_timeout_seconds"]),
        )

    def next_attempt(self, attempts_made: int, attempted_at: datetime) -> datetime | None:
        """When to try again after `attempts_made` failed attempts; None once they are used up."""
        if attempts_made >= self.max_attempts:
            return None
        return attempted_at + timedelta(seconds=self.delays_seconds[attempts_made - 1])


def event_body(
    event_id: str,
    event_type: str,
    created_at: datetime,
    tenancy: tuple[str, str],
    data: dict[str, Any],
) -> str:
    """The `WebhookEvent` JSON a delivery POSTs, as text; `tenancy` is (company id, business id)."""
    event = {
        "id": event_id,
        "type": event_type,
        "created_at": iso(created_at),
        "company_id": tenancy[0],
        "business_id": tenancy[1],
        "data": data,
    }
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def event_row(ctx: RequestContext, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The column values of a new event, with the exact body every attempt will POST."""
    event_id = new_id("wev")
    body = event_body(event_id, event_type, ctx.now, (ctx.company_id, ctx.business.id), data)
    return {"id": event_id, "type": event_type, "body": body, **ctx.tenancy()}


def delivery_row(
    ctx: RequestContext, webhook_id: str, event_id: str, event_type: str
) -> dict[str, Any]:
    """The column values of a pending delivery of the event to the webhook, due now."""
    return {
        "id": new_id("dlv"),
        "webhook_id": webhook_id,
        "event_id": event_id,
        "event_type": event_type,
        "status": "pending",
        "attempt_count": 0,
        "next_attempt_at": ctx.now,
        "lease_until": None,
        "lease_token": None,
        **ctx.tenancy(),
    }


def store_event(ctx: RequestContext, event_type: str, data: dict[str, Any]) -> WebhookEvent:
    """Add the event to the session and flush it."""
    event = WebhookEvent(**event_row(ctx, event_type, data))
    ctx.session.add(event)
    ctx.session.flush()  # deliveries refer to it, and no relationship tells the session so
    return event


def queue_delivery(ctx: RequestContext, webhook: Webhook, event: WebhookEvent) -> WebhookDelivery:
    """Add a pending delivery of `event` to `webhook`, due now on the test clock."""
    delivery = WebhookDelivery(**delivery_row(ctx, webhook.id, event.id, event.type))
    ctx.session.add(delivery)
    return delivery


_companies, _webhooks = Company.__table__, Webhook.__table__
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
) -> tuple[datetime, list[tuple[str, list[str]]]]:
    """In one statement, what a write reads before it writes: the company's test-clock
    time and its business's enabled webhooks; Unauthorized if the company is gone."""
    rows = transaction.rows(
        CLOCK_AND_SUBSCRIBERS, {"company_id": company_id, "business_id": business_id}
    )
    if not rows:
        raise Unauthorized(UNKNOWN)
    webhooks = [(webhook_id, events) for _, webhook_id, events in rows if webhook_id is not None]
    return clock.at_offset(rows[0][0] or 0), webhooks


def record_event(ctx: RequestContext, event_type: str, data: dict[str, Any]) -> None:
    """Store the event with a delivery to each enabled webhook subscribed to its type (if any).

    Runs on every emitting request, so it writes with prepared INSERTs (no ORM).
    """
    webhooks = ctx.subscribers
    if webhooks is None:
        webhooks = clock_and_subscribers(ctx.transaction, ctx.company_id, ctx.business.id)[1]
    subscribed = [webhook_id for webhook_id, events in webhooks if event_type in events]
    if not subscribed:
        return  # nobody would ever read the event
    event = event_row(ctx, event_type, data)
    ctx.insert(WebhookEvent, **event)
    for webhook_id in subscribed:
        ctx.insert(WebhookDelivery, **delivery_row(ctx, webhook_id, event["id"], event_type))


def sample_data(spec: Spec, event_type: str, webhook_id: str) -> dict[str, Any]:
    """The `data` of a test event: the spec's example of the event type (under `webhooks`)."""
    body = spec.raw["webhooks"][event_type]["post"]["requestBody"]["content"]["application/json"]
    data = dict(body["example"]["data"])
    if event_type == TEST_EVENT:
        data["webhook_id"] = webhook_id
    return data
