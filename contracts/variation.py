"""A valid request body that differs from another in exactly one place."""

from __future__ import annotations

import copy
import re
from typing import Any

from contracts.spec import Spec


def vary(spec: Spec, body: Any, schema: dict[str, Any] | None) -> Any:
    """A deep copy of `body` with one value changed within its schema, or None if none can be."""
    for allow_ids in (False, True):  # an id changed may name nothing: the last resort
        varied = copy.deepcopy(body)
        if _vary_in_place(spec, varied, schema or {}, allow_ids):
            return varied
    return None


def _vary_in_place(spec: Spec, node: Any, schema: dict[str, Any], allow_ids: bool) -> bool:
    schema = spec.resolve(schema)
    if isinstance(node, dict):
        properties = _properties(spec, schema)
        for key, value in node.items():
            if key.endswith("_id") and not allow_ids:
                continue
            sub = spec.resolve(properties.get(key, {}))
            changed = _changed(spec, value, sub)
            if changed is not None:
                node[key] = changed
                return True
            if isinstance(value, dict | list) and _vary_in_place(spec, value, sub, allow_ids):
                return True
    if isinstance(node, list) and node:
        return _vary_in_place(spec, node[0], schema.get("items", {}), allow_ids)
    return False


def _properties(spec: Spec, schema: dict[str, Any]) -> dict[str, Any]:
    found = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found.update(spec.resolve(part).get("properties", {}))
    return found


def _changed(spec: Spec, value: Any, schema: dict[str, Any]) -> Any:
    """Another valid value for a leaf, or None."""
    if "x-test-values" in schema:  # magic values: another one with the same outcome
        outcomes = {v["value"]: v.get("outcome") for v in schema["x-test-values"]}
        same = [v for v, o in outcomes.items() if v != value and o == outcomes.get(value, "?")]
        return same[0] if same else None
    if "enum" in schema:
        others = [v for v in schema["enum"] if v != value and type(v) is type(value)]
        return others[0] if others else None
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and not {"format", "const"} & set(schema):
        candidate = value + "2"
        if len(candidate) <= schema.get("maxLength", len(candidate)) and _matches(
            schema.get("pattern"), candidate
        ):
            return candidate
    if isinstance(value, int) and "const" not in schema:
        if value + 1 <= schema.get("maximum", value + 1):
            return value + 1
    return None


def _matches(pattern: str | None, text: str) -> bool:
    """Whether `text` matches the schema's `pattern` (no pattern: it does; one Python's `re`
    cannot read: it is not assumed to)."""
    if pattern is None:
        return True
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False
