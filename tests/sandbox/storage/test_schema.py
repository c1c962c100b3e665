"""A database made by an older sandbox gains the tables and columns added since."""

from __future__ import annotations

import random

from sqlalchemy import inspect, text

from sandbox.ids import ALPHABET_SORTED, ID_LENGTH, TIME_DIGITS, new_id, new_ordered_id, spelled
from sandbox.storage.database import Database


def test_an_older_database_gains_new_columns_and_tables(database_url: str) -> None:
    database = Database(database_url)
    try:
        with database.engine.begin() as connection:
            connection.execute(
                text("ALTER TABLE webhook_delivery_attempts DROP COLUMN response_body")
            )
            connection.execute(text("DROP TABLE request_log_bodies"))
            connection.execute(text("ALTER TABLE request_log DROP COLUMN exchange"))
        database.create_schema()
        found = inspect(database.engine)
        columns = {c["name"] for c in found.get_columns("webhook_delivery_attempts")}
        assert "response_body" in columns
        assert "request_log_bodies" in found.get_table_names()
        assert "exchange" in {c["name"] for c in found.get_columns("request_log")}
        database.create_schema()  # a second start changes nothing
    finally:
        database.engine.dispose()


def test_ordered_ids_sort_in_the_order_they_were_made() -> None:
    made = [new_ordered_id("rlg") for _ in range(2000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert all(len(made_id) == len("rlg_") + ID_LENGTH for made_id in made)


def test_ids_the_api_makes_are_ordered_and_the_fixtures_deterministic() -> None:
    made = [new_id("con") for _ in range(500)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert new_id("con", random.Random(7)) == new_id("con", random.Random(7))
    assert len(new_id("con", random.Random(7))) == len("con_") + ID_LENGTH


def test_an_ordered_ids_count_is_spelled_in_sorted_base_62() -> None:
    for count in (0, 1, 61, 62, 3843, 3844, 62**9, 62**10 - 1, 62**10 + 5, 1_795_000_000_000_000):
        digits, left = [], count
        for _ in range(TIME_DIGITS):
            left, digit = divmod(left, len(ALPHABET_SORTED))
            digits.append(ALPHABET_SORTED[digit])
        assert spelled(count) == "".join(reversed(digits))
