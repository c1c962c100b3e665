"""The search index of the reference, built with the page: every place a search lands on.

Entries are operations, resources (tags), guide sections, schemas, fields and parameters,
error codes and test-mode values; each is `[kind, title, detail, anchor]`, the anchor
being an `id` of the page. The page carries the index as JSON and searches it in the
browser, so the static build searches without a server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from sandbox.docs.blocks import Schema, Table
from sandbox.docs.model import Operation
from sandbox.docs.reference import Reference
from sandbox.docs.schema import Field, SchemaView
from sandbox.docs.text import slug

Entry = tuple[str, str, str, str]
MARKUP = re.compile(r"[`*\[\]]|\(#[^)]*\)")


def row_anchor(prefix: str, field: Field) -> str:
    """The id of a field's row: `prefix.` then the location of a parameter, then its path."""
    location = f"{slug(field.location)}." if field.location else ""
    return f"{prefix}.{location}{field.path}{field.name}"


def entries(ref: Reference) -> list[Entry]:
    """Every entry, in page order; a schema or field shown in several places is listed at its
    first (a parameter shared by operations, once per description)."""
    found: list[Entry] = []
    seen: set[tuple[str, ...]] = set()

    def add(entry: Entry, key: tuple[str, ...]) -> None:
        if key not in seen:
            seen.add(key)
            found.append(entry)

    for section in ref.sections:
        add(("Guide", section.title, "", section.anchor), ("guide", section.anchor))
        for block in section.blocks:
            if isinstance(block, Schema):
                prefix = f"{section.anchor}.{slug(block.title)}"
                for field in block.view.fields:
                    entry = (
                        "Field",
                        field.path + field.name,
                        block.title,
                        row_anchor(prefix, field),
                    )
                    add(entry, ("guide-field", prefix, field.path + field.name))
            if not isinstance(block, Table):
                continue
            for (anchor, title), row in zip(block.anchors, block.rows, strict=False):
                detail = f"{block.title} · " + " · ".join(plain(cell) for cell in row[1:])
                add((_row_kind(section.title), title, detail[:140], anchor), ("row", anchor))
    for group in ref.groups:
        for tag in group.tags:
            add(("Resource", tag.name, group.name, tag.anchor), ("tag", tag.anchor))
            for op in tag.operations:
                for entry, key in _operation_entries(op):
                    add(entry, key)
    for event in ref.events:
        for entry, key in _operation_entries(event, kind="Event"):
            add(entry, key)
    return found


def _row_kind(section: str) -> str:
    """What an anchored guide row is: an error code, or a test-mode value."""
    return "Error code" if section == "Errors" else "Test value"


def _operation_entries(
    op: Operation, kind: str = "Operation"
) -> Iterator[tuple[Entry, tuple[str, ...]]]:
    """The operation, then its parameters, its body and its responses with their fields."""
    where = f"{op.method.upper()} {op.path}" if kind == "Operation" else op.path
    yield (kind, plain(op.summary) or op.id, f"{where} · {op.id}", op.id), ("op", op.id)
    for param in op.parameters:
        detail = f"{param.location} parameter · {plain(op.summary)}"
        yield (
            ("Parameter", param.name, detail, row_anchor(op.id, param)),
            ("param", param.name, param.location, param.description),
        )
    views: list[tuple[SchemaView | None, str, str]] = [(op.body, f"{op.id}.body", "request body")]
    views += [(r.schema, f"{op.id}.{r.status}", f"response {r.status}") for r in op.responses]
    for view, prefix, role in views:
        if view is None:
            continue
        owner = view.name or f"{plain(op.summary)} {role}"
        if view.name:
            yield ("Schema", view.name, f"{role} of {op.id}", prefix), ("schema", view.name)
        variants = view.variants or (view,)
        for index, variant in enumerate(variants, start=1):
            rows_prefix = f"{prefix}.{index}" if view.variants else prefix
            for field in variant.fields:
                key = ("field", view.name or prefix, str(index), field.path + field.name)
                yield (
                    ("Field", field.path + field.name, owner, row_anchor(rows_prefix, field)),
                    key,
                )


def plain(markdown: str) -> str:
    """Markdown as plain text for a result line: links, code ticks and emphasis removed."""
    return re.sub(r"\s+", " ", MARKUP.sub("", markdown or "")).strip()


def index_json(ref: Reference) -> str:
    """The index as JSON safe inside a `<script>` element."""
    text = json.dumps(entries(ref), ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/")
