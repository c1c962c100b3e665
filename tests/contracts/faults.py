"""The injected faults: each breaks one promise of the spec and names the rule meant to
catch it. The middlewares live in `faults_conventions` (what every response promises) and
`faults_state` (what a server remembers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.contracts import faults_conventions as conventions
from tests.contracts import faults_state as state
from tests.contracts.wsgi import WsgiApp, rewriting


@dataclass(frozen=True)
class Fault:
    """One injected fault, the rule meant to catch it, and how to run that rule."""

    name: str
    rule: str
    wrap: Callable[[WsgiApp, dict[str, str]], WsgiApp]
    limited: bool = False  # needs the plans' own rate limits
    focus: tuple[str, ...] = ()  # operationIds the fuzzer is limited to
    profile: dict[str, Any] = field(default_factory=dict)  # changes to the test profile


FAULTS = (
    Fault("envelope field dropped", "envelope.shape", rewriting(conventions.drop_request_id)),
    Fault(
        "request_id differs from header",
        "envelope.request-id",
        rewriting(conventions.other_request_id),
    ),
    Fault(
        "X-Request-Id missing on 2xx",
        "envelope.request-id",
        rewriting(conventions.no_request_id_on_success),
    ),
    Fault(
        "415 answered as 400", "envelope.status", rewriting(conventions.unsupported_as_bad_request)
    ),
    Fault("live key accepted", "auth.live-key", conventions.replacing_key(conventions.live_key)),
    Fault(
        "unknown key accepted",
        "auth.unknown-key",
        conventions.replacing_key(conventions.unknown_key),
    ),
    Fault(
        "missing key accepted", "auth.missing-key", conventions.replacing_key(conventions.no_key)
    ),
    Fault("scope ignored", "auth.scope", conventions.replacing_key(conventions.read_only_key)),
    Fault("replay creates a second resource", "idempotency.replay", state.replay_creates_again),
    Fault(
        "concurrent requests create twice", "idempotency.concurrent", state.concurrent_creates_twice
    ),
    Fault("conflict answered 200", "idempotency.conflict", rewriting(state.conflict_as_200)),
    Fault("has_more off by one", "pagination.page", rewriting(state.has_more_off_by_one)),
    Fault("pages overlap", "pagination.walk", state.overlapping_pages),
    Fault("out-of-range limit clamped", "pagination.bounds", state.limit_clamped),
    Fault(
        "rate-limit header missing", "ratelimit.headers", rewriting(conventions.no_remaining_header)
    ),
    Fault(
        "429 without Retry-After",
        "ratelimit.exceeded",
        rewriting(conventions.no_retry_after),
        limited=True,
    ),
    Fault("another tenant's resource served", "isolation.read", state.other_tenant_served),
    Fault("another tenant's resource deleted", "isolation.write", state.other_tenant_deletes),
    Fault("another company's business served", "isolation.business", state.business_ignored),
    Fault("duplicate event_id counted", "metering.no-double-count", state.duplicate_event_counted),
    Fault("usage event changed", "metering.immutable", state.usage_event_mutable),
    Fault(
        "500 on an edge input",
        "conformance.server-error",
        rewriting(conventions.server_error_on_edge),
        focus=("listContacts",),
        profile={"coverage_phase": True},  # boundary values: the full profile's phase
    ),
    Fault(
        "undocumented status",
        "conformance.status-code",
        rewriting(conventions.undocumented_status),
        focus=("listContacts",),
    ),
    Fault(
        "response field of the wrong type",
        "conformance.response-schema",
        rewriting(conventions.wrong_type),
        focus=("createContact", "getContact", "listContacts"),
    ),
    Fault("Sunset header missing", "deprecation.headers", rewriting(conventions.no_sunset)),
)
