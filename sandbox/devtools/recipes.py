"""What `sandbox trigger` does for each event type: the API calls that make it happen.

A recipe is a tuple of steps; a step is one operation of the spec (by operationId) with
the body and path parameters it sends, computed from what the steps before it created
(`Made`). Values a test mode decides (a declining card, a phone number that is logged as
sent) come from the spec's `x-test-mode`; names and emails are made unique per run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.spec import Spec


@dataclass
class Made:
    """What a trigger run has created so far (step name → the resource as answered), and
    the values it makes unique with."""

    spec: Spec
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def id(self, step: str) -> str:
        """The id of the resource step `step` created (or found)."""
        return str(self.resources[step]["id"])

    def payment_method(self, outcome: str) -> str:
        """The spec's first test payment method with this outcome (`succeeded`, `failed`)."""
        methods = self.spec.test_mode["payment_methods"]
        return str(next(m["value"] for m in methods if m["outcome"] == outcome))

    def phone(self, outcome: str = "sent") -> str:
        """The spec's test phone number with this outcome (`sent`: logged, never dispatched)."""
        numbers = self.spec.test_mode["phone_numbers"]
        return str(next(n["value"] for n in numbers if n["outcome"] == outcome))


Body = Callable[[Made], dict[str, Any]]


@dataclass(frozen=True)
class Step:
    """One API call of a recipe. `reuse`: an operation listing resources of the kind, and
    which of them will do instead of creating one (the first that matches is used)."""

    name: str
    operation: str
    body: Body | None = None
    path: Callable[[Made], dict[str, str]] | None = None
    reuse: tuple[str, Callable[[dict[str, Any]], bool]] | None = None


@dataclass(frozen=True)
class Recipe:
    """The steps that make `event` happen, and a one-line description of them. The event's
    `data` is the resource step `subject` made (default: the last step's)."""

    event: str
    description: str
    steps: tuple[Step, ...]
    subject: str | None = None


def contact_body(made: Made) -> dict[str, Any]:
    return {
        "first_name": "Trigger",
        "last_name": f"Test {made.token}",
        "email": f"trigger-{made.token}@example.com",
        "phone": made.phone(),
        "tags": ["sandbox-trigger"],
    }


def order_body(made: Made) -> dict[str, Any]:
    return {
        "amount": 2500,
        "currency": "USD",
        "contact_id": made.id("contact"),
        "description": f"sandbox trigger {made.token}",
    }


def payment_body(outcome: str) -> Body:
    return lambda made: {
        "order_id": made.id("order"),
        "payment_method": made.payment_method(outcome),
    }


def deal_body(made: Made) -> dict[str, Any]:
    return {
        "title": f"Trigger deal {made.token}",
        "contact_id": made.id("contact"),
        "amount": 150000,
        "stage": "new",
    }


def invoice_body(made: Made) -> dict[str, Any]:
    line = {"description": f"Trigger line {made.token}", "quantity": 1, "unit_amount": 2500}
    return {"contact_id": made.id("contact"), "line_items": [line]}


def sms_body(made: Made) -> dict[str, Any]:
    return {
        "to_phone": made.phone(),
        "message": f"sandbox trigger {made.token}",
        "contact_id": made.id("contact"),
    }


def webhook_body(made: Made) -> dict[str, Any]:
    # Port 9 (discard) of this machine: allowed by a local sandbox's target policy; nothing
    # listens there, so the test event's deliveries fail. `sandbox listen` forwards it.
    return {
        "url": "http://127.0.0.1:9/sandbox-trigger",
        "events": ["webhook.test"],
        "description": "Made by sandbox trigger webhook.test",
    }


def path_of(step: str, parameter: str) -> Callable[[Made], dict[str, str]]:
    """Path parameters `{parameter: the id step `step` created}`."""
    return lambda made: {parameter: made.id(step)}


CONTACT = Step("contact", "createContact", contact_body)
ORDER = Step("order", "createOrder", order_body)
DEAL = Step("deal", "createDeal", deal_body)
PAID = Step("payment", "createPayment", payment_body("succeeded"))

RECIPES: dict[str, Recipe] = {
    recipe.event: recipe
    for recipe in (
        Recipe("contact.created", "creates a contact", (CONTACT,)),
        Recipe(
            "contact.updated",
            "creates a contact, then changes its tags",
            (
                CONTACT,
                Step(
                    "update",
                    "updateContact",
                    lambda made: {"tags": ["sandbox-trigger", "updated"]},
                    path_of("contact", "contact_id"),
                ),
            ),
        ),
        Recipe(
            "contact.deleted",
            "creates a contact, then deletes it",
            (CONTACT, Step("delete", "deleteContact", path=path_of("contact", "contact_id"))),
            subject="contact",
        ),
        Recipe("deal.created", "creates a contact and a deal for it", (CONTACT, DEAL)),
        Recipe(
            "deal.stage_changed",
            "creates a contact and a deal, then moves the deal from new to qualified",
            (
                CONTACT,
                DEAL,
                Step(
                    "update",
                    "updateDeal",
                    lambda made: {"stage": "qualified"},
                    path_of("deal", "deal_id"),
                ),
            ),
        ),
        Recipe("order.created", "creates a contact and an order", (CONTACT, ORDER)),
        Recipe(
            "order.canceled",
            "creates a contact and an order, then cancels the order",
            (CONTACT, ORDER, Step("cancel", "cancelOrder", path=path_of("order", "order_id"))),
        ),
        Recipe(
            "payment.succeeded",
            "creates a contact and an order, and pays it with a test card that succeeds",
            (CONTACT, ORDER, PAID),
        ),
        Recipe(
            "payment.failed",
            "creates a contact and an order, and pays it with a test card that is declined",
            (CONTACT, ORDER, Step("payment", "createPayment", payment_body("failed"))),
        ),
        Recipe(
            "refund.created",
            "creates a contact, an order and a succeeded payment, then refunds it",
            (
                CONTACT,
                ORDER,
                PAID,
                Step(
                    "refund",
                    "createRefund",
                    lambda made: {
                        "payment_id": made.id("payment"),
                        "reason": "requested_by_customer",
                    },
                ),
            ),
        ),
        Recipe(
            "invoice.created",
            "creates a contact and an invoice of one line for it",
            (CONTACT, Step("invoice", "createInvoice", invoice_body)),
        ),
        Recipe(
            "sms.logged",
            "creates a contact and sends it an SMS to the test number that is logged as sent",
            (CONTACT, Step("sms", "sendSms", sms_body)),
        ),
        Recipe(
            "webhook.test",
            "sends a test event to the business's first enabled webhook (made if none)",
            (
                Step(
                    "webhook",
                    "createWebhook",
                    webhook_body,
                    reuse=("listWebhooks", lambda webhook: bool(webhook["enabled"])),
                ),
                Step(
                    "test",
                    "sendTestWebhook",
                    lambda made: {"event_type": "webhook.test"},
                    path_of("webhook", "webhook_id"),
                ),
            ),
        ),
    )
}
