"""Simulated payments: outcomes of the spec's test payment methods and the order states that follow.

The test methods and their outcomes live in the spec (`x-test-mode.payment_methods`);
nothing here names one. Order states:

    pending ─paid in full─► paid ─part refunded─► partially_refunded ─rest refunded─► refunded
    pending ─payment failed─► payment_failed ─paid in full─► paid
    pending or payment_failed, nothing paid yet ─cancel─► canceled
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.storage.commerce import Order, Payment, Refund

CANCELABLE = ("pending", "payment_failed")


@dataclass(frozen=True)
class Outcome:
    """What charging a test payment method does."""

    method: str
    succeeded: bool
    failure_code: str | None
    failure_message: str | None


def payment_methods(test_mode: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The spec's test payment methods by value."""
    return {entry["value"]: entry for entry in test_mode["payment_methods"]}


def charge(test_mode: dict[str, Any], method: str) -> Outcome | None:
    """The outcome of charging `method`; None when it is not a test payment method."""
    entry = payment_methods(test_mode).get(method)
    if entry is None:
        return None
    succeeded = entry["outcome"] == "succeeded"
    return Outcome(
        method=method,
        succeeded=succeeded,
        failure_code=None if succeeded else entry["failure_code"],
        failure_message=None if succeeded else entry["description"],
    )


def amount_due(order: Order) -> int:
    """What the order still owes."""
    return order.amount - order.amount_paid


def settle(order: Order, *, last_payment_failed: bool = False) -> str:
    """Set and return the order's status from its amounts (a canceled order stays canceled)."""
    if order.status == "canceled":
        return order.status
    if order.amount_refunded > 0:
        order.status = (
            "refunded" if order.amount_refunded >= order.amount_paid else "partially_refunded"
        )
    elif order.amount_paid >= order.amount:
        order.status = "paid"
    elif last_payment_failed:
        order.status = "payment_failed"
    else:
        order.status = "pending"
    return order.status


def cancel_refusal(order: Order) -> str | None:
    """Why the order cannot be canceled, or None when it can (no money has moved)."""
    if order.status == "canceled":
        return f"Order {order.id} is already canceled"
    if order.status not in CANCELABLE or order.amount_paid > 0:
        return (
            f"Order {order.id} is {order.status}: money has moved, so it can no longer be canceled"
        )
    return None


def charge_order(order: Order, outcome: Outcome, amount: int, **row: Any) -> Payment:
    """The payment of `amount` for the order; the order's amounts and status follow its outcome.

    `row` holds the payment's id and tenancy columns.
    """
    payment = Payment(
        order_id=order.id,
        amount=amount,
        amount_refunded=0,
        currency=order.currency,
        status="succeeded" if outcome.succeeded else "failed",
        failure_code=outcome.failure_code,
        failure_message=outcome.failure_message,
        payment_method=outcome.method,
        **row,
    )
    if outcome.succeeded:
        order.amount_paid += amount
    settle(order, last_payment_failed=not outcome.succeeded)
    order.updated_at = payment.created_at
    return payment


def refund_payment(
    order: Order, payment: Payment, amount: int, reason: str | None, **row: Any
) -> Refund:
    """The refund of `amount` of a succeeded payment; the payment's and order's amounts follow.

    `row` holds the refund's id and tenancy columns.
    """
    refund = Refund(
        payment_id=payment.id,
        order_id=order.id,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        **row,
    )
    payment.amount_refunded += amount
    order.amount_refunded += amount
    settle(order)
    order.updated_at = refund.created_at
    return refund
