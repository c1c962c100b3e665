"""Payments and refunds: simulated charges of orders with the spec's test payment methods."""

from __future__ import annotations

from sandbox.conventions.context import Reply, RequestContext
from sandbox.domain import payments
from sandbox.errors import Conflict, ValidationFailed, detail
from sandbox.handlers.lookups import follow_order, newest_first, require_own
from sandbox.ids import new_id
from sandbox.storage.commerce import Order, Payment, Refund

UNKNOWN_METHOD = "Field 'payment_method' must be one of the test payment methods: {methods}"
TOO_MUCH = "Field 'amount' must be at most {left} ({what})"


def create_payment(ctx: RequestContext) -> Reply:
    """201 with the payment, succeeded or failed as its test method decides.

    Conflict for a canceled or fully paid order; 422 for an unknown method or more than
    the order owes. Sends payment.succeeded or payment.failed.
    """
    order = require_own(ctx, Order, ctx.body["order_id"], "order_id", "an order", lock=True)
    method = ctx.body["payment_method"]
    outcome = payments.charge(ctx.spec.test_mode, method)
    if outcome is None:
        methods = ", ".join(payments.payment_methods(ctx.spec.test_mode))
        raise ValidationFailed(
            UNKNOWN_METHOD.format(methods=methods),
            details=[detail("payment_method", "not_one_of", method)],
        )
    if order.status == "canceled":
        raise Conflict(f"Order {order.id} is canceled")
    due = payments.amount_due(order)
    if due <= 0:
        raise Conflict(f"Order {order.id} is fully paid")
    amount = ctx.body.get("amount", due)
    if amount > due:
        raise ValidationFailed(
            TOO_MUCH.format(left=due, what="what the order still owes"),
            details=[detail("amount", "exceeds_amount_due", amount)],
        )
    payment = payments.charge_order(order, outcome, amount, id=new_id("pay"), **ctx.tenancy())
    ctx.session.add(payment)
    follow_order(ctx, order)
    ctx.emit(f"payment.{payment.status}", payment.to_api())
    return 201, payment.to_api()


def list_payments(ctx: RequestContext) -> Reply:
    """200 with a page of payments, newest first, optionally of one order."""
    return newest_first(ctx, Payment, "order_id")


def get_payment(ctx: RequestContext) -> Reply:
    """200 with the payment."""
    return 200, ctx.get(Payment, ctx.path["payment_id"], "payment").to_api()


def create_refund(ctx: RequestContext) -> Reply:
    """201 with the refund; the order becomes partially_refunded or refunded.

    Conflict for a failed or fully refunded payment; 422 for more than what is left.
    Sends refund.created.
    """
    payment = require_own(
        ctx, Payment, ctx.body["payment_id"], "payment_id", "a payment", lock=True
    )
    if payment.status != "succeeded":
        raise Conflict(f"Payment {payment.id} failed: there is nothing to refund")
    left = payment.amount - payment.amount_refunded
    if "amount" not in ctx.body and left == 0:
        raise Conflict(f"Payment {payment.id} is already fully refunded")
    amount = ctx.body.get("amount", left)
    if amount > left:
        raise ValidationFailed(
            TOO_MUCH.format(left=left, what="what is left of the payment"),
            details=[detail("amount", "exceeds_refundable_amount", amount)],
        )
    order = ctx.session.get(Order, payment.order_id, with_for_update=True)
    assert order is not None  # a payment always has its order
    refund = payments.refund_payment(
        order, payment, amount, ctx.body.get("reason"), id=new_id("re"), **ctx.tenancy()
    )
    ctx.session.add(refund)
    ctx.emit("refund.created", refund.to_api())
    return 201, refund.to_api()


def list_refunds(ctx: RequestContext) -> Reply:
    """200 with a page of refunds, newest first, optionally of one payment."""
    return newest_first(ctx, Refund, "payment_id")


def get_refund(ctx: RequestContext) -> Reply:
    """200 with the refund."""
    return 200, ctx.get(Refund, ctx.path["refund_id"], "refund").to_api()
