"""The whole reference as one view model: guide sections, grouped operations, webhook events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.docs.calls import IdMap, same_id
from sandbox.docs.guide import Section, guide
from sandbox.docs.model import Group, Operation, groups, operations, webhook_events
from sandbox.docs.schema import Resolver


@dataclass(frozen=True)
class Reference:
    """Everything the templates render, in reading order."""

    title: str
    version: str
    base_url: str
    sections: tuple[Section, ...]
    groups: tuple[Group, ...]
    events: tuple[Operation, ...]
    try_it: bool = False

    @property
    def operations(self) -> list[Operation]:
        """Every operation, in the order the reference shows them."""
        return [op for group in self.groups for tag in group.tags for op in tag.operations]


def reference(
    spec: dict[str, Any], base_url: str, *, ids: IdMap = same_id, try_it: bool = False
) -> Reference:
    """The view model of a parsed spec; samples call `base_url` with the ids `ids` picks.

    `try_it` adds a panel to each operation that sends its request from the page.
    """
    resolver = Resolver(spec)
    found = operations(spec, resolver, base_url, ids)
    events = webhook_events(spec, resolver)
    info = spec.get("info", {})
    return Reference(
        title=info.get("title", "API"),
        version=str(info.get("version", "")),
        base_url=base_url,
        sections=tuple(guide(spec, resolver, found, events, base_url)),
        groups=tuple(groups(spec, found)),
        events=tuple(events),
        try_it=try_it,
    )
