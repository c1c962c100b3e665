"""The listener against a scripted sandbox: what it does when polling fails (5xx, 429,
its cursor event gone after a reset) and when a burst of events spans several pages.

The scripted sandbox answers `listWebhookEvents` as the spec states it, over real HTTP,
and answers the next requests with the faults a test queues. The listener is driven one
poll at a time (`step`), its pauses recorded rather than slept.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from sandbox.devtools.client import Client
from sandbox.devtools.listen import Forwarder, Listener, listen_secret
from sandbox.spec import load_spec
from tests.sandbox.receivers import Receiver

SPEC = load_spec()
PATH = SPEC.base_path + SPEC.operations["listWebhookEvents"].path
KEY = "sk_test_scripted"


class ScriptedSandbox:
    """listWebhookEvents over HTTP on 127.0.0.1, with faults queued for the next requests."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.made = 0  # events ever recorded: ids stay unique across a reset
        self.faults: list[tuple[int, dict[str, str]]] = []
        self.asked: list[tuple[float, dict[str, str]]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{SPEC.base_path}"

    def record(self, count: int, event_type: str = "contact.created") -> list[str]:
        """`count` new events; their ids."""
        made = [
            {
                "id": f"wev_{self.made + n:06d}",
                "type": event_type,
                "created_at": "2026-01-01T00:00:00Z",
                "company_id": "cmp_1",
                "business_id": "biz_1",
                "data": {"id": f"con_{self.made + n}"},
            }
            for n in range(count)
        ]
        self.events.extend(made)
        self.made += count
        return [e["id"] for e in made]

    def page(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        limit, offset = int(query.get("limit", 50)), int(query.get("offset", 0))
        events = [e for e in self.events if e["type"] == query.get("type", e["type"])]
        if "after" in query:
            ids = [e["id"] for e in self.events]
            if query["after"] not in ids:
                return 404, {"code": "not_found", "message": "No event", "request_id": "req_1"}
            start = ids.index(query["after"])
            events = [e for e in events if ids.index(e["id"]) > start]
        else:
            events = events[::-1]
        items = events[offset : offset + limit]
        body = {"items": items, "total": len(events), "limit": limit, "offset": offset}
        return 200, {**body, "has_more": offset + len(items) < len(events)}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                url = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                sandbox.asked.append((time.monotonic(), query))
                headers: dict[str, str] = {}
                if sandbox.faults:
                    status, headers = sandbox.faults.pop(0)
                    body: dict[str, Any] = {
                        "code": "scripted",
                        "message": f"scripted {status}",
                        "request_id": "req_1",
                    }
                elif url.path != PATH or self.headers["Authorization"] != f"Bearer {KEY}":
                    status, body = 404, {"code": "not_found", "message": url.path}
                else:
                    status, body = sandbox.page(query)
                raw = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {**headers, "Content-Type": "application/json"}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def scripted() -> Iterator[ScriptedSandbox]:
    sandbox = ScriptedSandbox()
    sandbox.thread.start()
    yield sandbox
    sandbox.server.shutdown()
    sandbox.server.server_close()
    sandbox.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiving:
        receiving.secret = listen_secret(KEY)
        yield receiving


class Driven:
    """A listener of the scripted sandbox, its output and its pauses."""

    def __init__(self, sandbox: ScriptedSandbox, receiver: Receiver, types: tuple[str, ...] = ()):
        self.out, self.pauses = io.StringIO(), []
        forwarder = Forwarder(receiver.url, listen_secret(KEY), timeout=5)
        self.listener = Listener(
            Client(sandbox.base_url, KEY),
            SPEC,
            forwarder,
            types=types,
            out=self.out,
            sleep=self.pauses.append,
        )
        self.receiver = receiver

    def steps(self, count: int = 1) -> None:
        for _ in range(count):
            self.listener.step()

    @property
    def lines(self) -> list[str]:
        return self.out.getvalue().splitlines()

    def forwarded(self) -> list[str]:
        return [json.loads(r.body)["id"] for r in self.receiver.received]


def test_it_starts_after_the_newest_event(scripted: ScriptedSandbox, receiver: Receiver) -> None:
    scripted.record(3)
    driven = Driven(scripted, receiver)
    driven.listener.start()
    assert driven.lines == ["Ready: forwarding events after wev_000002. Ctrl-C stops."]
    new = scripted.record(2)
    driven.steps(2)
    assert driven.forwarded() == new
    assert all(r.signature_ok and r.signature_v2_ok for r in receiver.received)


def test_server_errors_are_one_line_then_it_resumes_losing_nothing(
    scripted: ScriptedSandbox, receiver: Receiver
) -> None:
    scripted.record(1)
    driven = Driven(scripted, receiver)
    driven.listener.start()
    scripted.faults = [(503, {}), (500, {}), (502, {})]
    new = scripted.record(4)
    driven.steps(4)
    assert (
        driven.lines[1:]
        == [
            "Sandbox unavailable (503 scripted: scripted 503); retrying until it is back…",
            "Sandbox back: resuming after wev_000000.",
        ]
        + driven.lines[3:]
    )
    assert driven.pauses == [0.5, 1.0, 2.0]  # backing off
    assert driven.forwarded() == new


def test_a_429_waits_its_retry_after(scripted: ScriptedSandbox, receiver: Receiver) -> None:
    driven = Driven(scripted, receiver)
    scripted.record(1)
    driven.listener.start()
    scripted.faults = [(429, {"Retry-After": "1"})]
    new = scripted.record(1)
    driven.steps()
    (refused, _), (retried, _) = scripted.asked[-2:]
    assert retried - refused >= 1.0
    assert driven.forwarded() == new
    assert not any("unavailable" in line for line in driven.lines)


def test_after_a_reset_it_follows_from_the_newest_event(
    scripted: ScriptedSandbox, receiver: Receiver
) -> None:
    scripted.record(2)
    driven = Driven(scripted, receiver)
    driven.listener.start()
    scripted.events.clear()  # the reset deleted every event, the cursor's with them
    before = scripted.record(2)
    driven.steps()
    assert driven.lines[-1] == (
        "Event wev_000001 is gone (the sandbox was reset?): following from the newest event."
    )
    driven.steps()
    after = scripted.record(3)
    driven.steps(2)
    assert driven.forwarded() == after
    assert not set(before) & set(driven.forwarded())


def test_a_burst_over_several_pages_is_forwarded_once_in_order(
    scripted: ScriptedSandbox, receiver: Receiver
) -> None:
    driven = Driven(scripted, receiver)
    scripted.record(1)
    driven.listener.start()
    burst = scripted.record(450)
    driven.steps(3)
    assert driven.forwarded() == burst
    assert [q.get("offset") for _, q in scripted.asked[-3:]] == ["0", "200", "400"]


@pytest.mark.parametrize("types", [("sms.logged",), ("sms.logged", "order.created")])
def test_only_the_chosen_types_are_forwarded(
    scripted: ScriptedSandbox, receiver: Receiver, types: tuple[str, ...]
) -> None:
    driven = Driven(scripted, receiver, types)
    driven.listener.start()
    scripted.record(2)
    wanted = [*scripted.record(1, "sms.logged"), *scripted.record(1, "order.created")]
    scripted.record(1)
    driven.steps(2)
    assert driven.forwarded() == wanted[: len(types)]
