"""Prepared statements read and write exactly what `Connection.execute` would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import JSON, String, bindparam, func, literal_column, select
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sandbox.conventions.pagination import listing
from sandbox.storage.crm import Contact, Deal
from sandbox.storage.database import Database
from sandbox.storage.prepared import ROWS_PER_INSERT, Prepared
from sandbox.storage.rows import columns_of, completed, inserting


@pytest.fixture
def database(app: Flask) -> Iterator[Database]:
    yield app.extensions["sandbox"].database


def test_a_page_reads_the_same_rows_and_values_either_way(database: Database) -> None:
    with database.engine.connect() as connection:
        company_id, business_id, stage = connection.execute(
            select(Deal.company_id, Deal.business_id, Deal.stage)
            .group_by(Deal.company_id, Deal.business_id, Deal.stage)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    shape = listing(Deal, ("stage",))
    values = {"company_id": company_id, "business_id": business_id, "stage": stage}
    values |= {"limit": 3, "offset": 1}
    with database.unit(write=False) as unit:
        expected = [row._asdict() for row in unit.connection.execute(shape.rows, values)]
        got = [row._asdict() for row in unit.rows(shape.rows, values)]
    assert len(got) == 3 and got == expected
    assert [type(v) for row in got for v in row.values()] == [
        type(v) for row in expected for v in row.values()
    ]


def test_a_bound_default_and_json_and_null_values_come_through(database: Database) -> None:
    statement = (
        select(*columns_of(Contact))
        .where(Contact.last_name.is_not(None) | Contact.last_name.is_(None))
        .where(Contact.first_name != bindparam("unlikely", "no one is called this"))
        .order_by(Contact.id)
        .limit(3)
    )
    with database.unit(write=False) as unit:
        expected = [tuple(row) for row in unit.connection.execute(statement)]
        got = [tuple(row) for row in unit.rows(statement, {})]
    assert got == expected and len(got) == 3
    assert all(isinstance(row[columns_of(Contact).index(_tags())], list) for row in got)


def _tags() -> object:
    return next(c for c in columns_of(Contact) if c.key == "tags")


def test_a_missing_value_or_a_failing_statement_raises_sqlalchemys_errors(
    database: Database,
) -> None:
    needs_id = select(Contact.id).where(Contact.id == bindparam("id"))
    with pytest.raises(InvalidRequestError, match="'id'"), database.unit(write=False) as unit:
        unit.rows(needs_id, {})
    fails = select(literal_column("no_such_column")).select_from(Contact.__table__)
    with pytest.raises(DBAPIError, match="no_such_column"), database.unit(write=False) as unit:
        unit.rows(fails, {})


def test_a_statement_completed_at_execution_is_refused(database: Database) -> None:
    statement = select(Contact.id).where(Contact.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="post-compiled"):
        Prepared(statement, database.engine.dialect)


def test_an_insert_leaves_out_columns_at_their_defaults() -> None:
    first = completed(Contact, {"id": "con_1", "first_name": "Ann"})
    second = completed(Contact, {"id": "con_2", "first_name": "Bo", "email": "b@example.com"})
    assert first["tags"] == [] and first["tags"] is not second["tags"]  # made per row
    assert first["email"] is None and second["email"] == "b@example.com"
    assert set(first) == {column.key for column in Contact.__table__.columns}


class _Other(DeclarativeBase):
    pass


class _Stamped(_Other):
    __tablename__ = "stamped"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[str] = mapped_column(String(32), server_default="now")


class _Doc(_Other):
    __tablename__ = "docs_left_out"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    body: Mapped[dict | None] = mapped_column(JSON)
    tags: Mapped[list] = mapped_column(JSON, default=list)


def test_a_prepared_insert_stores_what_leaving_columns_out_stores(database: Database) -> None:
    _Doc.__table__.create(database.engine)
    table = _Doc.__table__
    try:
        with database.unit() as unit:
            made = unit.rows(inserting(_Doc), completed(_Doc, {"id": "prepared"}))[0]
            unit.connection.execute(table.insert().values(id="left-out", tags=[]))
        with database.unit(write=False) as unit:
            stored = unit.connection.execute(
                select(table.c.id, table.c.body.is_(None), table.c.tags).order_by(table.c.id)
            ).all()
    finally:
        _Doc.__table__.drop(database.engine)
    assert made.body is None and made.tags == []
    assert [tuple(row)[1:] for row in stored] == [(True, []), (True, [])]


def test_an_insert_refuses_a_model_with_a_default_only_sql_applies() -> None:
    with pytest.raises(TypeError, match="_Stamped.at"):
        inserting(_Stamped)


def test_an_insert_returning_keeps_its_columns_beside_one_returning_nothing() -> None:
    from sandbox.storage.database import Database
    from sandbox.storage.rows import adding, inserting
    from sandbox.storage.webhooks import WebhookEvent

    database = Database(":memory:")
    try:
        assert database.prepared(adding(WebhookEvent))._record._fields == ()
        fields = database.prepared(inserting(WebhookEvent))._record._fields
        assert fields == ("id", "type", "body", "company_id", "business_id", "created_at")
    finally:
        database.dispose()


def test_rows_written_together_store_what_one_at_a_time_stores(database: Database) -> None:
    """Many rows go in one statement per ROWS_PER_INSERT on SQLite (a writer holding the
    write lock gives up the GIL once, not once a row), and store the same values."""
    _Doc.__table__.create(database.engine)
    table = _Doc.__table__
    rows = [completed(_Doc, {"id": f"d{n:04d}", "body": {"n": n}}) for n in range(1200)]
    statements: list[str] = []
    try:
        with database.unit() as unit:
            driver = unit.connection.connection.driver_connection
            if database.dialect == "sqlite":
                driver.set_trace_callback(statements.append)
            unit.add_rows(_Doc, rows)
            if database.dialect == "sqlite":
                driver.set_trace_callback(None)
        with database.unit(write=False) as unit:
            stored = unit.connection.execute(
                select(table.c.id, table.c.body, table.c.tags).order_by(table.c.id)
            ).all()
    finally:
        _Doc.__table__.drop(database.engine)
    assert [tuple(row) for row in stored] == [(r["id"], r["body"], []) for r in rows]
    if database.dialect == "sqlite":
        assert len(statements) == -(-len(rows) // ROWS_PER_INSERT)
