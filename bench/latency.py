"""Webhook delivery latency: from a create's response to its receiver getting the POST.

Eight clients create contacts on a business whose one webhook subscribes to
`contact.created` at a local receiver; each delivery is matched to its create by the
contact's id. The receiver runs in a process of its own, as a client's server would. The
delivery process polls the outbox, so latency is its poll interval plus the POST,
whatever load the creates put on the serving workers.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

CLIENTS = 8
WAIT_SECONDS = 10  # after the creates, for the last deliveries (later ones are not counted)
TARGETS_MS = {"median": 100.0, "p95": 500.0}


@dataclass(frozen=True)
class Latency:
    """Delivery latencies (ms) of the creates whose event arrived."""

    creates: int
    delivered: int
    median_ms: float
    p95_ms: float


def _receive(port: Pipe, arrivals: Pipe) -> None:
    """Serve the receiver; answer "count" on `arrivals` with how many arrived, and
    anything else with what arrived, then stop.

    An asyncio HTTP/1.1 server (keep-alive, one thread), so that its own speed is a
    small part of what is measured: a thread per connection, as http.server runs, was
    the slowest step at a thousand POSTs a second.
    """
    arrived: dict[str, float] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                fields = dict(
                    line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line
                )
                length = int(fields.get(b"Content-Length", fields.get(b"content-length", b"0")))
                body = json.loads(await reader.readexactly(length))
                arrived.setdefault(body["data"]["id"], time.perf_counter())
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed the connection
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port.send(server.sockets[0].getsockname()[1])
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, arrivals.recv) == "count":
            arrivals.send(len(arrived))
        server.close()
        arrivals.send(arrived)

    asyncio.run(serve())


@contextmanager
def _receiver() -> Iterator[tuple[int, Callable[[int], dict[str, float]]]]:
    """A receiver in a process of its own (so the creating clients do not slow it): its
    port, and a call that waits (at most WAIT_SECONDS) for `expected` arrivals, stops it
    and returns the arrival time (perf_counter, one clock for every process) of each
    contact id."""
    port_ends, arrival_ends = multiprocessing.Pipe(), multiprocessing.Pipe()
    process = multiprocessing.Process(target=_receive, args=(port_ends[1], arrival_ends[1]))
    process.start()
    try:
        port = port_ends[0].recv()

        def arrivals(expected: int) -> dict[str, float]:
            deadline = time.perf_counter() + WAIT_SECONDS
            while time.perf_counter() < deadline:
                arrival_ends[0].send("count")
                if arrival_ends[0].recv() >= expected:
                    break
                time.sleep(0.05)
            arrival_ends[0].send("stop")
            return arrival_ends[0].recv()

        yield port, arrivals
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()


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
    with _receiver() as (receiver_port, arrivals):
        return _measure(port, key, business, seconds, receiver_port, arrivals)


def _measure(
    port: int,
    key: str,
    business: str,
    seconds: int,
    receiver_port: int,
    arrivals: Callable[[int], dict[str, float]],
) -> Latency:
    answered: dict[str, float] = {}
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "X-Business-Id": business,
    }
    setup = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    hook = {
        "url": f"http://127.0.0.1:{receiver_port}/hooks",
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
    arrived = arrivals(len(answered))
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
