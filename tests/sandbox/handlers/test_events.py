"""Events: track one (any zone in, UTC out), batches with per-item results, /track, list, get."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope
from ..module_app import shared_app  # noqa: F401


def _name() -> str:
    return f"evt-test-{uuid.uuid4().hex[:10]}"


def _website(client: FlaskClient, key: Key) -> str:
    body = {"name": "Shop", "domain": f"{uuid.uuid4().hex[:8]}.example.com"}
    return client.post(f"{BASE}/websites", json=body, headers=key.headers).json["id"]


def _batch(client: FlaskClient, key: Key, events: list[Any], **extra: Any) -> Any:
    return client.post(
        f"{BASE}/events/batch", json={"events": events, **extra}, headers=key.headers
    )


def test_track_stores_utc_and_get_returns_it(client: FlaskClient, key: Key) -> None:
    name = _name()
    body = {
        "event": name,
        "timestamp": "2024-01-15T10:30:00.25+05:30",
        "properties": {"amount": 99.0},
    }
    created = client.post(f"{BASE}/events", json=body, headers=key.headers)
    assert created.status_code == 201
    assert created.json["success"] is True
    assert created.json["timestamp"] == "2024-01-15T05:00:00.250000Z"
    event = client.get(f"{BASE}/events/{created.json['event_id']}", headers=key.headers).json
    assert event["event"] == name
    assert event["timestamp"] == "2024-01-15T05:00:00.250000Z"
    assert event["properties"] == {"amount": 99.0}
    assert event["received_at"].endswith("Z")
    assert event["visitor_id"] is None and event["website_id"] is None


def test_timestamp_defaults_to_the_test_clock(client: FlaskClient, key: Key) -> None:
    clock = client.post(
        f"{BASE}/sandbox/clock/advance", json={"days": 3}, headers=key.headers
    ).json["now"]
    created = client.post(f"{BASE}/events", json={"event": _name()}, headers=key.headers).json
    stored = datetime.fromisoformat(created["timestamp"])
    assert timedelta(0) <= stored - datetime.fromisoformat(clock) < timedelta(minutes=1)
    assert stored > datetime.now(UTC) + timedelta(days=2)


def test_an_unknown_or_foreign_website_is_422(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    foreign = _website(client, other_key)
    for website_id in ("web_doesnotexist", foreign):
        body = {"event": _name(), "website_id": website_id}
        response = client.post(f"{BASE}/events", json=body, headers=key.headers)
        error = assert_envelope(response, 422, "validation_error")
        assert error["details"] == [
            {"field": "website_id", "error": "not_found", "received": website_id}
        ]


def test_a_time_that_does_not_exist_is_422(client: FlaskClient, key: Key) -> None:
    response = client.post(
        f"{BASE}/events",
        json={"event": _name(), "timestamp": "2024-12-31T23:59:60Z"},
        headers=key.headers,
    )
    assert assert_envelope(response, 422, "validation_error")["details"][0]["field"] == "timestamp"


def test_batch_reports_bad_items_by_index_and_stores_the_rest(
    client: FlaskClient, key: Key
) -> None:
    name, website = _name(), _website(client, key)
    events = [
        {"event": name, "properties": {"n": 1}},
        {"properties": {"n": 2}},
        {"event": name, "website_id": "web_nope"},
        {"event": name, "timestamp": "not a time"},
        {"event": name, "extra": True},
        {"event": name, "website_id": website, "visitor_id": "v1"},
    ]
    result = _batch(client, key, events)
    assert result.status_code == 200
    body = result.json
    assert body["success"] is False
    assert (body["processed"], body["failed"]) == (2, 4)
    assert [e["index"] for e in body["errors"]] == [1, 2, 3, 4]
    assert body["errors"][0]["code"] == "bad_request"
    assert body["errors"][0]["details"][0] == {"field": "events[1].event", "error": "required"}
    assert body["errors"][1]["details"][0]["error"] == "not_found"
    assert body["errors"][3]["details"][0]["error"] == "unknown_field"
    listed = client.get(f"{BASE}/events", query_string={"event": name}, headers=key.headers).json
    assert listed["total"] == 2
    assert sorted(e["id"] for e in listed["items"]) == sorted(body["event_ids"])


def test_batch_items_with_a_website_id_of_the_wrong_type_are_reported_not_a_500(
    client: FlaskClient, key: Key
) -> None:
    name = _name()
    events = [
        {"event": name, "website_id": []},
        {"event": name, "website_id": {"id": "web_x"}},
        {"event": name},
    ]
    result = _batch(client, key, events)
    assert result.status_code == 200, result.json
    body = result.json
    assert (body["processed"], body["failed"]) == (1, 2)
    assert [e["index"] for e in body["errors"]] == [0, 1]
    assert body["errors"][0]["details"][0]["field"] == "events[0].website_id"


def test_batch_website_id_is_the_default_for_items(client: FlaskClient, key: Key) -> None:
    name, website, other = _name(), _website(client, key), _website(client, key)
    events = [{"event": name}, {"event": name, "website_id": other}]
    body = _batch(client, key, events, website_id=website).json
    assert body["processed"] == 2
    sites = [
        client.get(f"{BASE}/events/{i}", headers=key.headers).json["website_id"]
        for i in body["event_ids"]
    ]
    assert sorted(sites) == sorted([website, other])
    unknown = _batch(client, key, events, website_id="web_nope")
    assert_envelope(unknown, 422, "validation_error")


def test_batch_of_1000_is_stored_and_1001_is_422(client: FlaskClient, key: Key) -> None:
    name = _name()
    events = [{"event": name, "properties": {"i": i}} for i in range(1000)]
    body = _batch(client, key, events).json
    assert (body["success"], body["processed"], body["failed"]) == (True, 1000, 0)
    assert len(set(body["event_ids"])) == 1000
    too_many = _batch(client, key, [*events, {"event": name}])
    assert (
        assert_envelope(too_many, 422, "validation_error")["details"][0]["error"]
        == "too_many_items"
    )
    assert (
        client.get(f"{BASE}/events", query_string={"event": name}, headers=key.headers).json[
            "total"
        ]
        == 1000
    )


def test_legacy_track_stores_the_same_event_with_deprecation_headers(
    client: FlaskClient, key: Key
) -> None:
    name, website = _name(), _website(client, key)
    body = {
        "website_id": website,
        "event_name": name,
        "visitor_id": "vis_1",
        "properties": {"value": 29.99},
    }
    created = client.post(f"{BASE}/track", json=body, headers=key.headers)
    assert created.status_code == 201
    assert "Deprecation" in created.headers and "Sunset" in created.headers
    event = client.get(f"{BASE}/events/{created.json['event_id']}", headers=key.headers).json
    assert (event["event"], event["website_id"], event["visitor_id"]) == (name, website, "vis_1")


def test_list_filters_and_orders_newest_first(client: FlaskClient, key: Key) -> None:
    name, website = _name(), _website(client, key)
    events = [
        {"event": name, "timestamp": "2024-03-01T00:00:00Z", "visitor_id": "a"},
        {
            "event": name,
            "timestamp": "2024-03-02T00:00:00Z",
            "visitor_id": "b",
            "website_id": website,
        },
        {"event": name, "timestamp": "2024-03-03T00:00:00+01:00", "visitor_id": "a"},
    ]
    _batch(client, key, events)

    def listed(**query: str) -> list[str]:
        items = client.get(
            f"{BASE}/events", query_string={"event": name, **query}, headers=key.headers
        ).json["items"]
        return [e["timestamp"] for e in items]

    assert listed() == ["2024-03-02T23:00:00Z", "2024-03-02T00:00:00Z", "2024-03-01T00:00:00Z"]
    assert listed(visitor_id="a") == ["2024-03-02T23:00:00Z", "2024-03-01T00:00:00Z"]
    assert listed(website_id=website) == ["2024-03-02T00:00:00Z"]
    assert listed(**{"from": "2024-03-02T00:00:00Z", "to": "2024-03-02T23:00:00Z"}) == [
        "2024-03-02T00:00:00Z"
    ]


def test_scopes_and_tenancy(
    client: FlaskClient, key: Key, read_only_key: Key, other_key: Key
) -> None:
    denied = client.post(f"{BASE}/events", json={"event": _name()}, headers=read_only_key.headers)
    assert_envelope(denied, 403, "forbidden")
    event_id = client.post(f"{BASE}/events", json={"event": _name()}, headers=key.headers).json[
        "event_id"
    ]
    assert client.get(f"{BASE}/events/{event_id}", headers=read_only_key.headers).status_code == 200
    assert_envelope(
        client.get(f"{BASE}/events/{event_id}", headers=other_key.headers), 404, "not_found"
    )
