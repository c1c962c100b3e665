"""Faults in what every response promises: envelope, auth, rate limits, schemas, deprecation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from tests.contracts.wsgi import (
    Answer,
    WsgiApp,
    json_of,
    status_of,
    with_json,
    without_header,
)

# --- envelope -------------------------------------------------------------------------


def drop_request_id(environ: dict, answer: Answer) -> Answer:
    body = json_of(answer)
    if status_of(answer) >= 400 and isinstance(body, dict):
        body.pop("request_id", None)
        return with_json(answer, body)
    return answer


def other_request_id(environ: dict, answer: Answer) -> Answer:
    body = json_of(answer)
    if status_of(answer) >= 400 and isinstance(body, dict):
        return with_json(answer, {**body, "request_id": "req_0000000000"})
    return answer


def no_request_id_on_success(environ: dict, answer: Answer) -> Answer:
    return without_header(answer, "X-Request-Id") if status_of(answer) < 300 else answer


def unsupported_as_bad_request(environ: dict, answer: Answer) -> Answer:
    body = json_of(answer)
    if status_of(answer) == 415 and isinstance(body, dict):
        return with_json(answer, {**body, "code": "bad_request"}, "400 BAD REQUEST")
    return answer


# --- auth -----------------------------------------------------------------------------


def replacing_key(should_replace: Callable[[str | None, dict[str, str], str], bool]) -> Callable:
    """A fault that swaps the sent key for the main key when `should_replace(sent, keys, path)`."""

    def wrap(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
        def middleware(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
            sent = environ.get("HTTP_AUTHORIZATION")
            if should_replace(sent, keys, environ["PATH_INFO"]):
                environ["HTTP_AUTHORIZATION"] = f"Bearer {keys['main']}"
            return app(environ, start_response)

        return middleware

    return wrap


def live_key(sent: str | None, keys: dict[str, str], path: str) -> bool:
    return bool(sent and sent.startswith("Bearer sk_live_"))


def unknown_key(sent: str | None, keys: dict[str, str], path: str) -> bool:
    return bool(sent and sent.startswith("Bearer sk_test_") and sent[7:] not in keys.values())


def no_key(sent: str | None, keys: dict[str, str], path: str) -> bool:
    return sent is None


def read_only_key(sent: str | None, keys: dict[str, str], path: str) -> bool:
    """The read-only key acts with full scopes (yet its account still tells the truth)."""
    return sent == f"Bearer {keys['read_only']}" and not path.endswith("/account")


# --- rate limits ----------------------------------------------------------------------


def no_remaining_header(environ: dict, answer: Answer) -> Answer:
    return without_header(answer, "X-RateLimit-Remaining")


def no_retry_after(environ: dict, answer: Answer) -> Answer:
    return without_header(answer, "Retry-After") if status_of(answer) == 429 else answer


# --- conformance ----------------------------------------------------------------------


def server_error_on_edge(environ: dict, answer: Answer) -> Answer:
    """A list asked for its largest page crashes."""
    if "limit=200" in environ.get("QUERY_STRING", ""):
        body = {"code": "internal_error", "message": "boom", "request_id": "req_0"}
        headers = [(k, v) for k, v in answer[1] if k.lower() != "x-request-id"]
        return (
            "500 INTERNAL SERVER ERROR",
            [*headers, ("X-Request-Id", "req_0")],
            json.dumps(body).encode(),
        )
    return answer


def undocumented_status(environ: dict, answer: Answer) -> Answer:
    listing = environ["PATH_INFO"].endswith("/crm/contacts")
    if listing and environ["REQUEST_METHOD"] == "GET" and status_of(answer) == 200:
        return "206 PARTIAL CONTENT", answer[1], answer[2]
    return answer


def wrong_type(environ: dict, answer: Answer) -> Answer:
    body = json_of(answer)
    if isinstance(body, dict) and isinstance(body.get("first_name"), str):
        return with_json(answer, {**body, "first_name": 42})
    return answer


# --- deprecation ----------------------------------------------------------------------


def no_sunset(environ: dict, answer: Answer) -> Answer:
    return without_header(answer, "Sunset")
