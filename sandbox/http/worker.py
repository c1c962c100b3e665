"""The gunicorn worker `sandbox serve` runs: gthread, answering what its parser refuses.

Its workers share the listening socket and take turns accepting from it, so that
kept-alive connections spread evenly over them (sandbox/http/balance.py).

gunicorn refuses some requests before the app sees them (a malformed request line or
header, a request line over the limit, too many or too large headers, a bad
Content-Length, Content-Length beside Transfer-Encoding). Its own answer is an HTML
page; this worker keeps gunicorn's parser and answers those with the API's envelope,
`X-Request-Id` and the caller's rate-limit headers, like every other response.
"""

from __future__ import annotations

import logging
import selectors
from typing import Any

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker

from sandbox.errors import ApiError, envelope
from sandbox.http.arrival import count_anonymous
from sandbox.http.balance import Shares
from sandbox.http.responses import to_json
from sandbox.ids import new_request_id

log = logging.getLogger("sandbox")

# The status and code of each refusal that is not a plain 400 `bad_request`.
REFUSALS: tuple[tuple[type[Exception], int, str, str], ...] = (
    (http_errors.LimitRequestLine, 414, "uri_too_long", "URI Too Long"),
    (
        http_errors.LimitRequestHeaders,
        431,
        "header_fields_too_large",
        "Request Header Fields Too Large",
    ),
    (http_errors.UnsupportedTransferCoding, 501, "not_implemented", "Not Implemented"),
    (http_errors.ExpectationFailed, 417, "expectation_failed", "Expectation Failed"),
    (http_errors.ForbiddenProxyRequest, 403, "forbidden", "Forbidden"),
)
# Raised for what the app tried to send: the server's fault, not the client's.
SERVER_FAULTS = (http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName)


class Refusal(ApiError):
    """A request the server refused before the app ran."""

    def __init__(self, status: int, code: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.reason = status, code, reason


def refusal(error: Exception, limits: dict[str, int]) -> Refusal:
    """The envelope's status, code and message for an error gunicorn raised while parsing."""
    if isinstance(error, SERVER_FAULTS) or not isinstance(error, http_errors.ParseException):
        return Refusal(500, "internal_error", "Internal Server Error", ApiError.default_message)
    status, code, reason = next(
        ((s, c, r) for kind, s, c, r in REFUSALS if isinstance(error, kind)),
        (400, "bad_request", "Bad Request"),
    )
    if status == 414:
        message = f"Request line is longer than {limits['request_line']} bytes"
    elif status == 431:
        message = (
            f"Request headers are too large: at most {limits['fields']} headers of "
            f"{limits['field_size']} bytes each ({error})"
        )
    elif status == 400:
        message = f"Malformed request: {error}"
    else:
        message = str(error)
    return Refusal(status, code, reason, message)


class EnvelopeWorker(ThreadWorker):
    """gunicorn's threaded worker; its parser's refusals are answered with the envelope,
    and it accepts connections only in its turn among the server's workers.

    The master sets `shares` and `share_slot` before it forks the worker (see
    sandbox/http/server.py); without them the worker accepts whenever gunicorn would.
    """

    shares: Shares | None = None
    share_slot: int | None = None

    def run(self) -> None:
        if self.shares is not None and self.share_slot is not None:
            waker = self.shares.waker(self.share_slot)
            self.poller.register(waker, selectors.EVENT_READ, self._woken)
        super().run()

    def _woken(self, _waker: Any) -> None:
        assert self.shares is not None and self.share_slot is not None
        self.shares.woken(self.share_slot)  # the loop then looks again whose turn it is

    def accept(self, listener: Any) -> None:
        super().accept(listener)
        self._take_turn()  # before the next poll: the others must see the new count

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        self._take_turn()  # counts change as connections close, here or elsewhere
        super().wait_for_and_dispatch_events(timeout)

    def set_accept_enabled(self, enabled: bool) -> None:
        """Accept when gunicorn would (`enabled`) and it is this worker's turn; a worker
        that stops wakes the others, one of which may have stopped while it held more."""
        shares, slot = self.shares, self.share_slot
        if shares is not None and slot is not None:
            enabled = enabled and self.alive and shares.turn(slot, self.nr_conns)
            if self._accepting and not enabled:
                shares.wake_others(slot)
        super().set_accept_enabled(enabled)

    def _take_turn(self) -> None:
        """Publish this worker's count, and accept or not as its turn says; a stopping
        worker frees its slot."""
        shares, slot = self.shares, self.share_slot
        if shares is None or slot is None:
            return
        if not self.alive:
            shares.release(slot)
            shares.wake_others(slot)
            self.share_slot = None
            return
        shares.publish(slot, self.nr_conns)
        self.set_accept_enabled(self.nr_conns < self.worker_connections)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        limits = {
            "request_line": self.cfg.limit_request_line,
            "fields": self.cfg.limit_request_fields,
            "field_size": self.cfg.limit_request_field_size,
        }
        answer = refusal(exc, limits)
        if answer.status >= 500:
            log.error("error handling a request", exc_info=exc)
        else:
            log.info("refused a request from %s: %s", (addr or ("",))[0], exc)
        request_id = new_request_id()
        body = to_json(envelope(answer, request_id))
        headers = [
            f"HTTP/1.1 {answer.status} {answer.reason}",
            "Connection: close",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            f"X-Request-Id: {request_id}",
            *(f"{name}: {value}" for name, value in self._rate_headers(addr)),
        ]
        try:
            util.write_nonblock(client, "\r\n".join(headers).encode() + b"\r\n\r\n" + body)
        except OSError:
            log.debug("could not send the refusal: the client is gone")

    def _rate_headers(self, addr: Any) -> list[tuple[str, str]]:
        """The request counted in its address's anonymous bucket; that bucket's headers.

        The key was never read, so the request counts as an unknown key's would.
        """
        pipeline = self.wsgi.extensions["sandbox"]
        try:
            rate = count_anonymous(pipeline, (addr or ("",))[0])
        except Exception:  # the answer goes out even if the shared counter is down
            log.exception("could not count a refused request")
            return []
        return list(rate.headers().items())
