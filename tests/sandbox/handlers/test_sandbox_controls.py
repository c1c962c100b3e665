"""Sandbox controls: deprecation headers, the test clock, the request log and reset."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_healthz_needs_no_key(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_deprecated_operation_carries_deprecation_and_sunset(client: FlaskClient, key: Key) -> None:
    for response in (
        client.post(f"{BASE}/track", json={}, headers=key.headers),
        client.post(f"{BASE}/track", headers=key.headers),
    ):
        assert response.headers["Deprecation"].startswith("@")
        sunset = datetime.strptime(response.headers["Sunset"], "%a, %d %b %Y %H:%M:%S GMT")
        deprecated = datetime.fromtimestamp(int(response.headers["Deprecation"][1:]))
        assert sunset - deprecated >= timedelta(days=182)
    assert "Deprecation" not in client.get(f"{BASE}/account", headers=key.headers).headers


def test_clock_advances_and_never_goes_back(client: FlaskClient, key: Key) -> None:
    before = client.get(f"{BASE}/sandbox/clock", headers=key.headers).json
    after = client.post(f"{BASE}/sandbox/clock/advance", json={"days": 2}, headers=key.headers).json
    assert after["offset_seconds"] == before["offset_seconds"] + 2 * 86_400
    assert _time(after["now"]) - _time(before["now"]) >= timedelta(days=2)
    assert client.get(f"{BASE}/account", headers=key.headers).json["now"] >= after["now"][:16]
    past = (_time(after["now"]) - timedelta(hours=1)).isoformat()
    body = assert_envelope(
        client.post(f"{BASE}/sandbox/clock/advance", json={"to": past}, headers=key.headers),
        422,
        "validation_error",
    )
    assert body["details"][0]["field"] == "to"
    assert_envelope(
        client.post(
            f"{BASE}/sandbox/clock/advance", json={"days": 1, "seconds": 5}, headers=key.headers
        ),
        422,
        "validation_error",
    )


def test_clocks_are_per_company(client: FlaskClient, key: Key, other_key: Key) -> None:
    client.post(f"{BASE}/sandbox/clock/advance", json={"days": 30}, headers=key.headers)
    assert (
        client.get(f"{BASE}/sandbox/clock", headers=other_key.headers).json["offset_seconds"] == 0
    )


def test_request_log_lists_the_companys_requests(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    missing = client.get(f"{BASE}/crm/contacts/con_nope", headers=key.headers)
    client.get(f"{BASE}/account", headers=other_key.headers)
    log = client.get(f"{BASE}/sandbox/requests?limit=5", headers=key.headers).json
    entry = next(e for e in log["items"] if e["request_id"] == missing.headers["X-Request-Id"])
    assert (entry["method"], entry["path"], entry["status"]) == (
        "GET",
        f"{BASE}/crm/contacts/con_nope",
        404,
    )
    assert entry["operation_id"] == "getContact" and entry["duration_ms"] > 0
    assert all(e["operation_id"] != "getAccount" for e in log["items"])
    only_404 = client.get(f"{BASE}/sandbox/requests?status=404", headers=key.headers).json
    assert only_404["total"] >= 1 and {e["status"] for e in only_404["items"]} == {404}


def test_reset_restores_the_seeded_data_of_the_company_only(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    seeded = client.get(f"{BASE}/crm/contacts?limit=200", headers=key.headers).json
    created = client.post(
        f"{BASE}/crm/contacts", json={"first_name": "Temp"}, headers=key.headers
    ).json
    client.delete(f"{BASE}/crm/deals/{_first_deal(client, key)}", headers=key.headers)
    theirs = client.post(
        f"{BASE}/crm/contacts", json={"first_name": "Kept"}, headers=other_key.headers
    ).json
    client.post(f"{BASE}/sandbox/clock/advance", json={"days": 3}, headers=key.headers)
    response = client.post(f"{BASE}/sandbox/reset", headers=key.headers)
    assert response.status_code == 200
    after = client.get(f"{BASE}/crm/contacts?limit=200", headers=key.headers).json
    assert [c["id"] for c in after["items"]] == [c["id"] for c in seeded["items"]]
    assert (
        client.get(f"{BASE}/crm/contacts/{created['id']}", headers=key.headers).status_code == 404
    )
    assert (
        client.get(f"{BASE}/crm/contacts/{theirs['id']}", headers=other_key.headers).status_code
        == 200
    )
    assert client.get(f"{BASE}/sandbox/clock", headers=key.headers).json["offset_seconds"] == 0


def test_reset_needs_the_write_scope(client: FlaskClient, read_only_key: Key) -> None:
    assert_envelope(
        client.post(f"{BASE}/sandbox/reset", headers=read_only_key.headers), 403, "forbidden"
    )


def _first_deal(client: FlaskClient, key: Key) -> str:
    return client.get(f"{BASE}/crm/deals?limit=1", headers=key.headers).json["items"][0]["id"]
