"""The app factory: spec-bound routing that refuses a mismatch, storage by URL."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from sandbox.config import SandboxConfig
from sandbox.handlers import HANDLERS
from sandbox.http.app import create_app, shutdown
from sandbox.http.routing import check_handlers
from sandbox.ids import new_id
from sandbox.spec import SpecMismatch, load_spec
from sandbox.storage.database import Database
from sandbox.storage.webhooks import WebhookDelivery

from ..conftest import BASE, key_for


def test_every_operation_has_a_handler_and_no_handler_is_spare() -> None:
    check_handlers(load_spec(), HANDLERS)


def test_a_missing_handler_is_named_at_start() -> None:
    handlers = dict(HANDLERS)
    del handlers["getContact"]
    handlers["getNothing"] = handlers["listContacts"]
    with pytest.raises(SpecMismatch, match="getContact") as raised:
        check_handlers(load_spec(), handlers)
    assert "getNothing" in str(raised.value)


def test_in_memory_database_is_seeded_and_served() -> None:
    app = create_app(
        SandboxConfig(database_url=":memory:", webhook_worker=False, rate_limit_scale=0)
    )
    key = key_for(app)
    response = app.test_client().get(f"{BASE}/crm/contacts?limit=1", headers=key.headers)
    shutdown(app)
    assert response.status_code == 200 and response.json["total"] > 0


def test_state_survives_a_restart_on_a_file(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path}/restart.db"
    first = create_app(SandboxConfig(database_url=url, webhook_worker=False, rate_limit_scale=0))
    key = key_for(first)
    created = first.test_client().post(
        f"{BASE}/crm/contacts", json={"first_name": "Durable"}, headers=key.headers
    )
    shutdown(first)
    second = create_app(SandboxConfig(database_url=url, webhook_worker=False, rate_limit_scale=0))
    fetched = second.test_client().get(
        f"{BASE}/crm/contacts/{created.json['id']}", headers=key.headers
    )
    shutdown(second)
    assert fetched.status_code == 200 and fetched.json["first_name"] == "Durable"


def test_an_existing_database_gets_the_indexes_added_since(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    database.create_schema()
    with database.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_contacts_newest"))
    database.create_schema()
    names = {index["name"] for index in inspect(database.engine).get_indexes("contacts")}
    database.dispose()
    assert "ix_contacts_newest" in names


def test_a_webhook_deleted_while_a_create_waits_for_the_lock_gets_no_delivery(
    tmp_path: Path,
) -> None:
    """A write reads its business's subscribers once it holds the write lock: a webhook
    deleted by the writer it waited for is not queued to (nor fails the create)."""
    path = tmp_path / "race.db"
    app = create_app(
        SandboxConfig(database_url=f"sqlite:///{path}", webhook_worker=False, rate_limit_scale=0)
    )
    database = app.extensions["sandbox"].database
    key = key_for(app)
    client = app.test_client()
    assert client.get(f"{BASE}/webhooks", headers=key.headers).json["items"]
    answers: list = []

    def create() -> None:
        contact = {"first_name": "Raced"}
        answers.append(client.post(f"{BASE}/crm/contacts", json=contact, headers=key.headers))

    with database.writer_lock.held():  # another writer, which deletes every webhook
        creating = threading.Thread(target=create)
        creating.start()
        time.sleep(0.3)  # the create is under way, waiting for the lock
        with sqlite3.connect(path) as other:
            other.execute("PRAGMA foreign_keys=ON")
            for table in ("webhook_delivery_attempts", "webhook_deliveries", "webhooks"):
                other.execute(f"DELETE FROM {table} WHERE company_id = ?", (key.company_id,))
    creating.join(timeout=10)
    with database.session(write=False) as session:
        queued = session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.company_id == key.company_id)
        )
    shutdown(app)
    assert [answer.status_code for answer in answers] == [201]
    assert queued == 0


def test_forked_workers_make_different_ids() -> None:
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(writer, new_id("con").encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(reader, 100).decode() != new_id("con")


def test_a_serving_thread_keeps_its_connection_and_gives_it_back_when_it_ends(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'kept.db'}")
    database.create_schema()
    pool = database.engine.pool
    seen: list[object] = []

    def serve_twice() -> None:
        for _ in range(2):
            with database.unit(write=False, keep_connection=True) as unit:
                seen.append(unit.connection.connection.driver_connection)
        assert pool.checkedout() == 1  # type: ignore[attr-defined]  (kept between units)

    thread = threading.Thread(target=serve_twice)
    thread.start()
    thread.join()
    assert seen[0] is seen[1]
    assert pool.checkedout() == 0  # type: ignore[attr-defined]  (the thread ended)
    with database.unit(keep_connection=True):
        pass
    database.dispose()
    assert pool.checkedout() == 0  # type: ignore[attr-defined]
