"""Per-company test clocks: real time plus an offset that only moves forward."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, select

from sandbox.storage.base import utcnow
from sandbox.storage.core import Company

OFFSET = select(Company.__table__.c.clock_offset_seconds).where(
    Company.__table__.c.id == bindparam("company_id")
)


def now_for(company: Company) -> datetime:
    """The company's test-clock time (UTC)."""
    return at_offset(company.clock_offset_seconds or 0)


def at_offset(seconds: int) -> datetime:
    """The test-clock time of a company whose clock is `seconds` ahead of real time."""
    return utcnow() + timedelta(seconds=seconds)


def advance(company: Company, seconds: int) -> datetime:
    """Move the company's clock forward by `seconds`; returns the new time."""
    company.clock_offset_seconds = (company.clock_offset_seconds or 0) + seconds
    return now_for(company)


def now_of(connection: Connection, company_id: str) -> datetime | None:
    """The test-clock time of the company with that id; None if there is none."""
    row = connection.execute(OFFSET, {"company_id": company_id}).first()
    return None if row is None else at_offset(row[0] or 0)
