"""A run's shared state: the spec, one client per key, what each key can do, the budgets."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from contracts.account import Account
from contracts.client import Client, Recorder
from contracts.factory import Factory
from contracts.profile import Profile
from contracts.spec import Spec


@dataclass(frozen=True)
class Rule:
    """A property every implementation must have, with a stable id (`envelope.request-id`)."""

    id: str
    statement: str

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]


@dataclass
class Keyed:
    """One key: its client, its account, and a factory creating resources with it."""

    label: str
    client: Client
    account: Account
    factory: Factory
    variable: str = "CONTRACTS_KEY"  # names the key in reproductions, never its value


@dataclass
class Context:
    """Everything a rule family may use; built once per run by the runner."""

    spec: Spec
    base_url: str
    main: Keyed
    others: list[Keyed]
    profile: Profile
    seed: int
    recorder: Recorder
    progress: Callable[[str], None] = lambda message: None
    focus: tuple[str, ...] = ()  # operationIds the fuzzer keeps to (empty: all)
    token: str = field(default_factory=lambda: secrets.token_hex(4))
    # Rule families the given keys cannot run -> why, in words (see `configuration`).
    blocked: dict[str, str] = field(default_factory=dict)
    misconfigured: list[str] = field(default_factory=list)  # every problem with the keys
    # Lines of the report about the run itself (what it covered), in order.
    notes: list[str] = field(default_factory=list)
    # Stateful phase: transition id of each spec link stepped through -> 2xx at both ends.
    links_followed: dict[str, bool] = field(default_factory=dict)
    link_coverage: tuple[int, int] | None = None  # (followed, links), once the phase ran

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    @property
    def keys(self) -> list[Keyed]:
        return [self.main, *self.others]

    @property
    def other(self) -> Keyed | None:
        """A key of another company, for the isolation rules."""
        return next(
            (k for k in self.others if k.account.company_id != self.main.account.company_id), None
        )

    def secrets(self) -> dict[str, str]:
        """Reproduction variable name -> key, so that reports never print a key."""
        return {k.variable: k.client.key for k in self.keys if k.client.key}
