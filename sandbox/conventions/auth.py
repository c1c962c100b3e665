"""API keys: parsing the bearer token, finding the key, checking scopes and the business."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from sandbox.errors import Forbidden, NotFound, Unauthorized
from sandbox.storage.core import ApiKey, Business, Company
from sandbox.storage.database import Database

TEST_PREFIX = "sk_test_"
LIVE_PREFIX = "sk_live_"
# The scheme name is case-insensitive (RFC 7235 §2.1): `bearer` and `BEARER` work too.
BEARER = re.compile(r"^Bearer\s+(\S+)\s*$", re.IGNORECASE)

MISSING = "Missing API key: send 'Authorization: Bearer sk_test_…'"
MALFORMED = "Malformed Authorization header: expected 'Bearer <key>'"
LIVE = "Live keys (sk_live_…) never work in the sandbox: use a test key (sk_test_…)"
NOT_A_KEY = "Malformed API key: sandbox keys start with sk_test_"
UNKNOWN = "Unknown API key"


def token_of(header: str | None) -> str:
    """The credentials of a Bearer Authorization header as sent, or "" if it is no such header.

    Checks nothing of the token: the rate limiter counts the request by it before
    `bearer_token` says what is wrong with it.
    """
    match = BEARER.match(header) if header else None
    return match.group(1) if match else ""


def bearer_token(header: str | None) -> str:
    """The key in an Authorization header; Unauthorized if absent, malformed or live."""
    if not header:
        raise Unauthorized(MISSING)
    match = BEARER.match(header)
    if not match:
        raise Unauthorized(MALFORMED)
    token = match.group(1)
    if token.startswith(LIVE_PREFIX):
        raise Unauthorized(LIVE)
    if not token.startswith(TEST_PREFIX):
        raise Unauthorized(NOT_A_KEY)
    return token


@dataclass(frozen=True)
class KeyInfo:
    """What the pipeline needs of a key, safe to share between requests."""

    id: str
    secret: str
    company_id: str
    plan: str
    label: str
    scopes: tuple[str, ...]

    @property
    def prefix(self) -> str:
        """The first characters of the secret, safe to show."""
        return self.secret[:12]


@dataclass(frozen=True)
class BusinessInfo:
    """A business of a company, safe to share between requests."""

    id: str
    company_id: str
    name: str
    primary: bool

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "primary": self.primary}


class Directory:
    """Keys and businesses, cached per process for `ttl` seconds.

    They change only when a sandbox is reset to another seed, so a short cache keeps
    two queries off every request without serving a stale key for long.
    """

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[float, KeyInfo | None]] = {}
        self._businesses: dict[str, tuple[float, tuple[BusinessInfo, ...]]] = {}

    def key(self, database: Database, secret: str) -> KeyInfo | None:
        """The key with that secret, or None if there is none."""
        now = time.monotonic()
        cached = self._keys.get(secret)
        if cached is not None and cached[0] > now:
            return cached[1]
        with database.session(write=False) as session:
            row = session.execute(
                select(ApiKey, Company.plan)
                .join(Company, Company.id == ApiKey.company_id)
                .where(ApiKey.secret == secret)
            ).first()
            info = None
            if row is not None:
                key, plan = row
                info = KeyInfo(
                    key.id, key.secret, key.company_id, plan, key.label, tuple(key.scopes)
                )
        with self._lock:
            self._keys[secret] = (now + self.ttl, info)
        return info

    def businesses(self, connection: Connection, company_id: str) -> tuple[BusinessInfo, ...]:
        """The company's businesses, primary first."""
        now = time.monotonic()
        cached = self._businesses.get(company_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        rows = connection.execute(
            select(Business.id, Business.company_id, Business.name, Business.primary)
            .where(Business.company_id == company_id)
            .order_by(Business.primary.desc(), Business.id)
        ).all()
        infos = tuple(BusinessInfo(*row) for row in rows)
        with self._lock:
            self._businesses[company_id] = (now + self.ttl, infos)
        return infos

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._businesses.clear()


def require_scopes(key: KeyInfo, scopes: tuple[str, ...]) -> None:
    """Forbidden unless the key carries every scope in `scopes`."""
    missing = [s for s in scopes if s not in key.scopes]
    if missing:
        raise Forbidden(f"This key lacks the scope {', '.join(missing)}")


def business_for(businesses: tuple[BusinessInfo, ...], requested: str | None) -> BusinessInfo:
    """The business named by X-Business-Id, or the company's primary business."""
    for business in businesses:
        if (business.id == requested) if requested is not None else business.primary:
            return business
    raise NotFound(
        f"No business with id {requested}" if requested else "The company has no business"
    )
