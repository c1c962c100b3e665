"""Invoices: computed totals (tax rounded half up), numbers per business, status of the order."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from sandbox.spec import SPEC_PATH

from ..conftest import BASE, Key
from ..helpers import create_order, pay
from ..module_app import shared_app  # noqa: F401

SPEC = yaml.safe_load(SPEC_PATH.read_text())
SCHEMAS = SPEC["components"]["schemas"]
CREATE = SPEC["paths"]["/invoices"]["post"]
REQUEST_EXAMPLE = CREATE["requestBody"]["content"]["application/json"]["example"]
RESPONSE_EXAMPLE = CREATE["responses"]["201"]["content"]["application/json"]["example"]


def _contact(client: FlaskClient, key: Key, **headers: str) -> str:
    response = client.post(
        f"{BASE}/crm/contacts", json={"first_name": "Ivy"}, headers=key.headers | headers
    )
    return response.json["id"]


def create_invoice(client: FlaskClient, key: Key, contact_id: str, **body: Any) -> Any:
    payload = {
        "contact_id": contact_id,
        "line_items": [{"description": "Work", "quantity": 1, "unit_amount": 100}],
    }
    return client.post(f"{BASE}/invoices", json=payload | body, headers=key.headers)


def test_the_spec_example_computes_the_spec_totals(client: FlaskClient, key: Key) -> None:
    contact_id = _contact(client, key)
    response = client.post(
        f"{BASE}/invoices", json={**REQUEST_EXAMPLE, "contact_id": contact_id}, headers=key.headers
    )
    assert response.status_code == 201
    invoice = response.json
    for field in (
        "line_items",
        "subtotal",
        "tax_rate_bps",
        "tax",
        "total",
        "due_date",
        "currency",
        "status",
    ):
        assert invoice[field] == RESPONSE_EXAMPLE[field], field
    assert client.get(f"{BASE}/invoices/{invoice['id']}", headers=key.headers).json == invoice


@pytest.mark.parametrize(
    ("subtotal", "rate_bps", "tax"),
    [
        (1, 5_000, 1),  # 0.5 rounds up
        (3, 5_000, 2),  # 1.5 rounds up
        (1, 4_999, 0),  # 0.4999 rounds down
        (199, 825, 16),  # 16.4175
        (200, 825, 17),  # 16.5
        (1_200_000, 825, 99_000),
        (12_345, 0, 0),
        (49_999_999_999, 10_000, 49_999_999_999),  # the largest total allowed, nearly
    ],
)
def test_tax_is_rounded_half_up(
    client: FlaskClient, key: Key, subtotal: int, rate_bps: int, tax: int
) -> None:
    line = {"description": "One", "quantity": 1, "unit_amount": subtotal}
    contact_id = _contact(client, key)
    invoice = create_invoice(client, key, contact_id, line_items=[line], tax_rate_bps=rate_bps).json
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == (
        subtotal,
        tax,
        subtotal + tax,
    )


def test_totals_cannot_be_sent(client: FlaskClient, key: Key) -> None:
    response = create_invoice(client, key, _contact(client, key), total=1)
    assert response.status_code == 422
    assert response.json["details"][0] == {"field": "total", "error": "unknown_field"}


def test_numbers_are_sequential_per_business(client: FlaskClient, key: Key) -> None:
    businesses = [
        b["id"] for b in client.get(f"{BASE}/account", headers=key.headers).json["businesses"]
    ]
    numbers: dict[str, list[int]] = {}
    for business in businesses:
        contact_id = _contact(client, key, **{"X-Business-Id": business})
        for _ in range(2):
            response = client.post(
                f"{BASE}/invoices",
                json={
                    "contact_id": contact_id,
                    "line_items": [{"description": "A", "quantity": 1, "unit_amount": 1}],
                },
                headers=key.headers | {"X-Business-Id": business},
            )
            numbers.setdefault(business, []).append(
                int(response.json["number"].removeprefix("INV-"))
            )
    for sequence in numbers.values():
        assert sequence[1] == sequence[0] + 1
    assert len(numbers) == 2


def test_concurrent_creates_get_distinct_consecutive_numbers(app: Flask, key: Key) -> None:
    contact_id = _contact(app.test_client(), key)
    numbers: list[str] = []
    errors: list[Any] = []

    def create() -> None:
        response = create_invoice(app.test_client(), key, contact_id)
        (numbers if response.status_code == 201 else errors).append(
            response.json.get("number", response.json)
        )

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    values = sorted(int(n.removeprefix("INV-")) for n in numbers)
    assert values == list(range(values[0], values[0] + 6))


def test_invoice_follows_its_order(client: FlaskClient, key: Key) -> None:
    contact_id = _contact(client, key)
    paid, canceled = (
        create_order(client, key, contact_id=contact_id),
        create_order(client, key, contact_id=contact_id),
    )
    to_pay = create_invoice(client, key, contact_id, order_id=paid["id"]).json
    to_void = create_invoice(client, key, contact_id, order_id=canceled["id"]).json
    assert (to_pay["status"], to_void["status"]) == ("open", "open")
    pay(client, key, paid["id"])
    client.post(f"{BASE}/orders/{canceled['id']}/cancel", headers=key.headers)
    assert (
        client.get(f"{BASE}/invoices/{to_pay['id']}", headers=key.headers).json["status"] == "paid"
    )
    assert (
        client.get(f"{BASE}/invoices/{to_void['id']}", headers=key.headers).json["status"] == "void"
    )
    voided = client.get(
        f"{BASE}/invoices?status=void&contact_id={contact_id}", headers=key.headers
    ).json
    assert [i["id"] for i in voided["items"]] == [to_void["id"]]


@pytest.mark.parametrize("field", ["contact_id", "order_id"])
def test_references_of_another_company_are_422(
    client: FlaskClient, key: Key, other_key: Key, field: str
) -> None:
    theirs = {
        "contact_id": _contact(client, other_key),
        "order_id": create_order(client, other_key)["id"],
    }
    ours = _contact(client, key)
    body = {"order_id": theirs["order_id"]} if field == "order_id" else {}
    response = create_invoice(
        client, key, theirs["contact_id"] if field == "contact_id" else ours, **body
    )
    assert response.status_code == 422
    assert response.json["details"] == [
        {"field": field, "error": "not_found", "received": theirs[field]}
    ]


def test_a_contact_with_invoices_cannot_be_deleted(client: FlaskClient, key: Key) -> None:
    contact_id = _contact(client, key)
    create_invoice(client, key, contact_id)
    response = client.delete(f"{BASE}/crm/contacts/{contact_id}", headers=key.headers)
    assert response.status_code == 409
    assert "invoice" in response.json["message"]


def test_another_companys_invoice_is_not_found(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    theirs = client.get(f"{BASE}/invoices?limit=1", headers=other_key.headers).json["items"][0][
        "id"
    ]
    assert client.get(f"{BASE}/invoices/{theirs}", headers=key.headers).status_code == 404


def test_a_total_over_the_largest_amount_is_422(client: FlaskClient, key: Key) -> None:
    largest = SCHEMAS["LineItemInput"]["properties"]["unit_amount"]["maximum"]
    line = {"description": "Big", "quantity": 2, "unit_amount": largest}
    response = create_invoice(client, key, _contact(client, key), line_items=[line])
    assert response.status_code == 422
    assert response.json["details"] == [
        {"field": "line_items", "error": "total_too_large", "received": 2 * largest}
    ]
