"""Fixtures of the kit's tests: a real sandbox on a local port, its keys, and the score.

The kit never imports `sandbox`; its tests do, to start one. Each fault test wraps the
session's sandbox in one fault middleware (`faults.py`) and serves that on its own port.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from contracts.profile import PROFILES
from contracts.rules import select
from contracts.runner import RunResult, Settings, prepare, run
from tests.contracts.serving import served

BASE_PATH = "/api/v1"
SCORE: dict[str, bool] = {}  # fault name -> caught by the rule meant for it
# The quick profile on smaller budgets: enough to catch each fault, fast enough for CI.
TEST_PROFILE = replace(
    PROFILES["quick"],
    name="test",
    fuzz_examples=3,
    fuzz_seconds=8,
    stateful_seconds=4,
    stateful_steps=4,
    max_pages=8,
    concurrency=4,
    exhaust_budget=400,
)


@dataclass(frozen=True)
class Sandbox:
    """A running sandbox: its WSGI app, base URL and fixture keys."""

    app: Any
    base_url: str
    keys: list[dict[str, Any]]

    def key(self, plan: str, label: str = "Full access") -> str:
        return next(k["key"] for k in self.keys if k["plan"] == plan and k["label"] == label)

    def keys_for(self, main_plan: str) -> dict[str, str]:
        """The main key of a plan's company, its read-only key, and another company's key."""
        return {
            "main": self.key(main_plan),
            "read_only": self.key(main_plan, "Read only"),
            "other": self.key("professional"),
        }


def run_kit(
    base_url: str,
    keys: dict[str, str],
    rules: list[str] | None = None,
    focus: tuple = (),
    profile: dict[str, Any] | None = None,
) -> RunResult:
    """Run the kit (TEST_PROFILE, `profile` changes applied) with the three keys.

    `rules` empty or None: every rule.
    """
    settings = Settings(
        base_url=base_url,
        key=keys["main"],
        other_key=keys["other"],
        extra_keys=[keys["read_only"]],
        profile=replace(TEST_PROFILE, **(profile or {})),
        seed=1,
        only=rules or [],
        focus=focus,
    )
    return run(prepare(settings), select(settings.only))


def start_app(path: Path, rate_limit_scale: float) -> tuple[Any, list[dict[str, Any]]]:
    """A sandbox app on a fresh SQLite file, and its fixture keys."""
    from sandbox.config import SandboxConfig
    from sandbox.http.app import create_app
    from sandbox.keys import fixture_keys

    config = SandboxConfig(
        database_url=f"sqlite:///{path}", rate_limit_scale=rate_limit_scale, webhook_worker=False
    )
    app = create_app(config)
    return app, fixture_keys(app.extensions["sandbox"].database)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One sandbox for the session, rate limits lifted."""
    app, keys = start_app(tmp_path_factory.mktemp("sandbox") / "sandbox.db", 0)
    with served(app) as origin:
        yield Sandbox(app, origin + BASE_PATH, keys)


@pytest.fixture(scope="session")
def limited_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox with the plans' own rate limits, for the rate-limit rules."""
    app, keys = start_app(tmp_path_factory.mktemp("limited") / "sandbox.db", 1)
    with served(app) as origin:
        yield Sandbox(app, origin + BASE_PATH, keys)


@pytest.fixture(scope="session")
def clean_run(sandbox: Sandbox) -> RunResult:
    """Every rule against the sandbox as it is: the control every fault is judged against."""
    return run_kit(sandbox.base_url, sandbox.keys_for("builder"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the fault-injection score: faults caught by their rule / faults injected."""
    if SCORE:
        caught = sum(SCORE.values())
        missed = sorted(name for name, ok in SCORE.items() if not ok)
        line = f"contracts fault injection: caught {caught}/{len(SCORE)}"
        terminalreporter.write_line(line + (f" (missed: {', '.join(missed)})" if missed else ""))


@pytest.fixture
def pytester_run() -> Any:
    """Run pytest in a subprocess in a folder (the kit's plugin loads by entry point)."""
    import subprocess
    import sys

    def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run
