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

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, func, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

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


def store_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert events with one executemany, then their numeric properties and hourly rollups.

    Each row holds every Event column. Rollup rows are merged into existing ones with one
    upsert, in key order (so concurrent writers lock rows in the same order).
    """
    if not rows:
        return
    # In index order: each index page a batch touches is then visited once.
    rows = sorted(rows, key=lambda row: (row["event"], row["ts"]))
    values: list[dict[str, Any]] = []
    rollups: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        hour = row["ts"] - row["ts"] % HOUR_US
        website = row["website_id"] or NO_WEBSITE
        scope = (row["company_id"], row["business_id"], row["event"])
        _accumulate(rollups, (*scope, COUNT_ROW, hour, website), None)
        for name, raw in (row["properties"] or {}).items():
            number = numeric(raw)
            if number is None or not name or len(name) > MAX_PROPERTY_LENGTH:
                continue
            values.append(
                {
                    "event_id": row["id"],
                    "property": name,
                    "company_id": row["company_id"],
                    "business_id": row["business_id"],
                    "event": row["event"],
                    "website_id": row["website_id"],
                    "ts": row["ts"],
                    "value": number,
                }
            )
            _accumulate(rollups, (*scope, name, hour, website), number)
    _insert_many(session, Event.__table__, rows)
    if values:
        _insert_many(session, EventValue.__table__, values)
    _merge_rollups(session, rollups)


def _insert_many(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` with one executemany.

    On SQLite the rows go straight to the driver's executemany, converted by the columns'
    own bind processors (JSON, UTC times): SQLAlchemy's per-row statement machinery would
    double the cost of a 1,000-row batch. PostgreSQL keeps SQLAlchemy's multi-row
    VALUES batches, which also adapt JSON for psycopg.
    """
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        connection.execute(insert(table), rows)
        return
    names = list(rows[0])
    processors = [table.c[name].type.bind_processor(dialect) for name in names]
    columns, marks = ", ".join(names), ", ".join("?" * len(names))
    params = [
        tuple(row[n] if p is None else p(row[n]) for n, p in zip(names, processors, strict=True))
        for row in rows
    ]
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", params)


def _accumulate(rollups: dict[Any, list[Any]], key: tuple[Any, ...], number: float | None) -> None:
    totals = rollups.setdefault(key, [0, 0.0, None, None])
    totals[0] += 1
    if number is not None:
        totals[1] += number
        totals[2] = number if totals[2] is None else min(totals[2], number)
        totals[3] = number if totals[3] is None else max(totals[3], number)


ROLLUP_KEY = ("company_id", "business_id", "event", "property", "hour", "website_id")


def _merge_rollups(session: Session, rollups: dict[Any, list[Any]]) -> None:
    postgres = session.get_bind().dialect.name == "postgresql"
    table = EventRollup.__table__
    statement = (postgresql.insert if postgres else sqlite.insert)(table)
    # PostgreSQL's LEAST/GREATEST; SQLite's scalar min/max (both NULL only on count rows).
    least, greatest = (func.least, func.greatest) if postgres else (func.min, func.max)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=list(ROLLUP_KEY),
        set_={
            "count": table.c["count"] + excluded["count"],
            "total": table.c.total + excluded.total,
            "low": least(table.c.low, excluded.low),
            "high": greatest(table.c.high, excluded.high),
        },
    )
    params = [
        {**dict(zip(ROLLUP_KEY, key, strict=True)), "count": c, "total": t, "low": lo, "high": hi}
        for key, (c, t, lo, hi) in sorted(rollups.items())
    ]
    session.execute(statement, params)
