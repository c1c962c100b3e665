"""Webhook subscriptions, their deliveries with every attempt, and test events.

The signing secret is returned by createWebhook only. Deliveries are made by the
delivery worker (sandbox/domain/delivery.py); these handlers only queue and show them.
A subscribed URL must pass the sandbox's target policy (sandbox/domain/targets.py), which
the worker checks again at every attempt.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import page
from sandbox.domain import signing
from sandbox.domain import webhooks as events
from sandbox.domain.targets import SETTING, TargetPolicy, TargetRefused
from sandbox.errors import Conflict, NotFound, ValidationFailed, detail
from sandbox.handlers.lookups import deliveries_api, newest_first
from sandbox.ids import new_id
from sandbox.storage.webhooks import DeliveryAttempt, Webhook, WebhookDelivery, delivery_api

FIELDS = ("url", "events", "description", "enabled")
TARGET_NOT_ALLOWED = "target_not_allowed"
DEFAULT_TARGETS = TargetPolicy()  # an app that sets none: a local sandbox's


def _admit_url(ctx: RequestContext) -> None:
    """ValidationFailed (`target_not_allowed` on `url`) if the body's URL may not be subscribed."""
    if "url" not in ctx.body:
        return
    url = ctx.body["url"]
    try:
        ctx.settings.get(SETTING, DEFAULT_TARGETS).admit(url)
    except TargetRefused as refusal:
        raise ValidationFailed(
            f"Field 'url' is not an allowed webhook target: {refusal}",
            details=[detail("url", TARGET_NOT_ALLOWED, url)],
        ) from None


def list_webhooks(ctx: RequestContext) -> Reply:
    """200 with a page of webhooks, newest first, without their secrets."""
    return newest_first(ctx, Webhook)


def create_webhook(ctx: RequestContext) -> Reply:
    """201 with the webhook and its signing secret (the only time the secret is shown).

    ValidationFailed if the target policy refuses its URL.
    """
    _admit_url(ctx)
    webhook = Webhook(
        id=new_id("whk"),
        description=None,
        enabled=True,
        secret=signing.new_secret(),
        **ctx.tenancy(),
    )
    for name in FIELDS:
        if name in ctx.body:
            setattr(webhook, name, ctx.body[name])
    ctx.session.add(webhook)
    return 201, {**webhook.to_api(), "secret": webhook.secret}


def get_webhook(ctx: RequestContext) -> Reply:
    """200 with the webhook, without its secret."""
    return 200, ctx.get(Webhook, ctx.path["webhook_id"], "webhook").to_api()


def update_webhook(ctx: RequestContext) -> Reply:
    """200 with the webhook after changing the fields given; disabled, it gets no new deliveries.

    ValidationFailed if a new URL is given that the target policy refuses.
    """
    webhook = ctx.get(Webhook, ctx.path["webhook_id"], "webhook")
    _admit_url(ctx)
    for name in FIELDS:
        if name in ctx.body:
            setattr(webhook, name, ctx.body[name])
    return 200, webhook.to_api()


def delete_webhook(ctx: RequestContext) -> Reply:
    """204 once the webhook is gone with its deliveries (pending retries are dropped)."""
    webhook = ctx.get(Webhook, ctx.path["webhook_id"], "webhook")
    delivery_ids = select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook.id)
    # Row locks first, in id order, as the delivery worker takes them (no deadlock).
    ctx.session.execute(delivery_ids.order_by(WebhookDelivery.id).with_for_update()).all()
    ctx.session.execute(
        delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(delivery_ids))
    )
    ctx.session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    ctx.session.delete(webhook)
    return 204, None


def list_webhook_deliveries(ctx: RequestContext) -> Reply:
    """200 with a page of the webhook's deliveries, newest first, each with every attempt."""
    webhook = ctx.get(Webhook, ctx.path["webhook_id"], "webhook")
    query = ctx.scoped(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if status := ctx.query.get("status"):
        query = query.where(WebhookDelivery.status == status)
    query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    result = page(ctx, query, serialize=lambda delivery: delivery)
    result["items"] = deliveries_api(ctx, result["items"])
    return 200, result


def get_webhook_delivery(ctx: RequestContext) -> Reply:
    """200 with the delivery and every attempt; NotFound if it is not this webhook's."""
    webhook = ctx.get(Webhook, ctx.path["webhook_id"], "webhook")
    delivery = ctx.get(WebhookDelivery, ctx.path["delivery_id"], "delivery")
    if delivery.webhook_id != webhook.id:
        raise NotFound(f"No delivery with id {delivery.id} for webhook {webhook.id}")
    return 200, deliveries_api(ctx, [delivery])[0]


def send_test_webhook(ctx: RequestContext) -> Reply:
    """202 with a queued delivery of a test event, whatever the webhook subscribes to.

    Conflict if the webhook is disabled (a disabled webhook receives no new deliveries).
    """
    webhook = ctx.get(Webhook, ctx.path["webhook_id"], "webhook")
    if not webhook.enabled:
        raise Conflict(f"Webhook {webhook.id} is disabled; enable it to send a test event")
    event_type = (ctx.body or {}).get("event_type", events.TEST_EVENT)
    origin = events.Origin(ctx.company_id, ctx.business.id, ctx.now)
    data = events.sample_data(ctx.spec, event_type, webhook.id)
    event, (delivery,) = events.queue(ctx.transaction, origin, event_type, data, [webhook.id])
    return 202, delivery_api(delivery, event, [])
