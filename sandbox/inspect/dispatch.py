"""Calling the API in-process, as the visitor: the inspector's only way to data and actions.

Each call names a spec operation; it is run through the whole app (`app.wsgi_app`: every
stage of the pipeline, routing, auth, scopes, validation, the handler, the strict check)
with the visitor's own `Authorization` and `X-Business-Id`, so a page shows exactly what
the API would answer that key. The environ carries `sandbox.unmetered` (no HTTP client can
set an environ key): the pipeline writes such a call to no request log and counts it in
the key's bucket for sandbox tools, not against its plan's limit, so the inspector's
polling neither fills the log it shows nor spends the key's requests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import current_app, request
from werkzeug.test import EnvironBuilder, run_wsgi_app

from sandbox.config import UNMETERED_CALL
from sandbox.spec import Spec

# The visitor's headers a call forwards; nothing else of the page's request reaches the API.
FORWARDED = ("Authorization", "X-Business-Id")


@dataclass(frozen=True)
class Answer:
    """What the API answered: its status and parsed JSON body (None when it sent none)."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> dict[str, Any]:
        """The error envelope's fields (`code`, `message`, `request_id`…); {} on success."""
        if self.ok:
            return {}
        if isinstance(self.body, dict) and "code" in self.body:
            return self.body
        return {"code": "unreadable_answer", "message": f"The API answered {self.status}"}


def spec() -> Spec:
    """The spec of the app serving this request."""
    served: Spec = current_app.extensions["sandbox"].spec
    return served


def api_path(operation_id: str, path_args: Mapping[str, str] | None = None) -> str:
    """The operation's URL path under the base path, each argument percent-encoded whole.

    KeyError if the spec has no such operation (a programming error, not a visitor's).
    """
    served = spec()
    path = served.operations[operation_id].path
    for name, value in (path_args or {}).items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return served.base_path + path


def call(
    operation_id: str,
    path_args: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    body: Any = None,
) -> Answer:
    """Run the operation for the current visitor and return what the API answered.

    Empty query values are dropped (an empty filter means no filter). Never raises for an
    API error: a 4xx or 5xx is an `Answer` like any other.
    """
    operation = spec().operations[operation_id]
    headers = [(name, request.headers[name]) for name in FORWARDED if name in request.headers]
    builder = EnvironBuilder(
        path=api_path(operation_id, path_args),
        method=operation.method,
        query_string={name: value for name, value in (query or {}).items() if value != ""},
        headers=headers,
        data=None if body is None else json.dumps(body),
        content_type="application/json" if body is not None else None,
        environ_base={"REMOTE_ADDR": request.remote_addr or "127.0.0.1", UNMETERED_CALL: True},
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # A fresh app context: the API request gets its own `g` (and so its own `Call`), and
    # this page's request keeps its own when the API request ends.
    with app.app_context():
        chunks, status, _headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
        try:
            raw = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
    code = int(status.split(" ", 1)[0])
    return Answer(code, _parsed(raw))


def _parsed(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")
