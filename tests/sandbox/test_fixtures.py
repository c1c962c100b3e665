"""Fixtures: deterministic from the seed, companies on different plans, data on every surface."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from sandbox.fixtures import seed_if_empty
from sandbox.keys import fixture_keys
from sandbox.spec import load_spec
from sandbox.storage import Base
from sandbox.storage.core import Business, Company
from sandbox.storage.database import Database


def _seeded(path: Path, seed: int) -> Database:
    database = Database(f"sqlite:///{path}")
    database.create_schema()
    seed_if_empty(database, seed, load_spec())
    return database


def _snapshot(database: Database) -> dict[str, list[tuple]]:
    """Every table's ids (and key secrets), in id order."""
    out = {}
    with database.session() as session:
        for table in Base.metadata.sorted_tables:
            if "id" in table.c:
                out[table.name] = [
                    tuple(r) for r in session.execute(select(table.c.id).order_by(table.c.id))
                ]
    out["keys"] = [(k["key"], k["company_id"]) for k in fixture_keys(database)]
    return out


def test_the_same_seed_gives_the_same_keys_and_data(tmp_path: Path) -> None:
    first = _snapshot(_seeded(tmp_path / "a.db", 7))
    second = _snapshot(_seeded(tmp_path / "b.db", 7))
    other = _snapshot(_seeded(tmp_path / "c.db", 8))
    assert first == second
    assert first["keys"] != other["keys"]


def test_companies_plans_keys_and_businesses(tmp_path: Path) -> None:
    database = _seeded(tmp_path / "s.db", 42)
    keys = fixture_keys(database)
    plans = {k["plan"] for k in keys}
    assert len(plans) >= 3
    for plan in plans:
        labels = {k["label"]: k for k in keys if k["plan"] == plan}
        assert set(labels) == {"Full access", "Read only"}
        assert all(s.endswith(":read") for s in labels["Read only"]["scopes"])
        assert set(labels["Read only"]["scopes"]) < set(labels["Full access"]["scopes"])
    with database.session() as session:
        per_company = session.execute(
            select(Business.company_id, func.count()).group_by(Business.company_id)
        ).all()
        assert max(count for _, count in per_company) >= 2
        assert session.scalar(select(func.count()).select_from(Company)) >= 3


def test_every_tenant_table_has_data_for_every_company(tmp_path: Path) -> None:
    database = _seeded(tmp_path / "s.db", 42)
    empty = []
    with database.session() as session:
        companies = session.scalars(select(Company.id)).all()
        for table in Base.metadata.sorted_tables:
            if {"company_id", "business_id"} <= set(table.c.keys()):
                for company in companies:
                    count = session.scalar(
                        select(func.count()).select_from(table).where(table.c.company_id == company)
                    )
                    if not count:
                        empty.append((table.name, company))
    assert empty == []
