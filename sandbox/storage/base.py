"""Declarative base, shared column types and the tenancy mixin every resource uses."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import JSON, DateTime, Index, MetaData, String, Table, TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The real time, timezone-aware UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets zones).

    On SQLite the value is stored as text in the form SQLAlchemy's DATETIME uses
    (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC), converted in one step each way.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else _in_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _to_sqlite_text
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Any, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _from_sqlite_text
        return super().result_processor(dialect, coltype)


def _in_utc(value: datetime) -> datetime:
    """The same instant in UTC; ValueError for a naive datetime."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _to_sqlite_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _in_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def _from_sqlite_text(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value + "+00:00")


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class TenantOwned:
    """Columns of a resource owned by one business of one company.

    Each such table has an index on (company, business, created_at, id), so a page of a
    business's rows, newest first, reads only its rows, and its count only the index.
    The index also serves every lookup by company, or by company and business, so the
    tenancy columns carry no index of their own: an insert writes one index fewer each.
    """

    company_id: Mapped[str] = mapped_column(String(32))
    business_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)  # maps the class: its table exists after this
        table = cls.__table__  # type: ignore[attr-defined]  # set by the mapping above
        Index(
            f"ix_{table.name}_newest",
            table.c.company_id,
            table.c.business_id,
            table.c.created_at,
            table.c.id,
        )


_LONG_NUMBER = re.compile(r"\d{19}")


def json_loads(text: str) -> Any:
    """`json.loads`, through orjson wherever the two read alike.

    orjson reads integers past 64 bits as floats and refuses NaN and lone surrogates:
    text with a run of 19 digits, or that orjson refuses, goes to `json`.
    """
    if _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON of `value` as the API writes it (non-ASCII characters as
    themselves, a non-finite float as null), through orjson in a fraction of
    `json.dumps`'s time; through `json` where orjson cannot write it (an integer past
    64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a `Z` (microseconds only when there are some), or None."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # orjson writes what `isoformat` does, with `Z` for UTC, in a quarter of the time.
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode()


def upsert(session: Session, target: Any) -> Any:
    """The INSERT of the session's dialect (PostgreSQL's or SQLite's), the one that takes
    `on_conflict_do_update` and `on_conflict_do_nothing`."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


def table_of(model: type) -> Table:
    """The model's table (SQLAlchemy types `__table__` as any FROM clause)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]  # any mapped class has one


def storable(text: str) -> str:
    """`text` as a text column can hold it: NUL, which PostgreSQL refuses, shown as U+FFFD."""
    return text.replace("\x00", "\ufffd")


def owner_of(row: Any) -> tuple[str, str]:
    """The (company id, business id) of a resource's row."""
    return row.company_id, row.business_id
