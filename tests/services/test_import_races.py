"""An import and plan-all's store step, run at once, take the people's row locks in one order (PostgreSQL).

plan-all stores its plans holding the rows of the people it planned for, locked in person-id order
(planning.changed_while_planning, FOR NO KEY UPDATE). An import that wrote people in the order of its file
took P2's row and then waited for P1's, while the store held P1 and waited for P2: PostgreSQL broke the
deadlock by failing one of them. Each test holds P1 as the store does, lets the import run until it waits,
then has the store lock every planned person: both must go through. (SQLite's writer holds the database.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from micromoves.services.importing import import_files
from micromoves.services.planning import changed_while_planning
from micromoves.settings import Settings
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_importing import MOVES_H, PEOPLE_H, write_csv
from tests.services.test_move_races import _waiting_for_a_lock

TEAMS_H = ["team_id", "name", "parent_id", "function"]


@pytest.fixture
def pg(db: Database) -> Iterator[Database]:
    if db.backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite's writer holds the whole database")
    yield db


def _people(tmp_path: Path, name: str, rows: list[list[object]]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return write_csv(folder / "people.csv", PEOPLE_H, rows)


def _person(pid: str, location: str, team: str = "T1") -> list[object]:
    return [pid, f"Person {pid}", f"{pid.lower()}@example.org", "", "", team, "2020-01-01", location]


def _wait_until_waiting(db: Database, future: Future[Any]) -> None:
    deadline = time.monotonic() + 20
    while not _waiting_for_a_lock(db):
        assert time.monotonic() < deadline, "the import never waited for the store"
        assert not future.done(), future.result()
        time.sleep(0.02)


def _store_while_importing(db: Database, planned: list[str], action: Callable[[], Any]) -> Any:
    """Hold the first planned person's row as plan-all's store does (the people it planned for are locked in
    id order), run ``action`` until it waits for a lock, then lock every planned person as the store does and
    commit. ``action``'s result, or its error raised."""
    records = [{"person_id": pid, "target_role_id": None} for pid in planned]
    with db.write_engine.connect() as conn:
        tx = conn.begin()
        first = select(t.people.c.id).where(t.people.c.id == min(planned))
        conn.execute(first.with_for_update(key_share=True))
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(action)
            _wait_until_waiting(db, future)
            assert changed_while_planning(conn, records, {}, during="the test planned") == {}
            tx.commit()
            return future.result(timeout=30)


def _locations(db: Database) -> dict[str, str]:
    with db.engine.connect() as conn:
        return dict(conn.execute(select(t.people.c.id, t.people.c.location)).all())


def test_an_import_of_people_in_any_order_runs_alongside_the_store_of_plans(pg: Database, tmp_path: Path) -> None:
    import_files(pg, [_people(tmp_path, "a", [_person("P1", "Oslo"), _person("P2", "Oslo")])], actor="admin")
    # The file lists P2 before P1: written in that order, P2 was taken first.
    again = _people(tmp_path, "b", [_person("P2", "Bergen"), _person("P1", "Bergen")])
    summary = _store_while_importing(pg, ["P1", "P2"], lambda: import_files(pg, [again], actor="admin"))
    assert summary.updated["people"] == 2
    assert _locations(pg) == {"P1": "Bergen", "P2": "Bergen"}


def test_people_a_renamed_team_stamps_are_locked_in_order_too(pg: Database, tmp_path: Path) -> None:
    """The import writes P2 and then stamps the people of a team it renames (P1): the stamp's row lock too
    is taken in id order, with the others, before anything is written."""
    first = tmp_path / "a"
    first.mkdir()
    teams = write_csv(first / "teams.csv", TEAMS_H, [["T1", "Team one", "", ""], ["T2", "Team two", "", ""]])
    people = write_csv(first / "people.csv", PEOPLE_H, [_person("P1", "Oslo", "T1"), _person("P2", "Oslo", "T2")])
    import_files(pg, [teams, people], actor="admin")
    second = tmp_path / "b"
    second.mkdir()
    renamed = write_csv(second / "teams.csv", TEAMS_H, [["T1", "Team 1", "", ""]])
    moved = write_csv(second / "people.csv", PEOPLE_H, [_person("P2", "Bergen", "T2")])
    summary = _store_while_importing(pg, ["P1", "P2"], lambda: import_files(pg, [renamed, moved], actor="admin"))
    assert summary.updated == {"teams": 1, "people": 1}
    assert _locations(pg) == {"P1": "Oslo", "P2": "Bergen"}


def test_a_large_import_runs_alongside_the_store_of_plans(pg: Database, tmp_path: Path) -> None:
    """From MICROMOVES_BULK_IMPORT_THRESHOLD moves, the import drops the move tables' foreign keys until its end,
    which locks the tables they name (people among them) whole. Taken after the people's rows, it waited for a
    store holding P0's row, which then waited for P1's row that the import held."""
    people = [_person("P0", "Oslo"), _person("P1", "Oslo"), _person("P2", "Oslo")]
    import_files(pg, [_people(tmp_path, "a", people)], actor="admin")
    again = _people(tmp_path, "b", [_person("P2", "Bergen"), _person("P1", "Bergen")])
    move = ["M1", "P2", "gig", "Gig", "", "2026-01-05", "2026-02-27", 10, "proposed", "", "Ship it", "", ""]
    moves = write_csv(tmp_path / "b" / "moves.csv", MOVES_H, [move])
    bulk = Settings(bulk_import_threshold=1)
    summary = _store_while_importing(
        pg, ["P0", "P1"], lambda: import_files(pg, [again, moves], actor="admin", settings=bulk)
    )
    assert (summary.updated["people"], summary.created["moves"]) == (2, 1)
    assert _locations(pg) == {"P0": "Oslo", "P1": "Bergen", "P2": "Bergen"}


def test_a_large_import_runs_alongside_a_write_that_locks_a_person_then_their_move(
    pg: Database, tmp_path: Path
) -> None:
    """Dropping a move table's foreign key locks the move table and then the table its key names (people):
    the large import held ``moves`` and waited for ``people`` while an approval held its person and waited
    for their move; PostgreSQL aborted one of them. The import now takes the tables all at once, giving
    them back while they are in use: the approval goes through, then the import."""
    import_files(pg, [_people(tmp_path, "a", [_person("P1", "Oslo"), _person("P2", "Oslo")])], actor="admin")
    first = ["M0", "P1", "gig", "Gig", "", "2026-01-05", "2026-02-27", 10, "proposed", "", "Ship it", "", ""]
    import_files(pg, [write_csv(tmp_path / "a" / "moves.csv", MOVES_H, [first])], actor="admin")
    again = _people(tmp_path, "b", [_person("P2", "Bergen")])
    move = ["M1", "P2", "gig", "Gig", "", "2026-01-05", "2026-02-27", 10, "proposed", "", "Ship it", "", ""]
    moves = write_csv(tmp_path / "b" / "moves.csv", MOVES_H, [move])
    bulk = Settings(bulk_import_threshold=1)
    with pg.write_engine.connect() as conn:
        tx = conn.begin()
        conn.execute(select(t.people.c.id).where(t.people.c.id == "P1").with_for_update())  # the person first
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(import_files, pg, [again, moves], actor="admin", settings=bulk)
            _wait_until_waiting(pg, future)
            time.sleep(0.3)  # the import has tried and given the tables back at least once
            conn.execute(t.moves.update().where(t.moves.c.id == "M0").values(title="Gig, approved"))  # then the move
            tx.commit()
            summary = future.result(timeout=30)
    assert (summary.updated["people"], summary.created["moves"]) == (1, 1)
    with pg.engine.connect() as conn:
        assert conn.scalar(select(t.moves.c.title).where(t.moves.c.id == "M0")) == "Gig, approved"
