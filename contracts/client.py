"""HTTP to the server under test: one `Client` per key, every exchange recorded.

The kit talks to servers over HTTP only. A `Client` keeps its key under the rate limit
(`Throttle`), waits out a 429 met by accident, and appends every exchange to a shared
`Recorder` so that the passive rules (envelope, rate-limit headers) see all traffic.
"""

from __future__ import annotations

import json as jsonlib
import threading
from typing import Any
from urllib.parse import urlencode

import requests

from contracts.exchange import Exchange
from contracts.throttle import Throttle

TIMEOUT = 30.0
RETRIES_ON_429 = 3
NO_KEY = object()  # `key=NO_KEY`: send no Authorization header at all


class Unreachable(Exception):
    """The server did not answer at all (connection refused, timeout, DNS)."""


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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.recorder = recorder if recorder is not None else Recorder()
        self.throttle = throttle or Throttle()
        self.session = requests.Session()

    def fork(self) -> Client:
        """A client with the same key, recorder and throttle but its own connection."""
        return Client(self.base_url, self.key, self.recorder, self.throttle)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        key: Any = None,
        operation_id: str | None = None,
        wait_out_429: bool = True,
    ) -> Exchange:
        """Send one request and return its exchange.

        `key=None` uses the client's key, `key=NO_KEY` sends none, a string sends that one.
        A 429 is waited out (`Retry-After`) and retried unless `wait_out_429` is False.
        Raises Unreachable when the server does not answer.
        """
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params, doseq=True)
        sent = {"Accept": "application/json"}
        chosen = self.key if key is None else key
        if chosen is not NO_KEY and chosen is not None:
            sent["Authorization"] = f"Bearer {chosen}"
        body: bytes | None = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v is not None}
        for _ in range(RETRIES_ON_429 + 1):
            exchange = self._send(method, url, sent, body, operation_id)
            if exchange.status != 429 or not wait_out_429:
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
                method, url, headers=headers, data=body, timeout=TIMEOUT, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise Unreachable(f"{method.upper()} {url}: {exc}") from exc
        exchange.status = response.status_code
        exchange.headers = dict(response.headers)
        exchange.body = response.content
        self.throttle.observe(exchange.headers)
        self.recorder.add(exchange)
        return exchange
