"""The sandbox against a bare Flask ceiling on the same gunicorn settings, and against
Prism's stateless mock of the same spec: a list and a create.

The servers run side by side; each round measures every shape on the bare app, on the
sandbox, then on Prism (when `npm ci` installed it), and each side keeps its best round
(as timeit keeps its fastest run): noise on a shared machine only ever slows a round
down, so the best is the least disturbed. After the rounds, the delivery latency of
webhooks (bench/latency.py).

Shapes:
- read: `GET /crm/contacts?limit=10`, full validation, one page query.
- create: `POST /crm/contacts` on a business no webhook subscribes to (the engine:
  validation, write transaction, outbox check).
- create+webhook: the same on a business whose webhook subscribes to `contact.created`
  (the fixtures' subscription to a port where nothing listens): each create also queues
  a delivery that the delivery process attempts and records, and retries a minute later
  (the spec's first retry delay). This shape has rounds of its own, after the others
  and the delivery latency, every side in turn as in the other rounds: as many as end
  within that delay of the sandbox's first, so that no retry lands in a measured round.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import latency
from bench.latency import Latency
from bench.load import Measure, run
from sandbox.config import DEFAULT_THREADS as THREADS
from sandbox.config import DEFAULT_WORKERS as WORKERS
from sandbox.spec import load_spec

ROUNDS = 5
# Least share of the bare ceiling, and least multiple of Prism's mock, per shape.
TARGETS = {"read": 0.50, "create": 0.25, "create+webhook": 0.25}
PRISM_TARGETS = {"read": 2.0, "create+webhook": 1.0}
LAST = {"create+webhook"}  # shapes measured in rounds of their own, last (see above)
ROUND_OVERHEAD_SECONDS = 1.5  # per side and round, besides its load: wrk's start, waits
PRISM = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "prism"
SPEC = Path(__file__).resolve().parents[1] / "openapi.yaml"
PREFIX = "/api/v1"  # the bare app and the sandbox serve under it; Prism's mock at the root
CONTACT = '{"first_name": "Bench", "email": "bench@example.com"}'


@dataclass(frozen=True)
class Shape:
    """One request shape: method, path, body and who sends it."""

    name: str
    method: str
    path: str
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


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


def sandbox_keys(db: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "keys", "--db", db, "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def full_key(keys: list[dict], plan: str) -> str:
    return next(k["key"] for k in keys if k["plan"] == plan and k["label"] == "Full access")


def quiet_business(origin: str, key: str) -> str:
    """A business of the key's company that no webhook subscribes to."""

    def get(path: str, business_id: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {key}"}
        if business_id:
            headers["X-Business-Id"] = business_id
        request = urllib.request.Request(origin + path, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    for business in get("/api/v1/account")["businesses"]:
        if not get("/api/v1/webhooks?limit=200", business["id"])["items"]:
            return business["id"]
    raise RuntimeError("every business of the company has a webhook")


def measure(seconds: int, rounds: int = ROUNDS) -> tuple[dict[str, list[Measure]], Latency]:
    """[bare, sandbox, prism?] best measures per shape, and the delivery latency."""
    # Both run with `sandbox serve`'s default workers and threads, and a listening socket
    # per worker.
    gunicorn = [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(WORKERS)]
    gunicorn += ["--threads", str(THREADS), "--reuse-port", "--log-level", "warning"]
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        keys = sandbox_keys(db)
        bare_port, sandbox_port = free_port(), free_port()
        bare = f"http://127.0.0.1:{bare_port}"
        sandbox = f"http://127.0.0.1:{sandbox_port}"
        stack.enter_context(
            server(
                [*gunicorn, "-b", f"127.0.0.1:{bare_port}", "bench.bare:app"], bare + "/api/v1/x"
            )
        )
        stack.enter_context(
            server(
                [sys.executable, "-m", "sandbox.cli", "serve", "--port", str(sandbox_port)]
                + ["--quiet", "--db", db, "--rate-limit-scale", "0"]
                + ["--workers", str(WORKERS), "--threads", str(THREADS)],
                sandbox + "/healthz",
            )
        )
        origins = [bare, sandbox]
        if PRISM.exists():
            prism_port = free_port()
            prism = f"http://127.0.0.1:{prism_port}"
            command = [str(PRISM), "mock", str(SPEC), "--host", "127.0.0.1"]
            stack.enter_context(server([*command, "--port", str(prism_port)], prism + "/x"))
            origins.append(prism)
        else:
            print(f"(no Prism column: {PRISM} is missing; `npm ci` installs it)")
        starter, enterprise = full_key(keys, "starter"), full_key(keys, "enterprise")
        quiet = {"X-Business-Id": quiet_business(sandbox, starter)}
        shapes = [
            (Shape("read", "GET", "/api/v1/crm/contacts?limit=10"), enterprise),
            (Shape("create", "POST", "/api/v1/crm/contacts", CONTACT, quiet), starter),
            (Shape("create+webhook", "POST", "/api/v1/crm/contacts", CONTACT), enterprise),
        ]
        samples: dict[str, list[list[Measure]]] = {}
        first = [(shape, key) for shape, key in shapes if shape.name not in LAST]
        _rounds(samples, origins, first, rounds, seconds)
        # On the quiet business, whose one subscriber is then the latency receiver.
        delays = latency.measure(sandbox_port, starter, quiet["X-Business-Id"], seconds)
        last = [(shape, key) for shape, key in shapes if shape.name in LAST]
        within = retry_delay_seconds() - seconds - 1  # after the warm-up's creates
        spacing = len(origins) * (seconds + ROUND_OVERHEAD_SECONDS)
        _rounds(samples, origins, last, min(rounds, 1 + int(within // spacing)), seconds)
    return {name: [_best(m) for m in sides] for name, sides in samples.items()}, delays


def retry_delay_seconds() -> float:
    """The spec's delay before a failed delivery's first retry."""
    return float(load_spec(SPEC).test_mode["webhook_retry_schedule_seconds"][0])


def _rounds(
    samples: dict[str, list[list[Measure]]],
    origins: list[str],
    shapes: list[tuple[Shape, str]],
    rounds: int,
    seconds: int,
) -> None:
    """`rounds` rounds of `shapes`, each shape on every origin in turn (Prism's third,
    at the root), the first after a warm-up; each measure added to `samples`."""
    for number in range(rounds):
        for shape, key in shapes:
            sides = samples.setdefault(shape.name, [[] for _ in origins])
            for side, origin in enumerate(origins):
                prefix = "" if side == 2 else PREFIX
                if number == 0:  # warm up
                    _drive(origin, prefix, shape, key, 1)
                sides[side].append(_drive(origin, prefix, shape, key, seconds))


def _drive(origin: str, prefix: str, shape: Shape, key: str, seconds: int) -> Measure:
    return run(
        origin,
        prefix + shape.path.removeprefix(PREFIX),
        key,
        method=shape.method,
        body=shape.body,
        seconds=seconds,
        headers=shape.headers,
    )


def _best(measures: list[Measure]) -> Measure:
    """The round with the most requests/s."""
    return max(measures, key=lambda m: m.rps)


def report(results: dict[str, list[Measure]]) -> dict[str, float]:
    """Print the table and each ratio with its target; return the sandbox/bare ratios."""
    print(
        f"{'shape':<15} {'server':<8} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
        f" {'errors':>7}"
    )
    ratios = {}
    for name, sides in results.items():
        for label, m in zip(("bare", "sandbox", "prism"), sides, strict=False):
            print(
                f"{name:<15} {label:<8} {m.rps:>9.0f} {m.p50_ms:>8.2f} {m.p90_ms:>8.2f}"
                f" {m.p99_ms:>8.2f} {m.errors:>7}"
            )
        bare, sandbox = sides[0], sides[1]
        ratios[name] = sandbox.rps / bare.rps
        target = TARGETS[name]
        print(
            f"{name}: sandbox keeps {ratios[name]:.0%} of the bare ceiling"
            f" ({'meets' if ratios[name] >= target else 'MISSES'} the {target:.0%} target)"
        )
        if len(sides) > 2 and name in PRISM_TARGETS:
            prism, wanted = sides[2], PRISM_TARGETS[name]
            times = sandbox.rps / prism.rps
            p99 = "no worse" if sandbox.p99_ms <= prism.p99_ms else "WORSE"
            print(
                f"{name}: sandbox = {times:.2f}x Prism's mock"
                f" ({'meets' if times >= wanted else 'MISSES'} the {wanted:.1f}x target);"
                f" p99 {sandbox.p99_ms:.1f} ms vs {prism.p99_ms:.1f} ms: {p99}"
            )
    return ratios


def main(seconds: int = 5) -> dict[str, float]:
    results, delays = measure(seconds)
    ratios = report(results)
    latency.report(delays)
    return ratios
