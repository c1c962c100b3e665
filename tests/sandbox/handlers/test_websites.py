"""Websites (PUT replaces), conversion events, and an analytics summary that agrees with data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope
from ..module_app import shared_app  # noqa: F401

RANGE = {"from": "2024-04-01T00:00:00Z", "to": "2024-05-01T00:00:00Z"}


def _website(client: FlaskClient, key: Key, **body: Any) -> dict[str, Any]:
    fields = {"name": "Shop", "domain": f"{uuid.uuid4().hex[:8]}.example.com", **body}
    response = client.post(f"{BASE}/websites", json=fields, headers=key.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def test_create_get_list_and_put_replaces(client: FlaskClient, key: Key) -> None:
    site = _website(client, key, currency="EUR")
    assert site["id"].startswith("web_") and site["currency"] == "EUR"
    assert client.get(f"{BASE}/websites/{site['id']}", headers=key.headers).json == site
    assert client.get(f"{BASE}/websites", headers=key.headers).json["items"][0]["id"] == site["id"]
    replaced = client.put(
        f"{BASE}/websites/{site['id']}",
        json={"name": "New", "domain": "new.example.com"},
        headers=key.headers,
    )
    assert replaced.status_code == 200
    assert (replaced.json["name"], replaced.json["domain"], replaced.json["currency"]) == (
        "New",
        "new.example.com",
        "USD",
    )
    assert replaced.json["created_at"] == site["created_at"]
    missing = client.put(
        f"{BASE}/websites/{site['id']}", json={"name": "Only"}, headers=key.headers
    )
    assert_envelope(missing, 400, "bad_request")
    bad = client.post(
        f"{BASE}/websites", json={"name": "X", "domain": "https://x.com/"}, headers=key.headers
    )
    assert_envelope(bad, 422, "validation_error")


def test_currency_cannot_change_once_revenue_is_recorded(client: FlaskClient, key: Key) -> None:
    site = _website(client, key, currency="EUR")
    client.post(
        f"{BASE}/revenue", json={"website_id": site["id"], "amount": 100}, headers=key.headers
    )
    changed = client.put(
        f"{BASE}/websites/{site['id']}",
        json={"name": "S", "domain": site["domain"]},
        headers=key.headers,
    )
    assert assert_envelope(changed, 422, "validation_error")["details"][0]["field"] == "currency"
    kept = client.put(
        f"{BASE}/websites/{site['id']}",
        json={"name": "S", "domain": site["domain"], "currency": "EUR"},
        headers=key.headers,
    )
    assert kept.status_code == 200


def test_conversion_events(client: FlaskClient, key: Key, other_key: Key) -> None:
    site = _website(client, key)
    url = f"{BASE}/websites/{site['id']}/conversion-events"
    created = client.post(
        url, json={"name": "Signed up", "event_name": "signup"}, headers=key.headers
    )
    assert created.status_code == 201
    assert created.json["id"].startswith("cev_") and created.json["website_id"] == site["id"]
    assert_envelope(
        client.post(url, json={"name": "Again", "event_name": "signup"}, headers=key.headers),
        409,
        "conflict",
    )
    client.post(url, json={"name": "Bought", "event_name": "purchase"}, headers=key.headers)
    listed = client.get(url, headers=key.headers).json
    assert [c["event_name"] for c in listed["items"]] == ["purchase", "signup"]
    assert_envelope(client.get(url, headers=other_key.headers), 404, "not_found")
    assert_envelope(
        client.get(f"{BASE}/websites/web_nope/conversion-events", headers=key.headers),
        404,
        "not_found",
    )


def test_summary_agrees_with_events_conversions_and_revenue(client: FlaskClient, key: Key) -> None:
    site, other = _website(client, key, currency="EUR"), _website(client, key)
    client.post(
        f"{BASE}/websites/{site['id']}/conversion-events",
        json={"name": "S", "event_name": "signup"},
        headers=key.headers,
    )
    client.post(
        f"{BASE}/websites/{site['id']}/conversion-events",
        json={"name": "P", "event_name": "purchase"},
        headers=key.headers,
    )
    events = [
        ("pageview", "v1", "2024-04-01T00:00:00Z"),
        ("page_view", "v2", "2024-04-10T12:00:00+05:00"),
        ("pageview", "v1", "2024-04-30T23:59:59.999999Z"),
        ("signup", "v2", "2024-04-02T00:00:00Z"),
        ("purchase", None, "2024-04-03T00:00:00Z"),
        ("click", "v3", "2024-04-04T00:00:00Z"),
        ("pageview", "v4", "2024-05-01T00:00:00Z"),  # after the range
        ("pageview", "v5", "2024-03-31T23:59:59.999999Z"),  # before it
    ]
    batch = [{"event": e, "timestamp": t, **({"visitor_id": v} if v else {})} for e, v, t in events]
    client.post(
        f"{BASE}/events/batch",
        json={"events": batch, "website_id": site["id"]},
        headers=key.headers,
    )
    client.post(
        f"{BASE}/events/batch",
        json={"events": batch, "website_id": other["id"]},
        headers=key.headers,
    )
    for amount, at in (
        (1999, "2024-04-03T00:00:00Z"),
        (500, "2024-04-20T00:00:00Z"),
        (7000, "2024-05-01T00:00:00Z"),
    ):
        client.post(
            f"{BASE}/revenue",
            json={"website_id": site["id"], "amount": amount, "timestamp": at},
            headers=key.headers,
        )
    summary = client.get(
        f"{BASE}/analytics", query_string={"website_id": site["id"], **RANGE}, headers=key.headers
    ).json
    assert summary == {
        "website_id": site["id"],
        "from": RANGE["from"],
        "to": RANGE["to"],
        "visitors": 3,
        "pageviews": 3,
        "conversions": 2,
        "revenue": {"amount": 2499, "currency": "EUR"},
    }
    plain = client.get(
        f"{BASE}/analytics", query_string={"website_id": other["id"], **RANGE}, headers=key.headers
    ).json
    assert (plain["conversions"], plain["revenue"]) == (0, {"amount": 0, "currency": "USD"})


def test_summary_of_an_unknown_website_is_404(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    site = _website(client, other_key)
    for website_id in ("web_nope", site["id"]):
        response = client.get(
            f"{BASE}/analytics", query_string={"website_id": website_id}, headers=key.headers
        )
        assert_envelope(response, 404, "not_found")


def test_seeded_websites_summarize_their_seeded_data(client: FlaskClient, key: Key) -> None:
    seeded = client.get(f"{BASE}/websites", query_string={"limit": 200}, headers=key.headers).json[
        "items"
    ]
    site = next(s for s in seeded if not s["domain"].endswith("example.com"))
    summary = client.get(
        f"{BASE}/analytics", query_string={"website_id": site["id"]}, headers=key.headers
    ).json
    span = {"website_id": site["id"], "from": summary["from"], "to": summary["to"]}

    def total(path: str, **query: str) -> int:
        return client.get(
            f"{BASE}/{path}", query_string={**span, **query}, headers=key.headers
        ).json["total"]

    assert (
        summary["pageviews"]
        == total("events", event="pageview") + total("events", event="page_view")
        > 0
    )
    assert summary["conversions"] == total("events", event="signup") + total(
        "events", event="purchase"
    )
    revenue = client.get(
        f"{BASE}/revenue",
        query_string={"website_id": site["id"], "limit": 200},
        headers=key.headers,
    ).json
    start, end = (datetime.fromisoformat(summary[k]) for k in ("from", "to"))
    in_range = [
        r["amount"]
        for r in revenue["items"]
        if start <= datetime.fromisoformat(r["timestamp"]) < end
    ]
    assert summary["revenue"]["amount"] == sum(in_range) > 0
