"""Blocks of the sections about what happens over time: webhooks (signing, retries, event
types), versioning (deprecated operations) and test mode (magic values, test clock)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.docs.blocks import Block, Note, Sample, Schema, Table, duration, extension_blocks, link
from sandbox.docs.model import Operation
from sandbox.docs.schema import SchemaView

if TYPE_CHECKING:
    from sandbox.docs.section import Context

STATIC = Path(__file__).parent / "static"
SNIPPETS = (
    ("Node.js: verify X-Signature", "js", "verify_signature.js"),
    ("Python: verify X-Signature-V2 or X-Signature", "python", "verify_signature.py"),
)
DEPRECATION_HEADERS = ("deprecation", "sunset")


def webhooks(ctx: Context) -> list[Block]:
    """What a delivery is, how to verify it, when it is retried, and every event type."""
    if not ctx.events:
        return []
    tags = {tag["name"]: tag for tag in ctx.spec.get("tags", [])}
    tag = ctx.events[0].tag
    blocks: list[Block] = []
    if tags.get(tag, {}).get("description"):
        blocks.append(Note(tags[tag]["description"], "plain"))
    payload = ctx.events[0].body
    if payload and payload.description:
        blocks.append(Note(payload.description, "plain"))
    subscribe = next((op for op in ctx.operations if op.tag == tag and op.method == "post"), None)
    if subscribe:
        blocks.append(
            Note(
                f"Subscribe with {link(subscribe.id, subscribe.summary)} "
                f"(`{subscribe.method.upper()} {subscribe.path}`); its answer holds "
                "the signing secret."
            )
        )
    test_mode = ctx.spec.get("x-test-mode", {})
    schedule = test_mode.get("webhook_retry_schedule_seconds", [])
    if schedule:
        total, rows = 0, []
        for attempt, delay in enumerate(schedule, start=2):
            total += delay
            rows.append((str(attempt), duration(delay), duration(total)))
        blocks.append(
            Table(
                "Retries after a failed attempt",
                ("Attempt", "After the previous one", "After the first"),
                tuple(rows),
            )
        )
    if "webhook_timeout_seconds" in test_mode:
        blocks.append(
            Note(
                f"An attempt fails unless the receiver answers 2xx within "
                f"{test_mode['webhook_timeout_seconds']} s."
            )
        )
    for label, language, name in SNIPPETS:
        blocks.append(Sample(label, language, (STATIC / name).read_text(encoding="utf-8")))
    events = tuple((link(event.id, f"`{event.path}`"), event.description) for event in ctx.events)
    blocks.append(Table("Event types", ("Event", "Sent when"), events))
    return blocks


def versioning(ctx: Context) -> list[Block]:
    """The deprecated operations with their dates, and the headers they answer with."""
    deprecated = [op for op in ctx.operations if op.deprecated]
    if not deprecated:
        return [Note("No operation is deprecated in this version.")]
    rows = tuple(
        (
            link(op.id, op.id),
            f"`{op.method.upper()} {op.path}`",
            op.deprecated_at or "—",
            op.sunset or "—",
        )
        for op in deprecated
    )
    blocks: list[Block] = [
        Table("Deprecated operations", ("Operation", "Request", "Deprecated on", "Sunset"), rows)
    ]
    headers = tuple(
        header
        for response in deprecated[0].responses
        for header in response.headers
        if header.name.lower() in DEPRECATION_HEADERS
    )
    if headers:
        blocks.append(Schema("Headers", SchemaView(None, "", "", fields=headers)))
    return blocks + _deprecation_sample(deprecated[0])


def _deprecation_sample(op: Operation) -> list[Block]:
    """The status line and headers a deprecated operation answers with, from its dates."""
    try:
        deprecated_at = date.fromisoformat(op.deprecated_at or "")
        sunset = date.fromisoformat(op.sunset or "")
    except ValueError:
        return []
    status = int(op.responses[0].status) if op.responses else 200
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        f"Deprecation: @{calendar.timegm(deprecated_at.timetuple())}",
        f"Sunset: {format_datetime(datetime(*sunset.timetuple()[:3], tzinfo=UTC), usegmt=True)}",
    ]
    return [Sample(f"{op.method.upper()} {op.path}", "http", "\n".join(lines) + "\n")]


def test_mode(ctx: Context) -> list[Block]:
    """Tables of `x-test-mode`, the fields that take magic values, and the sandbox controls."""
    blocks = extension_blocks(ctx.spec.get("x-test-mode", {}), anchor_prefix="test")
    rows = tuple(
        (
            f"`{schema}.{name}`",
            ", ".join(f"`{v['value']}`" for v in values),
            ", ".join(
                link(op.id, op.id) for op in ctx.operations if op.body and op.body.name == schema
            ),
        )
        for schema, name, values in _test_value_fields(ctx.spec)
    )
    if rows:
        blocks.append(Table("Fields that take magic values", ("Field", "Values", "Used by"), rows))
    controls = tuple(
        (link(op.id, op.summary or op.id), f"`{op.method.upper()} {op.path}`")
        for op in ctx.operations
        if op.sandbox_only
    )
    if controls:
        blocks.append(Table("Sandbox controls", ("Operation", "Request"), controls))
    return blocks


def _test_value_fields(spec: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(schema name, property name, `x-test-values`) of every component schema property."""
    found = []
    for schema_name, schema in spec.get("components", {}).get("schemas", {}).items():
        for name, prop in schema.get("properties", {}).items():
            if prop.get("x-test-values"):
                found.append((schema_name, name, prop["x-test-values"]))
    return found
