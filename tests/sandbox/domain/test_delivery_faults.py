"""Webhook deliveries against receivers and workers that misbehave: a receiver down, slow,
dribbling or never answering; a webhook deleted mid-attempt; several workers at once;
one company's dead receivers beside another's."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sandbox.domain import delivery
from sandbox.domain.delivery import DeliveryWorker
from sandbox.http.app import shutdown
from sandbox.storage.base import utcnow
from sandbox.storage.webhooks import WebhookDelivery

from ..conftest import BASE, Key, build_app, key_for
from ..helpers import create_webhook
from ..module_app import shared_app  # noqa: F401
from ..receivers import Receiver
from .hooks import (
    POLICY,
    SCHEDULE,
    advance,
    delivered_once_each,
    free_port,
    only_delivery,
    subscribe,
)


def test_a_receiver_that_is_down_keeps_the_record(
    client: FlaskClient, key: Key, worker: DeliveryWorker
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks"
    webhook = create_webhook(client, key, ["sms.logged"], url=url)
    queued = client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers).json
    worker.run_due()
    delivery = client.get(
        f"{BASE}/webhooks/{webhook['id']}/deliveries/{queued['id']}", headers=key.headers
    ).json
    assert (delivery["status"], delivery["attempt_count"]) == ("pending", 1)
    attempt = delivery["attempts"][0]
    assert attempt["status_code"] is None
    assert "refused" in attempt["error"].lower()
    assert delivery["next_attempt_at"] is not None


def test_a_receiver_that_times_out_keeps_the_record(
    client: FlaskClient, key: Key, app: Flask
) -> None:
    quick = DeliveryWorker(
        app.extensions["sandbox"].database,
        replace(POLICY, timeout_seconds=0.2),
    )
    with Receiver(delay=2.0) as receiver:
        webhook = subscribe(client, key, receiver, ["sms.logged"])
        client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
        started = time.perf_counter()
        quick.run_due()
        assert time.perf_counter() - started < 1.5
    assert len(receiver.received) == 1
    delivery = only_delivery(client, key, webhook["id"])
    assert delivery["status"] == "pending"
    attempt = delivery["attempts"][0]
    assert (attempt["status_code"], attempt["error"]) == (
        None,
        "No complete answer within 0.2 s",
    )
    assert attempt["duration_ms"] >= 200


def test_a_deleted_webhook_gets_no_retry(
    client: FlaskClient, key: Key, worker: DeliveryWorker
) -> None:
    with Receiver(statuses=[500]) as receiver:
        webhook = subscribe(client, key, receiver, ["sms.logged"])
        client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
        worker.run_due()
        client.delete(f"{BASE}/webhooks/{webhook['id']}", headers=key.headers)
        advance(client, key, SCHEDULE[0])
        worker.run_due()
    assert len(receiver.received) == 1


def test_concurrent_workers_deliver_each_once(client: FlaskClient, app: Flask) -> None:
    builder = key_for(app, "builder")
    database = app.extensions["sandbox"].database
    with Receiver() as receiver:
        webhook = subscribe(client, builder, receiver, ["sms.logged"])
        for _ in range(8):
            client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=builder.headers)
        workers = [DeliveryWorker(database, POLICY) for _ in range(3)]
        threads = [threading.Thread(target=w.run_due) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    delivered = [r.headers["X-Delivery-Id"] for r in receiver.received]
    assert len(delivered) == len(set(delivered)) == 8
    assert delivered_once_each(client, builder, webhook["id"])


def test_the_app_worker_delivers_in_the_background(database_url: str) -> None:
    app = build_app(database_url, webhook_worker=True, webhook_poll_seconds=0.05)
    try:
        client, key = app.test_client(), key_for(app)
        with Receiver(delay=0.5) as receiver:
            webhook = subscribe(client, key, receiver, ["contact.created"])
            started = time.perf_counter()
            client.post(f"{BASE}/crm/contacts", json={"first_name": "Bea"}, headers=key.headers)
            answered = time.perf_counter()
            deadline = answered + 5
            while not receiver.received and time.perf_counter() < deadline:
                time.sleep(0.01)
            assert receiver.received, "the worker thread never delivered"
            assert answered - started < 0.5  # the request never waits for the delivery
            assert receiver.received[0].at - answered < 2
            while only_delivery(client, key, webhook["id"])["status"] == "pending":
                assert time.perf_counter() < deadline
                time.sleep(0.02)
        assert only_delivery(client, key, webhook["id"])["status"] == "succeeded"
    finally:
        shutdown(app)


def test_a_leased_delivery_waits_for_its_lease(client: FlaskClient, key: Key, app: Flask) -> None:
    database, worker = (
        app.extensions["sandbox"].database,
        DeliveryWorker(app.extensions["sandbox"].database, POLICY),
    )
    with Receiver() as receiver:
        webhook = subscribe(client, key, receiver, ["sms.logged"])
        queued = client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers).json
        with database.session() as session:  # as if another process held it mid-POST
            held = session.get(WebhookDelivery, queued["id"])
            held.lease_until, held.lease_token = utcnow() + timedelta(minutes=1), "another"
        worker.run_due()
        assert receiver.received == []
        with database.session() as session:  # that process died: its lease lapses
            session.get(WebhookDelivery, queued["id"]).lease_until = utcnow() - timedelta(seconds=1)
        worker.run_due()
    assert len(receiver.received) == 1
    assert only_delivery(client, key, webhook["id"])["status"] == "succeeded"


class Dribbler:
    """A receiver that reads each POST, then answers one byte at a time, `every` seconds
    apart: every read is quick, the whole answer takes far longer than any deadline."""

    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    def __init__(self, every: float) -> None:
        self.every = every
        self.posts: list[bytes] = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/hooks"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._dribble, args=(connection,), daemon=True).start()

    def _dribble(self, connection: socket.socket) -> None:
        with connection:
            self.posts.append(connection.recv(65536))
            for byte in self.ANSWER:
                if self.stop.wait(self.every):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    def __enter__(self) -> Dribbler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.listener.close()


def test_a_dribbling_receiver_is_cut_at_the_attempts_deadline(
    client: FlaskClient, key: Key, app: Flask
) -> None:
    quick = DeliveryWorker(
        app.extensions["sandbox"].database,
        replace(POLICY, timeout_seconds=0.5),
    )
    with Dribbler(every=0.1) as receiver:  # each read within 0.5 s; the answer takes 3.8 s
        webhook = create_webhook(client, key, ["sms.logged"], url=receiver.url)
        client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
        started = time.perf_counter()
        quick.run_due()
        elapsed = time.perf_counter() - started
        assert elapsed < 2.0, elapsed  # before: the whole 3.8 s answer was waited for
        assert len(receiver.posts) == 1
        quick.run_due()  # not due again before its retry: no second POST
        assert len(receiver.posts) == 1
        advance(client, key, SCHEDULE[0])
        quick.run_due()
        assert len(receiver.posts) == 2  # one POST per scheduled attempt
    delivery = only_delivery(client, key, webhook["id"])
    assert (delivery["status"], delivery["attempt_count"]) == ("pending", 2)
    for attempt in delivery["attempts"]:
        assert (attempt["status_code"], attempt["error"]) == (
            None,
            "No complete answer within 0.5 s",
        )


class BlackHole:
    """A receiver that takes each connection and never answers."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._take, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/hooks"

    def _take(self) -> None:
        while True:
            try:
                self.held.append(self.listener.accept()[0])
            except OSError:
                return

    def __enter__(self) -> BlackHole:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


def test_one_companys_dead_receivers_do_not_delay_another_company(
    client: FlaskClient, app: Flask
) -> None:
    slow_company, other_company = key_for(app, "builder"), key_for(app, "professional")
    worker = DeliveryWorker(
        app.extensions["sandbox"].database,
        replace(POLICY, timeout_seconds=5),
        poll_seconds=0.05,
    )
    with BlackHole() as hole, Receiver() as receiver:
        for _ in range(16):
            webhook = create_webhook(client, slow_company, ["sms.logged"], url=hole.url)
            client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=slow_company.headers)
        worker.start()
        try:
            time.sleep(0.5)  # the slow company's attempts are in flight, waiting
            webhook = subscribe(client, other_company, receiver, ["sms.logged"])
            sent = time.perf_counter()
            client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=other_company.headers)
            while not receiver.received and time.perf_counter() - sent < 10:
                time.sleep(0.01)
            assert receiver.received, "the other company's delivery never came"
            # before: 16 attempts of 5 s went first, one after another
            assert receiver.received[0].at - sent < 2
        finally:
            worker.stop()


def test_a_backlog_is_worked_through_without_waiting_a_tick_a_batch(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More due than one tick may claim: the next tick comes at once, not after a pause
    (here 5 s a pause: the 24 deliveries in batches of 4 would take 30 s)."""
    monkeypatch.setattr(delivery, "TICK_SECONDS", 5.0)
    key = key_for(app, "builder")
    worker = DeliveryWorker(
        app.extensions["sandbox"].database, POLICY, poll_seconds=5, per_company=4
    )
    with Receiver() as receiver:
        webhook = subscribe(client, key, receiver, ["sms.logged"])
        for _ in range(24):
            client.post(f"{BASE}/webhooks/{webhook['id']}/test", headers=key.headers)
        started = time.perf_counter()
        worker.start()
        try:
            while len(receiver.received) < 24 and time.perf_counter() - started < 15:
                time.sleep(0.01)
            assert len(receiver.received) == 24
            assert receiver.received[-1].at - started < 4
        finally:
            worker.stop()
    assert delivered_once_each(client, key, webhook["id"])


def test_a_failing_poll_waits_a_pause_even_with_a_backlog(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poll that fails after finding a backlog does not retry at once, again and again."""
    worker = DeliveryWorker(app.extensions["sandbox"].database, POLICY, poll_seconds=0.1)
    polls: list[float] = []

    def failing(real_now: object) -> list[object]:
        if real_now is None:  # the last tick, recording what finished: nothing did
            return []
        polls.append(time.perf_counter())
        worker._backlog = True
        raise RuntimeError("the database went away")

    monkeypatch.setattr(worker, "_tick", failing)
    worker.start()
    time.sleep(0.5)
    worker.stop()
    assert 2 <= len(polls) <= 10  # every 0.1 s; at once each time would be some 200
