"""The guide before the operations: overview, conventions, webhooks, versioning, test mode.

Prose comes from the `## ` sections of the spec's `info.description`; tables come from
the spec's structured parts (`x-plans`, `x-test-mode`, the Error schema, the operations),
so that a section never repeats a hand-written table its data already gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.docs.blocks import Block
from sandbox.docs.conventions import BUILDERS
from sandbox.docs.getting_started import STEPS, TITLE, getting_started
from sandbox.docs.model import Operation
from sandbox.docs.schema import Resolver
from sandbox.docs.section import Context
from sandbox.docs.text import slug

# The order a reader meets the conventions in; spec sections not named here follow them.
ORDER = (
    TITLE,
    "Overview",
    "Authentication",
    "Tenancy",
    "Errors",
    "Rate limits",
    "Pagination",
    "Idempotency",
    "Money and time",
    "Webhooks",
    "Versioning",
    "Test mode",
)
# Sections whose tables the spec's structured data replaces.
REBUILT_TABLES = ("Errors", "Rate limits")


@dataclass(frozen=True)
class Section:
    """A guide section: an anchor, a title, prose (Markdown) and blocks."""

    anchor: str
    title: str
    prose: str
    blocks: tuple[Block, ...]


def split(description: str) -> tuple[str, dict[str, str]]:
    """The text before the first `## ` heading, and each `## ` section's body by title."""
    parts = re.split(r"^## +(.+?)\s*$", description or "", flags=re.MULTILINE)
    return parts[0].strip(), {
        title: body.strip() for title, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def without_tables(text: str) -> str:
    """Markdown with its pipe tables removed."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("|"))


def guide(
    spec: dict[str, Any],
    resolver: Resolver,
    operations: list[Operation],
    events: list[Operation],
    base_url: str,
) -> list[Section]:
    """Every guide section, in reading order; a section with neither prose nor blocks is left
    out."""
    intro, prose = split(spec.get("info", {}).get("description", ""))
    # The intro's first paragraph says what the API is; the rest speaks to spec authors.
    what = intro.split("\n\n", 1)[0].strip() or spec.get("info", {}).get("summary", "")
    prose["Overview"] = what
    prose[TITLE] = STEPS
    context = Context(spec, resolver, operations, events, base_url, prose)
    titles = list(dict.fromkeys([*ORDER, *prose]))
    found = []
    for title in titles:
        text = prose.get(title, "")
        if title in REBUILT_TABLES:
            text = without_tables(text)
        builder = getting_started if title == TITLE else BUILDERS.get(title)
        blocks = builder(context) if builder else []
        if text or blocks:
            found.append(Section(slug(title), title, text, tuple(blocks)))
    return found
