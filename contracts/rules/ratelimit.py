"""Rate limits: the three headers on every response, a falling count, and a 429 at the end.

The exhaustion check runs last in a run and spends the key with the smallest limit, so
that nothing else is throttled by it; a limit too large for the profile's budget (a
sandbox serving with limits lifted) is reported as skipped, never as passed.
"""

from __future__ import annotations

import time

from contracts.account import ACCOUNT_OPERATION
from contracts.client import Client
from contracts.context import Context, Keyed, Rule
from contracts.exchange import Exchange
from contracts.outcome import Verdict
from contracts.rules.envelope import envelope_problems
from contracts.rules.sampling import subject_of
from contracts.throttle import Throttle

RULES = (
    Rule(
        "ratelimit.headers",
        "Every response, errors too, carries integer X-RateLimit-Limit, -Remaining (0..Limit) "
        "and -Reset (epoch seconds).",
    ),
    Rule("ratelimit.remaining", "X-RateLimit-Remaining falls by one per request within a window."),
    Rule(
        "ratelimit.exceeded",
        "Past the limit a request is 429 rate_limit_exceeded with Retry-After (seconds) and "
        "Remaining 0.",
    ),
)
HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
ACCOUNT_LABEL = "GET /account"
SKEW = 24 * 3600  # server and kit clocks may differ; a Reset a day off is still not epoch


def header_problem(exchange: Exchange, now: float) -> str | None:
    """Why the rate-limit headers of `exchange` are wrong, or None."""
    values = {}
    for name in HEADERS:
        raw = exchange.header(name)
        if raw is None or not raw.strip().isdigit():
            return f"{name}: {raw!r} is not an integer"
        values[name] = int(raw)
    limit, remaining, reset = values.values()
    if not 0 <= remaining <= limit:
        return f"Remaining {remaining} outside 0..{limit}"
    if abs(reset - now) > SKEW:
        return f"Reset {reset} is not epoch seconds near {int(now)}"
    return None


def check(ctx: Context, verdicts: dict[str, Verdict]) -> None:
    if verdict := verdicts.get("ratelimit.remaining"):
        check_remaining(ctx, verdict)
    if verdict := verdicts.get("ratelimit.exceeded"):
        check_exceeded(ctx, verdict)
    if verdict := verdicts.get("ratelimit.headers"):
        now = time.time()
        for exchange in ctx.recorder.snapshot():
            problem = header_problem(exchange, now)
            verdict.expect(
                problem is None,
                subject_of(ctx.spec, exchange),
                "the three X-RateLimit-* headers",
                exchange,
                problem,
            )


def check_remaining(ctx: Context, verdict: Verdict) -> None:
    client = ctx.main.client
    answers = [_account(ctx, client) for _ in range(3)]
    for earlier, later in zip(answers, answers[1:], strict=False):
        if earlier.header("X-RateLimit-Reset") != later.header("X-RateLimit-Reset"):
            continue  # a new window began between the two
        before = earlier.header("X-RateLimit-Remaining") or ""
        after = later.header("X-RateLimit-Remaining") or ""
        verdict.expect(
            before.isdigit() and after.isdigit() and int(after) == int(before) - 1,
            ACCOUNT_LABEL,
            "Remaining one less on the next request",
            later,
            f"Remaining {before} then {after}",
        )


def check_exceeded(ctx: Context, verdict: Verdict) -> None:
    """Spend the smallest limit among the keys until a 429; judge that 429."""
    keyed = min(ctx.keys, key=lambda k: _limit(ctx, k) or 10**12)
    limit = _limit(ctx, keyed)
    if limit is None or limit + 2 > ctx.profile.exhaust_budget:
        verdict.skip(
            f"limit {limit} of {keyed.label} is beyond this profile's budget of "
            f"{ctx.profile.exhaust_budget} requests (limits lifted?)"
        )
        return
    client = Client(keyed.client.base_url, keyed.client.key, ctx.recorder, Throttle())
    client.throttle.enabled = False
    answer = None
    window, in_window = None, 0
    # A minute may end mid-way: count the requests of one window (its X-RateLimit-Reset).
    for _ in range(2 * (limit + 2)):
        answer = _account(ctx, client, wait_out_429=False)
        if answer.status == 429:
            break
        if answer.header("X-RateLimit-Reset") != window:
            window, in_window = answer.header("X-RateLimit-Reset"), 0
        in_window += 1
        if in_window >= limit + 2:
            break
    # The key's own throttle learns the window is spent, so later requests wait.
    keyed.client.throttle.observe(answer.headers if answer else {})
    if not verdict.expect(
        answer is not None and answer.status == 429,
        ACCOUNT_LABEL,
        f"429 within {limit + 2} requests of one window for a limit of {limit}",
        answer,
    ):
        return
    assert answer is not None
    retry_after = answer.header("Retry-After") or ""
    problems = envelope_problems(ctx.spec, answer)
    if not retry_after.isdigit() or int(retry_after) < 1:
        problems.append(f"Retry-After {retry_after!r} is not whole seconds >= 1")
    if answer.header("X-RateLimit-Remaining") != "0":
        problems.append(f"X-RateLimit-Remaining {answer.header('X-RateLimit-Remaining')!r}")
    verdict.expect(
        not problems,
        ACCOUNT_LABEL,
        "429 rate_limit_exceeded with Retry-After",
        answer,
        "; ".join(problems) or None,
    )


def _account(ctx: Context, client: Client, wait_out_429: bool = True) -> Exchange:
    op = ctx.spec.operation(ACCOUNT_OPERATION)
    return client.request(
        op.method, op.path, operation_id=op.operation_id, wait_out_429=wait_out_429
    )


def _limit(ctx: Context, keyed: Keyed) -> int | None:
    answer = _account(ctx, keyed.client)
    raw = answer.header("X-RateLimit-Limit")
    return int(raw) if raw and raw.isdigit() else None
