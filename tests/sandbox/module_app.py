"""One strict sandbox per test module and database, for modules whose tests share it.

Building an app takes seconds; the business tests each make their own resources (and
never assume the test clock stands still), so one app per module serves them all.
A module opts in with `from .module_app import shared_app  # noqa: F401`: the fixture is
named `app`, so it overrides the function-scoped one of conftest.py for that module, and
`client`, `key` and friends use it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from sandbox.http.app import shutdown
from sandbox.storage.database import normalize_url

from .conftest import POSTGRES_URL, build_app


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh schema of the test PostgreSQL server, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("SANDBOX_TEST_POSTGRES_URL is not set")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        separator = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@contextmanager
def database(kind: str, directory: Path, sqlite_template: Path) -> Iterator[str]:
    """A seeded-on-start database URL of `kind` (sqlite or postgres)."""
    if kind == "postgres":
        with postgres_schema() as url:
            yield url
        return
    target = directory / "sandbox.db"
    shutil.copy(sqlite_template, target)
    yield f"sqlite:///{target}"


@pytest.fixture(
    scope="module",
    name="app",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def shared_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Flask]:
    """A strict sandbox with rate limits lifted, shared by the tests of one module."""
    with database(request.param, tmp_path_factory.mktemp("module"), sqlite_template) as url:
        flask_app = build_app(url)
        yield flask_app
        shutdown(flask_app)
