"""Customers: create, list, get, update, delete; a customer with usage cannot be deleted."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope
from ..module_app import shared_app  # noqa: F401


def _create(client: FlaskClient, key: Key, **body: object) -> dict:
    response = client.post(
        f"{BASE}/customers", json={"name": "Acme Corp", **body}, headers=key.headers
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def test_create_get_update_list(client: FlaskClient, key: Key) -> None:
    created = _create(
        client,
        key,
        email="billing@acme.example",
        external_id="acct_1",
        metadata={"tier": "gold", "seats": 5},
    )
    assert created["id"].startswith("cus_")
    assert (created["email"], created["external_id"], created["metadata"]) == (
        "billing@acme.example",
        "acct_1",
        {"tier": "gold", "seats": 5},
    )
    assert client.get(f"{BASE}/customers/{created['id']}", headers=key.headers).json == created
    updated = client.patch(
        f"{BASE}/customers/{created['id']}",
        json={"email": "ap@acme.example", "metadata": {"tier": "silver"}},
        headers=key.headers,
    ).json
    assert (updated["name"], updated["email"], updated["metadata"]) == (
        "Acme Corp",
        "ap@acme.example",
        {"tier": "silver"},
    )
    assert updated["updated_at"] >= created["updated_at"]
    listed = client.get(f"{BASE}/customers", headers=key.headers).json
    assert listed["items"][0]["id"] == created["id"]  # newest first


def test_defaults_and_validation(client: FlaskClient, key: Key) -> None:
    bare = _create(client, key)
    assert (bare["email"], bare["external_id"], bare["metadata"]) == (None, None, {})
    bad = client.post(
        f"{BASE}/customers", json={"name": "X", "email": "not-an-email"}, headers=key.headers
    )
    assert_envelope(bad, 422, "validation_error")
    assert_envelope(
        client.post(f"{BASE}/customers", json={}, headers=key.headers), 400, "bad_request"
    )


def test_delete_without_usage_and_409_with_usage(client: FlaskClient, key: Key) -> None:
    idle = _create(client, key)
    assert client.delete(f"{BASE}/customers/{idle['id']}", headers=key.headers).status_code == 204
    assert_envelope(
        client.get(f"{BASE}/customers/{idle['id']}", headers=key.headers), 404, "not_found"
    )
    busy = _create(client, key)
    usage = {
        "events": [
            {"event_id": str(uuid.uuid4()), "customer_id": busy["id"], "event_name": "api.request"}
        ]
    }
    assert (
        client.post(f"{BASE}/meters/ingest", json=usage, headers=key.headers).json["ingested"] == 1
    )
    assert_envelope(
        client.delete(f"{BASE}/customers/{busy['id']}", headers=key.headers), 409, "conflict"
    )
    assert client.get(f"{BASE}/customers/{busy['id']}", headers=key.headers).status_code == 200


def test_tenancy_and_scopes(
    client: FlaskClient, key: Key, other_key: Key, read_only_key: Key
) -> None:
    mine = _create(client, key)
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"name": "Theirs"}} if method == "patch" else {}
        response = getattr(client, method)(
            f"{BASE}/customers/{mine['id']}", headers=other_key.headers, **kwargs
        )
        assert_envelope(response, 404, "not_found")
    assert_envelope(
        client.post(f"{BASE}/customers", json={"name": "R"}, headers=read_only_key.headers),
        403,
        "forbidden",
    )
