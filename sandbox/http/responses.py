"""The wire form of every response the API sends: compact JSON, or no body."""

from __future__ import annotations

import logging
from typing import Any

from flask import Request, Response
from werkzeug.exceptions import HTTPException

from sandbox.conventions import idempotency
from sandbox.errors import ApiError, MethodNotAllowed, NotFound, PayloadTooLarge, envelope
from sandbox.http.call import Call
from sandbox.storage.base import json_bytes

log = logging.getLogger("sandbox")


def to_json(payload: Any) -> bytes:
    """A response body: compact UTF-8 JSON (a non-finite float is null; an integer past
    64 bits, echoed from the request in an error, as itself)."""
    return json_bytes(payload)


def json_response(status: int, body: bytes | None) -> Response:
    """A response with `body` as JSON, or with no body (and no content type) if it is empty."""
    return Response(body or b"", status=status, mimetype="application/json" if body else None)


def error_response(error: ApiError, request_id: str) -> Response:
    """The envelope of `error`, with its status and headers."""
    response = json_response(error.status, to_json(envelope(error, request_id)))
    response.headers.update(error.headers)
    return response


def refusal(error: HTTPException, request: Request, max_request_bytes: int) -> ApiError:
    """The API's error for what Flask or Werkzeug refused of `request` (no route, method,
    size)."""
    if error.code == 404:
        return NotFound(f"No such path: {request.method} {request.path}")
    if error.code == 405:
        allowed = sorted(getattr(error, "valid_methods", None) or [])
        return MethodNotAllowed(request.method, request.path, allowed)
    if error.code == 413:
        return PayloadTooLarge(max_request_bytes)
    failure = ApiError(error.description)
    status = error.code or 500
    failure.status, failure.code = status, "bad_request" if status < 500 else "internal_error"
    return failure


def replayed(replay: idempotency.Replay) -> Response:
    """The stored response of an Idempotency-Key, marked as a replay."""
    response = json_response(replay.status, replay.body)
    response.headers[idempotency.REPLAY_HEADER] = "true"
    return response


def error_answer(error: Exception, call: Call, max_request_bytes: int) -> Response:
    """The envelope answering any error `call`'s request raised: an ApiError's own, a
    refusal's (see `refusal`), else a 500, logged with its traceback."""
    if isinstance(error, ApiError):
        return error_response(error, call.request_id)
    if isinstance(error, HTTPException):
        return error_response(refusal(error, call.req, max_request_bytes), call.request_id)
    http = call.req
    log.error(
        "unhandled error in %s %s (request %s)",
        http.method,
        http.path,
        call.request_id,
        exc_info=error,
    )
    return error_response(ApiError(), call.request_id)
