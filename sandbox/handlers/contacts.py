"""CRM contacts: list with search, create, get, update, delete."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import page
from sandbox.errors import Conflict
from sandbox.handlers.lookups import contact_in_use, newest_first
from sandbox.ids import new_id
from sandbox.storage.crm import Contact, Deal

FIELDS = ("first_name", "last_name", "email", "phone", "company_name", "tags")


def list_contacts(ctx: RequestContext) -> Reply:
    """200 with a page of contacts, newest first; `search` matches name, email or phone."""
    search = ctx.query.get("search")
    if not search:
        return newest_first(ctx, Contact)
    # `%` and `_` are matched as themselves: `contains` escapes them.
    text = search.lower()
    full_name = Contact.first_name + " " + Contact.last_name
    query = ctx.scoped(Contact).where(
        or_(
            func.lower(Contact.first_name).contains(text, autoescape=True),
            func.lower(func.coalesce(Contact.last_name, "")).contains(text, autoescape=True),
            func.lower(func.coalesce(full_name, "")).contains(text, autoescape=True),
            func.lower(func.coalesce(Contact.email, "")).contains(text, autoescape=True),
            func.coalesce(Contact.phone, "").contains(text, autoescape=True),
        )
    )
    return 200, page(ctx, query.order_by(Contact.created_at.desc(), Contact.id.desc()))


def create_contact(ctx: RequestContext) -> Reply:
    """201 with the new contact; sends contact.created."""
    values = {"tags": [], **ctx.given(FIELDS)}
    contact = ctx.insert(Contact, id=new_id("con"), updated_at=ctx.now, **ctx.tenancy(), **values)
    data = Contact.to_api(contact)
    ctx.emit("contact.created", data)
    return 201, data


def get_contact(ctx: RequestContext) -> Reply:
    """200 with the contact."""
    return 200, ctx.get(Contact, ctx.path["contact_id"], "contact").to_api()


def update_contact(ctx: RequestContext) -> Reply:
    """200 with the contact after changing the fields given; sends contact.updated."""
    contact = ctx.get(Contact, ctx.path["contact_id"], "contact")
    ctx.update_from_body(contact, FIELDS)
    contact.updated_at = ctx.now
    ctx.emit("contact.updated", contact.to_api())
    return 200, contact.to_api()


def delete_contact(ctx: RequestContext) -> Reply:
    """204; Conflict while deals still refer to the contact. Sends contact.deleted.

    The contact is locked first: a create referring to it either committed before (and
    is counted here) or waits, then finds the contact gone.
    """
    contact = ctx.get(Contact, ctx.path["contact_id"], "contact", lock=True)
    deals = ctx.session.scalar(
        select(func.count()).select_from(Deal).where(Deal.contact_id == contact.id)
    )
    if deals:
        raise Conflict(f"Contact {contact.id} still has {deals} deal(s); delete them first")
    for check in REFERENCES:
        if reason := check(ctx, contact.id):
            raise Conflict(reason)
    data = contact.to_api()
    ctx.session.delete(contact)
    ctx.emit("contact.deleted", data)
    return 204, None


# Other surfaces that refer to contacts (orders, invoices) add a check here: it returns a
# reason the contact cannot be deleted, or None.
REFERENCES: list = [contact_in_use]
