"""Responses as the reference shows them: success bodies with their headers, and error cases.

An error case is a status and an error code with when it happens, read from an error
response's example and description, or from an operation's `x-refusals`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.docs.constraints import type_label
from sandbox.docs.schema import Field, Resolver, SchemaView
from sandbox.docs.text import to_json


@dataclass(frozen=True)
class Response:
    """A success response: its schema, example and headers."""

    status: str
    description: str
    schema: SchemaView | None
    example: str | None
    headers: tuple[Field, ...]


@dataclass(frozen=True)
class ErrorCase:
    """A non-2xx response an operation documents: status, error code and when it happens."""

    status: str
    code: str
    when: str


def success(resolver: Resolver, status: str, response: dict[str, Any]) -> Response:
    """A success response's view."""
    media = media_of(response)
    headers = [
        header_field(resolver, name, raw) for name, raw in response.get("headers", {}).items()
    ]
    return Response(
        status=status,
        description=response.get("description", ""),
        schema=resolver.view(media["schema"]) if "schema" in media else None,
        example=to_json(media["example"]) if "example" in media else None,
        headers=tuple(headers),
    )


def header_field(resolver: Resolver, name: str, raw: dict[str, Any]) -> Field:
    """A response header as a row: name, type, whether always sent, and what it means."""
    header, _ = resolver.follow(raw)
    schema, _ = resolver.schema(header.get("schema", {}))
    return Field(
        path="",
        name=name,
        type=type_label(schema, resolver.schema),
        required=bool(header.get("required")),
        description=header.get("description", ""),
        location="response header",
    )


def error_case(status: str, response: dict[str, Any]) -> ErrorCase:
    """An error response's code (from its example) and when it happens (its description)."""
    media = media_of(response)
    example = media.get("example")
    code = example.get("code", "") if isinstance(example, dict) else ""
    when = response.get("description", "").removeprefix(f"`{code}`:").strip()
    return ErrorCase(status, code, when)


def refusals(op: dict[str, Any], status: str) -> list[ErrorCase]:
    """The operation's `x-refusals` of `status`: schema-valid requests its rules refuse,
    each named by the `details` entry (field and error) the answer carries."""
    return [
        ErrorCase(status, refusal["error"], f"`{refusal['field']}`: {refusal['when']}")
        for refusal in op.get("x-refusals", [])
        if str(refusal["status"]) == status
    ]


def media_of(body: dict[str, Any]) -> dict[str, Any]:
    """The first media type of a request body or response (its schema and example), or {}."""
    media: dict[str, Any] = next(iter(body.get("content", {}).values()), {})
    return media
