"""Request validation compiled once from the spec; failures become envelope `details`.

Each operation gets one jsonschema-rs validator for its query parameters and one for its
body, built at start-up from the spec's own schemas. A missing required field is 400
`bad_request`; any other failure is 422 `validation_error`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from sandbox.errors import BadRequest, ValidationFailed, detail
from sandbox.spec import Operation, Spec

INTEGER = re.compile(r"^-?[0-9]+$")
NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")

ERROR_NAMES = {
    "AdditionalProperties": "unknown_field",
    "Type": "invalid_type",
    "Maximum": "must_be_at_most",
    "ExclusiveMaximum": "must_be_at_most",
    "MinLength": "too_short",
    "MaxLength": "too_long",
    "Pattern": "invalid_format",
    "Format": "invalid_format",
    "Enum": "not_one_of",
    "Constant": "invalid_value",
    "MinItems": "too_few_items",
    "MaxItems": "too_many_items",
    "UniqueItems": "duplicate_items",
    "MaxProperties": "too_many_properties",
    "MinProperties": "too_few_properties",
    "OneOfNotValid": "invalid_value",
    "OneOfMultipleValid": "invalid_value",
    "AnyOf": "invalid_value",
}
MESSAGES = {
    "required": "Missing required field: {field}",
    "must_be_positive": "Field '{field}' must be a positive integer (cents)",
    "unknown_field": "Unknown field: {field}",
}
GENERIC_MESSAGE = "Field '{field}' is invalid: {reason}"


@dataclass(frozen=True)
class ValidRequest:
    """A request that passed validation: parameters coerced, defaults applied."""

    path: dict[str, str]
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any


def field_path(parts: list[Any]) -> str:
    """`['events', 3, 'event']` as `events[3].event`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(error: Any) -> tuple[dict[str, Any], bool, str]:
    """(detail, is_missing_field, message) for one jsonschema-rs error."""
    kind = error.kind
    name = type(kind).__name__
    path = list(error.instance_path)
    if name == "Required":
        field = field_path([*path, kind.property])
        return detail(field, "required"), True, MESSAGES["required"].format(field=field)
    if name == "AdditionalProperties":
        unexpected = kind.as_dict().get("unexpected") or ["?"]
        field = field_path([*path, unexpected[0]])
        return detail(field, "unknown_field"), False, MESSAGES["unknown_field"].format(field=field)
    field = field_path(path) or "body"
    if name in ("Minimum", "ExclusiveMinimum"):
        limit = kind.as_dict().get("limit")
        positive = (name == "Minimum" and limit == 1) or (name == "ExclusiveMinimum" and limit == 0)
        code = "must_be_positive" if positive else "must_be_at_least"
    else:
        code = ERROR_NAMES.get(name, re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower())
    template = MESSAGES.get(code, GENERIC_MESSAGE)
    message = template.format(field=field, reason=error.message)
    return detail(field, code, error.instance), False, message


def raise_for(errors: list[Any]) -> None:
    """Raise BadRequest (a field is missing) or ValidationFailed, if there are errors."""
    if not errors:
        return
    described = [_describe(e) for e in errors]
    details = [d for d, _, _ in described]
    missing = [m for _, is_missing, m in described if is_missing]
    if missing:
        raise BadRequest(missing[0], details=details)
    raise ValidationFailed(described[0][2], details=details)


def nul_fields(value: Any, path: list[Any] | None = None) -> list[str]:
    """Paths of every string (key or value) in `value` that holds a NUL character."""
    path = path or []
    if isinstance(value, str):
        return [field_path(path) or "body"] if "\x00" in value else []
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += [field_path([*path, key])] if "\x00" in key else nul_fields(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += nul_fields(item, [*path, index])
    return found


def reject_nul(value: Any) -> None:
    """ValidationFailed naming each field whose text holds NUL (no database stores it)."""
    if fields := nul_fields(value):
        raise ValidationFailed(
            f"Field '{fields[0]}' contains the NUL character (U+0000), which text may not hold",
            details=[detail(field, "invalid_characters") for field in fields],
        )


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    """A query string value as the type its schema declares, when it parses as one."""
    kind = schema.get("type")
    if kind == "integer" and INTEGER.match(value):
        return int(value)
    if kind == "number" and NUMBER.match(value):
        return float(value)
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
        self.body_validator = self._compile(schema) if schema is not None else None

    def _compile(self, schema: dict[str, Any]) -> Any:
        root = {"components": self.spec.raw["components"], **schema}
        return jsonschema_rs.validator_for(root, validate_formats=True)

    def validate(self, path: dict[str, str], query: Any, headers: Any, body: Any) -> ValidRequest:
        """The validated request; raises BadRequest or ValidationFailed."""
        reject_nul({**path, **{k: query.get(k) for k in query}})
        params: dict[str, Any] = dict(path)
        for p in self.query_params:
            raw = query.get(p["name"])
            if raw is not None:
                params[p["name"]] = _coerce(raw, p["schema"])
        for p in self.header_params:
            if (raw := headers.get(p["name"])) is not None:
                params[p["name"]] = raw
        raise_for(list(self.params_validator.iter_errors(params)))
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
        if self.body_validator is not None:
            raise_for(list(self.body_validator.iter_errors(body)))
            body = apply_defaults(self.spec, self.operation.request_schema or {}, body)
        return ValidRequest(path=path, query=query_values, headers=header_values, body=body)
