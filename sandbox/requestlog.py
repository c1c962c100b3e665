"""The sandbox's request log: one row per request, readable through listRequestLog."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.ids import new_id
from sandbox.storage.base import utcnow
from sandbox.storage.core import RequestLogEntry
from sandbox.storage.database import Database


@dataclass(frozen=True)
class LoggedRequest:
    """What is logged of one request."""

    company_id: str | None
    request_id: str
    method: str
    path: str
    query: str | None
    operation_id: str | None
    status: int
    duration_ms: float


def record(database: Database, entry: LoggedRequest) -> None:
    """Store one request in its own transaction (a failed request is logged too)."""
    with database.transaction() as session:
        session.add(RequestLogEntry(id=new_id("rlg"), created_at=utcnow(), **entry.__dict__))
