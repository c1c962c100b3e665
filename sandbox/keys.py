"""The test keys a sandbox holds, as `serve`'s banner and `sandbox keys` show them."""

from __future__ import annotations

import sys
from typing import IO, Any

from sqlalchemy import select

from sandbox.storage.core import ApiKey, Business, Company
from sandbox.storage.database import Database

# The label of the key the banner exports as SANDBOX_KEY, which the reference's curl
# examples send and `sandbox listen` and `sandbox trigger` use by default.
FULL_ACCESS = "Full access"


def fixture_keys(database: Database) -> list[dict[str, Any]]:
    """Every key with its company, plan and scopes, ordered by plan and label."""
    with database.session() as session:
        rows = session.execute(
            select(ApiKey, Company)
            .join(Company, Company.id == ApiKey.company_id)
            .order_by(Company.plan, ApiKey.label)
        ).all()
        businesses = {
            b.company_id: b.id
            for b in session.scalars(select(Business).where(Business.primary.is_(True)))
        }
        return [
            {
                "key": key.secret,
                "label": key.label,
                "company_id": company.id,
                "company_name": company.name,
                "business_id": businesses.get(company.id),
                "plan": company.plan,
                "scopes": list(key.scopes),
            }
            for key, company in rows
        ]


def exported_key(keys: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The key `serve`'s banner exports as SANDBOX_KEY: the first full-access one of `keys`."""
    return next((k for k in keys if k["label"] == FULL_ACCESS), keys[0] if keys else None)


def print_keys(keys: list[dict[str, Any]], out: IO[str] = sys.stdout) -> None:
    """A table of keys a person can copy from."""
    print(f"{'key':<34} {'plan':<13} {'company':<26} {'access'}", file=out)
    for k in keys:
        print(f"{k['key']:<34} {k['plan']:<13} {k['company_id']:<26} {k['label']}", file=out)
