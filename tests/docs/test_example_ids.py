"""The ids examples use are picked from the sandbox's data: the banner key's company, and rows
each example can act on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from sandbox import docs
from sandbox.cli import main
from sandbox.docs.example_ids import PICKS, lookup, picked, seeded
from sandbox.docs.web import id_token, with_ids
from sandbox.fixtures import seed_if_empty
from sandbox.spec import load_spec
from sandbox.storage.database import Database


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('ids')}/s.db")
    database.create_schema()
    seed_if_empty(database, 42, load_spec())
    return database


def scalar(database: Database, statement: str, **values: str) -> object:
    with database.session(write=False) as session:
        return session.connection().execute(text(statement), values).scalar()


def test_every_pick_finds_an_id_of_the_banner_keys_business(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = picked(database)
    assert set(found) == set(PICKS) - {"request_log_id"}  # nothing is logged in a fresh one
    main(["keys", "--db", str(database.url), "--json"])
    keys = json.loads(capsys.readouterr().out)
    banner = next(k for k in keys if k["label"] == "Full access")  # as `serve` prints them
    owner = scalar(
        database, "SELECT business_id FROM contacts WHERE id = :id", id=found["contact_id"]
    )
    assert owner == banner["business_id"]


@pytest.mark.parametrize(
    ("pick", "statement"),
    [
        ("contact_id", "SELECT count(*) = 0 FROM deals WHERE contact_id = :id"),
        ("order_id", "SELECT status = 'pending' FROM orders WHERE id = :id"),
        ("payment_id", "SELECT status = 'succeeded' FROM payments WHERE id = :id"),
        (
            "deleteCustomer.customer_id",
            "SELECT count(*) = 0 FROM usage_events WHERE customer_id = :id",
        ),
    ],
)
def test_picks_are_rows_the_example_can_act_on(database: Database, pick: str, statement: str):
    assert scalar(database, statement, id=picked(database)[pick]) == 1


def test_a_static_build_uses_the_ids_of_a_fresh_sandbox_of_its_seed(database: Database) -> None:
    assert seeded(42, load_spec()) == picked(database)
    assert seeded(7, load_spec()) != seeded(42, load_spec())


def test_lookup_prefers_the_operations_own_pick_then_the_fields_then_the_example():
    ids = lookup({"customer_id": "cus_a", "deleteCustomer.customer_id": "cus_b"})
    assert ids("getCustomer", "customer_id", "cus_x") == "cus_a"
    assert ids("deleteCustomer", "customer_id", "cus_x") == "cus_b"
    assert ids("getMeter", "meter_id", "mtr_x") == "mtr_x"


def test_the_served_page_fills_tokens_with_picked_ids_or_the_examples():
    order, meter = id_token("getOrder", "order_id", "ord_1"), id_token("getMeter", "meter_id", "m")
    page = f"/orders/{order} {meter}"
    assert with_ids(page, (("order_id", "ord_real"),)) == "/orders/ord_real m"


def test_a_page_served_without_a_sandbox_shows_the_spec_examples(spec_path: Path) -> None:
    app = Flask(__name__)
    app.register_blueprint(docs.blueprint(spec_path))
    page = app.test_client().get("/docs").get_data(as_text=True)
    assert "~id~" not in page
    assert "/crm/contacts/con_42bXk9" in page
