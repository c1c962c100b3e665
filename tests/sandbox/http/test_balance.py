"""Kept-alive connections spread evenly over a served sandbox's workers, and the rule
each worker follows to take its turn (sandbox/http/balance.py)."""

from __future__ import annotations

import os
import select
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.load import run as load_run
from sandbox.http.balance import STALE_SECONDS, Shares
from tests.sandbox.served import banner_key, eventually, serving

TRIALS = 6
WAIT = 10  # seconds for what the server does at once
HEALTH = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
CONTACT = '{"first_name": "Turn"}'


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def shares_on(clock: Clock, slots: int) -> Shares:
    shares = Shares(slots)
    shares.clock = clock  # type: ignore[method-assign]  # a test clock, read on each call
    return shares


def test_only_a_worker_holding_the_fewest_connections_takes_its_turn() -> None:
    shares = shares_on(Clock(), 3)
    assert [shares.assign([]), shares.assign([0]), shares.assign([0, 1])] == [0, 1, 2]
    assert shares.assign([0, 1, 2]) is None  # a worker past the slots always accepts
    shares.publish(0, 3)
    shares.publish(1, 2)
    shares.publish(2, 2)
    assert not shares.turn(0, 3)
    assert shares.turn(1, 2) and shares.turn(2, 2)  # ties take turns together
    shares.release(1)
    shares.release(2)  # free slots count for nothing
    assert shares.turn(0, 3)


def test_a_worker_that_stopped_polling_holds_no_one_back() -> None:
    clock = Clock()
    shares = shares_on(clock, 2)
    shares.publish(0, 0)
    shares.publish(1, 1)
    clock.now += STALE_SECONDS - 0.1
    assert not shares.turn(1, 1)
    clock.now += 0.2
    assert shares.turn(1, 1)
    shares.publish(0, 0)  # it polls again: its count holds again
    assert not shares.turn(1, 1)


def test_a_worker_that_stops_accepting_wakes_the_live_others() -> None:
    shares = shares_on(Clock(), 3)
    shares.publish(0, 1)
    shares.publish(1, 0)  # slot 2 stays free
    shares.wake_others(0)
    readable, _, _ = select.select([shares.waker(s) for s in range(3)], [], [], 0)
    assert readable == [shares.waker(1)]
    shares.woken(1)
    assert select.select([shares.waker(1)], [], [], 0)[0] == []
    shares.close()


def workers_of(port: int, expected: int = 2) -> list[int]:
    """The pids of the `expected` serving workers of the sandbox on `port` (its master's
    children that serve, not the delivery process), once the master forked them all."""

    def forked() -> list[int] | None:
        found = _serving_children(port)
        return found if len(found) == expected else None

    return eventually(forked, WAIT)


def _serving_children(port: int) -> list[int]:
    serving_pids = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if b"serve" in command and str(port).encode() in command:
                serving_pids[int(entry.name)] = int(stat[1])
    return sorted(pid for pid, parent in serving_pids.items() if parent in serving_pids)


ESTABLISHED, CLOSE_WAIT = "01", "08"  # /proc/net/tcp's states
HELD = (ESTABLISHED, CLOSE_WAIT)  # a worker's until it closes its side


def connections_of(
    pids: list[int], port: int, states: tuple[str, ...] = (ESTABLISHED,)
) -> list[int]:
    """How many connections to `port` in `states` each of `pids` holds (by default the
    established ones; CLOSE_WAIT: closed by the client, not yet by the worker)."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] in states:
            established.add(fields[9])
    counts = []
    for pid in pids:
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        counts.append(len(inodes & established))
    return counts


@contextmanager
def kept_alive(port: int) -> Iterator[socket.socket]:
    """A connection answered once (/healthz) and kept alive."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
        connection.sendall(HEALTH)
        answered(connection)
        yield connection


def answered(connection: socket.socket) -> bytes:
    """One whole answer (200, a JSON body) on `connection`."""
    reply = b""
    while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
        chunk = connection.recv(65536)
        assert chunk, f"closed after {reply!r}"
        reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
    return reply


@pytest.mark.slow
def test_a_load_tests_connections_split_evenly_over_the_workers(tmp_path: Path) -> None:
    """wrk's eight connections, creating contacts: left to the workers' race for each
    accept, they split 5/3, 6/2 or 7/1 in nearly every run."""
    db = f"sqlite:///{tmp_path}/s.db"
    with serving(db, "--workers", "2", "--quiet", "--rate-limit-scale", "0") as (port, lines):
        workers = workers_of(port)
        key, splits = banner_key(lines), []
        for _ in range(TRIALS):
            load = threading.Thread(
                target=load_run,
                args=(f"http://127.0.0.1:{port}", "/api/v1/crm/contacts", key),
                kwargs={"method": "POST", "body": CONTACT, "seconds": 2, "connections": 8},
            )
            load.start()
            try:
                eventually(lambda: sum(connections_of(workers, port)) == 8, WAIT)
                splits.append(sorted(connections_of(workers, port)))
            finally:
                load.join()
            # Settled once each worker closed its side too: until it noticed, a connection
            # still counts among those it holds.
            eventually(lambda: sum(connections_of(workers, port, HELD)) == 0, WAIT)
        assert splits == [[4, 4]] * TRIALS


@pytest.mark.slow
def test_a_wedged_worker_does_not_hold_back_new_connections(tmp_path: Path) -> None:
    """A worker stopped with the fewest connections holds the others back only until its
    beat goes stale (connections kept busy meanwhile, past gunicorn's keep-alive timeout,
    which would otherwise close them idle and end the wait)."""
    with serving(f"sqlite:///{tmp_path}/s.db", "--workers", "2", "--quiet") as (port, _):
        stopped, running = workers_of(port)
        os.kill(stopped, signal.SIGSTOP)
        try:
            with kept_alive(port) as busy:
                ticking = threading.Event()

                def keep_busy() -> None:
                    while not ticking.wait(0.3):
                        busy.sendall(HEALTH)
                        answered(busy)

                ticker = threading.Thread(target=keep_busy)
                ticker.start()
                try:
                    started = time.monotonic()
                    with kept_alive(port):
                        waited = time.monotonic() - started
                        assert connections_of([stopped, running], port) == [0, 2]
                finally:
                    ticking.set()
                    ticker.join()
        finally:
            os.kill(stopped, signal.SIGCONT)
        assert waited < STALE_SECONDS + 2
