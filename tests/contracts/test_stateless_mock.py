"""The stateless mock (tests/contracts/stateless.py) over a real socket."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from sandbox.spec import load_spec
from tests.contracts.stateless import minimal_value, serving_app, stateless_app

KEY = {"Authorization": "Bearer sk_test_anything"}
HUNG = {"listContacts", "createContact"}


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with serving_app(stateless_app()) as url:
        yield url


@pytest.fixture(scope="module")
def hanging_url() -> Iterator[str]:
    with serving_app(stateless_app(hang=HUNG, hang_seconds=5)) as url:
        yield url


def example(operation_id: str, status: str) -> Any:
    raw = load_spec().operations[operation_id].raw
    return raw["responses"][status]["content"]["application/json"]["example"]


def test_answers_the_example_with_any_key(mock_url: str) -> None:
    response = requests.get(f"{mock_url}/account", headers=KEY, timeout=5)
    assert response.status_code == 200
    assert response.json() == example("getAccount", "200")
    assert response.headers["X-Request-Id"].startswith("req_")
    assert response.headers["X-RateLimit-Remaining"] == "999"


def test_without_a_key_is_401(mock_url: str) -> None:
    response = requests.get(f"{mock_url}/account", timeout=5)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthorized"
    assert body["request_id"] == response.headers["X-Request-Id"]


def test_a_body_the_schema_refuses_is_422(mock_url: str) -> None:
    response = requests.post(
        f"{mock_url}/crm/contacts", json={"first_name": 5}, headers=KEY, timeout=5
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["details"] == [{"field": "first_name", "error": "type"}]
    assert body["request_id"] == response.headers["X-Request-Id"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{", "bad_request"),  # malformed JSON
        ('{"last_name": "Miller"}', "bad_request"),  # first_name is required
        ("", "bad_request"),  # the body is required
    ],
)
def test_a_malformed_or_incomplete_body_is_400(mock_url: str, body: str, code: str) -> None:
    headers = {**KEY, "Content-Type": "application/json"}
    response = requests.post(f"{mock_url}/crm/contacts", data=body, headers=headers, timeout=5)
    assert response.status_code == 400
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    ("query", "status"), [("limit=abc", 422), ("limit=0", 422), ("limit=200", 200)]
)
def test_query_parameters_are_coerced_then_checked(mock_url: str, query: str, status: int) -> None:
    response = requests.get(f"{mock_url}/crm/contacts?{query}", headers=KEY, timeout=5)
    assert response.status_code == status


def test_a_create_answers_the_same_example_every_time(mock_url: str) -> None:
    payload = {"first_name": "Ada"}
    ids = [
        requests.post(f"{mock_url}/crm/contacts", json=payload, headers=KEY, timeout=5).json()["id"]
        for _ in range(2)
    ]
    assert ids == [example("createContact", "201")["id"]] * 2


def test_a_deleted_resource_is_still_served(mock_url: str) -> None:
    url = f"{mock_url}/crm/contacts/con_42bXk9"
    deleted = requests.delete(url, headers=KEY, timeout=5)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert requests.get(url, headers=KEY, timeout=5).status_code == 200


def test_unknown_path_is_404_and_wrong_method_405(mock_url: str) -> None:
    missing = requests.get(f"{mock_url}/no-such-path", headers=KEY, timeout=5)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong = requests.put(f"{mock_url}/crm/contacts", headers=KEY, timeout=5)
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")
    assert wrong.headers["Allow"] == "GET, POST"


def test_a_deprecated_operation_announces_it(mock_url: str) -> None:
    raw = load_spec().operations["trackEventLegacy"].raw
    payload = raw["requestBody"]["content"]["application/json"]["example"]
    response = requests.post(f"{mock_url}/track", json=payload, headers=KEY, timeout=5)
    assert response.status_code == 201
    assert response.headers["Deprecation"].startswith("@")
    assert response.headers["Sunset"] == "Fri, 31 Dec 2027 00:00:00 GMT"


def test_a_hung_operation_never_answers_while_others_do(hanging_url: str) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        hung = pool.submit(requests.get, f"{hanging_url}/crm/contacts", headers=KEY, timeout=1)
        time.sleep(0.2)  # the hung request is in the server now
        started = time.monotonic()
        other = requests.get(f"{hanging_url}/account", headers=KEY, timeout=1)
        assert other.status_code == 200
        assert time.monotonic() - started < 0.5
        assert not hung.done()
        with pytest.raises(requests.Timeout):
            hung.result()


def test_malformed_json_to_a_hung_operation_hangs_too(hanging_url: str) -> None:
    headers = {**KEY, "Content-Type": "application/json"}
    with pytest.raises(requests.Timeout):
        requests.post(f"{hanging_url}/crm/contacts", data="{", headers=headers, timeout=1)


def test_hanging_an_unknown_operation_fails_at_start() -> None:
    with pytest.raises(ValueError, match="noSuchOperation"):
        stateless_app(hang={"noSuchOperation"})


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "examples": ["con_1"]}, "con_1"),
        ({"type": ["integer", "null"]}, 0),
        (
            {
                "type": "object",
                "required": ["id", "tags"],
                "properties": {"id": {"default": "x"}, "tags": {"type": "array"}, "n": {}},
            },
            {"id": "x", "tags": []},
        ),
    ],
)
def test_minimal_value_without_an_example(schema: dict[str, Any], expected: Any) -> None:
    assert minimal_value(load_spec(), schema) == expected
