"""Serving the app with gunicorn: seeded once in the master, then forked into workers."""

from __future__ import annotations

import dataclasses
import gc
import socket
import sys
import time
from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from sqlalchemy import make_url

from sandbox.config import SandboxConfig
from sandbox.delivery_process import spawn
from sandbox.delivery_process import stop as stop_delivery
from sandbox.http.app import create_app, start_webhook_worker
from sandbox.http.balance import Shares
from sandbox.http.worker import EnvelopeWorker
from sandbox.keys import exported_key, fixture_keys, print_keys

# A thread back from the database waits for the GIL until the running thread yields it,
# by default after 5 ms. A writer waits so with SQLite's write lock held, and every other
# writer waits behind it: a short interval keeps the lock's hold time near its work.
SWITCH_INTERVAL_SECONDS = 0.0005
# gunicorn reads no request line longer than this, whatever its setting says.
MAX_REQUEST_LINE = 8190
# At most this many request headers, each at most this long (gunicorn's defaults): past
# either, 431 `header_fields_too_large`.
MAX_HEADER_FIELDS, MAX_HEADER_FIELD_BYTES = 100, 8190
# An in-memory database lives in one process: one worker serves it, with this many threads
# at least (its transactions take turns on its one connection).
MEMORY_THREADS = 4


class SandboxServer(BaseApplication):
    """A gunicorn application around an already-built Flask app."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        return self.application


# time, method, path, status, duration, request id: gunicorn's access log, one line each
CONSOLE_LINE = "%(t)s %(m)s %(U)s %(s)s %(M)sms %({x-request-id}o)s"


class ConsoleLogger(glogging.Logger):
    """gunicorn's logger, stamping console lines with the local time of day."""

    def now(self) -> str:
        return time.strftime("%H:%M:%S")


def banner(app: Flask, host: str, port: int, out: Any = sys.stdout) -> None:
    """The base URL, the test keys and a command to paste, printed at start."""

    pipeline = app.extensions["sandbox"]
    database = pipeline.database
    origin = f"http://{host}:{port}"
    base = origin + pipeline.spec.base_path
    shown = make_url(database.url).render_as_string(hide_password=True)
    if database.in_memory:
        shown += " (in memory: its state is lost when the server stops)"
    print(f"Platform API sandbox on {base}", file=out)
    print(
        f"  reference: {origin}/docs    spec: {origin}/openapi.yaml    database: {shown}",
        file=out,
    )
    print("Test keys:", file=out)
    keys = fixture_keys(database)
    print_keys(keys, out)
    full_access = exported_key(keys)
    if full_access is not None:
        print(f"export SANDBOX_KEY={full_access['key']}", file=out)
    print(f'Try: curl -H "Authorization: Bearer $SANDBOX_KEY" {base}/account', file=out)
    out.flush()


def require_free_port(host: str, port: int) -> None:
    """SystemExit if something listens on host:port already.

    Checked before the app is built: gunicorn would try to bind five times, a second
    apart, and exit with a message of its own. Connections a stopped server left in
    TIME_WAIT do not count: gunicorn binds over them.
    """
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise SystemExit(f"Cannot serve on {host}:{port}: {error.strerror}") from None


def before_fork(app: Flask) -> None:
    """Ready the master to fork a worker: no thread of it holds a lock the child would
    inherit held (its WAL checkpoints stop; the workers checkpoint once they write), and
    what it built so far is frozen out of the garbage collector's passes.

    A full collection in a worker otherwise walks the spec, the app and their caches too,
    some 120,000 objects: about 40 ms with the worker's request waiting, once every few
    thousand creates. Frozen, they are never walked again, and the pages holding them
    stay shared with the master instead of being copied when a pass touches them.
    """
    checkpointer = app.extensions["sandbox"].database.checkpointer
    if checkpointer is not None:
        checkpointer.stop()
    gc.freeze()


def serve(
    config: SandboxConfig,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    quiet: bool = False,
) -> int:
    """Serve until interrupted, printing a line per request unless `quiet`; webhooks are
    delivered by a process of their own.

    An in-memory database is made and seeded in the master and lives on in the one
    worker forked from it, which keeps the master's connection: that worker delivers
    webhooks itself, from a thread (no other process can open its database).
    """
    require_free_port(host, port)
    app = create_app(dataclasses.replace(config, webhook_worker=False))
    in_memory = app.extensions["sandbox"].database.in_memory
    if in_memory:
        workers, threads = 1, max(threads, MEMORY_THREADS)
    banner(app, host, port)
    spec = app.extensions["sandbox"].spec
    if not 0 < spec.max_request_line_bytes <= MAX_REQUEST_LINE:
        raise SystemExit(
            f"x-max-request-line-bytes must be 1 to {MAX_REQUEST_LINE} (gunicorn's maximum)"
        )

    shares = Shares(workers)  # each worker's connections, so that they take turns

    def pre_fork(server: Any, worker: Any) -> None:
        before_fork(app)
        worker.shares = shares
        worker.share_slot = shares.assign(w.share_slot for w in server.WORKERS.values())

    def child_exit(_server: Any, worker: Any) -> None:
        if worker.share_slot is not None:  # freed again if the worker freed it itself
            shares.release(worker.share_slot)
            shares.wake_others(worker.share_slot)

    def post_fork(_server: Any, _worker: Any) -> None:
        # Connections opened in the master must not be shared with the children; but an
        # in-memory database is its connection, and only one child takes it over.
        if not in_memory:
            app.extensions["sandbox"].database.engine.dispose(close=False)
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        if config.webhook_worker and in_memory:
            start_webhook_worker(app, config)

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "preload_app": True,
        "pre_fork": pre_fork,
        "child_exit": child_exit,
        "post_fork": post_fork,
        "timeout": 60,
        # What gunicorn's parser refuses (a request line over the spec's limit, too many
        # or too large headers, a malformed request) is answered with the envelope.
        "worker_class": EnvelopeWorker,
        "limit_request_line": spec.max_request_line_bytes,
        "limit_request_fields": MAX_HEADER_FIELDS,
        "limit_request_field_size": MAX_HEADER_FIELD_BYTES,
        # The workers share one listening socket and take turns accepting from it
        # (EnvelopeWorker): kept-alive connections spread evenly over them.
        "reuse_port": False,
        "graceful_timeout": 5,
        "loglevel": "warning",
        "accesslog": None if quiet else "-",
        "access_log_format": CONSOLE_LINE,
        "logger_class": ConsoleLogger,
    }
    delivery = spawn(config) if config.webhook_worker and not in_memory else None
    try:
        SandboxServer(app, options).run()
    finally:
        if delivery is not None:
            stop_delivery(delivery)
    return 0
