"""Webhook deliveries over real HTTP to a local receiver: signatures, retries, the schedule.

The receiver checks `X-Signature` exactly as the seed's Node.js snippet does (hex
HMAC-SHA256 of the raw body with the secret) and answers 401 when it does not match.
"""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from sandbox.domain.delivery import DeliveryWorker

from ..conftest import BASE, Key
from ..module_app import shared_app  # noqa: F401
from ..receivers import Receiver
from .hooks import (
    EVENT_SCHEMA,
    MAX_ATTEMPTS,
    SCHEDULE,
    TIMEOUT,
    advance,
    at,
    only_delivery,
    subscribe,
)


def test_worker_takes_its_policy_from_the_spec(worker: DeliveryWorker) -> None:
    assert worker.policy.delays_seconds == tuple(SCHEDULE)
    assert worker.policy.timeout_seconds == TIMEOUT
    assert worker.policy.max_attempts == MAX_ATTEMPTS == 5


def test_delivery_is_signed_and_carries_the_event(
    client: FlaskClient, key: Key, worker: DeliveryWorker
) -> None:
    with Receiver() as receiver:
        webhook = subscribe(client, key, receiver, ["contact.created"])
        contact = client.post(
            f"{BASE}/crm/contacts", json={"first_name": "Sig"}, headers=key.headers
        ).json
        worker.run_due()
    [received] = receiver.received
    assert received.signature_ok and received.signature_v2_ok
    delivery = only_delivery(client, key, webhook["id"])
    assert (delivery["status"], delivery["attempt_count"], delivery["next_attempt_at"]) == (
        "succeeded",
        1,
        None,
    )
    assert delivery["attempts"][0]["status_code"] == 200
    headers = {name.lower(): value for name, value in received.headers.items()}
    assert headers["content-type"] == "application/json"
    assert (headers["x-webhook-id"], headers["x-delivery-id"]) == (webhook["id"], delivery["id"])
    assert headers["x-event-type"] == "contact.created"
    event = json.loads(received.body)
    EVENT_SCHEMA.validate(event)
    assert event == delivery["payload"]
    assert (event["type"], event["data"], event["company_id"]) == (
        "contact.created",
        contact,
        key.company_id,
    )


def test_a_wrong_secret_fails_the_check(
    client: FlaskClient, key: Key, worker: DeliveryWorker
) -> None:
    with Receiver() as receiver:
        webhook = subscribe(client, key, receiver, ["sms.logged"])
        receiver.secret = "whsec_not_the_one"
        client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
        worker.run_due()
    assert not receiver.received[0].signature_ok
    assert only_delivery(client, key, webhook["id"])["attempts"][0]["status_code"] == 401


def test_retries_wait_for_the_test_clock_then_succeed(
    client: FlaskClient, key: Key, worker: DeliveryWorker
) -> None:
    with Receiver(statuses=[500, 200], answer=b"try again later") as receiver:
        webhook = subscribe(client, key, receiver, ["sms.logged"])
        client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
        worker.run_due()
        first = only_delivery(client, key, webhook["id"])
        assert (first["status"], first["attempt_count"]) == ("pending", 1)
        assert first["attempts"][0] | {"attempted_at": None, "duration_ms": None} == {
            "number": 1,
            "attempted_at": None,
            "status_code": 500,
            "error": None,
            "duration_ms": None,
            "response_body": "try again later",
        }
        tried_at = at(first["attempts"][0]["attempted_at"])
        assert (at(first["next_attempt_at"]) - tried_at).total_seconds() == SCHEDULE[0]
        advance(client, key, SCHEDULE[0] - 5)
        worker.run_due()
        assert len(receiver.received) == 1  # not due yet on the test clock
        advance(client, key, 5)
        worker.run_due()
    assert len(receiver.received) == 2
    assert all(r.signature_ok for r in receiver.received)
    assert receiver.received[0].body == receiver.received[1].body
    done = only_delivery(client, key, webhook["id"])
    assert (done["status"], done["attempt_count"], done["next_attempt_at"]) == (
        "succeeded",
        2,
        None,
    )
    assert [a["status_code"] for a in done["attempts"]] == [500, 200]
    gap = (at(done["attempts"][1]["attempted_at"]) - tried_at).total_seconds()
    assert SCHEDULE[0] <= gap < SCHEDULE[0] + 5


def test_five_failures_follow_the_schedule_then_fail(
    client: FlaskClient, key: Key, worker: DeliveryWorker
) -> None:
    with Receiver(statuses=[503]) as receiver:
        webhook = subscribe(client, key, receiver, ["sms.logged"])
        client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            worker.run_due()
            delivery = only_delivery(client, key, webhook["id"])
            assert delivery["attempt_count"] == attempt
            if attempt < MAX_ATTEMPTS:
                tried_at = at(delivery["attempts"][-1]["attempted_at"])
                assert (at(delivery["next_attempt_at"]) - tried_at).total_seconds() == SCHEDULE[
                    attempt - 1
                ]
                advance(client, key, SCHEDULE[attempt - 1])
        advance(client, key, max(SCHEDULE))
        worker.run_due()
    assert len(receiver.received) == MAX_ATTEMPTS
    assert (delivery["status"], delivery["next_attempt_at"]) == ("failed", None)
    assert [a["number"] for a in delivery["attempts"]] == list(range(1, MAX_ATTEMPTS + 1))
    assert {a["status_code"] for a in delivery["attempts"]} == {503}
    url = f"{BASE}/webhooks/{webhook['id']}/deliveries?status=failed"
    assert [d["id"] for d in client.get(url, headers=key.headers).json["items"]] == [delivery["id"]]
