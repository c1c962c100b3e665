"""CRM deals: list, create, get, update, delete."""

from __future__ import annotations

from datetime import date
from typing import Any

from sandbox.conventions.context import Reply, RequestContext
from sandbox.handlers.lookups import newest_first, require_contact
from sandbox.ids import new_id
from sandbox.storage.crm import Deal

FIELDS = ("title", "stage", "amount", "currency", "contact_id")


def _given(ctx: RequestContext) -> dict[str, Any]:
    values = ctx.given(FIELDS)
    if "expected_close_date" in ctx.body:  # null clears it
        close = ctx.body["expected_close_date"]
        values["expected_close_date"] = None if close is None else date.fromisoformat(close)
    return values


def list_deals(ctx: RequestContext) -> Reply:
    """200 with a page of deals, newest first, filtered by stage or contact."""
    return newest_first(ctx, Deal, "stage", "contact_id")


def create_deal(ctx: RequestContext) -> Reply:
    """201 with the new deal; 422 if the contact is not in the business. Sends deal.created."""
    require_contact(ctx, ctx.body["contact_id"])
    values = {"amount": None, "expected_close_date": None, **_given(ctx)}
    deal = ctx.insert(Deal, id=new_id("deal"), updated_at=ctx.now, **ctx.tenancy(), **values)
    data = Deal.to_api(deal)
    ctx.emit("deal.created", data)
    return 201, data


def get_deal(ctx: RequestContext) -> Reply:
    """200 with the deal."""
    return 200, ctx.get(Deal, ctx.path["deal_id"], "deal").to_api()


def update_deal(ctx: RequestContext) -> Reply:
    """200 with the deal after the change; a stage change sends deal.stage_changed."""
    deal = ctx.get(Deal, ctx.path["deal_id"], "deal")
    if "contact_id" in ctx.body:
        require_contact(ctx, ctx.body["contact_id"])
    previous = deal.stage
    for name, value in _given(ctx).items():
        setattr(deal, name, value)
    deal.updated_at = ctx.now
    if deal.stage != previous:
        ctx.emit("deal.stage_changed", {**deal.to_api(), "previous_stage": previous})
    return 200, deal.to_api()


def delete_deal(ctx: RequestContext) -> Reply:
    """204 once the deal is deleted."""
    ctx.session.delete(ctx.get(Deal, ctx.path["deal_id"], "deal"))
    return 204, None
