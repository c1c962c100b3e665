"""The error envelope on every failure: unknown paths, 405, 413, 415, 400, 422 and 500."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sandbox.errors import ApiError

from ..conftest import BASE, Key
from ..helpers import assert_envelope


def test_unknown_path_is_404_envelope(client: FlaskClient, key: Key) -> None:
    assert_envelope(client.get(f"{BASE}/no/such/thing", headers=key.headers), 404, "not_found")
    assert_envelope(client.get("/nowhere"), 404, "not_found")


def test_wrong_method_is_405_with_allow(client: FlaskClient, key: Key) -> None:
    response = client.delete(f"{BASE}/crm/contacts", headers=key.headers)
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, POST"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_usage_events_are_immutable(client: FlaskClient, key: Key, method: str) -> None:
    response = client.open(f"{BASE}/usage-events/some-event", method=method, headers=key.headers)
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET"


def test_body_over_the_limit_is_413(app: Flask, client: FlaskClient, key: Key) -> None:
    size = app.extensions["sandbox"].spec.max_request_bytes + 1
    body = '{"first_name": "' + "x" * size + '"}'
    response = client.post(
        f"{BASE}/crm/contacts", data=body, content_type="application/json", headers=key.headers
    )
    assert_envelope(response, 413, "payload_too_large")


def test_body_that_is_not_json_is_415(client: FlaskClient, key: Key) -> None:
    response = client.post(
        f"{BASE}/crm/contacts", data="first_name=A", content_type="text/plain", headers=key.headers
    )
    assert_envelope(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("body", ["{bad", '{"first_name": NaN}', "[1,", '"unterminated'])
def test_malformed_json_is_400(client: FlaskClient, key: Key, body: str) -> None:
    response = client.post(
        f"{BASE}/crm/contacts", data=body, content_type="application/json", headers=key.headers
    )
    assert_envelope(response, 400, "bad_request")


def test_missing_required_field_is_400_with_details(client: FlaskClient, key: Key) -> None:
    response = client.post(
        f"{BASE}/crm/contacts", json={"last_name": "Miller"}, headers=key.headers
    )
    body = assert_envelope(response, 400, "bad_request")
    assert body["details"] == [{"field": "first_name", "error": "required"}]


def test_missing_body_is_400(client: FlaskClient, key: Key) -> None:
    response = client.post(f"{BASE}/crm/contacts", headers=key.headers)
    assert_envelope(response, 400, "bad_request")


def test_bad_amount_is_422_in_the_seed_shape(client: FlaskClient, key: Key) -> None:
    contact = client.post(
        f"{BASE}/crm/contacts", json={"first_name": "Ann"}, headers=key.headers
    ).json
    response = client.post(
        f"{BASE}/crm/deals",
        json={"title": "Kitchen Remodel", "amount": -500, "contact_id": contact["id"]},
        headers=key.headers,
    )
    body = assert_envelope(response, 422, "validation_error")
    assert body["message"] == "Field 'amount' must be a positive integer (cents)"
    assert body["details"] == [{"field": "amount", "error": "must_be_positive", "received": -500}]


@pytest.mark.parametrize(
    ("body", "field", "error"),
    [
        ({"first_name": "A", "email": "not-an-email"}, "email", "invalid_format"),
        ({"first_name": "A", "phone": "555"}, "phone", "invalid_format"),
        ({"first_name": 7}, "first_name", "invalid_type"),
        ({"first_name": "A", "nickname": "x"}, "nickname", "unknown_field"),
        ({"first_name": "A", "tags": ["x"] * 21}, "tags", "too_many_items"),
    ],
)
def test_bad_values_are_422_naming_the_field(
    client: FlaskClient, key: Key, body: dict[str, Any], field: str, error: str
) -> None:
    response = client.post(f"{BASE}/crm/contacts", json=body, headers=key.headers)
    details = assert_envelope(response, 422, "validation_error")["details"]
    assert {"field": field, "error": error} in [
        {k: d[k] for k in ("field", "error")} for d in details
    ]


def test_bad_query_value_is_422(client: FlaskClient, key: Key) -> None:
    response = client.get(f"{BASE}/crm/deals?stage=closed", headers=key.headers)
    details = assert_envelope(response, 422, "validation_error")["details"]
    assert details[0]["field"] == "stage" and details[0]["received"] == "closed"


def test_unhandled_exception_is_500_envelope_and_logged(
    app: Flask,
    client: FlaskClient,
    key: Key,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def boom(ctx: Any) -> Any:
        raise RuntimeError("kaboom")

    monkeypatch.setitem(app.extensions["sandbox"].handlers, "getAccount", boom)
    with caplog.at_level(logging.ERROR, logger="sandbox"):
        response = client.get(f"{BASE}/account", headers=key.headers)
    body = assert_envelope(response, 500, "internal_error")
    assert "kaboom" not in body["message"]
    assert any(body["request_id"] in r.getMessage() and r.exc_info for r in caplog.records)


def test_handler_error_rolls_back_its_writes(
    app: Flask, client: FlaskClient, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.handlers import contacts

    def create_then_fail(ctx: Any) -> Any:
        contacts.create_contact(ctx)
        raise ApiError("late failure")

    before = client.get(f"{BASE}/crm/contacts?limit=1", headers=key.headers).json["total"]
    monkeypatch.setitem(app.extensions["sandbox"].handlers, "createContact", create_then_fail)
    response = client.post(
        f"{BASE}/crm/contacts", json={"first_name": "Ghost"}, headers=key.headers
    )
    assert_envelope(response, 500, "internal_error")
    assert client.get(f"{BASE}/crm/contacts?limit=1", headers=key.headers).json["total"] == before


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/crm/contacts/con_%00x", None, "contact_id"),
        ("GET", "/crm/contacts?search=a%00b", None, "search"),
        ("POST", "/crm/contacts", '{"first_name": "A\\u0000B"}', "first_name"),
        ("POST", "/crm/contacts", '{"first_name": "A", "tags": ["x\\u0000"]}', "tags[0]"),
    ],
)
def test_nul_characters_are_422_not_500(
    client: FlaskClient, key: Key, method: str, path: str, body: str | None, field: str
) -> None:
    response = client.open(
        f"{BASE}{path}",
        method=method,
        data=body,
        content_type="application/json",
        headers=key.headers,
    )
    details = assert_envelope(response, 422, "validation_error")["details"]
    assert {"field": field, "error": "invalid_characters"} in details
