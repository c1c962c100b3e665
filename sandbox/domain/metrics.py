"""Metric arithmetic: time ranges, UTC buckets, and count/sum/avg/min/max computed in SQL.

A range [start, end) is split at whole UTC hours: the whole hours are read from the hourly
rollups, the ragged edges (at most an hour on each side) from the events themselves. Both
queries group by the same bucket expression, so the partial aggregates merge exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, null, select
from sqlalchemy.orm import Session

from sandbox.errors import ValidationFailed, detail
from sandbox.storage.analytics import (
    COUNT_ROW,
    HOUR_US,
    Event,
    EventRollup,
    EventValue,
    instant,
    micros,
    number,
)

DAY_US = 24 * HOUR_US
WEEK_US = 7 * DAY_US
MONDAY_US = 4 * DAY_US  # 1970-01-05, the first Monday after the epoch
WIDTHS = {"hour": HOUR_US, "day": DAY_US, "week": WEEK_US}
MAX_BUCKETS = 1000
DEFAULT_SPAN = timedelta(days=30)
TOO_MANY_BUCKETS = "The range holds {count:,} {interval} buckets; at most {limit:,} are allowed"


def parse_instant(text: str, field: str) -> datetime:
    """An RFC 3339 time (any zone) as an aware UTC datetime; ValidationFailed naming `field`."""
    try:
        return datetime.fromisoformat(text.upper()).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed(
            f"Field '{field}' is not a valid RFC 3339 time",
            details=[detail(field, "invalid_format", text)],
        ) from None


def time_range(
    query: dict[str, Any], now: datetime, default_start: datetime | None = None
) -> tuple[datetime, datetime]:
    """The [from, to) of a query: `to` defaults to now, `from` to `default_start` or 30 days
    before `to`. ValidationFailed when `from` is after `to`."""
    end = parse_instant(query["to"], "to") if query.get("to") else now
    start = (
        parse_instant(query["from"], "from")
        if query.get("from")
        else default_start or end - DEFAULT_SPAN
    )
    if start > end:
        raise ValidationFailed(
            "Field 'from' must not be after 'to'",
            details=[
                detail("from", "must_not_be_after_to", query.get("from") or start.isoformat())
            ],
        )
    return start, end


def bucket_start(us: int, interval: str) -> int:
    """Start (µs) of the UTC bucket holding `us`: hours, days, weeks from Monday, months."""
    if interval == "month":
        moment = instant(us)
        return micros(datetime(moment.year, moment.month, 1, tzinfo=UTC))
    width = WIDTHS[interval]
    offset = MONDAY_US if interval == "week" else 0
    return us - (us - offset) % width


def next_bucket(start: int, interval: str) -> int:
    if interval != "month":
        return start + WIDTHS[interval]
    moment = instant(start)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return micros(datetime(year, month, 1, tzinfo=UTC))


def buckets(start: int, end: int, interval: str) -> list[int]:
    """Starts of every bucket meeting [start, end); ValidationFailed past MAX_BUCKETS."""
    out: list[int] = []
    key = bucket_start(start, interval) if start < end else end
    while key < end:
        if len(out) == MAX_BUCKETS:
            count = _count_buckets(key, end, interval) + MAX_BUCKETS
            raise ValidationFailed(
                TOO_MANY_BUCKETS.format(count=count, interval=interval, limit=MAX_BUCKETS),
                details=[detail("interval", "too_many_buckets", interval)],
            )
        out.append(key)
        key = next_bucket(key, interval)
    return out


def _count_buckets(key: int, end: int, interval: str) -> int:
    if interval != "month":
        return -(-(end - key) // WIDTHS[interval])
    first, last = instant(key), instant(end - 1)
    return (last.year - first.year) * 12 + last.month - first.month + 1


def label(key: int, interval: str) -> str:
    """A bucket's `date`: RFC 3339 for hours, `YYYY-MM-DD` otherwise."""
    moment = instant(key)
    if interval == "hour":
        return moment.isoformat().replace("+00:00", "Z")
    return moment.date().isoformat()


def _floor_mod(column: Any, width: int, offset: int = 0) -> ColumnElement[Any]:
    """`(column - offset) mod width`, never negative, on SQLite and PostgreSQL alike."""
    w: ColumnElement[Any] = literal_column(str(width))
    shifted = column - literal_column(str(offset)) if offset else column
    return (shifted % w + w) % w


def bucket_expression(column: Any, interval: str, dialect: str) -> ColumnElement[Any]:
    """SQL for the bucket of a µs column: an integer start, or `YYYY-MM` for months."""
    if interval in WIDTHS:
        return column - _floor_mod(column, WIDTHS[interval], MONDAY_US if interval == "week" else 0)
    seconds = (column - _floor_mod(column, 1_000_000)) / literal_column("1000000")
    if dialect == "postgresql":
        utc = func.timezone(literal_column("'UTC'"), func.to_timestamp(seconds))
        return func.to_char(utc, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), seconds, literal_column("'unixepoch'"))


@dataclass
class Partial:
    """Mergeable aggregates of one bucket: how many values, their sum, min and max."""

    count: int = 0
    total: float = 0.0
    low: float | None = None
    high: float | None = None

    def merge(self, count: Any, total: Any, low: Any, high: Any) -> None:
        self.count += int(count or 0)
        self.total += float(total or 0)
        if low is not None:
            self.low = float(low) if self.low is None else min(self.low, float(low))
        if high is not None:
            self.high = float(high) if self.high is None else max(self.high, float(high))

    def value(self, metric: str) -> float | int | None:
        """The metric: 0 for an empty count or sum, None for an empty avg, min or max."""
        if metric == "count":
            return self.count
        if metric == "sum":
            return number(self.total) if self.count else 0
        if not self.count:
            return None
        return number({"avg": self.total / self.count, "min": self.low, "max": self.high}[metric])


@dataclass(frozen=True)
class MetricQuery:
    """One metric over [start, end) µs of one business's events named `event`."""

    company_id: str
    business_id: str
    event: str
    metric: str
    property: str | None
    interval: str
    start: int
    end: int
    website_id: str | None = None


def compute(session: Session, query: MetricQuery) -> tuple[list[tuple[int, Any]], Any]:
    """([(bucket start, value)] for every bucket of the range, the metric over the whole range)."""
    keys = buckets(query.start, query.end, query.interval)
    partials = {key: Partial() for key in keys}
    if keys:
        dialect = session.get_bind().dialect.name
        for statement in _statements(query, dialect):
            for bucket, count, total, low, high in session.execute(statement):
                partials[_key(bucket, query.interval)].merge(count, total, low, high)
    overall = Partial()
    for partial in partials.values():
        overall.merge(partial.count, partial.total, partial.low, partial.high)
    return [(key, partials[key].value(query.metric)) for key in keys], overall.value(query.metric)


def _key(bucket: Any, interval: str) -> int:
    if interval == "month":
        year, month = str(bucket).split("-")
        return micros(datetime(int(year), int(month), 1, tzinfo=UTC))
    return int(bucket)


def _statements(query: MetricQuery, dialect: str) -> list[Select[Any]]:
    """Rollups for the whole hours of the range, events for its edges."""
    first_hour = query.start + (-query.start) % HOUR_US
    last_hour = query.end - query.end % HOUR_US
    if first_hour >= last_hour:
        return [_from_events(query, dialect, query.start, query.end)]
    statements = [_from_rollups(query, dialect, first_hour, last_hour)]
    if query.start < first_hour:
        statements.append(_from_events(query, dialect, query.start, first_hour))
    if last_hour < query.end:
        statements.append(_from_events(query, dialect, last_hour, query.end))
    return statements


def _from_rollups(query: MetricQuery, dialect: str, start: int, end: int) -> Select[Any]:
    table = EventRollup
    bucket = bucket_expression(table.hour, query.interval, dialect).label("bucket")
    statement = select(
        bucket,
        func.sum(table.count),
        func.sum(table.total),
        func.min(table.low),
        func.max(table.high),
    ).where(
        table.company_id == query.company_id,
        table.business_id == query.business_id,
        table.event == query.event,
        table.property == (query.property if query.metric != "count" else COUNT_ROW),
        table.hour >= start,
        table.hour < end,
    )
    if query.website_id is not None:
        statement = statement.where(table.website_id == query.website_id)
    return statement.group_by(literal_column("bucket"))


def _from_events(query: MetricQuery, dialect: str, start: int, end: int) -> Select[Any]:
    if query.metric == "count":
        table: Any = Event
        aggregates = [func.count(), null(), null(), null()]
    else:
        table = EventValue
        v = EventValue.value
        aggregates = [func.count(v), func.sum(v), func.min(v), func.max(v)]
    bucket = bucket_expression(table.ts, query.interval, dialect).label("bucket")
    statement = select(bucket, *aggregates).where(
        table.company_id == query.company_id,
        table.business_id == query.business_id,
        table.event == query.event,
        table.ts >= start,
        table.ts < end,
    )
    if query.metric != "count":
        statement = statement.where(EventValue.property == query.property)
    if query.website_id is not None:
        statement = statement.where(table.website_id == query.website_id)
    return statement.group_by(literal_column("bucket"))
