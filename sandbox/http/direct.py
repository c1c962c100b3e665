"""The direct path: requests under the base path served from WSGI, without Flask's
request context, hooks and proxies (some 40 µs a request: a bare Flask app's whole
answer).

A request is routed by the app's own URL rules (sandbox/http/routing.py), passes the
same pipeline (sandbox/http/pipeline.py) and is answered with the same envelope for
every error as in Flask. What Flask's hooks add is left to Flask: a request with an
`Origin` (CORS: flask-cors answers its preflight and adds its headers, sandbox/http/cors.py),
and every path outside the base path (the reference, the inspector, the spec).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, Request, Response
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from sandbox.http import arrival, pipeline
from sandbox.http.call import Pipeline
from sandbox.http.responses import error_answer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


# Statuses whose answers carry no body (werkzeug drops them and their Content-Length).
BODILESS = {204, 304}
# What a bound URL map depends on besides the path, method and query (bind_to_environ).
BINDING = ("HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME", "wsgi.url_scheme")
BOUND_ADAPTERS = 64  # bindings kept per app: beyond, a request's Host binds afresh


def send(
    response: Response, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """Start `response` and return its body, as `response(environ, start_response)` does
    for the pipeline's usual responses (a buffered body of a stated length, no Location),
    without werkzeug's pass over every header; any other goes through werkzeug."""
    status = response.status_code
    headers = response.headers
    if (
        not response.is_sequence
        or status in BODILESS
        or status < 200
        or "Location" in headers
        or "Content-Length" not in headers
    ):
        return response(environ, start_response)
    start_response(response.status, headers.to_wsgi_list())
    return [] if environ["REQUEST_METHOD"] == "HEAD" else [response.get_data()]


class DirectApi:
    """The app's WSGI callable: the direct path for plain API requests, Flask for the rest."""

    def __init__(self, app: Flask, shared: Pipeline) -> None:
        self.app = app
        self.flask: WSGIApplication = app.wsgi_app
        self.shared = shared
        self.base = shared.spec.base_path
        self.under = self.base + "/"
        self._bound: dict[tuple[object, ...], MapAdapter] = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if "HTTP_ORIGIN" in environ or not (path == self.base or path.startswith(self.under)):
            return self.flask(environ, start_response)
        http = Request(environ)
        http.max_content_length = self.shared.spec.max_request_bytes
        found = self._route(http)
        if found is None:  # a rule under the base path that is no spec path's
            return self.flask(environ, start_response)
        return send(self.answer(http, *found), environ, start_response)

    def _adapter(self, http: Request) -> MapAdapter:
        """The URL map bound as Flask binds it for `http`.

        Bound once per server address and host where the binding depends on nothing else
        (no trusted hosts to check, no SERVER_NAME, no host or subdomain matching); the
        path, method and query are given to each match.
        """
        app, environ = self.app, http.environ
        plain = (
            app.config["TRUSTED_HOSTS"] is None
            and app.config["SERVER_NAME"] is None
            and not app.url_map.host_matching
            and not app.subdomain_matching
        )
        key = tuple(environ.get(name) for name in BINDING)
        adapter = self._bound.get(key) if plain else None
        if adapter is None:
            adapter = app.create_url_adapter(http)
            assert adapter is not None, "a request always binds the URL map"
            if plain and len(self._bound) < BOUND_ADAPTERS:
                self._bound[key] = adapter
        return adapter

    def _route(self, http: Request) -> tuple[str | None, HTTPException | None] | None:
        """(the rule's endpoint, or None and the routing error), as Flask routes a request
        (the rule and path arguments set on `http`); None for a rule of no spec path."""
        try:  # the path and query decoded as bind_to_environ decodes them
            http.url_rule, http.view_args = self._adapter(http).match(  # type: ignore[assignment]  # as Flask sets them
                http.path,
                http.method,
                return_rule=True,
                query_args=http.query_string.decode(errors="replace"),
            )
        except HTTPException as error:  # no such path, or a bad Host
            return None, error
        endpoint = http.url_rule.endpoint
        return (endpoint, None) if endpoint in self.shared.routes else None

    def answer(
        self, http: Request, endpoint: str | None, refused: HTTPException | None
    ) -> Response:
        """The response to `http`: counted, served, refused or failed, then DEPARTURE."""
        shared = self.shared
        max_bytes = shared.spec.max_request_bytes
        call = arrival.new_call(http)
        try:
            arrival.start(shared, call)
            if refused is not None:
                raise refused
            assert endpoint is not None and http.view_args is not None
            response = pipeline.serve_route(shared, call, shared.routes[endpoint], http.view_args)
        except Exception as error:  # as Flask's error handlers answer (sandbox/http/app.py)
            response = error_answer(error, call, max_bytes)
        try:
            return pipeline.depart(shared, call, response)
        except Exception as error:  # as Flask answers an after_request hook's error
            return error_answer(error, call, max_bytes)
