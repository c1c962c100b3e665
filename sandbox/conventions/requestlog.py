"""The sandbox's request log: one row per request, readable through listRequestLog.

Entries are buffered per process and written together by a timer within half a second
(or at once before the log is read), so logging costs a request no commit of its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Connection, insert

from sandbox.ids import new_id
from sandbox.storage.base import table_of, utcnow
from sandbox.storage.core import RequestLogEntry
from sandbox.storage.database import Database

FLUSH_SECONDS = 0.5
_INSERT = insert(table_of(RequestLogEntry))


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


class RequestLog:
    """A per-process buffer of logged requests and the timer that writes them."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # held while a batch is written
        self._closed = False
        self._pending: list[dict] = []
        self._timer: threading.Timer | None = None

    def add(self, entry: LoggedRequest) -> None:
        """Buffer one request; it is written within FLUSH_SECONDS."""
        row = {"id": new_id("rlg"), "created_at": utcnow(), **vars(entry)}
        with self._lock:
            self._pending.append(row)
            if self._timer is None and not self._closed:
                self._timer = threading.Timer(FLUSH_SECONDS, self._flush_on_timer)
                self._timer.daemon = True
                self._timer.start()

    def flush(self, connection: Connection) -> None:
        """Write every buffered entry in the caller's transaction."""
        with self._lock:
            rows, self._pending = self._pending, []
        if rows:
            connection.execute(_INSERT, rows)

    def write_pending(self) -> None:
        """Write what is buffered now, in a transaction of its own.

        Returns once every batch taken before the call is written (a timer's included).
        """
        with self._writing:
            self._write()

    def close(self) -> None:
        """Write what is buffered and stop the timer; no timer writes after this returns."""
        with self._lock:
            self._closed = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        self.write_pending()  # waits for a timer's write already under way

    def _write(self) -> None:
        with self.database.unit() as unit:
            self.flush(unit.connection)

    def _flush_on_timer(self) -> None:
        with self._writing:
            with self._lock:
                if self._closed:
                    return
                self._timer = None
            self._write()
