"""A client generated from openapi.yaml by openapi-python-client, against a served sandbox.

The client is generated at test time, so a spec change that a generator cannot follow
(a page whose items it types wrongly, an enum it splits in three) fails here. Every
operation is called through the generated
`AuthenticatedClient`; each answer must come back parsed into the generated model its
2xx response names, a page's items into the model of its item schema. Request bodies are
the spec's own request examples, with ids swapped for those of resources made here.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sandbox.spec import load_spec
from tests.sandbox.served import banner_key, serving

LOADED = load_spec()
SPEC_PATH, SPEC = LOADED.path, LOADED.raw
PACKAGE = "interop_platform_client"
METHODS = ("get", "put", "post", "delete", "patch")
# The clock's advance body is a `oneOf` of three objects: the generator makes a class for
# each (`ClockAdvanceType0` to `2`), and the operation takes any of them.
CLOCK_ADVANCES = (
    ("ClockAdvanceType0", {"seconds": 60}),
    ("ClockAdvanceType1", {"days": 1}),
    ("ClockAdvanceType2", {"to": "2100-01-01T00:00:00Z"}),
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("openapi_python_client") is None,
        reason="openapi-python-client is not installed (the `test` extra installs it)",
    ),
]


def _name(node: dict[str, Any] | None) -> str | None:
    """The component name a `$ref` points at."""
    return node["$ref"].rsplit("/", 1)[-1] if node and "$ref" in node else None


@dataclass(frozen=True)
class Operation:
    """What the test needs of one spec operation."""

    operation_id: str
    status: int
    response: str | None  # the 2xx schema's name; None for an empty answer
    body: str | None  # the request body schema's name
    example: Any  # the request body's example
    creates: bool  # takes an Idempotency-Key

    @property
    def item(self) -> str | None:
        """For a page: the name of its item schema."""
        schema = SPEC["components"]["schemas"].get(self.response or "", {})
        return _name(schema.get("properties", {}).get("items", {}).get("items"))


def _operations() -> dict[str, Operation]:
    found = {}
    for item in SPEC["paths"].values():
        for method in METHODS:
            if method not in item:
                continue
            raw = item[method]
            (status,) = [code for code in raw["responses"] if code.startswith("2")]
            media = raw["responses"][status].get("content", {}).get("application/json")
            body = None
            if "requestBody" in raw:
                body = LOADED.resolve(raw["requestBody"])["content"]["application/json"]
            found[raw["operationId"]] = Operation(
                operation_id=raw["operationId"],
                status=int(status),
                response=_name(media["schema"]) if media else None,
                body=_name(body["schema"]) if body else None,
                example=body.get("example") if body else None,
                creates=any(
                    p.get("$ref", "").endswith("/IdempotencyKey") for p in raw.get("parameters", [])
                ),
            )
    return found


OPERATIONS = _operations()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.fixture
def package(tmp_path: Path) -> Iterator[ModuleType]:
    """The client generated from openapi.yaml, imported; generation must not warn."""
    root = tmp_path / "client"
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(SPEC_PATH),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        # Its post-generation hook runs ruff, found on PATH next to this interpreter.
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
    )
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    # Without ruff the hook is skipped with a notice: only the spec's warnings count.
    warnings = [line for line in output.splitlines() if line.startswith("WARNING")]
    assert warnings == [], output
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@dataclass
class Driver:
    """Calls operations through the generated client and records what did not parse."""

    package: ModuleType
    client: Any
    called: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def model(self, name: str) -> type:
        return getattr(importlib.import_module(f"{PACKAGE}.models"), name)

    def call(
        self,
        operation_id: str,
        body: dict[str, Any] | None = None,
        model: str | None = None,
        **params: Any,
    ) -> Any:
        """Call one operation; its body is the spec's example updated with `body`, made
        into the generated `model` (default: the one named after the body's schema).

        Returns the answer's JSON (for the ids later calls need), {} when there is none.
        """
        op = OPERATIONS[operation_id]
        module = next(
            importlib.import_module(f"{PACKAGE}.api.{path.parent.name}.{path.stem}")
            for path in Path(self.package.__file__).parent.glob(f"api/*/{_snake(operation_id)}.py")
        )
        if op.body is not None:
            example = copy.deepcopy(op.example) if model is None else {}
            params["body"] = self.model(model or op.body).from_dict({**example, **(body or {})})
        if op.creates:
            params["idempotency_key"] = str(uuid.uuid4())
        self.called.append(operation_id)
        try:
            response = module.sync_detailed(client=self.client, **params)
        except Exception as error:  # every failure is reported at the end
            self.problems.append(f"{operation_id}: raised {type(error).__name__}: {error}")
            return {}
        answer = json.loads(response.content) if response.content else {}
        if response.status_code != op.status:
            self.problems.append(f"{operation_id}: {response.status_code} {answer}")
        elif op.response is not None:
            self.check(operation_id, response.parsed, op)
        return answer

    def check(self, operation_id: str, parsed: Any, op: Operation) -> None:
        expected = self.model(op.response or "")
        if not isinstance(parsed, expected):
            self.problems.append(f"{operation_id}: parsed as {type(parsed).__name__}")
        elif op.item is not None:
            item = self.model(op.item)
            wrong = {type(i).__name__ for i in parsed.items if not isinstance(i, item)}
            if wrong:
                self.problems.append(f"{operation_id}: items parsed as {sorted(wrong)}")
            if not parsed.items:
                self.problems.append(f"{operation_id}: an empty page checks no item")


@pytest.fixture
def driver(package: ModuleType, tmp_path: Path) -> Iterator[Driver]:
    """The generated client's AuthenticatedClient on a served sandbox (strict responses)."""
    with serving(
        f"sqlite:///{tmp_path / 'sandbox.db'}",
        *("--rate-limit-scale", "0", "--strict", "--webhook-allow", "127.0.0.1/32"),
    ) as (
        port,
        lines,
    ):
        client = package.AuthenticatedClient(
            base_url=f"http://127.0.0.1:{port}/api/v1",
            token=banner_key(lines),
            raise_on_unexpected_status=True,
        )
        with client:
            yield Driver(package, client)


def test_the_generated_client_parses_every_operation(driver: Driver) -> None:
    call = driver.call
    call("getAccount")
    call("getTestClock")
    for model, advance in CLOCK_ADVANCES:
        call("advanceTestClock", advance, model=model)

    # Each resource with a create: create -> get -> update -> delete, where the spec has them.
    contact = call("createContact")
    call("getContact", contact_id=contact["id"])
    call("updateContact", contact_id=contact["id"])
    deal = call("createDeal", {"contact_id": contact["id"]})
    call("getDeal", deal_id=deal["id"])
    call("updateDeal", deal_id=deal["id"])

    # Orders keep their contact; they go to a second one so that the first can be deleted.
    buyer = call("createContact", {"email": "buyer@example.com"})
    order = call("createOrder", {"contact_id": buyer["id"]})
    call("getOrder", order_id=order["id"])
    payment = call("createPayment", {"order_id": order["id"]})
    call("getPayment", payment_id=payment["id"])
    declined = call("createOrder", {"contact_id": buyer["id"]})
    call("createPayment", {"order_id": declined["id"], "payment_method": "pm_card_chargeDeclined"})
    refund = call("createRefund", {"payment_id": payment["id"]})
    call("getRefund", refund_id=refund["id"])
    canceled = call("createOrder", {"contact_id": buyer["id"]})
    call("cancelOrder", order_id=canceled["id"])
    invoice = call("createInvoice", {"contact_id": buyer["id"]})
    call("getInvoice", invoice_id=invoice["id"])

    dashboard = call("createDashboard")
    call("getDashboard", dashboard_id=dashboard["id"])
    call("updateDashboard", dashboard_id=dashboard["id"])

    website = call("createWebsite")
    call("getWebsite", website_id=website["id"])
    call("updateWebsite", website_id=website["id"])
    call("createConversionEvent", website_id=website["id"])
    revenue = call("recordRevenue", {"website_id": website["id"]})
    call("getRevenue", revenue_id=revenue["id"])
    call("trackEventLegacy", {"website_id": website["id"]})
    call("getAnalyticsSummary", website_id=website["id"])

    event = call("trackEvent")
    call("getEvent", event_id=event["event_id"])
    call("trackEventBatch")
    call("queryMetrics", event="purchase")

    sms = call("sendSms")
    call("getSmsMessage", message_id=sms["id"])
    reply = call("sendChatMessage")
    call("getConversation", conversation_id=reply["conversation_id"])

    webhook = call("createWebhook", body={"url": "http://127.0.0.1:9/hooks"})  # loopback only
    call("getWebhook", webhook_id=webhook["id"])
    delivery = call("sendTestWebhook", webhook_id=webhook["id"])
    call("getWebhookDelivery", webhook_id=webhook["id"], delivery_id=delivery["id"])
    call("getWebhookEvent", event_id=delivery["event_id"])
    call("updateWebhook", body={"enabled": True}, webhook_id=webhook["id"])  # resent below

    customer = call("createCustomer")
    call("getCustomer", customer_id=customer["id"])
    call("updateCustomer", customer_id=customer["id"])
    meter = call("createMeter")
    call("getMeter", meter_id=meter["id"])
    call("updateMeter", meter_id=meter["id"])
    billed = call("createCustomer", {"external_id": "acct_1002"})
    usage = OPERATIONS["ingestUsageEvents"].example["events"]
    ingested = call(
        "ingestUsageEvents", {"events": [{**e, "customer_id": billed["id"]} for e in usage]}
    )
    call("getUsageEvent", event_id=ingested["results"][0]["event_id"])
    call("getMeterUsage", meter_id=meter["id"], customer_id=billed["id"])

    # Every list, after the creates so that each page has items to parse.
    pages = {op.operation_id for op in OPERATIONS.values() if op.item is not None}
    for operation_id in sorted(pages):
        if operation_id == "listConversionEvents":
            call(operation_id, website_id=website["id"])
        elif operation_id == "listWebhookDeliveries":
            call(operation_id, webhook_id=webhook["id"])
        else:
            call(operation_id)

    # By now the delivery's first attempt (to a closed port) is recorded: none in flight.
    call("resendWebhookDelivery", delivery_id=delivery["id"])
    logged = call("listRequestLog")
    call("getRequestLogEntry", request_log_id=logged["items"][0]["id"])

    call("deleteDashboard", dashboard_id=dashboard["id"])
    call("deleteDeal", deal_id=deal["id"])
    call("deleteContact", contact_id=contact["id"])
    call("deleteWebhook", webhook_id=webhook["id"])
    call("deleteCustomer", customer_id=customer["id"])

    call("resetSandbox")  # last: it empties the business the calls above filled

    assert driver.problems == [], "\n".join(driver.problems)
    assert len(pages) == 20
    assert set(driver.called) == set(OPERATIONS)
