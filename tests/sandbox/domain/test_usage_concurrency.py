"""Concurrent ingests of the same event ids store each id once (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import threading
import uuid

from flask import Flask

from ..conftest import BASE, Key
from ..module_app import shared_app  # noqa: F401

THREADS = 6
EVENTS = 40


def test_threads_posting_the_same_ids_count_each_once(app: Flask, key: Key) -> None:
    setup = app.test_client()
    customer = setup.post(f"{BASE}/customers", json={"name": "Racer"}, headers=key.headers).json[
        "id"
    ]
    name = f"race.{uuid.uuid4().hex[:8]}"
    meter = setup.post(
        f"{BASE}/meters",
        json={"name": "n", "event_name": name, "aggregation": "count"},
        headers=key.headers,
    ).json["id"]
    events = [
        {"event_id": f"{name}-{i}", "customer_id": customer, "event_name": name, "value": 2}
        for i in range(EVENTS)
    ]
    barrier = threading.Barrier(THREADS)
    results: list[dict] = []
    errors: list[BaseException] = []

    def post(seed: int) -> None:
        batch = random.Random(seed).sample(events, len(events))  # each thread in its own order
        client = app.test_client()
        try:
            barrier.wait()
            response = client.post(
                f"{BASE}/meters/ingest", json={"events": batch}, headers=key.headers
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            results.append(response.json)
        except BaseException as error:  # noqa: BLE001  (reported below, in the main thread)
            errors.append(error)

    threads = [threading.Thread(target=post, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sum(r["ingested"] for r in results) == EVENTS
    assert sum(r["duplicates"] for r in results) == EVENTS * (THREADS - 1)
    ingested_ids = [
        x["event_id"] for r in results for x in r["results"] if x["status"] == "ingested"
    ]
    assert sorted(ingested_ids) == sorted(e["event_id"] for e in events)
    usage = setup.get(
        f"{BASE}/meters/{meter}/usage",
        query_string={"from": "2000-01-01T00:00:00Z"},
        headers=key.headers,
    ).json
    assert (usage["value"], usage["event_count"]) == (EVENTS, EVENTS)
    listed = setup.get(
        f"{BASE}/usage-events", query_string={"event_name": name}, headers=key.headers
    ).json
    assert listed["total"] == EVENTS
