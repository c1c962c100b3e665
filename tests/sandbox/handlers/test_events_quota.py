"""Events count against the plan's events-per-day quota, by the company's test-clock day."""

from __future__ import annotations

from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope


def _batch(client: FlaskClient, key: Key, size: int) -> object:
    events = [{"event": "quota_probe"} for _ in range(size)]
    return client.post(f"{BASE}/events/batch", json={"events": events}, headers=key.headers)


def _stored(client: FlaskClient, key: Key) -> int:
    return client.get(
        f"{BASE}/events", query_string={"event": "quota_probe"}, headers=key.headers
    ).json["total"]


def test_the_starter_quota_refuses_what_goes_over_and_the_next_day_resets_it(
    client: FlaskClient, key: Key
) -> None:
    assert key.plan == "starter"  # 10,000 events per day
    for _ in range(9):
        assert _batch(client, key, 1000).json["processed"] == 1000
    assert _batch(client, key, 999).json["processed"] == 999
    over = _batch(client, key, 2)  # a batch counts as a whole: 10,001 refuses both items
    body = assert_envelope(over, 429, "rate_limit_exceeded")
    assert "events_per_day" in body["message"]
    assert body["details"][0]["field"] == "events_per_day"
    assert int(over.headers["Retry-After"]) > 0
    assert _stored(client, key) == 9_999
    assert (
        client.post(
            f"{BASE}/events", json={"event": "quota_probe"}, headers=key.headers
        ).status_code
        == 201
    )
    one_more = client.post(f"{BASE}/events", json={"event": "quota_probe"}, headers=key.headers)
    assert_envelope(one_more, 429, "rate_limit_exceeded")
    assert _stored(client, key) == 10_000
    usage = client.get(f"{BASE}/account", headers=key.headers).json["usage"]
    assert usage["events_today"] == 10_000
    client.post(f"{BASE}/sandbox/clock/advance", json={"days": 1}, headers=key.headers)
    assert (
        client.post(
            f"{BASE}/events", json={"event": "quota_probe"}, headers=key.headers
        ).status_code
        == 201
    )
    assert _stored(client, key) == 10_001
