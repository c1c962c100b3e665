"""The database: engine creation per URL, transactions, and schema creation."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.expression import Executable

from sandbox.storage.base import Base, json_loads
from sandbox.storage.checkpoints import Checkpointer
from sandbox.storage.locks import SharedCounters, WriterLock, sidecar
from sandbox.storage.prepared import Bound, PreparedStatements
from sandbox.storage.rows import adding, completed, inserting

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A SQLite file is read with read calls, not through a memory map: in WAL mode a
# connection drops its map, like its page cache, whenever another has written since its
# last transaction, and mapping the file again (then faulting each page back in) costs
# more than reading the pages it needs. Under creates every transaction paid it.
SQLITE_MMAP_BYTES = 0


def normalize_url(url: str) -> str:
    """`:memory:` as a URL; plain `postgresql://` mapped to the psycopg 3 driver."""
    if url == ":memory:":
        return "sqlite:///:memory:"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class _Kept:
    """A connection one thread keeps between its transactions, closed when dropped."""

    __slots__ = ("connection", "__weakref__")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def __del__(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: S110  (at interpreter exit the pool may be gone)
            pass


class Transaction:
    """One database transaction on one connection.

    Core statements run on `connection`, or through `rows` prepared; the ORM `session`
    is opened on the same transaction on first use, so work that needs no ORM pays
    nothing for it.
    """

    __slots__ = ("connection", "_session", "_prepared")

    def __init__(self, connection: Connection, prepared: PreparedStatements) -> None:
        self.connection = connection
        self._session: Session | None = None
        self._prepared = prepared

    def rows(self, statement: Executable, values: Mapping[str, Any]) -> list[Any]:
        """The rows of a statement built once (see `prepared`), as named tuples."""
        return self._prepared(statement).all(self.connection, values)

    def insert(self, model: type, values: dict[str, Any]) -> Any:
        """Write one new `model` row with a single prepared INSERT (no ORM unit of work);
        the row as stored (a named tuple), defaults applied."""
        return self.rows(inserting(model), completed(model, values))[0]

    def add(self, model: type, values: dict[str, Any]) -> None:
        """Write one new `model` row with a single prepared INSERT that returns nothing."""
        self.rows(adding(model), completed(model, values))

    def add_rows(self, model: type, rows: Sequence[dict[str, Any]]) -> None:
        """Write new `model` rows, each giving every column (see `completed`)."""
        self._prepared(adding(model)).write_rows(self.connection, rows)

    def run_many(self, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement built once (see `prepared`) with each of `rows`' values."""
        self._prepared(statement).run_many(self.connection, rows)

    def run(self, bound: Bound) -> None:
        """Run statements whose values were bound ahead (`Database.prepared(…).bound_*`)."""
        bound.run(self.connection)

    @property
    def session(self) -> Session:
        """An ORM session inside this transaction (flushed before it commits)."""
        if self._session is None:
            self._session = Session(
                bind=self.connection, join_transaction_mode="rollback_only", autobegin=True
            )
        return self._session


class Database:
    """One engine and its transactions.

    On SQLite a write transaction first takes a writer lock shared by every process
    (a file lock), then `BEGIN IMMEDIATE`; readers use plain `BEGIN` and run beside it
    (WAL). An in-memory database lives on one shared connection, so its transactions are
    serialized in-process. `counters` holds the rate-limit counts beside a SQLite file
    (shared memory, no database write per request); on other databases it is None and
    counts live in the database.
    """

    def __init__(self, url: str) -> None:
        self._kept = threading.local()
        self._all_kept: weakref.WeakSet[_Kept] = weakref.WeakSet()
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        self._memory_lock: threading.RLock | None = None
        self.writer_lock: WriterLock | None = None
        self.counters: SharedCounters | None = None
        if self.dialect == "sqlite":
            self.writer_lock = WriterLock(sidecar(parsed.database or "", ".lock"))
            self.counters = SharedCounters(sidecar(parsed.database or "", ".ratelimits"))
        self.engine = self._create_engine(parsed)
        self.prepared = PreparedStatements(self.engine.dialect)
        # Writers of a SQLite file queue on the file lock (an in-memory one needs none).
        self._file_locked = self.writer_lock is not None and self._memory_lock is None
        # A SQLite file's WAL is checkpointed beside its writers, not in their commits.
        self.checkpointer: Checkpointer | None = None
        if self.writer_lock is not None and self._file_locked:
            self.checkpointer = Checkpointer(Path(parsed.database or ""), self.writer_lock)
        # A read-only transaction sees one snapshot on every database (SQLite's always do).
        reads: dict[str, Any] = {"sandbox_write": False}
        if self.dialect == "postgresql":
            reads["isolation_level"] = "REPEATABLE READ"
        self._begin_options: dict[bool, dict[str, Any]] = {
            True: {"sandbox_write": True},
            False: reads,
        }

    @property
    def in_memory(self) -> bool:
        """True for an in-memory SQLite database: one connection, gone with its process."""
        return self._memory_lock is not None

    def _create_engine(self, parsed: Any) -> Engine:
        if self.dialect != "sqlite":
            return create_engine(self.url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        in_memory = parsed.database in (None, "", ":memory:")
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False, "timeout": 30},
            "json_deserializer": json_loads,
        }
        if in_memory:
            kwargs["poolclass"] = StaticPool
            self._memory_lock = threading.RLock()
        else:  # every serving thread keeps a connection (see `unit`): no cap on their number
            kwargs["max_overflow"] = -1
        engine = create_engine(self.url, **kwargs)

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself
            cursor = dbapi_connection.cursor()
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA wal_autocheckpoint=0")  # see storage/checkpoints.py
                cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def on_begin(connection: Any) -> None:
            # Writers take the lock up front; readers run beside them (WAL).
            write = connection.get_execution_options().get("sandbox_write", True)
            connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def create_schema(self) -> None:
        """Create every table and index that does not exist yet."""
        import sandbox.storage.models  # noqa: F401  (registers every table)

        Base.metadata.create_all(self.engine)
        # create_all skips the tables that exist, and with them any column or index added
        # since: a database made by an older sandbox gains them here (new columns are all
        # nullable, so the rows it holds stay valid).
        with self.engine.begin() as connection:
            present = inspect(connection)
            for table in Base.metadata.sorted_tables:
                have = {column["name"] for column in present.get_columns(table.name)}
                for column in table.columns:
                    if column.name not in have and column.nullable:
                        kind = column.type.compile(dialect=connection.dialect)
                        connection.execute(
                            text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}")
                        )
                for index in table.indexes:
                    index.create(connection, checkfirst=True)

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any exception.

        `write=False` promises the transaction only reads: on SQLite it then does not
        queue for the write lock, on PostgreSQL it reads one snapshot (REPEATABLE READ).
        """
        with self.unit(write=write) as unit:
            yield unit.session

    @contextmanager
    def unit(
        self,
        *,
        write: bool = True,
        keep_connection: bool = False,
    ) -> Iterator[Transaction]:
        """Like `session`, yielding the Transaction (its session opened on first use).

        `keep_connection` (for threads that serve request after request) keeps the
        thread's SQLite connection between its transactions instead of returning it to
        the pool; the thread's end or `dispose` returns it.
        """
        lock = self._memory_lock
        if lock is not None:
            lock.acquire()
        try:
            with self._connection(keep_connection) as connection:
                if write and self.checkpointer is not None:
                    self.checkpointer.ensure_running()
                with self._writer(write):
                    connection.execution_options(**self._begin_options[write])
                    with self._begun(connection) as unit:
                        yield unit
        finally:
            if lock is not None:
                lock.release()

    @contextmanager
    def _connection(self, keep: bool) -> Iterator[Connection]:
        if not keep or not self._file_locked:
            with self.engine.connect() as connection:
                yield connection
            return
        kept: _Kept | None = getattr(self._kept, "value", None)
        if kept is None or kept.connection.closed:
            kept = self._kept.value = _Kept(self.engine.connect())
            self._all_kept.add(kept)
        try:
            yield kept.connection
        except SQLAlchemyError:
            self._kept.value = None  # a connection that failed is not used again
            kept.connection.close()
            raise

    @contextmanager
    def _begun(self, connection: Connection) -> Iterator[Transaction]:
        unit = Transaction(connection, self.prepared)
        try:
            with connection.begin():
                yield unit
                if unit._session is not None:
                    unit._session.flush()
        finally:
            if unit._session is not None:
                unit._session.close()

    @contextmanager
    def _writer(self, write: bool) -> Iterator[None]:
        if write and self._file_locked:
            assert self.writer_lock is not None  # a locked file has one
            with self.writer_lock.held():
                yield
        else:
            yield

    def dispose(self) -> None:
        """Stop checkpointing; close every pooled connection, and those kept by serving
        threads."""
        if self.checkpointer is not None:
            self.checkpointer.stop()
        for kept in list(self._all_kept):
            kept.connection.close()
        self.engine.dispose()
