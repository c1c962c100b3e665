"""The rule families, in the order a run checks them.

Each family module has `RULES` (id and one-line statement) and `check(ctx, verdicts)`,
which is given a `Verdict` for each of its selected rules. The order matters: families
that only probe come first, the fuzzer after the targeted rules, the passive envelope
pass near the end (it judges everything sent before it), and rate-limit exhaustion last
(it spends a key's window).
"""

from __future__ import annotations

from types import ModuleType

from contracts.context import Rule
from contracts.rules import (
    auth,
    conformance,
    deprecation,
    envelope,
    idempotency,
    isolation,
    lifecycle,
    metering,
    pagination,
    ratelimit,
)

FAMILIES: tuple[ModuleType, ...] = (
    auth,
    deprecation,
    idempotency,
    isolation,
    lifecycle,
    pagination,
    metering,
    conformance,
    envelope,
    ratelimit,
)


def all_rules() -> list[Rule]:
    """Every rule, in run order."""
    return [rule for family in FAMILIES for rule in family.RULES]


def select(only: list[str] | None) -> list[Rule]:
    """The rules named by id or family in `only` (all when empty); raises KeyError if unknown."""
    rules = all_rules()
    if not only:
        return rules
    chosen = [r for r in rules if r.id in only or r.family in only]
    unknown = [name for name in only if not any(r.id == name or r.family == name for r in rules)]
    if unknown:
        raise KeyError(", ".join(unknown))
    return chosen
