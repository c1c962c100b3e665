"""Usage: idempotent ingest, immutable events (405), and usage per meter, customer and range."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope
from ..module_app import shared_app  # noqa: F401


def _customer(client: FlaskClient, key: Key) -> str:
    return client.post(f"{BASE}/customers", json={"name": "Usage Co"}, headers=key.headers).json[
        "id"
    ]


def _meter(client: FlaskClient, key: Key, aggregation: str, event_name: str) -> str:
    body = {"name": aggregation, "event_name": event_name, "aggregation": aggregation}
    return client.post(f"{BASE}/meters", json=body, headers=key.headers).json["id"]


def _ingest(client: FlaskClient, key: Key, events: list[dict[str, Any]]) -> Any:
    return client.post(f"{BASE}/meters/ingest", json={"events": events}, headers=key.headers)


def _usage(client: FlaskClient, key: Key, meter_id: str, **query: str) -> dict[str, Any]:
    response = client.get(
        f"{BASE}/meters/{meter_id}/usage", query_string=query, headers=key.headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_duplicates_in_a_batch_and_across_batches_are_skipped(
    client: FlaskClient, key: Key
) -> None:
    customer, name = _customer(client, key), f"u.{uuid.uuid4().hex[:8]}"
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    first = _ingest(
        client,
        key,
        [
            {"event_id": a, "customer_id": customer, "event_name": name, "value": 5},
            {"event_id": a, "customer_id": customer, "event_name": name, "value": 7},
            {"event_id": b, "customer_id": "cus_unknown", "event_name": name},
            {"event_id": b, "customer_id": customer, "event_name": name},
        ],
    ).json
    assert (first["ingested"], first["duplicates"], first["rejected"]) == (2, 1, 1)
    assert [r["status"] for r in first["results"]] == [
        "ingested",
        "duplicate",
        "rejected",
        "ingested",
    ]
    assert [r["index"] for r in first["results"]] == [0, 1, 2, 3]
    rejected = first["results"][2]["error"]
    assert rejected["details"] == [
        {"field": "events[2].customer_id", "error": "not_found", "received": "cus_unknown"}
    ]
    assert first["results"][1]["error"] is None
    again = _ingest(
        client, key, [{"event_id": a, "customer_id": customer, "event_name": name, "value": 100}]
    ).json
    assert (again["ingested"], again["duplicates"]) == (0, 1)
    meter = _meter(client, key, "sum", name)
    assert (
        _usage(client, key, meter, **{"from": "2000-01-01T00:00:00Z"})["value"] == 6
    )  # 5 + the default 1


def test_a_customer_of_another_company_is_rejected(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    theirs = _customer(client, other_key)
    result = _ingest(
        client, key, [{"event_id": str(uuid.uuid4()), "customer_id": theirs, "event_name": "x"}]
    ).json
    assert (result["ingested"], result["rejected"]) == (0, 1)


def test_the_same_event_id_in_another_company_is_its_own(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    shared = str(uuid.uuid4())
    for k in (key, other_key):
        body = [{"event_id": shared, "customer_id": _customer(client, k), "event_name": "x"}]
        assert _ingest(client, k, body).json["ingested"] == 1


def test_stored_event_defaults_and_get_and_list(client: FlaskClient, key: Key) -> None:
    customer, name, event_id = (
        _customer(client, key),
        f"u.{uuid.uuid4().hex[:8]}",
        str(uuid.uuid4()),
    )
    _ingest(
        client,
        key,
        [
            {
                "event_id": event_id,
                "customer_id": customer,
                "event_name": name,
                "metadata": {"region": "eu"},
            }
        ],
    )
    event = client.get(f"{BASE}/usage-events/{event_id}", headers=key.headers).json
    clock = datetime.fromisoformat(
        client.get(f"{BASE}/sandbox/clock", headers=key.headers).json["now"]
    )
    assert (event["value"], event["metadata"], event["customer_id"]) == (
        1,
        {"region": "eu"},
        customer,
    )
    assert timedelta(0) <= clock - datetime.fromisoformat(event["timestamp"]) < timedelta(minutes=1)
    assert event["ingested_at"] == event["timestamp"]
    listed = client.get(
        f"{BASE}/usage-events", query_string={"event_name": name}, headers=key.headers
    ).json
    assert [e["event_id"] for e in listed["items"]] == [event_id]
    by_customer = client.get(
        f"{BASE}/usage-events", query_string={"customer_id": customer}, headers=key.headers
    ).json
    assert by_customer["total"] == 1


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_ingested_events_are_immutable(client: FlaskClient, key: Key, method: str) -> None:
    event_id = str(uuid.uuid4())
    _ingest(
        client,
        key,
        [
            {
                "event_id": event_id,
                "customer_id": _customer(client, key),
                "event_name": "x",
                "value": 3,
            }
        ],
    )
    response = client.open(
        f"{BASE}/usage-events/{event_id}", method=method, json={"value": 4}, headers=key.headers
    )
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET"
    assert client.get(f"{BASE}/usage-events/{event_id}", headers=key.headers).json["value"] == 3


def test_usage_per_aggregation_customer_and_range(client: FlaskClient, key: Key) -> None:
    alice, bob, name = _customer(client, key), _customer(client, key), f"u.{uuid.uuid4().hex[:8]}"
    rows = [
        (alice, 2, "2024-03-01T00:00:00Z"),
        (alice, 8.5, "2024-03-15T12:00:00+02:00"),
        (bob, 4, "2024-03-31T23:59:59.999999Z"),
        (bob, 100, "2024-04-01T00:00:00Z"),
    ]
    _ingest(
        client,
        key,
        [
            {
                "event_id": str(uuid.uuid4()),
                "customer_id": c,
                "event_name": name,
                "value": v,
                "timestamp": t,
            }
            for c, v, t in rows
        ],
    )
    march = {"from": "2024-03-01T00:00:00Z", "to": "2024-04-01T00:00:00Z"}
    expected = {"sum": 14.5, "count": 3, "max": 8.5, "min": 2}
    for aggregation, value in expected.items():
        body = _usage(client, key, _meter(client, key, aggregation, name), **march)
        assert (body["value"], body["event_count"], body["aggregation"]) == (value, 3, aggregation)
    meter = _meter(client, key, "max", name)
    assert _usage(client, key, meter, customer_id=bob, **march)["value"] == 4
    empty = _usage(
        client,
        key,
        meter,
        customer_id=bob,
        **{"from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00Z"},
    )
    assert (empty["value"], empty["event_count"], empty["customer_id"]) == (None, 0, bob)
    summed = _usage(
        client,
        key,
        _meter(client, key, "sum", name),
        **{"from": "2023-01-01T00:00:00Z", "to": "2023-02-01T00:00:00Z"},
    )
    assert (summed["value"], summed["customer_id"]) == (0, None)


def test_usage_range_defaults_to_the_test_clock_month(client: FlaskClient, other_key: Key) -> None:
    key = other_key  # moves its own clock: the other tests of this module use the starter company
    customer, name = _customer(client, key), f"u.{uuid.uuid4().hex[:8]}"
    meter = _meter(client, key, "count", name)
    _ingest(
        client, key, [{"event_id": str(uuid.uuid4()), "customer_id": customer, "event_name": name}]
    )
    now = datetime.fromisoformat(
        client.get(f"{BASE}/sandbox/clock", headers=key.headers).json["now"]
    )
    body = _usage(client, key, meter)
    assert body["from"] == now.replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    ).isoformat().replace("+00:00", "Z")
    assert body["value"] == 1
    next_month = (now.replace(day=1) + timedelta(days=32)).replace(day=2, tzinfo=UTC)
    client.post(
        f"{BASE}/sandbox/clock/advance", json={"to": next_month.isoformat()}, headers=key.headers
    )
    moved = _usage(client, key, meter)
    assert moved["from"].startswith(next_month.strftime("%Y-%m-01T00:00:00"))
    assert (moved["value"], moved["event_count"]) == (0, 0)


def test_not_found_and_limits(client: FlaskClient, key: Key, other_key: Key) -> None:
    meter = _meter(client, key, "sum", "x")
    assert_envelope(
        client.get(
            f"{BASE}/meters/{meter}/usage",
            query_string={"customer_id": "cus_nope"},
            headers=key.headers,
        ),
        404,
        "not_found",
    )
    assert_envelope(
        client.get(f"{BASE}/meters/{meter}/usage", headers=other_key.headers), 404, "not_found"
    )
    assert_envelope(
        client.get(f"{BASE}/usage-events/{uuid.uuid4()}", headers=key.headers), 404, "not_found"
    )
    customer = _customer(client, key)
    too_many = [
        {"event_id": str(i), "customer_id": customer, "event_name": "x"} for i in range(1001)
    ]
    assert_envelope(_ingest(client, key, too_many), 422, "validation_error")
    negative = [{"event_id": "n", "customer_id": customer, "event_name": "x", "value": -1}]
    assert_envelope(_ingest(client, key, negative), 422, "validation_error")
    backwards = {"from": "2024-02-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"}
    assert_envelope(
        client.get(f"{BASE}/meters/{meter}/usage", query_string=backwards, headers=key.headers),
        422,
        "validation_error",
    )
