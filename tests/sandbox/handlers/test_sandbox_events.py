"""Webhook events as listWebhookEvents and getWebhookEvent show them: every event, in order."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import create_webhook


def events(client: FlaskClient, key: Key, query: str = "limit=200") -> list[dict[str, Any]]:
    response = client.get(f"{BASE}/sandbox/webhook-events?{query}", headers=key.headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def contact(client: FlaskClient, key: Key, name: str) -> dict[str, Any]:
    body = {"first_name": name, "last_name": "Test"}
    response = client.post(f"{BASE}/crm/contacts", json=body, headers=key.headers)
    assert response.status_code == 201
    return response.json


def test_an_event_is_recorded_with_no_webhook_subscribed(client: FlaskClient, key: Key) -> None:
    before = {event["id"] for event in events(client, key)}
    made = contact(client, key, "Unheard")
    (new,) = [event for event in events(client, key) if event["id"] not in before]
    assert (new["type"], new["data"]) == ("contact.created", made)
    assert new["company_id"] == key.company_id


def test_after_walks_forward_from_an_event_oldest_first(client: FlaskClient, key: Key) -> None:
    first = contact(client, key, "First")
    (cursor,) = events(client, key, "type=contact.created&limit=1")
    assert cursor["data"]["id"] == first["id"]
    later = [contact(client, key, f"Later{n}")["id"] for n in range(3)]
    walked = events(client, key, f"after={cursor['id']}")
    assert [event["data"]["id"] for event in walked] == later
    assert events(client, key, f"after={walked[-1]['id']}") == []
    newest = events(client, key, "limit=3")
    assert [event["id"] for event in newest] == [event["id"] for event in reversed(walked)]


def test_an_unknown_or_foreign_event_is_404(client: FlaskClient, key: Key, other_key: Key) -> None:
    contact(client, key, "Mine")
    (mine,) = events(client, key, "limit=1")
    for path in (
        f"/sandbox/webhook-events/{mine['id']}",
        f"/sandbox/webhook-events?after={mine['id']}",
    ):
        response = client.get(f"{BASE}{path}", headers=other_key.headers)
        assert response.status_code == 404 and response.json["code"] == "not_found"
    assert mine["id"] not in {event["id"] for event in events(client, other_key)}


def test_an_event_shows_its_deliveries(client: FlaskClient, key: Key) -> None:
    webhook = create_webhook(client, key, ["contact.created"])
    contact(client, key, "Delivered")
    (event,) = events(client, key, "limit=1")
    shown = client.get(f"{BASE}/sandbox/webhook-events/{event['id']}", headers=key.headers).json
    assert shown["event"] == event
    (delivery,) = [d for d in shown["deliveries"] if d["webhook_id"] == webhook["id"]]
    assert (delivery["event_id"], delivery["status"], delivery["payload"]) == (
        event["id"],
        "pending",
        event,
    )
    assert all(d["event_id"] == event["id"] for d in shown["deliveries"])
