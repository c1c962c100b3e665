"""Plain schemathesis (`st run openapi.yaml --checks all`) against a served sandbox.

Every phase runs, with every check, one full-access key and the rate limits lifted. The
only failure the sandbox may give is a schema-valid request refused by a rule the spec
names for that operation in `x-refusals` (an id of no resource of this business, `from`
after `to`): the answer's status and every `details` entry must be one of them. Anything
else (a 5xx, an undocumented status, a body off its schema, a refusal the spec does not
name) fails this test, with the curl command of the request. One defect of the judge's
own is set aside, narrowly: see `misinferred_business`.
"""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.spec import load_spec
from tests.sandbox.served import banner_key, serving

SPEC = load_spec()
ST = Path(sys.executable).with_name("st")
REFUSED_POSITIVE = "positive_data_acceptance"

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Failure:
    """One failed check of the run: the check, the operation and the exchange."""

    check: str
    operation: str
    request: dict[str, Any]
    status: int | None
    body: Any
    # The stateful transition that made the request, if one did (schemathesis' own record).
    transition: dict[str, Any] | None = None

    def curl(self) -> str:
        body = _decoded(self.request.get("body"))
        data = f" -d {shlex.quote(body)}" if body else ""
        return f"curl -X {self.request['method']}{data} {shlex.quote(self.request['uri'])}"


def _decoded(content: Any) -> str:
    if isinstance(content, dict) and "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", "replace")
    return "" if content is None else str(content)


def failures(events: list[dict[str, Any]]) -> list[Failure]:
    """Every failed check in an `st run --report ndjson` stream."""
    found = []
    for event in events:
        recorder = event.get("ScenarioFinished", {}).get("recorder") or {}
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                exchange = (recorder.get("interactions") or {}).get(case_id) or {}
                response = exchange.get("response") or {}
                text = _decoded(response.get("content"))
                try:
                    body = json.loads(text)
                except ValueError:
                    body = text
                info = (check.get("failure_info") or {}).get("failure") or {}
                found.append(
                    Failure(
                        check=check["name"],
                        operation=info.get("operation") or recorder.get("label", "?"),
                        request=exchange.get("request") or {},
                        status=response.get("status_code"),
                        body=body,
                        transition=((recorder.get("cases") or {}).get(case_id) or {}).get(
                            "transition"
                        ),
                    )
                )
    return found


def named_refusal(failure: Failure, spec: Any = SPEC) -> bool:
    """Whether `failure` is a schema-valid request refused for a reason in `x-refusals`."""
    if failure.check != REFUSED_POSITIVE or not isinstance(failure.body, dict):
        return False
    method, _, path = failure.operation.partition(" ")
    operation = spec.raw["paths"].get(path, {}).get(method.lower(), {})
    named = {(int(r["status"]), r["field"], r["error"]) for r in operation.get("x-refusals", [])}
    details = failure.body.get("details") or []
    return bool(details) and all(
        (failure.status, d.get("field"), d.get("error")) in named for d in details
    )


def misinferred_business(failure: Failure) -> bool:
    """Whether a link schemathesis inferred itself (none of the spec's) put an id that is not
    a business's into `X-Business-Id`.

    Its dependency inference reads the header as a resource `XBusiness`, matches it to the
    `id` of whatever the producer returned, and the sandbox rightly answers 404 "No business
    with id dash_…"; schemathesis counts a failure through an inferred link as its own
    defect. Failures through the spec's links, or inferred bindings of anything else, count.
    """
    transition = failure.transition or {}
    if not transition.get("is_inferred"):
        return False
    bound = (transition.get("parameters") or {}).get("headers") or {}
    value = (bound.get("X-Business-Id") or {}).get("value")
    return isinstance(value, str) and not value.startswith("biz_")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The ndjson events of one plain schemathesis run against a served sandbox."""
    folder = tmp_path_factory.mktemp("schemathesis")
    report = folder / "events.ndjson"
    db = f"sqlite:///{folder / 'sandbox.db'}"
    with serving(db, "--rate-limit-scale", "0") as (port, lines):
        key = banner_key(lines, "enterprise")
        command = [
            str(ST), "run", str(SPEC.path),
            "--url", f"http://127.0.0.1:{port}{SPEC.base_path}",
            "--header", f"Authorization: Bearer {key}",
            "--checks", "all",
            "--max-examples", "15",
            "--seed", "20261125",
            "--generation-database", "none",
            "--request-timeout", "30",
            "--report", "ndjson", "--report-ndjson-path", str(report),
            "--no-color",
        ]  # fmt: skip
        finished = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=folder)
    assert report.exists(), finished.stdout[-3000:] + finished.stderr[-3000:]
    return [json.loads(line) for line in report.read_text().splitlines() if line.strip()]


def test_every_phase_ran_over_every_operation(run: list[dict[str, Any]]) -> None:
    phases = {e["PhaseFinished"]["phase"]["name"] for e in run if "PhaseFinished" in e}
    assert {"examples", "coverage", "fuzzing", "stateful"} <= phases
    labels = {
        e["ScenarioFinished"]["recorder"]["label"]
        for e in run
        if "ScenarioFinished" in e and e["ScenarioFinished"].get("recorder")
    }
    assert {f"{op.method.upper()} {op.path}" for op in SPEC.operations.values()} <= labels


def test_plain_schemathesis_finds_only_refusals_the_spec_names(
    run: list[dict[str, Any]],
) -> None:
    unexplained = [f for f in failures(run) if not named_refusal(f) and not misinferred_business(f)]
    assert not unexplained, "\n\n".join(
        f"{f.check} on {f.operation}: {f.status} {json.dumps(f.body)[:400]}\n  {f.curl()}"
        for f in unexplained[:20]
    )


def test_a_refusal_the_spec_does_not_name_is_reported() -> None:
    answer = {"code": "validation_error", "details": [{"field": "contact_id", "error": "gone"}]}
    refused = Failure(REFUSED_POSITIVE, "POST /orders", {}, 422, answer)
    assert not named_refusal(refused)
    answer["details"][0]["error"] = "not_found"
    assert named_refusal(refused)
    assert not named_refusal(Failure(REFUSED_POSITIVE, "POST /orders", {}, 400, answer))
    assert not named_refusal(Failure("not_a_server_error", "POST /orders", {}, 500, answer))


def test_only_an_inferred_link_binding_a_non_business_id_is_excused() -> None:
    def through(transition: dict[str, Any]) -> Failure:
        return Failure("ensure_resource_availability", "POST /dashboards", {}, 404, {}, transition)

    header = {"headers": {"X-Business-Id": {"value": "dash_8yWIJ3vhIQADvORx0t78"}}}
    assert misinferred_business(through({"is_inferred": True, "parameters": header}))
    assert not misinferred_business(through({"is_inferred": False, "parameters": header}))
    header["headers"]["X-Business-Id"]["value"] = "biz_9fK2mQ1z"
    assert not misinferred_business(through({"is_inferred": True, "parameters": header}))
    assert not misinferred_business(through({"is_inferred": True, "parameters": {}}))
