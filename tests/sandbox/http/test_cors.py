"""CORS: a browser app on another origin calls the sandbox, preflight and all."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sandbox.cli import main
from sandbox.config import SandboxConfig
from sandbox.http.app import shutdown
from tests.sandbox.conftest import BASE, Key, build_app
from tests.sandbox.served import banner_key, serving

EXPOSED = {
    "x-request-id",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
    "idempotent-replayed",
    "deprecation",
    "sunset",
}
ORIGIN = "http://app.example.test"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type,idempotency-key,x-business-id",
}


def names(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


@pytest.fixture
def app_with(database_url: str) -> Iterator:
    """Builds strict apps on the test's database with other settings; shuts them down after."""
    apps: list[Flask] = []

    def build(**settings: object) -> FlaskClient:
        apps.append(build_app(database_url, **settings))
        return apps[-1].test_client()

    yield build
    for built in apps:
        shutdown(built)


def test_a_preflight_is_answered_204_with_what_the_spec_allows(client: FlaskClient) -> None:
    response = client.options(f"{BASE}/crm/contacts", headers=PREFLIGHT)
    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert names(response.headers["Access-Control-Allow-Methods"]) == {
        "get",
        "post",
        "patch",
        "put",
        "delete",
    }
    assert names(response.headers["Access-Control-Allow-Headers"]) == {
        "authorization",
        "content-type",
        "idempotency-key",
        "x-business-id",
    }
    assert int(response.headers["Access-Control-Max-Age"]) > 0


def test_a_preflight_allows_no_header_the_spec_does_not_use(client: FlaskClient) -> None:
    headers = {**PREFLIGHT, "Access-Control-Request-Headers": "authorization,x-made-up"}
    response = client.options(f"{BASE}/crm/contacts/con_1", headers=headers)
    assert response.status_code == 204
    assert names(response.headers["Access-Control-Allow-Headers"]) == {"authorization"}


def test_a_preflight_needs_no_key_and_is_not_counted(app_with, key: Key) -> None:  # noqa: ANN001
    client = app_with(rate_limit_scale=1)
    first = client.get(f"{BASE}/crm/contacts", headers=key.headers)
    for _ in range(3):
        preflight = client.options(f"{BASE}/crm/contacts", headers=PREFLIGHT)
        assert preflight.status_code == 204
        assert "X-RateLimit-Remaining" not in preflight.headers
    second = client.get(f"{BASE}/crm/contacts", headers=key.headers)
    remaining = int(first.headers["X-RateLimit-Remaining"])
    assert int(second.headers["X-RateLimit-Remaining"]) == remaining - 1


def test_a_response_names_the_headers_a_script_may_read(client: FlaskClient, key: Key) -> None:
    response = client.get(f"{BASE}/crm/contacts", headers={**key.headers, "Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert names(response.headers["Access-Control-Expose-Headers"]) == EXPOSED


def test_a_request_without_an_origin_gets_no_cors_headers(client: FlaskClient, key: Key) -> None:
    response = client.get(f"{BASE}/crm/contacts", headers=key.headers)
    assert response.status_code == 200
    assert not [name for name in response.headers.keys() if name.startswith("Access-Control-")]
    assert "Origin" not in response.headers.get("Vary", "")


@pytest.mark.parametrize(("path", "status"), [("/crm/contacts", 401), ("/no/such/path", 404)])
def test_error_envelopes_carry_the_headers_too(client: FlaskClient, path: str, status: int) -> None:
    response = client.get(BASE + path, headers={"Origin": ORIGIN})
    assert response.status_code == status
    assert response.get_json()["request_id"] == response.headers["X-Request-Id"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert names(response.headers["Access-Control-Expose-Headers"]) == EXPOSED


def test_a_rate_limited_answer_lets_the_script_read_retry_after(app_with) -> None:  # noqa: ANN001
    client = app_with(rate_limit_scale=0.0001)  # one request a minute
    client.get(f"{BASE}/crm/contacts", headers={"Origin": ORIGIN})
    response = client.get(f"{BASE}/crm/contacts", headers={"Origin": ORIGIN})
    assert response.status_code == 429
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "retry-after" in names(response.headers["Access-Control-Expose-Headers"])


def test_restricted_origins_answer_only_those(app_with, key: Key) -> None:  # noqa: ANN001
    client = app_with(cors_origins=(ORIGIN, "http://localhost:3000"))
    allowed = client.get(f"{BASE}/crm/contacts", headers={**key.headers, "Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in allowed.headers.get("Vary", "")
    other = {**key.headers, "Origin": "http://app.example.test.evil.test"}
    refused = client.get(f"{BASE}/crm/contacts", headers=other)
    assert refused.status_code == 200
    assert "Access-Control-Allow-Origin" not in refused.headers
    preflight = client.options(
        f"{BASE}/crm/contacts", headers={**PREFLIGHT, "Origin": "http://other.test"}
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Methods" not in preflight.headers


def test_cors_off_sends_no_cors_headers(app_with, key: Key) -> None:  # noqa: ANN001
    client = app_with(cors_origins=())
    response = client.get(f"{BASE}/crm/contacts", headers={**key.headers, "Origin": ORIGIN})
    assert response.status_code == 200
    preflight = client.options(f"{BASE}/crm/contacts", headers=PREFLIGHT)
    for answer in (response, preflight):
        assert not [h for h in answer.headers.keys() if h.startswith("Access-Control-")]


def test_origins_are_read_from_the_environment_and_the_command_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from sandbox.config import cors_origins

    assert SandboxConfig().cors_origins == ("*",)
    monkeypatch.setenv("SANDBOX_CORS_ORIGINS", " http://a.test , http://b.test:8000/ ")
    assert SandboxConfig.from_env().cors_origins == ("http://a.test", "http://b.test:8000")
    monkeypatch.setenv("SANDBOX_CORS_ORIGINS", "none")
    assert SandboxConfig.from_env().cors_origins == ()
    monkeypatch.setenv("SANDBOX_CORS_ORIGINS", "localhost:3000")
    with pytest.raises(ValueError, match="SANDBOX_CORS_ORIGINS"):
        SandboxConfig.from_env()
    monkeypatch.delenv("SANDBOX_CORS_ORIGINS")
    assert cors_origins(["*", "http://a.test"]) == ("*",)
    with pytest.raises(ValueError, match="none alone"):
        cors_origins(["none", "http://a.test"])

    served: list[SandboxConfig] = []
    monkeypatch.setattr("sandbox.http.server.serve", lambda config, **_: served.append(config) or 0)
    db = ["--db", f"sqlite:///{tmp_path}/s.db"]
    main(["serve", *db, "--cors-origins", "none"])
    main(["serve", *db, "--cors-origins", "http://a.test", "https://b.test"])
    main(["serve", *db])
    assert [c.cors_origins for c in served] == [(), ("http://a.test", "https://b.test"), ("*",)]
    with pytest.raises(SystemExit, match="--cors-origins"):
        main(["serve", *db, "--cors-origins", "a.test/path"])


PAGE = """<!doctype html>
<title>another origin</title>
<pre id="out">pending</pre>
<script>
fetch(%(sandbox)s + "/api/v1/crm/contacts", {
  method: "POST",
  headers: {
    "Authorization": "Bearer " + %(key)s,
    "Content-Type": "application/json",
    "Idempotency-Key": "abc",
  },
  body: JSON.stringify({first_name: "Cors"}),
}).then(async (response) => {
  window.result = {
    status: response.status,
    requestId: response.headers.get("X-Request-Id"),
    remaining: response.headers.get("X-RateLimit-Remaining"),
    body: await response.json(),
  };
}).catch((error) => { window.result = {error: String(error)}; })
  .finally(() => { document.getElementById("out").textContent = JSON.stringify(window.result); });
</script>
"""


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A static file server on its own loopback port: (its directory, its origin)."""
    root = tmp_path / "page"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    http_server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=http_server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{http_server.server_port}"
    finally:
        http_server.shutdown()
        http_server.server_close()
        thread.join(timeout=10)


@pytest.mark.browser
def test_a_page_on_another_origin_creates_a_contact_and_reads_the_headers(
    browser,  # noqa: ANN001
    page_server: tuple[Path, str],
    tmp_path: Path,
) -> None:
    import json

    from selenium.webdriver.support.ui import WebDriverWait

    root, page_origin = page_server
    with serving(f"sqlite:///{tmp_path}/s.db", "--cors-origins", page_origin) as (port, lines):
        sandbox = f"http://127.0.0.1:{port}"
        values = {"sandbox": json.dumps(sandbox), "key": json.dumps(banner_key(lines))}
        (root / "index.html").write_text(PAGE % values)
        browser.get(f"{page_origin}/index.html")
        result = WebDriverWait(browser, 30).until(
            lambda driver: driver.execute_script("return window.result || null")
        )
    assert result.get("error") is None, result
    assert result["status"] == 201
    assert result["requestId"].startswith("req_")
    assert int(result["remaining"]) >= 0
    assert result["body"]["first_name"] == "Cors"
    assert result["body"]["id"].startswith("con_")
