"""The webhook outbox seam: what a write reads, due deliveries, claims and recorded attempts,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from sandbox.domain import webhooks
from sandbox.storage import attempt_records, outbox
from sandbox.storage.base import utcnow
from sandbox.storage.core import Business, Company
from sandbox.storage.database import Database, Transaction
from sandbox.storage.webhooks import DeliveryAttempt, Webhook, WebhookDelivery

LEASE = timedelta(seconds=60)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    from sandbox.http.app import shutdown

    from ..conftest import build_app

    app = build_app(database_url)  # seeded; its deliveries are due at once (none yet)
    yield app.extensions["sandbox"].database
    shutdown(app)


def _primary(database: Database) -> list[tuple[str, str, str]]:
    """Each company's (company id, primary business id, its webhook id)."""
    with database.session() as session:
        rows = session.execute(
            select(Company.id, Business.id, Webhook.id)
            .join(Business, (Business.company_id == Company.id) & Business.primary.is_(True))
            .join(Webhook, Webhook.business_id == Business.id)
            .order_by(Company.id)
        ).all()
    return [tuple(row) for row in rows]


def _queue(database: Database, company: str, business: str, webhook: str, count: int) -> None:
    with database.unit() as unit:
        origin = webhooks.Origin(company, business, utcnow())
        for _ in range(count):
            webhooks.queue(unit, origin, "webhook.test", {"n": 1}, [webhook])


def _due(database: Database, limit: int = 100) -> list[outbox.Due]:
    with database.unit(write=False) as unit:
        return outbox.due(unit, utcnow() + timedelta(seconds=1), limit)


def _claim(database: Database, due: list[outbox.Due], token: str) -> list[outbox.Job]:
    """Claim `due` under `token` in a write transaction; the jobs it leased."""
    claims = outbox.claims(database, due, utcnow(), LEASE, token)
    with database.unit() as unit:
        outbox.claim(unit, claims)
    with database.unit(write=False) as unit:
        return outbox.jobs(unit.connection, claims)


def _fresh(database: Database) -> None:
    """No delivery of the fixtures is due (their retries wait on the test clock)."""
    with database.unit() as unit:
        unit.connection.execute(
            update(WebhookDelivery).values(status="failed", next_attempt_at=None)
        )


def test_the_write_side_read_names_the_clock_and_the_subscribers(database: Database) -> None:
    company, business, webhook = _primary(database)[0]
    with database.unit() as unit:
        found = outbox.clock_and_subscribers(unit, company, business)
        assert found is not None
        offset, subscribers = found
        assert offset == 0 and [w for w, _ in subscribers] == [webhook]
        assert outbox.clock_and_subscribers(unit, "cmp_gone", business) is None


def test_due_finds_every_company_and_honours_the_limit(database: Database) -> None:
    _fresh(database)
    primaries = _primary(database)
    for company, business, webhook in primaries:
        _queue(database, company, business, webhook, 3)
    due = _due(database)
    assert sorted({d.company_id for d in due}) == sorted(c for c, _, _ in primaries)
    assert len(due) == 3 * len(primaries)
    assert len(_due(database, limit=2)) == 2 * len(primaries)


def test_due_follows_the_company_test_clock(database: Database) -> None:
    _fresh(database)
    company, business, webhook = _primary(database)[0]
    with database.unit() as unit:
        origin = webhooks.Origin(company, business, utcnow() + timedelta(hours=1))
        webhooks.queue(unit, origin, "webhook.test", {}, [webhook])
    assert _due(database) == []
    with database.unit() as unit:
        unit.connection.execute(
            update(Company).where(Company.id == company).values(clock_offset_seconds=7200)
        )
    assert [d.company_id for d in _due(database)] == [company]


def test_a_claim_holds_what_it_marked_and_no_other_claim_gets_it(database: Database) -> None:
    _fresh(database)
    company, business, webhook = _primary(database)[0]
    _queue(database, company, business, webhook, 4)
    due = _due(database)
    first = _claim(database, due[:3], "tok_a")
    second = _claim(database, due, "tok_b")
    assert len(first) == 3 and len(second) == 1
    assert {j.number for j in first + second} == {1}
    assert {j.delivery_id for j in first}.isdisjoint(j.delivery_id for j in second)
    assert all(j.url and j.secret.startswith("whsec_") and j.body for j in first)
    assert _due(database) == []  # all four are leased


def test_recording_appends_the_attempt_and_moves_the_delivery_on(database: Database) -> None:
    _fresh(database)
    company, business, webhook = _primary(database)[0]
    _queue(database, company, business, webhook, 2)
    jobs = _claim(database, _due(database), "tok_a")
    kept, lost = jobs
    with database.unit() as unit:  # another worker took `lost` over (its lease ran out)
        unit.connection.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == lost.delivery_id)
            .values(lease_token="tok_b")
        )
    attempts = [
        attempt_records.Attempt(
            job.delivery_id, company, job.token, job.number, utcnow(), 500, None, 12
        )
        for job in jobs
    ]
    later = utcnow() + timedelta(minutes=1)
    records = attempt_records.records(database, attempts, lambda n, a: ("pending", later))
    with database.unit() as unit:
        dropped = attempt_records.record(unit, records)
    assert [a.delivery_id for a in dropped] == [lost.delivery_id]
    with database.session() as session:
        delivery = session.get(WebhookDelivery, kept.delivery_id)
        assert delivery is not None
        assert (delivery.attempt_count, delivery.status, delivery.lease_token) == (
            1,
            "pending",
            None,
        )
        recorded = session.scalars(
            select(DeliveryAttempt).where(
                DeliveryAttempt.delivery_id.in_([j.delivery_id for j in jobs])
            )
        ).all()
        assert [(a.delivery_id, a.number, a.status_code) for a in recorded] == [
            (kept.delivery_id, 1, 500)
        ]


def _steps(database: Database, work: Callable[[Transaction], object]) -> int:
    """How many SQLite VM instructions `work` runs in a write transaction of its own."""
    counted = [0]

    def count() -> int:
        counted[0] += 1
        return 0  # go on

    with database.unit() as unit:
        driver = unit.connection.connection.driver_connection
        driver.set_progress_handler(count, 1)
        try:
            work(unit)
        finally:
            driver.set_progress_handler(None, 1)
    return counted[0]


def test_a_claims_work_does_not_grow_with_the_deliveries_waiting(database: Database) -> None:
    """A claim finds its deliveries by id: thousands of others pending (a dead receiver's
    retries) must not be read by each claim, holding the write lock meanwhile."""
    if database.dialect != "sqlite":
        pytest.skip("counts SQLite's VM instructions; PostgreSQL plans from its statistics")
    _fresh(database)
    company, business, webhook = _primary(database)[0]

    def claim_a_batch(token: str) -> int:
        _queue(database, company, business, webhook, 48)
        due = _due(database)
        assert len(due) == 48
        claims = outbox.claims(database, due, utcnow(), LEASE, token)
        return _steps(database, lambda unit: outbox.claim(unit, claims))

    alone = claim_a_batch("tok_a")
    with database.unit() as unit:  # 3,000 retries waiting an hour
        origin = webhooks.Origin(company, business, utcnow() + timedelta(hours=1))
        for _ in range(3000):
            webhooks.queue(unit, origin, "webhook.test", {"n": 1}, [webhook])
    among_many = claim_a_batch("tok_b")
    assert among_many < 1.5 * alone, (alone, among_many)


def test_attempts_whose_claims_all_hold_are_recorded_as_bound(database: Database) -> None:
    _fresh(database)
    company, business, webhook = _primary(database)[0]
    _queue(database, company, business, webhook, 3)
    jobs = _claim(database, _due(database), "tok_a")
    attempts = [
        attempt_records.Attempt(
            job.delivery_id, company, job.token, job.number, utcnow(), None, "no", 3
        )
        for job in jobs
    ]
    records = attempt_records.records(database, attempts, lambda n, a: ("failed", None))
    with database.unit() as unit:
        assert attempt_records.record(unit, records) == []
    ids = [j.delivery_id for j in jobs]
    with database.session() as session:
        moved = session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids))).all()
        assert {(d.attempt_count, d.status, d.lease_token) for d in moved} == {(1, "failed", None)}
        numbers = session.scalars(
            select(DeliveryAttempt.number).where(DeliveryAttempt.delivery_id.in_(ids))
        ).all()
        assert sorted(numbers) == [1, 1, 1]
    # Recorded again (a claim that no longer holds): nothing more is written.
    with database.unit() as unit:
        assert len(attempt_records.record(unit, records)) == 3
