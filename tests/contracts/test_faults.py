"""Real detection: each fault injected into the sandbox is caught by the rule meant for it.

Every fault wraps the session's sandbox in one WSGI middleware served on its own port;
the kit runs only the fault's rule against it, on small budgets. A fault only counts as
caught when the same rule holds against the sandbox without it (`clean_run`). The score
(caught / injected) is printed at the end of the test run.
"""

from __future__ import annotations

import pytest

from contracts import report
from contracts.runner import RunResult
from tests.contracts.conftest import BASE_PATH, SCORE, Sandbox, run_kit
from tests.contracts.faults import FAULTS, Fault
from tests.contracts.serving import served


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_fault_is_caught_by_its_rule(
    fault: Fault, sandbox: Sandbox, limited_sandbox: Sandbox, clean_run: RunResult
) -> None:
    SCORE[fault.name] = False
    if fault.limited:
        target, keys = limited_sandbox, limited_sandbox.keys_for("starter")
    else:
        target, keys = sandbox, sandbox.keys_for("builder")
        control = clean_run.verdicts[fault.rule].failures
        assert not control, f"{fault.rule} fails without the fault: no verdict"
    with served(fault.wrap(target.app, keys)) as origin:
        result = run_kit(origin + BASE_PATH, keys, [fault.rule], fault.focus, fault.profile)
    verdict = result.verdicts[fault.rule]
    SCORE[fault.name] = bool(verdict.failures)
    assert verdict.failures, f"{fault.rule} missed {fault.name!r}:\n" + report.render(
        result.verdicts, {}, result.seconds
    )
