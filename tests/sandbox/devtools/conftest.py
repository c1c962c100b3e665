"""A real `sandbox serve` for the devtools to drive, and the CLI run as users run it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
import requests

from tests.sandbox.served import banner_key, eventually, serving


@dataclass(frozen=True)
class Served:
    """A served sandbox: its port, its database and the banner's full-access key."""

    port: int
    db_url: str
    key: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a 2xx answer (asserted) to a request with the key."""
        headers = {"Authorization": f"Bearer {self.key}"}
        response = requests.request(
            method, self.base_url + path, headers=headers, timeout=10, **kwargs
        )
        assert response.ok, response.text
        return response.json()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Served]:
    """One strict `sandbox serve` on a copy of the seeded SQLite file, for a whole module."""
    path = tmp_path_factory.mktemp("devtools") / "sandbox.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    with serving(url, "--strict") as (port, lines):
        yield Served(port, url, banner_key(lines))


def events_after(base_url: str, key: str, anchor: str | None) -> list[dict[str, Any]]:
    """Every event recorded after `anchor` (listWebhookEvents, every page), oldest first;
    without an anchor, the newest one alone."""
    events: list[dict[str, Any]] = []
    while True:
        params = {"limit": 200, "offset": len(events)} if anchor else {"limit": 1}
        response = requests.get(
            f"{base_url}/sandbox/webhook-events",
            params={**params, **({"after": anchor} if anchor else {})},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert response.ok, response.text
        page = response.json()
        events.extend(page["items"])
        if not anchor or not page["has_more"]:
            return events


def sandbox_command(*args: str) -> list[str]:
    """The `sandbox` command line, run with this interpreter and the code under test."""
    return [sys.executable, "-m", "sandbox.cli", *args]


def run_sandbox(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sandbox_command(*args), capture_output=True, text=True, timeout=timeout, env=os.environ
    )


class Listening:
    """`sandbox listen` in a child process; its output lines gathered as they come."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            sandbox_command("listen", *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._readers = [
            threading.Thread(target=self._gather, args=(self.process.stdout, self.lines)),
            threading.Thread(target=self._gather, args=(self.process.stderr, self.errors)),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _gather(stream: IO[str], into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def line(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """The first output line matching `pattern`, waiting for it."""

        def find() -> re.Match[str] | None:
            if self.process.poll() is not None and not any(
                re.search(pattern, line) for line in self.lines
            ):
                raise AssertionError(f"listen exited: {self.lines} {self.errors}")
            return next((m for line in self.lines if (m := re.search(pattern, line))), None)

        return eventually(find, timeout)

    @property
    def secret(self) -> str:
        return self.line(r"Signing secret: (whsec_\w+)")[1]

    def ready(self) -> str:
        """The event id the listener follows from, once it is ready."""
        return self.line(r"^Ready: forwarding events after (\S+)\.")[1]

    def stop(self, signal_number: int = signal.SIGINT) -> int:
        """Its exit status after `signal_number`."""
        if self.process.poll() is None:
            self.process.send_signal(signal_number)
        status = self.process.wait(timeout=20)
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            stream.close()  # type: ignore[union-attr]
        return status

    def __enter__(self) -> Listening:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.stop()
