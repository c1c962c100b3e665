"""What the reference's section builders read: the spec and what is derived from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.docs.model import Operation
from sandbox.docs.schema import Resolver


@dataclass(frozen=True)
class Context:
    """What the section builders read: the spec, its resolver, operations and events."""

    spec: dict[str, Any]
    resolver: Resolver
    operations: list[Operation]
    events: list[Operation]
    base_url: str
    prose: dict[str, str]
