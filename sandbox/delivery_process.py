"""Webhook delivery in a process of its own: `sandbox deliver`, and the one `serve` starts.

Serving workers only write the outbox (an event and its deliveries, in the request's
transaction); this process claims due deliveries and POSTs them, so no serving worker
ever spends a cycle on an outbound request. Several may run on one PostgreSQL database
(a shared deployment): claims are conditional UPDATEs, each attempt is made once.
"""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
from types import FrameType

from sandbox.config import SandboxConfig
from sandbox.domain.delivery import DeliveryWorker
from sandbox.domain.targets import TargetPolicy
from sandbox.domain.webhooks import RetryPolicy
from sandbox.spec import load_spec
from sandbox.storage.database import Database

STOP_SECONDS = 15  # how long `serve` waits for its delivery process to record and stop


def deliver(config: SandboxConfig) -> int:
    """Deliver until SIGTERM or SIGINT, then record the attempts in flight and return 0."""
    database = Database(config.database_url)
    spec = load_spec(config.spec_path) if config.spec_path else load_spec()
    worker = DeliveryWorker(
        database,
        RetryPolicy.from_spec(spec),
        poll_seconds=config.webhook_poll_seconds,
        targets=TargetPolicy.from_entries(config.webhook_allow),
    )

    def stop(_signal: int, _frame: FrameType | None) -> None:
        worker.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    gc.freeze()  # the spec and the worker stay for good: collections need not walk them
    try:
        worker.run_forever()
    finally:
        database.dispose()
    return 0


def spawn(config: SandboxConfig) -> subprocess.Popen[bytes]:
    """Start `sandbox deliver` on the same database, spec and allow list as `config`."""
    command = [
        sys.executable, "-m", "sandbox.cli", "deliver",
        "--db", config.database_url,
        "--poll-seconds", str(config.webhook_poll_seconds),
    ]  # fmt: skip
    if config.spec_path:
        command += ["--spec", str(config.spec_path)]
    if config.webhook_allow:
        command += ["--webhook-allow", *config.webhook_allow]
    return subprocess.Popen(command)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the delivery process to stop, and wait for it (killed if it will not)."""
    process.terminate()
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
