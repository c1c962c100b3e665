"""The request an operation's example makes, as data: every sample language is written from it.

A `Call` holds the method, the URL (path parameters filled, required query parameters
set), the JSON body and whether it takes an `Idempotency-Key`. The key itself is never in
a call: every sample reads it from `SANDBOX_KEY`, the variable `sandbox serve` exports.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

# An id a body field refers to: a lower-case prefix, an underscore, then letters or digits.
REFERENCE = re.compile(r"[a-z]{2,8}_[A-Za-z0-9]+")

# The id a sample shows for an example id: (operationId, field name, example) -> id.
IdMap = Callable[[str, str, str], str]


def same_id(operation_id: str, name: str, example: str) -> str:
    """The example id itself: the spec's examples as they are written."""
    return example


@dataclass(frozen=True)
class Call:
    """One HTTP request of an example; `url` is absolute, `body` a JSON value or None."""

    method: str
    url: str
    body: Any = None
    idempotent: bool = False


def parameter_example(parameter: dict[str, Any]) -> Any:
    """The example value of a parameter: its `example`, its schema's, or a default; else None."""
    schema = parameter.get("schema", {})
    for source in (parameter, schema):
        if "example" in source:
            return source["example"]
        if source.get("examples"):
            examples = source["examples"]
            return examples[0] if isinstance(examples, list) else None
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    return None


def call(
    method: str,
    url: str,
    parameters: list[dict[str, Any]],
    body: Any = None,
    idempotent: bool = False,
    *,
    operation_id: str = "",
    ids: IdMap = same_id,
) -> Call:
    """The call of an example: path parameters filled, required query parameters set.

    `url` is the base URL joined with the path template; a path parameter without an
    example stays a visible upper-case placeholder. `ids` chooses the id shown for each
    path parameter and for each id-shaped value of the body.
    """
    query: dict[str, str] = {}
    for parameter in parameters:
        value = parameter_example(parameter)
        name = parameter["name"]
        if parameter["in"] == "path":
            shown = name.upper() if value is None else ids(operation_id, name, str(value))
            url = url.replace("{" + name + "}", shown if value is None else quote(shown, safe=""))
        elif parameter["in"] == "query" and parameter.get("required") and value is not None:
            query[name] = ids(operation_id, name, str(value))
    if query:
        url += "?" + urlencode(query)
    return Call(method, url, with_ids(body, operation_id, ids), idempotent)


def with_ids(value: Any, operation_id: str, ids: IdMap, name: str = "") -> Any:
    """A copy of a JSON value whose id-shaped strings are the ones `ids` chooses."""
    if isinstance(value, dict):
        return {key: with_ids(item, operation_id, ids, key) for key, item in value.items()}
    if isinstance(value, list):
        return [with_ids(item, operation_id, ids, name) for item in value]
    if isinstance(value, str) and name.endswith("_id") and REFERENCE.fullmatch(value):
        return ids(operation_id, name, value)
    return value
