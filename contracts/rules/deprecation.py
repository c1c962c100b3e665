"""Deprecated operations announce it: `Deprecation` and `Sunset` headers, six months apart."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from contracts.context import Context, Rule
from contracts.factory import SetupError
from contracts.outcome import Verdict

RULES = (
    Rule(
        "deprecation.headers",
        "A deprecated operation answers with Deprecation (@epoch) and Sunset (HTTP-date) headers, "
        "the Sunset at least 6 months after the deprecation and on the dates the spec gives.",
    ),
)
DEPRECATION = re.compile(r"^@(\d+)$")
SIX_MONTHS = timedelta(days=182)


def check(ctx: Context, verdicts: dict[str, Verdict]) -> None:
    """Call each deprecated operation with its example and read the two headers."""
    verdict = verdicts["deprecation.headers"]
    if not ctx.spec.deprecated:
        verdict.skip("the spec marks no operation deprecated")
    for op in ctx.spec.deprecated:
        try:
            answer = ctx.main.factory.send(op)
        except SetupError as exc:
            verdict.expect(False, op.label, "a resource made from the spec's example", exc.exchange)
            continue
        if not verdict.expect(answer.ok, op.label, "2xx for the spec's example", answer):
            continue
        problems = header_problems(answer.header("Deprecation"), answer.header("Sunset"), op.raw)
        verdict.expect(
            not problems, op.label, "Deprecation and Sunset headers", answer, "; ".join(problems)
        )


def header_problems(deprecation: str | None, sunset: str | None, raw: dict) -> list[str]:
    """What is wrong with the two headers of a deprecated operation's response."""
    problems = []
    match = DEPRECATION.match(deprecation or "")
    if not match:
        problems.append(f"Deprecation {deprecation!r} is not @<epoch seconds>")
    try:
        sunset_at = parsedate_to_datetime(sunset or "")
    except (TypeError, ValueError):
        return [*problems, f"Sunset {sunset!r} is not an HTTP-date"]
    if sunset_at.tzinfo is None:
        sunset_at = sunset_at.replace(tzinfo=UTC)
    if match:
        deprecated_at = datetime.fromtimestamp(int(match.group(1)), UTC)
        if sunset_at - deprecated_at < SIX_MONTHS:
            problems.append(f"Sunset {sunset} is less than 6 months after {deprecated_at:%Y-%m-%d}")
        if "x-deprecated-at" in raw and f"{deprecated_at:%Y-%m-%d}" != str(raw["x-deprecated-at"]):
            problems.append(
                f"Deprecation is {deprecated_at:%Y-%m-%d}, the spec says {raw['x-deprecated-at']}"
            )
    if "x-sunset" in raw and f"{sunset_at:%Y-%m-%d}" != str(raw["x-sunset"]):
        problems.append(f"Sunset is {sunset_at:%Y-%m-%d}, the spec says {raw['x-sunset']}")
    return problems
