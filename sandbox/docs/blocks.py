"""The building blocks of a guide section: tables, code samples and schemas.

Cells and prose are Markdown, so one block renders the same in HTML and in Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.docs.constraints import code
from sandbox.docs.schema import SchemaView
from sandbox.docs.text import humanize, number, slug


@dataclass(frozen=True)
class Table:
    """A titled table whose cells are inline Markdown."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kind: str = "table"
    # Per row, (anchor, what the row is about) for rows a search lands on; empty: none do.
    anchors: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Sample:
    """A code sample shown beside the prose: a label, a language and the code."""

    label: str
    language: str
    code: str
    kind: str = "sample"


@dataclass(frozen=True)
class Request:
    """A request sample in every language: (language id, code) pairs in tab order."""

    label: str
    samples: tuple[tuple[str, str], ...]
    kind: str = "request"


@dataclass(frozen=True)
class Schema:
    """A schema shown as its field rows, under a title."""

    title: str
    view: SchemaView
    kind: str = "schema"


@dataclass(frozen=True)
class Note:
    """A paragraph of Markdown: `info` is set off from the prose, `plain` reads as prose."""

    text: str
    style: str = "info"
    kind: str = "note"


Block = Table | Sample | Request | Schema | Note


def cell_value(value: Any, empty: str = "—") -> str:
    """A spec value as a table cell: numbers grouped, booleans as code, None as `empty`."""
    if value is None:
        return empty
    if isinstance(value, bool):
        return code(value)
    if isinstance(value, int | float):
        return number(value)
    return str(value)


def records_table(
    title: str,
    records: list[dict[str, Any]],
    code_column: str = "",
    empty: str = "—",
    anchor_prefix: str = "",
) -> Table:
    """A table of a list of records; columns are the union of their keys, in first-seen order.

    Values of `code_column` are shown as code (magic values, plan names); None as `empty`.
    With `anchor_prefix`, each row is anchored at `<prefix>-<its code_column value>`.
    """
    columns = list(dict.fromkeys(key for record in records for key in record))
    rows = tuple(
        tuple(
            code(record[c])
            if c == code_column and record.get(c) is not None
            else cell_value(record.get(c), empty)
            for c in columns
        )
        for record in records
    )
    anchors = tuple(
        (f"{anchor_prefix}-{record.get(code_column)}", str(record.get(code_column)))
        for record in records
        if anchor_prefix
    )
    return Table(title, tuple(humanize(c) for c in columns), rows, anchors=anchors)


def extension_blocks(values: dict[str, Any], anchor_prefix: str = "") -> list[Block]:
    """Blocks for an `x-` mapping: lists of records become tables, everything else a table of
    name and value. With `anchor_prefix`, record rows are anchored (see `records_table`)."""
    blocks: list[Block] = []
    facts: list[tuple[str, str]] = []
    for key, value in values.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            prefix = f"{anchor_prefix}-{slug(key)}" if anchor_prefix else ""
            blocks.append(
                records_table(humanize(key), value, code_column="value", anchor_prefix=prefix)
            )
        elif isinstance(value, dict):
            rows = tuple((humanize(k), code(v)) for k, v in value.items())
            blocks.append(Table(humanize(key), ("Name", "Value"), rows))
        elif isinstance(value, list):
            facts.append((humanize(key), ", ".join(cell_value(v) for v in value)))
        else:
            facts.append((humanize(key), cell_value(value)))
    if facts:
        blocks.append(Table("Other settings", ("Setting", "Value"), tuple(facts)))
    return blocks


def link(anchor: str, text: str) -> str:
    """A Markdown link to an anchor of the page."""
    return f"[{text}](#{anchor})"


def duration(seconds: int) -> str:
    """Seconds as hours, minutes and seconds, largest first: `1 h 11 min`, `45 s`."""
    parts = []
    for size, unit in ((3600, "h"), (60, "min"), (1, "s")):
        if seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts) or "0 s"
