"""Connecting an attempt's socket: an outcome known at once is read at once, one under
way waits on the loop."""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Iterator

import pytest

from sandbox.domain import pinned


class CountingLoop(asyncio.SelectorEventLoop):
    """An event loop that counts the sockets it was asked to watch for writing, and to
    stop watching."""

    watched = unwatched = 0

    def add_writer(self, fd, callback, *args):  # type: ignore[no-untyped-def]
        self.watched += 1
        return super().add_writer(fd, callback, *args)

    def remove_writer(self, fd):  # type: ignore[no-untyped-def]
        self.unwatched += 1
        return super().remove_writer(fd)


@pytest.fixture()
def loop() -> Iterator[CountingLoop]:
    loop = CountingLoop()
    yield loop
    loop.close()


@pytest.fixture()
def listening() -> Iterator[tuple[str, int]]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()


def _connect(loop: CountingLoop, address: tuple[str, int]) -> None:
    sock = socket.socket()
    sock.setblocking(False)
    try:
        loop.run_until_complete(pinned.connected(sock, address))
        assert sock.getpeername() == address
    finally:
        sock.close()


def test_a_refusal_is_read_at_once_without_waiting_on_the_loop(loop: CountingLoop) -> None:
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        with pytest.raises(OSError) as refused:
            _connect(loop, bound.getsockname())
    assert refused.value.errno == errno.ECONNREFUSED
    assert "Connection refused" in str(refused.value)
    assert loop.watched == 0


def test_a_connection_taken_at_once_needs_no_wait(
    loop: CountingLoop, listening: tuple[str, int]
) -> None:
    _connect(loop, listening)
    assert loop.watched == 0


def test_a_connection_still_under_way_waits_until_the_socket_is_writable(
    loop: CountingLoop, listening: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pinned, "_writable_now", lambda sock: False)
    _connect(loop, listening)
    assert (loop.watched, loop.unwatched) == (1, 1)
