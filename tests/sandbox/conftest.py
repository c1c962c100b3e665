"""Sandbox apps under test: SQLite always, PostgreSQL too when SANDBOX_TEST_POSTGRES_URL is set.

Every app validates every response against the spec with openapi-core (strict mode), so a
handler that answers off-spec fails the test that reached it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, make_url, select, text

from sandbox.config import SandboxConfig
from sandbox.http.app import create_app, shutdown
from sandbox.storage.core import ApiKey, Company
from sandbox.storage.database import normalize_url

POSTGRES_URL = os.environ.get("SANDBOX_TEST_POSTGRES_URL")
BASE = "/api/v1"


@dataclass(frozen=True)
class Key:
    """A fixture key and what it belongs to."""

    secret: str
    company_id: str
    plan: str
    label: str
    scopes: tuple[str, ...]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded SQLite file, made once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "sandbox.db"
    shutdown(create_app(SandboxConfig(database_url=f"sqlite:///{path}", webhook_worker=False)))
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "sandbox.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


def _postgres_admin() -> Engine:
    return create_engine(normalize_url(POSTGRES_URL or ""), isolation_level="AUTOCOMMIT")


def _postgres_database_url(name: str) -> str:
    return (
        make_url(normalize_url(POSTGRES_URL or ""))
        .set(database=name)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A seeded PostgreSQL database, made once; each test gets a copy of it."""
    if not POSTGRES_URL:
        pytest.skip("SANDBOX_TEST_POSTGRES_URL is not set")
    name = "sandbox_template_" + uuid.uuid4().hex[:10]
    admin = _postgres_admin()
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    config = SandboxConfig(database_url=_postgres_database_url(name), webhook_worker=False)
    shutdown(create_app(config))
    yield name
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@contextmanager
def postgres_copy(template: str) -> Iterator[str]:
    """A fresh copy of the seeded database `template`, dropped when the block ends."""
    name = "sandbox_test_" + uuid.uuid4().hex[:10]
    admin = _postgres_admin()
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    try:
        yield _postgres_database_url(name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    """A fresh copy of the seeded PostgreSQL database, dropped afterwards."""
    with postgres_copy(postgres_template) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A seeded-on-start database: SQLite, and PostgreSQL when configured."""
    return request.getfixturevalue(f"{request.param}_url")


def build_app(url: str, **settings: Any) -> Flask:
    settings.setdefault("rate_limit_scale", 0)
    settings.setdefault("webhook_worker", False)
    return create_app(SandboxConfig(database_url=url, strict_responses=True, **settings))


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """A strict sandbox with rate limits lifted (their own tests use `limited_app`)."""
    flask_app = build_app(database_url)
    yield flask_app
    shutdown(flask_app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def keys_of(app: Flask) -> list[Key]:
    """Every fixture key, ordered by plan then label."""
    with app.extensions["sandbox"].database.session() as session:
        rows = session.execute(
            select(ApiKey, Company).join(Company, Company.id == ApiKey.company_id)
        ).all()
        keys = [Key(k.secret, c.id, c.plan, k.label, tuple(k.scopes)) for k, c in rows]
    return sorted(keys, key=lambda k: (k.plan, k.label))


def key_for(app: Flask, plan: str = "starter", label: str = "Full access") -> Key:
    return next(k for k in keys_of(app) if k.plan == plan and k.label == label)


@pytest.fixture
def key(app: Flask) -> Key:
    """The full-access key of the starter company (the one with two businesses)."""
    return key_for(app)


@pytest.fixture
def read_only_key(app: Flask) -> Key:
    return key_for(app, label="Read only")


@pytest.fixture
def other_key(app: Flask) -> Key:
    """A full-access key of another company."""
    return key_for(app, plan="professional")
