"""Invoices: create (totals computed, numbers sequential per business), list and get.

An invoice follows the order it is for: `paid` once the order is paid, `void` if the
order is canceled, `open` otherwise.
"""

from __future__ import annotations

from datetime import date

from sandbox.conventions.context import Reply, RequestContext
from sandbox.domain import invoicing
from sandbox.errors import ValidationFailed, detail
from sandbox.handlers.lookups import newest_first, require_contact, require_own
from sandbox.ids import new_id
from sandbox.storage.base import upsert
from sandbox.storage.commerce import Invoice, InvoiceCounter, Order

TOO_LARGE = "Field 'line_items' adds up to more than the largest amount, {cap} (tax included)"


def largest_amount(ctx: RequestContext) -> int:
    """The largest amount the spec lets a client send (a line's `unit_amount` maximum)."""
    line = ctx.spec.schema("LineItemInput")
    return int(line["properties"]["unit_amount"]["maximum"])


def next_number(ctx: RequestContext) -> str:
    """The business's next invoice number; its counter row stays locked until the commit."""
    statement = (
        upsert(ctx.session, InvoiceCounter)
        .values(business_id=ctx.business.id, company_id=ctx.company_id, last_number=1)
        .on_conflict_do_update(
            index_elements=[InvoiceCounter.business_id],
            set_={"last_number": InvoiceCounter.last_number + 1},
        )
        .returning(InvoiceCounter.last_number)
    )
    return invoicing.number(int(ctx.session.execute(statement).scalar_one()))


def create_invoice(ctx: RequestContext) -> Reply:
    """201 with the invoice and its computed totals; 422 for a contact or order of another business.

    Sends invoice.created.
    """
    body = ctx.body
    require_contact(ctx, body["contact_id"])
    order = None
    if "order_id" in body:
        # Locked: its status decides the invoice's, and payments change it under the lock.
        order = require_own(ctx, Order, body["order_id"], "order_id", "an order", lock=True)
    computed = invoicing.totals(body["line_items"], body["tax_rate_bps"])
    if computed.total > (cap := largest_amount(ctx)):
        raise ValidationFailed(
            TOO_LARGE.format(cap=cap),
            details=[detail("line_items", "total_too_large", computed.total)],
        )
    invoice = Invoice(
        id=new_id("inv"),
        number=next_number(ctx),
        status=invoicing.status_for(order.status if order else None),
        contact_id=body["contact_id"],
        order_id=order.id if order else None,
        currency=body["currency"],
        line_items=computed.line_items,
        subtotal=computed.subtotal,
        tax_rate_bps=body["tax_rate_bps"],
        tax=computed.tax,
        total=computed.total,
        due_date=date.fromisoformat(body["due_date"]) if "due_date" in body else None,
        **ctx.tenancy(),
    )
    ctx.session.add(invoice)
    ctx.emit("invoice.created", invoice.to_api())
    return 201, invoice.to_api()


def list_invoices(ctx: RequestContext) -> Reply:
    """200 with a page of invoices, newest first, filtered by contact or status."""
    return newest_first(ctx, Invoice, "contact_id", "status")


def get_invoice(ctx: RequestContext) -> Reply:
    """200 with the invoice and its computed totals."""
    return 200, ctx.get(Invoice, ctx.path["invoice_id"], "invoice").to_api()
