"""queryMetrics by example: buckets, empty buckets (0 or null), `total` over the range, limits."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope
from ..module_app import shared_app  # noqa: F401


def _track(client: FlaskClient, key: Key, events: list[dict[str, Any]]) -> str:
    name = f"m-{uuid.uuid4().hex[:10]}"
    body = {"events": [{"event": name, **e} for e in events]}
    assert client.post(f"{BASE}/events/batch", json=body, headers=key.headers).json["failed"] == 0
    return name


def _metric(client: FlaskClient, key: Key, **query: Any) -> Any:
    return client.get(f"{BASE}/metrics", query_string=query, headers=key.headers)


def test_the_seed_example_counts_per_day(client: FlaskClient, key: Key) -> None:
    name = _track(
        client,
        key,
        [
            {"timestamp": "2024-01-01T00:00:00Z"},
            {"timestamp": "2024-01-01T23:59:59.999999Z"},
            {"timestamp": "2024-01-02T01:00:00+02:00"},  # 2024-01-01T23:00Z
            {"timestamp": "2024-01-02T12:00:00Z"},
            {"timestamp": "2024-01-03T00:00:00Z"},  # `to` is exclusive
        ],
    )
    body = _metric(
        client, key, event=name, **{"from": "2024-01-01T00:00:00Z", "to": "2024-01-03T00:00:00Z"}
    ).json
    assert body["data"] == [{"date": "2024-01-01", "value": 3}, {"date": "2024-01-02", "value": 1}]
    assert body["total"] == 4
    assert (body["metric"], body["interval"], body["property"]) == ("count", "day", None)
    assert (body["from"], body["to"]) == ("2024-01-01T00:00:00Z", "2024-01-03T00:00:00Z")


def test_empty_buckets_are_zero_for_count_and_sum_and_null_otherwise(
    client: FlaskClient, key: Key
) -> None:
    name = _track(client, key, [{"timestamp": "2024-05-01T10:00:00Z", "properties": {"v": 4}}])
    span = {"from": "2024-05-01T00:00:00Z", "to": "2024-05-03T00:00:00Z"}
    expected = {
        "count": [1, 0],
        "sum": [4, 0],
        "avg": [4, None],
        "min": [4, None],
        "max": [4, None],
    }
    for metric, values in expected.items():
        body = _metric(client, key, event=name, metric=metric, property="v", **span).json
        assert [p["value"] for p in body["data"]] == values, metric
        assert body["total"] == (1 if metric == "count" else 4)
    nothing = _metric(client, key, event=f"{name}-none", metric="avg", property="v", **span).json
    assert nothing["total"] is None and [p["value"] for p in nothing["data"]] == [None, None]
    nothing = _metric(client, key, event=f"{name}-none", metric="sum", property="v", **span).json
    assert nothing["total"] == 0


def test_total_avg_is_over_all_values_not_the_bucket_averages(
    client: FlaskClient, key: Key
) -> None:
    values = [
        ("2024-06-01T01:00:00Z", 1),
        ("2024-06-01T02:00:00Z", 1),
        ("2024-06-01T03:00:00Z", 1),
        ("2024-06-02T01:00:00Z", 10),
    ]
    name = _track(client, key, [{"timestamp": t, "properties": {"v": v}} for t, v in values])
    body = _metric(
        client,
        key,
        event=name,
        metric="avg",
        property="v",
        **{"from": "2024-06-01T00:00:00Z", "to": "2024-06-03T00:00:00Z"},
    ).json
    assert [p["value"] for p in body["data"]] == [1, 10]
    assert body["total"] == 3.25


def test_non_numeric_values_are_ignored(client: FlaskClient, key: Key) -> None:
    props = [{"v": 2}, {"v": "3"}, {"v": True}, {"v": None}, {"w": 5}, {"v": 2.5}]
    props += [{"v": 1e308}, {"v": -1e308}, {"v": 10**400}]  # past a double's sums: not numeric
    name = _track(
        client, key, [{"timestamp": "2024-07-01T00:00:00Z", "properties": p} for p in props]
    )
    span = {"from": "2024-07-01T00:00:00Z", "to": "2024-07-02T00:00:00Z"}
    assert _metric(client, key, event=name, metric="sum", property="v", **span).json["total"] == 4.5
    assert _metric(client, key, event=name, metric="count", **span).json["total"] == 9


def test_weeks_start_on_monday_and_hours_are_rfc3339(client: FlaskClient, key: Key) -> None:
    name = _track(
        client, key, [{"timestamp": "2024-01-07T23:59:59Z"}, {"timestamp": "2024-01-08T00:00:00Z"}]
    )
    weeks = _metric(
        client,
        key,
        event=name,
        interval="week",
        **{"from": "2024-01-03T00:00:00Z", "to": "2024-01-09T00:00:00Z"},
    ).json
    assert weeks["data"] == [{"date": "2024-01-01", "value": 1}, {"date": "2024-01-08", "value": 1}]
    hours = _metric(
        client,
        key,
        event=name,
        interval="hour",
        **{"from": "2024-01-07T23:30:00Z", "to": "2024-01-08T00:30:00Z"},
    ).json
    assert hours["data"] == [
        {"date": "2024-01-07T23:00:00Z", "value": 1},
        {"date": "2024-01-08T00:00:00Z", "value": 1},
    ]


def test_the_default_range_is_30_days_to_the_clock(client: FlaskClient, key: Key) -> None:
    body = _metric(client, key, event="purchase").json
    assert len(body["data"]) in (30, 31)
    assert body["total"] == sum(p["value"] for p in body["data"])


def test_limits_and_bad_queries(client: FlaskClient, key: Key) -> None:
    hours = _metric(
        client,
        key,
        event="purchase",
        interval="hour",
        **{"from": "2024-01-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"},
    )
    assert (
        assert_envelope(hours, 422, "validation_error")["details"][0]["error"] == "too_many_buckets"
    )
    exactly = _metric(
        client,
        key,
        event="purchase",
        interval="day",
        **{"from": "2020-01-01T00:00:00Z", "to": "2022-09-27T00:00:00Z"},
    )
    assert exactly.status_code == 200 and len(exactly.json["data"]) == 1000
    missing = _metric(client, key, event="purchase", metric="sum")
    assert assert_envelope(missing, 400, "bad_request")["details"] == [
        {"field": "property", "error": "required"}
    ]
    backwards = _metric(
        client,
        key,
        event="purchase",
        **{"from": "2024-02-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"},
    )
    assert_envelope(backwards, 422, "validation_error")
    assert_envelope(
        _metric(client, key, event="purchase", interval="year"), 422, "validation_error"
    )
    empty = _metric(
        client,
        key,
        event="purchase",
        **{"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"},
    ).json
    assert (empty["data"], empty["total"]) == ([], 0)


def test_website_filter_and_business_scope(client: FlaskClient, key: Key, other_key: Key) -> None:
    website = client.post(
        f"{BASE}/websites", json={"name": "S", "domain": "metrics.example.com"}, headers=key.headers
    ).json["id"]
    name = _track(
        client,
        key,
        [
            {"timestamp": "2024-08-01T00:00:00Z", "website_id": website},
            {"timestamp": "2024-08-01T00:00:00Z"},
        ],
    )
    span = {"from": "2024-08-01T00:00:00Z", "to": "2024-08-02T00:00:00Z"}
    assert _metric(client, key, event=name, **span).json["total"] == 2
    assert _metric(client, key, event=name, website_id=website, **span).json["total"] == 1
    assert _metric(client, other_key, event=name, **span).json["total"] == 0
