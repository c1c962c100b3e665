"""HTTP to a checked webhook target: only to the addresses that were checked, in time.

The URL's host was resolved once and its addresses checked (sandbox/domain/targets.py);
a POST goes to one of those addresses, naming the server after the URL's host (the
`Host` header, and for HTTPS the SNI name and the name the certificate must match), so
DNS cannot answer differently between the check and the connection.

POSTs are coroutines: one event loop carries every attempt in flight, with no thread
each. h11 writes the request and parses the answer; asyncio's streams carry the bytes.

A POST has a total deadline: connecting, sending and reading the answer's status and
headers. A receiver answering a byte at a time cannot hold an attempt open past it:
when it passes, the connection is dropped and the POST fails with `DeadlinePassed`.

The answer's body is read once, for its first bytes (a receiver's error message), still
within the deadline. Each POST opens its own connection and closes it then: deliveries
are rare per receiver, and a connection left open is one a receiver must track.
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
import socket
import ssl
from collections.abc import Callable, Mapping

import h11

from sandbox.domain.targets import Target
from sandbox.storage.base import storable

DEADLINE_PASSED = "No complete answer within {seconds:g} s"
EXCERPT_BYTES = 512  # of the answer's body kept with the attempt (the spec's maxLength)
READ_BYTES = 16 * 1024  # asked of the socket per read while the answer's head comes in
NO_ANSWER = "Remote end closed connection without response"


class DeadlinePassed(OSError):
    """The receiver's answer was not complete within the attempt's deadline."""


class NeverConnected(OSError):
    """No address of the target took the connection; nothing was sent."""


def tls_context(verify: bool | str = True) -> ssl.SSLContext:
    """How receivers' certificates are checked: against the system's CAs (True), a CA
    bundle's path, or not at all (False)."""
    context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def open_stream(
    address: str, port: int, tls: ssl.SSLContext | None, server_name: str | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to `address`, TLS named `server_name` when `tls` is given.

    Looked up at each connection: tests can watch every one. The socket connects first,
    on its own: a refused connection (a receiver that is down) then costs no stream.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await connected(sock, (address, port))
        return await asyncio.open_connection(sock=sock, ssl=tls, server_hostname=server_name)
    except BaseException:
        sock.close()
        raise


async def connected(sock: socket.socket, address: tuple[str, int]) -> None:
    """Connect the non-blocking `sock` to `address`; OSError with the reason if refused.

    A connection on this machine is taken or refused within the connect call itself, so
    its outcome is read at once; only one still under way waits on the loop until the
    socket turns writable.
    """
    code = sock.connect_ex(address)
    if code in (errno.EINPROGRESS, errno.EAGAIN, errno.EINTR):
        if not _writable_now(sock):
            await _writable(sock)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        raise OSError(code, f"Connect call failed {address}: {os.strerror(code)}")


def _writable_now(sock: socket.socket) -> bool:
    poll = select.poll()
    poll.register(sock, select.POLLOUT)
    return bool(poll.poll(0))


async def _writable(sock: socket.socket) -> None:
    """Wait on the running loop until `sock` is writable (a connect finished)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    fd = sock.fileno()

    def ready() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_writer(fd, ready)
    try:
        await done
    finally:
        loop.remove_writer(fd)


async def _connect(
    target: Target, tls: ssl.SSLContext
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the first of the target's addresses that takes one."""
    https = target.url.scheme == "https"
    failures: list[OSError] = []
    for address in target.addresses:
        try:
            return await open_stream(
                address.compressed,
                target.port,
                tls if https else None,
                target.host if https else None,
            )
        except (TimeoutError, ssl.SSLError):  # out of time, or a server answered, not the URL's
            raise
        except OSError as failure:  # nothing sent: the next address
            failures.append(failure)
    last = failures[-1]
    # asyncio says "Connect call failed (address)"; the reason is in its errno.
    reason = os.strerror(last.errno) if last.errno else str(last)
    raise NeverConnected(last.errno or errno.ECONNREFUSED, reason) from last


def _request(
    target: Target, body: bytes, headers: Mapping[str, str]
) -> tuple[h11.Connection, bytes]:
    """The client's side of one exchange, and the request's bytes."""
    connection = h11.Connection(h11.CLIENT)
    fields = [
        ("Host", target.host_header),
        ("Accept-Encoding", "identity"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
        *headers.items(),
    ]
    path = target.url.request_uri or "/"
    data = connection.send(h11.Request(method="POST", target=path, headers=fields))
    data += connection.send(h11.Data(data=body)) + connection.send(h11.EndOfMessage())
    return connection, data


async def _head(connection: h11.Connection, reader: asyncio.StreamReader) -> int:
    """The answer's status code, once its head is in (interim 1xx answers skipped)."""
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            connection.receive_data(await reader.read(READ_BYTES))
        elif isinstance(event, h11.Response):
            return event.status_code
        elif isinstance(event, h11.ConnectionClosed):
            raise ConnectionResetError(NO_ANSWER)


async def _first_bytes(connection: h11.Connection, reader: asyncio.StreamReader) -> str:
    """What one read of the answer's body gives (at most EXCERPT_BYTES), as text."""
    event = connection.next_event()
    if event is h11.NEED_DATA:
        connection.receive_data(await reader.read(EXCERPT_BYTES))
        event = connection.next_event()
    data = bytes(event.data) if isinstance(event, h11.Data) else b""
    return storable(data[:EXCERPT_BYTES].decode("utf-8", errors="replace"))[:EXCERPT_BYTES]


async def post(
    target: Target,
    body: bytes,
    headers: Callable[[], Mapping[str, str]],
    timeout: float,
    tls: ssl.SSLContext,
) -> tuple[int, str | None]:
    """POST to the target's checked addresses in turn until one takes the connection,
    all within `timeout` seconds, with the headers `headers()` makes once connected (a
    signature stamped when it is sent, and none made for a receiver that is down); the
    answer's status code and its body's first bytes (what one read gives, up to
    EXCERPT_BYTES; None if the body did not come in time).

    Raises DeadlinePassed when the answer's head is not in by then, NeverConnected when
    no address took the connection, and OSError or h11.ProtocolError for any other
    failure (the request may then have reached the receiver).
    """
    deadline = asyncio.get_running_loop().time() + timeout
    writer: asyncio.StreamWriter | None = None
    try:
        try:
            async with asyncio.timeout_at(deadline):
                reader, writer = await _connect(target, tls)
                connection, request = _request(target, body, headers())
                writer.write(request)
                await writer.drain()
                status = await _head(connection, reader)
        except TimeoutError as failure:
            raise DeadlinePassed(DEADLINE_PASSED.format(seconds=timeout)) from failure
        try:
            async with asyncio.timeout_at(deadline):
                return status, await _first_bytes(connection, reader)
        except (OSError, h11.ProtocolError):  # TimeoutError included: the status stands
            return status, None
    finally:
        if writer is not None:
            writer.transport.abort()  # nothing more is read: no goodbye awaited
