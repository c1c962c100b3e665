"""What several test modules do the same way: read an envelope, create an order, pay it,
subscribe a webhook."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from sandbox.spec import load_spec

from .conftest import BASE, Key

SPEC = load_spec()
METHODS = SPEC.test_mode["payment_methods"]
SUCCEEDS = next(m["value"] for m in METHODS if m["outcome"] == "succeeded")
DECLINED = next(m["value"] for m in METHODS if m["failure_code"] == "card_declined")
EVENT_TYPES = SPEC.schema("WebhookEventType")["enum"]
HOOK_URL = "http://127.0.0.1:9/tests"  # nothing listens: deliveries stay pending


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response's error envelope, after checking its status, code and shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert body["code"] == code
    assert body["message"]
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert set(body) <= {"code", "message", "details", "request_id"}
    return body


def create_order(client: FlaskClient, key: Key, **body: Any) -> dict[str, Any]:
    response = client.post(f"{BASE}/orders", json={"amount": 120_000, **body}, headers=key.headers)
    assert response.status_code == 201, response.json
    return response.json


def pay(client: FlaskClient, key: Key, order_id: str, method: str = SUCCEEDS, **body: Any) -> Any:
    payload = {"order_id": order_id, "payment_method": method, **body}
    return client.post(f"{BASE}/payments", json=payload, headers=key.headers)


def create_webhook(
    client: FlaskClient, key: Key, events: list[str] | None = None, **body: Any
) -> dict[str, Any]:
    payload = {"url": HOOK_URL, "events": events or list(EVENT_TYPES), **body}
    response = client.post(f"{BASE}/webhooks", json=payload, headers=key.headers)
    assert response.status_code == 201, response.json
    return response.json
