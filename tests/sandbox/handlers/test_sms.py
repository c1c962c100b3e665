"""SMS: the spec's test phone numbers, segments, the log, and nothing dispatched."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from sandbox.spec import SPEC_PATH

from ..conftest import BASE, Key
from ..module_app import shared_app  # noqa: F401

SPEC = yaml.safe_load(SPEC_PATH.read_text())
PHONE_NUMBERS = SPEC["x-test-mode"]["phone_numbers"]


def _send(client: FlaskClient, key: Key, **body: Any) -> Any:
    return client.post(
        f"{BASE}/sms/send", json={"message": "Your table is ready", **body}, headers=key.headers
    )


def _total(client: FlaskClient, key: Key) -> int:
    return client.get(f"{BASE}/sms/messages", headers=key.headers).json["total"]


def test_field_and_test_mode_list_the_same_numbers() -> None:
    field = SPEC["components"]["schemas"]["SmsSend"]["properties"]["to_phone"]
    assert field["x-test-values"] == PHONE_NUMBERS
    assert {entry["outcome"] for entry in PHONE_NUMBERS} == {"sent", "invalid", "undeliverable"}


@pytest.mark.parametrize("entry", PHONE_NUMBERS, ids=[e["outcome"] for e in PHONE_NUMBERS])
def test_each_test_number_behaves_as_the_spec_says(
    client: FlaskClient, key: Key, entry: dict
) -> None:
    before = _total(client, key)
    response = _send(client, key, to_phone=entry["value"])
    assert response.status_code == entry["status"]
    if entry["outcome"] == "invalid":
        assert response.json["code"] == "validation_error"
        assert response.json["details"] == [
            {"field": "to_phone", "error": entry["error_code"], "received": entry["value"]}
        ]
        assert _total(client, key) == before
        return
    message = response.json
    assert (message["status"], message["error_code"]) == (entry["outcome"], entry["error_code"])
    assert message["simulated"] is True
    assert client.get(f"{BASE}/sms/messages/{message['id']}", headers=key.headers).json == message
    assert _total(client, key) == before + 1


def test_any_other_valid_number_is_logged_as_sent(client: FlaskClient, key: Key) -> None:
    response = _send(client, key, to_phone="+18015551234")
    assert response.status_code == 201
    assert (response.json["status"], response.json["error_code"]) == ("sent", None)


def test_a_number_not_in_e164_is_refused(client: FlaskClient, key: Key) -> None:
    response = _send(client, key, to_phone="8015551234")
    assert response.status_code == 422
    assert response.json["details"][0]["field"] == "to_phone"


@pytest.mark.parametrize(
    ("message", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("{" * 80, 1),  # extension characters take two septets
        ("{" * 81, 2),
        ("你" * 70, 1),  # outside GSM-7: 70 UCS-2 characters a segment
        ("你" * 71, 2),
    ],
)
def test_segments_are_counted_by_encoding(
    client: FlaskClient, key: Key, message: str, segments: int
) -> None:
    response = _send(client, key, to_phone="+18015551234", message=message)
    assert response.json["segments"] == segments


def test_contact_must_be_of_the_business(client: FlaskClient, key: Key, other_key: Key) -> None:
    theirs = client.get(f"{BASE}/crm/contacts?limit=1", headers=other_key.headers).json["items"][0][
        "id"
    ]
    refused = _send(client, key, to_phone="+18015551234", contact_id=theirs)
    assert refused.status_code == 422
    assert refused.json["details"][0]["field"] == "contact_id"
    ours = client.get(f"{BASE}/crm/contacts?limit=1", headers=key.headers).json["items"][0]["id"]
    assert _send(client, key, to_phone="+18015551234", contact_id=ours).json["contact_id"] == ours


def test_log_lists_newest_first_and_filters_by_status(client: FlaskClient, key: Key) -> None:
    undeliverable = next(e["value"] for e in PHONE_NUMBERS if e["outcome"] == "undeliverable")
    sent = _send(client, key, to_phone=undeliverable).json
    page = client.get(
        f"{BASE}/sms/messages?status=undeliverable&limit=200", headers=key.headers
    ).json
    assert {m["status"] for m in page["items"]} == {"undeliverable"}
    assert page["items"][0]["id"] == sent["id"]


def test_another_companys_message_is_not_found(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    theirs = client.get(f"{BASE}/sms/messages?limit=1", headers=other_key.headers).json["items"][0][
        "id"
    ]
    response = client.get(f"{BASE}/sms/messages/{theirs}", headers=key.headers)
    assert response.status_code == 404


def test_sending_opens_no_connection(
    client: FlaskClient, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("test mode must not open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert _send(client, key, to_phone="+18015551234").status_code == 201
