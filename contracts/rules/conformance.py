"""Spec conformance through schemathesis: every operation, then the stateful phase via links.

Schemathesis runs in-process (`contracts.fuzzing`) on the spec minus its sandbox-only
operations; each of its checks feeds the rule named after the property it checks.
"""

from __future__ import annotations

import copy
from typing import Any

from contracts.context import Context, Rule
from contracts.outcome import Verdict
from contracts.spec import METHODS

CHECKS = {
    "not_a_server_error": "conformance.server-error",
    "status_code_conformance": "conformance.status-code",
    "content_type_conformance": "conformance.content-type",
    "response_headers_conformance": "conformance.headers",
    "response_schema_conformance": "conformance.response-schema",
    "negative_data_rejection": "conformance.negative-data",
    "missing_required_header": "conformance.negative-data",
    "positive_data_acceptance": "conformance.positive-data",
    "unsupported_method": "conformance.unsupported-method",
    "allow_header_conformance": "conformance.unsupported-method",
    "ignored_auth": "conformance.ignored-auth",
    "use_after_free": "conformance.use-after-free",
    "ensure_resource_availability": "conformance.resource-availability",
    "no_answer": "conformance.answered",
}
RULES = (
    Rule("conformance.server-error", "No request, however odd, is answered with a 5xx."),
    Rule("conformance.answered", "Every request the fuzzer sends gets an answer in time."),
    Rule("conformance.status-code", "Every status answered is documented for the operation."),
    Rule("conformance.content-type", "Every response has a documented Content-Type."),
    Rule("conformance.headers", "Every response carries its documented headers, valid."),
    Rule("conformance.response-schema", "Every response body validates against its schema."),
    Rule("conformance.negative-data", "Data the schema forbids is rejected with a 4xx."),
    Rule("conformance.positive-data", "Data the schema allows is not rejected as invalid."),
    Rule("conformance.unsupported-method", "A method a path lacks is 405 with an Allow header."),
    Rule("conformance.ignored-auth", "An operation that needs a key refuses a missing or bad one."),
    Rule("conformance.use-after-free", "A deleted resource stays gone (404) for its operations."),
    Rule("conformance.resource-availability", "A created resource is available to its links."),
    Rule("conformance.reached", "The fuzzer got 2xx answers: the key works for the spec."),
)
OFF = ("object_level_authorization",)  # needs a second user's credentials schemathesis lacks


def contract_document(document: dict[str, Any], focus: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy of the spec without sandbox-only operations (and paths left empty).

    With `focus`, only those operationIds stay.
    """
    document = copy.deepcopy(document)
    for path, item in list(document["paths"].items()):
        for method in [m for m in METHODS if m in item and _dropped(item[m], focus)]:
            del item[method]
        if not any(m in item for m in METHODS):
            del document["paths"][path]
    return document


def _dropped(operation: dict[str, Any], focus: tuple[str, ...]) -> bool:
    return bool(operation.get("x-sandbox-only")) or bool(
        focus and operation.get("operationId") not in focus
    )


def record(ctx: Context, verdicts: dict[str, Verdict], kind: str, payload: Any) -> None:
    """Sort one schemathesis outcome into the verdict of its rule."""
    if kind == "passed" and CHECKS.get(payload) in verdicts:
        verdicts[CHECKS[payload]].passed += 1
    elif kind == "failure":
        rule = CHECKS.get(payload.rule_id, "conformance.server-error")
        payload.rule_id = rule
        if rule in verdicts:
            verdicts[rule].failures.append(payload)
    elif kind == "link":
        transition, ok = payload
        ctx.links_followed[transition] = ctx.links_followed.get(transition, False) or ok
    elif kind == "error":
        ctx.progress(f"schemathesis: {payload}")
    elif kind == "cases":
        ctx.progress("schemathesis scenarios: " + ", ".join(f"{k} {v}" for k, v in payload.items()))


def check(ctx: Context, verdicts: dict[str, Verdict]) -> None:
    """Run schemathesis (unit phases, then the stateful phase); sort its findings into rules."""
    from contracts import fuzzing  # schemathesis is imported only when fuzzing runs

    enabled = sorted({name for name, rule in CHECKS.items() if rule in verdicts})
    document = contract_document(ctx.spec.document, ctx.focus)
    seen = len(ctx.recorder.snapshot())
    for stateful in (False, True):
        phase_document = linked_document(ctx, document) if stateful else document
        schema = fuzzing.build_schema(ctx, phase_document, enabled, tuple(CHECKS), OFF, stateful)
        events = fuzzing.events_of(schema, ctx.secrets(), ctx.main.client.timeout)
        for kind, payload in events:
            record(ctx, verdicts, kind, payload)
    links = spec_links(ctx)
    followed = sorted(t for t in links if ctx.links_followed.get(t))
    ctx.link_coverage = (len(followed), len(links))
    ctx.notes.append(
        f"links: {len(followed)} of {len(links)} of the spec's links followed with a 2xx at "
        "both ends by the stateful phase"
    )
    answers = ctx.recorder.snapshot()[seen:]
    if verdict := verdicts.get("conformance.answered"):
        verdict.passed += len(answers)  # the recorder keeps answered requests only
    if verdict := verdicts.get("conformance.reached"):
        reached = sum(1 for answer in answers if answer.ok)
        verdict.expect(
            reached > 0,
            "all operations",
            "at least one 2xx while fuzzing",
            got=f"{reached} 2xx among {len(answers)} answers",
        )


def linked_document(ctx: Context, document: dict[str, Any]) -> dict[str, Any]:
    """`document` with only the operations a link starts or ends at: the stateful phase
    starts its scenarios there, not at operations no link leaves."""
    linked = {
        name
        for op in ctx.spec.contract
        for link in op.links
        for name in (op.operation_id, link.operation_id)
    }
    return contract_document(document, tuple(sorted(linked)))


def spec_links(ctx: Context) -> list[str]:
    """Each link between operations of the contract, named as schemathesis names its
    transitions (`POST /orders -> [201] GetOrder -> GET /orders/{order_id}`)."""
    contract = {op.operation_id: op for op in ctx.spec.contract}
    if ctx.focus:
        contract = {k: op for k, op in contract.items() if k in ctx.focus}
    return sorted(
        f"{op.label} -> [{op.success_status}] {link.name} -> {contract[link.operation_id].label}"
        for op in contract.values()
        for link in op.links
        if link.operation_id in contract
    )
