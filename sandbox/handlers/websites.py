"""Websites: list, create, get, replace (PUT); their conversion events; the analytics summary."""

from __future__ import annotations

from sqlalchemy import case, distinct, func, select

from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import page
from sandbox.domain.metrics import time_range
from sandbox.errors import Conflict, ValidationFailed, detail
from sandbox.ids import new_id
from sandbox.storage.analytics import ConversionEvent, Event, Revenue, Website, micros
from sandbox.storage.base import iso

PAGEVIEWS = ("pageview", "page_view")
FIELDS = ("name", "domain", "currency")


def list_websites(ctx: RequestContext) -> Reply:
    """200 with a page of websites, newest first."""
    return 200, page(
        ctx, ctx.scoped(Website).order_by(Website.created_at.desc(), Website.id.desc())
    )


def create_website(ctx: RequestContext) -> Reply:
    """201 with the new website (currency USD unless given)."""
    website = Website(id=new_id("web"), updated_at=ctx.now, **ctx.tenancy())
    for name in FIELDS:
        setattr(website, name, ctx.body[name])
    ctx.session.add(website)
    ctx.session.flush()
    return 201, website.to_api()


def get_website(ctx: RequestContext) -> Reply:
    """200 with the website."""
    return 200, ctx.get(Website, ctx.path["website_id"], "website").to_api()


def update_website(ctx: RequestContext) -> Reply:
    """200 with the website's fields replaced (absent currency: USD).

    422 if the currency would change while revenue is recorded in the old one.
    """
    website = ctx.get(Website, ctx.path["website_id"], "website")
    currency = ctx.body["currency"]
    if currency != website.currency and ctx.session.scalar(
        select(Revenue.id).where(Revenue.website_id == website.id).limit(1)
    ):
        raise ValidationFailed(
            f"Website {website.id} has revenue in {website.currency}; its currency cannot change",
            details=[detail("currency", "currency_locked", currency)],
        )
    for name in FIELDS:
        setattr(website, name, ctx.body[name])
    website.updated_at = ctx.now
    return 200, website.to_api()


def list_conversion_events(ctx: RequestContext) -> Reply:
    """200 with a page of the website's conversion events, newest first."""
    website = ctx.get(Website, ctx.path["website_id"], "website")
    query = ctx.scoped(ConversionEvent).where(ConversionEvent.website_id == website.id)
    return 200, page(
        ctx, query.order_by(ConversionEvent.created_at.desc(), ConversionEvent.id.desc())
    )


def create_conversion_event(ctx: RequestContext) -> Reply:
    """201 with the new conversion event; 409 if the website already has one for `event_name`."""
    website = ctx.get(Website, ctx.path["website_id"], "website")
    event_name = ctx.body["event_name"]
    taken = ctx.session.scalar(
        select(ConversionEvent.id).where(
            ConversionEvent.website_id == website.id, ConversionEvent.event_name == event_name
        )
    )
    if taken:
        raise Conflict(
            f"Website {website.id} already counts {event_name!r} as a conversion ({taken})"
        )
    conversion = ConversionEvent(
        id=new_id("cev"),
        website_id=website.id,
        name=ctx.body["name"],
        event_name=event_name,
        **ctx.tenancy(),
    )
    ctx.session.add(conversion)
    ctx.session.flush()
    return 201, conversion.to_api()


def get_analytics_summary(ctx: RequestContext) -> Reply:
    """200 with the website's visitors, pageviews, conversions and revenue over [from, to)."""
    website = ctx.get(Website, ctx.query["website_id"], "website")
    start, end = time_range(ctx.query, ctx.now)
    goals = ctx.session.scalars(
        select(ConversionEvent.event_name).where(ConversionEvent.website_id == website.id)
    ).all()
    visitors, pageviews, conversions = ctx.session.execute(
        select(
            func.count(distinct(Event.visitor_id)),
            func.sum(case((Event.event.in_(PAGEVIEWS), 1), else_=0)),
            func.sum(case((Event.event.in_(goals), 1), else_=0)),
        ).where(
            Event.company_id == ctx.company_id,
            Event.business_id == ctx.business.id,
            Event.website_id == website.id,
            Event.ts >= micros(start),
            Event.ts < micros(end),
        )
    ).one()
    revenue = ctx.session.scalar(
        select(func.coalesce(func.sum(Revenue.amount), 0)).where(
            Revenue.website_id == website.id,
            Revenue.currency == website.currency,
            Revenue.timestamp >= start,
            Revenue.timestamp < end,
        )
    )
    return 200, {
        "website_id": website.id,
        "from": iso(start),
        "to": iso(end),
        "visitors": int(visitors or 0),
        "pageviews": int(pageviews or 0),
        "conversions": int(conversions or 0),
        "revenue": {"amount": int(revenue or 0), "currency": website.currency},
    }
