"""Fast bulk writes inside one transaction: COPY on PostgreSQL, executemany on SQLite.

Imports and the demo generator write millions of rows; the ORM would spend most of its time building
objects. This writer takes plain row tuples in table-column order and adapts values once per dialect.
All of it runs on the caller's connection, so an import stays all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

Row = Sequence[Any]


def _sqlite_value(v: Any) -> Any:
    # The same text formats SQLAlchemy's SQLite Date/DateTime types write and read back.
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.UTC).replace(tzinfo=None)
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, dict | list):
        return json.dumps(v)
    return v


def _pg_value(v: Any) -> Any:
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, dict | list):
        return json.dumps(v)
    return v


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
            return self._copy(table.name, cols, rows)
        marks = ", ".join("?" * len(columns))
        sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})'  # noqa: S608 - identifiers checked
        return self._sqlite_chunks(sql, rows)

    def _copy(self, table_name: str, cols: str, rows: Iterable[Row]) -> int:
        n = 0
        with self._raw().cursor() as cur, cur.copy(f'COPY "{table_name}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_pg_value(v) for v in row])
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
            n = self._copy(tmp, cols, rows)
            select_tmp = f'SELECT {cols} FROM "{tmp}"'  # noqa: S608 - identifiers from our own Table
            self.conn.exec_driver_sql(
                f'INSERT INTO "{table.name}" ({cols}) {select_tmp} ON CONFLICT ({conflict}) {action}'
            )
            return n
        marks = ", ".join("?" * len(columns))
        sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks}) ON CONFLICT ({conflict}) {action}'  # noqa: S608
        return self._sqlite_chunks(sql, rows)

    def delete_in(self, table: Table, column: str, values: Iterable[Any]) -> None:
        """Delete rows whose ``column`` is in ``values`` (chunked to stay within parameter limits)."""
        vals = list(values)
        for i in range(0, len(vals), 5_000):
            chunk = vals[i : i + 5_000]
            self.conn.execute(table.delete().where(table.c[column].in_(chunk)))

    def _sqlite_chunks(self, sql: str, rows: Iterable[Row]) -> int:
        cur = self._raw().cursor()
        n = 0
        batch: list[list[Any]] = []
        for row in rows:
            batch.append([_sqlite_value(v) for v in row])
            if len(batch) >= self.chunk_size:
                cur.executemany(sql, batch)
                n += len(batch)
                self.on_rows(len(batch))
                batch = []
        if batch:
            cur.executemany(sql, batch)
            n += len(batch)
            self.on_rows(len(batch))
        cur.close()
        return n


def _check_columns(table: Table, columns: Iterable[str]) -> None:
    # Column names are spliced into SQL text: accept only the table's own columns.
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"table {table.name} has no column(s) {', '.join(unknown)}")
