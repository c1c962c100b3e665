"""Webhook events and their deliveries: written in the request's transaction (an outbox).

`record_event` is what `ctx.emit` calls, with plain values: it stores the event with the
exact body every attempt will POST, and for each enabled webhook of the business
subscribed to the event type it queues a pending delivery of it, due at once. Nothing is
sent here; the delivery worker picks deliveries up once the transaction has committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.ids import new_ordered_id
from sandbox.spec import Spec
from sandbox.storage.base import iso, json_bytes
from sandbox.storage.database import Transaction
from sandbox.storage.webhooks import WebhookDelivery, WebhookEvent

TEST_EVENT = "webhook.test"


@dataclass(frozen=True)
class RetryPolicy:
    """How often a delivery is attempted and how long it waits after each failure (spec values)."""

    delays_seconds: tuple[int, ...]
    max_attempts: int
    timeout_seconds: float

    @classmethod
    def from_spec(cls, spec: Spec) -> RetryPolicy:
        """The spec's policy: `x-test-mode` schedule and timeout; one attempt more than delays."""
        delays = tuple(spec.test_mode["webhook_retry_schedule_seconds"])
        return cls(
            delays_seconds=delays,
            max_attempts=len(delays) + 1,
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
    return json_bytes(event).decode()


@dataclass(frozen=True)
class Origin:
    """Where and when events happen: a company's business, at its test-clock time."""

    company_id: str
    business_id: str
    now: datetime

    def tenancy(self) -> dict[str, Any]:
        return {
            "company_id": self.company_id,
            "business_id": self.business_id,
            "created_at": self.now,
        }


def event_row(origin: Origin, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The column values of a new event, with the exact body every attempt will POST."""
    event_id = new_ordered_id("wev")
    tenancy = (origin.company_id, origin.business_id)
    body = event_body(event_id, event_type, origin.now, tenancy, data)
    return {"id": event_id, "type": event_type, "body": body, **origin.tenancy()}


def delivery_row(origin: Origin, webhook_id: str, event_id: str, event_type: str) -> dict[str, Any]:
    """The column values of a pending delivery of the event to the webhook, due now."""
    return {
        "id": new_ordered_id("dlv"),
        "webhook_id": webhook_id,
        "event_id": event_id,
        "event_type": event_type,
        "status": "pending",
        "attempt_count": 0,
        "next_attempt_at": origin.now,
        "lease_until": None,
        "lease_token": None,
        **origin.tenancy(),
    }


def queue(
    transaction: Transaction,
    origin: Origin,
    event_type: str,
    data: dict[str, Any],
    webhook_ids: Sequence[str],
) -> tuple[Any, list[Any]]:
    """Store the event and a pending delivery of it to each webhook, due now: two prepared
    INSERTs for one webhook. The rows as stored (named tuples)."""
    event = transaction.insert(WebhookEvent, event_row(origin, event_type, data))
    deliveries = [
        transaction.insert(WebhookDelivery, delivery_row(origin, webhook_id, event.id, event_type))
        for webhook_id in webhook_ids
    ]
    return event, deliveries


def record_event(
    transaction: Transaction,
    origin: Origin,
    subscribers: Sequence[tuple[str, Sequence[str]]],
    event_type: str,
    data: dict[str, Any],
) -> None:
    """Record the event (listWebhookEvents and `sandbox listen` read every one) and queue
    it to each of `subscribers` (webhook id, event types) taking its type."""
    subscribed = [webhook_id for webhook_id, events in subscribers if event_type in events]
    event = event_row(origin, event_type, data)
    transaction.add(WebhookEvent, event)
    for webhook_id in subscribed:
        transaction.add(WebhookDelivery, delivery_row(origin, webhook_id, event["id"], event_type))


def sample_data(spec: Spec, event_type: str, webhook_id: str) -> dict[str, Any]:
    """The `data` of a test event: the spec's example of the event type (under `webhooks`)."""
    data = dict(spec.event_example(event_type)["data"])
    if event_type == TEST_EVENT:
        data["webhook_id"] = webhook_id
    return data
