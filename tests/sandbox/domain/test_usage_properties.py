"""Ingest results and usage of every aggregation against a plain-Python computation.

Generated batches repeat event ids (within a batch and across batches), name unknown
customers, and stamp events in every zone on and next to the range's edges.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..conftest import BASE, Key
from ..module_app import shared_app  # noqa: F401

AGGREGATIONS = ("sum", "count", "max", "min")
START = datetime(2025, 3, 30, 23, 0, tzinfo=UTC)
ZONES = [timezone(timedelta(minutes=m)) for m in (0, -600, -210, 120, 330, 765)]
TINY = timedelta(microseconds=1)


def plain_usage(
    stored: list[dict[str, Any]],
    customer: str | None,
    start: datetime,
    end: datetime,
    aggregation: str,
) -> tuple[Any, int]:
    values = [
        e["value"] for e in stored if start <= e["at"] < end and customer in (None, e["customer"])
    ]
    if aggregation == "count":
        return len(values), len(values)
    if aggregation == "sum":
        return sum(values), len(values)
    return ((max if aggregation == "max" else min)(values) if values else None), len(values)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    span = timedelta(seconds=draw(st.integers(0, 7 * 86_400)))
    end = START + span
    moments = st.one_of(
        st.sampled_from([START - TINY, START, START + TINY, end - TINY, end, end + TINY]),
        st.builds(
            lambda s: START + s * (span + timedelta(hours=2)) / 100 - timedelta(hours=1),
            st.integers(0, 100),
        ),
    )
    item = st.fixed_dictionaries(
        {
            "id": st.integers(0, 12),
            "customer": st.sampled_from(["a", "b", "unknown"]),
            "meter": st.sampled_from(AGGREGATIONS),
            "value": st.one_of(
                st.none(),
                st.integers(0, 10**6),
                st.builds(lambda c: c / 1000, st.integers(0, 10**9)),
            ),
            "at": moments,
            "zone": st.sampled_from(ZONES),
        }
    )
    batches = draw(st.lists(st.lists(item, min_size=1, max_size=12), min_size=1, max_size=3))
    return {
        "end": end,
        "batches": batches,
        "zones": draw(st.tuples(st.sampled_from(ZONES), st.sampled_from(ZONES))),
    }


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_ingest_and_usage_match_a_plain_computation(
    client: FlaskClient, key: Key, scenario: dict[str, Any]
) -> None:
    tag = uuid.uuid4().hex[:12]
    customers = {
        c: client.post(f"{BASE}/customers", json={"name": c}, headers=key.headers).json["id"]
        for c in ("a", "b")
    }
    customers["unknown"] = f"cus_unknown{tag}"
    meters = {}
    for aggregation in AGGREGATIONS:
        body = {
            "name": aggregation,
            "event_name": f"p{tag}.{aggregation}",
            "aggregation": aggregation,
        }
        meters[aggregation] = client.post(f"{BASE}/meters", json=body, headers=key.headers).json[
            "id"
        ]
    seen: set[str] = set()
    stored: dict[str, list[dict[str, Any]]] = {a: [] for a in AGGREGATIONS}
    for batch in scenario["batches"]:
        events, wanted = [], []
        for item in batch:
            event_id = f"{tag}-{item['id']}"
            event = {
                "event_id": event_id,
                "customer_id": customers[item["customer"]],
                "event_name": f"p{tag}.{item['meter']}",
                "timestamp": item["at"].astimezone(item["zone"]).isoformat(),
            }
            if item["value"] is not None:
                event["value"] = item["value"]
            events.append(event)
            if item["customer"] == "unknown":
                wanted.append("rejected")
            elif event_id in seen:
                wanted.append("duplicate")
            else:
                seen.add(event_id)
                wanted.append("ingested")
                value = 1 if item["value"] is None else item["value"]
                stored[item["meter"]].append(
                    {"customer": item["customer"], "value": value, "at": item["at"]}
                )
        result = client.post(
            f"{BASE}/meters/ingest", json={"events": events}, headers=key.headers
        ).json
        assert [r["status"] for r in result["results"]] == wanted
        assert (result["ingested"], result["duplicates"], result["rejected"]) == tuple(
            wanted.count(s) for s in ("ingested", "duplicate", "rejected")
        )
    from_zone, to_zone = scenario["zones"]
    query = {
        "from": START.astimezone(from_zone).isoformat(),
        "to": scenario["end"].astimezone(to_zone).isoformat(),
    }
    for aggregation, meter in meters.items():
        for customer in (None, "a", "b"):
            extra = {"customer_id": customers[customer]} if customer else {}
            body = client.get(
                f"{BASE}/meters/{meter}/usage", query_string={**query, **extra}, headers=key.headers
            ).json
            value, count = plain_usage(
                stored[aggregation], customer, START, scenario["end"], aggregation
            )
            assert body["event_count"] == count
            if value is None or body["value"] is None:
                assert body["value"] is value, (aggregation, customer, body, value)
            else:
                assert math.isclose(body["value"], value, rel_tol=1e-12, abs_tol=1e-9), (
                    aggregation,
                    customer,
                    body,
                    value,
                )
