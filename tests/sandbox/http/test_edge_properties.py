"""Arbitrary JSON into the body of every operation that takes one: never a 5xx.

The JSON is written as text, so it can hold what a JSON library would not write: lone
surrogates, NUL, numbers past a double (`1e400`), integers of hundreds of digits, and
nesting thousands of levels deep. Each value goes in as the whole body, as one field of
the operation's own example body, or inside an event's free-form `properties`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.spec import Operation, load_spec
from tests.sandbox.conftest import key_for

SPEC = load_spec()
OPERATIONS = sorted(
    (op for op in SPEC.operations.values() if op.request_schema is not None),
    key=lambda op: op.operation_id,
)
PLACEHOLDER = '"__VALUE__"'

ODD_NUMBERS = ["1e400", "-1e400", "1E+999", "1e-400", "-0", "1e308", "0.0000001"]
ODD_STRINGS = ['"\\ud800"', '"a\\udfffb"', '"\\u0000"', '"\\ud83d\\ude00"', '"%_\\\\"']
numbers = st.one_of(
    st.integers().map(str),
    st.integers(min_value=10**300, max_value=10**400).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(ODD_NUMBERS),
)
strings = st.one_of(st.text(max_size=20).map(json.dumps), st.sampled_from(ODD_STRINGS))
leaves = st.one_of(numbers, strings, st.sampled_from(["true", "false", "null"]))
keys = st.one_of(strings, st.sampled_from(['"properties"', '"metadata"', '"name"']))


def _array(items: list[str]) -> str:
    return "[" + ",".join(items) + "]"


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"


trees = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(_array),
        st.lists(st.tuples(keys, children), max_size=4).map(_object),
    ),
    max_leaves=25,
)
deep = st.builds(
    lambda levels, leaf, kind: (
        "[" * levels + leaf + "]" * levels
        if kind == "array"
        else '{"a":' * levels + leaf + "}" * levels
    ),
    st.integers(min_value=1, max_value=3000),
    leaves,
    st.sampled_from(["array", "object"]),
)
values = st.one_of(trees, deep)


def _example(op: Operation) -> dict[str, Any]:
    """The operation's own example body (an object), or an empty one."""
    body = op.raw["requestBody"]["content"]["application/json"]
    example = body.get("example")
    if example is None:
        example = next(iter(body.get("examples", {}).values()), {}).get("value")
    return example if isinstance(example, dict) else {}


def _placed(op: Operation, value: str, where: str, field: str) -> str:
    """`value` as the whole body, as one field of the example, or in event properties."""
    if where == "whole":
        return value
    body = dict(_example(op))
    if where == "properties":
        body = {"event": "fuzz", "properties": {"k": "__VALUE__"}}
    else:
        body[field if field in body or not body else sorted(body)[0]] = "__VALUE__"
    return json.dumps(body).replace(PLACEHOLDER, value)


def _url(op: Operation) -> str:
    return SPEC.base_path + re.sub(r"\{[^}]+\}", "x1", op.path)


@pytest.fixture
def fuzz_client(client: FlaskClient, app: Any) -> tuple[FlaskClient, dict[str, str]]:
    return client, key_for(app, plan="enterprise").headers


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    op=st.sampled_from(OPERATIONS),
    value=values,
    where=st.sampled_from(["whole", "field", "field", "properties"]),
    field=st.sampled_from(["name", "amount", "events", "metadata", "first_name"]),
)
def test_no_json_value_in_any_body_gets_a_5xx(
    fuzz_client: tuple[FlaskClient, dict[str, str]],
    op: Operation,
    value: str,
    where: str,
    field: str,
) -> None:
    client, headers = fuzz_client
    if where == "properties":
        op = SPEC.operations["trackEvent"]
    body = _placed(op, value, where, field)
    response = client.open(
        _url(op),
        method=op.method,
        data=body.encode("utf-8", "surrogatepass"),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code < 500, (op.operation_id, body[:300], response.get_data()[:500])
    assert response.headers["X-Request-Id"].startswith("req_")
    if response.status_code >= 400:
        assert response.mimetype == "application/json"
        error = response.get_json()
        assert {"code", "message", "request_id"} <= set(error)
        assert error["request_id"] == response.headers["X-Request-Id"]
