"""`sandbox listen`: forward every event of a key's company to a local URL, as a delivery.

Events come from polling `listWebhookEvents` (unmetered, so a poll every half second costs
nothing against the rate limit); `Cursor` decides what to ask `after` and what is new.
Each new event is POSTed once to the forward URL with the body and headers a real
delivery has, signed with a secret derived from the key (`listen_secret`). A forward that
fails is reported on its line and not retried: the next event goes on.

While the sandbox is unreachable or answers 5xx, the listener says so once, backs off
and keeps asking from where it was, so nothing recorded meanwhile is lost; a 429 waits
its `Retry-After`; a cursor event that disappeared (a reset) restarts from the newest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

import requests

from sandbox.devtools.client import ApiFailure, Client, Unreachable, one_line
from sandbox.devtools.cursor import Cursor
from sandbox.domain.signing import ALPHABET, SECRET_LENGTH, SECRET_PREFIX, delivery_headers
from sandbox.ids import new_id
from sandbox.spec import Spec

OPERATION = "listWebhookEvents"
WEBHOOK_ID = "whk_listen"  # what `X-Webhook-Id` says: no webhook of the sandbox sends these
PAGE = 200  # the spec's largest `limit`
POLL_SECONDS = 0.5
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0, 5.0)  # between polls while the sandbox is away
# Salt of the signing secret: a listener's secret is HMAC-SHA256(key, this).
SECRET_CONTEXT = b"sandbox listen signing secret v1"


class ListenFailed(Exception):
    """The sandbox refused to list events for a reason waiting will not fix (a refused key,
    a missing scope); the message is its envelope's."""


def listen_secret(key: str) -> str:
    """The signing secret of a listener for `key`: `whsec_` and 32 letters or digits from
    HMAC-SHA256(key, SECRET_CONTEXT), so the same key always gives the same secret."""
    digest = hmac.new(key.encode(), SECRET_CONTEXT, hashlib.sha256).digest()
    return SECRET_PREFIX + "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:SECRET_LENGTH])


def event_bytes(event: dict[str, Any]) -> bytes:
    """The body a delivery of `event` POSTs: compact JSON in the event's own key order, as
    `sandbox.domain.webhooks.event_body` writes it."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Forward:
    """One event POSTed to the forward URL: its status, or the error instead of one."""

    event: dict[str, Any]
    status: int | None
    error: str | None
    seconds: float

    def line(self, at: datetime) -> str:
        """`12:00:01  payment.failed  wev_…  → 200 in 12 ms` (or `→ failed: why`)."""
        took = f"{self.seconds * 1000:.0f} ms"
        outcome = f"{self.status} in {took}" if self.error is None else f"failed: {self.error}"
        return f"{at:%H:%M:%S}  {self.event['type']:<20} {self.event['id']}  → {outcome}"


class Forwarder:
    """POSTs events to one URL as deliveries, one attempt each."""

    def __init__(self, url: str, secret: str, timeout: float) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout
        self.session = requests.Session()

    def send(self, event: dict[str, Any]) -> Forward:
        body = event_bytes(event)
        headers = delivery_headers(
            self.secret,
            body,
            int(time.time()),
            webhook_id=WEBHOOK_ID,
            delivery_id=new_id("dlv"),
            event_type=str(event["type"]),
        )
        started = time.perf_counter()
        try:
            answer = self.session.post(
                self.url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.Timeout:
            return Forward(event, None, f"no answer in {self.timeout:g} s", self.timeout)
        except requests.RequestException as error:
            return Forward(event, None, one_line(error), time.perf_counter() - started)
        answer.close()
        return Forward(event, answer.status_code, None, time.perf_counter() - started)


class Listener:
    """Polls a sandbox's events and forwards the new ones, until interrupted."""

    def __init__(
        self,
        client: Client,
        spec: Spec,
        forwarder: Forwarder,
        *,
        types: Iterable[str] = (),
        out: TextIO,
        poll_seconds: float = POLL_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.forwarder, self.out = client, forwarder, out
        self.operation = spec.operations[OPERATION]
        self.types = frozenset(types)
        self.poll_seconds, self.sleep = poll_seconds, sleep
        self.cursor = Cursor(None)
        self._restart = True  # the cursor is to be (re)taken from the newest event
        self._outage: str | None = None
        self._failures = 0

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _filter(self) -> dict[str, Any]:
        # One type: the sandbox filters (the cursor then walks that type's events only).
        return {"type": next(iter(self.types))} if len(self.types) == 1 else {}

    def newest(self) -> str | None:
        """The id of the newest event (of the type followed), None if there is none yet."""
        page = self.client.call(self.operation, params={"limit": 1, **self._filter()}).body
        return page["items"][0]["id"] if page["items"] else None

    def poll(self) -> list[dict[str, Any]]:
        """Every event after the cursor's anchor, in the sandbox's order (oldest first).

        Without an anchor, the newest page, turned oldest first. Raises what the client does.
        """
        params: dict[str, Any] = {"limit": PAGE, **self._filter()}
        if self.cursor.anchor is None:
            page = self.client.call(self.operation, params=params).body
            return list(reversed(page["items"]))
        events: list[dict[str, Any]] = []
        while True:
            params.update(after=self.cursor.anchor, offset=len(events))
            page = self.client.call(self.operation, params=params).body
            events.extend(page["items"])
            if not page["has_more"] or not page["items"]:
                return events

    def start(self) -> None:
        """Take the newest event as the starting point (waiting for the sandbox if away)."""
        while self._restart:
            self.step()
        self.say(f"Ready: forwarding events after {self.cursor.anchor or 'now'}. Ctrl-C stops.")

    def step(self) -> list[Forward]:
        """One poll, and the forward of each new event the filter keeps.

        Before the first poll, and after the cursor's event disappeared, only takes the
        newest event as the cursor: what was recorded before it is not forwarded.
        """
        asked_at = time.monotonic()
        try:
            if self._restart:
                self.cursor.restart(self.newest())
                self._restart = False
                self._back()
                return []
            events = self.poll()
        except ApiFailure as failure:
            if failure.status == 404 and self.cursor.anchor is not None:
                self.say(
                    f"Event {self.cursor.anchor} is gone (the sandbox was reset?): "
                    "following from the newest event."
                )
                self._restart = True
                return []
            self._wait(failure)
            return []
        except Unreachable as error:
            self._wait(error)
            return []
        self._back()
        fresh = self.cursor.take(events, asked_at=asked_at, answered_at=time.monotonic())
        forwards = []
        for event in fresh:
            if self.types and event["type"] not in self.types:
                continue
            forward = self.forwarder.send(event)
            self.say(forward.line(datetime.now()))
            forwards.append(forward)
        return forwards

    def run(self) -> None:
        """Forward until interrupted (KeyboardInterrupt reaches the caller)."""
        self.start()
        while True:
            self.step()
            self.sleep(self.poll_seconds)

    def _wait(self, error: Unreachable | ApiFailure) -> None:
        """Sleep before the next try: `Retry-After` for a 429, a growing pause while the
        sandbox is away or failing. ListenFailed for a refusal that waiting cannot fix."""
        if isinstance(error, ApiFailure) and error.status == 429:
            self.sleep(error.retry_after or 1.0)
            return
        if isinstance(error, ApiFailure) and error.status < 500:
            raise ListenFailed(f"{error.status} {error.code}: {error.message}") from None
        if self._outage is None:
            self._outage = str(error)
            self.say(f"Sandbox unavailable ({error}); retrying until it is back…")
        pause = BACKOFF_SECONDS[min(self._failures, len(BACKOFF_SECONDS) - 1)]
        self._failures += 1
        self.sleep(pause)

    def _back(self) -> None:
        if self._outage is not None:
            where = self.cursor.anchor or "the newest event"
            self.say(f"Sandbox back: resuming after {where}.")
        self._outage, self._failures = None, 0
