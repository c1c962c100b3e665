"""openapi.yaml is a valid OpenAPI 3.1 document and every example matches its schema."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from .conftest import SPEC_PATH, operations


def test_spec_is_valid_openapi_31(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec, base_uri=SPEC_PATH.as_uri())


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A 2020-12 validator for `schema` whose `#/components/...` refs resolve in the spec."""
    return jsonschema.Draft202012Validator(
        {"components": spec["components"], **schema},
        format_checker=jsonschema.FormatChecker(),
    )


def _examples(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every example of a request body or a response."""
    found = []
    for _method, _path, op in operations(spec):
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            found.append((f"{op['operationId']} request", body["schema"], body.get("example")))
        for status, response in op["responses"].items():
            media = response.get("content", {}).get("application/json")
            if media and "$ref" not in response:
                found.append(
                    (f"{op['operationId']} {status}", media["schema"], media.get("example"))
                )
    for name, response in spec["components"]["responses"].items():
        media = response["content"]["application/json"]
        found.append((f"responses/{name}", media["schema"], media.get("example")))
    for name, hook in spec.get("webhooks", {}).items():
        media = hook["post"]["requestBody"]["content"]["application/json"]
        found.append((f"webhook {name}", media["schema"], media.get("example")))
    return found


def test_every_request_body_and_success_response_has_an_example(spec: dict[str, Any]) -> None:
    missing = [where for where, _, example in _examples(spec) if example is None]
    assert not missing, f"no example: {missing}"


def test_every_example_matches_its_schema(spec: dict[str, Any]) -> None:
    failures = []
    for where, schema, example in _examples(spec):
        if example is None:
            continue
        errors = list(_validator(spec, schema).iter_errors(example))
        failures += [f"{where}: {e.json_path}: {e.message}" for e in errors]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("field", ["title", "version", "description"])
def test_info_is_complete(spec: dict[str, Any], field: str) -> None:
    assert spec["info"].get(field)
