"""An import and plan-all's store step, run at once, take the people's row locks in one order (PostgreSQL); two
imports run one at a time.

plan-all stores its plans holding the rows of the people it planned for, locked in person-id order
(planning.changed_while_planning, FOR NO KEY UPDATE). An import that wrote people in the order of its file
took P2's row and then waited for P1's, while the store held P1 and waited for P2: PostgreSQL broke the
deadlock by failing one of them. Each test holds P1 as the store does, lets the import run until it waits,
then has the store lock every planned person: both must go through. (SQLite's writer holds the database.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, select, text

from micromoves.domain.errors import Conflict
from micromoves.services import importing
from micromoves.services.importing import ImportSummary, import_files
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


def _teams(db: Database) -> dict[str, str]:
    with db.engine.connect() as conn:
        return dict(conn.execute(select(t.teams.c.id, t.teams.c.name)).all())


def _paused_at_its_first_write(db: Database, paths: list[Path], **kwargs: Any) -> tuple[Any, threading.Event]:
    """Run an import in a thread until it has written the teams of its teams file: it stops there, holding what
    it wrote, until the event it gives back is set. (Its progress callback, which the CLI's bar is, waits.)"""
    reached, go = threading.Event(), threading.Event()

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "write" and not reached.is_set():
            reached.set()
            assert go.wait(30), "the test never let the import go on"

    pool = ThreadPoolExecutor(1)
    future = pool.submit(import_files, db, paths, actor="admin", progress=progress, **kwargs)
    pool.shutdown(wait=False)
    deadline = time.monotonic() + 20
    while not reached.wait(0.02):
        assert time.monotonic() < deadline, "the import never wrote"
        assert not future.done(), future.result()
    return future, go


def _two_imports(pg: Database, tmp_path: Path, **second: Any) -> tuple[ImportSummary, ImportSummary]:
    """The first import renames T1 (a teams file's team) and then creates X (a team its people only name); the
    second, at the same time, creates X (its teams file's new team) and then renames T1: the teams in the
    opposite order. The first holds T1 until the second waits, then goes on."""
    setup = tmp_path / "setup"
    setup.mkdir()
    import_files(pg, [write_csv(setup / "teams.csv", TEAMS_H, [["T1", "Team one", "", ""]])], actor="admin")
    first, other = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    other.mkdir()
    renamed = write_csv(first / "teams.csv", TEAMS_H, [["T1", "Team 1", "", ""]])
    named = write_csv(first / "people.csv", PEOPLE_H, [_person("P1", "Oslo", "X")])
    both = write_csv(other / "teams.csv", TEAMS_H, [["X", "Team X", "", ""], ["T1", "Team I", "", ""]])
    paths = [both]
    if second.get("settings") is not None:  # a large import: a moves file from the bulk threshold on
        paths.append(write_csv(other / "people.csv", PEOPLE_H, [_person("P2", "Oslo", "T1")]))
        move = ["M1", "P2", "gig", "Gig", "", "2026-01-05", "2026-02-27", 10, "proposed", "", "Ship it", "", ""]
        paths.append(write_csv(other / "moves.csv", MOVES_H, [move]))
    running, go = _paused_at_its_first_write(pg, [renamed, named])
    try:
        with ThreadPoolExecutor(1) as pool:
            after = pool.submit(import_files, pg, paths, actor="admin", **second)
            _wait_until_waiting(pg, after)
            go.set()
            return running.result(timeout=30), after.result(timeout=60)
    finally:
        go.set()  # a failed wait lets the first import end too


def test_two_imports_naming_the_same_teams_in_opposite_orders_both_go_through(pg: Database, tmp_path: Path) -> None:
    """Each import wrote its teams in its own order: the first held T1 and waited for X, which the second had
    created and held while it waited for T1. PostgreSQL found the deadlock and aborted one of the imports (a
    traceback). Imports now run one at a time: the second waits for the first, then checks its files against
    what the first committed (X is stored by then: updated, not created twice)."""
    first, second = _two_imports(pg, tmp_path)
    assert (first.updated["teams"], first.teams_created, first.created["people"]) == (1, ["X"], 1)
    assert (second.created["teams"], second.updated["teams"]) == (0, 2)
    assert _teams(pg) == {"T1": "Team I", "X": "Team X"}


def test_a_large_import_waits_for_another_import_and_then_goes_through(pg: Database, tmp_path: Path) -> None:
    """From the bulk threshold on, the import locks whole the tables its moves name (BulkWriter._lock_exclusively):
    after the import lock, so a large import waits for the import before it, holding nothing, as any does."""
    first, second = _two_imports(pg, tmp_path, settings=Settings(bulk_import_threshold=1))
    assert first.teams_created == ["X"]
    assert (second.updated["teams"], second.created["people"], second.created["moves"]) == (2, 1, 1)
    assert _teams(pg) == {"T1": "Team I", "X": "Team X"}


@contextmanager
def _another_import_running(db: Database) -> Iterator[Connection]:
    """Hold the import lock, as a running import does, until the block ends."""
    with db.write_engine.connect() as conn, conn.begin():
        conn.execute(select(func.pg_advisory_xact_lock(importing.IMPORT_LOCK)))
        yield conn


def test_an_import_waiting_for_another_past_the_wait_is_refused_in_words(
    pg: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import waits for the one before it at most IMPORT_WAIT_SECONDS (the ten minutes a large import waits
    for its tables); past it, it is refused saying why, with nothing written, and the first goes on."""
    monkeypatch.setattr(importing, "IMPORT_WAIT_SECONDS", 0.5)
    waiting = _people(tmp_path, "b", [_person("P1", "Oslo")])
    with _another_import_running(pg):
        started = time.monotonic()
        with pytest.raises(Conflict) as info:
            import_files(pg, [waiting], actor="admin")
        assert 0.5 <= time.monotonic() - started < 10
        assert info.value.message == (
            "another import is running: imports run one at a time, and this one waited 0.5 s for it to finish; "
            "nothing was written, try again once it has"
        )
    assert _locations(pg) == {}
    import_files(pg, [waiting], actor="admin")  # once the other has finished
    assert _locations(pg) == {"P1": "Oslo"}


def test_a_servers_statement_timeout_ending_the_wait_for_another_import_is_refused_in_words(
    pg: Database, tmp_path: Path
) -> None:
    """A statement_timeout set on the server, shorter than the import's wait, cancelled the wait for the import
    lock: a raw database error (a 500 on an upload). It is the same refusal, naming the server's timeout."""
    waiting = _people(tmp_path, "b", [_person("P1", "Oslo")])
    pg.write_engine.dispose()  # new connections only get the server's setting

    def server_timeout(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 300")

    event.listen(pg.write_engine, "connect", server_timeout)
    try:
        with _another_import_running(pg):
            started = time.monotonic()
            with pytest.raises(Conflict) as info:
                import_files(pg, [waiting], actor="admin")
            assert time.monotonic() - started < 10
            assert info.value.message == (
                "another import is running: imports run one at a time, and the database server's statement "
                "timeout ended this one's wait for it; nothing was written, try again once it has"
            )
    finally:
        event.remove(pg.write_engine, "connect", server_timeout)
        pg.write_engine.dispose()
    assert _locations(pg) == {}


def test_an_administrator_cancelling_the_wait_for_another_import_is_refused_in_words(
    pg: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pg_cancel_backend on an import waiting for the import lock: the same refusal, saying it was cancelled
    (not blaming a statement timeout)."""
    monkeypatch.setattr(importing, "IMPORT_WAIT_SECONDS", 20)  # a failing test ends, rather than waits 10 minutes
    waiting = _people(tmp_path, "b", [_person("P1", "Oslo")])
    with ThreadPoolExecutor(1) as pool, _another_import_running(pg) as conn:
        attempt = pool.submit(import_files, pg, [waiting], actor="admin")
        waiter = text(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' "
            "AND datname = current_database()"
        )
        deadline = time.monotonic() + 10
        # pg_stat_activity as of now: a transaction would keep reading its first snapshot of it
        while (pid := _scalar(pg, waiter)) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert pid is not None, "the import never waited for the lock"
        conn.execute(select(func.pg_cancel_backend(pid)))
        with pytest.raises(Conflict) as info:
            attempt.result(timeout=10)
        assert info.value.message == (
            "another import is running: imports run one at a time, and this one's wait for it was cancelled on "
            "the database server; nothing was written, try again once it has"
        )
    assert _locations(pg) == {}


def _scalar(db: Database, query: Any) -> Any:
    with db.engine.connect() as conn:
        return conn.scalar(query)


def test_an_upload_waits_seconds_for_another_import_not_the_clis_ten_minutes(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import sent to the web or the API waited the CLI's ten minutes for a running one, holding a pooled
    connection and a worker thread all along; clients timing out and sending it again used up the app's pool.
    An upload waits UPLOAD_WAIT_SECONDS, then is refused (409) in words, with nothing written."""
    import io

    from micromoves.services import accounts, imports
    from micromoves.services.policy import Policy

    monkeypatch.setattr(imports, "UPLOAD_WAIT_SECONDS", 0.3)
    assert importing.IMPORT_WAIT_SECONDS >= 60
    admin = Policy(pg, accounts.Principal(1, "admin", accounts.Access.ADMIN, None))
    body = (",".join(PEOPLE_H) + "\n" + ",".join(str(v) for v in _person("P1", "Oslo")) + "\n").encode()
    with _another_import_running(pg):
        started = time.monotonic()
        with pytest.raises(Conflict) as info:
            imports.import_uploads(pg, admin, [imports.Upload("people.csv", io.BytesIO(body))])
        assert time.monotonic() - started < 10
        assert "waited 0.3 s" in info.value.message and "nothing was written" in info.value.message
    assert _locations(pg) == {}
    imports.import_uploads(pg, admin, [imports.Upload("people.csv", io.BytesIO(body))])
    assert _locations(pg) == {"P1": "Oslo"}
