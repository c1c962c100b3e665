"""Webhook delivery latency: from a create's response to its receiver getting the POST.

Eight clients create contacts on a business whose one webhook subscribes to
`contact.created` at a local receiver; each delivery is matched to its create by the
contact's id. The delivery process polls the outbox, so latency is its poll interval
plus the POST, whatever load the creates put on the serving workers.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CLIENTS = 8
TARGETS_MS = {"median": 100.0, "p95": 500.0}


@dataclass(frozen=True)
class Latency:
    """Delivery latencies (ms) of the creates whose event arrived."""

    creates: int
    delivered: int
    median_ms: float
    p95_ms: float


def _receiver(arrived: dict[str, float]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            arrived.setdefault(body["data"]["id"], time.perf_counter())
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def _request(
    connection: http.client.HTTPConnection, method: str, path: str, headers: dict, body: Any
) -> dict:
    payload = None if body is None else json.dumps(body)
    connection.request(method, path, body=payload, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    data = json.loads(raw) if raw else {}
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {data}")
    return data


def measure(port: int, key: str, business: str, seconds: int) -> Latency:
    """Create contacts from CLIENTS connections for `seconds`; the delivery latencies."""
    arrived: dict[str, float] = {}
    answered: dict[str, float] = {}
    receiver = _receiver(arrived)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "X-Business-Id": business,
    }
    setup = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    hook = {
        "url": f"http://127.0.0.1:{receiver.server_address[1]}/hooks",
        "events": ["contact.created"],
    }
    webhook = _request(setup, "POST", "/api/v1/webhooks", headers, hook)
    stop = time.perf_counter() + seconds

    def create() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop:
            made = _request(
                connection, "POST", "/api/v1/crm/contacts", headers, {"first_name": "Latency"}
            )
            answered[made["id"]] = time.perf_counter()

    clients = [threading.Thread(target=create) for _ in range(CLIENTS)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    deadline = time.perf_counter() + 10
    while len(arrived) < len(answered) and time.perf_counter() < deadline:
        time.sleep(0.05)
    receiver.shutdown()
    setup = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # the first one idled
    _request(setup, "DELETE", f"/api/v1/webhooks/{webhook['id']}", headers, None)
    delays = sorted((arrived[i] - answered[i]) * 1000 for i in answered if i in arrived)
    if not delays:
        return Latency(len(answered), 0, float("nan"), float("nan"))
    p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
    return Latency(len(answered), len(delays), statistics.median(delays), p95)


def report(latency: Latency) -> None:
    print(
        f"delivery latency: {latency.delivered} of {latency.creates} creates delivered; "
        f"median {latency.median_ms:.1f} ms, p95 {latency.p95_ms:.1f} ms"
    )
    for name, value in (("median", latency.median_ms), ("p95", latency.p95_ms)):
        target = TARGETS_MS[name]
        verdict = "meets" if value < target else "MISSES"
        print(f"delivery latency {name}: {verdict} the {target:.0f} ms target")
