"""Column types: UTC timestamps (aware in, aware UTC out) and JSON read back exactly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    create_engine,
    insert,
    select,
    text,
)
from sqlalchemy.exc import StatementError

from sandbox.http.responses import to_json
from sandbox.storage.base import UtcDateTime, iso, json_bytes
from sandbox.storage.database import Database

NEW_YORK_WINTER = timezone(timedelta(hours=-5))
METADATA = MetaData()
STAMPS = Table(
    "stamps", METADATA, Column("id", Integer, primary_key=True), Column("at", UtcDateTime)
)
DOCS = Table("docs", METADATA, Column("id", Integer, primary_key=True), Column("body", JSON))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = "sqlite://"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    METADATA.create_all(engine)
    yield engine
    METADATA.drop_all(engine)
    engine.dispose()


def test_an_aware_time_reads_back_as_the_same_instant_in_utc(engine: Engine) -> None:
    paris = datetime(2026, 3, 1, 12, 30, 5, 7, tzinfo=timezone(timedelta(hours=1)))
    with engine.begin() as connection:
        connection.execute(insert(STAMPS), [{"id": 1, "at": paris}, {"id": 2, "at": None}])
        got = dict(connection.execute(select(STAMPS.c.id, STAMPS.c.at)).all())
    assert got[1] == paris and got[1].tzinfo is UTC and got[1].hour == 11
    assert got[2] is None


def test_a_naive_time_is_refused(engine: Engine) -> None:
    with engine.begin() as connection, pytest.raises(StatementError, match="naive datetime"):
        connection.execute(insert(STAMPS).values(id=1, at=datetime(2026, 3, 1)))


def test_sqlite_stores_the_text_sqlalchemy_datetime_stores_and_reads_it_without_fraction() -> None:
    engine = create_engine("sqlite://")
    METADATA.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(STAMPS).values(id=1, at=datetime(2026, 3, 1, 1, 2, 3, 4, UTC)))
        connection.execute(text("INSERT INTO stamps VALUES (2, '2026-03-01 01:02:03')"))
        stored = connection.execute(text("SELECT at FROM stamps WHERE id = 1")).scalar_one()
        second = connection.execute(select(STAMPS.c.at).where(STAMPS.c.id == 2)).scalar_one()
        earlier = (
            connection.execute(
                select(STAMPS.c.id).where(STAMPS.c.at < datetime(2026, 3, 1, 1, 2, 3, 5, UTC))
            )
            .scalars()
            .all()
        )
    assert stored == "2026-03-01 01:02:03.000004"
    assert second == datetime(2026, 3, 1, 1, 2, 3, tzinfo=UTC)
    assert sorted(earlier) == [1, 2]


@pytest.mark.parametrize(
    "value",
    [
        {"tags": ["a", "b"], "n": 1.5, "none": None},
        {"big": 123456789012345678901234, "small": -9223372036854775809},
        {"phone": "1234567890123456789012"},
        [float("inf"), -0.0],
        "\ud800 alone",
        {"nul": "a\u0000b", "emoji": "\U0001f600"},
    ],
)
def test_sqlite_json_reads_back_what_was_stored(tmp_path: Path, value: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/docs.db")
    METADATA.create_all(database.engine)
    with database.engine.begin() as connection:
        connection.execute(insert(DOCS).values(id=1, body=value))
        got = connection.execute(select(DOCS.c.body)).scalar_one()
    database.dispose()
    assert got == value and repr(got) == repr(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 3, 1, 1, 2, 3, tzinfo=UTC), "2026-03-01T01:02:03Z"),
        (datetime(2026, 3, 1, 1, 2, 3, 4500, tzinfo=UTC), "2026-03-01T01:02:03.004500Z"),
        (
            datetime(2026, 3, 1, 1, 2, 3, tzinfo=timezone(timedelta(hours=-5))),
            "2026-03-01T06:02:03Z",
        ),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
        (None, None),
    ],
)
def test_iso_writes_rfc_3339_in_utc_with_a_z(value: datetime | None, text: str | None) -> None:
    assert iso(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"a": [1, 2.5, None, True], "é": "ü 😀"}, '{"a":[1,2.5,null,true],"é":"ü 😀"}'),
        ({"big": 2**70}, '{"big":1180591620717411303424}'),  # past orjson's 64 bits
        ([float("inf")], "[null]"),  # as to_json writes it in a response
    ],
)
def test_json_bytes_writes_compact_json_as_the_api_does(value: object, text: str) -> None:
    assert json_bytes(value) == to_json(value) == text.encode()
