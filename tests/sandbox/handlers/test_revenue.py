"""Revenue: recorded in the website's currency, listed newest first, fetched by id."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope
from ..module_app import shared_app  # noqa: F401


def _website(client: FlaskClient, key: Key, currency: str = "USD") -> str:
    body = {"name": "Shop", "domain": f"{uuid.uuid4().hex[:8]}.example.com", "currency": currency}
    return client.post(f"{BASE}/websites", json=body, headers=key.headers).json["id"]


def _record(client: FlaskClient, key: Key, **body: Any) -> Any:
    return client.post(f"{BASE}/revenue", json=body, headers=key.headers)


def test_record_get_and_list(client: FlaskClient, key: Key) -> None:
    site = _website(client, key)
    body = {
        "website_id": site,
        "amount": 2999,
        "currency": "USD",
        "visitor_id": "vis_1",
        "order_id": "order_1001",
        "timestamp": "2024-01-15T10:30:00-05:00",
    }
    created = _record(client, key, **body)
    assert created.status_code == 201
    revenue = created.json
    assert revenue["id"].startswith("rev_")
    assert (revenue["amount"], revenue["currency"], revenue["timestamp"]) == (
        2999,
        "USD",
        "2024-01-15T15:30:00Z",
    )
    assert client.get(f"{BASE}/revenue/{revenue['id']}", headers=key.headers).json == revenue
    later = _record(client, key, website_id=site, amount=5).json
    listed = client.get(
        f"{BASE}/revenue", query_string={"website_id": site}, headers=key.headers
    ).json
    assert [r["id"] for r in listed["items"]] == [later["id"], revenue["id"]]
    assert (later["visitor_id"], later["order_id"]) == (None, None)


def test_currency_defaults_to_the_websites_and_must_match_it(client: FlaskClient, key: Key) -> None:
    site = _website(client, key, currency="EUR")
    assert _record(client, key, website_id=site, amount=100).json["currency"] == "EUR"
    assert _record(client, key, website_id=site, amount=100, currency="EUR").status_code == 201
    mismatch = _record(client, key, website_id=site, amount=100, currency="USD")
    error = assert_envelope(mismatch, 422, "validation_error")
    assert error["details"] == [
        {"field": "currency", "error": "currency_mismatch", "received": "USD"}
    ]


def test_amount_must_be_a_positive_integer(client: FlaskClient, key: Key) -> None:
    site = _website(client, key)
    for amount in (0, -5):
        error = assert_envelope(
            _record(client, key, website_id=site, amount=amount), 422, "validation_error"
        )
        assert error["details"] == [
            {"field": "amount", "error": "must_be_positive", "received": amount}
        ]
    assert_envelope(_record(client, key, website_id=site, amount=9.99), 422, "validation_error")
    assert_envelope(_record(client, key, website_id=site), 400, "bad_request")


def test_unknown_or_foreign_website_is_422_and_ids_are_scoped(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    foreign = _website(client, other_key)
    for website_id in ("web_nope", foreign):
        error = assert_envelope(
            _record(client, key, website_id=website_id, amount=1), 422, "validation_error"
        )
        assert error["details"][0] == {
            "field": "website_id",
            "error": "not_found",
            "received": website_id,
        }
    theirs = _record(client, other_key, website_id=foreign, amount=1).json
    assert_envelope(
        client.get(f"{BASE}/revenue/{theirs['id']}", headers=key.headers), 404, "not_found"
    )
