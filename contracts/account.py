"""What a key can do, learned from `GET /account` (operationId getAccount)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.client import Client
from contracts.exchange import Exchange
from contracts.spec import Spec

ACCOUNT_OPERATION = "getAccount"


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
    """GET /account with the client's key; raises KeyRejected unless it answers 200."""
    op = spec.operation(ACCOUNT_OPERATION)
    exchange = client.request(op.method, op.path, operation_id=op.operation_id)
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
