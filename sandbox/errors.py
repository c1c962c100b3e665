"""The error family and the one envelope every non-2xx response uses.

ApiError (500 internal_error)
├── BadRequest (400 bad_request)
├── Unauthorized (401 unauthorized)
├── Forbidden (403 forbidden)
├── NotFound (404 not_found)
├── MethodNotAllowed (405 method_not_allowed)
├── Conflict (409 conflict)
├── PayloadTooLarge (413 payload_too_large)
├── UnsupportedMediaType (415 unsupported_media_type)
├── ValidationFailed (422 validation_error)
├── RateLimited (429 rate_limit_exceeded)
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base for every failure reported to a client as the envelope."""

    status = 500
    code = "internal_error"
    default_message = "Internal error; report it with the request_id"
    # Headers every answer of this kind carries (a subclass names its own).
    default_headers: dict[str, str] = {}

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = {**self.default_headers, **(headers or {})}
        super().__init__(self.message)


class BadRequest(ApiError):
    """400: malformed JSON, a body that is not JSON, or a missing required field."""

    status, code, default_message = 400, "bad_request", "Malformed request"


class Unauthorized(ApiError):
    """401: missing, malformed, unknown or live API key; carries `WWW-Authenticate`."""

    status, code, default_message = 401, "unauthorized", "Invalid API key"
    # RFC 7235 §4.1: a 401 names the scheme that would be accepted.
    default_headers = {"WWW-Authenticate": 'Bearer realm="sandbox"'}


class Forbidden(ApiError):
    """403: the key lacks the operation's scope."""

    status, code, default_message = 403, "forbidden", "This key lacks the required scope"


class NotFound(ApiError):
    """404: no such resource in the caller's business (or any other), or no such path."""

    status, code, default_message = 404, "not_found", "Not found"


class MethodNotAllowed(ApiError):
    """405: the path exists, the method does not; carries `Allow`."""

    status, code, default_message = 405, "method_not_allowed", "Method not allowed"

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        super().__init__(
            f"{method} is not allowed on {path}; allowed: {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )


class Conflict(ApiError):
    """409: an Idempotency-Key reused with another payload, or a state that forbids the change."""

    status, code, default_message = 409, "conflict", "Conflict"


class PayloadTooLarge(ApiError):
    """413: the body is over the spec's `x-max-request-bytes`."""

    status, code, default_message = 413, "payload_too_large", "Request body is too large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than {limit} bytes")


class UnsupportedMediaType(ApiError):
    """415: a body that is not application/json."""

    status, code = 415, "unsupported_media_type"
    default_message = "Request body must be application/json"


class ValidationFailed(ApiError):
    """422: a well-formed field with a bad value; `details` names each field."""

    status, code, default_message = 422, "validation_error", "Validation failed"


class RateLimited(ApiError):
    """429: the key's per-minute limit or a plan quota is exhausted; carries `Retry-After`."""

    status, code = 429, "rate_limit_exceeded"

    def __init__(self, message: str, retry_after: int, details: list | None = None) -> None:
        super().__init__(message, details=details, headers={"Retry-After": str(retry_after)})


def detail(
    field: str,
    error: str,
    received: Any = ...,
) -> dict[str, Any]:
    """One `{field, error, received?}` entry of `details`."""
    out: dict[str, Any] = {"field": field, "error": error}
    if received is not ...:
        out["received"] = received
    return out


def envelope(error: ApiError, request_id: str) -> dict[str, Any]:
    """The body of every non-2xx response."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    body["request_id"] = request_id
    return body
