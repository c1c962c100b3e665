"""`contracts run` checks a server against the spec; `contracts rules` lists the rules.

Exit codes of `run`: 0 every rule holds, 1 a rule failed, 2 the run could not start (a
usage error, an unreachable server, a base URL that does not lead to the API, a refused
key: never a silent pass), 130 interrupted. The table, and the JUnit file when asked for,
are written in every case: rules not checked say why.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from contracts import junit, report
from contracts.account import KeyRejected, Misconfigured
from contracts.client import DEFAULT_TIMEOUT, Unreachable
from contracts.context import Rule
from contracts.outcome import Failure, Verdict
from contracts.profile import PROFILES
from contracts.rules import all_rules, select
from contracts.runner import Settings, prepare, run
from contracts.spec import DEFAULT_SPEC

USAGE_ERROR = 2
INTERRUPTED = 130


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="contracts", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    go = commands.add_parser("run", help="check a server against the spec")
    go.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8080/api/v1")
    go.add_argument("--key", help="key of the main company, full scopes (env CONTRACTS_KEY)")
    go.add_argument("--other-key", help="key of another company (env CONTRACTS_OTHER_KEY)")
    go.add_argument(
        "--extra-key",
        action="append",
        default=[],
        help="another key, e.g. read-only for the scope rule (repeatable)",
    )
    go.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the OpenAPI file")
    go.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    go.add_argument("--seed", type=int, default=0)
    go.add_argument("--junit", type=Path, help="write a JUnit XML report here")
    go.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"seconds one request may take before it fails its check ({DEFAULT_TIMEOUT:g})",
    )
    go.add_argument(
        "--only",
        nargs="+",
        action="extend",
        default=[],
        metavar="RULE",
        help="rule ids or families to check (default: all)",
    )
    go.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    commands.add_parser("rules", help="list every rule with its id and statement")
    return top


def settings_from(args: argparse.Namespace) -> Settings:
    """Run settings from the arguments; the keys may come from the environment."""
    key = args.key or os.environ.get("CONTRACTS_KEY")
    if not key:
        raise SystemExit("contracts: --key (or CONTRACTS_KEY) is required")
    return Settings(
        base_url=args.base_url,
        key=key,
        other_key=args.other_key or os.environ.get("CONTRACTS_OTHER_KEY"),
        extra_keys=args.extra_key,
        spec_path=args.spec,
        profile=args.profile,
        seed=args.seed,
        only=args.only,
        timeout=args.timeout,
    )


def list_rules() -> int:
    rules = all_rules()
    width = max(len(rule.id) for rule in rules)
    for rule in rules:
        print(f"{rule.id:<{width}}  {rule.statement}")
    return 0


def run_command(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        rules = select(settings.only)
    except KeyError as exc:
        print(f"contracts: unknown rule or family: {exc.args[0]}", file=sys.stderr)
        return USAGE_ERROR
    started = time.monotonic()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"  {time.monotonic() - started:6.1f}s  {message}", file=sys.stderr, flush=True)

    def finished(family: str, verdicts: dict[str, Verdict]) -> None:
        failed = sum(len(v.failures) for v in verdicts.values())
        passed = sum(v.passed for v in verdicts.values())
        progress(f"{family}: {passed} checks held, {failed} failed")

    print(
        f"contracts: {settings.base_url} (profile {settings.profile}, seed {settings.seed}, "
        f"{len(rules)} rules)",
        flush=True,
    )
    try:
        ctx = prepare(settings, progress)
    except (Unreachable, KeyRejected, Misconfigured) as exc:
        return not_started(args, rules, str(exc), USAGE_ERROR, started)
    except OSError as exc:  # the spec file
        reason = f"cannot read the spec: {exc} (pass --spec)"
        return not_started(args, rules, reason, USAGE_ERROR, started)
    except KeyboardInterrupt:
        return not_started(args, rules, "interrupted before the first rule", INTERRUPTED, started)
    result = run(ctx, rules, finished)
    secrets = ctx.secrets()
    print(
        report.render(
            result.verdicts,
            secrets,
            result.seconds,
            ctx.misconfigured,
            result.interrupted,
            ctx.notes,
        )
    )
    if args.junit:
        junit.write(args.junit, rules, result.verdicts, secrets, result.seconds)
    if result.interrupted:
        return INTERRUPTED
    return 1 if result.failed else 0


def not_started(
    args: argparse.Namespace, rules: list[Rule], reason: str, code: int, started: float
) -> int:
    """Say why the run could not start, and write the table and JUnit file saying so."""
    print(f"contracts: {reason}", file=sys.stderr)
    verdicts = {rule.id: Verdict(rule.id) for rule in rules}
    for verdict in verdicts.values():
        verdict.failures.append(Failure(verdict.rule_id, "run", "a run that can start", reason))
    seconds = time.monotonic() - started
    print(report.render(verdicts, {}, seconds, interrupted=code == INTERRUPTED))
    if args.junit:
        junit.write(args.junit, rules, verdicts, {}, seconds)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C ends a run with its partial report, even in a process started ignoring
        # SIGINT (a shell's background job, and so a CI step it starts).
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.command == "rules":
        return list_rules()
    return run_command(args)


if __name__ == "__main__":
    raise SystemExit(main())
