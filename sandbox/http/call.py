"""What every request shares (`Pipeline`) and what the pipeline learns of one (`Call`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Request, g, request

from sandbox.conventions import auth, requestlog
from sandbox.conventions.bodies import Body
from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.ratelimit import RateLimiter, RateState
from sandbox.conventions.validation import RequestValidator, ValidRequest
from sandbox.ids import new_request_id
from sandbox.spec import Operation, Spec
from sandbox.storage.core import IdempotencyRecord
from sandbox.storage.database import Database, Transaction

if TYPE_CHECKING:
    from sandbox.conventions.conformance import ResponseJudge

Handler = Callable[[RequestContext], Reply]


@dataclass
class Pipeline:
    """What every request shares, built once at start-up."""

    spec: Spec
    database: Database
    limiter: RateLimiter
    handlers: Mapping[str, Handler]
    request_log: requestlog.RequestLog
    # How long a body may stop arriving (gunicorn's socket) before the request fails.
    body_timeout_seconds: float
    judge: ResponseJudge | None = None  # checks each response against the spec (--strict)
    directory: auth.Directory = field(default_factory=auth.Directory)
    validators: dict[str, RequestValidator] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    # (URL rule endpoint, method) of each x-unmetered operation, for count_rate.
    unmetered: set[tuple[str, str]] = field(default_factory=set)
    routes: dict[str, Route] = field(default_factory=dict)  # by URL rule endpoint


@dataclass(frozen=True)
class Route:
    """The operations of one spec path (its URL rule), by method."""

    path: str  # the spec path, as the API states it (base path included)
    operations: Mapping[str, Operation]
    allowed: list[str]  # the methods the path has, sorted


@dataclass(slots=True)
class Call:
    """What the pipeline learns of one request as it goes (on `g.call` in Flask's path)."""

    request_id: str
    started: float
    http: Request | None = None  # the HTTP request (Flask's, or the direct path's)
    identity: auth.KeyInfo | None = None
    rate: RateState | None = None
    logged: bool = True  # False for a sandbox tool's request (see arrival.unmetered)
    operation: Operation | None = None
    path_args: dict[str, str] = field(default_factory=dict)
    body: Body | None = None
    valid: ValidRequest | None = None
    business: auth.BusinessInfo | None = None
    now: datetime | None = None  # the company's test clock, read ahead of a write
    subscribers: list[tuple[str, list[str]]] | None = None  # read ahead of a write
    fingerprint: str | None = None
    record: IdempotencyRecord | None = None  # this request's claim of its Idempotency-Key

    @property
    def req(self) -> Request:
        assert self.http is not None, "the call was made for a request"
        return self.http

    @property
    def key(self) -> auth.KeyInfo:
        assert self.identity is not None, "authenticate runs first"
        return self.identity

    @property
    def op(self) -> Operation:
        assert self.operation is not None, "the route sets the operation"
        return self.operation

    @property
    def request(self) -> ValidRequest:
        assert self.valid is not None, "validate runs first"
        return self.valid

    def context(self, pipeline: Pipeline, transaction: Transaction) -> RequestContext:
        """What the handler receives: this validated request inside `transaction`."""
        valid, key = self.request, self.key
        assert self.business is not None, "read_ahead runs first"
        ctx = RequestContext(
            operation=self.op,
            spec=pipeline.spec,
            transaction=transaction,
            company_id=key.company_id,
            business=self.business,
            key=key,
            path=valid.path,
            query=valid.query,
            headers=valid.headers,
            body=valid.body,
            request_id=self.request_id,
            settings=pipeline.settings,
            subscribers=self.subscribers,
            item_errors=valid.item_errors,
        )
        if self.now is not None:
            ctx.now = self.now
        return ctx

    @property
    def idempotency_key(self) -> str | None:
        return self.request.headers.get("Idempotency-Key") if self.op.idempotent else None


class KeyTaken(Exception):
    """Another request holds this Idempotency-Key; replay its response."""


def current_call() -> Call:
    """The current request's Call (a fresh one if the request never reached `start`)."""
    call = g.get("call")
    if call is None:
        http = request._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
        call = g.call = Call(new_request_id(), time.perf_counter(), http)
    return call
