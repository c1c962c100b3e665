"""Rate limits: headers on every response, 429 with Retry-After, counts shared between processes.

The sliding window itself (no 60-second span over the limit) is `test_ratelimit_window`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask

from sandbox.http.app import shutdown

from ..conftest import BASE, build_app, key_for
from ..helpers import assert_envelope

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def limited_app(database_url: str) -> Iterator[Flask]:
    """A sandbox with the plans' real limits."""
    app = build_app(database_url, rate_limit_scale=1)
    yield app
    shutdown(app)


def test_every_response_carries_the_headers(limited_app: Flask) -> None:
    client = limited_app.test_client()
    key = key_for(limited_app)
    responses = [
        client.get(f"{BASE}/account", headers=key.headers),
        client.get(f"{BASE}/crm/contacts/con_missing", headers=key.headers),
        client.post(f"{BASE}/crm/contacts", json={}, headers=key.headers),
        client.get(f"{BASE}/account"),
        client.get(f"{BASE}/no/such/path", headers=key.headers),
        client.delete(f"{BASE}/account", headers=key.headers),
    ]
    for response in responses:
        assert all(name in response.headers for name in RATE_HEADERS), response.status_code
    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in responses if r.status_code != 401]
    assert remaining == sorted(remaining, reverse=True) and len(set(remaining)) == len(remaining)


def test_limit_follows_the_plan(limited_app: Flask) -> None:
    client = limited_app.test_client()
    for plan, limit in (
        ("starter", 60),
        ("builder", 120),
        ("professional", 300),
        ("enterprise", 1000),
    ):
        key = key_for(limited_app, plan=plan)
        response = client.get(f"{BASE}/account", headers=key.headers)
        assert response.headers["X-RateLimit-Limit"] == str(limit)
        assert response.json["limits"]["requests_per_minute"] == limit


def test_over_the_limit_is_429_with_retry_after(limited_app: Flask) -> None:
    client = limited_app.test_client()
    key = key_for(limited_app)
    responses = [client.get(f"{BASE}/account", headers=key.headers) for _ in range(61)]
    assert [r.status_code for r in responses[:60]] == [200] * 60
    response = responses[60]
    assert_envelope(response, 429, "rate_limit_exceeded")
    retry_after = int(response.headers["Retry-After"])
    reset = int(response.headers["X-RateLimit-Reset"])
    # A request counts in its whole second and the 60 after it (ratelimit.SPAN).
    assert 1 <= retry_after <= 61
    assert reset - retry_after <= time.time() < reset
    assert response.headers["X-RateLimit-Remaining"] == "0"
    other = key_for(limited_app, plan="builder")
    assert client.get(f"{BASE}/account", headers=other.headers).status_code == 200


def test_counts_are_shared_between_apps_on_one_database(
    limited_app: Flask, database_url: str
) -> None:
    second = build_app(database_url, rate_limit_scale=1)
    key = key_for(limited_app)
    first = limited_app.test_client().get(f"{BASE}/account", headers=key.headers)
    then = second.test_client().get(f"{BASE}/account", headers=key.headers)
    shutdown(second)
    assert (
        int(then.headers["X-RateLimit-Remaining"])
        == int(first.headers["X-RateLimit-Remaining"]) - 1
    )


def test_scale_zero_lifts_the_limit_but_keeps_counting(app: Flask) -> None:
    client = app.test_client()
    key = key_for(app)
    first = client.get(f"{BASE}/account", headers=key.headers)
    second = client.get(f"{BASE}/account", headers=key.headers)
    assert int(first.headers["X-RateLimit-Limit"]) >= 1_000_000
    assert (
        int(second.headers["X-RateLimit-Remaining"])
        == int(first.headers["X-RateLimit-Remaining"]) - 1
    )
