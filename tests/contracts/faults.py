"""Fault middlewares: each wraps the sandbox's WSGI app and breaks one promise of the spec.

A fault is meant to be caught by one rule; `FAULTS` names it. The middlewares rewrite
requests on the way in (`environ`) or responses on the way out (status, headers, body).
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

WsgiApp = Callable[..., Iterable[bytes]]
Headers = list[tuple[str, str]]
Answer = tuple[str, Headers, bytes]


@dataclass(frozen=True)
class Fault:
    """One injected fault, the rule meant to catch it, and how to run that rule."""

    name: str
    rule: str
    wrap: Callable[[WsgiApp, dict[str, str]], WsgiApp]
    limited: bool = False  # needs the plans' own rate limits
    focus: tuple[str, ...] = ()  # operationIds the fuzzer is limited to
    profile: dict[str, Any] = field(default_factory=dict)  # changes to the test profile


def call(app: WsgiApp, environ: dict[str, Any]) -> Answer:
    """Run `app` and collect its whole answer."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: Headers, exc_info: Any = None) -> Callable:
        captured["status"], captured["headers"] = status, list(headers)
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return captured["status"], captured["headers"], body


def reply(start_response: Callable, answer: Answer) -> list[bytes]:
    status, headers, body = answer
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]


def rewriting(transform: Callable[[dict[str, Any], Answer], Answer]) -> Callable:
    """A fault that rewrites answers: `transform(environ, answer) -> answer`."""

    def wrap(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
        def middleware(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
            return reply(start_response, transform(environ, call(app, environ)))

        return middleware

    return wrap


def status_of(answer: Answer) -> int:
    return int(answer[0].split()[0])


def json_of(answer: Answer) -> Any:
    try:
        return json.loads(answer[2])
    except ValueError:
        return None


def with_json(answer: Answer, body: Any, status: str | None = None) -> Answer:
    return status or answer[0], answer[1], json.dumps(body).encode()


def without_header(answer: Answer, name: str) -> Answer:
    return answer[0], [(k, v) for k, v in answer[1] if k.lower() != name.lower()], answer[2]


def header(answer: Answer, name: str) -> str | None:
    return next((v for k, v in answer[1] if k.lower() == name.lower()), None)


def read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    set_body(environ, body)
    return body


def set_body(environ: dict[str, Any], body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def set_query(environ: dict[str, Any], change: Callable[[dict[str, str]], None]) -> None:
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    change(query)
    environ["QUERY_STRING"] = urlencode(query)


# --- envelope -------------------------------------------------------------------------


def _drop_request_id(environ: dict, answer: Answer) -> Answer:
    body = json_of(answer)
    if status_of(answer) >= 400 and isinstance(body, dict):
        body.pop("request_id", None)
        return with_json(answer, body)
    return answer


def _other_request_id(environ: dict, answer: Answer) -> Answer:
    body = json_of(answer)
    if status_of(answer) >= 400 and isinstance(body, dict):
        return with_json(answer, {**body, "request_id": "req_0000000000"})
    return answer


def _no_request_id_on_success(environ: dict, answer: Answer) -> Answer:
    return without_header(answer, "X-Request-Id") if status_of(answer) < 300 else answer


def _415_as_400(environ: dict, answer: Answer) -> Answer:
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


def _live(sent: str | None, keys: dict[str, str], path: str) -> bool:
    return bool(sent and sent.startswith("Bearer sk_live_"))


def _unknown(sent: str | None, keys: dict[str, str], path: str) -> bool:
    return bool(sent and sent.startswith("Bearer sk_test_") and sent[7:] not in keys.values())


def _missing(sent: str | None, keys: dict[str, str], path: str) -> bool:
    return sent is None


def _read_only(sent: str | None, keys: dict[str, str], path: str) -> bool:
    """The read-only key acts with full scopes (yet its account still tells the truth)."""
    return sent == f"Bearer {keys['read_only']}" and not path.endswith("/account")


# --- idempotency ----------------------------------------------------------------------


def _replay_creates_again(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """A repeated key is not looked up: the request creates again, claiming to replay."""
    seen: set[str] = set()

    def middleware(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if key is None or key not in seen:
            if key is not None:
                seen.add(key)
            return reply(start_response, call(app, environ))
        del environ["HTTP_IDEMPOTENCY_KEY"]
        status, headers, body = call(app, environ)
        return reply(start_response, (status, [*headers, ("Idempotent-Replayed", "true")], body))

    return middleware


def _concurrent_creates_twice(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """A key already in flight is ignored, so concurrent requests each create."""
    in_flight: dict[str, int] = {}
    lock = threading.Lock()

    def middleware(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        with lock:
            racing = key is not None and in_flight.get(key, 0) > 0
            if key is not None:
                in_flight[key] = in_flight.get(key, 0) + 1
        try:
            if racing:
                del environ["HTTP_IDEMPOTENCY_KEY"]
            time.sleep(0.05)  # widen the window the way a slow backend would
            return reply(start_response, call(app, environ))
        finally:
            if key is not None:
                with lock:
                    in_flight[key] -= 1

    return middleware


def _conflict_as_200(environ: dict, answer: Answer) -> Answer:
    body = json_of(answer)
    if status_of(answer) == 409 and isinstance(body, dict) and body.get("code") == "conflict":
        return with_json(answer, {}, "200 OK")
    return answer


# --- pagination -----------------------------------------------------------------------


def _has_more_off_by_one(environ: dict, answer: Answer) -> Answer:
    body = json_of(answer)
    if isinstance(body, dict) and {"items", "total", "offset", "has_more"} <= set(body):
        body["has_more"] = body["offset"] + len(body["items"]) <= body["total"]
        return with_json(answer, body)
    return answer


def _overlapping_pages(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """Pages after the first start one item early (an off-by-one in the offset)."""

    def middleware(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        asked: dict[str, str] = {}

        def shift(query: dict[str, str]) -> None:
            asked.update(query)
            if query.get("offset", "0").isdigit() and int(query.get("offset", "0")) > 0:
                query["offset"] = str(int(query["offset"]) - 1)

        if environ["REQUEST_METHOD"] == "GET":
            set_query(environ, shift)
        answer = call(app, environ)
        body = json_of(answer)
        if isinstance(body, dict) and "has_more" in body and asked.get("offset", "").isdigit():
            body["offset"] = int(asked["offset"])
            answer = with_json(answer, body)
        return reply(start_response, answer)

    return middleware


def _limit_clamped(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """An out-of-range limit is clamped instead of refused."""

    def clamp(query: dict[str, str]) -> None:
        limit = query.get("limit", "")
        if limit.lstrip("-").isdigit() and not 1 <= int(limit) <= 200:
            query["limit"] = str(min(200, max(1, int(limit))))

    def middleware(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        set_query(environ, clamp)
        return app(environ, start_response)

    return middleware


# --- rate limits ----------------------------------------------------------------------


def _no_remaining_header(environ: dict, answer: Answer) -> Answer:
    return without_header(answer, "X-RateLimit-Remaining")


def _no_retry_after(environ: dict, answer: Answer) -> Answer:
    return without_header(answer, "Retry-After") if status_of(answer) == 429 else answer


# --- isolation ------------------------------------------------------------------------


ID_IN_PATH = re.compile(r"/([a-z]+_[A-Za-z0-9]+)(?:/|$)")


def _other_tenant_served(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """A read that is 404 for the caller is served from another company's earlier answer."""
    answers: dict[str, Answer] = {}

    def middleware(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        answer = call(app, environ)
        made = json_of(answer) if method == "POST" and status_of(answer) == 201 else None
        if isinstance(made, dict) and isinstance(made.get("id"), str):
            answers[f"{path}/{made['id']}"] = ("200 OK", answer[1], answer[2])
        if method == "GET" and status_of(answer) == 200 and ID_IN_PATH.search(path):
            answers[path] = answer
        elif method == "GET" and status_of(answer) == 404 and path in answers:
            answer = answers[path]
        return reply(start_response, answer)

    return middleware


def _other_tenant_deletes(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """A delete that is 404 for the caller is retried with the owner's key."""

    def middleware(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        answer = call(app, environ)
        if environ["REQUEST_METHOD"] == "DELETE" and status_of(answer) == 404:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {keys['main']}"
            answer = call(app, environ)
        return reply(start_response, answer)

    return middleware


def _business_ignored(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """X-Business-Id is ignored: every request acts on the key's primary business."""

    def middleware(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        environ.pop("HTTP_X_BUSINESS_ID", None)
        return app(environ, start_response)

    return middleware


# --- metering -------------------------------------------------------------------------


def _duplicate_event_counted(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """Ingest forgets earlier event ids: every event id is stored afresh."""
    counter = iter(range(10**9))

    def middleware(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        if environ["REQUEST_METHOD"] != "POST" or not environ["PATH_INFO"].endswith("/ingest"):
            return reply(start_response, call(app, environ))
        body = json.loads(read_body(environ) or b"{}")
        suffixes = {}
        for event in body.get("events", []) if isinstance(body, dict) else []:
            if isinstance(event, dict) and isinstance(event.get("event_id"), str):
                suffix = f"~{next(counter)}"
                suffixes[event["event_id"] + suffix] = event["event_id"]
                event["event_id"] += suffix
        set_body(environ, json.dumps(body).encode())
        text = call(app, environ)
        result = json_of(text)
        for item in (result or {}).get("results", []) if isinstance(result, dict) else []:
            item["event_id"] = suffixes.get(item.get("event_id"), item.get("event_id"))
        return reply(start_response, with_json(text, result) if result is not None else text)

    return middleware


def _usage_event_mutable(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """PATCH, PUT and DELETE on a usage event are accepted."""

    def middleware(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if "/usage-events/" in path and method in ("PATCH", "PUT", "DELETE", "POST"):
            return reply(start_response, ("200 OK", [("Content-Type", "application/json")], b"{}"))
        return app(environ, start_response)

    return middleware


# --- conformance ----------------------------------------------------------------------


def _server_error_on_edge(environ: dict, answer: Answer) -> Answer:
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


def _undocumented_status(environ: dict, answer: Answer) -> Answer:
    listing = environ["PATH_INFO"].endswith("/crm/contacts")
    if listing and environ["REQUEST_METHOD"] == "GET" and status_of(answer) == 200:
        return "206 PARTIAL CONTENT", answer[1], answer[2]
    return answer


def _wrong_type(environ: dict, answer: Answer) -> Answer:
    body = json_of(answer)
    if isinstance(body, dict) and isinstance(body.get("first_name"), str):
        return with_json(answer, {**body, "first_name": 42})
    return answer


# --- deprecation ----------------------------------------------------------------------


def _no_sunset(environ: dict, answer: Answer) -> Answer:
    return without_header(answer, "Sunset")


FAULTS = (
    Fault("envelope field dropped", "envelope.shape", rewriting(_drop_request_id)),
    Fault("request_id differs from header", "envelope.request-id", rewriting(_other_request_id)),
    Fault(
        "X-Request-Id missing on 2xx", "envelope.request-id", rewriting(_no_request_id_on_success)
    ),
    Fault("415 answered as 400", "envelope.status", rewriting(_415_as_400)),
    Fault("live key accepted", "auth.live-key", replacing_key(_live)),
    Fault("unknown key accepted", "auth.unknown-key", replacing_key(_unknown)),
    Fault("missing key accepted", "auth.missing-key", replacing_key(_missing)),
    Fault("scope ignored", "auth.scope", replacing_key(_read_only)),
    Fault("replay creates a second resource", "idempotency.replay", _replay_creates_again),
    Fault("concurrent requests create twice", "idempotency.concurrent", _concurrent_creates_twice),
    Fault("conflict answered 200", "idempotency.conflict", rewriting(_conflict_as_200)),
    Fault("has_more off by one", "pagination.page", rewriting(_has_more_off_by_one)),
    Fault("pages overlap", "pagination.walk", _overlapping_pages),
    Fault("out-of-range limit clamped", "pagination.bounds", _limit_clamped),
    Fault("rate-limit header missing", "ratelimit.headers", rewriting(_no_remaining_header)),
    Fault(
        "429 without Retry-After", "ratelimit.exceeded", rewriting(_no_retry_after), limited=True
    ),
    Fault("another tenant's resource served", "isolation.read", _other_tenant_served),
    Fault("another tenant's resource deleted", "isolation.write", _other_tenant_deletes),
    Fault("another company's business served", "isolation.business", _business_ignored),
    Fault("duplicate event_id counted", "metering.no-double-count", _duplicate_event_counted),
    Fault("usage event changed", "metering.immutable", _usage_event_mutable),
    Fault(
        "500 on an edge input",
        "conformance.server-error",
        rewriting(_server_error_on_edge),
        focus=("listContacts",),
        profile={"coverage_phase": True},  # boundary values: the full profile's phase
    ),
    Fault(
        "undocumented status",
        "conformance.status-code",
        rewriting(_undocumented_status),
        focus=("listContacts",),
    ),
    Fault(
        "response field of the wrong type",
        "conformance.response-schema",
        rewriting(_wrong_type),
        focus=("createContact", "getContact", "listContacts"),
    ),
    Fault("Sunset header missing", "deprecation.headers", rewriting(_no_sunset)),
)
