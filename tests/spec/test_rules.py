"""The conventions of PLATFORM.md enforced on openapi.yaml: a change that breaks one fails here."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import operations, resolve

CAMEL_CASE = re.compile(r"^[a-z][a-zA-Z0-9]*$")
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
RATE_LIMIT_HEADERS = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
ERROR_REF = "#/components/schemas/Error"
PAGE_REF = "#/components/schemas/Page"
# String formats whose grammar has no NUL (and which the sandbox validates).
NUL_FREE_FORMATS = {"date", "date-time", "email"}


def _param_refs(op: dict[str, Any]) -> set[str]:
    return {p["$ref"].rsplit("/", 1)[-1] for p in op.get("parameters", []) if "$ref" in p}


def _scopes(op: dict[str, Any]) -> list[str]:
    return [
        scope
        for requirement in op["security"]
        for scopes in requirement.values()
        for scope in scopes
    ]


def _success(op: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (status,) = [s for s in op["responses"] if s.startswith("2")]
    return status, op["responses"][status]


def _is_create(op: dict[str, Any]) -> bool:
    return "IdempotencyKey" in _param_refs(op)


def _is_list(op: dict[str, Any], spec: dict[str, Any]) -> bool:
    status, response = _success(op)
    media = response.get("content", {}).get("application/json")
    if not media:
        return False
    schema = resolve(spec, media["schema"])
    if any(part.get("$ref") == PAGE_REF for part in schema.get("allOf", [])):
        return True
    # A page of its own (so that generated clients name its item type): the shared Page's
    # fields, constraints and descriptions, with `items` an array of one schema.
    page = resolve(spec, {"$ref": PAGE_REF})
    own = {**schema.get("properties", {}), "items": page["properties"]["items"]}
    items = schema.get("properties", {}).get("items", {})
    return (
        set(schema.get("required", [])) == set(page["required"])
        and own == page["properties"]
        and items.get("type") == "array"
        and bool(items.get("items"))
    )


def _problems(spec: dict[str, Any]) -> list[str]:
    """Every breach of the conventions, as readable lines."""
    problems: list[str] = []
    seen_ids: set[str] = set()
    scopes = spec["components"]["securitySchemes"]["bearerAuth"]["x-scopes"]
    tags = {t["name"] for t in spec["tags"]}
    for method, path, op in operations(spec):
        where = f"{method.upper()} {path}"
        op_id = op.get("operationId", "")
        if not CAMEL_CASE.match(op_id):
            problems.append(f"{where}: operationId {op_id!r} is not camelCase")
        if op_id in seen_ids:
            problems.append(f"{where}: operationId {op_id} is used twice")
        seen_ids.add(op_id)
        for field in ("summary", "description", "tags", "security", "responses"):
            if not op.get(field):
                problems.append(f"{op_id}: no {field}")
        if len(op.get("tags", [])) != 1 or op["tags"][0] not in tags:
            problems.append(f"{op_id}: needs exactly one declared tag")
        unknown = [s for s in _scopes(op) if s not in scopes]
        if unknown:
            problems.append(f"{op_id}: scopes {unknown} are not in x-scopes")
        if "BusinessId" not in _param_refs(op):
            problems.append(f"{op_id}: does not accept X-Business-Id")
        statuses = set(op["responses"])
        required = {"401", "422", "429", "500"}
        if _scopes(op):
            required.add("403")
        if "{" in path or "BusinessId" in _param_refs(op):
            required.add("404")
        if "requestBody" in op:
            required |= {"400", "413", "415"}
        if _is_create(op):
            required.add("409")
        if any(p.get("required") for p in op.get("parameters", []) if p.get("in") == "query"):
            required.add("400")
        if missing := required - statuses:
            problems.append(f"{op_id}: responses lack {sorted(missing)}")
        for status, response in op["responses"].items():
            if status.startswith("2"):
                continue
            ref = response.get("$ref", "")
            if not ref.startswith("#/components/responses/"):
                problems.append(f"{op_id} {status}: not a shared components/responses entry")
                continue
            shared = resolve(spec, response)
            if shared["content"]["application/json"]["schema"].get("$ref") != ERROR_REF:
                problems.append(f"{op_id} {status}: does not use the Error envelope")
        status, success = _success(op)
        headers = set(success.get("headers", {}))
        if missing := ({"X-Request-Id"} | RATE_LIMIT_HEADERS) - headers:
            problems.append(f"{op_id} {status}: lacks headers {sorted(missing)}")
        if op.get("x-unmetered") and not (op.get("x-sandbox-only") and method == "get"):
            problems.append(f"{op_id}: only a sandbox-only read may be x-unmetered")
        if op.get("deprecated") and not {"Deprecation", "Sunset"} <= headers:
            problems.append(f"{op_id}: deprecated without Deprecation and Sunset headers")
        if op.get("deprecated") and not op.get("x-sunset"):
            problems.append(f"{op_id}: deprecated without x-sunset")
        if method == "post" and status == "201" and not _is_create(op):
            problems.append(f"{op_id}: creates (201) without Idempotency-Key")
        if _is_create(op):
            if "Idempotent-Replayed" not in headers:
                problems.append(f"{op_id}: create without the Idempotent-Replayed header")
            if not success.get("links"):
                problems.append(f"{op_id}: create without links")
            for name, link in success.get("links", {}).items():
                if link.get("operationId") not in seen_ids | _all_ids(spec):
                    problems.append(f"{op_id}: link {name} names no operation")
        if method == "get" and _is_list(op, spec) and not {"Limit", "Offset"} <= _param_refs(op):
            problems.append(f"{op_id}: list without the shared limit/offset parameters")
        if method == "get" and op_id.startswith("list") and not _is_list(op, spec):
            problems.append(f"{op_id}: list whose response is not the shared Page shape")
        for refusal in op.get("x-refusals", []):
            if refusal.get("field") not in _fields(op, spec):
                problems.append(f"{op_id}: x-refusals names {refusal.get('field')!r}, no field")
            status = str(refusal.get("status"))
            if status not in statuses or not status.startswith("4"):
                problems.append(f"{op_id}: x-refusals status {refusal.get('status')} undocumented")
            if not SNAKE_CASE.match(str(refusal.get("error"))) or not refusal.get("when"):
                problems.append(f"{op_id}: x-refusals entry needs a snake_case error and a when")
        if bool(op.get("x-sandbox-only")) != (op["tags"] == ["Sandbox"]):
            problems.append(f"{op_id}: x-sandbox-only and the Sandbox tag must go together")
    for name, response in spec["components"]["responses"].items():
        headers = set(response.get("headers", {}))
        if missing := ({"X-Request-Id"} | RATE_LIMIT_HEADERS) - headers:
            problems.append(f"responses/{name}: lacks headers {sorted(missing)}")
    if "Retry-After" not in spec["components"]["responses"]["RateLimited"]["headers"]:
        problems.append("responses/RateLimited: lacks Retry-After")
    return problems


def _fields(op: dict[str, Any], spec: dict[str, Any]) -> set[str]:
    """The names of an operation's parameters and of its body's top-level properties."""
    names = {resolve(spec, p)["name"] for p in op.get("parameters", [])}
    if body := op.get("requestBody"):
        schema = resolve(spec, resolve(spec, body)["content"]["application/json"]["schema"])
        for part in [schema, *schema.get("oneOf", []), *schema.get("allOf", [])]:
            names |= set(resolve(spec, part).get("properties", {}))
    return names


def _all_ids(spec: dict[str, Any]) -> set[str]:
    return {op["operationId"] for _, _, op in operations(spec)}


def test_the_spec_follows_every_convention(spec: dict[str, Any]) -> None:
    assert _problems(spec) == []


def test_at_least_one_operation_is_deprecated(spec: dict[str, Any]) -> None:
    assert any(op.get("deprecated") for _, _, op in operations(spec))


def test_magic_values_are_documented(spec: dict[str, Any]) -> None:
    test_mode = spec["x-test-mode"]
    outcomes = {pm.get("failure_code") or pm["outcome"] for pm in test_mode["payment_methods"]}
    assert {"succeeded", "card_declined", "insufficient_funds", "processing_error"} <= outcomes
    assert {n["outcome"] for n in test_mode["phone_numbers"]} >= {
        "sent",
        "invalid",
        "undeliverable",
    }


def test_batch_limits_are_1000(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["EventBatchInput"]["properties"]["events"]["maxItems"] == 1000
    assert schemas["UsageIngestInput"]["properties"]["events"]["maxItems"] == 1000


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (
            lambda s: s["paths"]["/crm/contacts"]["post"]["responses"].pop("409"),
            "responses lack ['409']",
        ),
        (
            lambda s: s["paths"]["/crm/contacts"]["post"]["responses"]["201"].pop("links"),
            "create without links",
        ),
        (
            lambda s: s["paths"]["/crm/contacts"]["get"].update(
                parameters=[{"$ref": "#/components/parameters/BusinessId"}]
            ),
            "list without the shared limit/offset",
        ),
        (
            lambda s: s["paths"]["/crm/contacts"]["get"]["responses"].update(
                {"404": {"description": "x"}}
            ),
            "not a shared components/responses",
        ),
        (lambda s: s["paths"]["/crm/contacts"]["get"].pop("summary"), "no summary"),
        (
            lambda s: s["paths"]["/orders"]["post"]["x-refusals"][0].update(field="contactid"),
            "x-refusals names 'contactid'",
        ),
        (
            lambda s: s["paths"]["/track"]["post"]["responses"]["201"]["headers"].pop("Sunset"),
            "deprecated without Deprecation and Sunset",
        ),
    ],
)
def test_a_broken_rule_is_reported(spec: dict[str, Any], mutation: Any, expected: str) -> None:
    import copy

    broken = copy.deepcopy(spec)
    mutation(broken)
    assert any(expected in problem for problem in _problems(broken))


def test_webhook_schedule_has_one_delay_per_retry(spec: dict[str, Any]) -> None:
    schedule = spec["x-test-mode"]["webhook_retry_schedule_seconds"]
    status = spec["components"]["schemas"]["WebhookDelivery"]["properties"]["status"]
    assert f"the {len(schedule) + 1}th attempt fails" in status["description"]
    assert schedule == sorted(schedule)
    assert 20 * 3600 <= sum(schedule) <= 28 * 3600  # "5 attempts over about 24 h"


def _text_without_a_nul_rule(spec: dict[str, Any]) -> list[str]:
    """Each request string (parameter, body field, map key) whose schema admits NUL.

    NUL cannot be stored in a text column, so every string a request may send says so in
    its schema (a `pattern`, an `enum`, a `const` or a format whose grammar has no NUL)
    and generic tools never send one as valid data. The items of an `x-per-item-errors`
    array are bound by their `x-item-schema`. Below a free-form field (`x-max-depth`)
    values are stored as JSON, which holds NUL escaped: only the field's own keys are bound
    by the rule.
    """
    found: list[str] = []

    def admits_nul(node: dict[str, Any]) -> bool:
        if "enum" in node or "const" in node or node.get("format") in NUL_FREE_FORMATS:
            return False
        pattern = node.get("pattern")
        return pattern is None or re.search(pattern, "text\x00") is not None

    def walk(node: dict[str, Any], where: str, seen: frozenset[str]) -> None:
        if ref := node.get("$ref"):
            if ref in seen:
                return
            seen = seen | {ref}
        node = resolve(spec, node)
        kinds = node.get("type")
        kinds = [kinds] if isinstance(kinds, str) else kinds or []
        if "string" in kinds and admits_nul(node):
            found.append(where)
        if node.get("type") == "object" or "properties" in node:
            names = node.get("propertyNames")
            open_map = node.get("additionalProperties", True) is not False
            if open_map and (names is None or admits_nul(resolve(spec, names))):
                found.append(f"{where} (keys)")
        if "x-max-depth" in node:
            return
        for name, child in (node.get("properties") or {}).items():
            walk(child, f"{where}.{name}", seen)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{where}.*", seen)
        if item_schema := node.get("x-item-schema"):  # what each item is checked against
            walk({"$ref": item_schema}, f"{where}[]", seen)
        elif isinstance(node.get("items"), dict):
            walk(node["items"], f"{where}[]", seen)
        for key in ("allOf", "oneOf", "anyOf"):
            for part in node.get(key, []):
                walk(part, where, seen)

    for _, _, op in operations(spec):
        for parameter in op.get("parameters", []):
            parameter = resolve(spec, parameter)
            walk(parameter["schema"], f"{op['operationId']} {parameter['name']}", frozenset())
        if body := op.get("requestBody"):
            media = resolve(spec, body)["content"]["application/json"]
            walk(media["schema"], f"{op['operationId']} body", frozenset())
    return found


def test_every_request_string_refuses_nul_in_its_schema(spec: dict[str, Any]) -> None:
    assert _text_without_a_nul_rule(spec) == []


def test_a_request_string_without_a_nul_rule_is_reported(spec: dict[str, Any]) -> None:
    import copy

    broken = copy.deepcopy(spec)
    del broken["components"]["schemas"]["EventInput"]["properties"]["event"]["pattern"]
    del broken["components"]["schemas"]["EventInput"]["properties"]["properties"]["propertyNames"]
    assert {"trackEvent body.event", "trackEvent body.properties (keys)"} <= set(
        _text_without_a_nul_rule(broken)
    )
