"""Payments and refunds: every test payment method of the spec, order states, idempotency."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from sandbox.spec import SPEC_PATH

from ..conftest import BASE, Key
from ..helpers import DECLINED, METHODS, SUCCEEDS, create_order, pay
from ..module_app import shared_app  # noqa: F401

SPEC = yaml.safe_load(SPEC_PATH.read_text())


def refund(client: FlaskClient, key: Key, payment_id: str, **body: Any) -> Any:
    return client.post(
        f"{BASE}/refunds", json={"payment_id": payment_id, **body}, headers=key.headers
    )


def _order(client: FlaskClient, key: Key, order_id: str) -> dict[str, Any]:
    return client.get(f"{BASE}/orders/{order_id}", headers=key.headers).json


def test_field_and_test_mode_list_the_same_methods() -> None:
    field = SPEC["components"]["schemas"]["PaymentCreate"]["properties"]["payment_method"]
    assert field["x-test-values"] == METHODS
    assert {m["failure_code"] for m in METHODS} == {
        None,
        "card_declined",
        "insufficient_funds",
        "processing_error",
    }


@pytest.mark.parametrize("method", METHODS, ids=[m["value"] for m in METHODS])
def test_each_test_method_decides_the_outcome(client: FlaskClient, key: Key, method: dict) -> None:
    order = create_order(client, key, amount=9_900)
    response = pay(client, key, order["id"], method["value"])
    assert response.status_code == 201
    payment = response.json
    assert (payment["status"], payment["failure_code"]) == (
        method["outcome"],
        method["failure_code"],
    )
    assert (payment["amount"], payment["currency"], payment["payment_method"]) == (
        9_900,
        "USD",
        method["value"],
    )
    succeeded = method["outcome"] == "succeeded"
    assert payment["failure_message"] == (None if succeeded else method["description"])
    after = _order(client, key, order["id"])
    assert after["status"] == ("paid" if succeeded else "payment_failed")
    assert after["amount_paid"] == (9_900 if succeeded else 0)
    assert client.get(f"{BASE}/payments/{payment['id']}", headers=key.headers).json == payment


def test_any_other_method_is_422_and_charges_nothing(client: FlaskClient, key: Key) -> None:
    order = create_order(client, key)
    response = pay(client, key, order["id"], "4111111111111111")
    assert response.status_code == 422
    assert response.json["details"] == [
        {"field": "payment_method", "error": "not_one_of", "received": "4111111111111111"}
    ]
    assert _order(client, key, order["id"]) == order


def test_failed_then_succeeded_payment_pays_the_order(client: FlaskClient, key: Key) -> None:
    order = create_order(client, key)
    assert pay(client, key, order["id"], DECLINED).json["status"] == "failed"
    assert pay(client, key, order["id"]).json["status"] == "succeeded"
    assert _order(client, key, order["id"])["status"] == "paid"
    payments = client.get(f"{BASE}/payments?order_id={order['id']}", headers=key.headers).json
    assert [p["status"] for p in payments["items"]] == ["succeeded", "failed"]


def test_partial_payments_until_paid(client: FlaskClient, key: Key) -> None:
    order = create_order(client, key, amount=1_000)
    assert pay(client, key, order["id"], amount=400).json["amount"] == 400
    assert _order(client, key, order["id"])["status"] == "pending"
    assert pay(client, key, order["id"]).json["amount"] == 600  # defaults to what is still owed
    after = _order(client, key, order["id"])
    assert (after["status"], after["amount_paid"]) == ("paid", 1_000)


def test_more_than_owed_is_422(client: FlaskClient, key: Key) -> None:
    order = create_order(client, key, amount=1_000)
    response = pay(client, key, order["id"], amount=1_001)
    assert response.status_code == 422
    assert response.json["details"] == [
        {"field": "amount", "error": "exceeds_amount_due", "received": 1_001}
    ]


@pytest.mark.parametrize("state", ["canceled", "paid"])
def test_a_canceled_or_fully_paid_order_is_409(client: FlaskClient, key: Key, state: str) -> None:
    order = create_order(client, key)
    if state == "canceled":
        client.post(f"{BASE}/orders/{order['id']}/cancel", headers=key.headers)
    else:
        pay(client, key, order["id"])
    response = pay(client, key, order["id"])
    assert response.status_code == 409
    assert response.json["code"] == "conflict"


def test_an_order_of_another_company_is_422(client: FlaskClient, key: Key, other_key: Key) -> None:
    theirs = create_order(client, other_key)
    response = pay(client, key, theirs["id"])
    assert response.status_code == 422
    assert response.json["details"][0]["field"] == "order_id"


def test_refunds_in_part_then_in_full(client: FlaskClient, key: Key) -> None:
    order = create_order(client, key, amount=10_000)
    payment = pay(client, key, order["id"]).json
    part = refund(client, key, payment["id"], amount=2_500, reason="requested_by_customer")
    assert part.status_code == 201
    assert (part.json["amount"], part.json["order_id"], part.json["status"]) == (
        2_500,
        order["id"],
        "succeeded",
    )
    after = _order(client, key, order["id"])
    assert (after["status"], after["amount_refunded"]) == ("partially_refunded", 2_500)
    rest = refund(client, key, payment["id"])  # defaults to what is left
    assert rest.json["amount"] == 7_500
    after = _order(client, key, order["id"])
    assert (after["status"], after["amount_paid"], after["amount_refunded"]) == (
        "refunded",
        10_000,
        10_000,
    )
    assert (
        client.get(f"{BASE}/payments/{payment['id']}", headers=key.headers).json["amount_refunded"]
        == 10_000
    )
    listed = client.get(f"{BASE}/refunds?payment_id={payment['id']}", headers=key.headers).json
    assert [r["id"] for r in listed["items"]] == [rest.json["id"], part.json["id"]]
    assert client.get(f"{BASE}/refunds/{part.json['id']}", headers=key.headers).json == part.json
    assert refund(client, key, payment["id"]).status_code == 409  # nothing left


def test_refunding_more_than_is_left_is_422(client: FlaskClient, key: Key) -> None:
    order = create_order(client, key, amount=1_000)
    payment = pay(client, key, order["id"]).json
    refund(client, key, payment["id"], amount=900)
    response = refund(client, key, payment["id"], amount=101)
    assert response.status_code == 422
    assert response.json["details"] == [
        {"field": "amount", "error": "exceeds_refundable_amount", "received": 101}
    ]


def test_refunding_a_failed_payment_is_409(client: FlaskClient, key: Key) -> None:
    order = create_order(client, key)
    payment = pay(client, key, order["id"], DECLINED).json
    response = refund(client, key, payment["id"])
    assert response.status_code == 409
    assert response.json["code"] == "conflict"


def test_same_idempotency_key_replays_without_a_second_charge(
    client: FlaskClient, key: Key
) -> None:
    order = create_order(client, key, amount=5_000)
    headers = key.headers | {"Idempotency-Key": f"pay-{order['id']}"}
    body = {"order_id": order["id"], "payment_method": SUCCEEDS, "amount": 2_000}
    first = client.post(f"{BASE}/payments", json=body, headers=headers)
    second = client.post(f"{BASE}/payments", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.data == first.data
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _order(client, key, order["id"])["amount_paid"] == 2_000
    payments = client.get(f"{BASE}/payments?order_id={order['id']}", headers=key.headers).json
    assert payments["total"] == 1


def test_another_companys_payment_and_refund_are_not_found(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    order = create_order(client, other_key)
    payment = pay(client, other_key, order["id"]).json
    made = refund(client, other_key, payment["id"], amount=1).json
    assert client.get(f"{BASE}/payments/{payment['id']}", headers=key.headers).status_code == 404
    assert client.get(f"{BASE}/refunds/{made['id']}", headers=key.headers).status_code == 404
    assert refund(client, key, payment["id"]).status_code == 422


def test_charging_opens_no_connection(
    client: FlaskClient, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = create_order(client, key)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("test mode must not open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    payment = pay(client, key, order["id"]).json
    assert refund(client, key, payment["id"]).status_code == 201
