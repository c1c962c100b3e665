"""Orders: list, create, get and cancel; payments settle them (see payments.py)."""

from __future__ import annotations

from sandbox.conventions.context import Reply, RequestContext
from sandbox.domain import payments
from sandbox.errors import Conflict
from sandbox.handlers.lookups import follow_order, newest_first, require_contact
from sandbox.ids import new_id
from sandbox.storage.commerce import Order


def list_orders(ctx: RequestContext) -> Reply:
    """200 with a page of orders, newest first, optionally of one status."""
    return newest_first(ctx, Order, "status")


def create_order(ctx: RequestContext) -> Reply:
    """201 with a pending order; 422 if the contact is not in the business. Sends order.created."""
    if "contact_id" in ctx.body:
        require_contact(ctx, ctx.body["contact_id"])
    order = Order(
        id=new_id("ord"),
        status="pending",
        amount=ctx.body["amount"],
        amount_paid=0,
        amount_refunded=0,
        currency=ctx.body["currency"],
        contact_id=ctx.body.get("contact_id"),
        description=ctx.body.get("description"),
        metadata_=ctx.body.get("metadata", {}),
        updated_at=ctx.now,
        **ctx.tenancy(),
    )
    ctx.session.add(order)
    ctx.emit("order.created", order.to_api())
    return 201, order.to_api()


def get_order(ctx: RequestContext) -> Reply:
    """200 with the order, what has been paid and what refunded."""
    return 200, ctx.get(Order, ctx.path["order_id"], "order").to_api()


def cancel_order(ctx: RequestContext) -> Reply:
    """200 with the canceled order; Conflict once money has moved. Sends order.canceled.

    The order is locked as payments lock it: a payment under way is waited for.
    """
    order = ctx.get(Order, ctx.path["order_id"], "order", lock=True)
    if reason := payments.cancel_refusal(order):
        raise Conflict(reason)
    order.status, order.updated_at = "canceled", ctx.now
    follow_order(ctx, order)
    ctx.emit("order.canceled", order.to_api())
    return 200, order.to_api()
