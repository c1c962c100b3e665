"""HTTP to a checked webhook target: only to the addresses that were checked, in time.

The URL's host was resolved once and its addresses checked (sandbox/domain/targets.py);
a POST goes to one of those addresses, naming the server after the URL's host (the
`Host` header, and for HTTPS the SNI name and the name the certificate must match), so
DNS cannot answer differently between the check and the connection.

A POST has a total deadline: connecting, sending and reading the answer's status and
headers. A socket timeout bounds each read only, so a receiver answering a byte at a
time could hold an attempt open for ever; when the deadline passes, one watchdog thread
shared by every POST shuts the connection down and the POST fails with `DeadlinePassed`.

The answer's body is read once, for its first bytes (a receiver's error message), still
within the deadline. Each POST opens its own connection and closes it then: deliveries
are rare per receiver, and a connection left open is one a receiver must track.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

from sandbox.domain.targets import IPAddress, Target
from sandbox.storage.base import storable

DEADLINE_PASSED = "No complete answer within {seconds:g} s"
EXCERPT_BYTES = 512  # of the answer's body kept with the attempt (the spec's maxLength)


class DeadlinePassed(OSError):
    """The receiver's answer was not complete within the attempt's deadline."""


class NeverConnected(OSError):
    """No address of the target took the connection; nothing was sent."""


@dataclass(eq=False)
class _Watch:
    """One POST's deadline and the connection to shut when it passes."""

    connection: http.client.HTTPConnection | None = None
    finished: bool = False
    passed: bool = False

    def cut(self) -> None:
        self.passed = True
        sock = self.connection.sock if self.connection is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed


@dataclass
class _Watchdog:
    """Cuts the connections of the POSTs whose deadline passed (one thread for all)."""

    _heap: list[tuple[float, int, _Watch]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _thread: threading.Thread | None = None

    def watch(self, seconds: float) -> _Watch:
        watch = _Watch()
        with self._changed:
            entry = (time.monotonic() + seconds, next(self._order), watch)
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="webhook-deadlines", daemon=True
                )
                self._thread.start()
            if self._heap[0] is entry:
                self._changed.notify()
        return watch

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][0] <= now or self._heap[0][2].finished):
                    _, _, watch = heapq.heappop(self._heap)
                    if not watch.finished:
                        watch.cut()
                self._changed.wait(self._heap[0][0] - now if self._heap else None)


_watchdog = _Watchdog()


class _HTTPSConnection(http.client.HTTPSConnection):
    """A TLS connection to one checked address, naming the server `server_name`."""

    def __init__(
        self, address: str, port: int, *, server_name: str, context: ssl.SSLContext, timeout: float
    ) -> None:
        super().__init__(address, port, timeout=timeout, context=context)
        self.server_name, self.tls = server_name, context

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.server_name)


def tls_context(verify: bool | str = True) -> ssl.SSLContext:
    """How receivers' certificates are checked: against the system's CAs (True), a CA
    bundle's path, or not at all (False)."""
    context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _connection(
    target: Target, address: IPAddress, timeout: float, tls: ssl.SSLContext
) -> http.client.HTTPConnection:
    port = target.url.port or (443 if target.url.scheme == "https" else 80)
    if target.url.scheme == "https":
        return _HTTPSConnection(
            address.compressed, port, server_name=target.host, context=tls, timeout=timeout
        )
    # `socket.create_connection` is looked up at connect time: tests can watch every one.
    return http.client.HTTPConnection(address.compressed, port, timeout=timeout)


def _first_bytes(answer: http.client.HTTPResponse) -> str | None:
    """What one read of the answer's body gives (at most EXCERPT_BYTES), as text."""
    try:
        data = answer.read1(EXCERPT_BYTES)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        answer.close()
    return storable(data.decode("utf-8", errors="replace"))[:EXCERPT_BYTES]


def post(
    target: Target,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    tls: ssl.SSLContext,
) -> tuple[int, str | None]:
    """POST to the target's checked addresses in turn until one takes the connection,
    all within `timeout` seconds; the answer's status code and its body's first bytes
    (what one read gives, up to EXCERPT_BYTES; None if the body did not come in time).

    Raises DeadlinePassed when the answer's head is not in by then, NeverConnected when
    no address took the connection, and OSError or http.client.HTTPException for any
    other failure (the request may then have reached the receiver).
    """
    watch = _watchdog.watch(timeout)
    try:
        failures: list[OSError] = []
        for address in target.addresses:
            connection = watch.connection = _connection(target, address, timeout, tls)
            try:
                connection.connect()
            except OSError as failure:
                connection.close()
                if watch.passed or isinstance(failure, TimeoutError):
                    raise DeadlinePassed(DEADLINE_PASSED.format(seconds=timeout)) from failure
                if isinstance(failure, ssl.SSLError):  # a server answered, not the URL's
                    raise
                failures.append(failure)  # nothing sent: the next address
                continue
            try:
                path = target.url.request_uri or "/"
                connection.request("POST", path, body, {**headers, "Host": target.host_header})
                answer = connection.getresponse()
                return answer.status, _first_bytes(answer)
            except (OSError, http.client.HTTPException) as failure:
                if watch.passed or isinstance(failure, TimeoutError):
                    raise DeadlinePassed(DEADLINE_PASSED.format(seconds=timeout)) from failure
                raise
            finally:
                connection.close()
        raise NeverConnected(*failures[-1].args) from failures[-1]
    finally:
        watch.finished = True
