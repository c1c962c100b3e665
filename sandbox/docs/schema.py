"""JSON Schemas of the spec turned into rows a reader can scan: one row per field.

A nested field is named by its parent path (`events[].event_id`), so that the HTML and
the Markdown show the same rows. `$ref`s are resolved, `allOf` is merged and a
`oneOf` with `null` reads as a nullable type.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sandbox.docs.constraints import describe, type_label

MAX_DEPTH = 6


@dataclass(frozen=True)
class Field:
    """One field (or parameter): name, type, whether required, and what it means."""

    path: str
    name: str
    type: str
    required: bool
    description: str = ""
    notes: tuple[str, ...] = ()
    test_values: tuple[dict[str, Any], ...] = ()
    location: str = ""
    # A Markdown link to the guide section stating the convention this parameter belongs to.
    see: str = ""

    @property
    def depth(self) -> int:
        """How deeply nested the field is; 0 for a top-level field."""
        return self.path.count(".")


@dataclass(frozen=True)
class SchemaView:
    """A schema as the docs show it: its own type and description, fields or variants."""

    name: str | None
    type: str
    description: str
    fields: tuple[Field, ...] = ()
    variants: tuple[SchemaView, ...] = field(default=())


class Resolver:
    """Resolves local `$ref`s of one spec and merges `allOf`; never mutates the spec."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def follow(self, node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The node a chain of `$ref`s points at, and the name of the last one (or None)."""
        name = None
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node and node["$ref"] not in seen:
            ref = node["$ref"]
            seen.add(ref)
            name = ref.rsplit("/", 1)[-1]
            target: Any = self.spec
            for part in ref.removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node, name

    def schema(self, node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The schema with `$ref` followed and `allOf` parts merged into one object."""
        node, name = self.follow(node)
        if "allOf" not in node:
            return node, name
        merged: dict[str, Any] = {"properties": {}, "required": []}
        for part in node["allOf"]:
            part, _ = self.schema(part)
            for key, value in part.items():
                if key == "properties":
                    for prop, sub in value.items():
                        merged["properties"][prop] = {**merged["properties"].get(prop, {}), **sub}
                elif key == "required":
                    merged["required"] += [r for r in value if r not in merged["required"]]
                else:
                    merged[key] = value
        merged.update({k: v for k, v in node.items() if k != "allOf"})
        return merged, name

    def view(self, node: dict[str, Any]) -> SchemaView:
        """The rows of a request or response body schema."""
        schema, name = self.schema(node)
        variants = [v for v in schema.get("oneOf", schema.get("anyOf", [])) if not _is_null(v)]
        if len(variants) > 1:
            views = tuple(self.view(variant) for variant in variants)
            return SchemaView(name, "one of", schema.get("description", ""), variants=views)
        rows = tuple(self.fields(node, "", (name,) if name else ()))
        label = type_label(schema, self.schema)
        return SchemaView(name, label, schema.get("description", ""), fields=rows)

    def fields(self, node: dict[str, Any], path: str, stack: tuple[str, ...]) -> Iterator[Field]:
        """Rows for the properties of `node` (or of its items), nested ones after their parent."""
        schema, _ = self.schema(node)
        if schema.get("type") == "array" and "properties" not in schema:
            yield from self.fields(schema.get("items", {}), f"{path}[].", stack)
            return
        required = set(schema.get("required", []))
        for name, sub in schema.get("properties", {}).items():
            resolved, _ = self.schema(sub)
            yield Field(
                path=path,
                name=name,
                type=type_label(resolved, self.schema),
                required=name in required,
                description=sub.get("description") or resolved.get("description", ""),
                notes=describe(resolved, self.schema),
                test_values=tuple(resolved.get("x-test-values", ())),
            )
            if path.count(".") >= MAX_DEPTH:
                continue
            for child, suffix, child_name in self._children(sub):
                if child_name not in stack:
                    inner = (*stack, child_name) if child_name else stack
                    yield from self.fields(child, f"{path}{name}{suffix}.", inner)

    def _children(self, node: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, str | None]]:
        """The object schemas nested in a field, each with the path suffix that reaches it
        (`[]` through an array) and its component name (None when inline)."""
        schema, name = self.schema(node)
        suffix = ""
        if "array" in _types(schema) and "items" in schema:
            schema, name = self.schema(schema["items"])
            suffix = "[]"
        options = [(schema, name)]
        if "oneOf" in schema or "anyOf" in schema:
            options = [self.schema(v) for v in schema.get("oneOf", schema.get("anyOf", []))]
        for option, option_name in options:
            if option.get("properties"):
                yield option, suffix, option_name


def _types(schema: dict[str, Any]) -> list[str]:
    """The schema's `type` as a list."""
    kind = schema.get("type", [])
    return kind if isinstance(kind, list) else [kind]


def _is_null(schema: dict[str, Any]) -> bool:
    """True for the `{type: null}` arm of a nullable `oneOf`."""
    return schema.get("type") == "null"
