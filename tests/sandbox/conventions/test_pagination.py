"""Offset/limit pagination: the page shape, its invariants, and out-of-range limits."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope


def test_defaults_are_50_and_0(client: FlaskClient, key: Key) -> None:
    body = client.get(f"{BASE}/crm/contacts", headers=key.headers).json
    assert (body["limit"], body["offset"]) == (50, 0)
    assert len(body["items"]) == min(50, body["total"])


@pytest.mark.parametrize("limit", [1, 7, 200])
def test_walking_every_page_yields_every_item_once(
    client: FlaskClient, key: Key, limit: int
) -> None:
    seen: list[str] = []
    offset, total = 0, None
    while True:
        body = client.get(
            f"{BASE}/crm/contacts?limit={limit}&offset={offset}", headers=key.headers
        ).json
        total = body["total"] if total is None else total
        assert body["total"] == total
        assert len(body["items"]) <= limit
        assert body["has_more"] == (offset + len(body["items"]) < total)
        seen += [item["id"] for item in body["items"]]
        if not body["has_more"]:
            break
        offset += limit
    assert len(seen) == len(set(seen)) == total


def test_offset_past_the_end_is_an_empty_page(client: FlaskClient, key: Key) -> None:
    body = client.get(f"{BASE}/crm/contacts?offset=100000", headers=key.headers).json
    assert body["items"] == [] and body["has_more"] is False and body["total"] > 0


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=201", "limit=-1", "limit=ten", "offset=-1", f"limit={10**30}"],
)
def test_out_of_range_is_422(client: FlaskClient, key: Key, query: str) -> None:
    response = client.get(f"{BASE}/crm/contacts?{query}", headers=key.headers)
    body = assert_envelope(response, 422, "validation_error")
    assert body["details"][0]["field"] == query.split("=")[0]


def test_an_empty_list_totals_zero(client: FlaskClient, key: Key) -> None:
    body = client.get(f"{BASE}/crm/contacts?search=no-such-contact", headers=key.headers).json
    assert body == {"items": [], "total": 0, "limit": 50, "offset": 0, "has_more": False}


def test_search_filters_before_paginating(client: FlaskClient, key: Key) -> None:
    for name in ("Zyxwv", "Zyxwvu", "Other"):
        client.post(f"{BASE}/crm/contacts", json={"first_name": name}, headers=key.headers)
    body = client.get(f"{BASE}/crm/contacts?search=zyxwv&limit=1", headers=key.headers).json
    assert body["total"] == 2 and body["has_more"] is True
