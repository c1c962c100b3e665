"""The sandbox against a bare Flask ceiling on the same gunicorn settings: a list and a create."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.load import Measure, run

WORKERS, THREADS = 2, 4
TARGETS = {"read": 0.40, "create": 0.25}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError as error:
            if getattr(error, "code", None):
                return
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def server(command: list[str], probe: str) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_up(probe)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def sandbox_key(db: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "keys", "--db", db, "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return next(
        k["key"]
        for k in json.loads(out)
        if k["plan"] == "enterprise" and k["label"] == "Full access"
    )


def measure_pair(seconds: int) -> dict[str, tuple[Measure, Measure]]:
    """(bare, sandbox) measures for the read and the create shape."""
    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "-k",
        "gthread",
        "-w",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--log-level",
        "warning",
    ]
    results: dict[str, tuple[Measure, Measure]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        key = sandbox_key(db)
        shapes = {
            "read": ("GET", "/api/v1/crm/contacts?limit=10", None),
            "create": (
                "POST",
                "/api/v1/crm/contacts",
                '{"first_name": "Bench", "email": "bench@example.com"}',
            ),
        }
        bare_port, sandbox_port = free_port(), free_port()
        bare = [*gunicorn, "-b", f"127.0.0.1:{bare_port}", "bench.bare:app"]
        sandbox = [
            sys.executable,
            "-m",
            "sandbox.cli",
            "serve",
            "--port",
            str(sandbox_port),
            "--db",
            db,
            "--rate-limit-scale",
            "0",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
        ]
        bare_measures, sandbox_measures = {}, {}
        with server(bare, f"http://127.0.0.1:{bare_port}/api/v1/x"):
            for name, (method, path, body) in shapes.items():
                run(f"http://127.0.0.1:{bare_port}", path, key, method=method, body=body, seconds=1)
                bare_measures[name] = run(
                    f"http://127.0.0.1:{bare_port}",
                    path,
                    key,
                    method=method,
                    body=body,
                    seconds=seconds,
                )
        with server(sandbox, f"http://127.0.0.1:{sandbox_port}/healthz"):
            for name, (method, path, body) in shapes.items():
                run(
                    f"http://127.0.0.1:{sandbox_port}",
                    path,
                    key,
                    method=method,
                    body=body,
                    seconds=1,
                )
                sandbox_measures[name] = run(
                    f"http://127.0.0.1:{sandbox_port}",
                    path,
                    key,
                    method=method,
                    body=body,
                    seconds=seconds,
                )
        for name in shapes:
            results[name] = (bare_measures[name], sandbox_measures[name])
    return results


def report(results: dict[str, tuple[Measure, Measure]]) -> dict[str, float]:
    """Print the table; return the sandbox/bare ratio per shape."""
    print(
        f"{'shape':<8} {'server':<8} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
        f" {'errors':>7}"
    )
    ratios = {}
    for name, (bare, sandbox) in results.items():
        for label, m in (("bare", bare), ("sandbox", sandbox)):
            print(
                f"{name:<8} {label:<8} {m.rps:>9.0f} {m.p50_ms:>8.2f} {m.p90_ms:>8.2f}"
                f" {m.p99_ms:>8.2f} {m.errors:>7}"
            )
        ratios[name] = sandbox.rps / bare.rps
    for name, ratio in ratios.items():
        verdict = "meets" if ratio >= TARGETS[name] else "MISSES"
        print(
            f"{name}: sandbox keeps {ratio:.0%} of the bare ceiling"
            f" ({verdict} the {TARGETS[name]:.0%} target)"
        )
    return ratios


def main(seconds: int = 5) -> dict[str, float]:
    return report(measure_pair(seconds))
