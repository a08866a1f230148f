"""Bulk reads: select_among scans or chunks, and both give exactly the rows asked for."""

from __future__ import annotations

import pytest
from sqlalchemy import event, insert

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
