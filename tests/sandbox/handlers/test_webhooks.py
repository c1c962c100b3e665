"""Webhook subscriptions, the deliveries operations queue, and test events (nothing sent here)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from flask.testing import FlaskClient
from sqlalchemy import func, select

from sandbox.spec import SPEC_PATH
from sandbox.storage.database import Database
from sandbox.storage.webhooks import WebhookDelivery, WebhookEvent

from ..conftest import BASE, Key
from ..helpers import DECLINED, EVENT_TYPES, create_order, create_webhook, pay
from ..module_app import shared_app  # noqa: F401

SPEC = yaml.safe_load(SPEC_PATH.read_text())


def deliveries(
    client: FlaskClient, key: Key, webhook_id: str, query: str = ""
) -> list[dict[str, Any]]:
    response = client.get(
        f"{BASE}/webhooks/{webhook_id}/deliveries?limit=200{query}", headers=key.headers
    )
    assert response.status_code == 200
    return response.json["items"]


def test_secret_is_shown_only_at_creation(client: FlaskClient, key: Key) -> None:
    webhook = create_webhook(client, key, ["contact.created"], description="CRM sync")
    assert webhook["secret"].startswith("whsec_")
    shown = {k: v for k, v in webhook.items() if k != "secret"}
    assert client.get(f"{BASE}/webhooks/{webhook['id']}", headers=key.headers).json == shown
    listed = client.get(f"{BASE}/webhooks?limit=200", headers=key.headers).json["items"]
    assert all("secret" not in item for item in listed)
    assert listed[0] == shown


def test_update_changes_only_the_fields_given(client: FlaskClient, key: Key) -> None:
    webhook = create_webhook(client, key, ["contact.created"])
    changed = {"enabled": False, "events": ["sms.logged"]}
    response = client.patch(f"{BASE}/webhooks/{webhook['id']}", json=changed, headers=key.headers)
    assert response.status_code == 200
    assert response.json == {k: v for k, v in webhook.items() if k != "secret"} | changed


def test_every_operation_queues_its_event(client: FlaskClient, key: Key) -> None:
    webhook = create_webhook(client, key)
    headers = key.headers
    contact = client.post(f"{BASE}/crm/contacts", json={"first_name": "Eve"}, headers=headers).json
    client.patch(
        f"{BASE}/crm/contacts/{contact['id']}", json={"last_name": "Stone"}, headers=headers
    )
    deal = client.post(
        f"{BASE}/crm/deals",
        json={"title": "Roof", "stage": "new", "contact_id": contact["id"]},
        headers=headers,
    ).json
    client.patch(f"{BASE}/crm/deals/{deal['id']}", json={"stage": "won"}, headers=headers)
    client.post(
        f"{BASE}/sms/send", json={"to_phone": "+18015551234", "message": "Hi"}, headers=headers
    )
    order = create_order(client, key)
    pay(client, key, order["id"], DECLINED)
    payment = pay(client, key, order["id"]).json
    client.post(f"{BASE}/refunds", json={"payment_id": payment["id"], "amount": 1}, headers=headers)
    client.post(f"{BASE}/orders/{create_order(client, key)['id']}/cancel", headers=headers)
    line = {"description": "Work", "quantity": 1, "unit_amount": 100}
    client.post(
        f"{BASE}/invoices",
        json={"contact_id": contact["id"], "line_items": [line]},
        headers=headers,
    )
    gone = client.post(f"{BASE}/crm/contacts", json={"first_name": "Gone"}, headers=headers).json
    client.delete(f"{BASE}/crm/contacts/{gone['id']}", headers=headers)
    queued = deliveries(client, key, webhook["id"])
    assert {d["event_type"] for d in queued} == set(EVENT_TYPES) - {"webhook.test"}
    assert all(d["status"] == "pending" and d["attempts"] == [] for d in queued)
    by_type = {d["event_type"]: d["payload"] for d in queued}
    assert by_type["payment.succeeded"]["data"] == payment
    assert by_type["deal.stage_changed"]["data"]["previous_stage"] == "new"
    assert by_type["contact.created"]["business_id"] == by_type["sms.logged"]["business_id"]


def test_only_subscribed_types_reach_an_enabled_webhook(client: FlaskClient, key: Key) -> None:
    sms_only = create_webhook(client, key, ["sms.logged"])
    disabled = create_webhook(client, key, ["contact.created"])
    client.patch(f"{BASE}/webhooks/{disabled['id']}", json={"enabled": False}, headers=key.headers)
    client.post(f"{BASE}/crm/contacts", json={"first_name": "Zed"}, headers=key.headers)
    assert deliveries(client, key, sms_only["id"]) == []
    assert deliveries(client, key, disabled["id"]) == []


def test_test_event_is_queued_whatever_the_subscription(client: FlaskClient, key: Key) -> None:
    webhook = create_webhook(client, key, ["invoice.created"])
    response = client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
    assert response.status_code == 202
    delivery = response.json
    assert (delivery["event_type"], delivery["status"], delivery["attempt_count"]) == (
        "webhook.test",
        "pending",
        0,
    )
    assert delivery["payload"]["data"]["webhook_id"] == webhook["id"]
    url = f"{BASE}/webhooks/{webhook['id']}/deliveries/{delivery['id']}"
    assert client.get(url, headers=key.headers).json == delivery


def test_test_event_of_a_type_carries_the_spec_example(client: FlaskClient, key: Key) -> None:
    webhook = create_webhook(client, key, ["sms.logged"])
    for event_type in EVENT_TYPES:
        body = {"event_type": event_type}
        delivery = client.post(
            f"{BASE}/webhooks/{webhook['id']}/test", json=body, headers=key.headers
        ).json
        example = SPEC["webhooks"][event_type]["post"]["requestBody"]["content"][
            "application/json"
        ]["example"]
        expected = example["data"] | (
            {"webhook_id": webhook["id"]} if event_type == "webhook.test" else {}
        )
        assert (delivery["payload"]["type"], delivery["payload"]["data"]) == (event_type, expected)


def test_a_disabled_webhook_gets_no_test_event(client: FlaskClient, key: Key) -> None:
    webhook = create_webhook(client, key, ["sms.logged"])
    client.patch(f"{BASE}/webhooks/{webhook['id']}", json={"enabled": False}, headers=key.headers)
    response = client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
    assert response.status_code == 409


def test_deliveries_filter_by_status(client: FlaskClient, key: Key) -> None:
    webhook = create_webhook(client, key, ["sms.logged"])
    client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
    assert len(deliveries(client, key, webhook["id"], "&status=pending")) == 1
    assert deliveries(client, key, webhook["id"], "&status=succeeded") == []


def test_fixture_webhook_shows_past_failed_deliveries(client: FlaskClient, key: Key) -> None:
    hooks = client.get(f"{BASE}/webhooks?limit=200", headers=key.headers).json["items"]
    seeded = next(h for h in hooks if h["url"] == "http://127.0.0.1:9/hooks")
    failed = deliveries(client, key, seeded["id"], "&status=failed")
    schedule = SPEC["x-test-mode"]["webhook_retry_schedule_seconds"]
    assert failed and all(d["attempt_count"] == len(d["attempts"]) == 5 for d in failed)
    assert all(a["status_code"] is None and a["error"] for d in failed for a in d["attempts"])
    for delivery in failed:
        times = [datetime.fromisoformat(a["attempted_at"]) for a in delivery["attempts"]]
        gaps = [
            (later - earlier).total_seconds()
            for earlier, later in zip(times, times[1:], strict=False)
        ]
        assert gaps == schedule[:4]


def test_seeding_queues_no_delivery(sqlite_template: Path) -> None:
    database = Database(f"sqlite:///{sqlite_template}")
    with database.session(write=False) as session:
        statuses = set(session.scalars(select(WebhookDelivery.status)))
        events = session.scalar(select(func.count()).select_from(WebhookEvent))
    database.dispose()
    assert statuses == {"failed"} and events


def test_delete_drops_the_webhook_and_its_deliveries(client: FlaskClient, key: Key) -> None:
    webhook = create_webhook(client, key, ["sms.logged"])
    delivery = client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers).json
    assert client.delete(f"{BASE}/webhooks/{webhook['id']}", headers=key.headers).status_code == 204
    assert client.get(f"{BASE}/webhooks/{webhook['id']}", headers=key.headers).status_code == 404
    url = f"{BASE}/webhooks/{webhook['id']}/deliveries/{delivery['id']}"
    assert client.get(url, headers=key.headers).status_code == 404


def test_other_companies_and_other_webhooks_are_not_found(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    theirs = create_webhook(client, other_key, ["sms.logged"])
    assert client.get(f"{BASE}/webhooks/{theirs['id']}", headers=key.headers).status_code == 404
    assert (
        client.post(f"{BASE}/webhooks/{theirs['id']}/test", headers=key.headers).status_code == 404
    )
    first, second = (
        create_webhook(client, key, ["sms.logged"]),
        create_webhook(client, key, ["sms.logged"]),
    )
    delivery = client.post(f"{BASE}/webhooks/{first['id']}/test", headers=key.headers).json
    url = f"{BASE}/webhooks/{second['id']}/deliveries/{delivery['id']}"
    assert client.get(url, headers=key.headers).status_code == 404
