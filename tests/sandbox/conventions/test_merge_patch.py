"""PATCH is a JSON merge patch: `null` clears an optional field, a required one refuses it."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from sandbox.spec import load_spec

from ..conftest import BASE, Key

SPEC = load_spec()
SCHEMAS = SPEC.raw["components"]["schemas"]
# (create path, create body, item path) of each resource whose update is a PATCH.
RESOURCES = {
    "Contact": (
        "/crm/contacts",
        {
            "first_name": "Ada",
            "last_name": "L",
            "email": "a@b.co",
            "phone": "+15550100",
            "company_name": "X",
        },
    ),
    "Deal": (
        "/crm/deals",
        {"title": "T", "amount": 100, "currency": "USD", "expected_close_date": "2027-01-01"},
    ),
    "Dashboard": ("/dashboards", {"name": "D", "description": "d"}),
    "Customer": ("/customers", {"name": "C", "email": "c@d.co", "external_id": "x1"}),
    "Meter": (
        "/meters",
        {"name": "M", "event_name": "m.x", "aggregation": "count", "description": "m"},
    ),
    "Webhook": (
        "/webhooks",
        {"url": "http://127.0.0.1:9/h", "events": ["contact.created"], "description": "w"},
    ),
}


def _nullable(name: str) -> tuple[list[str], list[str]]:
    """(fields the update may clear, fields it must keep) of the resource `name`."""
    update = SCHEMAS[f"{name}Update"]["properties"]
    clear = [
        p for p, s in update.items() if isinstance(s.get("type"), list) and "null" in s["type"]
    ]
    keep = [p for p, s in update.items() if s.get("type") in ("string", "integer", "array")]
    return clear, keep


def _created(client: FlaskClient, key: Key, name: str) -> str:
    path, body = RESOURCES[name]
    if name == "Deal":
        contact = client.post(f"{BASE}/crm/contacts", json={"first_name": "C"}, headers=key.headers)
        body = {**body, "contact_id": contact.get_json()["id"]}
    response = client.post(BASE + path, json=body, headers=key.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return f"{path}/{response.get_json()['id']}"


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_null_clears_an_optional_field_and_a_required_one_refuses_it(
    client: FlaskClient, key: Key, name: str
) -> None:
    clear, keep = _nullable(name)
    assert clear, f"{name}Update has no field null may clear"
    item = _created(client, key, name)
    response = client.patch(BASE + item, json=dict.fromkeys(clear), headers=key.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = client.get(BASE + item, headers=key.headers).get_json()
    assert {field: stored[field] for field in clear} == dict.fromkeys(clear)
    for field in keep:
        refused = client.patch(BASE + item, json={field: None}, headers=key.headers)
        assert refused.status_code == 422, (field, refused.get_data(as_text=True))
        assert refused.get_json()["details"][0]["field"] == field
