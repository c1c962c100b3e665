"""Binds every spec operation to its handler and runs the request pipeline around it.

For a request under the base path: request id → rate limit (every response, errors too,
carries the headers) → method → auth → scope → body → validation against the spec →
business → transaction {idempotency claim → handler → stored replay} → headers → log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from flask import Flask, Response, g, request
from sqlalchemy.exc import IntegrityError

from sandbox.conventions import auth, clock, idempotency, request_body
from sandbox.conventions.context import EventSink, Reply, RequestContext, clock_now
from sandbox.conventions.ratelimit import RateLimiter, RateState
from sandbox.conventions.requestlog import RequestLog
from sandbox.conventions.validation import RequestValidator
from sandbox.errors import (
    ApiError,
    MethodNotAllowed,
    Unauthorized,
)
from sandbox.spec import Operation, Spec, SpecMismatch
from sandbox.storage import tenancy
from sandbox.storage.core import Company
from sandbox.storage.database import Database, Transaction

Handler = Callable[[RequestContext], Reply]
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
PATH_PARAM = re.compile(r"\{([^}]+)\}")
ANONYMOUS_PLAN = "starter"
# Operations that read the request log see every request this process has served.
READS_OF_THE_REQUEST_LOG = {"listRequestLog"}
# Writes that no other write of the company may interleave with (see storage/tenancy.py):
# a reset rewrites everything; every write reads the webhooks it fans out to.
EXCLUSIVE_WRITES = {"resetSandbox", "deleteWebhook"}


@dataclass
class Pipeline:
    """What the route layer needs, built once at start-up."""

    spec: Spec
    database: Database
    limiter: RateLimiter
    handlers: Mapping[str, Handler]
    request_log: RequestLog
    # How long a body may stop arriving (gunicorn's socket) before the request fails.
    body_timeout_seconds: float
    directory: auth.Directory = field(default_factory=auth.Directory)
    validators: dict[str, RequestValidator] = field(default_factory=dict)
    event_sink: EventSink | None = None
    # Reads the test-clock time and the business's enabled webhooks before a write.
    write_context: (
        Callable[[Transaction, str, str], tuple[datetime, list[tuple[str, list[str]]]]] | None
    ) = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Call:
    """What the pipeline learns of one request as it goes; kept on `g.call`."""

    request_id: str
    started: float
    identity: auth.KeyInfo | None = None
    rate: RateState | None = None
    operation: Operation | None = None
    fingerprint: str | None = None


class KeyTaken(Exception):
    """Another request holds this Idempotency-Key; replay its response."""


def check_handlers(spec: Spec, handlers: Mapping[str, Handler]) -> None:
    """SpecMismatch, naming them, if an operation has no handler or a handler no operation."""
    missing = sorted(set(spec.operations) - set(handlers))
    extra = sorted(set(handlers) - set(spec.operations))
    problems = []
    if missing:
        problems.append(f"operations without a handler: {', '.join(missing)}")
    if extra:
        problems.append(f"handlers without an operation: {', '.join(extra)}")
    if problems:
        raise SpecMismatch("; ".join(problems))


def flask_rule(base_path: str, spec_path: str) -> str:
    """`/crm/contacts/{contact_id}` as the Flask rule `/api/v1/crm/contacts/<contact_id>`."""
    return base_path + PATH_PARAM.sub(r"<\1>", spec_path)


def to_json(payload: Any) -> bytes:
    """The wire form of a response body: compact UTF-8 JSON (a non-finite float is null)."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # an integer past 64 bits, echoed from the request in an error
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(status: int, body: bytes | None) -> Response:
    return Response(body or b"", status=status, mimetype="application/json" if body else None)


def register(app: Flask, pipeline: Pipeline) -> None:
    """Add one URL rule per spec path, serving each of its operations."""
    check_handlers(pipeline.spec, pipeline.handlers)
    by_path: dict[str, dict[str, Operation]] = {}
    for op in pipeline.spec.operations.values():
        by_path.setdefault(op.path, {})[op.method] = op
        pipeline.validators[op.operation_id] = RequestValidator(pipeline.spec, op)
    for spec_path, operations in by_path.items():
        view = _view(pipeline, spec_path, operations)
        app.add_url_rule(
            flask_rule(pipeline.spec.base_path, spec_path),
            endpoint=f"api:{spec_path}",
            view_func=view,
            methods=ALL_METHODS,
            provide_automatic_options=False,
            strict_slashes=False,
        )


def count_request(pipeline: Pipeline, call: Call) -> None:
    """Identify the caller and count the request against its rate limit (before everything else).

    An unknown or absent key counts in a bucket of the caller's address, at the lowest plan.
    """
    key = None
    header = request.headers.get("Authorization", "")
    token = auth.token_of(header)
    if token.startswith(auth.TEST_PREFIX):
        key = pipeline.directory.key(pipeline.database, token)
    if key is not None:
        plan = pipeline.spec.plans[key.plan]
        rate = pipeline.limiter.hit(f"key:{key.id}", plan.requests_per_minute)
    else:
        rate = count_anonymous(pipeline, request.remote_addr or "")
    call.rate = rate
    call.identity = key
    if rate.exceeded:
        raise rate.error()


def count_anonymous(pipeline: Pipeline, address: str) -> RateState:
    """Count a request without a known key in its address's bucket, at the lowest plan."""
    plan = pipeline.spec.plans[ANONYMOUS_PLAN]
    return pipeline.limiter.hit(f"anon:{address}", plan.requests_per_minute)


def _view(
    pipeline: Pipeline, spec_path: str, operations: dict[str, Operation]
) -> Callable[..., Response]:
    allowed = sorted(operations)

    def view(**path_args: str) -> Response:
        method = request.method
        op = operations.get(method)
        if op is None:
            raise MethodNotAllowed(method, pipeline.spec.base_path + spec_path, allowed)
        call: Call = g.call
        call.operation = op
        return serve(pipeline, op, path_args, call)

    return view


def serve(pipeline: Pipeline, op: Operation, path_args: dict[str, str], call: Call) -> Response:
    """Run one operation for the current request; raises ApiError for the envelope."""
    headers = request.headers
    auth.bearer_token(headers.get("Authorization"))
    key = call.identity
    if key is None:
        raise Unauthorized(auth.UNKNOWN)
    auth.require_scopes(key, op.scopes)
    body = request_body.json_body(
        op,
        timeout=pipeline.body_timeout_seconds,
        max_bytes=pipeline.spec.max_request_bytes,
        max_depth=pipeline.spec.max_body_depth,
    )
    valid = pipeline.validators[op.operation_id].validate(path_args, request.args, headers, body)
    handler = pipeline.handlers[op.operation_id]
    if op.operation_id in READS_OF_THE_REQUEST_LOG:
        pipeline.request_log.write_pending()
    idem_key = valid.headers.get("Idempotency-Key") if op.idempotent else None
    try:
        return _run(pipeline, op, handler, call, key, valid, idem_key)
    except KeyTaken:
        with pipeline.database.transaction() as session:
            company = session.get(Company, key.company_id)
            replay = idempotency.stored_response(
                session, key.company_id, idem_key, call.fingerprint, clock.now_for(company)
            )
        if replay is None:
            raise ApiError("Idempotency-Key is held by a request that failed; retry") from None
        return _replayed(replay)


def _replayed(replay: idempotency.Replay) -> Response:
    response = json_response(replay.status, replay.body)
    response.headers[idempotency.REPLAY_HEADER] = "true"
    return response


def _run(
    pipeline: Pipeline,
    op: Operation,
    handler: Handler,
    call: Call,
    key: auth.KeyInfo,
    valid: Any,
    idem_key: str | None,
) -> Response:
    write = op.method != "GET"
    ahead: dict[str, Any] = {}

    def read_ahead(transaction: Transaction) -> None:
        # What a write reads before taking the write lock (a moment old at worst). On a
        # server database this runs in the write transaction, after the company's lock.
        if write:
            exclusive = op.operation_id in EXCLUSIVE_WRITES
            tenancy.lock_company(transaction.connection, key.company_id, exclusive=exclusive)
        businesses = pipeline.directory.businesses(transaction.connection, key.company_id)
        ahead["business"] = auth.business_for(businesses, valid.headers.get("X-Business-Id"))
        if write and pipeline.write_context is not None:
            ahead["now"], ahead["subscribers"] = pipeline.write_context(
                transaction, key.company_id, ahead["business"].id
            )
        elif write:
            ahead["now"] = clock_now(transaction.connection, key.company_id)

    with pipeline.database.unit(
        write=write, read_first=read_ahead, keep_connection=True
    ) as transaction:
        ctx = RequestContext(
            operation=op,
            spec=pipeline.spec,
            transaction=transaction,
            company_id=key.company_id,
            business=ahead["business"],
            key=key,
            path=valid.path,
            query=valid.query,
            headers=valid.headers,
            body=valid.body,
            request_id=call.request_id,
            settings=pipeline.settings,
            event_sink=pipeline.event_sink,
            subscribers=ahead.get("subscribers"),
            item_errors=valid.item_errors,
        )
        if "now" in ahead:
            ctx.now = ahead["now"]
        record = None
        if idem_key is not None:
            fingerprint = call.fingerprint = idempotency.fingerprint(
                op.method, request.path, ctx.business.id, valid.body
            )
            replay = idempotency.stored_response(
                ctx.session, key.company_id, idem_key, fingerprint, ctx.now
            )
            if replay is not None:
                return _replayed(replay)
            try:
                record = idempotency.claim(
                    ctx.session, key.company_id, idem_key, fingerprint, op.operation_id, ctx.now
                )
            except IntegrityError:
                raise KeyTaken() from None
        status, payload = handler(ctx)
        data = None if payload is None else to_json(payload)
        if record is not None:
            record.status, record.body = status, data or b""
    return json_response(status, data)
