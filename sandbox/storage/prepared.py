"""Hot Core statements compiled once per dialect and run straight on the DBAPI cursor.

`Connection.execute` costs about 25 µs of bookkeeping a statement (compiled-cache
lookup, execution context, events, result metadata, `Row` objects with keyed access)
against about 5 µs for the driver's own call. The few statements every request runs
are prepared instead: compiled once, their values bound and read through the same
column types SQLAlchemy would use, their rows returned as named tuples (attribute
access at tuple speed). They run inside the connection's current transaction.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable, ReturnsRows

Processor = Callable[[Any], Any] | None
_MISSING = object()
ROWS_PER_INSERT = 500
SQLITE_VARIABLES = 32_766  # the most `?` one statement may hold (SQLite 3.32 and later)


class Prepared:
    """One statement compiled for one dialect.

    Raises ValueError for a statement whose SQL is only complete at execution time
    (expanding IN lists, literal-rendered values): those go through `Connection.execute`.
    """

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect))
        self.sql = compiled.string
        if "POSTCOMPILE" in self.sql:
            raise ValueError("a statement with post-compiled parameters cannot be prepared")
        self._dialect = dialect
        assert dialect.dbapi is not None, "a dialect of an engine has its driver"
        self._errors: type[Exception] = dialect.dbapi.Error
        self._names: Sequence[str] | None = compiled.positiontup  # None: named paramstyle
        # (name in the SQL, key the caller gives it by, value if not given, processor)
        self._binds: list[tuple[str, str, Any, Processor]] = [
            (
                name,
                bind.key,
                _MISSING if bind.required else bind.effective_value,
                bind.type.dialect_impl(dialect).bind_processor(dialect),
            )
            for name, bind in compiled.binds.items()
        ]
        columns = list(statement.exported_columns) if isinstance(statement, ReturnsRows) else []
        # Its fields are the statement's columns, known only here (mypy wants literals).
        fields = [c.key for c in columns]
        self._record: Any = namedtuple("Record", fields, rename=True)  # type: ignore[misc]
        results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self._results = [(i, p) for i, p in enumerate(results) if p is not None]
        # The binds in the order the driver takes their values: for positional paramstyles
        # the SQL's (a name used twice, twice), for named ones any (keyed by `_bind_names`).
        by_name = {bind[0]: bind for bind in self._binds}
        names = self._names
        self._in_order = self._binds if names is None else [by_name[name] for name in names]
        self._bind_names = list(by_name)

    def _parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The driver's parameters: a list in the SQL's order (positional paramstyles), or
        a dict by the SQL's names."""
        processed = []
        for _, key, default, process in self._in_order:
            value = values.get(key, default)
            if value is _MISSING:
                raise InvalidRequestError(f"A value is required for bind parameter {key!r}")
            processed.append(value if process is None else process(value))
        if self._names is None:
            return dict(zip(self._bind_names, processed, strict=True))
        return processed

    def all(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        """Every row of the statement run with `values`, as named tuples."""
        driver = connection.connection.driver_connection
        assert driver is not None, "an open connection"
        parameters = self._parameters(values)
        try:
            cursor = driver.cursor()
            try:
                cursor.execute(self.sql, parameters)
                rows = cursor.fetchall() if cursor.description is not None else []
            finally:
                cursor.close()
        except self._errors as error:
            raise DBAPIError.instance(self.sql, parameters, error, self._errors) from error
        make = self._record._make
        if not self._results:
            return [make(row) for row in rows]
        records = []
        for row in rows:
            cells = list(row)
            for index, process in self._results:
                if cells[index] is not None:
                    cells[index] = process(cells[index])
            records.append(make(cells))
        return records

    def run_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run this statement (an UPDATE, say) once for each of `rows`, with the driver's
        `executemany`, inside the connection's transaction."""
        self.bound_many(rows).run(connection)

    def write_rows(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run this INSERT once for each of `rows`, inside the connection's transaction
        (see `bound_rows`)."""
        self.bound_rows(rows).run(connection)

    def bound_many(self, rows: Sequence[Mapping[str, Any]]) -> Bound:
        """This statement once for each of `rows` (one `executemany`), values bound now:
        a writer binds them before it takes the write lock."""
        return Bound(self, [], [self._parameters(row) for row in rows])

    def bound_rows(self, rows: Sequence[Mapping[str, Any]]) -> Bound:
        """This INSERT once for each of `rows`, values bound now.

        Where the driver takes `?` parameters (SQLite), the rows go as one multi-row
        INSERT per ROWS_PER_INSERT: the driver lets go of the GIL once a statement, and a
        writer that must take it back from a busy thread once a row holds the write lock
        for as long. Elsewhere they go through `executemany`.
        """
        if self._names is None or self._dialect.paramstyle != "qmark":
            return self.bound_many(rows)
        head, _, one = self.sql.rpartition(" VALUES ")
        per_insert = max(1, min(ROWS_PER_INSERT, SQLITE_VARIABLES // len(self._names)))
        runs: list[tuple[str, Sequence[Any]]] = []
        for start in range(0, len(rows), per_insert):
            chunk = rows[start : start + per_insert]
            values = [value for row in chunk for value in self._parameters(row)]
            runs.append((f"{head} VALUES {', '.join([one] * len(chunk))}", values))
        return Bound(self, runs, [])

    @contextmanager
    def _cursor(self, connection: Connection) -> Iterator[Any]:
        """A driver cursor of the connection, closed after; driver errors as SQLAlchemy's."""
        driver = connection.connection.driver_connection
        assert driver is not None, "an open connection"
        cursor = driver.cursor()
        try:
            yield cursor
        except self._errors as error:
            raise DBAPIError.instance(self.sql, None, error, self._errors) from error
        finally:
            cursor.close()


@dataclass(frozen=True)
class Bound:
    """Runs of a prepared statement with their values bound: each of `runs` (SQL and
    values) by `execute`, then the statement by one `executemany` over `many`."""

    prepared: Prepared
    runs: list[tuple[str, Sequence[Any]]]
    many: list[Sequence[Any] | dict[str, Any]]

    def run(self, connection: Connection) -> None:
        """Run them inside the connection's current transaction."""
        if not self.runs and not self.many:
            return
        with self.prepared._cursor(connection) as cursor:
            for sql, values in self.runs:
                cursor.execute(sql, values)
            if self.many:
                cursor.executemany(self.prepared.sql, self.many)


class PreparedStatements:
    """The prepared form of each statement, per dialect, made on first use.

    Keeps every statement it is given: for statements built once (at import, or cached),
    not for statements built per request.
    """

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._prepared: dict[Executable, Prepared] = {}

    def __call__(self, statement: Executable) -> Prepared:
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = Prepared(statement, self._dialect)
        return prepared
