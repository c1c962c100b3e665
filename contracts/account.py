"""What a key can do, learned from `GET /account` (operationId getAccount)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.client import Client, Unreachable
from contracts.exchange import Exchange
from contracts.spec import Spec

ACCOUNT_OPERATION = "getAccount"


class Misconfigured(Exception):
    """What the kit was given cannot work as given (a usage error, exit 2), said plainly."""


class KeyRejected(Exception):
    """The server refused a key the kit was given (a usage error, exit 2)."""

    def __init__(self, label: str, exchange: Exchange) -> None:
        super().__init__(f"{label} was refused by {exchange.url}: {exchange.summary()}")
        self.exchange = exchange


@dataclass(frozen=True)
class Account:
    """The company, plan, scopes and limits behind one key."""

    company_id: str
    plan: str
    scopes: frozenset[str]
    requests_per_minute: int | None
    businesses: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def lacks(self, scopes: list[str]) -> bool:
        """True when at least one of `scopes` is missing from the key."""
        return any(scope not in self.scopes for scope in scopes)


def fetch_account(spec: Spec, client: Client, label: str = "--key") -> Account:
    """GET /account with the client's key.

    Raises Unreachable without an answer, Misconfigured when the base URL does not lead
    to the API (a 404 on the account itself), KeyRejected for any other answer but 200.
    """
    op = spec.operation(ACCOUNT_OPERATION)
    exchange = client.request(op.method, op.path, operation_id=op.operation_id)
    if not exchange.answered:
        raise Unreachable(f"{exchange.method} {exchange.url}: {exchange.error}")
    if exchange.status == 404:
        raise Misconfigured(wrong_base_url(spec, client, exchange))
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict):
        raise KeyRejected(label, exchange)
    key = body.get("key") or {}
    limits = body.get("limits") or {}
    return Account(
        company_id=str(body.get("company_id")),
        plan=str(body.get("plan")),
        scopes=frozenset(key.get("scopes") or ()),
        requests_per_minute=limits.get("requests_per_minute"),
        businesses=tuple(
            str(b.get("id")) for b in body.get("businesses") or () if isinstance(b, dict)
        ),
        raw=body,
    )


def wrong_base_url(spec: Spec, client: Client, exchange: Exchange) -> str:
    """Why `GET /account` was 404, in words: a base URL that lacks the spec's prefix
    (when the prefixed URL answers, the message says so), or one that is elsewhere."""
    prefix = spec.base_path
    base = client.base_url
    said = f"{exchange.method} {exchange.url} is 404, so --base-url does not lead to the API"
    if prefix and not base.endswith(prefix):
        op = spec.operation(ACCOUNT_OPERATION)
        probe = client.request(op.method, prefix + op.path, operation_id=op.operation_id)
        if probe.answered and probe.status != 404:
            return f"{said}: it lacks the prefix {prefix}; use --base-url {base}{prefix}"
    return f"{said}: it should be the URL the spec's paths follow (ending {prefix or '/'})"
