"""Account: the company, plan, business and key behind the API key."""

from __future__ import annotations

from sqlalchemy import select

from sandbox.conventions import quotas
from sandbox.conventions.context import Reply, RequestContext
from sandbox.storage.base import iso
from sandbox.storage.core import Business


def get_account(ctx: RequestContext) -> Reply:
    """200 with the account of the key's company."""
    plan = ctx.spec.plans[ctx.key.plan]
    businesses = ctx.session.scalars(
        select(Business)
        .where(Business.company_id == ctx.company_id)
        .order_by(Business.primary.desc(), Business.id)
    ).all()
    return 200, {
        "company_id": ctx.company_id,
        "company_name": ctx.company.name,
        "plan": plan.name,
        "business": ctx.business.to_api(),
        "businesses": [b.to_api() for b in businesses],
        "key": {
            "id": ctx.key.id,
            "prefix": ctx.key.prefix,
            "mode": "test",
            "scopes": list(ctx.key.scopes),
        },
        "limits": {
            "requests_per_minute": plan.requests_per_minute,
            "ai_tokens_per_month": plan.ai_tokens_per_month,
            "events_per_day": plan.events_per_day,
        },
        "usage": {
            "ai_tokens_this_month": quotas.ai_tokens_used(ctx),
            "events_today": quotas.events_today(ctx),
        },
        "now": iso(ctx.now),
    }
