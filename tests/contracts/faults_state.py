"""Faults in what a server remembers: idempotency, pagination, isolation, metering."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from tests.contracts.wsgi import (
    Answer,
    WsgiApp,
    call,
    json_of,
    read_body,
    reply,
    set_body,
    set_query,
    status_of,
    with_json,
)

# --- idempotency ----------------------------------------------------------------------


def replay_creates_again(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
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


def concurrent_creates_twice(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
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


def conflict_as_200(environ: dict, answer: Answer) -> Answer:
    body = json_of(answer)
    if status_of(answer) == 409 and isinstance(body, dict) and body.get("code") == "conflict":
        return with_json(answer, {}, "200 OK")
    return answer


# --- pagination -----------------------------------------------------------------------


def has_more_off_by_one(environ: dict, answer: Answer) -> Answer:
    body = json_of(answer)
    if isinstance(body, dict) and {"items", "total", "offset", "has_more"} <= set(body):
        body["has_more"] = body["offset"] + len(body["items"]) <= body["total"]
        return with_json(answer, body)
    return answer


def overlapping_pages(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
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


def limit_clamped(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """An out-of-range limit is clamped instead of refused."""

    def clamp(query: dict[str, str]) -> None:
        limit = query.get("limit", "")
        if limit.lstrip("-").isdigit() and not 1 <= int(limit) <= 200:
            query["limit"] = str(min(200, max(1, int(limit))))

    def middleware(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        set_query(environ, clamp)
        return app(environ, start_response)

    return middleware


# --- isolation ------------------------------------------------------------------------


ID_IN_PATH = re.compile(r"/([a-z]+_[A-Za-z0-9]+)(?:/|$)")


def other_tenant_served(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
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


def other_tenant_deletes(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """A delete that is 404 for the caller is retried with the owner's key."""

    def middleware(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        answer = call(app, environ)
        if environ["REQUEST_METHOD"] == "DELETE" and status_of(answer) == 404:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {keys['main']}"
            answer = call(app, environ)
        return reply(start_response, answer)

    return middleware


def business_ignored(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """X-Business-Id is ignored: every request acts on the key's primary business."""

    def middleware(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        environ.pop("HTTP_X_BUSINESS_ID", None)
        return app(environ, start_response)

    return middleware


# --- metering -------------------------------------------------------------------------


def duplicate_event_counted(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
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


def usage_event_mutable(app: WsgiApp, keys: dict[str, str]) -> WsgiApp:
    """PATCH, PUT and DELETE on a usage event are accepted."""

    def middleware(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if "/usage-events/" in path and method in ("PATCH", "PUT", "DELETE", "POST"):
            return reply(start_response, ("200 OK", [("Content-Type", "application/json")], b"{}"))
        return app(environ, start_response)

    return middleware
