"""Usage metering: idempotent ingest of usage events, and their aggregation per meter in SQL.

Ingest relies on the primary key (company_id, event_id) and INSERT … ON CONFLICT DO
NOTHING RETURNING: an id is stored once whatever the concurrency, and the rows the
database did not return are the duplicates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandbox.domain.metrics import parse_instant
from sandbox.errors import ApiError, ValidationFailed, detail
from sandbox.storage.analytics import number
from sandbox.storage.base import upsert
from sandbox.storage.metering import Customer, Meter, UsageEvent

INGESTED, DUPLICATE, REJECTED = "ingested", "duplicate", "rejected"
UNKNOWN_CUSTOMER = "Field 'customer_id' must be a customer of this business"


def _rejected(index: int, event_id: str, error: ApiError) -> dict[str, Any]:
    details = [{**d, "field": f"events[{index}].{d['field']}"} for d in error.details or []]
    failure = {"index": index, "code": error.code, "message": error.message, "details": details}
    return {"index": index, "event_id": event_id, "status": REJECTED, "error": failure}


def _result(index: int, event_id: str, status: str) -> dict[str, Any]:
    return {"index": index, "event_id": event_id, "status": status, "error": None}


def ingest(
    session: Session,
    company_id: str,
    business_id: str,
    items: list[dict[str, Any]],
    now: datetime,
    refused: Mapping[int, ApiError],
) -> list[dict[str, Any]]:
    """Store the items not seen before; one result per item, in order.

    An item is `rejected` if it is in `refused` (by index: a value no store takes), if its
    customer is not in the business or its time is not real; `duplicate` if its event_id
    was ingested before or earlier in this batch.
    """
    wanted = {item["customer_id"] for item in items}
    # Key-share locked, so that none of them is deleted before the events are committed.
    known = set(
        session.scalars(
            select(Customer.id)
            .where(
                Customer.company_id == company_id,
                Customer.business_id == business_id,
                Customer.id.in_(wanted),
            )
            .with_for_update(read=True, key_share=True)
        )
    )
    results: list[dict[str, Any]] = [{} for _ in items]
    first: dict[str, int] = {}
    rows = []
    for index, item in enumerate(items):
        event_id = item["event_id"]
        try:
            if (error := refused.get(index)) is not None:
                raise error
            if item["customer_id"] not in known:
                raise ValidationFailed(
                    UNKNOWN_CUSTOMER,
                    details=[detail("customer_id", "not_found", item["customer_id"])],
                )
            moment = parse_instant(item["timestamp"], "timestamp") if "timestamp" in item else now
        except ApiError as error:
            results[index] = _rejected(index, event_id, error)
            continue
        if event_id in first:
            results[index] = _result(index, event_id, DUPLICATE)
            continue
        first[event_id] = index
        rows.append(
            {
                "company_id": company_id,
                "event_id": event_id,
                "business_id": business_id,
                "customer_id": item["customer_id"],
                "event_name": item["event_name"],
                "value": float(item["value"]),
                "metadata_": item.get("metadata") or {},
                "timestamp": moment,
                "ingested_at": now,
            }
        )
    stored = _insert_new(session, rows)
    for event_id, index in first.items():
        results[index] = _result(index, event_id, INGESTED if event_id in stored else DUPLICATE)
    return results


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the rows whose (company_id, event_id) is new; the event_ids actually stored.

    Rows go in event_id order, so that concurrent batches wait on each other's keys in
    the same order (no deadlock on PostgreSQL).
    """
    if not rows:
        return set()
    statement = (
        upsert(session, UsageEvent)
        .on_conflict_do_nothing(index_elements=[UsageEvent.company_id, UsageEvent.event_id])
        .returning(UsageEvent.event_id)
    )
    rows.sort(key=lambda row: row["event_id"])
    return set(session.scalars(statement, rows))


def aggregate(
    session: Session, meter: Meter, customer_id: str | None, start: datetime, end: datetime
) -> tuple[float | int | None, int]:
    """(the meter's aggregation, number of events) over [start, end), one customer or all.

    An empty sum or count is 0; an empty max or min is None.
    """
    value = UsageEvent.value
    statement = select(func.count(), func.sum(value), func.min(value), func.max(value)).where(
        UsageEvent.company_id == meter.company_id,
        UsageEvent.business_id == meter.business_id,
        UsageEvent.event_name == meter.event_name,
        UsageEvent.timestamp >= start,
        UsageEvent.timestamp < end,
    )
    if customer_id is not None:
        statement = statement.where(UsageEvent.customer_id == customer_id)
    count, total, low, high = session.execute(statement).one()
    results = {
        "count": count,
        "sum": float(total) if total is not None else 0,
        "min": None if low is None else float(low),
        "max": None if high is None else float(high),
    }
    return number(results[meter.aggregation]), int(count)
