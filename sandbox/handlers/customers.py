"""Customers whose usage is metered: list, create, get, update, delete."""

from __future__ import annotations

from sqlalchemy import func, select

from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import page
from sandbox.errors import Conflict
from sandbox.ids import new_id
from sandbox.storage.metering import Customer, UsageEvent

FIELDS = ("name", "email", "external_id")


def list_customers(ctx: RequestContext) -> Reply:
    """200 with a page of customers, newest first."""
    return 200, page(
        ctx, ctx.scoped(Customer).order_by(Customer.created_at.desc(), Customer.id.desc())
    )


def create_customer(ctx: RequestContext) -> Reply:
    """201 with the new customer."""
    customer = Customer(
        id=new_id("cus"),
        name=ctx.body["name"],
        email=ctx.body.get("email"),
        external_id=ctx.body.get("external_id"),
        metadata_=ctx.body.get("metadata") or {},
        updated_at=ctx.now,
        **ctx.tenancy(),
    )
    ctx.session.add(customer)
    ctx.session.flush()
    return 201, customer.to_api()


def get_customer(ctx: RequestContext) -> Reply:
    """200 with the customer."""
    return 200, ctx.get(Customer, ctx.path["customer_id"], "customer").to_api()


def update_customer(ctx: RequestContext) -> Reply:
    """200 with the customer after changing the fields given (`metadata` replaces the old)."""
    customer = ctx.get(Customer, ctx.path["customer_id"], "customer")
    ctx.update_from_body(customer, FIELDS)
    if "metadata" in ctx.body:
        customer.metadata_ = ctx.body["metadata"]
    customer.updated_at = ctx.now
    return 200, customer.to_api()


def delete_customer(ctx: RequestContext) -> Reply:
    """204; Conflict once usage events refer to the customer (they are immutable).

    The customer is locked first, so usage ingested for it concurrently is counted here
    or finds the customer gone.
    """
    customer = ctx.get(Customer, ctx.path["customer_id"], "customer", lock=True)
    usage = ctx.session.scalar(
        select(func.count()).select_from(UsageEvent).where(UsageEvent.customer_id == customer.id)
    )
    if usage:
        raise Conflict(
            f"Customer {customer.id} has {usage} usage event(s), which cannot be deleted"
        )
    ctx.session.delete(customer)
    return 204, None
