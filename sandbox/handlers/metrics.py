"""Metrics: count, sum, avg, min and max of events, bucketed by hour, day, week or month."""

from __future__ import annotations

from sandbox.conventions.context import Reply, RequestContext
from sandbox.domain.metrics import MetricQuery, compute, label, time_range
from sandbox.handlers.lookups import require_property
from sandbox.storage.analytics import micros
from sandbox.storage.base import iso


def query_metrics(ctx: RequestContext) -> Reply:
    """200 with one point per bucket of [from, to) and the metric over the whole range.

    400 without `property` for sum/avg/min/max; 422 if `from` is after `to` or the range
    holds more than 1,000 buckets. `property` is ignored (and answered null) for count.
    """
    metric, interval = ctx.query["metric"], ctx.query["interval"]
    require_property(metric, ctx.query.get("property"))
    prop = ctx.query.get("property") if metric != "count" else None
    start, end = time_range(ctx.query, ctx.now)
    points, total = compute(
        ctx.session,
        MetricQuery(
            company_id=ctx.company_id,
            business_id=ctx.business.id,
            event=ctx.query["event"],
            metric=metric,
            property=prop,
            interval=interval,
            start=micros(start),
            end=micros(end),
            website_id=ctx.query.get("website_id"),
        ),
    )
    return 200, {
        "event": ctx.query["event"],
        "metric": metric,
        "property": prop,
        "interval": interval,
        "from": iso(start),
        "to": iso(end),
        "data": [{"date": label(key, interval), "value": value} for key, value in points],
        "total": total,
    }
