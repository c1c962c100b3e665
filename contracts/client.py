"""HTTP to the server under test: one `Client` per key, every exchange recorded.

The kit talks to servers over HTTP only. A `Client` keeps its key under the rate limit
(`Throttle`), waits out a 429 met by accident, and appends every answered exchange to a
shared `Recorder` so that the passive rules (envelope, rate-limit headers) see all
traffic. A request that gets no answer (a timeout, a reset connection, a response that
is not HTTP) comes back as an exchange with status 0 and `error` saying what happened:
it fails the check that sent it, and the run goes on.
"""

from __future__ import annotations

import json as jsonlib
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests

from contracts.exchange import Exchange
from contracts.throttle import MAX_WAIT, Throttle

DEFAULT_TIMEOUT = 10.0  # seconds a request may take before it counts as unanswered
RETRIES_ON_429 = 3
NO_KEY = object()  # `key=NO_KEY`: send no Authorization header at all


class Unreachable(Exception):
    """The server did not answer the run's first request (connection refused, timeout,
    DNS): nothing can be checked."""


class Recorder:
    """Every exchange of a run, in order; safe to append from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def snapshot(self) -> list[Exchange]:
        with self._lock:
            return list(self.exchanges)


class Client:
    """Sends requests to `base_url` with a bearer key."""

    def __init__(
        self,
        base_url: str,
        key: str | None,
        recorder: Recorder | None = None,
        throttle: Throttle | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.recorder = recorder if recorder is not None else Recorder()
        self.throttle = throttle or Throttle()
        self.timeout = timeout
        self.session = requests.Session()

    def fork(self) -> Client:
        """A client with the same key, recorder, throttle and timeout but its own connection."""
        return Client(self.base_url, self.key, self.recorder, self.throttle, self.timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | str | None = None,
        params: dict[str, Any] | None = None,
        headers: Mapping[str, str | None] | None = None,
        key: Any = None,
        operation_id: str | None = None,
        wait_out_429: bool = True,
    ) -> Exchange:
        """Send one request and return its exchange.

        `key=None` uses the client's key, `key=NO_KEY` sends none, a string sends that one.
        A 429 is waited out (`Retry-After`) and retried unless `wait_out_429` is False.
        Without an answer the exchange has status 0 and says why in `error`.
        """
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params, doseq=True)
        sent: dict[str, str | None] = {"Accept": "application/json"}
        chosen = self.key if key is None else key
        if chosen is not NO_KEY and chosen is not None:
            sent["Authorization"] = f"Bearer {chosen}"
        body: bytes | None = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
        sent.update(headers or {})  # a None value leaves the header out
        kept = {k: v for k, v in sent.items() if v is not None}
        for _ in range(RETRIES_ON_429 + 1):
            exchange = self._send(method, url, kept, body, operation_id)
            if exchange.status != 429 or not wait_out_429 or outlasts_a_window(exchange):
                return exchange
            self.throttle.wait_out(exchange.header("Retry-After"))
        return exchange

    def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, op: str | None
    ) -> Exchange:
        self.throttle.wait()
        exchange = Exchange(method.upper(), url, headers, body, operation_id=op)
        try:
            response = self.session.request(
                method, url, headers=headers, data=body, timeout=self.timeout,
                allow_redirects=False,
            )  # fmt: skip
        except requests.Timeout:
            exchange.error = f"no answer in {self.timeout:g} s"
            return exchange
        except requests.RequestException as exc:
            exchange.error = f"no answer: {_reason(exc)}"
            return exchange
        exchange.status = response.status_code
        exchange.headers = dict(response.headers)
        exchange.body = response.content
        self.throttle.observe(exchange.headers)
        self.recorder.add(exchange)
        return exchange


def outlasts_a_window(exchange: Exchange) -> bool:
    """True for a 429 whose Retry-After is longer than any rate-limit window (a quota spent
    for the day or month): waiting it out would stall the run, so it is not waited."""
    try:
        return float(exchange.header("Retry-After") or 0) > MAX_WAIT
    except ValueError:
        return False


def _reason(exc: requests.RequestException) -> str:
    """The innermost cause of a failed request, in one line ("Connection reset by peer")."""
    cause: BaseException = exc
    while cause.__context__ is not None and not isinstance(cause, OSError):
        cause = cause.__context__
    text = str(cause) or type(cause).__name__
    return " ".join(text.split())[:200]
