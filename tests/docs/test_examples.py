"""Request samples as written: path filled, required query set, body quoted for the shell;
curl, Python and JavaScript written from one call."""

from __future__ import annotations

import ast
import json
import shlex
import shutil
import subprocess

import pytest

from sandbox.docs.calls import Call
from sandbox.docs.examples import curl, javascript, python, python_literal, samples

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


BODY = {"name": 'Ada "Lovelace"', "tags": ["vip", None], "active": True, "nested": {}, "n": 1.5}
CREATE = Call("post", BASE + "/crm/contacts", BODY, idempotent=True)


@pytest.mark.parametrize("value", [BODY, [], {}, "text", 0, None, [{"a": [False]}]])
def test_python_literals_read_back_as_the_json_value(value):
    assert ast.literal_eval(python_literal(value)) == value


def test_every_language_is_written_from_the_same_call():
    assert [language for language, _ in samples(CREATE)] == ["curl", "python", "javascript"]
    code = dict(samples(CREATE))
    assert "Idempotency-Key: $(uuidgen)" in words(code["curl"])
    assert '"Idempotency-Key": str(uuid.uuid4())' in code["python"]
    assert '"Idempotency-Key": crypto.randomUUID()' in code["javascript"]
    for sample in code.values():
        assert f"{BASE}/crm/contacts" in sample


def test_the_python_sample_is_valid_python_sending_the_body():
    tree = ast.parse(python(CREATE))
    request = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "post"
    )
    sent = {keyword.arg: keyword.value for keyword in request.keywords}
    assert ast.literal_eval(sent["json"]) == BODY


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_javascript_sample_is_a_valid_module_sending_the_body(tmp_path):
    script = tmp_path / "sample.mjs"
    script.write_text(javascript(CREATE), encoding="utf-8")
    result = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    body = javascript(CREATE).split("JSON.stringify(", 1)[1].rsplit("),", 1)[0]
    assert json.loads(body) == BODY


def test_a_get_sends_no_body_and_no_idempotency_key():
    code = dict(samples(Call("get", BASE + "/account")))
    assert "json=" not in code["python"] and "uuid" not in code["python"]
    assert "body:" not in code["javascript"] and "Idempotency-Key" not in code["javascript"]
