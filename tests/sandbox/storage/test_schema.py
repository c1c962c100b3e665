"""A database made by an older sandbox gains the tables and columns added since."""

from __future__ import annotations

from sqlalchemy import inspect, text

from sandbox.storage.database import Database


def test_an_older_database_gains_new_columns_and_tables(database_url: str) -> None:
    database = Database(database_url)
    try:
        with database.engine.begin() as connection:
            connection.execute(
                text("ALTER TABLE webhook_delivery_attempts DROP COLUMN response_body")
            )
            connection.execute(text("DROP TABLE request_log_bodies"))
        database.create_schema()
        found = inspect(database.engine)
        columns = {c["name"] for c in found.get_columns("webhook_delivery_attempts")}
        assert "response_body" in columns
        assert "request_log_bodies" in found.get_table_names()
        database.create_schema()  # a second start changes nothing
    finally:
        database.engine.dispose()
