"""What a write stamps as changed for changed_since beyond the rows it writes: a move given to another person
changes both people (each one's moves), and a renamed team, role or person changes what shows the name (a
person's team and role in the directory and its CSV, a move's person and host team). Through the import (CSV
files, either write path) and through the ORM (storage.orm), in the write's own transaction. And that the
import writes each row once: a row it writes carries its time already, and is not written again to stamp it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from micromoves.domain.model import Move, Team
from micromoves.services import views
from micromoves.services.accounts import Access, Principal
from micromoves.services.importing import ImportRejected, import_files
from micromoves.services.policy import Policy
from micromoves.settings import Settings
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.uow import UnitOfWork
from tests.services.test_importing import MOVES_H, PEOPLE_H, ROLES_H, write_csv

TEAMS_H = ["team_id", "name", "parent_id", "function", "manager_id"]
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
TEAMS = [["DATA", "Data", "", "", ""], ["OPS", "Operations", "", "", ""]]
ROLES = [["R1", "Analyst", "", 2, "DATA", "false"], ["R2", "Engineer", "", 2, "OPS", "false"]]
PEOPLE = [
    ["P1", "Ada", "ada@x.org", "R1", "", "DATA", "2020-01-01", "Berlin"],
    ["P2", "Bo", "bo@x.org", "R1", "P1", "DATA", "2021-01-01", "Porto"],
    ["P3", "Cy", "cy@x.org", "R2", "", "OPS", "2021-01-01", "Porto"],
]
MOVES = [
    ["M1", "P1", "gig", "Pricing study", "OPS", "2025-01-06", "2025-02-28", 20, "completed", "", "Shared", "end", ""],
    ["M2", "P3", "gig", "Runbooks", "DATA", "2025-03-03", "2025-04-25", 20, "completed", "", "Written", "end", ""],
    ["M3", "P3", "gig", "On call", "OPS", "2025-05-05", "2025-06-27", 20, "completed", "", "Done", "end", ""],
]


def files(tmp_path: Path, **changed: list[list[object]]) -> list[Path]:
    rows = {"teams": TEAMS, "roles": ROLES, "people": PEOPLE, "moves": MOVES} | changed
    heads = {"teams": TEAMS_H, "roles": ROLES_H, "people": PEOPLE_H, "moves": MOVES_H}
    return [write_csv(tmp_path / f"{kind}.csv", heads[kind], rows[kind]) for kind in rows]


@pytest.fixture
def org(db: Database, tmp_path: Path) -> Database:
    import_files(db, files(tmp_path), actor="hr", today=dt.date(2026, 1, 5))
    with db.write_engine.begin() as conn:
        conn.execute(update(t.people).values(updated_at=LONG_AGO))
        conn.execute(update(t.moves).values(updated_at=LONG_AGO))
    return db


def changed(db: Database, since: dt.datetime) -> tuple[list[str], list[str]]:
    """(people, moves) changed at or after ``since``, as the API's lists and CSVs select them."""
    admin = Policy(db, Principal(0, "admin", Access.ADMIN, None))
    people = [row[0] for row in list(views.people_rows(db, admin, views.PeopleSelection(changed_since=since)))[1:]]
    moves = [row[0] for row in list(views.move_rows(db, admin, views.MoveSelection(changed_since=since)))[1:]]
    return sorted(people), sorted(moves)


def reimport(db: Database, tmp_path: Path, threshold: int = 50_000, **rows: list[list[object]]) -> dt.datetime:
    since = dt.datetime.now(dt.UTC)
    import_files(
        db, files(tmp_path, **rows), actor="hr", settings=Settings(bulk_import_threshold=threshold),
        today=dt.date(2026, 1, 5),
    )  # fmt: skip
    return since


RowWrites = Callable[[], dict[tuple[str, str], int]]
WRITE_LOG = "_test_row_writes"


@pytest.fixture
def row_writes(org: Database) -> Iterator[RowWrites]:
    """How many times each person's and move's row is written from now on, as the database sees it: a trigger
    logs each row that an INSERT, a COPY, an upsert or an UPDATE writes, whatever sent it (on SQLite not the
    key the database fills in itself after an insert: migration 0005). Removed afterwards: a PostgreSQL test
    database is kept between tests."""
    pg = org.backend == "postgresql"
    install = [f"CREATE TABLE {WRITE_LOG} (tbl VARCHAR(20), id VARCHAR(64))"]
    remove = [f"DROP TABLE {WRITE_LOG}"]
    if pg:
        install.append(
            f"CREATE FUNCTION {WRITE_LOG}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {WRITE_LOG} VALUES (TG_TABLE_NAME, NEW.id); RETURN NULL; END $$"
        )
        remove.insert(0, f"DROP FUNCTION {WRITE_LOG}()")
    for table in (t.people, t.moves):
        name = f"{WRITE_LOG}_{table.name}"
        if pg:
            install.append(
                f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE ON {table.name} "
                f"FOR EACH ROW EXECUTE FUNCTION {WRITE_LOG}()"
            )
            remove.insert(0, f"DROP TRIGGER {name} ON {table.name}")
            continue
        columns = ", ".join(f'"{c.name}"' for c in table.c if c.name != "key")
        for suffix, event in (("i", "INSERT"), ("u", f"UPDATE OF {columns}")):
            install.append(
                f"CREATE TRIGGER {name}_{suffix} AFTER {event} ON {table.name} FOR EACH ROW "
                f"BEGIN INSERT INTO {WRITE_LOG} VALUES ('{table.name}', NEW.id); END"
            )
            remove.insert(0, f"DROP TRIGGER {name}_{suffix}")
    with org.write_engine.begin() as conn:
        for sql in install:
            conn.execute(text(sql))

    def writes() -> dict[tuple[str, str], int]:
        with org.engine.connect() as conn:
            rows = conn.execute(text(f"SELECT tbl, id, count(*) FROM {WRITE_LOG} GROUP BY tbl, id"))
            return {(tbl, rid): n for tbl, rid, n in rows}

    yield writes
    with org.write_engine.begin() as conn:
        for sql in remove:
            conn.execute(text(sql))


def test_a_person_is_written_with_a_stored_manager_in_the_same_row(
    org: Database, row_writes: RowWrites, tmp_path: Path
) -> None:
    """Only a manager new in this import, who may come later in the file, is set in a second pass: a person
    whose manager is stored (P2's P1, P5's P2) is written once, as everyone else. The pass writes the
    import's time: the stamp of their renamed team does not write the row a third time."""
    people = [[*p[:7], "Lisbon"] for p in PEOPLE]  # everyone changed
    people += [
        ["P4", "Di", "di@x.org", "R1", "P5", "DATA", "2022-01-01", "Porto"],  # P5: new, and later in the file
        ["P5", "Ed", "ed@x.org", "R1", "P2", "DATA", "2022-01-01", "Porto"],
    ]
    teams = [["DATA", "Data & Analytics", "", "", ""], TEAMS[1]]  # shown beside P1, P2, P4, P5 and M2
    since = reimport(org, tmp_path, people=people, teams=teams)
    assert changed(org, since) == (["P1", "P2", "P3", "P4", "P5"], ["M2"])
    once = [("people", p) for p in ("P1", "P2", "P3", "P5")] + [("moves", "M2")]
    assert row_writes() == dict.fromkeys(once, 1) | {("people", "P4"): 2}
    with org.engine.connect() as conn:
        managers = {pid: mid for pid, mid in conn.execute(select(t.people.c.id, t.people.c.manager_id))}
    assert managers == {"P1": None, "P2": "P1", "P3": None, "P4": "P5", "P5": "P2"}


@pytest.mark.parametrize("threshold", [50_000, 1])  # the upsert path and the bulk path
def test_an_import_stamps_only_the_rows_it_does_not_write(
    org: Database, row_writes: RowWrites, tmp_path: Path, threshold: int
) -> None:
    """A row the import writes gets its time in that write; a stamp writes only the rows the import does not
    (M3, showing a renamed person), each once however many stamps reach it."""
    # DATA renamed and R1 retitled: both shown beside P1 and P2, DATA beside M2 too. P3 renamed: shown on M2
    # and M3. P1 and P2 changed themselves; M1 given from P1 to P2 (both people); M2 retitled.
    teams = [["DATA", "Data & Analytics", "", "", ""], TEAMS[1]]
    roles = [["R1", "Senior Analyst", "", 2, "DATA", "false"], ROLES[1]]
    people = [[*PEOPLE[0][:7], "Lisbon"], [*PEOPLE[1][:7], "Lisbon"], ["P3", "Cyrus", *PEOPLE[2][2:]]]
    moves = [["M1", "P2", *MOVES[0][2:]], ["M2", "P3", "gig", "Runbooks, v2", *MOVES[1][4:]], MOVES[2]]
    since = reimport(org, tmp_path, threshold, teams=teams, roles=roles, people=people, moves=moves)
    assert changed(org, since) == (["P1", "P2", "P3"], ["M1", "M2", "M3"])
    written_once = {("people", "P1"), ("people", "P2"), ("people", "P3"), ("moves", "M1"), ("moves", "M2")}
    assert row_writes() == dict.fromkeys([*written_once, ("moves", "M3")], 1)
    with org.engine.connect() as conn:
        times = set(conn.execute(select(t.people.c.updated_at)).scalars())
        times |= set(conn.execute(select(t.moves.c.updated_at)).scalars())
    assert len(times) == 1  # one import, one time


@pytest.mark.parametrize("threshold", [50_000, 1])  # the upsert path and the bulk path
def test_a_move_given_to_another_person_changes_both_people(org: Database, tmp_path: Path, threshold: int) -> None:
    since = reimport(org, tmp_path, threshold)
    assert changed(org, since) == ([], [])  # the same files again change nothing
    moved = [["M1", "P2", *MOVES[0][2:]], *MOVES[1:]]
    since = reimport(org, tmp_path, threshold, moves=moved)
    # P1 lost a move, P2 gained it.
    assert changed(org, since) == (["P1", "P2"], ["M1"])
    # Another change to a move (its title) changes the move only.
    retitled = [["M1", "P2", "gig", "Pricing study, v2", *MOVES[0][4:]], *MOVES[1:]]
    since = reimport(org, tmp_path, threshold, moves=retitled)
    assert changed(org, since) == ([], ["M1"])


@pytest.mark.parametrize("threshold", [50_000, 1])  # the upsert path and the bulk path
def test_evidence_from_a_moves_file_alone_changes_the_person_it_is_written_to(
    org: Database, tmp_path: Path, threshold: int
) -> None:
    """Only people listed in the same import's people file were stamped: a moves.csv on its own wrote skill
    evidence to P1's profile, and a changed_since sync never saw P1 change."""
    since = dt.datetime.now(dt.UTC)
    gained = [[*MOVES[0][:-1], "Programming:2>3"], *MOVES[1:]]
    import_files(
        org, [write_csv(tmp_path / "moves.csv", MOVES_H, gained)], actor="hr",
        settings=Settings(bulk_import_threshold=threshold), today=dt.date(2026, 1, 5),
    )  # fmt: skip
    with org.engine.connect() as conn:
        evidence = conn.execute(select(t.skill_levels.c.person_id).where(t.skill_levels.c.move_id == "M1")).scalars()
        assert list(evidence) == ["P1"]
    assert changed(org, since) == (["P1"], ["M1"])


def test_a_renamed_team_or_role_changes_whom_it_names(org: Database, tmp_path: Path) -> None:
    # The team DATA renamed: its people P1 and P2 (the directory shows their team's name) and the move it
    # hosts (M2: moves.csv's host_team).
    teams = [["DATA", "Data & Analytics", "", "", ""], TEAMS[1]]
    since = reimport(org, tmp_path, teams=teams)
    assert changed(org, since) == (["P1", "P2"], ["M2"])
    # The role R2 retitled: P3, who holds it (the directory's role); no move shows a role's title.
    roles = [ROLES[0], ["R2", "Site Reliability Engineer", "", 2, "OPS", "false"]]
    since = reimport(org, tmp_path, teams=teams, roles=roles)
    assert changed(org, since) == (["P3"], [])
    # A change that shows nowhere beside the people (the role's level, the team's function) changes none.
    roles = [ROLES[0], ["R2", "Site Reliability Engineer", "", 3, "OPS", "false"]]
    teams = [teams[0], ["OPS", "Operations", "", "Engineering", ""]]
    since = reimport(org, tmp_path, teams=teams, roles=roles)
    assert changed(org, since) == ([], [])
    # A person renamed: their own record, and their moves (moves.csv's person).
    since = reimport(org, tmp_path, teams=teams, roles=roles, people=[*PEOPLE[:2], ["P3", "Cyrus", *PEOPLE[2][2:]]])
    assert changed(org, since) == (["P3"], ["M2", "M3"])


def test_a_rejected_import_stamps_nothing(org: Database, tmp_path: Path) -> None:
    since = dt.datetime.now(dt.UTC)
    bad = [*PEOPLE, ["P4", "Di", "di@x.org", "R9", "", "DATA", "not a date", "Porto"]]
    with pytest.raises(ImportRejected):
        import_files(
            org,
            files(tmp_path, teams=[["DATA", "Renamed", "", "", ""], TEAMS[1]], people=bad),
            actor="hr",
            today=dt.date(2026, 1, 5),
        )
    assert changed(org, since) == ([], [])


def test_the_orm_stamps_a_reassigned_move_and_a_rename(org: Database) -> None:
    """A service that writes through the ORM gets the same stamps (storage.orm): none does today, the import
    writes set-based, but one that will must not need to remember them."""
    since = dt.datetime.now(dt.UTC)
    with UnitOfWork(org) as uow:
        move = uow.session.get(Move, "M3")
        assert move is not None
        move.person_id = "P1"
        uow.commit()
    assert changed(org, since) == (["P1", "P3"], ["M3"])
    # Also when the move's person_id was not loaded (an expired object keeps no old value unless the mapping
    # asks for it): back to P3, and P1, whose move it was, is stamped too.
    since = dt.datetime.now(dt.UTC)
    with UnitOfWork(org) as uow:
        move = uow.session.get(Move, "M3")
        assert move is not None
        uow.session.expire(move)
        move.person_id = "P3"
        uow.commit()
    assert changed(org, since) == (["P1", "P3"], ["M3"])
    since = dt.datetime.now(dt.UTC)
    with UnitOfWork(org) as uow:
        team = uow.session.get(Team, "OPS")
        assert team is not None
        team.function = "Engineering"  # not shown beside anyone
        uow.commit()
    assert changed(org, since) == ([], [])
    with UnitOfWork(org) as uow:
        team = uow.session.get(Team, "OPS")
        assert team is not None
        team.name = "Platform"
        uow.commit()
    # P3's team; the moves OPS hosts (M1, M3).
    assert changed(org, since) == (["P3"], ["M1", "M3"])
    with org.engine.connect() as conn:
        assert conn.scalar(select(t.teams.c.name).where(t.teams.c.id == "OPS")) == "Platform"
