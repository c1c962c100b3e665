"""WAL checkpoints of a SQLite file run beside the writers, never inside a commit."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from sandbox.storage.checkpoints import (
    INTERVAL_SECONDS,
    MIN_PAUSE_SECONDS,
    RETRY_SECONDS,
    WAL_FRAMES,
    Checkpointer,
    next_pause,
)
from sandbox.storage.database import SQLITE_MMAP_BYTES, Database

ROW = "x" * 2000  # with its index entry, a transaction writes a few pages


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    with database.unit() as unit:
        unit.connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        unit.connection.execute(text("CREATE INDEX ix_notes_body ON notes (body)"))
    yield database
    database.dispose()


def _write(database: Database, count: int) -> None:
    for _ in range(count):
        with database.unit() as unit:
            unit.connection.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": ROW})


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sqlite-checkpoint" and t.is_alive()]


def test_a_commit_never_checkpoints(database: Database) -> None:
    """No writer copies the WAL inside its commit, holding the write lock meanwhile."""
    with database.unit() as unit:
        setting = unit.connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert setting == 0


def test_a_file_is_read_without_a_memory_map(database: Database) -> None:
    """No connection maps the file: each would map it again after every other writer's
    commit (see SQLITE_MMAP_BYTES)."""
    with database.unit(write=False) as unit:
        mapped = unit.connection.exec_driver_sql("PRAGMA mmap_size").scalar()
    assert mapped == SQLITE_MMAP_BYTES == 0


class _Script:
    """A connection whose checkpoints report scripted (frames, copied), and a writer
    lock that notes which checkpoints ran under it."""

    def __init__(self, *results: tuple[int, ...]) -> None:
        self.results = list(results)
        self.modes: list[tuple[str, bool]] = []
        self._held = False

    def execute(self, sql: str) -> _Script:
        self.modes.append((sql.removeprefix("PRAGMA wal_checkpoint(").rstrip(")"), self._held))
        return self

    def fetchone(self) -> tuple[int, ...]:
        result = self.results.pop(0)  # (frames, copied), or (busy, frames, copied)
        return result if len(result) == 3 else (0, *result)

    def __enter__(self) -> None:
        self._held = True

    def __exit__(self, *_exc: object) -> None:
        self._held = False


@pytest.mark.parametrize(
    ("first", "restarted"),
    [
        ((100, 100), False),
        ((WAL_FRAMES - 1, 1000), False),  # short: the next pass copies the rest, beside writers
        ((WAL_FRAMES, WAL_FRAMES - 40), True),  # long: copy the rest and start it again
    ],
)
def test_a_pass_restarts_the_wal_under_the_writer_lock_once_it_is_long(
    tmp_path: Path, first: tuple[int, int], restarted: bool
) -> None:
    script = _Script(first, (first[0], first[0]))
    checkpointer = Checkpointer(tmp_path / "x.db", script)
    result = checkpointer.checkpoint(script)  # type: ignore[arg-type]
    expected = [("PASSIVE", False)] + ([("RESTART", True)] if restarted else [])
    assert script.modes == expected
    assert result == checkpointer.last == (0, *((first[0],) * 2 if restarted else first))


def test_a_restart_held_off_is_tried_again_before_the_writers_go_on(tmp_path: Path) -> None:
    """The second try finds no frame written since the first, so no reader begun on one."""
    held_off, done = (1, WAL_FRAMES + 5, WAL_FRAMES), (0, WAL_FRAMES + 5, WAL_FRAMES + 5)
    script = _Script((WAL_FRAMES, WAL_FRAMES), held_off, done)
    checkpointer = Checkpointer(tmp_path / "x.db", script)
    result = checkpointer.checkpoint(script)  # type: ignore[arg-type]
    assert script.modes == [("PASSIVE", False), ("RESTART", True), ("RESTART", True)]
    assert result == done


def test_passes_come_sooner_while_the_wal_grows_fast() -> None:
    assert next_pause(0, 0, INTERVAL_SECONDS) == INTERVAL_SECONDS  # no writes
    assert next_pause(100, 100, INTERVAL_SECONDS) == INTERVAL_SECONDS  # 1,000 frames/s
    # 20,000 frames a second, 1,048 to go: long in 52.4 ms; the next pass at half that.
    assert next_pause(1000, 2000, 0.1) == pytest.approx(0.0262)
    assert next_pause(WAL_FRAMES - 1, 10_000, 0.01) == MIN_PAUSE_SECONDS


def test_a_wal_growing_fast_is_checked_before_it_gets_long(tmp_path: Path) -> None:
    """At 10,000 frames a second, 548 frames short of WAL_FRAMES: the next pass comes at
    half the 54.8 ms it takes to get there; after a restart, at half the time it takes
    to fill again at the rate seen; slower, a whole interval."""
    results = [(0, 500, 500), (0, 1500, 1500), (0, 2100, 2100), (0, 300, 300)]
    asked = _run_scripted(tmp_path, results)
    refill = WAL_FRAMES * 0.0274 / 600 / 2  # 600 frames came in the 27.4 ms before
    assert asked[:4] == pytest.approx([INTERVAL_SECONDS, INTERVAL_SECONDS, 0.0274, refill])
    assert asked[4] == INTERVAL_SECONDS  # 300 frames in 46.8 ms: 0.27 s from WAL_FRAMES


def test_the_wal_stays_short_under_steady_reads_and_writes(database: Database) -> None:
    """With a reader always on the WAL, it still starts again: writes that never pause
    never take it far past WAL_FRAMES (with passes beside the writers alone, 4,000
    transactions leave it at some 100 MB)."""
    wal = Path(f"{database.engine.url.database}-wal")
    reading = threading.Event()

    def read() -> None:
        while not reading.is_set():
            with database.unit(write=False) as unit:
                unit.connection.execute(text("SELECT count(*) FROM notes")).scalar()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    largest = 0
    try:
        for _ in range(40):
            _write(database, 100)
            largest = max(largest, wal.stat().st_size)
    finally:
        reading.set()
        reader.join()
    assert largest < 3 * WAL_FRAMES * 4096, largest


def test_one_process_at_a_time_checkpoints_a_file(tmp_path: Path) -> None:
    """Of two databases on one file (as of two processes: the lock is per opening), one
    makes the passes; when it stops, the other takes over."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = Database(url), Database(url)
    with first.unit() as unit:
        unit.connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    try:
        _write(first, 1)
        time.sleep(2 * INTERVAL_SECONDS)  # the first one's thread takes its turn
        _write(second, 1)
        time.sleep(3 * INTERVAL_SECONDS)
        assert first.checkpointer is not None and second.checkpointer is not None
        assert first.checkpointer.last is not None and second.checkpointer.last is None
        first.dispose()
        _write(second, 1)
        time.sleep(3 * INTERVAL_SECONDS)
        assert second.checkpointer.last is not None
    finally:
        first.dispose()
        second.dispose()


def test_writing_starts_the_thread_and_dispose_stops_it(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'thread.db'}")
    assert database.checkpointer is not None
    before = len(_checkpoint_threads())
    with database.unit(write=False) as unit:  # a reader alone starts nothing
        unit.connection.execute(text("SELECT 1"))
    assert len(_checkpoint_threads()) == before
    with database.unit() as unit:
        unit.connection.execute(text("CREATE TABLE t (x INTEGER)"))
    assert len(_checkpoint_threads()) == before + 1
    database.dispose()
    assert len(_checkpoint_threads()) == before


def test_other_databases_have_no_checkpointer() -> None:
    memory = Database("sqlite:///:memory:")
    try:
        assert memory.checkpointer is None
    finally:
        memory.dispose()


class _Pauses:
    """A stand-in for the thread's stop event, and its clock: notes each pause, stops
    after `passes`; time passes only while it waits."""

    def __init__(self, passes: int) -> None:
        self.passes = passes
        self.asked: list[float] = []

    def wait(self, seconds: float) -> bool:
        self.asked.append(seconds)
        return len(self.asked) > self.passes

    def now(self) -> float:
        return sum(self.asked)


def _run_scripted(tmp_path: Path, results: list[tuple[int, int, int]]) -> list[float]:
    """The pauses a checkpointer's thread takes after passes returning `results`."""

    class Scripted(Checkpointer):
        def connect(self) -> Any:
            return sqlite3.connect(":memory:")  # closed when the thread's loop ends

        def checkpoint(self, connection: Any) -> tuple[int, int, int]:
            return results.pop(0)

    pauses = _Pauses(passes=len(results))
    scripted = Scripted(tmp_path / "x.db", threading.Lock())  # type: ignore[arg-type]
    scripted.clock = pauses.now  # type: ignore[method-assign]
    scripted._run(pauses)  # type: ignore[arg-type]
    return pauses.asked


def test_a_restart_readers_held_off_is_tried_again_soon_then_less_often(tmp_path: Path) -> None:
    """A restart that readers held off is tried again after RETRY_SECONDS, not a whole
    interval later: a writer that never pauses would meanwhile take the WAL to several
    times WAL_FRAMES. Against a reader that stays, the pauses double up to the interval:
    each try holds the writers back while it waits."""
    held_off = (1, WAL_FRAMES, WAL_FRAMES - 5)
    results = [held_off, (0, 0, 0), (1, 100, 10)] + [held_off] * 7
    asked = _run_scripted(tmp_path, results)
    interval, retry = INTERVAL_SECONDS, RETRY_SECONDS
    # held off, a clean pass, a busy pass on a short WAL (nothing to restart), then a
    # reader that stays through seven passes
    backing_off = [retry, 2 * retry, 4 * retry, 8 * retry, interval, interval, interval]
    assert asked == [interval, retry, interval, interval, *backing_off]
