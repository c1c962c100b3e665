"""The `sandbox` command: keys, reset, and serve with a real WSGI server."""

from __future__ import annotations

import gc
import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from sandbox.cli import main
from sandbox.config import SandboxConfig
from sandbox.http.app import create_app, shutdown
from sandbox.http.server import before_fork, require_free_port
from tests.sandbox.served import banner_key, serving


def test_keys_json_lists_keys_with_company_plan_and_scopes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "--db", f"sqlite:///{tmp_path}/k.db", "--json"]) == 0
    keys = json.loads(capsys.readouterr().out)
    assert len(keys) >= 6
    assert {"key", "company_id", "plan", "scopes"} <= set(keys[0])
    assert all(k["key"].startswith("sk_test_") for k in keys)


def test_reset_returns_to_the_seeded_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/r.db"
    main(["keys", "--db", url, "--json", "--seed", "1"])
    seed_one = json.loads(capsys.readouterr().out)
    main(["reset", "--db", url, "--seed", "2"])
    capsys.readouterr()
    main(["keys", "--db", url, "--json"])
    assert json.loads(capsys.readouterr().out) != seed_one
    main(["reset", "--db", url, "--seed", "1"])
    capsys.readouterr()
    main(["keys", "--db", url, "--json"])
    assert json.loads(capsys.readouterr().out) == seed_one


def test_serve_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit, match=f"Cannot serve on 127.0.0.1:{port}"):
            main(["serve", "--port", str(port), "--db", f"sqlite:///{tmp_path}/s.db"])
    assert not (tmp_path / "s.db").exists()  # refused before anything was created


def test_serve_accepts_a_port_a_stopped_server_left_connections_on() -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server side closes first: its end waits in TIME_WAIT
        client.close()
    require_free_port("127.0.0.1", port)  # no SystemExit


@pytest.mark.slow
def test_serve_prints_the_url_and_keys_and_answers(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path}/s.db") as (port, lines):
        assert f"http://127.0.0.1:{port}/api/v1" in "".join(lines)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/account",
            headers={"Authorization": f"Bearer {banner_key(lines)}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["Server"].startswith("gunicorn")
            assert json.load(response)["key"]["mode"] == "test"
        second = subprocess.run(
            [sys.executable, "-m", "sandbox.cli", "serve", "--port", str(port)]
            + ["--db", f"sqlite:///{tmp_path}/other.db"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0 and f"Cannot serve on 127.0.0.1:{port}" in second.stderr


@pytest.mark.slow
def test_a_stalled_body_is_answered_400_and_frees_the_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    with serving(url, "--workers", "1", SANDBOX_BODY_TIMEOUT="1") as (port, lines):
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.sendall(
            b"POST /api/v1/crm/contacts HTTP/1.1\r\nHost: sandbox\r\n"
            + f"Authorization: Bearer {banner_key(lines)}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        # The only worker is busy with the stalled request; this one waits its turn.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
        stalled.settimeout(10)
        received = b""
        while chunk := stalled.recv(65536):  # the server closes the connection
            received += chunk
        stalled.close()
    head, _, body = received.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 400")
    error = json.loads(body)
    assert error["code"] == "bad_request"
    assert error["message"] == "Request body stopped arriving: nothing for 1 s"


def test_a_worker_is_forked_with_the_masters_objects_frozen(tmp_path: Path) -> None:
    """What the master built is out of the collector's passes before a worker is forked."""
    app = create_app(SandboxConfig(database_url=f"sqlite:///{tmp_path / 'f.db'}"))
    try:
        gc.unfreeze()
        before_fork(app)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
        shutdown(app)
