"""Resending a delivery: one more attempt, now, with the same delivery id, at a real receiver."""

from __future__ import annotations

from flask.testing import FlaskClient

from sandbox.domain.delivery import DeliveryWorker

from ..conftest import BASE, Key
from ..receivers import Receiver
from .hooks import only_delivery, subscribe


def resend(client: FlaskClient, key: Key, delivery_id: str) -> tuple[int, dict]:
    response = client.post(
        f"{BASE}/sandbox/webhook-deliveries/{delivery_id}/resend", headers=key.headers
    )
    return response.status_code, response.json


def test_a_succeeded_delivery_is_sent_again(
    client: FlaskClient, key: Key, worker: DeliveryWorker
) -> None:
    with Receiver(statuses=[200, 202], answer=b"thanks") as receiver:
        webhook = subscribe(client, key, receiver, ["sms.logged"])
        client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
        worker.run_due()
        delivered = only_delivery(client, key, webhook["id"])
        assert delivered["status"] == "succeeded"
        status, queued = resend(client, key, delivered["id"])
        assert status == 202 and queued["status"] == "pending"
        assert queued["next_attempt_at"] is not None
        worker.run_due()
    assert [r.headers["X-Delivery-Id"] for r in receiver.received] == [delivered["id"]] * 2
    assert receiver.received[0].body == receiver.received[1].body
    again = only_delivery(client, key, webhook["id"])
    assert again["status"] == "succeeded" and again["attempt_count"] == 2
    assert [(a["number"], a["status_code"]) for a in again["attempts"]] == [(1, 200), (2, 202)]
    assert again["attempts"][1]["response_body"] == "thanks"


def test_a_disabled_webhook_or_another_company_cannot_resend(
    client: FlaskClient, key: Key, other_key: Key, worker: DeliveryWorker
) -> None:
    with Receiver() as receiver:
        webhook = subscribe(client, key, receiver, ["sms.logged"])
        client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
        worker.run_due()
    delivery = only_delivery(client, key, webhook["id"])
    status, body = resend(client, other_key, delivery["id"])
    assert status == 404 and body["code"] == "not_found"
    patched = client.patch(
        f"{BASE}/webhooks/{webhook['id']}", json={"enabled": False}, headers=key.headers
    )
    assert patched.status_code == 200
    status, body = resend(client, key, delivery["id"])
    assert status == 409 and body["code"] == "conflict"
    assert only_delivery(client, key, webhook["id"])["status"] == "succeeded"
