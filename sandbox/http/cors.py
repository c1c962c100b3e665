"""CORS: lets a browser app on another origin call the sandbox (flask-cors, told by the spec).

flask-cors adds the headers to every response, errors included; this module tells it what
the spec allows (its methods, its header parameters, its auth header) and answers the
preflight itself, 204, before the request pipeline: a preflight carries no key, so it must
be neither authenticated, counted against a rate limit, logged nor routed (the spec has
no OPTIONS operations, so routing would answer 405).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import cast

from flask import Flask, Response, request
from flask_cors import CORS

from sandbox.spec import Spec

# The convention headers a browser script may read (it sees only the safelisted ones else).
EXPOSED_HEADERS = (
    "X-Request-Id",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "Idempotent-Replayed",
    "Deprecation",
    "Sunset",
)
# How long a browser may reuse a preflight's answer (Chromium caps it at two hours).
MAX_AGE_SECONDS = 600


def methods(spec: Spec) -> list[str]:
    """The methods the spec's operations use."""
    return sorted({op.method for op in spec.operations.values()})


def request_headers(spec: Spec) -> list[str]:
    """The request headers the spec uses: header parameters, auth, and Content-Type for bodies."""
    names = {
        p["name"]
        for op in spec.operations.values()
        for p in op.parameters
        if p.get("in") == "header"
    }
    for scheme in spec.security_schemes.values():
        if scheme.get("type") == "http":
            names.add("Authorization")
        elif scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            names.add(scheme["name"])
    if any(op.raw.get("requestBody") for op in spec.operations.values()):
        names.add("Content-Type")
    return sorted(names)


def _exactly(origin: str) -> re.Pattern[str]:
    # flask-cors reads a string holding `[`, `*`, `?`… as a regex (an IPv6 host would be
    # one), and matches regexes at the start only: a whole-string pattern matches one origin.
    return re.compile(re.escape(origin) + r"\Z", re.IGNORECASE)


def install(app: Flask, spec: Spec, origins: tuple[str, ...]) -> None:
    """Answer CORS requests from `origins` (`("*",)`: any; empty: CORS off).

    Call before the request pipeline's hooks: the preflight must be answered before the
    pipeline counts the request, and the headers added after it has built the response.
    """
    if not origins:
        return
    allowed: str | list[re.Pattern[str]] = (
        "*" if "*" in origins else [_exactly(origin) for origin in origins]
    )

    @app.before_request
    def preflight() -> Response | None:
        """Answer a preflight with no body; flask-cors adds the Allow-* headers."""
        if (
            request.method == "OPTIONS"
            and "Origin" in request.headers
            and "Access-Control-Request-Method" in request.headers
        ):
            answer = Response(status=204)
            del answer.headers["Content-Type"]
            return answer
        return None

    CORS(
        app,
        origins=allowed,
        methods=methods(spec),
        allow_headers=request_headers(spec),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=MAX_AGE_SECONDS,
        # "*" rather than the echoed origin: keys travel in a header, never in cookies.
        send_wildcard=True,
        # Without an Origin there is no CORS: no headers (a list would be sent whole).
        always_send=False,
        # Every error reaches the after_request hook through the app's error handlers.
        intercept_exceptions=False,
    )
    # A request without an Origin gets no CORS headers (always_send=False): skip
    # flask-cors's path matching and option reading for it (some 12 µs a response).
    hooks = app.after_request_funcs[None]
    cors_after_request = cast(Callable[[Response], Response], hooks[-1])  # CORS() added it

    def only_with_an_origin(response: Response) -> Response:
        return cors_after_request(response) if "Origin" in request.headers else response

    hooks[-1] = only_with_an_origin
