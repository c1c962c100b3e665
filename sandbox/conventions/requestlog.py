"""The sandbox's request log: one row per request, readable through listRequestLog, and
its headers and bodies (the first BODY_BYTES of each, secrets masked) for getRequestLogEntry.

Entries are buffered per process and written together by a timer within half a second
(or at once before the log is read), so logging costs a request no commit of its own.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from flask import Request, Response

from sandbox.conventions.request_body import RAW_BODY
from sandbox.ids import new_ordered_id
from sandbox.storage.base import storable, utcnow
from sandbox.storage.core import RequestLogEntry, pack_exchange
from sandbox.storage.database import Database
from sandbox.storage.rows import adding

FLUSH_SECONDS = 0.5
# Entries written per transaction: on a SQLite file each holds the write lock about a
# millisecond, so requests' writes never wait long behind it (batches of 500 held it 7 ms
# on average under creates, and once 117 ms).
BATCH_ROWS = 64
BODY_BYTES = 16 * 1024
KEY_SHOWN = 12  # characters of a key the log keeps: `sk_test_` and four more
MASKED_HEADERS = {"authorization", "cookie", "proxy-authorization"}
SECRET_PREFIX = "whsec_"
_SECRET = re.compile(r'("secret"\s*:\s*"' + SECRET_PREFIX + r')[^"]*(")')


def text_of(data: bytes | None) -> tuple[str | None, bool]:
    """The first BODY_BYTES of `data` as text (NUL shown as U+FFFD, signing secrets masked),
    and whether more came."""
    if not data:
        return None, False
    text = storable(data[:BODY_BYTES].decode("utf-8", errors="replace"))
    if SECRET_PREFIX in text:  # a plain search is a quarter of the pattern's cost
        text = _SECRET.sub(r"\1…\2", text)
    return text, len(data) > BODY_BYTES


def masked(name: str, value: str) -> str:
    """A header's value as logged: credentials cut to the scheme and the key's prefix."""
    value = storable(value)
    if name.lower() not in MASKED_HEADERS:
        return value
    scheme, _, credential = value.partition(" ")
    if not credential:
        return "…"
    return f"{scheme} {credential[:KEY_SHOWN]}…"


def headers_of(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as logged (a repeated header's values joined by `, `), credentials masked."""
    logged: dict[str, str] = {}
    for name, value in headers:
        value = masked(name, value)
        logged[name] = f"{logged[name]}, {value}" if name in logged else value
    return logged


_CONTENT_KEYS = {"CONTENT_TYPE", "CONTENT_LENGTH"}
_MASKED_NAMES = {name.title() for name in MASKED_HEADERS}  # as `_header_name` spells them


@lru_cache(maxsize=512)
def _header_name(key: str) -> str | None:
    """The header a WSGI environ key carries, named as werkzeug names it, or None."""
    if key.startswith("HTTP_") and key[5:] not in _CONTENT_KEYS:
        return key[5:].replace("_", "-").title()
    if key in _CONTENT_KEYS:
        return key.replace("_", "-").title()
    return None


def environ_headers_of(environ: Mapping[str, Any]) -> dict[str, str]:
    """A request's headers as logged, read from its WSGI environ in one pass: the same as
    `headers_of(Request(environ).headers.items())` (an empty Content-Type or
    Content-Length is no header)."""
    logged: dict[str, str] = {}
    for key, value in environ.items():
        name = _header_name(key)
        if name is None or (not value and key in _CONTENT_KEYS):
            continue
        if name in _MASKED_NAMES or "\x00" in value:
            value = masked(name, value)
        logged[name] = value  # one environ key per header: never repeated
    return logged


class LoggedRequest(NamedTuple):
    """What is logged of one request."""

    company_id: str | None
    request_id: str
    method: str
    path: str
    query: str | None
    operation_id: str | None
    status: int
    duration_ms: float
    # getRequestLogEntry's headers and bodies (see `exchange`), packed when written
    exchange: dict[str, Any] | None = None


def exchange(
    request_headers: dict[str, str],
    request_body: bytes | None,
    response_headers: Iterable[tuple[str, str]],
    response_body: bytes | None,
) -> dict[str, Any]:
    """What is logged of a request's and its response's headers and bodies (the request's
    headers already as logged: see `environ_headers_of`)."""
    request_text, request_cut = text_of(request_body)
    response_text, response_cut = text_of(response_body)
    return {
        "request_headers": request_headers,
        "request_body": request_text,
        "request_body_truncated": request_cut,
        "response_headers": headers_of(response_headers),
        "response_body": response_text,
        "response_body_truncated": response_cut,
    }


def logged(
    request: Request,
    response: Response,
    *,
    company_id: str | None,
    request_id: str,
    operation_id: str | None,
    started: float,
) -> LoggedRequest:
    """What is logged of `request` answered with `response` (`started`: perf_counter)."""
    return LoggedRequest(
        company_id=company_id,
        request_id=request_id,
        method=request.method,
        path=request.path.replace("\x00", "%00"),
        query=request.query_string.decode(errors="replace") or None,
        operation_id=operation_id,
        status=response.status_code,
        duration_ms=(time.perf_counter() - started) * 1000,
        exchange=exchange(
            environ_headers_of(request.environ),
            request.environ.get(RAW_BODY),
            response.headers.items(),
            None if response.is_streamed else response.get_data(),
        ),
    )


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
        row = {"id": new_ordered_id("rlg"), "created_at": utcnow(), **entry._asdict()}
        with self._lock:
            self._pending.append(row)
            if self._timer is None and not self._closed:
                self._timer = threading.Timer(FLUSH_SECONDS, self._flush_on_timer)
                self._timer.daemon = True
                self._timer.start()

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
        """Write every buffered entry, BATCH_ROWS to a transaction: on a SQLite file each
        holds the write lock only briefly, so requests' writes interleave with the log's."""
        with self._lock:
            rows, self._pending = self._pending, []
        for row in rows:  # packed and bound before the write lock is taken, not under it
            exchange = row["exchange"]
            row["exchange"] = pack_exchange(exchange) if exchange else None
        prepared = self.database.prepared(adding(RequestLogEntry))
        for start in range(0, len(rows), BATCH_ROWS):
            bound = prepared.bound_rows(rows[start : start + BATCH_ROWS])
            with self.database.unit() as unit:
                unit.run(bound)

    def _flush_on_timer(self) -> None:
        with self._writing:
            with self._lock:
                if self._closed:
                    return
                self._timer = None
            self._write()
