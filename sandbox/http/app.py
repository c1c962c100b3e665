"""The app factory: a Flask app serving every operation of openapi.yaml."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, Response, g, request

from sandbox import docs, inspect
from sandbox.config import SandboxConfig
from sandbox.conventions import requestlog
from sandbox.conventions.ratelimit import RateLimiter
from sandbox.domain import targets
from sandbox.domain.delivery import DeliveryWorker
from sandbox.domain.webhooks import RetryPolicy
from sandbox.fixtures import seed_if_empty
from sandbox.handlers import HANDLERS
from sandbox.http import arrival, cors, direct, pipeline, routing
from sandbox.http.call import Pipeline, current_call
from sandbox.http.responses import error_answer, json_response, to_json
from sandbox.spec import SPEC_PATH, Spec, load_spec
from sandbox.storage.database import Database

if TYPE_CHECKING:
    from sandbox.conventions.conformance import ResponseJudge


def create_app(config: SandboxConfig) -> Flask:
    """Build an app serving every operation of openapi.yaml, seeding an empty database.

    Raises SpecMismatch if an operation has no handler or a handler no operation.
    """
    spec = load_spec(config.spec_path or SPEC_PATH)
    database = Database(config.database_url)
    database.create_schema()
    seed_if_empty(database, config.seed, spec)
    shared = Pipeline(
        spec=spec,
        database=database,
        limiter=RateLimiter(database, config.rate_limit_scale),
        handlers=HANDLERS,
        request_log=requestlog.RequestLog(database),
        settings={
            "seed": config.seed,
            targets.SETTING: targets.TargetPolicy.from_entries(config.webhook_allow),
        },
        body_timeout_seconds=config.body_timeout_seconds,
        judge=_judge(spec) if config.strict_responses else None,
    )
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = spec.max_request_bytes
    # `//crm//contacts` is no path of the spec: 404, not a redirect to `/crm/contacts`.
    app.url_map.merge_slashes = False
    routing.register(app, shared)
    # Before the pipeline: the preflight is answered before `start` counts it, and the
    # CORS headers are added after DEPARTURE, to whatever response it settled on.
    cors.install(app, spec, config.cors_origins)
    _install_pipeline(app, shared)
    _install_extras(app, spec)
    app.wsgi_app = direct.DirectApi(app, shared)  # type: ignore[method-assign]
    if config.webhook_worker:
        start_webhook_worker(app, config)
    return app


def shutdown(app: Flask) -> None:
    """Stop the app's background work, write its buffered log, close its connections."""
    if (worker := app.extensions.get("webhook_worker")) is not None:
        worker.stop()
    shared = app.extensions["sandbox"]
    shared.request_log.close()
    shared.database.dispose()


def _install_pipeline(app: Flask, shared: Pipeline) -> None:
    """Run ARRIVAL before every request (sandbox/http/arrival.py) and DEPARTURE after
    (sandbox/http/pipeline.py),
    and answer every error with the envelope."""
    app.extensions["sandbox"] = shared

    @app.before_request
    def arrive() -> None:
        g.call = arrival.new_call(request._get_current_object())  # type: ignore[attr-defined]
        arrival.start(shared, g.call)

    @app.errorhandler(Exception)  # HTTPExceptions and ApiErrors too, by their classes' MRO
    def answer_error(error: Exception) -> Response:
        return error_answer(error, current_call(), shared.spec.max_request_bytes)

    @app.after_request
    def depart(response: Response) -> Response:
        return pipeline.depart(shared, current_call(), response)


def _judge(spec: Spec) -> ResponseJudge:
    # openapi-core takes seconds to import: only strict apps pay for it.
    from sandbox.conventions.conformance import judge_for

    return judge_for(spec)


def start_webhook_worker(app: Flask, config: SandboxConfig) -> None:
    """Start the background thread that delivers webhooks (once per process)."""
    shared = app.extensions["sandbox"]
    worker = DeliveryWorker(
        shared.database,
        RetryPolicy.from_spec(shared.spec),
        poll_seconds=config.webhook_poll_seconds,
        targets=shared.settings[targets.SETTING],
    )
    app.extensions["webhook_worker"] = worker
    worker.start()


def _install_extras(app: Flask, spec: Spec) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        return json_response(200, to_json({"status": "ok"}))

    @app.get("/")
    def home() -> Response:
        """Where to go from the bare host: the API, its reference and its spec."""
        origin = request.host_url.rstrip("/")
        return json_response(
            200,
            to_json(
                {
                    "name": f"{spec.title} sandbox",
                    "version": spec.version,
                    "api": origin + spec.base_path,
                    "docs": origin + "/docs",
                    "inspector": origin + "/inspect",
                    "openapi": origin + "/openapi.yaml",
                    "openapi_json": origin + "/openapi.json",
                }
            ),
        )

    app.register_blueprint(_docs_blueprint(spec.path))
    app.register_blueprint(inspect.blueprint())


@functools.cache
def _docs_blueprint(spec_path: Path) -> Blueprint:
    """The reference's blueprint, rendered once per process (it takes a second).

    The spec and the page it serves name the request's host as the API's server.
    """
    return docs.blueprint(spec_path, own_servers=True)
