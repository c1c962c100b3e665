"""Storage: the SQLAlchemy engine, sessions and models. Never imports Flask."""

from sandbox.storage.base import Base, TenantOwned, utcnow
from sandbox.storage.database import Database

__all__ = ["Base", "Database", "TenantOwned", "utcnow"]
