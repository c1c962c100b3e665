"""Per-company test clocks: real time plus an offset that only moves forward."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandbox.storage.base import utcnow
from sandbox.storage.core import Company


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
