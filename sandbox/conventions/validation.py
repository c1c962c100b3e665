"""Request validation compiled once from the spec; failures become envelope `details` (failures.py).

Each operation gets one jsonschema-rs validator for its query parameters and one for its
body, built at start-up from the spec's own schemas. A missing required field is 400
`bad_request`; any other failure is 422 `validation_error`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from sandbox.conventions import bodies
from sandbox.conventions.failures import describe, problems_error, raise_described, raise_for
from sandbox.errors import ApiError
from sandbox.spec import Operation, Spec

INTEGER = re.compile(r"^-?[0-9]+$")
NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")


@dataclass(frozen=True)
class ValidRequest:
    """A request that passed validation: parameters coerced, defaults applied."""

    path: dict[str, str]
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    # Per item of a batch (`x-per-item-errors`), what makes that item unstorable.
    item_errors: dict[int, ApiError] = dataclasses.field(default_factory=dict)


def reject_unreadable(value: Any) -> None:
    """ValidationFailed naming each string (key or value) that holds NUL or a lone surrogate."""
    problems, _ = bodies.scan(value, max_depth=2, bad_text=bodies.NUL_OR_SURROGATE)
    if problems:
        raise problems_error(problems)


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    """A query string value as the type its schema declares, when it parses as one."""
    kind = schema.get("type")
    if kind == "integer" and INTEGER.match(value):
        return int(value)
    if kind == "number" and NUMBER.match(value):
        number = float(value)
        return number if math.isfinite(number) else value  # `1e400` stays text: 422
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def apply_defaults(spec: Spec, schema: dict[str, Any], value: Any) -> Any:
    """Fill in the spec's `default`s of absent properties, through nested objects and arrays."""
    schema = spec.resolve(schema)
    if isinstance(value, dict) and "properties" in schema:
        for name, prop in schema["properties"].items():
            prop = spec.resolve(prop)
            if name not in value and "default" in prop:
                value[name] = prop["default"]
            elif name in value:
                apply_defaults(spec, prop, value[name])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(spec, schema["items"], item)
    return value


def compiled(spec: Spec, schema: dict[str, Any]) -> Any:
    """A jsonschema-rs validator of `schema`, its `$ref`s resolved within the spec."""
    return jsonschema_rs.validator_for(
        {"components": spec.components, **schema}, validate_formats=True
    )


class RequestValidator:
    """Validates one operation's parameters and body against the spec."""

    def __init__(self, spec: Spec, operation: Operation) -> None:
        self.spec = spec
        self.operation = operation
        self.query_params = [p for p in operation.parameters if p["in"] == "query"]
        self.header_params = [p for p in operation.parameters if p["in"] == "header"]
        self.params_validator = self._compile(
            {
                "type": "object",
                "properties": {p["name"]: p["schema"] for p in operation.parameters},
                "required": [p["name"] for p in operation.parameters if p.get("required")],
            }
        )
        schema = operation.request_schema
        self.max_body_depth = spec.max_body_depth
        self.free_form = free_form_fields(spec, schema) if schema is not None else []
        self.per_item = per_item_field(spec, schema) if schema is not None else None
        if self.per_item is not None and not self.per_item.refused_alone:
            # The items are checked one by one, skipping those the scan refused.
            schema = without_items(spec, schema or {}, self.per_item.field)
        self.body_validator = self._compile(schema) if schema is not None else None
        self.shallowest = min([self.max_body_depth, *(limit for _, limit in self.free_form)])

    def _compile(self, schema: dict[str, Any]) -> Any:
        return compiled(self.spec, schema)

    def validate(
        self, path: dict[str, str], query: Any, headers: Any, body: bodies.Body | None
    ) -> ValidRequest:
        """The validated request; raises BadRequest or ValidationFailed.

        The body is scanned before the schema reads it: too deep is BadRequest; text or
        numbers no store takes, and free-form fields past their `x-max-depth`, are
        ValidationFailed, except in the items of an `x-per-item-errors` array, where a
        number or a depth fails that item alone (`item_errors`).
        """
        reject_unreadable({**path, **{k: query.get(k) for k in query}})
        item_errors = self._scan(body) if body is not None else {}
        params: dict[str, Any] = dict(path)
        for p in self.query_params:
            # `in` first: werkzeug's MultiDict.get builds and catches a KeyError for each
            # absent name, a third of this method's time on a list with few parameters.
            if p["name"] in query and (raw := query.get(p["name"])) is not None:
                params[p["name"]] = _coerce(raw, p["schema"])
        for p in self.header_params:
            if (raw := headers.get(p["name"])) is not None:
                params[p["name"]] = raw
        raise_for(list(self.params_validator.iter_errors(params)), spec=self.spec)
        query_values = {}
        for p in self.query_params:
            name = p["name"]
            if name in params:
                query_values[name] = params[name]
            elif "default" in p["schema"]:
                query_values[name] = p["schema"]["default"]
        header_values = {
            p["name"]: params[p["name"]] for p in self.header_params if p["name"] in params
        }
        value = None if body is None else body.value
        if self.body_validator is not None:
            raise_for(list(self.body_validator.iter_errors(value)), spec=self.spec)
            if self.per_item is not None and isinstance(value, dict):
                self._check_items(value.get(self.per_item.field, []), item_errors)
            value = apply_defaults(self.spec, self.operation.request_schema or {}, value)
        return ValidRequest(
            path=path,
            query=query_values,
            headers=header_values,
            body=value,
            item_errors=item_errors,
        )

    def _scan(self, body: bodies.Body) -> dict[int, ApiError]:
        """Raise for what the whole body cannot hold; what each batch item cannot, by index."""
        if not body.may_hold_problems(self.shallowest):
            return {}
        problems, nested_too_deep = bodies.scan(body.value, self.max_body_depth)
        if nested_too_deep:
            raise bodies.too_deep(self.max_body_depth)
        problems += bodies.too_deep_fields(body.value, self.free_form)
        per_item: dict[int, list[bodies.Problem]] = {}
        whole = []
        for problem in problems:
            at = problem.path
            if (
                self.per_item is not None
                and len(at) > 1
                and at[0] == self.per_item.field
                and isinstance(at[1], int)
                and problem.error != bodies.INVALID_CHARACTERS
            ):
                per_item.setdefault(at[1], []).append(dataclasses.replace(problem, path=at[2:]))
            else:
                whole.append(problem)
        if whole:
            raise problems_error(whole)
        return {index: problems_error(found) for index, found in per_item.items()}

    def _check_items(self, items: list[Any], item_errors: dict[int, ApiError]) -> None:
        """Check each item the scan let through against the item schema.

        An item's failure goes into `item_errors` when the array says items are refused
        alone (`x-item-schema`); otherwise the failures of every item fail the request.
        """
        per_item = self.per_item
        assert per_item is not None
        failures = []
        for index, item in enumerate(items):
            if index in item_errors:
                continue
            if per_item.refused_alone:
                try:
                    per_item.validator.check(item)
                except ApiError as error:
                    item_errors[index] = error
            else:
                prefix = [per_item.field, index]
                failures += [
                    describe(e, prefix, self.spec) for e in per_item.validator.errors(item)
                ]
        raise_described(failures)


class ItemValidator:
    """One schema, compiled: free-form fields past their `x-max-depth`, then the schema."""

    def __init__(self, spec: Spec, schema: dict[str, Any]) -> None:
        self.spec = spec
        self.free_form = free_form_fields(spec, schema)
        self.validator = compiled(spec, schema)

    def errors(self, value: Any) -> list[Any]:
        """The schema's errors for `value` (jsonschema-rs errors)."""
        return list(self.validator.iter_errors(value))

    def check(self, value: Any) -> None:
        """Raise ValidationFailed (or BadRequest for a missing field) if `value` is off."""
        if too_deep := bodies.too_deep_fields(value, self.free_form):
            raise problems_error(too_deep)
        raise_for(self.errors(value), spec=self.spec)


@dataclass(frozen=True)
class PerItem:
    """A batch body's array whose items are checked one by one (`x-per-item-errors`)."""

    field: str
    validator: ItemValidator
    # The item schema's failures refuse that item alone (`x-item-schema`), not the request.
    refused_alone: bool


def free_form_fields(spec: Spec, schema: dict[str, Any]) -> list[tuple[bodies.Path, int]]:
    """(path, x-max-depth) of each free-form field of `schema`; `"*"` stands for any item."""
    found: list[tuple[bodies.Path, int]] = []
    stack: list[tuple[dict[str, Any], bodies.Path]] = [(schema, ())]
    while stack:
        node, path = stack.pop()
        node = spec.resolve(node)
        if "x-max-depth" in node:
            found.append((path, int(node["x-max-depth"])))
            continue
        if len(path) > 8:  # a recursive schema: no free-form field this deep
            continue
        for name, prop in (node.get("properties") or {}).items():
            stack.append((prop, (*path, name)))
        if isinstance(node.get("items"), dict):
            stack.append((node["items"], (*path, "*")))
        for key in ("allOf", "oneOf", "anyOf"):
            stack.extend((part, path) for part in node.get(key, []))
    return sorted(found)


def per_item_field(spec: Spec, schema: dict[str, Any]) -> PerItem | None:
    """The top-level array of `schema` marked `x-per-item-errors`, if there is one.

    Its items are checked against `x-item-schema` when the array names one (a failing
    item is refused alone), else against the array's `items`.
    """
    for name, prop in (spec.resolve(schema).get("properties") or {}).items():
        prop = spec.resolve(prop)
        if prop.get("x-per-item-errors"):
            own = prop.get("x-item-schema")
            item_schema = {"$ref": own} if own else prop.get("items", {})
            return PerItem(name, ItemValidator(spec, item_schema), refused_alone=bool(own))
    return None


def without_items(spec: Spec, schema: dict[str, Any], field: str) -> dict[str, Any]:
    """`schema` with any item allowed in its array `field` (checked one by one instead)."""
    resolved = spec.resolve(schema)
    array = {**spec.resolve(resolved["properties"][field]), "items": {}}
    return {**resolved, "properties": {**resolved["properties"], field: array}}
