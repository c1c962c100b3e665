"""OpenAPI runtime expressions, the small subset links use (`$response.body#/id`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.exchange import Exchange


def pointer(document: Any, path: str) -> Any:
    """Follow a JSON pointer (`/results/0/event_id`); None when it leads nowhere."""
    node = document
    for raw in path.lstrip("/").split("/") if path.strip("/") else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def evaluate(expression: Any, *, request_body: Any, response: Exchange) -> Any:
    """The value of a runtime expression for one request and its response.

    Supports `$response.body#/…`, `$request.body#/…` and `$response.header.Name`;
    anything else is a literal and comes back as is.
    """
    if not isinstance(expression, str) or not expression.startswith("$"):
        return expression
    source, _, path = expression.partition("#")
    if source == "$response.body":
        return pointer(response.json(), path)
    if source == "$request.body":
        return pointer(request_body, path)
    if source.startswith("$response.header."):
        return response.header(source.removeprefix("$response.header."))
    return None


def evaluate_all(
    expressions: Mapping[str, Any], *, request_body: Any, response: Exchange
) -> dict[str, Any]:
    """Each of a link's `parameters` (or `requestBody` fields) evaluated, by name."""
    return {
        name: evaluate(expression, request_body=request_body, response=response)
        for name, expression in expressions.items()
    }
