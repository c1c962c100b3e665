"""Reading a request's body off the connection: bounded in size and in waiting, then parsed.

A worker serves one request at a time, so a body that stalls, runs past the size limit
(chunked or not) or breaks its chunked framing is answered at once and the rest of it is
never read: the connection's read side is shut, and the error is its last answer.
"""

from __future__ import annotations

import contextlib
import socket

from flask import Request
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import ClientDisconnected

from sandbox.conventions import bodies
from sandbox.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, detail
from sandbox.spec import Operation

RAW_BODY = "sandbox.raw_body"  # the WSGI environ key holding the bytes read, for the log


def json_body(
    request: Request, op: Operation, *, timeout: float, max_bytes: int, max_depth: int
) -> bodies.Body | None:
    """The operation's parsed JSON body (None if it takes none).

    415 if it is not JSON; 400 if it is malformed, nests past `max_depth`, is required
    and absent, or stops arriving for `timeout` s; 413 past `max_bytes`.
    """
    if op.request_schema is None:
        return None
    raw = request.environ[RAW_BODY] = _read_body(request, timeout, max_bytes)
    if not raw.strip():
        if op.body_required:
            raise BadRequest("Request body is required", details=[detail("body", "required")])
        return bodies.Body({}, raw)
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            f"Request body must be application/json, not {request.mimetype or 'untyped'}"
        )
    return bodies.parse_json(raw, max_depth)


def _read_body(request: Request, timeout: float, limit: int) -> bytes:
    """The raw body, at most `limit` bytes (PayloadTooLarge past it, chunked bodies too).

    BadRequest if, served by gunicorn, the body stops arriving for `timeout` s: a worker
    serves one request at a time, and a client that sends headers and then stalls must
    not hold it. On either failure the connection's read side is shut, so the error is
    the last answer on it and the rest of the body is never read.
    """
    sock: socket.socket | None = request.environ.get("gunicorn.socket")
    if sock is None:
        return _whole_body(request, limit)
    previous = sock.gettimeout()
    sock.settimeout(timeout)
    try:
        return _whole_body(request, limit)
    except (TimeoutError, ClientDisconnected) as error:  # werkzeug wraps the timeout
        _stop_reading(sock)
        if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
            message = f"Request body stopped arriving: nothing for {timeout:g} s"
        else:
            message = "Request body ended before its Content-Length"
        raise BadRequest(message) from None
    except PayloadTooLarge:
        _stop_reading(sock)
        raise
    except ParseException as error:  # gunicorn reads chunked framing as the body is read
        _stop_reading(sock)
        raise BadRequest(f"Malformed chunked body: {error}") from None
    finally:
        sock.settimeout(previous)


def _whole_body(request: Request, limit: int) -> bytes:
    """The body; a body without Content-Length (chunked) is read to `limit` bytes at most."""
    raw = request.get_data(cache=True)
    # werkzeug stops a chunked body at the limit without saying so: one byte more says.
    if request.content_length is None and len(raw) >= limit:
        if request.environ["wsgi.input"].read(1):
            raise PayloadTooLarge(limit)
    return raw


def _stop_reading(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # the client may have gone already
        sock.shutdown(socket.SHUT_RD)
