"""Validation messages say what is accepted, in words a developer can act on."""

from __future__ import annotations

from flask.testing import FlaskClient

from ..conftest import BASE, Key


def _error(response) -> dict:  # noqa: ANN001
    assert response.status_code == 422, response.get_data(as_text=True)
    return response.get_json()


def test_an_enum_error_lists_the_allowed_values(client: FlaskClient, key: Key) -> None:
    contact = client.post(f"{BASE}/crm/contacts", json={"first_name": "E"}, headers=key.headers)
    body = {"title": "T", "stage": "bogus", "contact_id": contact.get_json()["id"]}
    error = _error(client.post(f"{BASE}/crm/deals", json=body, headers=key.headers))
    assert error["message"] == (
        "Field 'stage' must be one of: new, qualified, proposal, negotiation, won, lost"
    )


def test_a_one_of_error_says_what_is_accepted(client: FlaskClient, key: Key) -> None:
    body = {"seconds": 10, "days": 1}
    error = _error(client.post(f"{BASE}/sandbox/clock/advance", json=body, headers=key.headers))
    assert error["message"] == (
        "Field 'body' must be exactly one of: an object with 'seconds'; "
        "an object with 'days'; an object with 'to'"
    )


def test_cents_are_named_on_money_fields_only(client: FlaskClient, key: Key) -> None:
    error = _error(client.get(f"{BASE}/crm/contacts?limit=0", headers=key.headers))
    assert error["message"] == "Field 'limit' must be a positive integer"
    order = {"amount": 0, "currency": "USD"}
    error = _error(client.post(f"{BASE}/orders", json=order, headers=key.headers))
    assert error["message"] == "Field 'amount' must be a positive integer (cents)"
    assert error["details"] == [{"field": "amount", "error": "must_be_positive", "received": 0}]
