"""Which operations a probe visits, and how an exchange is named in a report."""

from __future__ import annotations

from urllib.parse import urlsplit

from contracts.exchange import Exchange
from contracts.spec import Operation, Spec


def one_per_tag(operations: list[Operation]) -> list[Operation]:
    """The first operation of each tag, in spec order (the quick profile's sample)."""
    seen: set[str] = set()
    chosen = []
    for op in operations:
        tag = (op.raw.get("tags") or [op.path])[0]
        if tag not in seen:
            seen.add(tag)
            chosen.append(op)
    return chosen


def one_per_kind(operations: list[Operation]) -> list[Operation]:
    """The first operation of each (tag, method): a read, a write and a delete per tag."""
    seen: set[tuple[str, str]] = set()
    chosen = []
    for op in operations:
        kind = ((op.raw.get("tags") or [op.path])[0], op.method)
        if kind not in seen:
            seen.add(kind)
            chosen.append(op)
    return chosen


def subject_of(spec: Spec, exchange: Exchange) -> str:
    """`METHOD /path-template` when the operation is known, else the method and URL path."""
    if exchange.operation_id in spec.operations:
        return spec.operations[exchange.operation_id].label
    return f"{exchange.method} {urlsplit(exchange.url).path}"
