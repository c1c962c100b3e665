"""No false positives: against the sandbox as it is, every rule holds.

Nothing is tolerated: a disagreement is a bug in the kit, the sandbox or the spec.
"""

from __future__ import annotations

from contracts import report
from contracts.runner import RunResult
from tests.contracts.conftest import Sandbox, run_kit


def test_every_rule_holds_against_the_sandbox(clean_run: RunResult) -> None:
    failures = [f for v in clean_run.verdicts.values() for f in v.failures]
    assert not failures, report.render(clean_run.verdicts, {}, clean_run.seconds)
    assert clean_run.verdicts["conformance.reached"].passed


def test_rate_limits_hold_with_the_plans_limits(limited_sandbox: Sandbox) -> None:
    # The builder company's keys: the starter's window belongs to the fault test.
    keys = limited_sandbox.keys_for("builder")
    result = run_kit(limited_sandbox.base_url, keys, ["ratelimit"])
    verdict = result.verdicts["ratelimit.exceeded"]
    assert not result.failed, report.render(result.verdicts, {}, result.seconds)
    assert verdict.passed and not verdict.skips
