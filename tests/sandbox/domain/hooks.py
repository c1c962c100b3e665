"""What the webhook delivery tests share: the spec's schedule, a worker on the app's
database, and steps on the API (subscribe a receiver, read a delivery, advance the clock)."""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

import jsonschema_rs
import yaml
from flask.testing import FlaskClient

from sandbox.domain.webhooks import RetryPolicy
from sandbox.spec import SPEC_PATH, load_spec

from ..conftest import BASE, Key
from ..helpers import create_webhook
from ..receivers import Receiver

POLICY = RetryPolicy.from_spec(load_spec())

SPEC = yaml.safe_load(SPEC_PATH.read_text())
SCHEDULE = SPEC["x-test-mode"]["webhook_retry_schedule_seconds"]
TIMEOUT = SPEC["x-test-mode"]["webhook_timeout_seconds"]
MAX_ATTEMPTS = len(SCHEDULE) + 1  # the status description's "the 5th attempt fails"
EVENT_SCHEMA = jsonschema_rs.validator_for(
    {"components": SPEC["components"], "$ref": "#/components/schemas/WebhookEvent"}
)


def subscribe(
    client: FlaskClient, key: Key, receiver: Receiver, events: list[str]
) -> dict[str, Any]:
    webhook = create_webhook(client, key, events, url=receiver.url)
    receiver.secret = webhook["secret"]
    return webhook


def deliveries_of(client: FlaskClient, key: Key, webhook_id: str) -> list[dict[str, Any]]:
    """The webhook's deliveries (up to 100), newest first."""
    return client.get(
        f"{BASE}/webhooks/{webhook_id}/deliveries?limit=100", headers=key.headers
    ).json["items"]


def delivered_once_each(client: FlaskClient, key: Key, webhook_id: str) -> bool:
    """Whether every delivery of the webhook succeeded at its first attempt."""
    outcomes = {(d["status"], d["attempt_count"]) for d in deliveries_of(client, key, webhook_id)}
    return outcomes == {("succeeded", 1)}


def only_delivery(client: FlaskClient, key: Key, webhook_id: str) -> dict[str, Any]:
    items = deliveries_of(client, key, webhook_id)
    assert len(items) == 1
    return items[0]


def advance(client: FlaskClient, key: Key, seconds: int) -> None:
    response = client.post(
        f"{BASE}/sandbox/clock/advance", json={"seconds": seconds}, headers=key.headers
    )
    assert response.status_code == 200


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
