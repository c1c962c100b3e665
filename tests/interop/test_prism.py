"""Prism (`prism proxy`, from npm) as a validating proxy in front of a served sandbox.

Every operation is called through the proxy with the spec's own examples (path and
query parameters, request body); Prism validates each request and each answer against
openapi.yaml and reports what breaks it in an `sl-violations` header. No answer may carry
one. Two controls show that a violation would be seen: a request off the spec, and an
answer off the spec from a small upstream made to answer wrongly.

Prism comes from the repository's package.json (`npm ci`); without it the test is
skipped, saying why, except under CI (`CI` set), where it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from sandbox.spec import load_spec
from tests.sandbox.served import banner_key, free_port, serving

SPEC = load_spec()
PRISM = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "prism"
METHODS = ("get", "put", "post", "delete", "patch")
# Run last: a reset would empty the business the other examples act on.
LAST = {"resetSandbox"}

pytestmark = pytest.mark.slow


def _require_prism() -> None:
    if PRISM.exists():
        return
    message = f"Prism is not installed ({PRISM}); `npm ci` in the repository installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def prism_proxy(upstream: str) -> Iterator[str]:
    """`prism proxy openapi.yaml upstream` on a free loopback port, once it listens."""
    _require_prism()
    port = free_port()
    process = subprocess.Popen(
        [str(PRISM), "proxy", str(SPEC.path), upstream, "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()  # type: ignore[union-attr]
            if "Prism is listening" in line:
                break
            assert line, "prism exited before listening"
        else:
            pytest.fail("prism did not start listening within 60 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stdout.close()  # type: ignore[union-attr]


def call(
    base: str, method: str, path: str, key: str, body: Any = None
) -> tuple[int, dict[str, str], str]:
    """(status, headers with lower-case names, body text) of one request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method.upper())
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, _lower(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers), error.read().decode()


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _example(parameter: dict[str, Any]) -> Any:
    if "example" in parameter:
        return parameter["example"]
    schema = SPEC.resolve(parameter.get("schema", {}))
    for source in (schema.get("examples") or [], [schema.get("default")], schema.get("enum", [])):
        if source and source[0] is not None:
            return source[0]
    return None


def example_requests() -> list[tuple[str, str, str, Any]]:
    """(operationId, method, path with its query, body) from each operation's examples."""
    found = []
    for template, item in SPEC.raw["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            raw = item[method]
            path, query = template, {}
            for parameter in [SPEC.resolve(p) for p in raw.get("parameters", [])]:
                value = _example(parameter)
                if parameter["in"] == "path":
                    path = path.replace(f"{{{parameter['name']}}}", quote(str(value), safe=""))
                elif parameter["in"] == "query" and parameter.get("required"):
                    query[parameter["name"]] = value
            if query:
                path += "?" + urlencode(query)
            body = None
            if "requestBody" in raw:
                media = SPEC.resolve(raw["requestBody"])["content"]["application/json"]
                body = media.get("example")
                if body is None and media.get("examples"):
                    body = next(iter(media["examples"].values()))["value"]
            found.append((raw["operationId"], method, path, body))
    return sorted(found, key=lambda request: request[0] in LAST)


@pytest.fixture(scope="module")
def sandbox_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL of a served sandbox, a full-access key), rate limits lifted."""
    db = f"sqlite:///{tmp_path_factory.mktemp('prism') / 'sandbox.db'}"
    with serving(db, "--rate-limit-scale", "0") as (port, lines):
        yield f"http://127.0.0.1:{port}{SPEC.base_path}", banner_key(lines, "enterprise")


def test_prism_finds_no_violation_on_any_operations_examples(
    sandbox_key: tuple[str, str],
) -> None:
    upstream, key = sandbox_key
    requests = example_requests()
    assert len(requests) == len(SPEC.operations)
    violations = {}
    with prism_proxy(upstream) as proxy:
        for operation_id, method, path, body in requests:
            status, headers, text = call(proxy, method, path, key, body)
            if "sl-violations" in headers:
                violations[operation_id] = (status, headers["sl-violations"], text[:300])
            assert status < 500, (operation_id, status, text[:300])
    assert violations == {}


def test_prism_reports_a_request_off_the_spec(sandbox_key: tuple[str, str]) -> None:
    upstream, key = sandbox_key
    with prism_proxy(upstream) as proxy:
        status, headers, _ = call(proxy, "get", "/crm/contacts?limit=abc", key)
    assert status == 422
    assert "limit" in headers.get("sl-violations", "")


class _OffSpec(BaseHTTPRequestHandler):
    """An upstream whose contact list breaks the Page schema (`items` is not an array)."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = json.dumps({"items": "none", "total": 0, "limit": 20, "offset": 0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_prism_reports_an_answer_off_the_spec() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OffSpec)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        upstream = f"http://127.0.0.1:{server.server_address[1]}{SPEC.base_path}"
        with prism_proxy(upstream) as proxy:
            _, headers, _ = call(proxy, "get", "/crm/contacts", "sk_test_any")
    finally:
        server.shutdown()
        server.server_close()
    assert "response" in headers.get("sl-violations", "")
