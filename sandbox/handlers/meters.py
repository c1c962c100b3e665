"""Meters: list, create, get, update (name and description only)."""

from __future__ import annotations

from sandbox.conventions.context import Reply, RequestContext
from sandbox.handlers.lookups import newest_first
from sandbox.ids import new_id
from sandbox.storage.metering import Meter


def list_meters(ctx: RequestContext) -> Reply:
    """200 with a page of meters, newest first."""
    return newest_first(ctx, Meter)


def create_meter(ctx: RequestContext) -> Reply:
    """201 with the new meter (aggregation `sum` unless given)."""
    meter = Meter(
        id=new_id("mtr"),
        name=ctx.body["name"],
        event_name=ctx.body["event_name"],
        aggregation=ctx.body["aggregation"],
        description=ctx.body.get("description"),
        updated_at=ctx.now,
        **ctx.tenancy(),
    )
    ctx.session.add(meter)
    ctx.session.flush()
    return 201, meter.to_api()


def get_meter(ctx: RequestContext) -> Reply:
    """200 with the meter."""
    return 200, ctx.get(Meter, ctx.path["meter_id"], "meter").to_api()


def update_meter(ctx: RequestContext) -> Reply:
    """200 with the meter after changing its name or description."""
    meter = ctx.get(Meter, ctx.path["meter_id"], "meter")
    ctx.update_from_body(meter, ("name", "description"))
    meter.updated_at = ctx.now
    return 200, meter.to_api()
