"""Webhook tables: subscriptions, the events they receive, deliveries and every attempt.

Events and deliveries are written in the transaction of the request that caused them
(an outbox): a delivery exists as soon as its cause is committed, and the worker only
ever appends attempts to it, so no failure of the receiver can lose it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.storage.base import Base, TenantOwned, UtcDateTime, iso


class Webhook(TenantOwned, Base):
    """A subscription of a URL to event types; `secret` signs its deliveries."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[Any]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(String(100))

    def to_api(self) -> dict[str, Any]:
        """The subscription without its secret."""
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "description": self.description,
            "enabled": self.enabled,
            "created_at": iso(self.created_at),
        }


class WebhookEvent(TenantOwned, Base):
    """An event as sent: `body` holds the exact bytes every delivery of it POSTs (and signs)."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)

    def to_api(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookDelivery(TenantOwned, Base):
    """One event for one webhook: pending until a 2xx (succeeded) or the last attempt (failed).

    `next_attempt_at` is on the company's test clock; `lease_until` (real time) and
    `lease_token` mark the worker that claimed the delivery for its current attempt.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "company_id", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id"), index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id"))
    event_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))


class DeliveryAttempt(Base):
    """One POST of a delivery: the receiver's status code, or the error when none came."""

    __tablename__ = "webhook_delivery_attempts"

    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)  # the answer's first bytes

    def to_api(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "attempted_at": iso(self.attempted_at),
            "status_code": self.status_code,
            "error": self.error,
            "duration_ms": self.duration_ms,
            "response_body": self.response_body,
        }


def delivery_api(
    delivery: WebhookDelivery, event: WebhookEvent, attempts: list[DeliveryAttempt]
) -> dict[str, Any]:
    """A delivery as the API returns it, with its attempts in order and the event it carries."""
    return {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempt_count": delivery.attempt_count,
        "next_attempt_at": iso(delivery.next_attempt_at),
        "attempts": [a.to_api() for a in sorted(attempts, key=lambda a: a.number)],
        "payload": WebhookEvent.to_api(event),
        "created_at": iso(delivery.created_at),
    }
