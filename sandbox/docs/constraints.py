"""Words for a schema's type and constraints: `nullable string (date-time)`, `1 to 200`.

Notes are Markdown (values in backticks) so both renderings show them the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Resolve = Callable[[dict[str, Any]], tuple[dict[str, Any], str | None]]


def type_label(schema: dict[str, Any], resolve: Resolve) -> str:
    """A short type for a resolved schema, e.g. `array of object` or `nullable integer`."""
    options = schema.get("oneOf") or schema.get("anyOf")
    if options:
        labels = [type_label(resolve(option)[0], resolve) for option in options]
        kinds = [label for label in labels if label != "null"]
        label = " or ".join(dict.fromkeys(kinds)) or "null"
        return f"nullable {label}" if len(kinds) < len(labels) else label
    declared = schema.get("type")
    if isinstance(declared, list):
        named = [_one_type(schema, kind, resolve) for kind in declared if kind != "null"]
        label = " or ".join(named) or "null"
        return f"nullable {label}" if "null" in declared else label
    return _one_type(schema, declared, resolve)


def _one_type(schema: dict[str, Any], kind: str | None, resolve: Resolve) -> str:
    """The label of one JSON type of the schema, looking into array items."""
    if kind is None:
        if "properties" in schema:
            kind = "object"
        elif "const" in schema:
            kind = _json_type(schema["const"])
        elif "enum" in schema:
            kind = _json_type(schema["enum"][0])
        else:
            return "any"
    if kind == "array":
        items, _ = resolve(schema.get("items", {}))
        return f"array of {type_label(items, resolve)}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return kind


def _json_type(value: Any) -> str:
    """The JSON type name of a Python value."""
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(
        type(value), "object"
    )


def code(value: Any) -> str:
    """A value as inline Markdown code, JSON-encoded unless it is a string."""
    text = value if isinstance(value, str) else json.dumps(value)
    return f"`{text}`"


def describe(schema: dict[str, Any], resolve: Resolve) -> tuple[str, ...]:
    """Notes on the constraints of a resolved schema (and of its items, for an array)."""
    notes = list(_scalar_notes(schema))
    if "enum" in schema:
        notes.append("One of " + ", ".join(code(v) for v in schema["enum"] if v is not None) + ".")
    if "const" in schema:
        notes.append(f"Always {code(schema['const'])}.")
    items = schema.get("items")
    if isinstance(items, dict) and items:
        resolved, _ = resolve(items)
        if "properties" not in resolved:
            notes += [f"Each item: {n[0].lower()}{n[1:]}" for n in describe(resolved, resolve)]
    if "default" in schema:
        notes.append(f"Default {code(schema['default'])}.")
    examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
    if examples and not isinstance(examples[0], dict | list):
        notes.append("Example " + ", ".join(code(e) for e in examples) + ".")
    return tuple(notes)


def _range(low: Any, high: Any, unit: str = "") -> str | None:
    """`1 to 200 characters`, `at least 1`, `at most 100 keys`, or None without bounds."""
    suffix = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{low:,} to {high:,}{suffix}."
    if low is not None:
        return f"At least {low:,}{suffix}."
    if high is not None:
        return f"At most {high:,}{suffix}."
    return None


def _scalar_notes(schema: dict[str, Any]) -> list[str]:
    """Range, length, size and pattern notes, in that order."""
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    notes = [
        _range(low, schema.get("maximum", schema.get("exclusiveMaximum"))),
        _range(schema.get("minLength"), schema.get("maxLength"), "characters"),
        _range(schema.get("minItems"), schema.get("maxItems"), "items"),
        _range(schema.get("minProperties"), schema.get("maxProperties"), "keys"),
    ]
    if "exclusiveMinimum" in schema or "exclusiveMaximum" in schema:
        notes.append("Bounds are exclusive.")
    if schema.get("uniqueItems"):
        notes.append("Items are unique.")
    if "pattern" in schema:
        notes.append(f"Pattern {code(schema['pattern'])}.")
    return [note for note in notes if note]
