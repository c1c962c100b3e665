"""Metering tables: customers, meters and the usage events they aggregate.

A usage event's primary key is (company_id, event_id): the database itself guarantees
that an `event_id` is ingested once per company, whatever the concurrency.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.storage.analytics import number
from sandbox.storage.base import Base, TenantOwned, UtcDateTime, iso


class Customer(TenantOwned, Base):
    """A customer whose usage is metered."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    external_id: Mapped[str | None] = mapped_column(String(200))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "external_id": self.external_id,
            "metadata": dict(self.metadata_ or {}),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class Meter(TenantOwned, Base):
    """Aggregates usage events named `event_name` with `aggregation` (sum, count, max, min)."""

    __tablename__ = "meters"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    event_name: Mapped[str] = mapped_column(String(100))
    aggregation: Mapped[str] = mapped_column(String(8))
    description: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "event_name": self.event_name,
            "aggregation": self.aggregation,
            "description": self.description,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class UsageEvent(Base):
    """An ingested usage event; immutable once stored."""

    __tablename__ = "usage_events"
    __table_args__ = (
        Index(
            "ix_usage_events_meter",
            "company_id",
            "business_id",
            "event_name",
            "timestamp",
            "customer_id",
            "value",
        ),
        Index("ix_usage_events_timeline", "company_id", "business_id", "timestamp"),
    )

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    business_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    event_name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def to_api(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "customer_id": self.customer_id,
            "event_name": self.event_name,
            "value": number(self.value),
            "metadata": dict(self.metadata_ or {}),
            "timestamp": iso(self.timestamp),
            "ingested_at": iso(self.ingested_at),
        }
