"""Idempotency-Key: byte-for-byte replays, 409 on another payload, 24 h expiry, concurrency."""

from __future__ import annotations

import threading
import uuid

from flask import Flask
from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope


def _count(client: FlaskClient, key: Key, name: str) -> int:
    return client.get(f"{BASE}/crm/contacts?search={name}", headers=key.headers).json["total"]


def test_replay_is_byte_for_byte_with_the_header(client: FlaskClient, key: Key) -> None:
    headers = {**key.headers, "Idempotency-Key": str(uuid.uuid4())}
    first = client.post(f"{BASE}/crm/contacts", json={"first_name": "Replay"}, headers=headers)
    second = client.post(f"{BASE}/crm/contacts", json={"first_name": "Replay"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_data() == second.get_data()
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    assert _count(client, key, "Replay") == 1


def test_same_key_other_payload_is_409(client: FlaskClient, key: Key) -> None:
    headers = {**key.headers, "Idempotency-Key": str(uuid.uuid4())}
    client.post(f"{BASE}/crm/contacts", json={"first_name": "One"}, headers=headers)
    response = client.post(f"{BASE}/crm/contacts", json={"first_name": "Two"}, headers=headers)
    assert_envelope(response, 409, "conflict")


def test_same_key_other_path_is_409(client: FlaskClient, key: Key) -> None:
    headers = {**key.headers, "Idempotency-Key": str(uuid.uuid4())}
    contact = client.post(f"{BASE}/crm/contacts", json={"first_name": "P"}, headers=headers).json
    response = client.post(
        f"{BASE}/crm/deals", json={"title": "D", "contact_id": contact["id"]}, headers=headers
    )
    assert_envelope(response, 409, "conflict")


def test_keys_are_scoped_to_the_company(client: FlaskClient, key: Key, other_key: Key) -> None:
    shared = str(uuid.uuid4())
    mine = client.post(
        f"{BASE}/crm/contacts",
        json={"first_name": "S"},
        headers={**key.headers, "Idempotency-Key": shared},
    )
    theirs = client.post(
        f"{BASE}/crm/contacts",
        json={"first_name": "S"},
        headers={**other_key.headers, "Idempotency-Key": shared},
    )
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert mine.json["id"] != theirs.json["id"]


def test_a_failed_request_is_not_stored(client: FlaskClient, key: Key) -> None:
    headers = {**key.headers, "Idempotency-Key": str(uuid.uuid4())}
    failed = client.post(
        f"{BASE}/crm/deals", json={"title": "D", "contact_id": "con_nope"}, headers=headers
    )
    assert failed.status_code == 422
    contact = client.post(
        f"{BASE}/crm/contacts", json={"first_name": "Later"}, headers=key.headers
    ).json
    retried = client.post(
        f"{BASE}/crm/deals", json={"title": "D", "contact_id": contact["id"]}, headers=headers
    )
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers


def test_keys_expire_after_24_hours_of_the_test_clock(client: FlaskClient, key: Key) -> None:
    headers = {**key.headers, "Idempotency-Key": str(uuid.uuid4())}
    first = client.post(
        f"{BASE}/crm/contacts", json={"first_name": "Expiring"}, headers=headers
    ).json
    client.post(f"{BASE}/sandbox/clock/advance", json={"seconds": 86_401}, headers=key.headers)
    again = client.post(f"{BASE}/crm/contacts", json={"first_name": "Expiring"}, headers=headers)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.json["id"] != first["id"]


def test_concurrent_requests_with_one_key_create_one_resource(app: Flask, key: Key) -> None:
    name = "Concurrent" + uuid.uuid4().hex[:8]
    headers = {**key.headers, "Idempotency-Key": str(uuid.uuid4())}
    barrier = threading.Barrier(8)
    results: list[tuple[int, bytes, str | None]] = []

    def post() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"{BASE}/crm/contacts", json={"first_name": name}, headers=headers)
        results.append(
            (response.status_code, response.get_data(), response.headers.get("Idempotent-Replayed"))
        )

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _, _ in results} == {201}
    assert len({body for _, body, _ in results}) == 1
    assert sorted(replayed or "" for _, _, replayed in results) == [""] + ["true"] * 7
    assert _count(app.test_client(), key, name) == 1
