"""`sandbox listen | trigger`: the commands that drive a running sandbox over HTTP.

The tools themselves are in sandbox/devtools/; this module reads their options and, for
the default key, the sandbox's own database (which the devtools never open).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url

from sandbox.config import DEFAULT_DATABASE_URL
from sandbox.keys import fixture_keys
from sandbox.storage.database import Database, normalize_url

# Where `sandbox serve` listens by default (its --host and --port), which `listen` and
# `trigger` talk to unless given --base-url.
LOCAL_SANDBOX = "http://127.0.0.1:8080"
NO_DEFAULT_KEY = (
    "No key: pass --key, export SANDBOX_KEY=… (serve's banner prints the line), or run "
    "this where `sandbox serve` keeps its database ({db} was not found)"
)


def devtools_key(args: argparse.Namespace) -> str:
    """--key, else $SANDBOX_KEY, else the key `serve`'s banner exports, read from the
    sandbox's database (--db, by default ./sandbox.db). SystemExit if none is found."""
    from sandbox.config import key_from_env
    from sandbox.keys import exported_key

    if args.key:
        return str(args.key)
    if from_env := key_from_env():
        return from_env
    url = make_url(normalize_url(args.db))
    database_file = url.database or ":memory:"
    if url.get_backend_name() == "sqlite" and (
        database_file == ":memory:" or not Path(database_file).is_file()
    ):
        raise SystemExit(NO_DEFAULT_KEY.format(db=args.db))
    database = Database(args.db)
    try:
        chosen = exported_key(fixture_keys(database))
    finally:
        database.dispose()
    if chosen is None:
        raise SystemExit(NO_DEFAULT_KEY.format(db=args.db))
    return str(chosen["key"])


def devtools_base_url(args: argparse.Namespace) -> str:
    """--base-url, else the local sandbox's (the spec's base path on serve's default port)."""
    from sandbox.spec import load_spec

    url = str(args.base_url or LOCAL_SANDBOX + load_spec().base_path)
    if not url.startswith(("http://", "https://")):
        raise SystemExit(f"--base-url {url} is not an http:// or https:// URL")
    return url.rstrip("/")


@contextmanager
def interrupted_by_sigterm() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt inside the block (a clean stop), SIGINT
    even when this process was started ignoring it (as a shell's background job is)."""
    import signal

    def interrupt(_signal: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def cmd_listen(args: argparse.Namespace) -> int:
    from sandbox.devtools.client import Client
    from sandbox.devtools.listen import Forwarder, Listener, ListenFailed, listen_secret
    from sandbox.spec import load_spec

    spec = load_spec()
    if not args.forward_to.startswith(("http://", "https://")):
        raise SystemExit(f"--forward-to {args.forward_to} is not an http:// or https:// URL")
    types = [t.strip() for t in (args.events or "").split(",") if t.strip()]
    if unknown := sorted(set(types) - set(spec.raw["webhooks"])):
        known = ", ".join(spec.raw["webhooks"])
        raise SystemExit(f"--events: no event type {', '.join(unknown)}; the types: {known}")
    base_url, key = devtools_base_url(args), devtools_key(args)
    secret = listen_secret(key)
    forwarder = Forwarder(args.forward_to, secret, float(spec.test_mode["webhook_timeout_seconds"]))
    listener = Listener(Client(base_url, key), spec, forwarder, types=types, out=sys.stdout)
    with interrupted_by_sigterm():
        try:
            print(f"Listening to {base_url}: {', '.join(types) or 'every event type'}")
            print(f"Forwarding to {args.forward_to}, one attempt per event")
            print(f"Signing secret: {secret} (derived from the key: the same on every run)")
            sys.stdout.flush()
            listener.run()
        except KeyboardInterrupt:
            print("Stopped.", flush=True)
            return 0
        except ListenFailed as failure:
            raise SystemExit(f"sandbox listen: {failure}") from None
    return 0


def cmd_trigger(args: argparse.Namespace) -> int:
    from sandbox.devtools.client import Client
    from sandbox.devtools.recipes import RECIPES
    from sandbox.devtools.trigger import (
        Trigger,
        TriggerFailed,
        overrides,
        parse_setting,
        recipe_for,
    )
    from sandbox.spec import load_spec

    if args.list:
        for recipe in RECIPES.values():
            print(f"{recipe.event:<20} {recipe.description}")
        return 0
    if not args.event:
        raise SystemExit("sandbox trigger: name an EVENT (sandbox trigger --list shows them)")
    spec = load_spec()
    try:
        recipe = recipe_for(args.event)
        settings = [parse_setting(text, recipe) for text in args.set]
        overrides(spec, recipe, settings)  # an unknown field is refused before any request
        client = Client(devtools_base_url(args), devtools_key(args))
        Trigger(client, spec, sys.stdout).run(recipe, settings)
    except TriggerFailed as failure:
        raise SystemExit(f"sandbox trigger: {failure}") from None
    return 0


def add_devtools(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `listen` and `trigger` subcommands."""

    def with_sandbox(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--base-url",
            default=None,
            help=f"the sandbox's API (default: {LOCAL_SANDBOX}/api/v1, serve's default)",
        )
        p.add_argument(
            "--key",
            default=None,
            help="a full-access test key (default: $SANDBOX_KEY, else the key serve's banner "
            "exports, read from --db)",
        )
        p.add_argument(
            "--db",
            default=DEFAULT_DATABASE_URL,
            help="the sandbox's database, read only for the default key (default: %(default)s)",
        )

    listen = commands.add_parser(
        "listen",
        help="forward the sandbox's webhook events to a local URL",
        description="Forward every webhook event of the key's company to --forward-to as a "
        "signed delivery (the body and headers the sandbox's deliveries have), from the "
        "newest event on. The signing secret is derived from the key (HMAC-SHA256 of it), so "
        "it is the same on every run with that key: configure your app with it once. Each "
        "event is POSTed once; a failed forward is reported and not retried. Keeps following "
        "while the sandbox restarts. Ctrl-C stops.",
    )
    listen.add_argument(
        "--forward-to", required=True, metavar="URL", help="e.g. http://localhost:3000/hooks"
    )
    listen.add_argument(
        "--events",
        default=None,
        metavar="TYPE,TYPE",
        help="forward only these event types, comma-separated (default: all)",
    )
    with_sandbox(listen)
    listen.set_defaults(func=cmd_listen)

    trigger = commands.add_parser(
        "trigger",
        help="make a webhook event happen through the API",
        description="Make EVENT happen for real: create what it needs through the API (a "
        "contact, an order, a declined payment…), so the sandbox records it and delivers it "
        "to every webhook and listener. Prints each call and the event to expect.",
    )
    trigger.add_argument("event", nargs="?", metavar="EVENT", help="an event type (see --list)")
    trigger.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="set FIELD in every request of the recipe that has it, or STEP.FIELD in one "
        "(order.amount=4200); VALUE is JSON when it parses, else text (repeatable)",
    )
    trigger.add_argument(
        "--list", action="store_true", help="list the events with what each recipe does"
    )
    with_sandbox(trigger)
    trigger.set_defaults(func=cmd_trigger)
