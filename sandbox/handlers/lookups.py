"""Lookups the handlers share: a page of the business's rows, and the rows a body names.

Handler modules import each other nowhere; what two of them need lives here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select, update

from sandbox.conventions.context import KEY_SHARE, Reply, RequestContext
from sandbox.conventions.pagination import listing, page_of
from sandbox.domain import invoicing
from sandbox.errors import BadRequest, ValidationFailed, detail
from sandbox.storage.analytics import Website
from sandbox.storage.base import owner_of
from sandbox.storage.commerce import Invoice, Order
from sandbox.storage.crm import Contact
from sandbox.storage.webhooks import DeliveryAttempt, WebhookDelivery, WebhookEvent, delivery_api

# A model with company_id and business_id columns.
Model = TypeVar("Model")
UNKNOWN_WEBSITE = "Field 'website_id' must be a website of this business"
PROPERTY_REQUIRED = "Missing required field: property (required for the {metric} metric)"
NOT_OURS = "Field '{field}' must be {what} of this business"


def newest_first(ctx: RequestContext, model: Any, *filters: str) -> Reply:
    """200 with a page of `model` rows of the caller's business, newest first.

    Each name in `filters` is a query parameter that, when given, must equal the column
    of the same name.
    """
    given = {name: value for name in filters if (value := ctx.query.get(name)) is not None}
    return 200, page_of(ctx, listing(model, tuple(given)), given)


def require_own(
    ctx: RequestContext,
    model: type[Model],
    resource_id: str,
    field: str,
    what: str,
    *,
    lock: bool = False,
) -> Model:
    """The row of the caller's business that a body field names (locked if asked); 422 otherwise."""
    row = ctx.session.get(model, resource_id, with_for_update=lock)
    if row is None or owner_of(row) != (ctx.company_id, ctx.business.id):
        raise ValidationFailed(
            NOT_OURS.format(field=field, what=what),
            details=[detail(field, "not_found", resource_id)],
        )
    return row


def contact_in_use(ctx: RequestContext, contact_id: str) -> str | None:
    """Why the contact cannot be deleted while orders or invoices refer to it, or None."""
    for model, what in ((Order, "order"), (Invoice, "invoice")):
        query = select(func.count()).select_from(model).where(model.contact_id == contact_id)
        if count := ctx.session.scalar(query):
            return f"Contact {contact_id} still has {count} {what}(s); it cannot be deleted"
    return None


def require_contact(ctx: RequestContext, contact_id: str, field: str = "contact_id") -> Contact:
    """The contact of the caller's business, key-share locked; 422 naming `field` otherwise.

    The lock (FOR KEY SHARE) keeps the contact from being deleted until the referring row
    is committed; a delete already under way is waited for, and then the contact is gone.
    """
    contact = ctx.session.get(Contact, contact_id, with_for_update=KEY_SHARE)
    if (
        contact is None
        or contact.company_id != ctx.company_id
        or contact.business_id != ctx.business.id
    ):
        raise ValidationFailed(
            f"Field '{field}' must be a contact of this business",
            details=[detail(field, "not_found", contact_id)],
        )
    return contact


def unknown_website(website_id: str) -> ValidationFailed:
    """The 422 for a `website_id` that is not a website of the caller's business."""
    return ValidationFailed(
        UNKNOWN_WEBSITE, details=[detail("website_id", "not_found", website_id)]
    )


def known_websites(ctx: RequestContext, ids: set[str]) -> set[str]:
    """Those of `ids` that are websites of the caller's business."""
    if not ids:
        return set()
    query = ctx.scoped(Website).with_only_columns(Website.id).where(Website.id.in_(ids))
    return set(ctx.session.scalars(query))


def require_website(ctx: RequestContext, website_id: str) -> Website:
    """The website of the caller's business with that id; 422 (not 404) otherwise."""
    website = ctx.session.get(Website, website_id)
    if website is None or (website.company_id, website.business_id) != (
        ctx.company_id,
        ctx.business.id,
    ):
        raise unknown_website(website_id)
    return website


def require_property(metric: str, prop: str | None, field: str = "property") -> None:
    """BadRequest naming `field` when a metric other than count has no property."""
    if metric != "count" and prop is None:
        raise BadRequest(
            PROPERTY_REQUIRED.format(metric=metric), details=[detail(field, "required")]
        )


def follow_order(ctx: RequestContext, order: Order) -> None:
    """Bring the status of the order's open or paid invoices in line with the order."""
    status = invoicing.status_for(order.status)
    ctx.session.execute(
        update(Invoice)
        .where(Invoice.order_id == order.id, Invoice.status != status)
        .values(status=status)
        .execution_options(synchronize_session="fetch")
    )


def deliveries_api(ctx: RequestContext, deliveries: list[WebhookDelivery]) -> list[dict[str, Any]]:
    """Deliveries as the API returns them, loading their events and attempts in two queries."""
    ids = [d.id for d in deliveries]
    found = ctx.session.scalars(
        select(WebhookEvent).where(WebhookEvent.id.in_({d.event_id for d in deliveries}))
    )
    by_id = {event.id: event for event in found}
    attempts: dict[str, list[DeliveryAttempt]] = {i: [] for i in ids}
    for attempt in ctx.session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids))
    ):
        attempts[attempt.delivery_id].append(attempt)
    return [delivery_api(d, by_id[d.event_id], attempts[d.id]) for d in deliveries]
