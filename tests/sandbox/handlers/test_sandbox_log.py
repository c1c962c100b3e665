"""The request log: filters, each request's headers and bodies, and what it never shows."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from sandbox.conventions import requestlog
from sandbox.http.app import shutdown
from sandbox.storage.core import LZ4_TAG, RequestLogBody, RequestLogEntry, unpack_exchange

from ..conftest import BASE, Key, build_app, key_for
from ..helpers import create_webhook


def logged(client: FlaskClient, key: Key, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"{BASE}/sandbox/requests?limit=200{query}", headers=key.headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def entry(client: FlaskClient, key: Key, request_id: str) -> dict[str, Any]:
    (found,) = logged(client, key, f"&request_id={request_id}")
    response = client.get(f"{BASE}/sandbox/requests/{found['id']}", headers=key.headers)
    assert response.status_code == 200, response.json
    return response.json


def test_a_logged_request_shows_its_headers_and_bodies(client: FlaskClient, key: Key) -> None:
    sent = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
    created = client.post(f"{BASE}/crm/contacts", json=sent, headers=key.headers)
    assert created.status_code == 201
    shown = entry(client, key, created.headers["X-Request-Id"])
    assert shown["operation_id"] == "createContact" and shown["status"] == 201
    assert json.loads(shown["request_body"]) == sent
    assert json.loads(shown["response_body"]) == created.json
    assert shown["request_headers"]["Content-Type"] == "application/json"
    assert shown["response_headers"]["X-Request-Id"] == created.headers["X-Request-Id"]
    assert not shown["request_body_truncated"] and not shown["response_body_truncated"]


def test_credentials_and_webhook_secrets_are_masked(client: FlaskClient, key: Key) -> None:
    webhook = create_webhook(client, key, ["contact.created"])
    (found,) = logged(client, key, "&operation_id=createWebhook")
    shown = client.get(f"{BASE}/sandbox/requests/{found['id']}", headers=key.headers).json
    assert key.secret not in json.dumps(shown)
    assert shown["request_headers"]["Authorization"] == f"Bearer {key.secret[:12]}…"
    assert webhook["secret"] not in shown["response_body"]
    assert json.loads(shown["response_body"])["secret"] == "whsec_…"


def test_a_refused_body_is_logged_as_sent(client: FlaskClient, key: Key) -> None:
    bad = b'{"first_name": "Ada",'
    response = client.post(
        f"{BASE}/crm/contacts",
        data=bad,
        headers={**key.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    shown = entry(client, key, response.headers["X-Request-Id"])
    assert shown["request_body"] == bad.decode()
    assert json.loads(shown["response_body"]) == response.json


def test_bodies_are_cut_at_16_kib_and_nul_never_stored() -> None:
    text, cut = requestlog.text_of(b"a" * (requestlog.BODY_BYTES + 1))
    assert cut and text == "a" * requestlog.BODY_BYTES
    assert requestlog.text_of(b"a\x00b") == ("a\ufffdb", False)
    assert requestlog.text_of(b"") == (None, False)


def test_filters_by_status_class_and_request_id(client: FlaskClient, key: Key) -> None:
    missing = client.get(f"{BASE}/crm/contacts/con_nope", headers=key.headers)
    fine = client.get(f"{BASE}/crm/contacts", headers=key.headers)
    four = logged(client, key, "&status_class=4xx")
    assert missing.headers["X-Request-Id"] in {item["request_id"] for item in four}
    assert all(400 <= item["status"] < 500 for item in four)
    two = logged(client, key, "&status_class=2xx")
    assert fine.headers["X-Request-Id"] in {item["request_id"] for item in two}
    assert all(200 <= item["status"] < 300 for item in two)
    assert (
        client.get(f"{BASE}/sandbox/requests?status_class=6xx", headers=key.headers).status_code
        == 422
    )


def test_another_company_never_sees_an_entry(client: FlaskClient, key: Key, other_key: Key) -> None:
    made = client.get(f"{BASE}/account", headers=key.headers)
    (found,) = logged(client, key, f"&request_id={made.headers['X-Request-Id']}")
    assert logged(client, other_key, f"&request_id={made.headers['X-Request-Id']}") == []
    other = client.get(f"{BASE}/sandbox/requests/{found['id']}", headers=other_key.headers)
    assert other.status_code == 404 and other.json["code"] == "not_found"


@pytest.fixture
def limited_app(database_url: str) -> Iterator[Flask]:
    flask_app = build_app(database_url, rate_limit_scale=0.05)  # starter: 3 a minute
    yield flask_app
    shutdown(flask_app)


def test_reads_of_the_log_and_events_count_apart_and_are_not_logged(limited_app: Flask) -> None:
    client, key = limited_app.test_client(), key_for(limited_app)
    tools = limited_app.extensions["sandbox"].spec.tool_requests_per_minute
    remaining = []
    for _ in range(10):
        for path in ("/sandbox/requests", "/sandbox/webhook-events"):
            response = client.get(f"{BASE}{path}", headers=key.headers)
            assert response.status_code == 200
            assert response.headers["X-RateLimit-Limit"] == str(round(tools * 0.05))
            remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == list(range(remaining[0], remaining[0] - 20, -1))
    counted = client.get(f"{BASE}/account", headers=key.headers)
    assert counted.status_code == 200 and counted.headers["X-RateLimit-Remaining"] == "2"
    assert [item["operation_id"] for item in logged(client, key)] == ["getAccount"]


def test_an_unknown_key_is_still_counted_on_an_unmetered_read(limited_app: Flask) -> None:
    client = limited_app.test_client()
    bad = {"Authorization": "Bearer sk_test_unknown"}
    statuses = [client.get(f"{BASE}/sandbox/requests", headers=bad).status_code for _ in range(5)]
    assert statuses[0] == 401 and 429 in statuses


def test_an_exchange_packed_by_an_older_sandbox_still_reads(client: FlaskClient, key: Key) -> None:
    """Exchanges are packed with LZ4 in the entry's row now; an older sandbox's, packed with
    zlib or kept in `request_log_bodies`, still read."""
    for older in ("zlib", "bodies table"):
        created = client.post(
            f"{BASE}/crm/contacts", json={"first_name": "Ada"}, headers=key.headers
        )
        (found,) = logged(client, key, f"&request_id={created.headers['X-Request-Id']}")
        database = client.application.extensions["sandbox"].database
        with database.session() as session:
            row = session.get(RequestLogEntry, found["id"])
            assert row is not None and row.exchange is not None
            assert row.exchange.startswith(LZ4_TAG)
            exchange = unpack_exchange(row.exchange)
            repacked = zlib.compress(orjson.dumps(exchange), 1)
            if older == "zlib":
                row.exchange = repacked
            else:
                row.exchange = None
                session.add(RequestLogBody(id=row.id, packed=repacked))
        response = client.get(f"{BASE}/sandbox/requests/{found['id']}", headers=key.headers)
        assert response.status_code == 200, older
        assert json.loads(response.json["response_body"]) == created.json
        assert {k: response.json[k] for k in exchange} == exchange


def test_a_listing_never_reads_the_exchanges(client: FlaskClient, key: Key) -> None:
    client.get(f"{BASE}/account", headers=key.headers)
    database = client.application.extensions["sandbox"].database
    with database.session() as session:
        statements: list[str] = []
        event.listen(
            session.connection(),
            "before_cursor_execute",
            lambda *args: statements.append(args[2]),
        )
        session.scalars(select(RequestLogEntry).limit(5)).all()
    assert statements and all("exchange" not in sql for sql in statements)
