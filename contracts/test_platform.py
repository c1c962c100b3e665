"""The contract suite as pytest tests, one per rule; inert without `--contracts-url`.

    pytest --pyargs contracts --contracts-url http://127.0.0.1:8080/api/v1 \\
        --contracts-key sk_test_... --contracts-other-key sk_test_... --junitxml=contracts.xml

The whole run happens once (rules depend on their order); each test reports one rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import report
from contracts.account import KeyRejected, Misconfigured
from contracts.client import Unreachable
from contracts.rules import all_rules, select
from contracts.runner import RunResult, Settings, prepare, run
from contracts.spec import DEFAULT_SPEC

RULES = all_rules()
USAGE_ERROR = 2


@pytest.fixture(scope="session")
def contract_run(request: pytest.FixtureRequest) -> RunResult:
    """Every selected rule checked against the server named by the options."""
    option = request.config.getoption
    url = option("--contracts-url", default=None)
    if not url:
        pytest.skip("the contract suite needs --contracts-url and --contracts-key")
    if not option("--contracts-key"):
        pytest.exit("contracts: --contracts-key is required", returncode=USAGE_ERROR)
    settings = Settings(
        base_url=url,
        key=option("--contracts-key"),
        other_key=option("--contracts-other-key"),
        extra_keys=option("--contracts-extra-key"),
        spec_path=Path(option("--contracts-spec") or DEFAULT_SPEC),
        profile=option("--contracts-profile"),
        seed=option("--contracts-seed"),
        timeout=option("--contracts-timeout"),
        only=[name for value in option("--contracts-only") for name in value.split(",") if name],
    )
    try:
        return run(prepare(settings), select(settings.only))
    except (Unreachable, KeyRejected, Misconfigured) as exc:
        pytest.exit(f"contracts: {exc}", returncode=USAGE_ERROR)
    except KeyError as exc:
        pytest.exit(f"contracts: unknown rule or family: {exc}", returncode=USAGE_ERROR)


@pytest.mark.parametrize("rule_id", [rule.id for rule in RULES])
def test_rule(contract_run: RunResult, rule_id: str) -> None:
    verdict = contract_run.verdicts.get(rule_id)
    if verdict is None:
        pytest.skip("not selected by --contracts-only")
    if verdict.failures:
        secrets = contract_run.context.secrets()
        blocks = [report.describe(f, n, secrets) for f, n in report.grouped(verdict.failures)]
        pytest.fail("\n\n".join(blocks), pytrace=False)
    if verdict.status == "skip":
        pytest.skip("; ".join(verdict.skips) or "nothing to check")
