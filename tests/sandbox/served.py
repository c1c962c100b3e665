"""`sandbox serve` in a child process, on a free loopback port: the real server under test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(
    db_url: str, *args: str, port: int | None = None, **env: str
) -> Iterator[tuple[int, list[str]]]:
    """`sandbox serve --db db_url` on `port` (default: a free one), once it answers: (port,
    its output's lines: the banner's, then the console's as they come)."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.cli", "serve", "--port", str(port), "--db", db_url, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env},
    )
    try:
        lines = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = process.stdout.readline()  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith("Try:") or not line:
                break
        # The console prints a line per request: read on, so its pipe never fills.
        reader = threading.Thread(target=lines.extend, args=(process.stdout,), daemon=True)
        reader.start()
        for _ in range(100):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=2
                ) as response:
                    assert response.status == 200
                break
            except OSError:
                time.sleep(0.1)
        yield port, lines
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stdout.close()  # type: ignore[union-attr]


def banner_key(lines: list[str], plan: str | None = None) -> str:
    """The first full-access key the banner lists (of `plan`, when given)."""
    return next(
        word
        for line in lines
        if "Full access" in line and (plan is None or f" {plan} " in line)
        for word in line.split()
        if word.startswith("sk_test_")
    )


def eventually(probe: Callable[[], T | None], timeout: float = 15.0) -> T:
    """The first truthy result of `probe`, polled until `timeout` (AssertionError then)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing after {timeout} s")
        time.sleep(0.05)
