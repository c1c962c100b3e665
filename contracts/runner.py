"""A run: check the keys, build the context, run the selected rule families in order."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from contracts.account import fetch_account
from contracts.client import DEFAULT_TIMEOUT, Client, Recorder
from contracts.configuration import misconfiguration
from contracts.context import Context, Keyed, Rule
from contracts.factory import Factory
from contracts.outcome import Failure, Verdict
from contracts.profile import PROFILES, Profile
from contracts.rules import FAMILIES
from contracts.spec import DEFAULT_SPEC, Spec


@dataclass
class Settings:
    """What a user gives a run: the server, the keys and the budgets."""

    base_url: str
    key: str
    other_key: str | None = None
    extra_keys: list[str] = field(default_factory=list)
    spec_path: Path = DEFAULT_SPEC
    profile: str | Profile = "quick"
    seed: int = 0
    only: list[str] = field(default_factory=list)
    focus: tuple[str, ...] = ()  # operationIds the fuzzer keeps to (empty: all)
    timeout: float = DEFAULT_TIMEOUT  # seconds before a request counts as unanswered


@dataclass
class RunResult:
    """The verdict of every selected rule, in run order, and the run's context."""

    rules: list[Rule]
    verdicts: dict[str, Verdict]
    context: Context
    seconds: float
    interrupted: bool = False  # stopped (Ctrl-C) before every family ran: a partial report

    @property
    def failed(self) -> bool:
        return any(v.failures for v in self.verdicts.values())


def prepare(settings: Settings, progress: Callable[[str], None] = lambda m: None) -> Context:
    """Load the spec, learn every key's account and what the keys cannot do.

    Raises Unreachable when the server does not answer, Misconfigured when the base URL
    does not lead to the API, KeyRejected when a key is refused.
    """
    spec = Spec.load(settings.spec_path)
    recorder = Recorder()
    labelled = [("--key", "CONTRACTS_KEY", settings.key)]
    if settings.other_key:
        labelled.append(("--other-key", "CONTRACTS_OTHER_KEY", settings.other_key))
    labelled += [
        (f"--extra-key #{n}", f"CONTRACTS_EXTRA_KEY_{n}", key)
        for n, key in enumerate(settings.extra_keys, start=1)
    ]
    keyed = []
    for label, variable, key in labelled:
        client = Client(settings.base_url, key, recorder, timeout=settings.timeout)
        account = fetch_account(spec, client, label)
        keyed.append(Keyed(label, client, account, Factory(spec, client), variable))
    ctx = Context(
        spec=spec,
        base_url=settings.base_url,
        main=keyed[0],
        others=keyed[1:],
        profile=PROFILES[settings.profile]
        if isinstance(settings.profile, str)
        else settings.profile,
        seed=settings.seed,
        recorder=recorder,
        progress=progress,
        focus=settings.focus,
    )
    ctx.blocked, ctx.misconfigured = misconfiguration(ctx, bool(settings.other_key))
    for reason in ctx.misconfigured:
        progress(f"MISCONFIGURED: {reason}")
    return ctx


def run(
    ctx: Context,
    rules: list[Rule],
    on_family: Callable[[str, dict[str, Verdict]], None] = lambda family, verdicts: None,
) -> RunResult:
    """Run each family that has a selected rule; `on_family` is told as each one finishes.

    A family the keys cannot run (`ctx.blocked`) fails each of its rules with the reason.
    Ctrl-C ends the run with what it has: the rules not reached are marked not run.
    """
    started = time.monotonic()
    verdicts = {rule.id: Verdict(rule.id) for rule in rules}
    interrupted = False
    for family in FAMILIES:
        mine = {r.id: verdicts[r.id] for r in family.RULES if r.id in verdicts}
        if not mine:
            continue
        name = family.RULES[0].family
        if interrupted:
            for verdict in mine.values():
                verdict.skip("not run: the run was interrupted")
            continue
        begun = time.monotonic()
        if name in ctx.blocked:
            _fail_all(mine, name, "a configuration this rule can run with", ctx.blocked[name])
        else:
            ctx.progress(f"{name}: checking {', '.join(mine)}")
            try:
                family.check(ctx, mine)
            except KeyboardInterrupt:
                interrupted = True
                for verdict in mine.values():
                    verdict.skip("interrupted while this rule ran: its counts are partial")
            except Exception as exc:  # an answer the rule could not read must not end the run
                _fail_all(mine, name, "the rule to run to its end", f"{type(exc).__name__}: {exc}")
        for verdict in mine.values():
            verdict.seconds = time.monotonic() - begun
        on_family(name, mine)
    return RunResult(rules, verdicts, ctx, time.monotonic() - started, interrupted)


def _fail_all(verdicts: dict[str, Verdict], subject: str, expected: str, got: str) -> None:
    for verdict in verdicts.values():
        verdict.failures.append(Failure(verdict.rule_id, subject, expected, got))
