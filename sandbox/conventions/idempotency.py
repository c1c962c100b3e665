"""Idempotency-Key: the first response stored with the resource it created, replayed for 24 h.

The record is inserted in the same transaction as the handler's writes, before the
handler runs. Its primary key (company, key) makes the database, not a Python lock,
decide the winner of concurrent requests: the loser's insert waits for the winner's
commit, fails, and the loser replays the stored response.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from sandbox.errors import Conflict
from sandbox.storage.core import IdempotencyRecord

TTL = timedelta(hours=24)
REUSED = "Idempotency-Key {key!r} was already used with a different payload"
REPLAY_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class Replay:
    """A stored first response."""

    status: int
    body: bytes


def fingerprint(method: str, path: str, business_id: str, body: Any) -> str:
    """Hash of what makes two requests the same payload: method, path, business and body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method}\n{path}\n{business_id}\n{canonical}".encode()).hexdigest()


def stored_response(
    session: Session, company_id: str, key: str, print_: str, now: datetime
) -> Replay | None:
    """The live stored response for the key (Conflict if its payload differs); None if none.

    An expired record is deleted, so the key can be used afresh.
    """
    record = session.get(IdempotencyRecord, (company_id, key))
    if record is None:
        return None
    if record.expires_at <= now:
        session.delete(record)
        session.flush()
        return None
    if record.fingerprint != print_:
        raise Conflict(REUSED.format(key=key))
    return Replay(record.status, record.body)


def claim(
    session: Session, company_id: str, key: str, print_: str, operation_id: str, now: datetime
) -> IdempotencyRecord:
    """Insert the record of a first request; IntegrityError if another request holds the key."""
    record = IdempotencyRecord(
        company_id=company_id,
        key=key,
        fingerprint=print_,
        operation_id=operation_id,
        status=0,
        body=b"",
        created_at=now,
        expires_at=now + TTL,
    )
    session.add(record)
    session.flush()
    return record
