"""A small HTTP client for the devtools: a base URL and a key, bounded waits, the envelope
of a refused request surfaced as `ApiFailure`, no answer at all as `Unreachable`."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests

from sandbox.spec import Operation

CONNECT_SECONDS, READ_SECONDS = 3.0, 15.0
DEFAULT_TIMEOUT = (CONNECT_SECONDS, READ_SECONDS)
# A 429 is waited out (its Retry-After) and the request sent again, this many times, when
# the wait is no longer than a rate-limit window (61 s); past that it is an ApiFailure.
WAITS_ON_429, LONGEST_WAIT = 2, 61.0


class Unreachable(Exception):
    """The sandbox gave no answer: connection refused or reset, a timeout, DNS; the
    message says which in one line."""


class ApiFailure(Exception):
    """The sandbox answered with a status that is not 2xx; `code` and `message` come from its
    envelope (`{code, message, details, request_id}`) when the body is one."""

    def __init__(self, response: Response) -> None:
        body = response.body if isinstance(response.body, dict) else {}
        self.response = response
        self.status = response.status
        self.code = str(body.get("code", "http_error"))
        self.message = str(body.get("message", response.text[:200] or f"HTTP {response.status}"))
        self.details = body.get("details") or []
        self.request_id = body.get("request_id")
        super().__init__(f"{self.status} {self.code}: {self.message}")

    @property
    def retry_after(self) -> float | None:
        """Seconds the sandbox asked to wait (`Retry-After` of a 429 or 503), when given."""
        value = self.response.headers.get("Retry-After", "")
        try:
            return max(0.0, float(value))
        except ValueError:
            return None


@dataclass(frozen=True)
class Response:
    """One answered request: status, headers, body (parsed JSON, or None) and raw text."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: Any
    text: str


def one_line(error: BaseException) -> str:
    """The innermost cause of a failed request in one line ("Connection refused").

    requests wraps urllib3's errors, which wrap the socket's: the first error along the
    chain that carries an OS error message is the one a person recognizes.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        cause = pending.pop(0)
        if id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        pending.extend(
            inner
            for inner in (
                getattr(cause, "reason", None),
                cause.__cause__,
                cause.__context__,
                *cause.args,
            )
            if isinstance(inner, BaseException)
        )
    text = str(error) or type(error).__name__
    return " ".join(text.split())[:200]


class Client:
    """Requests to one sandbox with one key (`Authorization: Bearer …`)."""

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.session = session or requests.Session()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """The 2xx answer to one request; a 429 is waited out and sent again (see WAITS_ON_429).

        Raises ApiFailure for any other status, Unreachable when nothing answers.
        """
        sent = {"Authorization": f"Bearer {self.key}", "Accept": "application/json"}
        sent.update(headers or {})
        for _ in range(WAITS_ON_429):
            try:
                return self._send(method, path, params, json, sent)
            except ApiFailure as failure:
                wait = failure.retry_after
                if failure.status != 429 or wait is None or wait > LONGEST_WAIT:
                    raise
                time.sleep(wait)
        return self._send(method, path, params, json, sent)

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        json: Any,
        sent: dict[str, str],
    ) -> Response:
        try:
            answer = self.session.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                headers=sent,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise Unreachable(f"no answer within {self.timeout[1]:g} s") from None
        except requests.RequestException as error:
            raise Unreachable(one_line(error)) from None
        try:
            body = answer.json() if answer.content else None
        except ValueError:
            body = None
        response = Response(
            method.upper(), path, answer.status_code, dict(answer.headers), body, answer.text
        )
        if not 200 <= answer.status_code < 300:
            raise ApiFailure(response)
        return response

    def call(
        self,
        operation: Operation,
        path_params: dict[str, str] | None = None,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Response:
        """One operation of the spec; a create gets a fresh `Idempotency-Key`."""
        path = operation.path.format(**(path_params or {}))
        headers = {"Idempotency-Key": str(uuid.uuid4())} if operation.idempotent else {}
        return self.request(operation.method, path, params=params, json=body, headers=headers)
