"""Tables of the platform itself: companies, businesses, keys, idempotency, counters, log."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

import lz4.block
import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.storage.base import Base, UtcDateTime, iso

# Starts an LZ4-packed exchange; a zlib stream (an older row) starts with 0x78.
LZ4_TAG = b"lz4\x00"


class Company(Base):
    """A tenant: owns businesses, keys and, through them, every resource."""

    __tablename__ = "companies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(32))
    clock_offset_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Business(Base):
    """A business of a company; every resource belongs to one."""

    __tablename__ = "businesses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    company_id: Mapped[str] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    primary: Mapped[bool] = mapped_column(default=False)

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "primary": self.primary}


class ApiKey(Base):
    """A test key: its secret, its company and its scopes."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret: Mapped[str] = mapped_column(String(128), unique=True)
    company_id: Mapped[str] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[Any]] = mapped_column(JSON)

    @property
    def prefix(self) -> str:
        """The first characters of the secret, safe to show."""
        return self.secret[:12]


class IdempotencyRecord(Base):
    """The first response to an Idempotency-Key, replayed byte for byte for 24 h.

    The primary key (company, key) is what makes concurrent requests with one key
    create one resource: the second insert waits for the first transaction, then fails.
    """

    __tablename__ = "idempotency_records"

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    operation_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RateCounter(Base):
    """Requests admitted in one bucket (a key, or an anonymous caller) during one second.

    `window` is that second in epoch seconds (rows of minutes, from older sandboxes, are
    never summed and are deleted like any row past the window).
    """

    __tablename__ = "rate_counters"

    bucket: Mapped[str] = mapped_column(String(100), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


def pack_exchange(exchange: dict[str, Any]) -> bytes:
    """An exchange (headers and bodies) as stored: LZ4 over compact JSON, about a third of
    the text, in some 3 µs where zlib takes 20, so that logging it writes little and holds
    a SQLite file's write lock briefly."""
    return LZ4_TAG + lz4.block.compress(orjson.dumps(exchange))


def unpack_exchange(packed: bytes) -> dict[str, Any]:
    """What `pack_exchange` packed; zlib-packed exchanges (an older sandbox's) read too."""
    if packed.startswith(LZ4_TAG):
        text = lz4.block.decompress(packed[len(LZ4_TAG) :])
    else:
        text = zlib.decompress(packed)
    unpacked: dict[str, Any] = orjson.loads(text)
    return unpacked


class RequestLogEntry(Base):
    """One request served, for the sandbox's request log.

    `exchange` (packed by `pack_exchange`) is deferred: listing the log never reads it.
    """

    __tablename__ = "request_log"
    __table_args__ = (Index("ix_request_log_company_created", "company_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    company_id: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    query: Mapped[str | None] = mapped_column(Text)
    operation_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    exchange: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "operation_id": self.operation_id,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "created_at": iso(self.created_at),
        }


class RequestLogBody(Base):
    """The exchange of a request logged by an older sandbox, kept in a table of its own
    (same id as its entry): read by getRequestLogEntry, never written."""

    __tablename__ = "request_log_bodies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    packed: Mapped[bytes] = mapped_column(LargeBinary)


class QuotaUsage(Base):
    """How much of a plan quota a company used in one period (a day or a month)."""

    __tablename__ = "quota_usage"

    company_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    quota: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger, default=0)
