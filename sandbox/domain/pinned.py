"""HTTP to a checked webhook target: only to the addresses that were checked, in time.

The URL's host was resolved once and its addresses checked (sandbox/domain/targets.py);
a POST goes to one of those addresses, naming the server after the URL's host (the
`Host` header, and for HTTPS the SNI name and the name the certificate must match), so
DNS cannot answer differently between the check and the connection.

A POST has a total deadline: connecting, sending and reading the answer's status and
headers. A socket timeout bounds each read only, so a receiver answering a byte at a
time could hold an attempt open for ever; when the deadline passes, the connection in
use is shut down and the POST fails with `DeadlinePassed`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError
from urllib3.util import parse_url

from sandbox.domain.targets import IPAddress, Target

# The connections the current thread's POST uses, so that its deadline can shut them.
_in_use = threading.local()
DEADLINE_PASSED = "No complete answer within {seconds:g} s"


class DeadlinePassed(requests.ConnectionError):
    """The receiver's answer was not complete within the attempt's deadline."""


class _Tracked:
    """Registers a connection with the POST in progress on this thread as it sends."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        connections = getattr(_in_use, "connections", None)
        if connections is not None:
            connections.append(self)
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _TrackedHTTPConnection(_Tracked, HTTPConnection):
    pass


class _TrackedHTTPSConnection(_Tracked, HTTPSConnection):
    pass


class _TrackedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


@contextmanager
def deadline(seconds: float) -> Iterator[threading.Event]:
    """Shut the connections this thread sends on if the block outlasts `seconds`; the
    event yielded is set when that happened."""
    connections: list[Any] = []
    passed = threading.Event()

    def cut() -> None:
        passed.set()
        for connection in list(connections):
            sock = getattr(connection, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed

    timer = threading.Timer(seconds, cut)
    timer.daemon = True
    _in_use.connections = connections
    timer.start()
    try:
        yield passed
    finally:
        timer.cancel()
        _in_use.connections = None


def never_connected(error: requests.ConnectionError) -> bool:
    """Whether the connection failed before anything was sent (refused, unreachable, timed out)."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError)


class PinnedAddressAdapter(HTTPAdapter):
    """Connects to the address the URL holds, naming the server after the `Host` header.

    The worker puts a checked address in the URL and the subscribed host in `Host`; for
    HTTPS that host is also the SNI name and the name the certificate must match.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _TrackedHTTPPool,
            "https": _TrackedHTTPSPool,
        }

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        host = request.headers.get("Host")
        if host_params["scheme"] == "https" and host:
            pool_kwargs["server_hostname"] = (parse_url(f"//{host}").host or "").strip("[]")
        return host_params, pool_kwargs


def session() -> requests.Session:
    """A session that connects where the URL points and names the server after `Host`."""
    http = requests.Session()
    http.trust_env = False  # deliveries go straight to the subscribed URL
    adapter = PinnedAddressAdapter()
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http


def post(
    http: requests.Session,
    target: Target,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> requests.Response:
    """POST to the target's checked addresses in turn until one takes the connection,
    all within `timeout` seconds; DeadlinePassed when the answer's head is not in by then.
    """

    def post_to(address: IPAddress) -> requests.Response:
        return http.post(
            target.url_at(address),
            data=body,
            headers={**headers, "Host": target.host_header},
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )

    with deadline(timeout) as passed:
        try:
            for address in target.addresses[:-1]:
                try:
                    return post_to(address)
                except requests.ConnectionError as failure:
                    if not never_connected(failure):
                        raise  # something was sent: trying elsewhere could deliver it twice
            return post_to(target.addresses[-1])
        except requests.RequestException as failure:
            if passed.is_set():
                raise DeadlinePassed(DEADLINE_PASSED.format(seconds=timeout)) from failure
            raise
