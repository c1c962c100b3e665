"""Dashboards: list, create, get, update (PATCH), delete; widgets hold metric queries."""

from __future__ import annotations

from typing import Any

from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import page
from sandbox.handlers.lookups import require_property
from sandbox.ids import new_id
from sandbox.storage.analytics import Dashboard


def _widgets(ctx: RequestContext) -> list[dict[str, Any]]:
    """The body's widgets with fresh `wgt_` ids; 400 if a non-count query lacks `property`."""
    widgets = []
    for index, widget in enumerate(ctx.body["widgets"]):
        query = widget["query"]
        require_property(query["metric"], query.get("property"), f"widgets[{index}].query.property")
        widgets.append({"id": new_id("wgt"), **widget})
    return widgets


def list_dashboards(ctx: RequestContext) -> Reply:
    """200 with a page of dashboards, newest first."""
    query = ctx.scoped(Dashboard).order_by(Dashboard.created_at.desc(), Dashboard.id.desc())
    return 200, page(ctx, query)


def create_dashboard(ctx: RequestContext) -> Reply:
    """201 with the new dashboard and its widgets."""
    widgets = _widgets(ctx) if "widgets" in ctx.body else []
    dashboard = Dashboard(
        id=new_id("dash"),
        name=ctx.body["name"],
        description=ctx.body.get("description"),
        widgets=widgets,
        updated_at=ctx.now,
        **ctx.tenancy(),
    )
    ctx.session.add(dashboard)
    ctx.session.flush()
    return 201, dashboard.to_api()


def get_dashboard(ctx: RequestContext) -> Reply:
    """200 with the dashboard."""
    return 200, ctx.get(Dashboard, ctx.path["dashboard_id"], "dashboard").to_api()


def update_dashboard(ctx: RequestContext) -> Reply:
    """200 with the dashboard after changing the fields given; `widgets` replaces them all."""
    dashboard = ctx.get(Dashboard, ctx.path["dashboard_id"], "dashboard")
    if "widgets" in ctx.body:
        dashboard.widgets = _widgets(ctx)
    ctx.update_from_body(dashboard, ("name", "description"))
    dashboard.updated_at = ctx.now
    return 200, dashboard.to_api()


def delete_dashboard(ctx: RequestContext) -> Reply:
    """204 once the dashboard and its widgets are deleted."""
    ctx.session.delete(ctx.get(Dashboard, ctx.path["dashboard_id"], "dashboard"))
    return 204, None
