"""Fast bulk writes inside one transaction: COPY on PostgreSQL, executemany on SQLite.

Imports and the demo generator write millions of rows; the ORM would spend most of its time building
objects. This writer takes plain row tuples in table-column order and adapts values once per dialect.
All of it runs on the caller's connection, so an import stays all-or-nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Enum,
    String,
    Table,
    any_,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import OperationalError
from sqlalchemy.schema import AddConstraint, DropConstraint
from sqlalchemy.types import TypeDecorator

from micromoves.domain.errors import Conflict

Row = Sequence[Any]


_date_cache: dict[Any, str] = {}


def _iso_date(v: Any) -> Any:
    # Bulk rows repeat a few thousand distinct dates; converting each once halves the adaptation cost.
    found = _date_cache.get(v)
    if found is None:
        found = v.isoformat() if isinstance(v, dt.date) else v
        if len(_date_cache) < 100_000:
            _date_cache[v] = found
    return found


def _sqlite_datetime(v: Any) -> Any:
    # The text format SQLAlchemy's SQLite DateTime type writes and reads back, in UTC.
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.UTC).replace(tzinfo=None)
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    return v


_json_cache: dict[Any, str] = {}


def _json(v: Any) -> Any:
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        # Bulk rows repeat the same short lists (skills targeted) over and over: encode each once.
        if v and isinstance(v[0], dict):  # a list of objects (a review's gains) is not hashable: not cached
            return json.dumps(v)
        key = tuple(v)
        found = _json_cache.get(key)
        if found is None:
            found = json.dumps(v)
            if len(_json_cache) < 10_000:
                _json_cache[key] = found
        return found
    return json.dumps(v)


def _enum_value(v: Any) -> Any:
    return v.value if isinstance(v, enum.Enum) else v


def _converters(table: Table, columns: Sequence[str], dialect: str) -> list[tuple[int, Callable[[Any], Any]]]:
    """Per-column value adapters, chosen once per table from the column types (not per value)."""
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(columns):
        col_type = table.c[name].type
        fn: Callable[[Any], Any] | None = None
        if isinstance(col_type, JSON):
            fn = _json
        elif isinstance(col_type, Enum):
            # sqlite3 binds a StrEnum as the plain string it is; psycopg would dump an Enum by name.
            if not (dialect == "sqlite" and col_type.enum_class and issubclass(col_type.enum_class, enum.StrEnum)):
                fn = _enum_value
        elif dialect == "sqlite":
            if isinstance(col_type, DateTime | TypeDecorator):
                fn = functools.lru_cache(maxsize=1024)(_sqlite_datetime)  # one timestamp per import batch
            elif isinstance(col_type, Date):
                fn = _iso_date
            elif isinstance(col_type, Boolean):
                fn = int
        if fn is not None:
            found.append((i, fn))
    return found


def _adapt(rows: Iterable[Row], converters: list[tuple[int, Callable[[Any], Any]]]) -> Iterator[Sequence[Any]]:
    if not converters:
        yield from rows
        return
    for row in rows:
        out = list(row)
        for i, fn in converters:
            v = out[i]
            if v is not None:
                out[i] = fn(v)
        yield out


# Taking the tables a large import's foreign-key drop locks (see BulkWriter._lock_exclusively): each try waits
# this long at most, well below PostgreSQL's deadlock check (deadlock_timeout, 1 s), for up to LOCK_WAIT_SECONDS.
LOCK_TRY_MS = 200
LOCK_WAIT_SECONDS = 600.0
LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of lock_timeout
QUERY_CANCELED = "57014"  # SQLSTATE of statement_timeout (or a cancel request)


class BulkWriter:
    def __init__(
        self, conn: Connection, *, chunk_size: int = 50_000, on_rows: Callable[[int], None] | None = None
    ) -> None:
        self.conn = conn
        self.is_pg = conn.dialect.name == "postgresql"
        self.chunk_size = chunk_size
        self.on_rows = on_rows or (lambda n: None)

    def _raw(self) -> Any:
        return self.conn.connection.driver_connection

    def insert(self, table: Table, columns: Sequence[str], rows: Iterable[Row]) -> int:
        """Append rows (no conflict handling)."""
        _check_columns(table, columns)
        cols = ", ".join(f'"{c}"' for c in columns)
        if self.is_pg:
            return self._copy(table.name, cols, self._adapted(table, columns, rows))
        marks = ", ".join("?" * len(columns))
        sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})'  # noqa: S608 - identifiers checked
        return self._sqlite_chunks(sql, self._adapted(table, columns, rows))

    def _adapted(self, table: Table, columns: Sequence[str], rows: Iterable[Row]) -> Iterator[Sequence[Any]]:
        return _adapt(rows, _converters(table, columns, self.conn.dialect.name))

    def _copy(self, table_name: str, cols: str, rows: Iterable[Row]) -> int:
        n = 0
        with self._raw().cursor() as cur, cur.copy(f'COPY "{table_name}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
                if n % self.chunk_size == 0:
                    self.on_rows(self.chunk_size)
        self.on_rows(n % self.chunk_size)
        return n

    def upsert(self, table: Table, columns: Sequence[str], key: Sequence[str], rows: Iterable[Row]) -> int:
        """Insert rows, or update every non-key column where a row with the same key exists."""
        _check_columns(table, [*columns, *key])
        cols = ", ".join(f'"{c}"' for c in columns)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in key)
        conflict = ", ".join(f'"{c}"' for c in key)
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        if self.is_pg:
            tmp = f"_bulk_{table.name}"
            like = f'(LIKE "{table.name}" INCLUDING DEFAULTS)'
            self.conn.exec_driver_sql(f'CREATE TEMP TABLE IF NOT EXISTS "{tmp}" {like} ON COMMIT DROP')
            self.conn.exec_driver_sql(f'TRUNCATE "{tmp}"')
            n = self._copy(tmp, cols, self._adapted(table, columns, rows))
            select_tmp = f'SELECT {cols} FROM "{tmp}"'  # noqa: S608 - identifiers from our own Table
            self.conn.exec_driver_sql(
                f'INSERT INTO "{table.name}" ({cols}) {select_tmp} ON CONFLICT ({conflict}) {action}'
            )
            return n
        marks = ", ".join("?" * len(columns))
        sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks}) ON CONFLICT ({conflict}) {action}'  # noqa: S608
        return self._sqlite_chunks(sql, self._adapted(table, columns, rows))

    @contextmanager
    def foreign_keys_checked_at_end(self, tables: Sequence[Table]) -> Iterator[None]:
        """On PostgreSQL, check the foreign keys of ``tables`` once, set-based, instead of row by row.

        PostgreSQL checks a foreign key with a trigger per inserted row; for a million-row import that is
        about half the time. Here the constraints are dropped inside the transaction and added back at the
        end, which validates every row in one join. DDL is transactional, so a failure or a kill leaves
        the schema and data as they were. The price: the tables are locked exclusively until commit, so
        callers use this only for large batches. On SQLite the checks are cheap and this does nothing.
        """
        if not self.is_pg:
            yield
            return
        constraints = [
            fk for table in tables for fk in sorted(table.foreign_key_constraints, key=lambda c: str(c.name))
        ]
        self._lock_exclusively({*tables, *(fk.referred_table for fk in constraints)})
        for fk in constraints:
            self.conn.execute(DropConstraint(fk))
        yield
        for fk in constraints:
            # isolate_from_table=False: by default AddConstraint takes the constraint out of its table's CREATE
            # TABLE for the rest of the process (a later create_all made the tables without these keys).
            self.conn.execute(AddConstraint(fk, isolate_from_table=False))

    def _lock_exclusively(self, tables: Iterable[Table], *, most_seconds: float = LOCK_WAIT_SECONDS) -> None:
        """Lock ``tables`` as dropping their foreign keys does (ACCESS EXCLUSIVE), all at once, waiting at most
        ``LOCK_TRY_MS`` each try and retrying until ``most_seconds`` have passed.

        A drop locks its table and then the table its key names: a move table before ``people``, where every
        other writer locks a person and then their moves. Holding ``moves`` and waiting for ``people``, it
        deadlocked with an approval holding a person and waiting for their move, and PostgreSQL aborted one
        (the whole import, or the approval). Any fixed order meets some writer or reader the other way round,
        so the locks are taken in one statement that gives them all back when it cannot have them soon: the
        import never holds one while it waits long enough for a deadlock (PostgreSQL checks after a second)."""
        names = ", ".join(f'"{table.name}"' for table in sorted(tables, key=lambda table: table.name))
        deadline = time.monotonic() + most_seconds
        pause = 0.05
        while True:
            savepoint = self.conn.begin_nested()
            try:
                self.conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TRY_MS}ms'")
                self.conn.exec_driver_sql(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
                self.conn.exec_driver_sql("SET LOCAL lock_timeout = DEFAULT")
                savepoint.commit()
                return
            except OperationalError as exc:
                savepoint.rollback()
                if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                    raise
                if time.monotonic() > deadline:
                    raise Conflict(
                        f"the tables {names} stayed in use for {most_seconds:g} s: a large import needs them to "
                        "itself for a moment; nothing was written, try again"
                    ) from None
            time.sleep(pause)
            pause = min(0.5, pause * 2)

    def delete_in(self, table: Table, column: str, values: Iterable[Any]) -> None:
        """Delete rows whose ``column`` is in ``values`` (chunked to stay within parameter limits)."""
        vals = list(values)
        for i in range(0, len(vals), 5_000):
            chunk = vals[i : i + 5_000]
            self.conn.execute(table.delete().where(among(self.conn, table.c[column], chunk)))

    def _sqlite_chunks(self, sql: str, rows: Iterable[Row]) -> int:
        """executemany in batches, with the next batch built in a helper thread meanwhile.

        sqlite3 releases the GIL while SQLite works on a statement, so building rows in Python and
        writing them overlap on two cores. Only the calling thread touches the connection.
        """
        batches: queue.Queue[list[Sequence[Any]] | BaseException | None] = queue.Queue(maxsize=2)
        stop = threading.Event()

        def produce() -> None:
            try:
                batch: list[Sequence[Any]] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) >= self.chunk_size:
                        if stop.is_set():
                            return
                        batches.put(batch)
                        batch = []
                batches.put(batch)
                batches.put(None)
            except BaseException as exc:  # handed to the writer, which re-raises it
                batches.put(exc)

        producer = threading.Thread(target=produce, name="bulk-rows", daemon=True)
        producer.start()
        cur = self._raw().cursor()
        n = 0
        try:
            while (item := batches.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                if item:
                    cur.executemany(sql, item)
                    n += len(item)
                    self.on_rows(len(item))
        finally:
            stop.set()
            while producer.is_alive():  # unblock a producer waiting on a full queue, then let it end
                with contextlib.suppress(queue.Empty):
                    batches.get(timeout=0.05)
            cur.close()
        return n


def _check_columns(table: Table, columns: Iterable[str]) -> None:
    # Column names are spliced into SQL text: accept only the table's own columns.
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"table {table.name} has no column(s) {', '.join(unknown)}")


def among(conn: Connection, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` for a chunk of thousands of values. On PostgreSQL one array parameter
    (``= ANY(…)``): an IN list is expanded into a parameter per value, which SQLAlchemy renders and psycopg
    rewrites on every query (measured: 4.5 of the 12 s a re-import of 50,000 moves took). SQLite gets the
    IN list (it has no arrays)."""
    clause: ColumnElement[bool]
    if conn.dialect.name == "postgresql":
        clause = column == any_(literal(_holdable(column, values), ARRAY(column.type)))
    else:
        clause = column.in_(values)
    return clause


def code_point_order(conn: Connection, column: Any) -> Any:
    """``column`` to order by as Python's ``sorted`` orders its texts (by code point). Writers that lock many
    people's rows take them in id order, chunk after chunk of a list sorted in Python; on PostgreSQL the rows
    of a chunk were ordered by the column's collation, which on a database created with a language's
    collation (en_US: ``_`` before ``a``, ``b`` before ``C``) is another order, so two writers could still take
    the same rows in opposite orders. ``COLLATE "C"`` compares UTF-8 bytes: code-point order. SQLite's
    default collation (BINARY) already is."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def _holdable(column: Any, values: Sequence[Any]) -> list[Any]:
    """The values a text column could hold, of ``values``: the others match no row, and are not sent.
    PostgreSQL refuses a text parameter holding a NUL character (the whole query failed: an import row naming
    a person 'P\\x00' ended in a driver's traceback), and the array's cast to the column's type cuts a longer
    text to the column's length (a 65-character id would find the row of the id of its first 64 characters)."""
    if not isinstance(column.type, String):
        return list(values)
    most = column.type.length or float("inf")
    return [v for v in values if not isinstance(v, str) or ("\x00" not in v and len(v) <= most)]


# A scan of the whole table beats chunked IN lists once the keys asked for are at least a fifth of its rows.
SCAN_SHARE = 5
CHUNK = 5_000


def select_among(conn: Connection, values: Iterable[Any], column: Any, *others: Any) -> Iterator[Row]:
    """The rows ``(column, *others)`` of ``column``'s table whose ``column`` is among ``values``.

    A re-import asks for every stored row of a big table: thousands of ``IN`` chunks, each compiled and
    looked up key by key, took a third of an unchanged re-import. When the keys are many next to the table
    (``SCAN_SHARE``), the table is read once in one statement and filtered here; else in chunks (:func:`among`).
    """
    wanted = set(values)
    if not wanted:
        return
    stmt = select(column, *others)
    stored = conn.scalar(select(func.count()).select_from(column.table)) or 0
    if stored <= SCAN_SHARE * len(wanted):
        for row in conn.execute(stmt).all():
            if row[0] in wanted:
                yield row
        return
    ordered = sorted(wanted)
    for i in range(0, len(ordered), CHUNK):
        yield from conn.execute(stmt.where(among(conn, column, ordered[i : i + CHUNK]))).all()
