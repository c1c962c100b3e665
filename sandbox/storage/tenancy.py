"""Company-wide locks on a server database: a company's writers share its lock, a reset excludes.

On PostgreSQL every write transaction of a request takes its company's lock in shared
mode, and the sandbox-wide lock in shared mode; resetting a company (or deleting one of
its webhooks, which its writes fan out to) takes the company's lock exclusively, and
`sandbox reset` the sandbox-wide one. A reset then never interleaves with the writes it
would break, on any number of servers sharing the database. The locks are
transaction-scoped advisory locks: they end with the transaction.

SQLite needs none: its writers already take turns on the file's write lock.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# Advisory lock keys are (namespace, key) pairs of 32-bit integers.
SANDBOX_WIDE = (0x53414E, 0)
COMPANY_NAMESPACE = 0x53414F

_SHARED = text(
    "SELECT pg_advisory_xact_lock_shared(:wide, :wide_key),"
    " pg_advisory_xact_lock_shared(:namespace, hashtext(:company_id))"
)
_EXCLUSIVE = text(
    "SELECT pg_advisory_xact_lock_shared(:wide, :wide_key),"
    " pg_advisory_xact_lock(:namespace, hashtext(:company_id))"
)
_SANDBOX = text("SELECT pg_advisory_xact_lock(:wide, :wide_key)")


def lock_company(connection: Connection, company_id: str, *, exclusive: bool = False) -> None:
    """Hold the company's lock (shared by writers, or exclusive) until the transaction ends."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(
        _EXCLUSIVE if exclusive else _SHARED,
        {
            "wide": SANDBOX_WIDE[0],
            "wide_key": SANDBOX_WIDE[1],
            "namespace": COMPANY_NAMESPACE,
            "company_id": company_id,
        },
    )


def lock_sandbox(connection: Connection) -> None:
    """Hold the sandbox-wide lock exclusively until the transaction ends: no company writes."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(_SANDBOX, {"wide": SANDBOX_WIDE[0], "wide_key": SANDBOX_WIDE[1]})
