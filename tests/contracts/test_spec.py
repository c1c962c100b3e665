"""The facts the rules derive from openapi.yaml."""

from __future__ import annotations

import pytest

from contracts.spec import Spec


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec.load()


def test_sandbox_only_operations_are_not_part_of_the_contract(spec: Spec) -> None:
    contract = {op.operation_id for op in spec.contract}
    sandbox_only = {op.operation_id for op in spec.operations.values() if op.sandbox_only}
    assert sandbox_only and not sandbox_only & contract


def test_creates_are_the_posts_taking_an_idempotency_key(spec: Spec) -> None:
    creates = {op.operation_id for op in spec.creates}
    assert {"createContact", "ingestUsageEvents", "trackEvent"} <= creates
    assert "cancelOrder" not in creates  # a POST without Idempotency-Key
    assert all(op.method == "post" for op in spec.creates)


def test_lists_are_the_gets_answering_a_page(spec: Spec) -> None:
    lists = {op.operation_id for op in spec.lists}
    assert {"listContacts", "listUsageEvents", "listWebhookDeliveries"} <= lists
    assert "getAccount" not in lists and "queryMetrics" not in lists
    assert spec.operation("listContacts").item_schema is spec.operation("getContact").success_schema


def test_deprecated_and_scopes_come_from_the_spec(spec: Spec) -> None:
    assert [op.operation_id for op in spec.deprecated] == ["trackEventLegacy"]
    assert spec.operation("createContact").scopes == ["crm:write"]
    assert spec.operation("getAccount").scopes == []
    assert "crm:write" in spec.scopes


def test_links_of_a_create_name_its_read_update_and_delete(spec: Spec) -> None:
    links = spec.operation("createContact").links
    by_parameters = {link.operation_id: link.parameters for link in links if link.parameters}
    assert by_parameters == {
        "getContact": {"contact_id": "$response.body#/id"},
        "updateContact": {"contact_id": "$response.body#/id"},
        "deleteContact": {"contact_id": "$response.body#/id"},
    }
    # Creates that take the contact in their body: the rest of the body is the caller's.
    by_body = {link.operation_id: link.request_body for link in links if link.request_body}
    assert by_body == dict.fromkeys(
        ("createDeal", "createOrder", "createInvoice"), {"contact_id": "$response.body#/id"}
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "bad_request"),
        (404, "not_found"),
        (405, "method_not_allowed"),
        (429, "rate_limit_exceeded"),
    ],
)
def test_error_codes_follow_the_spec_table(spec: Spec, status: int, code: str) -> None:
    assert spec.error_codes[status] == code


def test_base_path_is_the_server_path(spec: Spec) -> None:
    assert spec.base_path == "/api/v1"


def test_documented_refusals_are_the_422_codes_named_in_prose(spec: Spec) -> None:
    assert {"invalid_characters", "total_too_large", "currency_locked"} <= spec.documented_refusals
    assert not spec.documented_refusals & set(spec.error_codes.values())


def test_a_refusal_code_only_counts_when_the_spec_names_it() -> None:
    document = {
        "info": {
            "description": "Text with NUL is 422 `invalid_characters`. | 422 | `validation_error` |"
        },
        "paths": {
            "/x": {
                "get": {
                    "operationId": "x",
                    "responses": {},
                    "description": "Bad ranges are 422 (`bad_range`); 400 `nope`.",
                }
            }
        },
    }
    assert Spec(document).documented_refusals == {"invalid_characters", "bad_range"}
