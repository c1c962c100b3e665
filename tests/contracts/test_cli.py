"""`contracts run` and `contracts rules`: exit codes, the report, JUnit, against small fakes."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask, jsonify, request

from contracts.cli import main
from tests.contracts.serving import served

ACCOUNT = {
    "company_id": "cmp_1",
    "plan": "starter",
    "key": {"scopes": []},
    "limits": {"requests_per_minute": 60},
    "business": {"id": "biz_1"},
    "businesses": [{"id": "biz_1"}],
}


def fake_server(request_ids: bool = True, key: str = "sk_test_good") -> Flask:
    """Answers GET /account for `key`; everything else is a 404 envelope."""
    app = Flask(__name__)
    counter = itertools.count()

    @app.route("/api/v1/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def anything(anything: str):  # type: ignore[no-untyped-def]
        request_id = f"req_{next(counter)}"
        if request.headers.get("Authorization") != f"Bearer {key}":
            body, status = {"code": "unauthorized", "message": "no", "request_id": request_id}, 401
        elif anything == "account":
            body, status = ACCOUNT, 200
        else:
            body, status = {"code": "not_found", "message": "no", "request_id": request_id}, 404
        response = jsonify(body)
        response.status_code = status
        if request_ids or status == 200:
            response.headers["X-Request-Id"] = request_id
        return response

    return app


def test_rules_lists_every_rule_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    listed = capsys.readouterr().out
    for rule_id in ("envelope.request-id", "idempotency.replay", "conformance.status-code"):
        assert rule_id in listed


def test_unreachable_server_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--base-url", "http://127.0.0.1:9/api/v1", "--key", "k", "-q"])
    assert code == 2
    assert "127.0.0.1:9" in capsys.readouterr().err


def test_refused_key_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with served(fake_server()) as origin:
        code = main(["run", "--base-url", origin + "/api/v1", "--key", "sk_test_bad", "-q"])
    assert code == 2
    assert "--key was refused" in capsys.readouterr().err


def test_unknown_rule_is_a_usage_error() -> None:
    with served(fake_server()) as origin:
        args = ["run", "--base-url", origin + "/api/v1", "--key", "sk_test_good", "--only", "nope"]
        assert main([*args, "-q"]) == 2


@pytest.mark.parametrize(("request_ids", "expected"), [(True, 0), (False, 1)])
def test_exit_code_and_junit_follow_the_verdict(
    tmp_path: Path, request_ids: bool, expected: int, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "contracts.xml"
    with served(fake_server(request_ids)) as origin:
        code = main(
            [
                "run",
                "--base-url",
                origin + "/api/v1",
                "--key",
                "sk_test_good",
                "-q",
                "--only",
                "envelope.request-id",
                "--junit",
                str(junit),
            ]
        )
    assert code == expected
    out = capsys.readouterr().out
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case is not None and case.get("name") == "envelope.request-id"
    if expected:
        assert "no X-Request-Id header" in out and "reproduce: curl" in out
        assert case.find("failure") is not None
        assert "sk_test_good" not in out
    else:
        assert "all 1 rules hold" in out and case.find("failure") is None


def test_suite_runs_in_pytest_with_the_plugin_options(pytester_run) -> None:  # noqa: ANN001
    root = Path(__file__).resolve().parents[2]
    with served(fake_server()) as origin:
        result = pytester_run(
            root,
            "--pyargs",
            "contracts",
            "-q",
            "--contracts-url",
            origin + "/api/v1",
            "--contracts-key",
            "sk_test_good",
            "--contracts-only",
            "envelope.request-id",
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout and "not selected" in result.stdout


def test_plugin_is_inert_without_its_options(tmp_path: Path, pytester_run) -> None:  # noqa: ANN001
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    # The option is known (else a usage error), and without --contracts-url nothing else runs.
    result = pytester_run(tmp_path, "-q", "--contracts-profile", "full")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_missing_spec_is_a_usage_error(tmp_path: Path) -> None:
    with served(fake_server()) as origin:
        args = ["run", "--base-url", origin + "/api/v1", "--key", "sk_test_good", "-q"]
        assert main([*args, "--spec", str(tmp_path / "nope.yaml")]) == 2
