"""What the given keys cannot check, found before any rule runs and said plainly.

A run with the wrong keys must not pass or skip quietly. A main key that can write
nothing (read-only, or without any scope the spec needs), or an `--other-key` of the
main key's own company, blocks the rule families that need what is missing: each of
their rules fails with the reason. A main key that lacks only some scopes is named too,
and the rules run: the operations it cannot call fail their checks with the server's 403.
"""

from __future__ import annotations

from contracts.context import Context

# Families that create resources with the main key, so need every scope the spec's
# operations ask for. The others (auth, envelope, ratelimit) run with any valid key.
FULL_KEY_FAMILIES = (
    "deprecation",
    "idempotency",
    "isolation",
    "lifecycle",
    "pagination",
    "metering",
    "conformance",
)
WRITE = ":write"


def misconfiguration(ctx: Context, other_key_given: bool) -> tuple[dict[str, str], list[str]]:
    """(rule family -> why the keys cannot run it, every problem with the keys in words)."""
    blocked: dict[str, str] = {}
    said: list[str] = []
    if missing := missing_scopes(ctx):
        reason = main_key_problem(ctx, missing)
        said.append(reason)
        if not any(scope.endswith(WRITE) for scope in ctx.main.account.scopes):
            blocked.update(dict.fromkeys(FULL_KEY_FAMILIES, reason))
    if other_key_given and ctx.other is None:
        reason = (
            f"--other-key belongs to company {ctx.main.account.company_id}, the same as "
            "--key: the isolation rules need a key of another company"
        )
        said.append(reason)
        blocked.setdefault("isolation", reason)
    return blocked, said


def missing_scopes(ctx: Context) -> list[str]:
    """The scopes the spec's operations require that the main key lacks, sorted."""
    needed = {scope for op in ctx.spec.contract for scope in op.scopes}
    return sorted(needed - ctx.main.account.scopes)


def main_key_problem(ctx: Context, missing: list[str]) -> str:
    """The main key's shortfall in words: read-only, narrow, or without any needed scope."""
    has = sorted(ctx.main.account.scopes)
    listed = ", ".join(missing)
    if not has:
        return f"--key has no scope at all; the spec's operations need {listed}"
    if all(scope.endswith(WRITE) for scope in missing) and not any(
        scope.endswith(WRITE) for scope in has
    ):
        return (
            f"--key is read-only (it lacks {listed}): give a full-access key as --key, "
            "and a read-only one with --extra-key"
        )
    return (
        f"--key lacks {listed}, which operations of the spec need (their checks fail with "
        "403): give a full-access key"
    )
