"""openapi.yaml, loaded once: its operations and the platform settings it declares."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch")
YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML file with libyaml when available (ten times faster on the spec)."""
    return yaml.load(path.read_text(), Loader=YamlLoader)  # noqa: S506 - a safe loader


class SpecMismatch(Exception):
    """The spec and the handlers disagree: an operation without a handler or the reverse."""


@dataclass(frozen=True)
class Plan:
    """A plan tier's limits; None means unlimited."""

    name: str
    requests_per_minute: int
    ai_tokens_per_month: int | None
    events_per_day: int | None


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, with everything the route layer needs to serve it."""

    operation_id: str
    method: str
    path: str
    scopes: tuple[str, ...]
    parameters: tuple[dict[str, Any], ...]
    request_schema: dict[str, Any] | None
    body_required: bool
    success_status: int
    idempotent: bool
    deprecated: bool
    sunset: date | None
    deprecated_at: date | None
    sandbox_only: bool
    unmetered: bool  # x-unmetered: neither rate-limited for a known key nor logged
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def sunset_header(self) -> str | None:
        """The `Sunset` header value (an HTTP-date), when deprecated."""
        if self.sunset is None:
            return None
        moment = datetime(self.sunset.year, self.sunset.month, self.sunset.day, tzinfo=UTC)
        return format_datetime(moment, usegmt=True)

    @property
    def deprecation_header(self) -> str | None:
        """The `Deprecation` header value (`@epoch`, RFC 9745), when deprecated."""
        if not self.deprecated:
            return None
        when = self.deprecated_at or date(1970, 1, 1)
        return f"@{int(datetime(when.year, when.month, when.day, tzinfo=UTC).timestamp())}"


@dataclass(frozen=True, eq=False)
class Spec:
    """The parsed spec and what the sandbox reads from it."""

    raw: dict[str, Any]
    path: Path
    base_path: str
    operations: dict[str, Operation]
    plans: dict[str, Plan]
    test_mode: dict[str, Any]
    max_request_bytes: int
    # The longest request line (method, URL, version) the server reads: gunicorn's maximum.
    max_request_line_bytes: int = 8190
    # How deep any request body may nest; deeper is 400.
    max_body_depth: int = 128

    @property
    def tool_requests_per_minute(self) -> int:
        """The limit of a key's bucket for sandbox tools (its `x-unmetered` reads)."""
        return int(self.test_mode["tool_requests_per_minute"])

    @property
    def title(self) -> str:
        return str(self.raw.get("info", {}).get("title", "API"))

    @property
    def version(self) -> str:
        return str(self.raw.get("info", {}).get("version", ""))

    @property
    def components(self) -> dict[str, Any]:
        """`components`: what a `$ref` to `#/components/...` resolves against."""
        return self.raw.get("components", {})

    def schema(self, name: str) -> dict[str, Any]:
        """The component schema `name`."""
        return self.components["schemas"][name]

    @property
    def security_schemes(self) -> dict[str, Any]:
        return self.components.get("securitySchemes", {})

    @property
    def scopes(self) -> tuple[str, ...]:
        """Every scope a key may hold (the bearer scheme's `x-scopes`), in the spec's order."""
        return tuple(self.security_schemes["bearerAuth"]["x-scopes"])

    def event_example(self, event_type: str) -> dict[str, Any]:
        """The example body of a webhook event type (under `webhooks`)."""
        post = self.raw["webhooks"][event_type]["post"]
        return post["requestBody"]["content"]["application/json"]["example"]

    def at(self, path: Sequence[str | int]) -> Any:
        """The node at `path` (keys and indexes) from the spec's root."""
        node: Any = self.raw
        for part in path:
            node = node[part]
        return node

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow local `$ref`s until a node that is not a reference."""
        while "$ref" in node:
            node = self.at(node["$ref"].removeprefix("#/").split("/"))
        return node


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _operation(spec: dict[str, Any], path: str, method: str, raw: dict[str, Any]) -> Operation:
    resolved = Spec(spec, SPEC_PATH, "", {}, {}, {}, 0).resolve
    params = tuple(resolved(p) for p in raw.get("parameters", []))
    body = raw.get("requestBody", {})
    schema = body.get("content", {}).get("application/json", {}).get("schema")
    success = min(int(s) for s in raw["responses"] if s.startswith("2"))
    scopes = tuple(
        s for req in raw.get("security", spec.get("security", [])) for v in req.values() for s in v
    )
    return Operation(
        operation_id=raw["operationId"],
        method=method.upper(),
        path=path,
        scopes=scopes,
        parameters=params,
        request_schema=schema,
        body_required=bool(body.get("required")),
        success_status=success,
        idempotent=any(p["name"] == "Idempotency-Key" for p in params),
        deprecated=bool(raw.get("deprecated")),
        sunset=_as_date(raw.get("x-sunset")),
        deprecated_at=_as_date(raw.get("x-deprecated-at")),
        sandbox_only=bool(raw.get("x-sandbox-only")),
        unmetered=bool(raw.get("x-unmetered")),
        raw=raw,
    )


@functools.cache
def load_spec(path: Path = SPEC_PATH) -> Spec:
    """Parse the spec at `path` once per process."""
    raw = read_yaml(path)
    operations = {}
    for spec_path, item in raw["paths"].items():
        for method in METHODS:
            if method in item:
                op = _operation(raw, spec_path, method, item[method])
                operations[op.operation_id] = op
    plans = {
        p["plan"]: Plan(
            p["plan"], p["requests_per_minute"], p["ai_tokens_per_month"], p["events_per_day"]
        )
        for p in raw["x-plans"]
    }
    return Spec(
        raw=raw,
        path=path,
        base_path=urlparse(raw["servers"][0]["url"]).path.rstrip("/"),
        operations=operations,
        plans=plans,
        test_mode=raw["x-test-mode"],
        max_request_bytes=int(raw["x-max-request-bytes"]),
        max_request_line_bytes=int(raw["x-max-request-line-bytes"]),
        max_body_depth=int(raw["x-max-body-depth"]),
    )
