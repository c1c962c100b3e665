"""`sandbox serve | deliver | keys | reset | docs build | listen | trigger`: the command line."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import exc, make_url

from sandbox.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_SEED,
    DEFAULT_THREADS,
    DEFAULT_WORKERS,
    SandboxConfig,
    cors_origins,
)
from sandbox.keys import fixture_keys, print_keys
from sandbox.storage.database import Database, normalize_url
from sandbox.tool_commands import add_devtools

PACKAGE = "platform-sandbox"


def version() -> str:
    """The installed package's version ("unknown" when run from a bare checkout)."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def check_database_url(url: str) -> None:
    """SystemExit with one line if `url` is no database URL SQLAlchemy can load a driver for."""
    if url != ":memory:" and "://" not in url:
        raise SystemExit(
            f"--db {url} is not a database URL: write sqlite:///{url} for a SQLite file, "
            "postgresql://user@host/name for PostgreSQL, or :memory:"
        )
    try:
        parsed = make_url(normalize_url(url))
    except (exc.ArgumentError, ValueError) as error:
        # Not echoed: a URL that does not parse may still hold a password.
        raise SystemExit(f"--db is not a valid database URL: {error}") from None
    try:
        parsed.get_dialect().import_dbapi()
    except (exc.NoSuchModuleError, ImportError) as error:
        shown = parsed.render_as_string(hide_password=True)
        raise SystemExit(f"--db {shown}: no driver for this database: {error}") from None


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turns a database that cannot be opened or reached into one line and SystemExit.

    Only connection-level failures (OperationalError, InterfaceError): any other
    database error is a bug and keeps its traceback.
    """
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        shown = make_url(normalize_url(url)).render_as_string(hide_password=True)
        raise SystemExit(f"Cannot open the database {shown}: {reason}") from None


def _open(db_url: str, seed: int) -> Database:
    from sandbox.fixtures import seed_if_empty
    from sandbox.spec import load_spec

    database = Database(db_url)
    database.create_schema()
    seed_if_empty(database, seed, load_spec())
    return database


def cmd_serve(args: argparse.Namespace) -> int:
    from sandbox.domain.targets import TargetPolicy
    from sandbox.http.server import serve

    try:
        origins = cors_origins(args.cors_origins) if args.cors_origins else None
    except ValueError as error:
        raise SystemExit(f"Cannot serve: --cors-origins: {error}") from None
    config = SandboxConfig.from_env(
        database_url=args.db,
        seed=args.seed,
        strict_responses=args.strict or None,
        rate_limit_scale=args.rate_limit_scale,
        webhook_allow=tuple(args.webhook_allow) if args.webhook_allow else None,
        cors_origins=origins,
    )
    try:
        TargetPolicy.from_entries(config.webhook_allow)
    except ValueError as error:
        raise SystemExit(f"Cannot serve: webhook allow list: {error}") from None
    return serve(
        config,
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        quiet=args.quiet,
    )


def cmd_deliver(args: argparse.Namespace) -> int:
    from sandbox.delivery_process import deliver

    config = SandboxConfig.from_env(
        database_url=args.db,
        spec_path=Path(args.spec) if args.spec else None,
        webhook_poll_seconds=args.poll_seconds,
        webhook_allow=tuple(args.webhook_allow) if args.webhook_allow else None,
    )
    return deliver(config)


def cmd_keys(args: argparse.Namespace) -> int:
    keys = fixture_keys(_open(args.db, args.seed))
    if args.json:
        json.dump(keys, sys.stdout, indent=2)
        print()
    else:
        print_keys(keys)
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    from sandbox.fixtures import clear_all, seed_all
    from sandbox.spec import load_spec

    database = Database(args.db)
    try:
        database.create_schema()
        with database.session() as session:
            clear_all(session)
            seed_all(session, args.seed, load_spec())
        print(f"Reset {database.url} to the fixtures of seed {args.seed}.")
        print_keys(fixture_keys(database))
    finally:
        database.dispose()
    return 0


def cmd_docs_build(args: argparse.Namespace) -> int:
    from sandbox import docs
    from sandbox.spec import SPEC_PATH

    written = docs.build(
        Path(args.spec or SPEC_PATH), Path(args.output), base_url=args.base_url, seed=args.seed
    )
    for path in written:
        print(path)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="sandbox", description="The Platform API sandbox.")
    root.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = root.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db",
            default=DEFAULT_DATABASE_URL,
            help="SQLAlchemy URL, or :memory: for a database that lives as long as the "
            "command (default: %(default)s)",
        )
        p.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="fixture seed (default: %(default)s)"
        )

    serve = commands.add_parser("serve", help="serve the API with a production WSGI server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    with_db(serve)
    serve.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help="worker processes (default: %(default)s)",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help="threads per worker (default: %(default)s; more suit a server database)",
    )
    serve.add_argument(
        "--strict", action="store_true", help="validate every response against the spec"
    )
    serve.add_argument(
        "--quiet",
        action="store_true",
        help="print no line per request (time, method, path, status, duration, request id)",
    )
    serve.add_argument(
        "--rate-limit-scale",
        type=float,
        default=None,
        help="multiply every plan's requests/minute; 0 lifts rate limits (default: 1)",
    )
    serve.add_argument(
        "--webhook-allow",
        nargs="+",
        metavar="CIDR_OR_HOST",
        default=None,
        help="deliver webhooks only to these hosts or to names resolving into these networks "
        "(a shared host; default: anywhere but link-local; env SANDBOX_WEBHOOK_ALLOW)",
    )
    serve.add_argument(
        "--cors-origins",
        nargs="+",
        metavar="ORIGIN",
        default=None,
        help="let browser apps on only these origins call the API, or none to turn CORS off "
        "(default: any origin; env SANDBOX_CORS_ORIGINS, comma-separated)",
    )
    serve.set_defaults(func=cmd_serve)

    deliver = commands.add_parser(
        "deliver", help="deliver webhooks from the database's outbox (serve starts one)"
    )
    deliver.add_argument("--db", default=DEFAULT_DATABASE_URL, help="SQLAlchemy URL")
    deliver.add_argument("--spec", default=None, help=argparse.SUPPRESS)
    deliver.add_argument(
        "--poll-seconds", type=float, default=None, help="how often the outbox is read"
    )
    deliver.add_argument(
        "--webhook-allow", nargs="+", metavar="CIDR_OR_HOST", default=None,
        help="as for serve (env SANDBOX_WEBHOOK_ALLOW)",
    )  # fmt: skip
    deliver.set_defaults(func=cmd_deliver)

    keys = commands.add_parser("keys", help="print the test keys")
    with_db(keys)
    keys.add_argument(
        "--json", action="store_true", help="a JSON list of {key, company_id, plan, scopes, …}"
    )
    keys.set_defaults(func=cmd_keys)

    reset = commands.add_parser("reset", help="put the database back to the seeded state")
    with_db(reset)
    reset.set_defaults(func=cmd_reset)

    docs = commands.add_parser("docs", help="the API reference")
    docs_commands = docs.add_subparsers(dest="docs_command", required=True)
    build = docs_commands.add_parser(
        "build", help="write the reference as static HTML and Markdown"
    )
    build.add_argument("-o", "--output", required=True, help="output directory")
    build.add_argument(
        "--spec", default=None, help="spec file (default: the project's openapi.yaml)"
    )
    build.add_argument(
        "--base-url", default="http://127.0.0.1:8080/api/v1", help="base URL in examples"
    )
    build.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help="examples use the ids a fresh sandbox of this seed has (default: %(default)s)",
    )
    build.set_defaults(func=cmd_docs_build)
    add_devtools(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `sandbox` command."""
    args = parser().parse_args(argv)
    db_url = getattr(args, "db", None)
    if db_url is None:
        return int(args.func(args) or 0)
    check_database_url(db_url)
    with database_errors(db_url):
        return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
