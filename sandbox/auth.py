"""API keys: parsing the bearer token, finding the key, checking scopes and the business."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.errors import Forbidden, NotFound, Unauthorized
from sandbox.storage.core import ApiKey, Business, Company

TEST_PREFIX = "sk_test_"
LIVE_PREFIX = "sk_live_"
BEARER = re.compile(r"^Bearer\s+(\S+)\s*$")

MISSING = "Missing API key: send 'Authorization: Bearer sk_test_…'"
MALFORMED = "Malformed Authorization header: expected 'Bearer <key>'"
LIVE = "Live keys (sk_live_…) never work in the sandbox: use a test key (sk_test_…)"
NOT_A_KEY = "Malformed API key: sandbox keys start with sk_test_"
UNKNOWN = "Unknown API key"


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


def find_key(session: Session, token: str) -> tuple[ApiKey, Company] | None:
    """The key with that secret and its company, or None."""
    row = session.execute(
        select(ApiKey, Company).join(Company, Company.id == ApiKey.company_id).where(ApiKey.secret == token)
    ).first()
    return None if row is None else (row[0], row[1])


def require_scopes(key: ApiKey, scopes: tuple[str, ...]) -> None:
    """Forbidden unless the key carries every scope in `scopes`."""
    missing = [s for s in scopes if s not in key.scopes]
    if missing:
        raise Forbidden(f"This key lacks the scope {', '.join(missing)}")


def business_for(session: Session, company: Company, requested: str | None) -> Business:
    """The business named by X-Business-Id, or the company's primary business."""
    query = select(Business).where(Business.company_id == company.id)
    if requested is None:
        business = session.scalars(query.where(Business.primary.is_(True))).first()
    else:
        business = session.scalars(query.where(Business.id == requested)).first()
    if business is None:
        raise NotFound(f"No business with id {requested}" if requested else "The company has no business")
    return business
