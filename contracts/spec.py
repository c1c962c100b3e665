"""The spec as the kit reads it: operations and the facts every rule derives from them.

Nothing here talks to a server. `Spec.load` parses `openapi.yaml` once; each `Operation`
carries what the rules ask of it (scopes, links, examples, whether it creates or lists).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml parses the spec several times faster when it is there
    from yaml import CSafeLoader as SpecLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as SpecLoader  # type: ignore[assignment]  # the pure one

METHODS = ("get", "put", "post", "delete", "patch")
DEFAULT_SPEC = Path(__file__).resolve().parents[1] / "openapi.yaml"
PAGE_REF = "#/components/schemas/Page"
# A list answers a page: its own object with these fields, or `allOf` with the shared Page.
PAGE_FIELDS = {"items", "total", "limit", "offset", "has_more"}
IDEMPOTENCY_REF = "#/components/parameters/IdempotencyKey"
STATUS_TABLE_ROW = re.compile(r"^\|\s*(\d{3})\s*\|\s*`([a-z_]+)`", re.MULTILINE)
# How a field's description says that a schema-valid value can still be refused: a 422
# the schema cannot express, or a requirement that depends on another field.
SEMANTIC = re.compile(
    r"(?<!Out of range: )422|must exist|same business|of the business|may not exceed|"
    r"must equal|otherwise|refused|rejects|required for|required when|required unless|"
    r"(start|end) of the range",
    re.IGNORECASE,
)
LIMIT = re.compile(r"\bat most\b", re.IGNORECASE)
# How a description names the `details[].error` of a 422 the schemas cannot express:
# "… is 422 `too_many_buckets` …", "… refused with 422 (`currency_locked`)".
REFUSAL_CODE = re.compile(r"\b422\b[^`.;|]{0,20}`([a-z][a-z_]*)`")


@dataclass(frozen=True)
class Link:
    """An OpenAPI link from a 2xx response to another operation."""

    name: str
    operation_id: str
    parameters: dict[str, Any]
    request_body: Any = None


@dataclass(frozen=True, eq=False)
class Operation:
    """One operation of the spec, with its `$ref`s resolved."""

    operation_id: str
    method: str
    path: str
    raw: dict[str, Any] = field(repr=False)
    spec: Spec = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def sandbox_only(self) -> bool:
        return bool(self.raw.get("x-sandbox-only"))

    @property
    def deprecated(self) -> bool:
        return bool(self.raw.get("deprecated"))

    @cached_property
    def parameters(self) -> list[dict[str, Any]]:
        """Parameters of the path item and the operation, resolved."""
        item = self.spec.document["paths"][self.path]
        params = item.get("parameters", []) + self.raw.get("parameters", [])
        return [self.spec.resolve(param) for param in params]

    @property
    def path_parameters(self) -> list[str]:
        return [p["name"] for p in self.parameters if p["in"] == "path"]

    def parameter(self, name: str) -> dict[str, Any] | None:
        return next((p for p in self.parameters if p["name"] == name), None)

    @property
    def idempotent(self) -> bool:
        """True when the operation takes the `Idempotency-Key` header."""
        item = self.spec.document["paths"][self.path]
        refs = [p.get("$ref") for p in item.get("parameters", []) + self.raw.get("parameters", [])]
        return IDEMPOTENCY_REF in refs

    @property
    def creates(self) -> bool:
        return self.method == "post" and self.idempotent

    @property
    def scopes(self) -> list[str]:
        """The bearerAuth scopes the operation requires (empty: any key)."""
        security = self.raw.get("security", self.spec.document.get("security", []))
        return [scope for entry in security for scope in entry.get("bearerAuth", [])]

    @property
    def success_status(self) -> str | None:
        return next((code for code in self.raw["responses"] if code.startswith("2")), None)

    @property
    def success_schema(self) -> dict[str, Any] | None:
        """The 2xx JSON schema, top-level `$ref` resolved but not flattened."""
        status = self.success_status
        if status is None:
            return None
        response = self.spec.resolve(self.raw["responses"][status])
        content = response.get("content", {}).get("application/json")
        return self.spec.resolve(content["schema"]) if content else None

    @property
    def lists(self) -> bool:
        """True when the 2xx schema is a page: the Page fields, or `allOf` with Page."""
        schema = self.success_schema or {}
        return self.method == "get" and (
            PAGE_FIELDS <= set(schema.get("properties", {}))
            or any(part.get("$ref") == PAGE_REF for part in schema.get("allOf", []))
        )

    @property
    def item_schema(self) -> dict[str, Any] | None:
        """For a list: the schema of one item, resolved."""
        schema = self.success_schema or {}
        for part in [schema, *schema.get("allOf", [])]:
            items = self.spec.resolve(part).get("properties", {}).get("items")
            if items and items.get("items"):
                return self.spec.resolve(items["items"])
        return None

    @property
    def links(self) -> list[Link]:
        status = self.success_status
        if status is None:
            return []
        response = self.spec.resolve(self.raw["responses"][status])
        return [
            Link(name, link["operationId"], link.get("parameters", {}), link.get("requestBody"))
            for name, link in response.get("links", {}).items()
        ]

    @property
    def body_schema(self) -> dict[str, Any] | None:
        body = self.raw.get("requestBody")
        if not body:
            return None
        content = self.spec.resolve(body).get("content", {}).get("application/json")
        return self.spec.resolve(content["schema"]) if content else None

    @property
    def body_example(self) -> Any:
        """The request body example (a deep copy), or None."""
        body = self.raw.get("requestBody")
        if not body:
            return None
        content = self.spec.resolve(body).get("content", {}).get("application/json", {})
        if "example" in content:
            return copy.deepcopy(content["example"])
        for example in content.get("examples", {}).values():
            return copy.deepcopy(self.spec.resolve(example).get("value"))
        return None

    @cached_property
    def semantic_fields(self) -> frozenset[str]:
        """Fields a schema-valid request may still be refused for: documented so, or references.

        Paths are dotted with `[]` for array items (`events[].customer_id`); a field naming
        another resource (`*_id`) counts, since only the server knows which ids exist. A
        read whose own description sets a limit ("At most 1,000 buckets") may refuse any
        query parameter that reaches it.
        """
        found = {p["name"] for p in self.parameters if _semantic(p, p["name"])}
        if self.method == "get" and LIMIT.search(self.raw.get("description", "")):
            found |= {p["name"] for p in self.parameters if p["in"] == "query"}
        stack = [("", self.body_schema or {})]
        while stack:
            prefix, schema = stack.pop()
            for name, sub in self.spec.resolve(schema).get("properties", {}).items():
                sub = self.spec.resolve(sub)
                if _semantic(sub, name):
                    found.add(prefix + name)
                if len(prefix) < 80:
                    stack.append((f"{prefix}{name}.", sub))
                    if "items" in sub:
                        stack.append((f"{prefix}{name}[].", sub["items"]))
        return frozenset(found)

    def documents(self, status: int) -> bool:
        """True when the operation documents this status (or its class, or default)."""
        return bool({str(status), f"{str(status)[0]}XX", "default"} & set(self.raw["responses"]))


def _semantic(node: dict[str, Any], name: str) -> bool:
    test_values = node.get("x-test-values") or node.get("schema", {}).get("x-test-values") or []
    return (
        name.endswith("_id")
        or bool(SEMANTIC.search(node.get("description", "")))
        or any(isinstance(v, dict) and v.get("status") == 422 for v in test_values)
    )


class Spec:
    """A parsed OpenAPI document and its operations, keyed by operationId."""

    def __init__(self, document: dict[str, Any], source: Path | None = None) -> None:
        self.document = document
        self.source = source
        self.operations: dict[str, Operation] = {
            op["operationId"]: Operation(op["operationId"], method, path, op, self)
            for path, item in document["paths"].items()
            for method, op in item.items()
            if method in METHODS
        }

    @classmethod
    def load(cls, path: Path | str = DEFAULT_SPEC) -> Spec:
        """Parse the YAML or JSON file at `path`."""
        path = Path(path)
        return cls(yaml.load(path.read_text(encoding="utf-8"), Loader=SpecLoader), path)

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s until a node that is not a reference."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    @property
    def contract(self) -> list[Operation]:
        """Every operation a real backend has: sandbox-only ones left out."""
        return [op for op in self.operations.values() if not op.sandbox_only]

    def operation(self, operation_id: str) -> Operation:
        return self.operations[operation_id]

    @property
    def creates(self) -> list[Operation]:
        return [op for op in self.contract if op.creates]

    @property
    def lists(self) -> list[Operation]:
        return [op for op in self.contract if op.lists]

    @property
    def deprecated(self) -> list[Operation]:
        return [op for op in self.contract if op.deprecated]

    @property
    def scopes(self) -> list[str]:
        scheme = self.document["components"]["securitySchemes"]["bearerAuth"]
        return list(scheme.get("x-scopes", {}))

    @property
    def base_path(self) -> str:
        """The path part of the first server URL (`/api/v1`)."""
        url = self.document.get("servers", [{"url": ""}])[0]["url"]
        return "/" + url.split("://", 1)[-1].partition("/")[2].strip("/") if "/" in url else ""

    @cached_property
    def documented_refusals(self) -> frozenset[str]:
        """`details[].error` values the spec's prose says a schema-valid request may get as 422.

        Envelope codes (`validation_error`, …) are not among them: they name no reason.
        """
        found: set[str] = set()
        stack: list[Any] = [self.document]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if isinstance(node.get("description"), str):
                    found.update(REFUSAL_CODE.findall(node["description"]))
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        return frozenset(found - set(self.error_codes.values()))

    @cached_property
    def error_codes(self) -> dict[int, str]:
        """The envelope `code` each error status must carry, from the spec's own table."""
        codes = {
            int(s): c for s, c in STATUS_TABLE_ROW.findall(self.document["info"]["description"])
        }
        for op in self.operations.values():
            for status, response in op.raw["responses"].items():
                example = self.resolve(response).get("content", {}).get("application/json", {})
                code = (example.get("example") or {}).get("code") if status.isdigit() else None
                if isinstance(code, str):
                    codes.setdefault(int(status), code)
        return codes
