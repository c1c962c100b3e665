"""WSGI plumbing for the fault middlewares: run an app, read and rewrite its answer."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

WsgiApp = Callable[..., Iterable[bytes]]
Headers = list[tuple[str, str]]
Answer = tuple[str, Headers, bytes]


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
