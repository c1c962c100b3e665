"""No false positives: against the sandbox as it is, every rule holds.

Tolerated: exactly the `SPEC_GAPS` of conftest (the spec must settle those), nothing else.
"""

from __future__ import annotations

from contracts import report
from contracts.runner import RunResult
from tests.contracts.conftest import Sandbox, is_spec_gap, run_kit


def test_every_rule_holds_against_the_sandbox(clean_run: RunResult) -> None:
    unexplained = [f for v in clean_run.verdicts.values() for f in v.failures if not is_spec_gap(f)]
    assert not unexplained, report.render(clean_run.verdicts, {}, clean_run.seconds)
    assert clean_run.verdicts["conformance.reached"].passed


def test_rate_limits_hold_with_the_plans_limits(limited_sandbox: Sandbox) -> None:
    # The builder company's keys: the starter's window belongs to the fault test.
    keys = limited_sandbox.keys_for("builder")
    result = run_kit(limited_sandbox.base_url, keys, ["ratelimit"])
    verdict = result.verdicts["ratelimit.exceeded"]
    assert not result.failed, report.render(result.verdicts, {}, result.seconds)
    assert verdict.passed and not verdict.skips
