"""Meters: create (aggregation defaults to sum), list, get, update name and description only."""

from __future__ import annotations

from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope
from ..module_app import shared_app  # noqa: F401


def test_create_get_list_update(client: FlaskClient, key: Key) -> None:
    body = {
        "name": "API requests",
        "event_name": "api.request",
        "aggregation": "count",
        "description": "Calls",
    }
    created = client.post(f"{BASE}/meters", json=body, headers=key.headers)
    assert created.status_code == 201
    meter = created.json
    assert meter["id"].startswith("mtr_") and meter["aggregation"] == "count"
    assert client.get(f"{BASE}/meters/{meter['id']}", headers=key.headers).json == meter
    assert client.get(f"{BASE}/meters", headers=key.headers).json["items"][0]["id"] == meter["id"]
    renamed = client.patch(
        f"{BASE}/meters/{meter['id']}", json={"name": "Requests"}, headers=key.headers
    ).json
    assert (renamed["name"], renamed["description"], renamed["event_name"]) == (
        "Requests",
        "Calls",
        "api.request",
    )


def test_aggregation_defaults_to_sum(client: FlaskClient, key: Key) -> None:
    meter = client.post(
        f"{BASE}/meters", json={"name": "Tokens", "event_name": "llm.tokens"}, headers=key.headers
    ).json
    assert (meter["aggregation"], meter["description"]) == ("sum", None)


def test_event_name_and_aggregation_cannot_change(client: FlaskClient, key: Key) -> None:
    meter = client.post(
        f"{BASE}/meters", json={"name": "T", "event_name": "t.x"}, headers=key.headers
    ).json
    for change in ({"event_name": "t.y"}, {"aggregation": "max"}):
        response = client.patch(f"{BASE}/meters/{meter['id']}", json=change, headers=key.headers)
        assert (
            assert_envelope(response, 422, "validation_error")["details"][0]["error"]
            == "unknown_field"
        )


def test_bad_values_tenancy_and_scopes(
    client: FlaskClient, key: Key, other_key: Key, read_only_key: Key
) -> None:
    bad = client.post(
        f"{BASE}/meters", json={"name": "B", "event_name": "has space"}, headers=key.headers
    )
    assert_envelope(bad, 422, "validation_error")
    wrong = client.post(
        f"{BASE}/meters",
        json={"name": "B", "event_name": "b", "aggregation": "avg"},
        headers=key.headers,
    )
    assert_envelope(wrong, 422, "validation_error")
    meter = client.post(
        f"{BASE}/meters", json={"name": "M", "event_name": "m"}, headers=key.headers
    ).json
    assert_envelope(
        client.get(f"{BASE}/meters/{meter['id']}", headers=other_key.headers), 404, "not_found"
    )
    assert_envelope(
        client.patch(
            f"{BASE}/meters/{meter['id']}", json={"name": "X"}, headers=read_only_key.headers
        ),
        403,
        "forbidden",
    )
