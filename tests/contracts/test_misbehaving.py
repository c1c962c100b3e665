"""The kit against servers that misbehave: it finishes, reports truly, and names mistakes.

A stateless mock of the spec (`tests/contracts/stateless.py`, what `prism mock` serves)
must fail exactly the rules that need state, with every failure reproducible by its
printed curl command; the same mock hanging on one operation must still give a whole
report; misconfigured keys and URLs are named; Ctrl-C leaves a partial report.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from contracts.cli import main
from contracts.client import Client
from contracts.outcome import Verdict
from contracts.rules import all_rules
from contracts.runner import Settings, prepare, run
from tests.contracts.conftest import TEST_PROFILE, Sandbox, run_kit
from tests.contracts.stateless import serving_app, stateless_app

pytestmark = pytest.mark.slow
KEYS = ["--key", "sk_test_main", "--other-key", "sk_test_other", "--extra-key", "sk_test_ro"]
ENV = {"CONTRACTS_KEY": "sk_test_main", "CONTRACTS_OTHER_KEY": "sk_test_other",
       "CONTRACTS_EXTRA_KEY_1": "sk_test_ro"}  # fmt: skip
ROW = re.compile(r"^(?P<rule>[a-z]+\.[a-z-]+)\s+(?P<status>pass|fail|skip)\s+\d+\s+\d+", re.M)
STATELESS_FAILS = {
    "isolation.read",
    "isolation.write",
    "isolation.list",
    "idempotency.replay",
    "idempotency.conflict",
    "pagination.walk",
    "ratelimit.remaining",
    "ratelimit.exceeded",
    "metering.no-double-count",
    "lifecycle.delete",
    "conformance.use-after-free",
}
STATELESS_HOLDS = {
    "auth.missing-key",
    "deprecation.headers",
    "pagination.bounds",
    "envelope.shape",
    "envelope.request-id",
    "ratelimit.headers",
    "conformance.server-error",
    "conformance.answered",
    "conformance.response-schema",
    "conformance.negative-data",
}


@dataclass(frozen=True)
class Finished:
    """One `contracts run` through the CLI: exit code, what it printed, its JUnit file."""

    code: int
    out: str
    err: str
    junit: Path

    def statuses(self) -> dict[str, str]:
        return {m["rule"]: m["status"] for m in ROW.finditer(self.out)}


def cli(base_url: str, junit: Path, *extra: str) -> Finished:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["run", "--base-url", base_url, *KEYS, "--junit", str(junit), "-q", *extra])
    return Finished(code, out.getvalue(), err.getvalue(), junit)


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with serving_app(stateless_app()) as url:
        yield url


@pytest.fixture(scope="module")
def stateless_run(mock_url: str, tmp_path_factory: pytest.TempPathFactory) -> Finished:
    return cli(mock_url, tmp_path_factory.mktemp("stateless") / "junit.xml", "--timeout", "5")


def test_a_stateless_mock_fails_the_rules_that_need_state(stateless_run: Finished) -> None:
    assert stateless_run.code == 1, stateless_run.err
    statuses = stateless_run.statuses()
    assert set(statuses) == {rule.id for rule in all_rules()}  # a full table
    failed = {rule for rule, status in statuses.items() if status == "fail"}
    held = {rule for rule, status in statuses.items() if status == "pass"}
    assert STATELESS_FAILS <= failed, sorted(STATELESS_FAILS - failed)
    assert STATELESS_HOLDS <= held, sorted(STATELESS_HOLDS - held)
    # Every key of a mock answers the same account: that is said, not skipped.
    assert "--other-key belongs to company" in stateless_run.out
    assert "links:" in stateless_run.out


def test_the_junit_file_has_every_rule_and_its_verdict(stateless_run: Finished) -> None:
    suite = ET.parse(stateless_run.junit).getroot().find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == set(stateless_run.statuses())
    failed = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failed == {r for r, s in stateless_run.statuses().items() if s == "fail"}


def _blocks(report: str) -> list[dict[str, str]]:
    """The failure blocks of a report: rule, subject, got and the curl line."""
    found = []
    for block in report.split("\n\n"):
        head = re.match(r"^\[(?P<rule>[^\]]+)\] (?P<subject>.*)$", block.split("\n")[0])
        got = re.search(r"^  got:\s+(?P<got>.*)$", block, re.M)
        curl = re.search(r"^  reproduce: (?P<curl>curl -i .*)$", block, re.M)
        if head and got:
            found.append(
                {**head.groupdict(), "got": got["got"], "curl": curl["curl"] if curl else ""}
            )
    return found


def test_every_failure_with_an_answer_reproduces_with_its_curl(stateless_run: Finished) -> None:
    blocks = [b for b in _blocks(stateless_run.out) if re.match(r"^\d{3} ", b["got"])]
    assert len(blocks) >= 10
    for block in blocks:
        assert block["curl"], f"no curl for {block['rule']} {block['subject']}"
        shown = subprocess.run(
            ["bash", "-c", block["curl"] + " -s --max-time 10"],
            capture_output=True,
            text=True,
            env={**os.environ, **ENV},
            timeout=30,
        ).stdout
        status = re.match(r"^HTTP/[\d.]+ (\d{3})", shown)
        assert status is not None, (block, shown[:200])
        assert status[1] == block["got"][:3], (block, shown[:300])


def test_a_server_hanging_on_one_operation_gets_a_whole_report(tmp_path: Path) -> None:
    with serving_app(stateless_app(hang={"getContact"}, hang_seconds=30)) as url:
        finished = cli(url, tmp_path / "junit.xml", "--timeout", "1")
    assert finished.code == 1, finished.err
    assert set(finished.statuses()) == {rule.id for rule in all_rules()}
    assert finished.statuses()["conformance.answered"] == "fail"
    assert "no answer in 1 s" in finished.out
    assert "GET /crm/contacts/{contact_id}" in finished.out
    assert finished.junit.exists()


class _WithoutBusinessHeader:
    """The mock, blind to X-Business-Id: it accepts any value, as a lax server would."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ.pop("HTTP_X_BUSINESS_ID", None)
        return self.app(environ, start_response)


def test_header_parameters_are_fuzzed_and_a_lax_server_is_caught() -> None:
    # 30 examples within a budget a loaded machine does not cut short.
    profile = replace(TEST_PROFILE, fuzz_seconds=40, stateful_seconds=1, fuzz_examples=30)
    settings = Settings(
        base_url="",
        key="sk_test_main",
        profile=profile,
        only=["conformance.negative-data"],
        focus=("listContacts",),
    )
    with serving_app(_WithoutBusinessHeader(stateless_app())) as url:
        ctx = prepare(replace(settings, base_url=url))
        result = run(ctx, [r for r in all_rules() if r.id in settings.only])
    sent = [
        e.request_headers.get("X-Business-Id")
        for e in ctx.recorder.snapshot()
        if "X-Business-Id" in e.request_headers
    ]
    own = ctx.main.account.raw["business"]["id"]
    assert own in sent  # positive cases keep to the key's business
    assert any(len(value) > 64 or not value for value in sent)  # negative ones break it
    failures = result.verdicts["conformance.negative-data"].failures
    assert any("X-Business-Id" in (f.exchange.curl() if f.exchange else "") for f in failures)


def test_an_other_key_of_the_same_company_fails_isolation_saying_why(sandbox: Sandbox) -> None:
    keys = sandbox.keys_for("builder")
    same = {**keys, "other": keys["read_only"]}
    result = run_kit(sandbox.base_url, same, rules=["isolation"])
    for verdict in result.verdicts.values():
        assert verdict.status == "fail"
        assert "the same as --key" in verdict.failures[0].got


def test_a_read_only_main_key_is_named_and_blocks_what_needs_writes(sandbox: Sandbox) -> None:
    keys = sandbox.keys_for("builder")
    swapped = {**keys, "main": keys["read_only"], "read_only": keys["main"]}
    result = run_kit(sandbox.base_url, swapped, rules=["idempotency", "auth.missing-key"])
    assert "--key is read-only" in result.context.misconfigured[0]
    assert result.verdicts["idempotency.replay"].status == "fail"
    assert "read-only" in result.verdicts["idempotency.replay"].failures[0].got
    assert result.verdicts["auth.missing-key"].status == "pass"  # needs no writes


def test_a_base_url_without_the_prefix_is_named(sandbox: Sandbox, tmp_path: Path) -> None:
    origin = sandbox.base_url.removesuffix("/api/v1")
    finished = cli(origin, tmp_path / "junit.xml", "--key", sandbox.key("builder"))
    assert finished.code == 2
    assert f"use --base-url {origin}/api/v1" in finished.err
    assert finished.junit.exists()  # written whatever happens
    assert set(finished.statuses()) == {rule.id for rule in all_rules()}


def test_ctrl_c_leaves_a_partial_report_and_junit(mock_url: str, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    process = subprocess.Popen(
        [sys.executable, "-m", "contracts.cli", "run", "--base-url", mock_url, *KEYS,
         "--junit", str(junit)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        for line in process.stderr:  # type: ignore[union-attr]
            if "conformance: checking" in line:  # the longest family: stop in it
                time.sleep(2)
                process.send_signal(signal.SIGINT)
                break
        out, _ = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "INTERRUPTED" in out
    statuses = Finished(130, out, "", junit).statuses()
    assert statuses["ratelimit.headers"] == "skip"  # after the interruption: not run
    assert junit.exists()


def test_a_response_that_is_not_http_fails_its_check_and_the_client_goes_on() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer_garbage() -> None:
        for _ in range(2):
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")

    threading.Thread(target=answer_garbage, daemon=True).start()
    client = Client(f"http://127.0.0.1:{listener.getsockname()[1]}", "sk_test_main", timeout=2)
    try:
        exchange = client.request("GET", "/account")
        again = client.request("GET", "/account")
    finally:
        listener.close()
    assert (exchange.status, again.status) == (0, 0)
    assert exchange.error is not None and exchange.error.startswith("no answer: ")
    verdict = Verdict("conformance.answered")
    assert not verdict.expect(True, "GET /account", "an answer", exchange)
    assert verdict.failures[0].got == exchange.error
