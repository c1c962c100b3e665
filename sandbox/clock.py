"""Per-company test clocks: real time plus an offset that only moves forward."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandbox.storage.base import utcnow
from sandbox.storage.core import Company


def now_for(company: Company) -> datetime:
    """The company's test-clock time (UTC)."""
    return utcnow() + timedelta(seconds=company.clock_offset_seconds or 0)


def advance(company: Company, seconds: int) -> datetime:
    """Move the company's clock forward by `seconds`; returns the new time."""
    company.clock_offset_seconds = (company.clock_offset_seconds or 0) + seconds
    return now_for(company)
