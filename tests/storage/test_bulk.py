"""Bulk reads: select_among scans or chunks, and both give exactly the rows asked for."""

from __future__ import annotations

import pytest
from sqlalchemy import column as text_column
from sqlalchemy import event, func, insert, select, table

from micromoves.domain.errors import Conflict
from micromoves.storage import bulk
from micromoves.storage import tables as t
from micromoves.storage.db import Database


@pytest.mark.parametrize("scan", [True, False], ids=["one scan", "in chunks"])
def test_select_among_gives_the_rows_asked_for_by_either_path(
    db: Database, scan: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 30 teams, the functions tell them apart. Asked: 12 that exist, 2 that do not, one twice.
    with db.write_engine.begin() as conn:
        conn.execute(insert(t.teams), [{"id": f"T{i:02}", "name": f"Team {i}", "function": f"f{i}"} for i in range(30)])
    wanted = [f"T{i:02}" for i in range(0, 24, 2)] + ["T02", "NOPE", "T99"]
    # The scan is taken when the keys are at least 1/SCAN_SHARE of the table's rows: 14 keys, 30 rows.
    monkeypatch.setattr(bulk, "SCAN_SHARE", 5 if scan else 1)
    monkeypatch.setattr(bulk, "CHUNK", 5)  # the chunked path then needs three statements
    statements: list[str] = []

    def seen(conn: object, cursor: object, sql: str, *args: object) -> None:
        statements.append(sql)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.engine.connect() as conn:
            rows = list(bulk.select_among(conn, wanted, t.teams.c.id, t.teams.c.function))
            assert list(bulk.select_among(conn, [], t.teams.c.id)) == []
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert sorted((r[0], r[1]) for r in rows) == [(f"T{i:02}", f"f{i}") for i in range(0, 24, 2)]
    reads = [s for s in statements if s.startswith("SELECT") and "count(" not in s.lower()]
    assert len(reads) == (1 if scan else 3), reads
    assert (" IN " in reads[0] or "ANY" in reads[0]) is not scan


IDS = ["b", "C", "_x", "a", "Z", "é", "a-1", "a_1"]


def test_writers_order_ids_as_python_sorts_them_whatever_the_collation(db: Database) -> None:
    """Writers that lock many people take them in id order, in chunks of a list sorted in Python, each chunk
    ordered by the database: on a PostgreSQL database created with a language's collation the database's
    order was another one (en-US: "_x" before "a", "b" before "C"), so two writers could take the same rows
    in opposite orders and deadlock. Here a column with an ICU en-US collation stands for such a database."""
    with db.write_engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql('CREATE TEMPORARY TABLE ids (id text COLLATE "en-US-x-icu")')
        else:
            conn.exec_driver_sql("CREATE TEMPORARY TABLE ids (id text)")
        conn.exec_driver_sql("INSERT INTO ids VALUES " + ", ".join(f"('{i}')" for i in IDS))
        column = text_column("id")
        plain = [r[0] for r in conn.execute(select(column).select_from(table("ids")).order_by(column))]
        ordered = conn.execute(
            select(column).select_from(table("ids")).order_by(bulk.code_point_order(conn, column))
        ).scalars()
        assert list(ordered) == sorted(IDS)
        if conn.dialect.name == "postgresql":
            assert plain != sorted(IDS)  # the collation does order them otherwise: the test can fail


def test_tables_in_use_past_the_wait_refuse_the_large_write_and_leave_it_unwritten(db: Database) -> None:
    """The foreign-key drop of a large import takes its tables whole; held by someone else for longer than the
    wait, the import is refused in words (nothing written) instead of waiting on, holding half of them."""
    if db.backend != "postgresql":
        pytest.skip("SQLite has no table locks: its writer holds the whole database")
    with db.write_engine.begin() as conn:
        conn.execute(insert(t.teams), [{"id": "T1", "name": "Team", "function": ""}])
    with db.write_engine.connect() as holder:
        held = holder.begin()
        holder.execute(select(t.teams.c.id).with_for_update())  # a row of teams, held
        with db.write_engine.connect() as conn, conn.begin():
            writer = bulk.BulkWriter(conn)
            with pytest.raises(Conflict, match=r'"teams" stayed in use for 0.5 s.*nothing was written'):
                writer._lock_exclusively([t.teams, t.roles], most_seconds=0.5)
            # Given back: the holder writes on, the table is whole again.
            assert conn.scalar(select(func.count()).select_from(t.teams)) == 1
        held.rollback()


def test_a_large_writes_foreign_key_drop_leaves_the_declared_tables_whole(db: Database) -> None:
    """The drop and re-add of a large import's foreign keys (PostgreSQL) used SQLAlchemy's AddConstraint,
    which by default takes the constraint out of its table's CREATE TABLE for the rest of the process: after
    one large import, ``metadata.create_all`` (a new database's tables) made moves' children without their
    foreign keys. Seen as a schema test failing after an import test in the same worker."""
    from sqlalchemy.schema import CreateTable

    def declared() -> str:
        return str(CreateTable(t.outcomes).compile(dialect=db.engine.dialect))

    before = declared()
    assert "REFERENCES moves" in before
    with (
        db.write_engine.connect() as conn,
        conn.begin(),
        bulk.BulkWriter(conn).foreign_keys_checked_at_end([t.outcomes]),
    ):
        pass
    assert declared() == before
