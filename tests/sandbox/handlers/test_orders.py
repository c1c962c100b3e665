"""Orders: create, get, list, cancel, idempotent creation, and contacts they keep alive."""

from __future__ import annotations

from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import create_order
from ..module_app import shared_app  # noqa: F401

VISA = "pm_card_visa"  # a succeeding method; test_payments checks every method against the spec


def _contact(client: FlaskClient, key: Key) -> str:
    response = client.post(f"{BASE}/crm/contacts", json={"first_name": "Orla"}, headers=key.headers)
    return response.json["id"]


def test_new_order_is_pending_with_defaults(client: FlaskClient, key: Key) -> None:
    order = create_order(client, key)
    assert order["status"] == "pending"
    assert (order["amount_paid"], order["amount_refunded"]) == (0, 0)
    assert (order["currency"], order["metadata"], order["contact_id"]) == ("USD", {}, None)
    assert client.get(f"{BASE}/orders/{order['id']}", headers=key.headers).json == order


def test_order_keeps_contact_description_and_metadata(client: FlaskClient, key: Key) -> None:
    contact_id = _contact(client, key)
    metadata = {"channel": "web", "priority": 2, "gift": True, "note": None}
    order = create_order(
        client, key, contact_id=contact_id, description="Kitchen", metadata=metadata, currency="EUR"
    )
    assert (order["contact_id"], order["description"], order["metadata"]) == (
        contact_id,
        "Kitchen",
        metadata,
    )
    assert order["currency"] == "EUR"


def test_contact_of_another_company_is_422(client: FlaskClient, key: Key, other_key: Key) -> None:
    theirs = _contact(client, other_key)
    response = client.post(
        f"{BASE}/orders", json={"amount": 100, "contact_id": theirs}, headers=key.headers
    )
    assert response.status_code == 422
    assert response.json["details"] == [
        {"field": "contact_id", "error": "not_found", "received": theirs}
    ]


def test_amount_must_be_a_positive_integer(client: FlaskClient, key: Key) -> None:
    response = client.post(f"{BASE}/orders", json={"amount": -500}, headers=key.headers)
    assert response.status_code == 422
    assert response.json["details"] == [
        {"field": "amount", "error": "must_be_positive", "received": -500}
    ]


def test_list_filters_by_status_newest_first(client: FlaskClient, key: Key) -> None:
    order = create_order(client, key)
    client.post(f"{BASE}/orders/{order['id']}/cancel", headers=key.headers)
    page = client.get(f"{BASE}/orders?status=canceled&limit=200", headers=key.headers).json
    assert page["items"][0]["id"] == order["id"]
    assert {item["status"] for item in page["items"]} == {"canceled"}


def test_cancel_a_pending_order_once(client: FlaskClient, key: Key) -> None:
    order = create_order(client, key)
    canceled = client.post(f"{BASE}/orders/{order['id']}/cancel", headers=key.headers)
    assert canceled.status_code == 200
    assert canceled.json["status"] == "canceled"
    again = client.post(f"{BASE}/orders/{order['id']}/cancel", headers=key.headers)
    assert again.status_code == 409
    assert again.json["code"] == "conflict"


def test_cancel_after_a_failed_payment_but_not_after_money_moved(
    client: FlaskClient, key: Key
) -> None:
    failed = create_order(client, key)
    declined = {"order_id": failed["id"], "payment_method": "pm_card_chargeDeclined"}
    assert (
        client.post(f"{BASE}/payments", json=declined, headers=key.headers).json["status"]
        == "failed"
    )
    assert (
        client.post(f"{BASE}/orders/{failed['id']}/cancel", headers=key.headers).status_code == 200
    )
    paid = create_order(client, key)
    client.post(
        f"{BASE}/payments",
        json={"order_id": paid["id"], "payment_method": VISA},
        headers=key.headers,
    )
    response = client.post(f"{BASE}/orders/{paid['id']}/cancel", headers=key.headers)
    assert response.status_code == 409
    assert "money has moved" in response.json["message"]


def test_same_idempotency_key_replays_one_order(client: FlaskClient, key: Key) -> None:
    headers = key.headers | {"Idempotency-Key": "order-replay-1"}
    before = client.get(f"{BASE}/orders", headers=key.headers).json["total"]
    first = client.post(f"{BASE}/orders", json={"amount": 4_200}, headers=headers)
    second = client.post(f"{BASE}/orders", json={"amount": 4_200}, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.data == first.data
    assert second.headers["Idempotent-Replayed"] == "true"
    assert client.get(f"{BASE}/orders", headers=key.headers).json["total"] == before + 1


def test_another_companys_order_is_not_found(client: FlaskClient, key: Key, other_key: Key) -> None:
    theirs = create_order(client, other_key)
    assert client.get(f"{BASE}/orders/{theirs['id']}", headers=key.headers).status_code == 404
    assert (
        client.post(f"{BASE}/orders/{theirs['id']}/cancel", headers=key.headers).status_code == 404
    )


def test_a_contact_with_orders_cannot_be_deleted(client: FlaskClient, key: Key) -> None:
    contact_id = _contact(client, key)
    create_order(client, key, contact_id=contact_id)
    response = client.delete(f"{BASE}/crm/contacts/{contact_id}", headers=key.headers)
    assert response.status_code == 409
    assert "order" in response.json["message"]
