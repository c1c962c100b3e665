"""Finished delivery attempts and how they are recorded: each appended while its claim
(sandbox/storage/outbox.py) still holds, its delivery moved on and released.

The rows that record a tick's attempts are bound before its write transaction, so the
write lock covers the writes alone; under the lock only the claims are checked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update

from sandbox.storage.base import table_of
from sandbox.storage.database import Database, Transaction
from sandbox.storage.outbox import CHOSEN
from sandbox.storage.prepared import Bound
from sandbox.storage.rows import adding
from sandbox.storage.webhooks import DeliveryAttempt, WebhookDelivery


@dataclass(frozen=True)
class Attempt:
    """One finished POST of a claimed delivery: a status code, or the error when none came."""

    delivery_id: str
    company_id: str
    token: str
    number: int  # the delivery's attempts so far, this one included
    attempted_at: datetime  # on the company's test clock
    status_code: int | None
    error: str | None
    duration_ms: int
    response_body: str | None = None  # the answer's first bytes

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# (attempt number, attempt) -> the delivery's status and next attempt time after it
Schedule = Callable[[int, Attempt], tuple[str, datetime | None]]


_deliveries = table_of(WebhookDelivery)
# Whose claim each named delivery is under, and its attempts so far.
HELD = select(_deliveries.c.id, _deliveries.c.attempt_count, _deliveries.c.lease_token).where(
    CHOSEN
)
MOVE_ON = (  # a recorded delivery's new state, released from its claim
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("moved_id"))
    .values(
        attempt_count=bindparam("number"),
        status=bindparam("new_status"),
        next_attempt_at=bindparam("next_at"),
        lease_until=None,
        lease_token=None,
    )
)


@dataclass(frozen=True)
class Records:
    """Finished attempts to record, with the rows that record them bound ahead of the
    write transaction (`record`)."""

    attempts: Sequence[Attempt]
    added: list[dict[str, object]]  # a DeliveryAttempt row each
    moved: list[dict[str, object]]  # MOVE_ON's values each
    bound: tuple[Bound, Bound]  # of `added`, of `moved`


def records(database: Database, attempts: Sequence[Attempt], after: Schedule) -> Records:
    """The records of `attempts`: each appended as its number, its delivery moved on to
    the status and next attempt `after(number, attempt)` gives, and released."""
    added, moved = [], []
    for attempt in attempts:
        status, next_attempt_at = after(attempt.number, attempt)
        added.append(
            {
                "delivery_id": attempt.delivery_id,
                "number": attempt.number,
                "company_id": attempt.company_id,
                "attempted_at": attempt.attempted_at,
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
                "response_body": attempt.response_body,
            }
        )
        moved.append(
            {
                "moved_id": attempt.delivery_id,
                "number": attempt.number,
                "new_status": status,
                "next_at": next_attempt_at,
            }
        )
    bound = (
        database.prepared(adding(DeliveryAttempt)).bound_rows(added),
        database.prepared(MOVE_ON).bound_many(moved),
    )
    return Records(attempts, added, moved, bound)


def record(transaction: Transaction, records: Records) -> list[Attempt]:
    """Append each attempt whose claim still holds and move its delivery on; returns the
    attempts dropped (their delivery was deleted or reclaimed meanwhile). Three
    statements whatever the number of attempts."""
    attempts = records.attempts
    if not attempts:
        return []
    expected = {a.delivery_id: (a.token, a.number - 1) for a in attempts}
    rows = transaction.connection.execute(HELD, {"ids": list(expected)}).all()
    held = {id_ for id_, count, token in rows if expected[id_] == (token, count)}
    if len(held) == len(attempts):
        for bound in records.bound:
            transaction.run(bound)
        return []
    transaction.add_rows(DeliveryAttempt, [r for r in records.added if r["delivery_id"] in held])
    transaction.run_many(MOVE_ON, [r for r in records.moved if r["moved_id"] in held])
    return [a for a in attempts if a.delivery_id not in held]
