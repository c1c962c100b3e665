"""The kit's small parts: link expressions, body variation, curl, the throttle, the report."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from contracts import report
from contracts.exchange import Exchange
from contracts.links import evaluate, pointer
from contracts.outcome import Failure, Verdict
from contracts.spec import Spec
from contracts.throttle import Throttle
from contracts.variation import vary


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec.load()


def answer(body: object, status: int = 201, **headers: str) -> Exchange:
    return Exchange(
        "POST", "http://x/api/v1/things", {}, None, status, headers, json.dumps(body).encode()
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/id", "con_1"), ("/results/0/event_id", "e1"), ("/results/5/event_id", None), ("", None)],
)
def test_pointer_follows_json_pointers(path: str, expected: object) -> None:
    document = {"id": "con_1", "results": [{"event_id": "e1"}]}
    assert pointer(document, path) == (document if path == "" else expected)


def test_evaluate_reads_response_body_request_body_and_headers() -> None:
    made = answer({"id": "con_1"}, Location="/x")
    assert evaluate("$response.body#/id", request_body=None, response=made) == "con_1"
    assert evaluate("$request.body#/a", request_body={"a": 2}, response=made) == 2
    assert evaluate("$response.header.Location", request_body=None, response=made) == "/x"
    assert evaluate("pm_card_visa", request_body=None, response=made) == "pm_card_visa"


@pytest.mark.parametrize(
    ("operation_id", "field", "changed"),
    [
        ("createContact", "first_name", "John2"),
        ("createPayment", "payment_method", "pm_card_mastercard"),  # same outcome, magic value
        ("sendTestWebhook", "event_type", "contact.created"),  # another enum value
        ("createOrder", "amount", 120001),  # ids are varied only as a last resort
    ],
)
def test_vary_changes_one_field_within_its_schema(
    spec: Spec, operation_id: str, field: str, changed: object
) -> None:
    op = spec.operation(operation_id)
    varied = vary(spec, op.body_example, op.body_schema)
    assert varied[field] == changed
    assert {k: v for k, v in varied.items() if k != field} == {
        k: v for k, v in op.body_example.items() if k != field
    }


def test_curl_names_keys_by_variable_and_runs_in_a_shell() -> None:
    exchange = Exchange(
        "POST",
        "http://127.0.0.1:1/api/v1/crm/contacts?limit=1&x=2",
        {"Authorization": "Bearer sk_test_secret", "Content-Type": "application/json"},
        b'{"first_name": "O\'Brien"}',
    )
    curl = exchange.curl({"CONTRACTS_KEY": "sk_test_secret"})
    assert "sk_test_secret" not in curl and "$CONTRACTS_KEY" in curl
    words = subprocess.run(
        ["bash", "-c", f"CONTRACTS_KEY=k; printf '%s\\n' {curl.removeprefix('curl ')}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert "Authorization: Bearer k" in words
    assert '{"first_name": "O\'Brien"}' in words
    assert shlex.split(curl)[0] == "curl"


def test_throttle_waits_for_the_window_when_the_margin_is_reached() -> None:
    slept: list[float] = []
    throttle = Throttle(margin=1, sleep=slept.append)
    throttle.observe({"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "0"})
    throttle.wait()
    assert slept == []
    throttle.observe({"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "0"})
    throttle.wait()
    assert len(slept) == 1 and slept[0] < 1  # the window is already over: a short pause


def test_throttle_ignores_responses_without_the_headers() -> None:
    slept: list[float] = []
    throttle = Throttle(sleep=slept.append)
    throttle.observe({"X-RateLimit-Remaining": "zero"})
    throttle.wait()
    assert slept == []


def test_report_groups_alike_failures_and_shows_a_reproduction() -> None:
    exchange = Exchange("GET", "http://h/api/v1/x", {"Authorization": "Bearer k"}, None, 500)
    verdict = Verdict("envelope.shape")
    for _ in range(3):
        verdict.expect(False, "GET /x", "the error envelope for 500", exchange, "no body")
    verdict.expect(True, "GET /y", "anything")
    text = report.render({"envelope.shape": verdict}, {"CONTRACTS_KEY": "k"}, 1.0)
    assert "(2 more like this)" in text
    assert "$CONTRACTS_KEY" in text and "Bearer k" not in text
    assert "1 of 1 rules failed (3 failures)" in text


def test_verdict_status_is_skip_when_nothing_was_checked() -> None:
    verdict = Verdict("ratelimit.exceeded")
    verdict.skip("limits lifted")
    assert verdict.status == "skip"
    verdict.failures.append(Failure("ratelimit.exceeded", "s", "e", "g"))
    assert verdict.status == "fail"


class _Positive:
    checks = ("positive_data_acceptance",)


class _Answer:
    def __init__(self, status: int, fields: list[str]) -> None:
        self.status_code = status
        self._details = [{"field": field, "error": "x"} for field in fields]

    def json(self) -> dict:
        return {"code": "validation_error", "details": self._details}


@pytest.mark.parametrize(
    ("operation_id", "status", "fields", "expected"),
    [
        ("createDeal", 422, ["contact_id"], True),  # "A contact of the same business; 422"
        ("createDashboard", 400, ["widgets[2].query.property"], True),  # "Required for …"
        ("getMeterUsage", 422, ["from"], True),  # "Start of the range"
        ("createDeal", 422, ["title"], False),  # nothing documents refusing a title
        ("createDeal", 422, ["contact_id", "title"], False),
        ("createDeal", 500, ["contact_id"], False),
        ("createDeal", 422, [], False),
    ],
)
def test_only_documented_refusals_of_valid_data_are_conformance(
    spec: Spec, operation_id: str, status: int, fields: list[str], expected: bool
) -> None:
    from contracts.fuzzing import semantic_rejection

    op = spec.operation(operation_id)
    assert semantic_rejection(op, _Positive(), _Answer(status, fields)) is expected


def test_a_lasting_429_is_a_note_except_for_the_rules_that_judge_it() -> None:
    throttled = Exchange("GET", "http://h/api/v1/x", {}, None, 429)
    idempotency, ratelimit = Verdict("idempotency.replay"), Verdict("ratelimit.exceeded")
    idempotency.expect(False, "POST /x", "201", throttled)
    ratelimit.expect(False, "GET /account", "Retry-After", throttled)
    assert not idempotency.failures and idempotency.skips
    assert ratelimit.failures


def test_a_throttled_auth_probe_is_no_evidence() -> None:
    from contracts.fuzzing import throttled_probe

    class Probe:
        checks = ("ignored_auth",)

        def __init__(self, status: str) -> None:
            self.message = f"Expected 401 or 403, got `{status}` for `GET /x`"

    assert throttled_probe(Probe("429 Too Many Requests"))
    assert not throttled_probe(Probe("200 OK"))
