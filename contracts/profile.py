"""How hard a run tries: `quick` for every commit, `full` for a nightly or release run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """Budgets of one run; every rule reads the ones it needs."""

    name: str
    fuzz_examples: int  # schemathesis examples per operation and phase
    fuzz_seconds: int  # schemathesis time budget for its examples, coverage, fuzzing phases
    stateful_seconds: int  # and for its stateful phase (the links), run after them
    stateful_steps: int  # schemathesis stateful phase: steps per scenario
    stateful_scenarios: int  # and scenarios at most (its time budget may end it first)
    examples_phase: bool  # schemathesis sends the spec's examples (slow to generate)
    coverage_phase: bool  # schemathesis' boundary-value phase (thorough, and slow)
    probe_all: bool  # auth and envelope probes: every operation, or one per tag
    max_pages: int  # pagination: pages walked per list at most
    concurrency: int  # idempotency: parallel requests sharing one key
    exhaust_budget: int  # rate limits: most requests spent to reach a 429


PROFILES = {
    "quick": Profile(
        name="quick",
        fuzz_examples=4,
        fuzz_seconds=15,
        stateful_seconds=15,
        stateful_steps=20,
        stateful_scenarios=200,
        examples_phase=False,
        coverage_phase=False,
        probe_all=False,
        max_pages=10,
        concurrency=4,
        exhaust_budget=1_200,
    ),
    "full": Profile(
        name="full",
        fuzz_examples=40,
        fuzz_seconds=240,
        stateful_seconds=240,
        stateful_steps=20,
        stateful_scenarios=2_000,
        examples_phase=True,
        coverage_phase=True,
        probe_all=True,
        max_pages=60,
        concurrency=8,
        exhaust_budget=5_000,
    ),
}
