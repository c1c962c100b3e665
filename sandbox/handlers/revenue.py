"""Revenue: record a revenue event for a website, list and get them."""

from __future__ import annotations

from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import page
from sandbox.domain.metrics import parse_instant
from sandbox.errors import ValidationFailed, detail
from sandbox.handlers.lookups import require_website
from sandbox.ids import new_id
from sandbox.storage.analytics import Revenue


def record_revenue(ctx: RequestContext) -> Reply:
    """201 with the revenue event; 422 for a website not in the business or another currency."""
    website = require_website(ctx, ctx.body["website_id"])
    currency = ctx.body.get("currency", website.currency)
    if currency != website.currency:
        raise ValidationFailed(
            f"Field 'currency' must be the website's currency, {website.currency}",
            details=[detail("currency", "currency_mismatch", currency)],
        )
    moment = (
        parse_instant(ctx.body["timestamp"], "timestamp") if "timestamp" in ctx.body else ctx.now
    )
    revenue = Revenue(
        id=new_id("rev"),
        website_id=website.id,
        amount=ctx.body["amount"],
        currency=currency,
        visitor_id=ctx.body.get("visitor_id"),
        order_id=ctx.body.get("order_id"),
        timestamp=moment,
        **ctx.tenancy(),
    )
    ctx.session.add(revenue)
    ctx.session.flush()
    return 201, revenue.to_api()


def list_revenue(ctx: RequestContext) -> Reply:
    """200 with a page of revenue events, newest first, optionally of one website."""
    query = ctx.scoped(Revenue)
    if (website_id := ctx.query.get("website_id")) is not None:
        query = query.where(Revenue.website_id == website_id)
    return 200, page(ctx, query.order_by(Revenue.timestamp.desc(), Revenue.id.desc()))


def get_revenue(ctx: RequestContext) -> Reply:
    """200 with the revenue event."""
    return 200, ctx.get(Revenue, ctx.path["revenue_id"], "revenue event").to_api()
