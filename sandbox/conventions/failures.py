"""How a failed check reads in the envelope: its `details` entries and its message.

jsonschema-rs errors and the body scan's problems (sandbox/bodies.py) both become
`{field, error, received?}` details naming the field by its path (`events[3].event`),
and a message a developer can act on: an enum lists its values, a `oneOf` names its
alternatives, and "(cents)" is said of money fields only.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.conventions import bodies
from sandbox.errors import BadRequest, ValidationFailed, detail
from sandbox.spec import Spec

Described = tuple[dict[str, Any], bool, str]

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
    "must_be_positive": "Field '{field}' must be a positive integer",
    "unknown_field": "Unknown field: {field}",
}
GENERIC_MESSAGE = "Field '{field}' is invalid: {reason}"
# Money fields: amounts in minor units (cents), by the spec's naming convention.
MONEY_FIELD = re.compile(r"(^|[._])(unit_)?amount$")
POSITIVE_AMOUNT = "Field '{field}' must be a positive integer (cents)"
# The spec's pattern for text bound for a text column, which cannot hold NUL.
NO_NUL = r"^[^\x00]*$"
PROBLEM_MESSAGES = {
    bodies.INVALID_CHARACTERS: (
        "Field '{field}' contains a character text may not hold: NUL (U+0000) or a lone "
        "UTF-16 surrogate"
    ),
    bodies.NOT_FINITE: "Field '{field}' is a number past a double's range (it must be finite)",
    bodies.TOO_DEEP: "Field '{field}' nests deeper than {limit} levels",
}


def field_path(parts: list[Any]) -> str:
    """`['events', 3, 'event']` as `events[3].event`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe(error: Any, prefix: list[Any], spec: Spec | None = None) -> Described:
    """(detail, is_missing_field, message) for one jsonschema-rs error, its path after `prefix`.

    `spec` lets a `oneOf` failure say what its alternatives are.
    """
    kind = error.kind
    name = type(kind).__name__
    path = [*prefix, *error.instance_path]
    if name == "PropertyNames":  # a key broke the rule for keys: name the key, and the rule
        error = kind.as_dict()["error"]
        path = [*path, error.instance]
        kind = error.kind
        name = type(kind).__name__
    if name == "Required":
        field = field_path([*path, kind.property])
        return detail(field, "required"), True, MESSAGES["required"].format(field=field)
    if name == "AdditionalProperties":
        unexpected = kind.as_dict().get("unexpected") or ["?"]
        field = field_path([*path, unexpected[0]])
        return detail(field, "unknown_field"), False, MESSAGES["unknown_field"].format(field=field)
    field = field_path(path) or "body"
    if name == "Pattern" and kind.as_dict().get("pattern") == NO_NUL:
        message = PROBLEM_MESSAGES[bodies.INVALID_CHARACTERS].format(field=field)
        return detail(field, bodies.INVALID_CHARACTERS), False, message
    if name in ("Minimum", "ExclusiveMinimum"):
        limit = kind.as_dict().get("limit")
        positive = (name == "Minimum" and limit == 1) or (name == "ExclusiveMinimum" and limit == 0)
        code = "must_be_positive" if positive else "must_be_at_least"
    else:
        code = ERROR_NAMES.get(name, re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower())
    if name == "Enum":
        allowed = ", ".join(str(option) for option in kind.as_dict().get("options", []))
        message = f"Field '{field}' must be one of: {allowed}"
    elif name in ("OneOfNotValid", "OneOfMultipleValid", "AnyOf") and (
        accepted := _alternatives(spec, list(error.schema_path))
    ):
        exactly = "exactly one of" if name != "AnyOf" else "one of"
        message = f"Field '{field}' must be {exactly}: {accepted}"
    else:
        template = MESSAGES.get(code, GENERIC_MESSAGE)
        if code == "must_be_positive" and MONEY_FIELD.search(field):
            template = POSITIVE_AMOUNT
        message = template.format(field=field, reason=error.message)
    return detail(field, code, error.instance), False, message


def _alternatives(spec: Spec | None, schema_path: list[Any]) -> str | None:
    """The alternatives of the `oneOf` or `anyOf` at `schema_path` (in the spec), in words."""
    if spec is None or not schema_path or schema_path[0] != "components":
        return None
    node = spec.at(schema_path)
    words = [_in_words(spec.resolve(option)) for option in node]
    if not all(words):
        return None
    return "; ".join(word for word in words if word)


def _in_words(option: dict[str, Any]) -> str | None:
    """One alternative of a `oneOf`: its title, its required fields or its type."""
    if title := option.get("title"):
        return str(title)
    if required := option.get("required"):
        return "an object with " + " and ".join(f"'{name}'" for name in required)
    kind = option.get("type")
    if isinstance(kind, str):
        return {"null": "null", "string": "a string", "integer": "an integer"}.get(kind, kind)
    return None


def raise_for(errors: list[Any], prefix: list[Any] | None = None, spec: Spec | None = None) -> None:
    """Raise BadRequest (a field is missing) or ValidationFailed, if there are errors.

    Fields are named by their path after `prefix` (the path of the value validated);
    `spec` lets a `oneOf` failure name its alternatives.
    """
    raise_described([describe(e, prefix or [], spec) for e in errors])


def raise_described(described: list[Described]) -> None:
    """Raise BadRequest (a field is missing) or ValidationFailed for described errors, if any."""
    if not described:
        return
    details = [d for d, _, _ in described]
    missing = [m for _, is_missing, m in described if is_missing]
    if missing:
        raise BadRequest(missing[0], details=details)
    raise ValidationFailed(described[0][2], details=details)


def _field(path: bodies.Path) -> str:
    """A body path as a field name, any lone surrogate in a key written as its escape."""
    return field_path(
        [p if isinstance(p, int) or not bodies.SURROGATE.search(p) else _escaped(p) for p in path]
    )


def _escaped(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode()


def problems_error(problems: list[bodies.Problem]) -> ValidationFailed:
    """The 422 naming the field of every one of `problems`."""
    details = [detail(_field(p.path) or "body", p.error) for p in problems]
    message = PROBLEM_MESSAGES[problems[0].error]
    return ValidationFailed(
        message.format(field=details[0]["field"], limit=problems[0].limit), details=details
    )
