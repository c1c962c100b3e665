"""Webhook events and redelivery (x-sandbox-only): what the inspector and `sandbox listen` read.

Events are the company's, whichever of its businesses they happened in.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import page
from sandbox.errors import Conflict
from sandbox.handlers.lookups import deliveries_api
from sandbox.storage.base import utcnow
from sandbox.storage.webhooks import Webhook, WebhookDelivery, WebhookEvent

IN_FLIGHT = "Delivery {id} has an attempt in flight; resend it once that attempt is recorded"
DISABLED = "Webhook {id} is disabled; enable it to resend its deliveries"


def list_webhook_events(ctx: RequestContext) -> Reply:
    """200 with a page of the company's events: newest first, or oldest first after `after`.

    Events are ordered by (created_at, id): the order `after` walks in.
    """
    query = select(WebhookEvent).where(WebhookEvent.company_id == ctx.company_id)
    if (event_type := ctx.query.get("type")) is not None:
        query = query.where(WebhookEvent.type == event_type)
    if (after := ctx.query.get("after")) is not None:
        cursor = ctx.get(WebhookEvent, after, "event", company_wide=True)
        later = or_(
            WebhookEvent.created_at > cursor.created_at,
            and_(WebhookEvent.created_at == cursor.created_at, WebhookEvent.id > cursor.id),
        )
        query = query.where(later).order_by(WebhookEvent.created_at, WebhookEvent.id)
    else:
        query = query.order_by(WebhookEvent.created_at.desc(), WebhookEvent.id.desc())
    return 200, page(ctx, query)


def get_webhook_event(ctx: RequestContext) -> Reply:
    """200 with the event and its deliveries (oldest first); NotFound if not the company's."""
    event = ctx.get(WebhookEvent, ctx.path["event_id"], "event", company_wide=True)
    deliveries = ctx.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.event_id == event.id)
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
    ).all()
    return 200, {"event": event.to_api(), "deliveries": deliveries_api(ctx, list(deliveries))}


def resend_webhook_delivery(ctx: RequestContext) -> Reply:
    """202 with the delivery pending and due now; Conflict while an attempt is in flight
    or when its webhook is disabled (a disabled webhook receives no new attempts)."""
    delivery_id = ctx.path["delivery_id"]
    delivery = ctx.get(WebhookDelivery, delivery_id, "delivery", lock=True, company_wide=True)
    if delivery.lease_until is not None and delivery.lease_until > utcnow():
        raise Conflict(IN_FLIGHT.format(id=delivery_id))
    webhook = ctx.session.get(Webhook, delivery.webhook_id)
    if webhook is None or not webhook.enabled:
        raise Conflict(DISABLED.format(id=delivery.webhook_id))
    delivery.status = "pending"
    delivery.next_attempt_at = ctx.now
    ctx.session.flush()
    return 202, deliveries_api(ctx, [delivery])[0]
