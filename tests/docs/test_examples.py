"""curl examples run as written: path filled, required query set, body quoted for the shell."""

from __future__ import annotations

import shlex

from sandbox.docs.examples import curl

BASE = "http://127.0.0.1:8080/api/v1"
CONTACT_ID = {"name": "contact_id", "in": "path", "required": True, "example": "con_42"}


def words(command: str) -> list[str]:
    """The command as the shell splits it (line continuations removed)."""
    return shlex.split(command.replace("\\\n", " "))


def test_a_get_fills_path_parameters_and_sends_the_key():
    command = curl("get", BASE + "/crm/contacts/{contact_id}", [CONTACT_ID])
    assert words(command) == [
        "curl",
        f"{BASE}/crm/contacts/con_42",
        "-H",
        "Authorization: Bearer $SANDBOX_KEY",
    ]


def test_required_query_parameters_are_set_and_optional_ones_left_out():
    parameters = [
        {"name": "event", "in": "query", "required": True, "example": "purchase"},
        {"name": "metric", "in": "query", "schema": {"default": "count"}},
    ]
    assert f'"{BASE}/metrics?event=purchase"' in curl("get", BASE + "/metrics", parameters)


def test_a_create_sends_json_with_a_fresh_idempotency_key():
    body = {"message": "We'll call you", "amount": 1}
    command = curl("post", BASE + "/sms/send", [], body, idempotent=True)
    parts = words(command)
    assert parts[:3] == ["curl", "-X", "POST"]
    assert "Idempotency-Key: $(uuidgen)" in parts
    assert "Content-Type: application/json" in parts
    assert parts[-2] == "-d"
    assert parts[-1] == '{\n  "message": "We\'ll call you",\n  "amount": 1\n}'
