"""Webhook delivery in its own process: what `sandbox serve` starts, and `sandbox deliver`.

A served sandbox delivers through a child `sandbox deliver` process (its serving workers
only write the outbox); two delivery processes on one PostgreSQL database POST each
delivery once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from sandbox.http.app import shutdown
from tests.sandbox.conftest import BASE, build_app, key_for
from tests.sandbox.domain.hooks import delivered_once_each
from tests.sandbox.helpers import create_webhook
from tests.sandbox.receivers import Receiver
from tests.sandbox.served import banner_key, serving

pytestmark = pytest.mark.slow


def _children_delivering(db_url: str) -> list[int]:
    """Pids of `sandbox deliver` processes on `db_url`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"deliver" in words and db_url.encode() in words:
            found.append(int(entry.name))
    return found


def _call(port: int, key: str, method: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{BASE}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_serve_delivers_from_a_process_of_its_own(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'sandbox.db'}"
    with serving(db_url) as (port, lines), Receiver() as receiver:
        assert len(_children_delivering(db_url)) == 1
        key = banner_key(lines, "enterprise")
        webhook = _call(
            port, key, "POST", "/webhooks", {"url": receiver.url, "events": ["contact.created"]}
        )
        receiver.secret = webhook["secret"]
        sent = time.perf_counter()
        _call(port, key, "POST", "/crm/contacts", {"first_name": "Ada"})
        while not receiver.received and time.perf_counter() - sent < 10:
            time.sleep(0.01)
        assert receiver.received and receiver.received[0].signature_ok
    assert _children_delivering(db_url) == []  # stopped with the server


@pytest.fixture
def postgres_app(postgres_url: str) -> Iterator[Flask]:
    app = build_app(postgres_url)
    yield app
    shutdown(app)


@pytest.mark.postgres
def test_two_delivery_processes_post_each_delivery_once(
    postgres_url: str, postgres_app: Flask
) -> None:
    app = postgres_app
    client, key = app.test_client(), key_for(app, "builder")
    env = {**os.environ, "SANDBOX_WEBHOOK_ALLOW": "127.0.0.1"}
    with Receiver() as receiver:
        webhook = create_webhook(client, key, ["sms.logged"], url=receiver.url)
        receiver.secret = webhook["secret"]
        for _ in range(40):
            client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
        command = [sys.executable, "-m", "sandbox.cli", "deliver", "--db", postgres_url,
                   "--poll-seconds", "0.05"]  # fmt: skip
        processes = [subprocess.Popen(command, env=env) for _ in range(2)]
        try:
            deadline = time.perf_counter() + 30
            while len(receiver.received) < 40 and time.perf_counter() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # a second POST of any of them would come now
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                assert process.wait(20) == 0
    delivered = [r.headers["X-Delivery-Id"] for r in receiver.received]
    assert len(delivered) == len(set(delivered)) == 40
    assert delivered_once_each(client, key, webhook["id"])


def test_serve_can_leave_delivery_to_a_process_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.config import SandboxConfig

    monkeypatch.setenv("SANDBOX_WEBHOOK_WORKER", "0")
    assert SandboxConfig.from_env().webhook_worker is False
    db_url = f"sqlite:///{tmp_path / 'sandbox.db'}"
    with serving(db_url, SANDBOX_WEBHOOK_WORKER="0"):
        assert _children_delivering(db_url) == []
