"""The direct path: API requests served without Flask's hooks, answered as Flask answers them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sandbox.http.app import shutdown
from sandbox.http.call import Pipeline
from tests.sandbox.conftest import BASE, Key, build_app, key_for

ORIGIN = {"Origin": "http://app.example.test"}
# Headers that differ between two answers to the same request, or that only CORS adds.
VARYING = {"x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset", "date"}


@pytest.fixture
def limited(sqlite_url: str) -> Iterator[Flask]:
    """A strict app with its rate limits on, so every answer carries their headers."""
    app = build_app(sqlite_url, rate_limit_scale=1)
    yield app
    shutdown(app)


@pytest.fixture
def flask_hooks(limited: Flask) -> list[str]:
    """The paths of the requests Flask's before_request hooks saw."""
    seen: list[str] = []

    @limited.before_request
    def record() -> None:
        from flask import request

        seen.append(request.path)

    return seen


def _cases(key: Key) -> list[tuple[str, str, dict[str, Any]]]:
    auth, unknown = key.headers, {"Authorization": "Bearer sk_test_unknown0000000000"}
    json = {"headers": auth, "content_type": "application/json"}
    big = b'{"first_name": "' + b"a" * 2_000_000 + b'"}'
    return [
        ("GET", f"{BASE}/account", {"headers": auth}),
        ("GET", f"{BASE}/crm/contacts?limit=2", {"headers": auth}),
        ("GET", f"{BASE}/crm/contacts?limit=0", {"headers": auth}),
        ("POST", f"{BASE}/crm/contacts", {"headers": auth, "json": {"first_name": 7}}),
        ("POST", f"{BASE}/crm/contacts", {**json, "data": "{"}),
        ("POST", f"{BASE}/crm/contacts", {**json, "data": big}),
        ("DELETE", f"{BASE}/account", {"headers": auth}),
        ("GET", f"{BASE}/no/such/path", {"headers": auth}),
        ("GET", f"{BASE}/account", {}),
        ("GET", f"{BASE}/account", {"headers": unknown}),
        ("GET", f"{BASE}/crm/contacts/con_missing", {"headers": auth}),
        ("GET", f"{BASE}/crm/contacts/caf%C3%A9%00?x=%C3%A9", {"headers": auth}),
        ("GET", f"{BASE}/crm/contacts/?limit=2&q=%C3%A9", {"headers": auth}),
        ("GET", f"{BASE}/crm/contacts?limit=2", {"headers": {**auth, "Host": "other.test:81"}}),
        ("GET", f"{BASE}/crm/contacts?limit=2", {"headers": auth}),
    ]  # fmt: skip


def _shape(response: TestResponse) -> tuple[int, dict[str, str], Any]:
    headers = {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower() not in VARYING and not name.lower().startswith("access-control-")
    }
    body = response.get_json(silent=True)
    if isinstance(body, dict):  # the envelope's request id; the account's clock reading
        body.pop("request_id", None)
        body.pop("now", None)
    return response.status_code, headers, body


def test_api_requests_skip_flasks_hooks_and_the_rest_pass_them(
    limited: Flask, flask_hooks: list[str]
) -> None:
    client = limited.test_client()
    key = key_for(limited)
    assert client.get(f"{BASE}/account", headers=key.headers).status_code == 200
    assert client.get(f"{BASE}/no/such/path", headers=key.headers).status_code == 404
    assert flask_hooks == []
    assert client.get(f"{BASE}/account", headers={**key.headers, **ORIGIN}).status_code == 200
    assert client.get("/healthz").status_code == 200
    assert flask_hooks == [f"{BASE}/account", "/healthz"]


def test_the_direct_path_answers_every_case_as_flask_does(limited: Flask) -> None:
    client: FlaskClient = limited.test_client()
    key = key_for(limited)
    for method, path, options in _cases(key):
        direct = client.open(path, method=method, **options)
        options = {**options, "headers": {**options.get("headers", {}), **ORIGIN}}
        through_flask = client.open(path, method=method, **options)
        assert "access-control-allow-origin" not in {n.lower() for n in direct.headers.keys()}
        assert through_flask.headers["Access-Control-Allow-Origin"] == "*"
        assert _shape(direct) == _shape(through_flask), (method, path)
        assert direct.headers["X-Request-Id"].startswith("req_")
        assert direct.status_code < 500, (method, path, direct.get_json())


def test_an_unexpected_error_is_a_logged_500_envelope_that_still_departs(
    limited: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    shared: Pipeline = limited.extensions["sandbox"]

    def broken(_ctx: Any) -> Any:
        raise RuntimeError("handler broke")

    shared.handlers = {**shared.handlers, "getAccount": broken}
    key = key_for(limited)
    with caplog.at_level(logging.ERROR, logger="sandbox"):
        response = limited.test_client().get(f"{BASE}/account", headers=key.headers)
    assert response.status_code == 500
    assert response.get_json()["code"] == "internal_error"
    assert response.headers["X-RateLimit-Limit"]
    request_id = response.headers["X-Request-Id"]
    assert response.get_json()["request_id"] == request_id
    logged = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    assert logged and request_id in logged[0].getMessage() and logged[0].exc_info


def test_a_bodiless_answer_and_a_head_are_sent_as_werkzeug_sends_them(limited: Flask) -> None:
    client = limited.test_client()
    key = key_for(limited)
    created = [
        client.post(f"{BASE}/crm/contacts", headers=key.headers, json={"first_name": "Gone"})
        for _ in range(2)
    ]
    direct, through_flask = (
        client.delete(f"{BASE}/crm/contacts/{answer.get_json()['id']}", headers=headers)
        for answer, headers in zip(created, [key.headers, {**key.headers, **ORIGIN}], strict=True)
    )
    assert direct.status_code == through_flask.status_code == 204
    assert direct.data == b"" and "Content-Length" not in direct.headers
    assert _shape(direct) == _shape(through_flask)
    head = client.head(f"{BASE}/account", headers=key.headers)
    head_flask = client.head(f"{BASE}/account", headers={**key.headers, **ORIGIN})
    assert head.data == b"" and int(head.headers["Content-Length"]) > 0
    assert _shape(head) == _shape(head_flask)
