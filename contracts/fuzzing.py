"""The schemathesis adapter: a schema configured for one run, and its events in kit terms.

Nothing is registered globally (no `schemathesis.hook`, no `schemathesis.check`): the
auth provider and the `after_call` hook live on this run's schema only, so importing the
kit never changes another schemathesis run in the same process.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine import Status, events, from_schema

from contracts.context import Context
from contracts.exchange import Exchange
from contracts.outcome import Failure
from contracts.spec import Operation

BUSINESS_HEADER = "X-Business-Id"
IDEMPOTENCY_HEADER = "Idempotency-Key"


# Checks the unit phases already make of every operation with probes of their own (no
# key, another method, a header left out): the stateful phase spends its requests on steps.
UNIT_ONLY = (
    "ignored_auth",
    "unsupported_method",
    "allow_header_conformance",
    "missing_required_header",
)


def build_schema(
    ctx: Context,
    document: dict[str, Any],
    checks: list[str],
    known: tuple[str, ...],
    off: tuple[str, ...],
    stateful: bool,
) -> Any:
    """A schemathesis schema for `document`, sending the main key.

    Of the `known` checks only those in `checks` run; the `off` ones never do. With
    `stateful` only the stateful phase runs (on its own budget, so that the unit phases
    cannot spend it); without, the others do.
    """
    profile = ctx.profile
    unit = {
        "examples": profile.examples_phase,
        "coverage": profile.coverage_phase,
        "fuzzing": True,
    }
    phases: dict[str, Any] = {
        name: {"enabled": enabled and not stateful} for name, enabled in unit.items()
    }
    phases["stateful"] = {
        "enabled": stateful,
        "max-steps": profile.stateful_steps,
        # Valid steps through the spec's own links only: the unit phases send the invalid
        # data, and the links are the contract (schemathesis would infer more).
        "generation": {
            "max-examples": profile.stateful_scenarios,
            "database": "none",
            "mode": "positive",
        },
        "inference": {"algorithms": []},
    }
    config = schemathesis.Config.from_dict(
        {
            "seed": ctx.seed,
            "max-time": profile.stateful_seconds if stateful else profile.fuzz_seconds,
            "suppress-health-check": ["all"],
            "base-url": ctx.base_url,
            "request-timeout": ctx.main.client.timeout,
            "workers": 1,
            # No example database: a run depends on its seed only and writes no files.
            "generation": {"max-examples": profile.fuzz_examples, "database": "none"},
            "phases": phases,
            "checks": {
                name: {"enabled": name in checks and not (stateful and name in UNIT_ONLY)}
                for name in (*known, *off)
            },
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    keyed = ctx.main
    business = keyed.account.raw.get("business", {}).get("id")

    class KeyProvider:
        """Sends the main key, keeps under its rate limit, pins the business."""

        def get(self, case: Any, context: Any) -> str | None:
            return keyed.client.key

        def set(self, case: Any, data: str, context: Any) -> None:
            keyed.client.throttle.wait()
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"
            if negative_headers(case):
                return  # the headers are what this case tests: sent as generated
            # A random business id is 404 on every operation: the fuzzer keeps to the
            # key's own business so that it reaches the handlers (tenancy has its rule).
            if business and BUSINESS_HEADER in case.headers:
                case.headers[BUSINESS_HEADER] = business
            # Generated keys repeat ("0", "a"), and a repeat is a replay of another
            # scenario's create (the resource may be gone by then): a valid key is made
            # unique, an invalid one is left for the negative checks.
            key = case.headers.get(IDEMPOTENCY_HEADER)
            if isinstance(key, str) and 1 <= len(key) <= 255:
                case.headers[IDEMPOTENCY_HEADER] = f"fuzz-{uuid.uuid4().hex}"

    schema.auth(refresh_interval=None)(KeyProvider)

    def after_call(context: Any, case: Any, response: Any) -> None:
        exchange = as_exchange(response, case.operation.definition.raw.get("operationId"))
        keyed.client.throttle.observe(exchange.headers)
        ctx.recorder.add(exchange)

    def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
        op = operations.get((case.operation.method.lower(), case.operation.path))
        if throttled_probe(failure):
            return False
        return op is None or not semantic_rejection(op, failure, response)

    operations = {(op.method, op.path): op for op in ctx.spec.contract}
    schema.hooks.register_hook_with_name(after_call, "after_call")
    schema.hooks.register_hook_with_name(filter_failure, "filter_failure")
    return schema


def negative_headers(case: Any) -> bool:
    """True when schemathesis generated this case's headers to break their schemas."""
    meta = getattr(case, "meta", None)
    component = (getattr(meta, "components", None) or {}).get(ParameterLocation.HEADER)
    return component is not None and component.mode.is_negative


def throttled_probe(failure: Any) -> bool:
    """True when an auth probe without a key met the server's rate limit (429).

    Schemathesis sends these probes itself, without waiting out a 429; a throttled probe
    says nothing about whether the operation enforces auth.
    """
    checks = getattr(failure, "checks", ())
    return "ignored_auth" in checks and "got `429 " in str(getattr(failure, "message", ""))


def semantic_rejection(op: Operation, failure: Any, response: Any) -> bool:
    """True for a 400 or 422 to schema-valid data that the spec says may happen.

    Either every `details[].error` is a code the spec's prose names as a 422 (such as
    `invalid_characters`), or every field it names is documented as refusable.

    The spec documents, in words its schemas cannot carry, values only the server can
    judge (ids of resources that do not exist, amounts above what is left, magic test
    values: 422) and fields required only with another's value (400). Such a refusal of
    fuzzed data is conformance, not a failure, when every field it names is one of those.
    """
    checks = getattr(failure, "checks", ())
    if "positive_data_acceptance" not in checks or response.status_code not in (400, 422):
        return False
    try:
        details = response.json().get("details") or []
    except (ValueError, AttributeError):
        return False
    entries = [d for d in details if isinstance(d, dict)]
    if response.status_code == 422 and entries:
        if all(d.get("error") in op.spec.documented_refusals for d in entries):
            return True  # every reason is one the spec names as a 422 in words
    fields = {re.sub(r"\[\d+\]", "[]", str(d.get("field", ""))) for d in entries}
    return bool(fields) and fields <= op.semantic_fields


def events_of(schema: Any, secrets: dict[str, str], timeout: float) -> Iterator[tuple[str, Any]]:
    """Run the engine; yield ("passed", check name), ("failure", Failure), ("error", text),
    ("link", (transition id, 2xx at both ends)) for each step through one of the spec's
    links and, last, ("cases", {phase: scenarios run}).

    A request that got no answer in `timeout` seconds (or a reset connection) is a
    failure of the `no_answer` check, with schemathesis' curl command for it, the key
    read from its variable (the first of `secrets`, the main key's).
    """
    cases: dict[str, int] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            phase = getattr(event.phase, "value", str(event.phase))
            cases[phase] = cases.get(phase, 0) + 1
            yield from _scenario(event.recorder)
        elif isinstance(event, events.Interrupted):
            raise KeyboardInterrupt  # schemathesis stopped on Ctrl-C: so does the run
        elif isinstance(event, events.NonFatalError) and isinstance(
            event.value, requests.RequestException
        ):
            yield "failure", _no_answer(event, secrets, timeout)
        elif isinstance(event, events.NonFatalError):
            yield "error", f"{event.label}: {event.info.title}: {event.info.message[:300]}"
        elif isinstance(event, events.FatalError):
            yield "error", f"schemathesis stopped: {event.exception}"
        elif isinstance(event, events.EngineFinished):
            for failure in event.failures:
                yield "failure", Failure("", "run", failure.title, failure.message)
    yield "cases", cases


NO_ANSWER = "no_answer"
FILTERED = "'Authorization: [Filtered]'"  # how schemathesis' curl samples show the key


def _no_answer(event: Any, secrets: dict[str, str], timeout: float) -> Failure:
    """A request schemathesis sent that got no answer, as a failure with its reproduction."""
    error = event.value
    got = (
        f"no answer in {timeout:g} s"
        if isinstance(error, requests.Timeout)
        else f"no answer: {' '.join(str(error).split())[:200]}"
    )
    curl = getattr(event.info, "_code_sample", None)
    if curl and secrets:
        variable = next(iter(secrets))
        curl = curl.replace(FILTERED, f'"Authorization: Bearer ${variable}"')
    return Failure(NO_ANSWER, event.label, "an answer to every request", got, curl=curl)


def _scenario(recorder: Any) -> Iterator[tuple[str, Any]]:
    for case_id, node in recorder.cases.items():
        transition = getattr(node, "transition", None)
        if transition is None or transition.is_inferred:
            continue
        yield "link", (transition.id, _ok(recorder, case_id) and _ok(recorder, node.parent_id))
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            if node.status == Status.SUCCESS:
                yield "passed", node.name
            elif node.failure_info is not None:
                failure = node.failure_info.failure
                interaction = recorder.interactions.get(case_id)
                exchange = None
                if interaction is not None and interaction.response is not None:
                    exchange = as_exchange(interaction.response, None)
                case = recorder.cases.get(case_id)
                subject = case.value.operation.label if case is not None else recorder.label
                message = " ".join(str(failure.message).split())
                if exchange is not None:
                    message = f"{message} | {exchange.summary()}".strip(" |")
                yield "failure", Failure(node.name, subject, failure.title, message[:500], exchange)


def _ok(recorder: Any, case_id: str | None) -> bool:
    """Whether the request of `case_id` got a 2xx."""
    interaction = recorder.interactions.get(case_id) if case_id else None
    response = getattr(interaction, "response", None)
    return response is not None and 200 <= response.status_code < 300


def as_exchange(response: Any, operation_id: str | None) -> Exchange:
    """A schemathesis response as the kit's own exchange record."""
    request = response.request
    body = request.body
    headers = {k: ", ".join(v) if isinstance(v, list) else v for k, v in response.headers.items()}
    return Exchange(
        method=request.method or "GET",
        url=request.url or "",
        request_headers=dict(request.headers),
        request_body=body.encode() if isinstance(body, str) else body,
        status=response.status_code,
        headers=headers,
        body=response.content,
        operation_id=operation_id,
    )
