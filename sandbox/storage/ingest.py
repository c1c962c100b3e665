"""Storing analytics events in one pass: their rows, their numeric properties
(`event_values`) and the hourly rollups (`event_rollups`) merged into what is stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.orm import Session

from sandbox.storage.analytics import (
    COUNT_ROW,
    HOUR_US,
    MAX_PROPERTY_LENGTH,
    NO_WEBSITE,
    Event,
    EventRollup,
    EventValue,
    numeric,
)
from sandbox.storage.base import upsert


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
    statement = upsert(session, table)
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
