"""Analytics tables: events (with their numeric properties and hourly rollups), websites,
conversion events, revenue and dashboards.

An event's time is stored as integer microseconds since the Unix epoch (UTC), so that metric
buckets are integer arithmetic on SQLite and PostgreSQL alike. Every numeric property of an
event is copied to `event_values`, and `event_rollups` keeps count, sum, min and max per
event, property, website and hour, so that a metric over months reads hours, not events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.storage.base import Base, TenantOwned, UtcDateTime, iso

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COUNT_ROW = ""  # the `property` of rollup rows that count events
NO_WEBSITE = ""  # the `website_id` of rollup rows for events without a website
HOUR_US = 3_600_000_000
MAX_PROPERTY_LENGTH = 200
MAX_MAGNITUDE = 1e300


def micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def instant(us: int) -> datetime:
    """The aware UTC datetime `us` microseconds after the Unix epoch."""
    return EPOCH + timedelta(microseconds=us)


class Website(TenantOwned, Base):
    """A website whose events, conversions and revenue are tracked."""

    __tablename__ = "websites"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(253))
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "domain": self.domain,
            "currency": self.currency,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class ConversionEvent(TenantOwned, Base):
    """Declares that events named `event_name` on a website are conversions."""

    __tablename__ = "conversion_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    website_id: Mapped[str] = mapped_column(ForeignKey("websites.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    event_name: Mapped[str] = mapped_column(String(200))

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "website_id": self.website_id,
            "name": self.name,
            "event_name": self.event_name,
            "created_at": iso(self.created_at),
        }


class Event(Base):
    """A tracked event; `ts` is its time in microseconds since the epoch (UTC).

    No foreign keys: on a table of millions of rows, a parent's delete would scan it.
    The handlers check `website_id`; `event_values` and `event_rollups` derive from it.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_metric", "company_id", "business_id", "event", "ts"),
        Index("ix_events_timeline", "company_id", "business_id", "ts"),
        Index("ix_events_website", "company_id", "business_id", "website_id", "ts"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    business_id: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(200))
    ts: Mapped[int] = mapped_column(BigInteger)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON)
    visitor_id: Mapped[str | None] = mapped_column(String(200))
    website_id: Mapped[str | None] = mapped_column(String(64))  # checked by the handlers
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.event,
            "timestamp": iso(instant(self.ts)),
            "properties": self.properties or {},
            "visitor_id": self.visitor_id,
            "website_id": self.website_id,
            "received_at": iso(self.received_at),
        }


class EventValue(Base):
    """One numeric property of one event, for sum, avg, min and max in SQL.

    The primary key is the metric's access path and, on SQLite, the table itself
    (WITHOUT ROWID): one B-tree per value, which keeps batch inserts cheap.
    """

    __tablename__ = "event_values"
    __table_args__ = {"sqlite_with_rowid": False}

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    business_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event: Mapped[str] = mapped_column(String(200), primary_key=True)
    property: Mapped[str] = mapped_column(String(200), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    website_id: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)


class EventRollup(Base):
    """Count, sum, min and max of one event name (and property) on one website in one UTC hour.

    `property` is COUNT_ROW for the row counting events; `website_id` is NO_WEBSITE for
    events without one (the primary key cannot hold NULL).
    """

    __tablename__ = "event_rollups"
    __table_args__ = {"sqlite_with_rowid": False}

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    business_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event: Mapped[str] = mapped_column(String(200), primary_key=True)
    property: Mapped[str] = mapped_column(String(200), primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    website_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[float] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)


class Revenue(TenantOwned, Base):
    """A revenue event of a website, in the website's currency."""

    __tablename__ = "revenue"
    __table_args__ = (
        Index("ix_revenue_website_time", "company_id", "business_id", "website_id", "timestamp"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    website_id: Mapped[str] = mapped_column(ForeignKey("websites.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    visitor_id: Mapped[str | None] = mapped_column(String(200))
    order_id: Mapped[str | None] = mapped_column(String(200))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "website_id": self.website_id,
            "amount": self.amount,
            "currency": self.currency,
            "visitor_id": self.visitor_id,
            "order_id": self.order_id,
            "timestamp": iso(self.timestamp),
            "created_at": iso(self.created_at),
        }


class Dashboard(TenantOwned, Base):
    """A saved dashboard; its widgets (each with an id and a metric query) are stored inline."""

    __tablename__ = "dashboards"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    widgets: Mapped[list[Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "widgets": list(self.widgets or []),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


def numeric(value: Any) -> float | None:
    """A JSON number (not a boolean) as a float; None for anything else.

    Magnitudes past MAX_MAGNITUDE count as not numeric: sums of them would overflow a
    double (an error on PostgreSQL, infinity on SQLite, neither of which JSON can carry).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if abs(number) <= MAX_MAGNITUDE else None


def number(value: float | int | None) -> float | int | None:
    """A float as the JSON number a client expects: integral values as integers."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
