"""The app factory: a Flask app serving every operation of openapi.yaml."""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from sandbox import docs
from sandbox.config import SandboxConfig
from sandbox.conventions import requestlog
from sandbox.conventions.ratelimit import RateLimiter
from sandbox.domain import targets
from sandbox.domain.delivery import DeliveryWorker
from sandbox.domain.webhooks import clock_and_subscribers, record_event
from sandbox.errors import (
    ApiError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    envelope,
)
from sandbox.fixtures import seed_if_empty
from sandbox.handlers import HANDLERS
from sandbox.http import cors, routing
from sandbox.ids import new_request_id
from sandbox.spec import SPEC_PATH, Spec, load_spec
from sandbox.storage.database import Database

if TYPE_CHECKING:
    from sandbox.conventions.conformance import ResponseJudge

log = logging.getLogger("sandbox")


def create_app(config: SandboxConfig) -> Flask:
    """Build an app serving every operation of openapi.yaml, seeding an empty database.

    Raises SpecMismatch if an operation has no handler or a handler no operation.
    """
    spec = load_spec(config.spec_path or SPEC_PATH)
    database = Database(config.database_url)
    database.create_schema()
    seed_if_empty(database, config.seed)
    pipeline = routing.Pipeline(
        spec=spec,
        database=database,
        limiter=RateLimiter(database, config.rate_limit_scale),
        handlers=HANDLERS,
        request_log=requestlog.RequestLog(database),
        settings={
            "seed": config.seed,
            targets.SETTING: targets.TargetPolicy.from_entries(config.webhook_allow),
        },
        event_sink=record_event,
        write_context=clock_and_subscribers,
        body_timeout_seconds=config.body_timeout_seconds,
    )
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = spec.max_request_bytes
    # `//crm//contacts` is no path of the spec: 404, not a redirect to `/crm/contacts`.
    app.url_map.merge_slashes = False
    app.extensions["sandbox"] = pipeline
    judge = _judge(spec) if config.strict_responses else None
    routing.register(app, pipeline)
    # Before the conventions: the preflight is answered before `start` counts it, and the
    # CORS headers are added after `finish`, to whatever response it settled on.
    cors.install(app, spec, config.cors_origins)
    _install_conventions(app, pipeline, judge)
    _install_extras(app, spec)
    if config.webhook_worker:
        start_webhook_worker(app, config)
    return app


def shutdown(app: Flask) -> None:
    """Stop the app's background work, write its buffered log, close its connections."""
    if (worker := app.extensions.get("webhook_worker")) is not None:
        worker.stop()
    pipeline = app.extensions["sandbox"]
    pipeline.request_log.close()
    pipeline.database.dispose()


def _judge(spec: Spec) -> ResponseJudge:
    # openapi-core takes seconds to import: only strict apps pay for it.
    from sandbox.conventions.conformance import judge_for

    return judge_for(spec)


def start_webhook_worker(app: Flask, config: SandboxConfig) -> None:
    """Start the background thread that delivers webhooks (once per process)."""
    pipeline = app.extensions["sandbox"]
    worker = DeliveryWorker(
        pipeline.database,
        poll_seconds=config.webhook_poll_seconds,
        targets=pipeline.settings[targets.SETTING],
    )
    app.extensions["webhook_worker"] = worker
    worker.start()


def _call() -> routing.Call:
    """The current request's Call (a fresh one if the request never reached `start`)."""
    call = g.get("call")
    if call is None:
        call = g.call = routing.Call(new_request_id(), time.perf_counter())
    return call


def _error_response(error: ApiError) -> Response:
    body = routing.to_json(envelope(error, _call().request_id))
    response = routing.json_response(error.status, body)
    response.headers.update(error.headers)
    return response


def _install_conventions(
    app: Flask, pipeline: routing.Pipeline, judge: ResponseJudge | None
) -> None:
    base = pipeline.spec.base_path
    under_base = base + "/"

    @app.before_request
    def start() -> None:
        call = g.call = routing.Call(new_request_id(), time.perf_counter())
        path = request.path
        if path.startswith(under_base) or path == base:
            routing.count_request(pipeline, call)

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return _error_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if error.code == 404:
            return _error_response(NotFound(f"No such path: {request.method} {request.path}"))
        if error.code == 405:
            allowed = sorted(error.valid_methods or [])  # type: ignore[attr-defined]
            return _error_response(MethodNotAllowed(request.method, request.path, allowed))
        if error.code == 413:
            return _error_response(PayloadTooLarge(pipeline.spec.max_request_bytes))
        failure = ApiError(error.description)
        failure.status, failure.code = (
            error.code or 500,
            "bad_request" if (error.code or 500) < 500 else "internal_error",
        )
        return _error_response(failure)

    @app.errorhandler(Exception)
    def unhandled(error: Exception) -> Response:
        log.exception(
            "unhandled error in %s %s (request %s)",
            request.method,
            request.path,
            _call().request_id,
        )
        return _error_response(ApiError())

    @app.after_request
    def finish(response: Response) -> Response:
        call = _call()
        response.headers["X-Request-Id"] = call.request_id
        if (rate := call.rate) is not None:
            response.headers.update(rate.headers())
        op = call.operation
        if op is not None and op.deprecated:
            response.headers["Deprecation"] = op.deprecation_header
            response.headers["Sunset"] = op.sunset_header
        # A 413's body was never read, and openapi-core would try to read it.
        if judge is not None and op is not None and response.status_code != 413:
            try:
                judge.check(request, response)
            except Exception as error:  # OffSpecResponse: answer 500 and say why
                log.error("%s", error)
                response = _error_response(ApiError(f"Off-spec response: {error}"))
                response.headers["X-Request-Id"] = call.request_id
                if rate is not None:
                    response.headers.update(rate.headers())
        if rate is not None:
            identity = call.identity
            pipeline.request_log.add(
                requestlog.LoggedRequest(
                    company_id=identity.company_id if identity else None,
                    request_id=call.request_id,
                    method=request.method,
                    path=request.path.replace("\x00", "%00"),
                    query=request.query_string.decode(errors="replace") or None,
                    operation_id=op.operation_id if op is not None else None,
                    status=response.status_code,
                    duration_ms=(time.perf_counter() - call.started) * 1000,
                ),
            )
        return response


def _install_extras(app: Flask, spec: Spec) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        return routing.json_response(200, routing.to_json({"status": "ok"}))

    @app.get("/")
    def home() -> Response:
        """Where to go from the bare host: the API, its reference and its spec."""
        origin = request.host_url.rstrip("/")
        return routing.json_response(
            200,
            routing.to_json(
                {
                    "name": f"{spec.raw.get('info', {}).get('title', 'API')} sandbox",
                    "version": str(spec.raw.get("info", {}).get("version", "")),
                    "api": origin + spec.base_path,
                    "docs": origin + "/docs",
                    "openapi": origin + "/openapi.yaml",
                    "openapi_json": origin + "/openapi.json",
                }
            ),
        )

    app.register_blueprint(_docs_blueprint(spec.path))


@functools.cache
def _docs_blueprint(spec_path: Path) -> Blueprint:
    """The reference's blueprint, rendered once per process (it takes a second).

    The spec and the page it serves name the request's host as the API's server.
    """
    return docs.blueprint(spec_path, own_servers=True)
