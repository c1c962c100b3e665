"""What a person reads: a table of rules, then each failure with a curl reproduction.

Failures that share a rule, subject and expectation are shown once with a count, so a
fault that shows on every response reads as one line, not a thousand.
"""

from __future__ import annotations

from collections import defaultdict

from contracts.outcome import Failure, Verdict

MAX_GROUPS_PER_RULE = 12


def table(verdicts: dict[str, Verdict]) -> str:
    """One row per rule: status, checks passed, failures, and the rule's time."""
    width = max([len(rule_id) for rule_id in verdicts] + [4])
    lines = [f"{'rule':<{width}}  status  passed  failed  seconds"]
    for rule_id, verdict in verdicts.items():
        lines.append(
            f"{rule_id:<{width}}  {verdict.status:<6}  {verdict.passed:>6}  "
            f"{len(verdict.failures):>6}  {verdict.seconds:>7.1f}"
        )
    return "\n".join(lines)


def grouped(failures: list[Failure]) -> list[tuple[Failure, int]]:
    """(first failure, how many) for each (subject, expected) group, in order of appearance."""
    groups: dict[tuple[str, str], list[Failure]] = defaultdict(list)
    for failure in failures:
        groups[(failure.subject, failure.expected)].append(failure)
    return [(members[0], len(members)) for members in groups.values()]


def describe(failure: Failure, count: int, secrets: dict[str, str]) -> str:
    """A failure as a block: rule and subject, expected, got, and how to reproduce it."""
    lines = [
        f"[{failure.rule_id}] {failure.subject}",
        f"  expected: {failure.expected}",
        f"  got:      {failure.got}",
    ]
    if count > 1:
        lines.append(f"  ({count - 1} more like this)")
    curl = failure.curl or (failure.exchange.curl(secrets) if failure.exchange else None)
    if curl:
        lines.append(f"  reproduce: {curl}")
    return "\n".join(lines)


def failures_section(verdicts: dict[str, Verdict], secrets: dict[str, str]) -> str:
    blocks = []
    for verdict in verdicts.values():
        groups = grouped(verdict.failures)
        for failure, count in groups[:MAX_GROUPS_PER_RULE]:
            blocks.append(describe(failure, count, secrets))
        if len(groups) > MAX_GROUPS_PER_RULE:
            blocks.append(
                f"[{verdict.rule_id}] … and {len(groups) - MAX_GROUPS_PER_RULE} more "
                "kinds of failure (see the JUnit report)"
            )
    return "\n\n".join(blocks)


def skips_section(verdicts: dict[str, Verdict]) -> str:
    return "\n".join(f"  {v.rule_id}: {reason}" for v in verdicts.values() for reason in v.skips)


def render(
    verdicts: dict[str, Verdict],
    secrets: dict[str, str],
    seconds: float,
    misconfigured: list[str] | None = None,
    interrupted: bool = False,
    notes: list[str] | None = None,
) -> str:
    """The whole report: what the keys could not run, table, failures, skips, notes on
    the run's coverage, one-line result (saying so when the run was interrupted)."""
    parts = []
    if misconfigured:
        parts.append("MISCONFIGURED\n" + "\n".join(f"  {reason}" for reason in misconfigured))
    if interrupted:
        parts.append("INTERRUPTED: a partial report (rules not reached are marked not run)")
    parts.append(table(verdicts))
    failed = [v for v in verdicts.values() if v.failures]
    if failed:
        variables = " ".join(f"{name}=…" for name in secrets)
        parts.append(f"FAILURES (the curl commands read the keys from: {variables})")
        parts.append(failures_section(verdicts, secrets))
    if skips := skips_section(verdicts):
        parts += ["NOT CHECKED", skips]
    if notes:
        parts += ["COVERAGE", "\n".join(f"  {note}" for note in notes)]
    total = sum(len(v.failures) for v in failed)
    parts.append(
        f"{len(failed)} of {len(verdicts)} rules failed ({total} failures) in {seconds:.1f}s"
        if failed
        else f"all {len(verdicts)} rules hold ({sum(v.passed for v in verdicts.values())} checks)"
        f" in {seconds:.1f}s"
    )
    return "\n\n".join(parts)
