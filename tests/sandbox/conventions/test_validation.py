"""Request validation compiled from the spec, checked without a server: parameters,
defaults, bodies, unreadable text and per-item errors of a batch."""

from __future__ import annotations

import json

import pytest
from werkzeug.datastructures import Headers, MultiDict

from sandbox.conventions.bodies import parse_json
from sandbox.conventions.validation import RequestValidator
from sandbox.errors import ApiError, BadRequest, ValidationFailed
from sandbox.spec import Spec, load_spec

SPEC: Spec = load_spec()


def validator(operation_id: str) -> RequestValidator:
    return RequestValidator(SPEC, SPEC.operations[operation_id])


def body(value: object) -> object:
    return parse_json(json.dumps(value).encode(), SPEC.max_body_depth)


def test_query_defaults_are_applied_and_values_coerced() -> None:
    valid = validator("listContacts").validate({}, MultiDict({"limit": "5"}), Headers(), None)
    assert valid.query["limit"] == 5
    assert valid.query["offset"] == 0  # the spec's default


def test_a_query_value_out_of_range_names_its_field() -> None:
    with pytest.raises(ApiError) as refused:
        validator("listContacts").validate({}, MultiDict({"limit": "0"}), Headers(), None)
    assert refused.value.status in (400, 422)
    assert [d["field"] for d in refused.value.details or []] == ["limit"]


def test_a_body_of_the_wrong_type_is_refused_field_by_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        validator("createContact").validate(
            {}, MultiDict(), Headers(), body({"first_name": 7, "email": "not an email"})
        )
    assert sorted(d["field"] for d in refused.value.details or []) == ["email", "first_name"]


def test_nul_in_a_string_is_invalid_characters() -> None:
    with pytest.raises(ValidationFailed) as refused:
        validator("createContact").validate(
            {}, MultiDict(), Headers(), body({"first_name": "a\x00b"})
        )
    assert [(d["field"], d["error"]) for d in refused.value.details or []] == [
        ("first_name", "invalid_characters")
    ]


def test_a_body_nested_past_the_limit_is_a_bad_request() -> None:
    deep: object = 1
    for _ in range(SPEC.max_body_depth + 1):
        deep = [deep]
    with pytest.raises(BadRequest):
        validator("createContact").validate(
            {}, MultiDict(), Headers(), body({"first_name": "x", "tags": deep})
        )


def test_a_batch_keeps_good_items_and_names_each_bad_one() -> None:
    items = [
        {"event": "signup", "properties": {"plan": "pro"}},
        {"event": "purchase", "properties": {"amount": 1e400}},  # no store takes infinity
    ]
    raw = json.dumps({"events": items}).replace("1e+400", "1e400").replace("Infinity", "1e400")
    valid = validator("trackEventBatch").validate(
        {}, MultiDict(), Headers(), parse_json(raw.encode(), SPEC.max_body_depth)
    )
    assert list(valid.item_errors) == [1]
