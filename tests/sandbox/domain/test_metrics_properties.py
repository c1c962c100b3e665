"""Every metric and interval against a plain-Python computation over the same generated events.

Events sit on and next to bucket edges, in every zone; ranges start and end anywhere (or
nowhere: empty ranges), so both the hourly rollups and the edge reads are exercised.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..conftest import BASE, Key
from ..module_app import shared_app  # noqa: F401

METRICS = ("count", "sum", "avg", "min", "max")
ORIGIN = datetime(2024, 2, 26, tzinfo=UTC)  # a Monday, just before a leap day
STEP = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=31),
}
ZONES = [timezone(timedelta(minutes=m)) for m in (0, -720, -570, -300, 60, 330, 345, 540, 840)]
NUDGES = [
    timedelta(0),
    timedelta(microseconds=1),
    -timedelta(microseconds=1),
    timedelta(minutes=59),
]


def floor(moment: datetime, interval: str) -> datetime:
    """Start of the UTC bucket holding `moment`, computed the obvious way."""
    moment = moment.astimezone(UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def following(start: datetime, interval: str) -> datetime:
    if interval == "month":
        return (start + timedelta(days=32)).replace(day=1)
    return start + STEP[interval]


def expected(
    events: list[tuple[datetime, Any]], start: datetime, end: datetime, interval: str, metric: str
) -> tuple[list, Any]:
    """(data, total) as the spec describes them."""
    keys, key = [], floor(start, interval)
    while start < end and key < end:
        keys.append(key)
        key = following(key, interval)
    buckets: dict[datetime, list[Any]] = {k: [] for k in keys}
    for moment, value in events:
        if start <= moment < end:
            buckets[floor(moment, interval)].append(value)

    def aggregate(values: list[Any]) -> Any:
        if metric == "count":
            return len(values)
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if metric == "sum":
            return sum(numbers)
        if not numbers:
            return None
        return {"avg": sum(numbers) / len(numbers), "min": min(numbers), "max": max(numbers)}[
            metric
        ]

    def label(k: datetime) -> str:
        return k.strftime("%Y-%m-%dT%H:00:00Z") if interval == "hour" else k.date().isoformat()

    data = [{"date": label(k), "value": aggregate(buckets[k])} for k in keys]
    return data, aggregate([v for k in keys for v in buckets[k]])


def same(actual: Any, wanted: Any) -> bool:
    if actual is None or wanted is None:
        return actual is wanted
    return math.isclose(actual, wanted, rel_tol=1e-9, abs_tol=1e-6)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    interval = draw(st.sampled_from(list(STEP)))
    step = STEP[interval]
    start = (
        ORIGIN
        + draw(st.integers(-3, 3)) * step
        + draw(st.sampled_from(NUDGES + [timedelta(seconds=draw(st.integers(0, 86_399)))]))
    )
    if draw(st.booleans()):
        start = floor(start, interval)
    span = (
        draw(st.sampled_from([timedelta(0), step / 3, step, 2 * step]))
        + draw(st.integers(0, 12)) * step
    )
    end = start + span + draw(st.sampled_from(NUDGES))
    end = max(end, start)
    edges, key = [], floor(start, interval)
    while key <= end + step:
        edges.append(key)
        key = following(key, interval)
    times = st.one_of(
        st.builds(lambda e, n: e + n, st.sampled_from(edges), st.sampled_from(NUDGES)),
        st.builds(lambda s: start + s * (end - start + step) / 1000, st.integers(-100, 1100)),
        st.sampled_from([start, end, end - timedelta(microseconds=1)]),
    )
    values = st.one_of(
        st.integers(-(10**6), 10**6),
        st.builds(lambda c: c / 100, st.integers(-(10**8), 10**8)),
        st.sampled_from(["12", True, None]),
    )
    events = draw(
        st.lists(
            st.tuples(times, st.one_of(st.none(), values), st.sampled_from(ZONES), st.booleans()),
            max_size=25,
        )
    )
    return {
        "interval": interval,
        "start": start,
        "end": end,
        "events": events,
        "zones": draw(st.tuples(st.sampled_from(ZONES), st.sampled_from(ZONES))),
        "website_filter": draw(st.booleans()),
    }


@pytest.fixture
def website(client: FlaskClient, key: Key) -> str:
    body = {"name": "Props", "domain": f"{uuid.uuid4().hex[:8]}.example.org"}
    return client.post(f"{BASE}/websites", json=body, headers=key.headers).json["id"]


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_every_metric_matches_a_plain_computation(
    client: FlaskClient, key: Key, website: str, scenario: dict[str, Any]
) -> None:
    name = f"p-{uuid.uuid4().hex}"
    interval, start, end = scenario["interval"], scenario["start"], scenario["end"]
    stored: list[tuple[datetime, Any, bool]] = []
    items = []
    for moment, value, zone, on_site in scenario["events"]:
        item: dict[str, Any] = {"event": name, "timestamp": moment.astimezone(zone).isoformat()}
        if value is not None:
            item["properties"] = {"v": value}
        if on_site:
            item["website_id"] = website
        items.append(item)
        stored.append((moment, value if value is not None else "absent", on_site))
    if items:
        result = client.post(
            f"{BASE}/events/batch", json={"events": items}, headers=key.headers
        ).json
        assert result["processed"] == len(items)
    from_zone, to_zone = scenario["zones"]
    query: dict[str, Any] = {
        "event": name,
        "interval": interval,
        "from": start.astimezone(from_zone).isoformat(),
        "to": end.astimezone(to_zone).isoformat(),
        "property": "v",
    }
    if scenario["website_filter"]:
        query["website_id"] = website
        stored = [s for s in stored if s[2]]
    events = [(moment, value) for moment, value, _ in stored]
    for metric in METRICS:
        response = client.get(
            f"{BASE}/metrics", query_string={**query, "metric": metric}, headers=key.headers
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.json
        data, total = expected(events, start, end, interval, metric)
        assert [p["date"] for p in body["data"]] == [p["date"] for p in data], metric
        for got, want in zip(body["data"], data, strict=True):
            assert same(got["value"], want["value"]), (metric, got, want)
        assert same(body["total"], total), (metric, body["total"], total)
        assert body["from"] == start.isoformat().replace("+00:00", "Z")
