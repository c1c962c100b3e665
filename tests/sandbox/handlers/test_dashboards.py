"""Dashboards: create with widgets (query defaults filled in), get, list, PATCH, delete."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope
from ..module_app import shared_app  # noqa: F401

WIDGETS = [
    {"title": "Purchases per day", "type": "line", "query": {"event": "purchase"}},
    {
        "title": "Average order value",
        "type": "number",
        "query": {
            "event": "purchase",
            "metric": "avg",
            "property": "amount",
            "interval": "week",
            "range": "last_90_days",
        },
    },
]


def _create(client: FlaskClient, key: Key, **body: Any) -> Any:
    return client.post(
        f"{BASE}/dashboards", json={"name": "Revenue overview", **body}, headers=key.headers
    )


def test_create_fills_query_defaults_and_gives_widget_ids(client: FlaskClient, key: Key) -> None:
    created = _create(client, key, description="Daily", widgets=WIDGETS)
    assert created.status_code == 201
    dashboard = created.json
    assert dashboard["id"].startswith("dash_") and dashboard["description"] == "Daily"
    first, second = dashboard["widgets"]
    assert first["id"].startswith("wgt_") and first["id"] != second["id"]
    assert first["query"] == {
        "event": "purchase",
        "metric": "count",
        "interval": "day",
        "range": "last_30_days",
    }
    assert second["query"] == WIDGETS[1]["query"]
    assert client.get(f"{BASE}/dashboards/{dashboard['id']}", headers=key.headers).json == dashboard


def test_a_dashboard_without_widgets(client: FlaskClient, key: Key) -> None:
    dashboard = _create(client, key).json
    assert (dashboard["widgets"], dashboard["description"]) == ([], None)
    listed = client.get(f"{BASE}/dashboards", headers=key.headers).json
    assert listed["items"][0]["id"] == dashboard["id"]


def test_patch_changes_given_fields_and_replaces_widgets(client: FlaskClient, key: Key) -> None:
    dashboard = _create(client, key, widgets=WIDGETS).json
    url = f"{BASE}/dashboards/{dashboard['id']}"
    renamed = client.patch(url, json={"name": "Weekly"}, headers=key.headers).json
    assert (renamed["name"], renamed["widgets"]) == ("Weekly", dashboard["widgets"])
    replaced = client.patch(url, json={"widgets": WIDGETS[1:]}, headers=key.headers).json
    assert [w["title"] for w in replaced["widgets"]] == ["Average order value"]
    assert replaced["widgets"][0]["id"] not in {w["id"] for w in dashboard["widgets"]}
    assert replaced["name"] == "Weekly"


def test_a_non_count_widget_needs_a_property(client: FlaskClient, key: Key) -> None:
    widget = {"title": "Sum", "type": "number", "query": {"event": "purchase", "metric": "sum"}}
    error = assert_envelope(_create(client, key, widgets=[WIDGETS[0], widget]), 400, "bad_request")
    assert error["details"] == [{"field": "widgets[1].query.property", "error": "required"}]
    too_many = _create(client, key, widgets=[WIDGETS[0]] * 51)
    assert_envelope(too_many, 422, "validation_error")


def test_delete_tenancy_and_scopes(
    client: FlaskClient, key: Key, other_key: Key, read_only_key: Key
) -> None:
    dashboard = _create(client, key).json
    url = f"{BASE}/dashboards/{dashboard['id']}"
    assert_envelope(client.get(url, headers=other_key.headers), 404, "not_found")
    assert_envelope(client.delete(url, headers=read_only_key.headers), 403, "forbidden")
    assert client.delete(url, headers=key.headers).status_code == 204
    assert_envelope(client.get(url, headers=key.headers), 404, "not_found")
    assert_envelope(client.delete(url, headers=key.headers), 404, "not_found")
