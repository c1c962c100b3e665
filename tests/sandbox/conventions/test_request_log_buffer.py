"""The request log's buffer (written by a timer, never after `close` returns) and the
request headers it logs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sandbox.conventions import requestlog
from sandbox.conventions.requestlog import (
    LoggedRequest,
    RequestLog,
    environ_headers_of,
    headers_of,
)


class SlowDatabase:
    """A stand-in whose first transaction takes a while; records when each one ends."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = threading.Event()
        self.ended: list[float] = []

    @staticmethod
    def prepared(_statement: Any) -> Prepared:
        return Prepared()

    @contextmanager
    def unit(self) -> Iterator[Any]:
        first = not self.started.is_set()
        self.started.set()
        time.sleep(self.seconds if first else 0)
        yield Unit()
        self.ended.append(time.monotonic())


class Prepared:
    """A stand-in prepared INSERT: its rows bound are the rows themselves."""

    @staticmethod
    def bound_rows(rows: list[dict]) -> list[dict]:
        return list(rows)


class Unit:
    """A stand-in transaction that keeps the rows it is given."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def run(self, bound: list[dict]) -> None:
        self.rows.extend(bound)


def entry(number: int) -> LoggedRequest:
    return LoggedRequest(None, f"req_{number}", "GET", "/api/v1/x", None, None, 200, 1.0)


def test_close_waits_for_a_timer_write_under_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requestlog, "FLUSH_SECONDS", 0.01)
    database = SlowDatabase(0.3)
    log = RequestLog(database)  # type: ignore[arg-type]
    log.add(entry(1))
    assert database.started.wait(2), "the timer never wrote"
    log.close()
    closed_at = time.monotonic()
    time.sleep(0.4)
    assert database.ended and max(database.ended) <= closed_at


def test_no_timer_starts_after_close(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requestlog, "FLUSH_SECONDS", 0.01)
    database = SlowDatabase(0)
    log = RequestLog(database)  # type: ignore[arg-type]
    log.close()
    writes = len(database.ended)
    log.add(entry(2))
    time.sleep(0.1)
    assert len(database.ended) == writes


class RecordingDatabase:
    """A stand-in that keeps the transactions it opens."""

    def __init__(self) -> None:
        self.units: list[Unit] = []

    @staticmethod
    def prepared(_statement: Any) -> Prepared:
        return Prepared()

    @contextmanager
    def unit(self) -> Iterator[Any]:
        self.units.append(Unit())
        yield self.units[-1]


def test_a_busy_half_second_is_written_in_short_transactions() -> None:
    """Each transaction holds the write lock for a few dozen rows (about a millisecond on
    SQLite), so the requests' own writes get in between the log's."""
    database = RecordingDatabase()
    log = RequestLog(database)  # type: ignore[arg-type]
    for number in range(300):  # half a second of a busy worker
        log.add(entry(number))
    log.close()
    entries = [row for unit in database.units for row in unit.rows if "request_id" in row]
    assert [row["request_id"] for row in entries] == [f"req_{n}" for n in range(300)]
    assert max(sum("request_id" in row for row in unit.rows) for unit in database.units) <= 64


def test_request_headers_are_read_from_the_environ_as_werkzeug_names_them() -> None:
    environ = EnvironBuilder(
        path="/api/v1/x",
        method="POST",
        data=b"{}",
        headers={
            "Authorization": "Bearer sk_test_abcdefghijklmnop",
            "Cookie": "session=secret",
            "Proxy-Authorization": "Basic",
            "X_Odd_Name": "a\x00b",
            "Idempotency-Key": "k1",
        },
        content_type="application/json",
    ).get_environ()
    environ["HTTP_CONTENT_TYPE"] = "text/plain"  # werkzeug skips it: CONTENT_TYPE counts
    environ["HTTP_ACCEPT"] = ""
    expected = headers_of(Request(environ).headers.items())
    assert environ_headers_of(environ) == expected
    assert list(environ_headers_of(environ)) == list(expected)
    assert expected["Authorization"] == "Bearer sk_test_abcd…"
    assert expected["Proxy-Authorization"] == "…" and expected["X-Odd-Name"] == "a\ufffdb"
    environ["CONTENT_LENGTH"] = ""
    environ.pop("CONTENT_TYPE")
    without = environ_headers_of(environ)
    assert without == headers_of(Request(environ).headers.items())
    assert "Content-Length" not in without and "Content-Type" not in without
