"""A sandbox shared on PostgreSQL: two app instances on one database, racing writers.

Each race runs many trials, each trial's requests released together from threads, half
through each app, and asserts the invariant the race could break and that no answer is
a 5xx. SQLite lets one writer in at a time and would hide these races.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from sandbox.cli import main as cli
from sandbox.config import SandboxConfig
from sandbox.http.app import create_app, shutdown
from sandbox.storage.commerce import Invoice, Order, Payment, Refund
from sandbox.storage.crm import Contact, Deal

from ..conftest import BASE, Key, key_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TRIALS = 100
PARALLEL = 8  # trials in flight at once
Response = tuple[int, Any]


@pytest.fixture
def apps(postgres_url: str) -> Iterator[tuple[Flask, Flask]]:
    """Two sandboxes on one PostgreSQL database, as two servers of a team would be."""
    config = SandboxConfig(database_url=postgres_url, rate_limit_scale=0, webhook_worker=False)
    first, second = create_app(config), create_app(config)
    yield first, second
    shutdown(first)
    shutdown(second)


def call(app: Flask, key: Key, method: str, path: str, body: Any = None) -> Response:
    response = app.test_client().open(BASE + path, method=method, json=body, headers=key.headers)
    return response.status_code, response.get_json(silent=True)


def race(*calls: Callable[[], Response]) -> list[Response]:
    """Run the calls at the same moment, one thread each; their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Response | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers  # type: ignore[return-value]


def trials(run_one: Callable[[int], list[Response]]) -> list[list[Response]]:
    """TRIALS runs of a race, PARALLEL at a time; every answer checked to be below 500."""
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(run_one, range(TRIALS)))
    server_errors = [a for answers in results for a in answers if a[0] >= 500]
    assert not server_errors, server_errors[:3]
    return results


def rows(app: Flask, statement: Any) -> list[Any]:
    with app.extensions["sandbox"].database.session(write=False) as session:
        return list(session.execute(statement).all())


def _order(app: Flask, key: Key, amount: int = 1000, **fields: Any) -> str:
    status, order = call(
        app, key, "POST", "/orders", {"amount": amount, "currency": "USD", **fields}
    )
    assert status == 201, order
    return order["id"]


def _pay(app: Flask, key: Key, order_id: str, amount: int | None = None) -> Response:
    body = {"order_id": order_id, "payment_method": "pm_card_visa"}
    if amount is not None:
        body["amount"] = amount
    return call(app, key, "POST", "/payments", body)


def test_paying_and_canceling_an_order_at_once_never_both_succeed(
    apps: tuple[Flask, Flask],
) -> None:
    one, two = apps
    key = key_for(one, plan="enterprise")

    def trial(_: int) -> list[Response]:
        order_id = _order(one, key)
        return race(
            lambda: _pay(one, key, order_id),
            lambda: call(two, key, "POST", f"/orders/{order_id}/cancel"),
        )

    results = trials(trial)
    assert all(pay[0] in (201, 409) and cancel[0] in (200, 409) for pay, cancel in results)
    assert all((pay[0] == 201) != (cancel[0] == 200) for pay, cancel in results)
    broken = rows(
        one,
        select(Order.id)
        .join(Payment, Payment.order_id == Order.id)
        .where(Order.status == "canceled", Payment.status == "succeeded"),
    )
    assert broken == []


def test_concurrent_payments_never_exceed_the_order(apps: tuple[Flask, Flask]) -> None:
    one, two = apps
    key = key_for(one, plan="enterprise")

    def trial(_: int) -> list[Response]:
        order_id = _order(one, key, 1000)
        return race(*(lambda app=app: _pay(app, key, order_id, 400) for app in (one, two) * 2))

    results = trials(trial)
    assert all(sum(a[0] == 201 for a in answers) == 2 for answers in results)
    over = rows(
        one,
        select(Order.id, Order.amount, Order.amount_paid, func.sum(Payment.amount))
        .join(Payment, Payment.order_id == Order.id)
        .where(Payment.status == "succeeded")
        .group_by(Order.id)
        .having(
            (func.sum(Payment.amount) > Order.amount)
            | (func.sum(Payment.amount) != Order.amount_paid)
        ),
    )
    assert over == []


def test_concurrent_refunds_never_exceed_the_charge(apps: tuple[Flask, Flask]) -> None:
    one, two = apps
    key = key_for(one, plan="enterprise")

    def trial(_: int) -> list[Response]:
        status, payment = _pay(one, key, _order(one, key, 1000))
        assert status == 201, payment
        body = {"payment_id": payment["id"], "amount": 400}
        return race(
            *(lambda app=app: call(app, key, "POST", "/refunds", body) for app in (one, two) * 2)
        )

    results = trials(trial)
    assert all(sum(a[0] == 201 for a in answers) == 2 for answers in results)
    assert all(a[0] in (201, 409, 422) for answers in results for a in answers)
    over = rows(
        one,
        select(Payment.id)
        .join(Refund, Refund.payment_id == Payment.id)
        .group_by(Payment.id)
        .having(
            (func.sum(Refund.amount) > func.max(Payment.amount))
            | (func.sum(Refund.amount) != func.max(Payment.amount_refunded))
        ),
    )
    assert over == []


def test_an_invoice_created_while_its_order_is_paid_follows_the_order(
    apps: tuple[Flask, Flask],
) -> None:
    one, two = apps
    key = key_for(one, plan="enterprise")
    status, contact = call(one, key, "POST", "/crm/contacts", {"first_name": "Payer"})
    assert status == 201

    def trial(_: int) -> list[Response]:
        order_id = _order(one, key, 1000, contact_id=contact["id"])
        invoice = {
            "contact_id": contact["id"],
            "order_id": order_id,
            "currency": "USD",
            "tax_rate_bps": 0,
            "line_items": [{"description": "Work", "quantity": 1, "unit_amount": 1000}],
        }
        return race(
            lambda: _pay(one, key, order_id),
            lambda: call(two, key, "POST", "/invoices", invoice),
        )

    results = trials(trial)
    assert all((pay[0], made[0]) == (201, 201) for pay, made in results), results[:2]
    behind = rows(
        one,
        select(Invoice.id)
        .join(Order, Order.id == Invoice.order_id)
        .where(Order.status == "paid", Invoice.status != "paid"),
    )
    assert behind == []


@pytest.mark.parametrize("what", ["/crm/deals", "/orders"])
def test_deleting_a_contact_while_something_is_created_for_it(
    apps: tuple[Flask, Flask], what: str
) -> None:
    one, two = apps
    key = key_for(one, plan="enterprise")
    bodies = {
        "/crm/deals": lambda c: {"title": "Race", "contact_id": c},
        "/orders": lambda c: {"amount": 500, "currency": "USD", "contact_id": c},
    }

    def trial(_: int) -> list[Response]:
        status, contact = call(one, key, "POST", "/crm/contacts", {"first_name": "Racer"})
        assert status == 201
        return race(
            lambda: call(two, key, "DELETE", f"/crm/contacts/{contact['id']}"),
            lambda: call(one, key, "POST", what, bodies[what](contact["id"])),
        )

    results = trials(trial)
    for deleted, created in results:
        assert (deleted[0], created[0]) in ((204, 422), (409, 201)), (deleted, created)
        if created[0] == 422:
            assert created[1]["details"][0]["field"] == "contact_id"
    model = Deal if what == "/crm/deals" else Order
    orphans = rows(
        one,
        select(model.id)
        .outerjoin(Contact, Contact.id == model.contact_id)
        .where(model.contact_id.is_not(None), Contact.id.is_(None)),
    )
    assert orphans == []


def test_resets_succeed_while_both_servers_write(postgres_url: str) -> None:
    """API resets through either server and `sandbox reset` runs, under writers and deliveries."""
    config = SandboxConfig(database_url=postgres_url, rate_limit_scale=0, webhook_poll_seconds=0.02)
    one, two = create_app(config), create_app(config)  # each delivers webhooks too
    try:
        key = key_for(one, plan="starter")  # its primary business is subscribed to webhooks
        stop = threading.Event()
        answers: list[Response] = []

        def write(app: Flask) -> None:
            while not stop.is_set():
                answers.append(call(app, key, "POST", "/crm/contacts", {"first_name": "W"}))
                status, order = call(app, key, "POST", "/orders", {"amount": 9, "currency": "USD"})
                answers.append((status, order))
                if status == 201:
                    answers.append(_pay(app, key, order["id"]))

        writers = [threading.Thread(target=write, args=(app,)) for app in (one, two) * 3]
        for writer in writers:
            writer.start()
        try:
            resets = [call(app, key, "POST", "/sandbox/reset", {}) for app in (one, two) * 10]
            cli_runs = [cli(["reset", "--db", postgres_url]) for _ in range(3)]
        finally:
            stop.set()
            for writer in writers:
                writer.join()
    finally:
        shutdown(one)
        shutdown(two)
    assert [status for status, _ in resets] == [200] * len(resets), resets[:3]
    assert cli_runs == [0, 0, 0]
    assert answers and not [a for a in answers if a[0] >= 500], [a for a in answers if a[0] >= 500][
        :3
    ]
    assert {status for status, _ in answers} <= {200, 201, 401, 404, 409, 422}
