"""Analytics at scale: ingest of 1,000-event batches, and metrics over 1,000,000 stored events.

Runs in-process (Flask test client on a SQLite file, responses not validated), so every
figure is server time. The core benchmark's read shape (a page of contacts) is timed the
same way in the same run: it is the baseline the other figures are read against.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import String, func, insert, literal, literal_column, null, select

from sandbox.config import SandboxConfig
from sandbox.domain.metrics import MetricQuery, compute
from sandbox.http.app import create_app, shutdown
from sandbox.storage import analytics, ingest
from sandbox.storage.analytics import Event, EventRollup, EventValue, micros
from sandbox.storage.base import UtcDateTime, table_of
from sandbox.storage.core import ApiKey, Business, Company
from sandbox.storage.database import Database

POPULATION = 1_000_000
CHUNK = 100_000
BATCH, BATCHES = 1_000, 20
DAYS = 90
DAY_US = 86_400_000_000
TARGETS_MS = {"batch": 100.0, "metric": 300.0}
READ_SHAPE = "/api/v1/crm/contacts?limit=10"  # the core benchmark's read shape
EVENT = "bench_purchase"
EVENT_COLUMNS = ["id", "company_id", "business_id", "event", "ts", "properties"]
EVENT_COLUMNS += ["visitor_id", "website_id", "received_at"]
VALUE_COLUMNS = ["event_id", "property", "company_id", "business_id", "event", "website_id"]
VALUE_COLUMNS += ["ts", "value"]


def populate(database: Database, company_id: str, business_id: str, now: datetime) -> float:
    """Store POPULATION events spread over the last DAYS days; seconds taken.

    SQLite generates the rows itself (a recursive CTE feeding INSERT … SELECT, written with
    SQLAlchemy Core) in time order; `amount` is copied to event_values the same way, and
    the hourly rollups are then computed from both with GROUP BY.
    """
    start, step = micros(now - timedelta(days=DAYS)), DAYS * DAY_US // POPULATION
    began = time.perf_counter()
    for offset in range(0, POPULATION, CHUNK):
        n = select(literal(0).label("i")).cte("n", recursive=True)
        n = n.union_all(select(n.c.i + 1).where(n.c.i < CHUNK - 1))
        i = n.c.i + offset
        amount = (func.abs(func.random() % 49_900) + 100) / 100.0
        rows = select(
            func.printf("evt_bench%012d", i),
            literal(company_id),
            literal(business_id),
            literal(EVENT),
            start + i * step + func.abs(func.random() % step),
            func.json_object("amount", amount, "currency", "USD"),
            "vis_" + func.cast(func.abs(func.random() % 50_000), String),
            null(),
            literal(now, UtcDateTime),
        )
        with database.session() as session:
            session.execute(insert(table_of(Event)).from_select(EVENT_COLUMNS, rows))
    with database.session() as session:
        amounts = select(
            *(Event.id, literal("amount"), Event.company_id, Event.business_id, Event.event),
            *(Event.website_id, Event.ts, func.json_extract(Event.properties, "$.amount")),
        ).where(Event.company_id == company_id, Event.event == EVENT)
        session.execute(insert(table_of(EventValue)).from_select(VALUE_COLUMNS, amounts))
        _rollups_from_rows(session, Event.event == EVENT, EventValue.event == EVENT)
    return time.perf_counter() - began


def _rollups_from_rows(session: Any, of_events: Any, of_values: Any) -> None:
    """The rollups of the bulk-loaded rows, in SQL (storage/ingest.py keeps them for API writes)."""
    width: Any = literal_column(str(analytics.HOUR_US))

    def hour(column: Any) -> Any:
        return column - (column % width + width) % width

    counts = (
        select(
            *(Event.company_id, Event.business_id, Event.event, literal(analytics.COUNT_ROW)),
            *(hour(Event.ts), func.coalesce(Event.website_id, analytics.NO_WEBSITE), func.count()),
            *(literal(0.0), null(), null()),
        )
        .where(of_events)
        .group_by(
            Event.company_id, Event.business_id, Event.event, hour(Event.ts), Event.website_id
        )
    )
    v, ev = EventValue.value, EventValue
    values = (
        select(
            *(ev.company_id, ev.business_id, ev.event, ev.property, hour(ev.ts)),
            *(func.coalesce(ev.website_id, analytics.NO_WEBSITE), func.count(v), func.sum(v)),
            *(func.min(v), func.max(v)),
        )
        .where(of_values)
        .group_by(ev.company_id, ev.business_id, ev.event, ev.property, hour(ev.ts), ev.website_id)
    )
    columns = [*ingest.ROLLUP_KEY, "count", "total", "low", "high"]
    for statement in (counts, values):
        session.execute(insert(table_of(EventRollup)).from_select(columns, statement))


def timed(action: Callable[[], Any], runs: int) -> list[float]:
    """Milliseconds of each of `runs` calls (after one warm-up call)."""
    action()
    out = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        out.append((time.perf_counter() - began) * 1000)
    return out


def batch_body(rng: random.Random, now: datetime, spread: timedelta) -> dict[str, Any]:
    """BATCH events with times in the `spread` before now, an amount and a visitor."""
    seconds = int(spread.total_seconds())
    events = [
        {
            "event": EVENT,
            "timestamp": (now - timedelta(seconds=rng.randrange(seconds))).isoformat(),
            "properties": {"amount": rng.randrange(100, 50_000) / 100, "currency": "USD"},
            "visitor_id": f"vis_{rng.randrange(50_000)}",
        }
        for _ in range(BATCH)
    ]
    return {"events": events}


def _ok(client: FlaskClient, method: str, path: str, key: str, **kwargs: Any) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    response = client.open(path, method=method, headers=headers, **kwargs)
    if response.status_code >= 300:
        text = response.get_data(as_text=True)
        raise RuntimeError(f"{method} {path} answered {response.status_code}: {text}")


def _enterprise(database: Database) -> tuple[str, str, str]:
    """(company id, primary business id, full-access key) of the unlimited fixture company."""
    with database.session() as session:
        company = session.scalars(select(Company).where(Company.plan == "enterprise")).one()
        business = session.scalars(
            select(Business.id).where(Business.company_id == company.id, Business.primary)
        ).one()
        key = session.scalars(
            select(ApiKey.secret).where(
                ApiKey.company_id == company.id, ApiKey.label == "Full access"
            )
        ).one()
    return company.id, business, key


def measure(directory: Path) -> dict[str, float]:
    """Every figure (ms, events/s) on a fresh sandbox in `directory`."""
    config = SandboxConfig(
        database_url=f"sqlite:///{directory / 'bench.db'}", rate_limit_scale=0, webhook_worker=False
    )
    app = create_app(config)
    database: Database = app.extensions["sandbox"].database
    company_id, business_id, key = _enterprise(database)
    now = datetime.now(UTC)
    figures = {"populate_s": populate(database, company_id, business_id, now)}
    client = app.test_client()
    figures["read_ms"] = statistics.median(timed(lambda: _ok(client, "GET", READ_SHAPE, key), 50))
    rng = random.Random(11)
    for label, spread in (("recent", timedelta(minutes=5)), ("day", timedelta(days=1))):
        bodies = iter([batch_body(rng, now, spread) for _ in range(BATCHES + 1)])

        def post(bodies: Any = bodies) -> None:
            _ok(client, "POST", "/api/v1/events/batch", key, json=next(bodies))

        figures[f"batch_{label}_ms"] = statistics.median(timed(post, BATCHES))
    since = now - timedelta(days=DAYS)
    for metric in ("count", "sum", "avg"):
        query = {"event": EVENT, "metric": metric, "interval": "day"}
        query |= {"from": since.isoformat(), "to": now.isoformat(), "property": "amount"}
        get = lambda q=query: _ok(client, "GET", "/api/v1/metrics", key, query_string=q)  # noqa: E731
        figures[f"metric_{metric}_ms"] = statistics.median(timed(get, 10))
    sql = MetricQuery(
        company_id, business_id, EVENT, "avg", "amount", "day", micros(since), micros(now)
    )
    with database.session() as session:
        figures["metric_sql_ms"] = statistics.median(timed(lambda: compute(session, sql), 10))
    shutdown(app)
    return figures


def report(f: dict[str, float]) -> None:
    """Print the figures beside the read baseline, and the verdicts against the targets."""
    print(f"populated {POPULATION:,} events in {f['populate_s']:.1f} s (bulk INSERT … SELECT)")
    print(f"{'figure':<52} {'ms':>8} {'x read':>7}")
    rows = [
        ("read baseline: GET crm/contacts?limit=10", f["read_ms"]),
        (f"POST events/batch, {BATCH:,} events of the last 5 minutes", f["batch_recent_ms"]),
        (f"POST events/batch, {BATCH:,} events of the last 24 hours", f["batch_day_ms"]),
        *(
            (f"GET metrics {m}, by day over {DAYS} days, 1M events", f[f"metric_{m}_ms"])
            for m in ("count", "sum", "avg")
        ),
        ("  of which the SQL (avg)", f["metric_sql_ms"]),
    ]
    for name, ms in rows:
        print(f"{name:<52} {ms:>8.1f} {ms / f['read_ms']:>7.1f}")
    print(
        f"ingest: {BATCH / f['batch_recent_ms'] * 1000:,.0f} events/s (recent), "
        f"{BATCH / f['batch_day_ms'] * 1000:,.0f} events/s (last 24 hours)"
    )
    worst_metric = max(f[f"metric_{m}_ms"] for m in ("count", "sum", "avg"))
    for name, ms in (("batch", f["batch_recent_ms"]), ("metric", worst_metric)):
        verdict = "meets" if ms < TARGETS_MS[name] else "MISSES"
        print(f"{name}: {ms:.1f} ms ({verdict} the {TARGETS_MS[name]:.0f} ms target)")


def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(Path(tmp))
    report(figures)
    return figures


if __name__ == "__main__":
    main()
