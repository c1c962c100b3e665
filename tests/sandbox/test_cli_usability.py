"""The command line as a newcomer meets it: --version, a wrong --db, :memory:, the banner, `/`."""

from __future__ import annotations

import html
import importlib.metadata
import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from sandbox.cli import main
from tests.sandbox.served import banner_key, free_port, serving

from .conftest import BASE

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"
BAD_URLS = ["foo.db", "foo://bar", "postgresql://u@h:notaport/x", UNREACHABLE]


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    expected = importlib.metadata.version("platform-sandbox")
    assert capsys.readouterr().out.strip() == f"sandbox {expected}"


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("command", ["serve", "keys", "reset"])
def test_a_bad_database_is_one_line_and_a_failing_exit(command: str, url: str) -> None:
    args = [command, "--db", url] + (["--port", str(free_port())] if command == "serve" else [])
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    message = exit_info.value.code
    assert isinstance(message, str) and message  # printed on stderr, exit status 1
    assert "\n" not in message.strip()


def test_a_bare_path_says_how_to_write_a_sqlite_url() -> None:
    with pytest.raises(SystemExit, match="sqlite:///foo.db"):
        main(["keys", "--db", "foo.db"])


def test_an_unreachable_database_stops_serve_with_one_line_on_stderr() -> None:
    command = [sys.executable, "-m", "sandbox.cli", "serve", "--port", str(free_port())]
    done = subprocess.run(
        [*command, "--db", UNREACHABLE], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert "Cannot open the database" in done.stderr and "127.0.0.1" in done.stderr


def test_the_root_points_to_the_docs_and_the_api(client: FlaskClient) -> None:
    response = client.get("/", base_url="http://sandbox.test:9000")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json["api"] == f"http://sandbox.test:9000{BASE}"
    assert response.json["docs"] == "http://sandbox.test:9000/docs"
    assert response.json["openapi"] == "http://sandbox.test:9000/openapi.yaml"


@pytest.fixture(scope="module")
def in_memory() -> Iterator[tuple[int, list[str]]]:
    """`sandbox serve --db :memory:` on a random port: (port, banner lines)."""
    with serving(":memory:") as served:
        yield served


def call(port: int, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.load(response)


def fetch(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        assert response.status == 200
        return response.read()


@pytest.mark.slow
def test_an_in_memory_sandbox_answers_authenticated_requests(
    in_memory: tuple[int, list[str]],
) -> None:
    port, lines = in_memory
    status, account = call(port, "GET", f"{BASE}/account", banner_key(lines))
    assert status == 200 and account["key"]["mode"] == "test"


@pytest.mark.slow
def test_an_in_memory_sandbox_keeps_what_it_creates(in_memory: tuple[int, list[str]]) -> None:
    port, lines = in_memory
    key = banner_key(lines)
    status, created = call(port, "POST", f"{BASE}/crm/contacts", key, {"first_name": "Memo"})
    assert status == 201
    status, fetched = call(port, "GET", f"{BASE}/crm/contacts/{created['id']}", key)
    assert status == 200 and fetched["first_name"] == "Memo"


@pytest.mark.slow
def test_the_banner_says_an_in_memory_state_is_lost(in_memory: tuple[int, list[str]]) -> None:
    _, lines = in_memory
    assert "lost when the server stops" in "".join(lines)


@pytest.mark.slow
def test_the_banner_exports_a_full_access_key_the_try_line_uses(
    in_memory: tuple[int, list[str]],
) -> None:
    _, lines = in_memory
    exports = [line.split() for line in lines if line.startswith("export SANDBOX_KEY=")]
    assert exports == [["export", f"SANDBOX_KEY={banner_key(lines)}"]]
    try_line = next(line for line in lines if line.startswith("Try:"))
    assert "Bearer $SANDBOX_KEY" in try_line


@pytest.mark.slow
def test_the_served_spec_and_docs_name_the_port_served_on(
    in_memory: tuple[int, list[str]],
) -> None:
    port, _ = in_memory
    base = f"http://127.0.0.1:{port}{BASE}"
    assert yaml.safe_load(fetch(port, "/openapi.yaml"))["servers"][0]["url"] == base
    assert json.loads(fetch(port, "/openapi.json"))["servers"][0]["url"] == base
    page = html.unescape(re.sub(r"<[^>]+>", "", fetch(port, "/docs").decode()))
    assert f'curl "{base}/account"' in page
    if port != 8080:
        assert "127.0.0.1:8080" not in page
    assert json.loads(fetch(port, "/"))["docs"] == f"http://127.0.0.1:{port}/docs"
