"""The request pipeline: every convention a request passes, in the order it passes them.

    ARRIVAL      every request       new_call, start, count_rate (sandbox/http/arrival.py)
    OPERATION    a spec operation    authenticate, authorize, read_body, validate,
                                     settle_request_log
    TRANSACTION  in its transaction  (read_ahead first), replay_or_claim, handle
    DEPARTURE    every response      convention_headers, judge_response, log_request

An `ApiError` raised by any stage (or a handler) is answered with the envelope (by the
direct path, sandbox/http/direct.py, or by the Flask app's error handlers,
sandbox/http/app.py), and that answer still passes DEPARTURE.
Each stage is a small function of the shared `Pipeline` and the request's `Call`
(sandbox/http/call.py); a TRANSACTION stage may answer (a replay does) by returning it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Response
from sqlalchemy.exc import IntegrityError

from sandbox.conventions import auth, clock, idempotency, request_body, requestlog
from sandbox.conventions.context import RequestContext, clock_now
from sandbox.errors import ApiError, MethodNotAllowed, Unauthorized
from sandbox.http.call import Call, KeyTaken, Pipeline, Route
from sandbox.http.responses import error_response, json_response, replayed, to_json
from sandbox.storage import outbox, tenancy
from sandbox.storage.database import Transaction

log = logging.getLogger("sandbox")
# Operations that read the request log see every request this process has served.
READS_OF_THE_REQUEST_LOG = {"listRequestLog", "getRequestLogEntry"}
# Writes that no other write of the company may interleave with (see storage/tenancy.py):
# a reset rewrites everything; every write reads the webhooks it fans out to.
EXCLUSIVE_WRITES = {"resetSandbox", "deleteWebhook"}


# OPERATION


def authenticate(pipeline: Pipeline, call: Call) -> None:
    """401 unless the request carries a test key of a live company."""
    auth.bearer_token(call.req.headers.get("Authorization"))
    if call.identity is None:
        raise Unauthorized(auth.UNKNOWN)


def authorize(pipeline: Pipeline, call: Call) -> None:
    """403 unless the key holds every scope the operation needs."""
    auth.require_scopes(call.key, call.op.scopes)


def read_body(pipeline: Pipeline, call: Call) -> None:
    """The parsed JSON body, bounded in size, depth and waiting (None if it takes none)."""
    spec = pipeline.spec
    call.body = request_body.json_body(
        call.req,
        call.op,
        timeout=pipeline.body_timeout_seconds,
        max_bytes=spec.max_request_bytes,
        max_depth=spec.max_body_depth,
    )


def validate(pipeline: Pipeline, call: Call) -> None:
    """422 (or 400) unless path, query, headers and body match the operation's schemas."""
    validator = pipeline.validators[call.op.operation_id]
    http = call.req
    call.valid = validator.validate(call.path_args, http.args, http.headers, call.body)


def settle_request_log(pipeline: Pipeline, call: Call) -> None:
    """A read of the request log sees every request served before it."""
    if call.op.operation_id in READS_OF_THE_REQUEST_LOG:
        pipeline.request_log.write_pending()


OPERATION: tuple[Callable[[Pipeline, Call], None], ...] = (
    authenticate,
    authorize,
    read_body,
    validate,
    settle_request_log,
)


# TRANSACTION


def read_ahead(pipeline: Pipeline, call: Call, transaction: Transaction) -> None:
    """What the request reads first in its transaction: the business it acts for, and for
    a write the test clock and the webhook subscribers. A write reads them holding the
    write lock (SQLite's, or on a server database its company's), so no write it waited
    for can have changed them: a webhook deleted meanwhile is not queued to."""
    write = call.op.method != "GET"
    company_id = call.key.company_id
    if write:
        exclusive = call.op.operation_id in EXCLUSIVE_WRITES
        tenancy.lock_company(transaction.connection, company_id, exclusive=exclusive)
    businesses = pipeline.directory.businesses(transaction.connection, company_id)
    call.business = auth.business_for(businesses, call.request.headers.get("X-Business-Id"))
    if write:
        found = outbox.clock_and_subscribers(transaction, company_id, call.business.id)
        if found is None:
            raise Unauthorized(auth.UNKNOWN)
        call.now, call.subscribers = clock.at_offset(found[0]), found[1]


def replay_or_claim(pipeline: Pipeline, call: Call, ctx: RequestContext) -> Response | None:
    """For an idempotent operation with a key: the stored response if there is one (409
    if its payload differs), else claim the key for this request (KeyTaken if held)."""
    key = call.idempotency_key
    if key is None:
        return None
    valid = call.request
    fingerprint = call.fingerprint = idempotency.fingerprint(
        call.op.method, call.req.path, ctx.business.id, valid.body
    )
    company_id = call.key.company_id
    replay = idempotency.stored_response(ctx.session, company_id, key, fingerprint, ctx.now)
    if replay is not None:
        return replayed(replay)
    try:
        call.record = idempotency.claim(
            ctx.session, company_id, key, fingerprint, call.op.operation_id, ctx.now
        )
    except IntegrityError:
        raise KeyTaken() from None
    return None


def handle(pipeline: Pipeline, call: Call, ctx: RequestContext) -> Answer:
    """Run the operation's handler. Its answer is written once the transaction has
    committed, off the write lock; a request that claimed an idempotency key keeps the
    answer's bytes with the key, in the same transaction."""
    status, payload = pipeline.handlers[call.op.operation_id](ctx)

    def answer() -> Response:
        return json_response(status, None if payload is None else to_json(payload))

    if call.record is None:
        return answer
    response = answer()
    call.record.status, call.record.body = status, response.get_data()
    return response


# What a TRANSACTION stage answers with: a response, or what makes it once committed.
Answer = Response | Callable[[], Response]
TRANSACTION: tuple[Callable[[Pipeline, Call, RequestContext], Answer | None], ...] = (
    replay_or_claim,
    handle,
)


def serve_route(
    pipeline: Pipeline, call: Call, route: Route, path_args: dict[str, str]
) -> Response:
    """Serve the operation of `route` the request's method names (405 if none)."""
    method = call.req.method
    op = route.operations.get(method)
    if op is None:
        raise MethodNotAllowed(method, route.path, route.allowed)
    call.operation, call.path_args = op, path_args
    return serve(pipeline, call)


def serve(pipeline: Pipeline, call: Call) -> Response:
    """Run the call's operation through OPERATION and TRANSACTION; ApiError for the envelope."""
    for stage in OPERATION:
        stage(pipeline, call)
    try:
        return _in_transaction(pipeline, call)
    except KeyTaken:
        return _replay_taken(pipeline, call)


def _in_transaction(pipeline: Pipeline, call: Call) -> Response:
    write = call.op.method != "GET"
    with pipeline.database.unit(write=write, keep_connection=True) as transaction:
        read_ahead(pipeline, call, transaction)
        ctx = call.context(pipeline, transaction)
        for stage in TRANSACTION:
            if (answer := stage(pipeline, call, ctx)) is not None:
                break
        else:
            raise AssertionError("the last TRANSACTION stage always answers")
    return answer if isinstance(answer, Response) else answer()


def _replay_taken(pipeline: Pipeline, call: Call) -> Response:
    """The response of the request that holds the key, once it has committed."""
    company_id = call.key.company_id
    with pipeline.database.unit() as transaction:
        now = clock_now(transaction.connection, company_id)
        replay = idempotency.stored_response(
            transaction.session,
            company_id,
            call.idempotency_key or "",
            call.fingerprint or "",
            now,
        )
    if replay is None:
        raise ApiError("Idempotency-Key is held by a request that failed; retry")
    return replayed(replay)


# DEPARTURE


def convention_headers(pipeline: Pipeline, call: Call, response: Response) -> Response:
    """Every response's X-Request-Id and rate-limit headers; a deprecated operation's
    Deprecation and Sunset."""
    response.headers["X-Request-Id"] = call.request_id
    if call.rate is not None:
        response.headers.update(call.rate.headers())
    op = call.operation
    if op is not None and op.deprecated:
        response.headers["Deprecation"] = op.deprecation_header
        response.headers["Sunset"] = op.sunset_header
    return response


def judge_response(pipeline: Pipeline, call: Call, response: Response) -> Response:
    """With --strict, an operation's response off the spec becomes a 500 saying why."""
    judge = pipeline.judge
    # A 413's body was never read, and openapi-core would try to read it.
    if judge is None or call.operation is None or response.status_code == 413:
        return response
    try:
        judge.check(call.req, response)
    except Exception as error:  # OffSpecResponse: answer 500 and say why
        log.error("%s", error)
        response = error_response(ApiError(f"Off-spec response: {error}"), call.request_id)
        response.headers["X-Request-Id"] = call.request_id
        if call.rate is not None:
            response.headers.update(call.rate.headers())
    return response


def log_request(pipeline: Pipeline, call: Call, response: Response) -> Response:
    """Log each request that was counted (under the base path), but a sandbox tool's."""
    if call.rate is not None and call.logged:
        identity, op = call.identity, call.operation
        pipeline.request_log.add(
            requestlog.logged(
                call.req,
                response,
                company_id=identity.company_id if identity else None,
                request_id=call.request_id,
                operation_id=op.operation_id if op is not None else None,
                started=call.started,
            )
        )
    return response


DEPARTURE: tuple[Callable[[Pipeline, Call, Response], Response], ...] = (
    convention_headers,
    judge_response,
    log_request,
)


def depart(pipeline: Pipeline, call: Call, response: Response) -> Response:
    """`response` as it leaves, through every DEPARTURE stage."""
    for stage in DEPARTURE:
        response = stage(pipeline, call, response)
    return response
