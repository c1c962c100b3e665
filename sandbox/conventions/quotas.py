"""Plan quotas counted per company and period: events per day, AI tokens per month.

Periods follow the company's test clock, so advancing it starts a new day or month.
Consumption is an atomic increment in the handler's transaction: a request that would
go over the quota is refused with 429 and its increment rolled back with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from sandbox.conventions.context import RequestContext
from sandbox.errors import RateLimited, detail
from sandbox.storage.base import upsert
from sandbox.storage.core import QuotaUsage


@dataclass(frozen=True)
class Quota:
    """A plan quota: the plan attribute holding its limit and how its period is named."""

    name: str
    plan_attribute: str
    period_format: str
    unit: str
    per: str


EVENTS_PER_DAY = Quota("events_per_day", "events_per_day", "%Y-%m-%d", "events", "day")
AI_TOKENS_PER_MONTH = Quota(
    "ai_tokens_per_month", "ai_tokens_per_month", "%Y-%m", "AI tokens", "month"
)


def _period(ctx: RequestContext, quota: Quota) -> str:
    return ctx.now.strftime(quota.period_format)


def used(ctx: RequestContext, quota: Quota) -> int:
    """How much of the quota the company has used in the current period."""
    value = ctx.session.scalar(
        select(QuotaUsage.used).where(
            QuotaUsage.company_id == ctx.company_id,
            QuotaUsage.quota == quota.name,
            QuotaUsage.period == _period(ctx, quota),
        )
    )
    return int(value or 0)


def limit(ctx: RequestContext, quota: Quota) -> int | None:
    """The plan's limit for the quota; None when unlimited."""
    return getattr(ctx.spec.plans[ctx.key.plan], quota.plan_attribute)


def consume(ctx: RequestContext, quota: Quota, amount: int) -> int:
    """Add `amount` to the period's usage and return the new total.

    Raises RateLimited naming the quota if the total would exceed the plan's limit.
    """
    statement = (
        upsert(ctx.session, QuotaUsage)
        .values(
            company_id=ctx.company_id, quota=quota.name, period=_period(ctx, quota), used=amount
        )
        .on_conflict_do_update(
            index_elements=[QuotaUsage.company_id, QuotaUsage.quota, QuotaUsage.period],
            set_={"used": QuotaUsage.used + amount},
        )
        .returning(QuotaUsage.used)
    )
    total = int(ctx.session.execute(statement).scalar_one())
    cap = limit(ctx, quota)
    if cap is not None and total > cap:
        already = total - amount
        seconds = _seconds_to_next_period(ctx, quota)
        raise RateLimited(
            f"Quota {quota.name} exceeded: the {ctx.key.plan} plan allows"
            f" {cap:,} {quota.unit} per "
            f"{quota.per}; {already:,} used, {amount:,} more requested",
            seconds,
            details=[detail(quota.name, "quota_exceeded", already + amount)],
        )
    return total


def _seconds_to_next_period(ctx: RequestContext, quota: Quota) -> int:
    now = ctx.now
    if quota.per == "day":
        nxt = now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() + 86_400
    else:
        year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
        nxt = now.replace(
            year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0
        ).timestamp()
    return max(1, int(nxt - now.timestamp()))


def events_today(ctx: RequestContext) -> int:
    return used(ctx, EVENTS_PER_DAY)


def ai_tokens_used(ctx: RequestContext) -> int:
    return used(ctx, AI_TOKENS_PER_MONTH)
