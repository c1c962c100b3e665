"""Sandbox controls (x-sandbox-only): reset and the test clock."""

from __future__ import annotations

from datetime import datetime

from sandbox import fixtures
from sandbox.conventions import clock
from sandbox.conventions.context import Reply, RequestContext
from sandbox.errors import ValidationFailed, detail
from sandbox.storage.base import iso


def reset_sandbox(ctx: RequestContext) -> Reply:
    """200 once the company's data is back to its seeded state and its clock to real time."""
    seed = (
        ctx.body.get("seed", ctx.settings.get("seed", 0))
        if ctx.body
        else ctx.settings.get("seed", 0)
    )
    fixtures.reset_company(ctx.session, ctx.company, seed, ctx.spec)
    return 200, {
        "company_id": ctx.company_id,
        "seed": seed,
        "reset_at": iso(clock.now_for(ctx.company)),
    }


def _clock(ctx: RequestContext) -> dict[str, object]:
    return {
        "now": iso(clock.now_for(ctx.company)),
        "offset_seconds": ctx.company.clock_offset_seconds or 0,
    }


def get_test_clock(ctx: RequestContext) -> Reply:
    """200 with the company's test-clock time."""
    return 200, _clock(ctx)


def advance_test_clock(ctx: RequestContext) -> Reply:
    """200 with the clock moved forward by `seconds`, `days`, or to `to` (never backwards)."""
    body = ctx.body
    if "seconds" in body:
        seconds = body["seconds"]
    elif "days" in body:
        seconds = body["days"] * 86_400
    else:
        target = datetime.fromisoformat(body["to"].replace("Z", "+00:00"))
        seconds = int((target - ctx.now).total_seconds())
        if seconds <= 0:
            raise ValidationFailed(
                "Field 'to' must be after the clock's now; the test clock never goes back",
                details=[detail("to", "must_be_in_the_future", body["to"])],
            )
    clock.advance(ctx.company, seconds)
    ctx.now = clock.now_for(ctx.company)
    return 200, _clock(ctx)
