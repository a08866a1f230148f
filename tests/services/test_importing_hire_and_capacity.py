"""Dates no organisation can have, and the capacity a time problem names. A product walk imported a hire date
in the future and a move starting before its person's hire date, both taken as they came; and a home share
given alone was refused naming capacity_percent, a column the file did not have.

The files of tests/services/test_importing.py: P1 hired 2019-04-01, P2 hired 2023-01-09; P2's stored moves
MV1 (40%, 2025-01-06..03-28) and MV2 (20%, 2025-02-03..03-14) run together from 2025-02-03."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from micromoves.domain.errors import InvalidDates
from micromoves.domain.model import MoveStatus
from micromoves.services import exporting
from micromoves.services import moves as move_svc
from micromoves.services.importing import ImportRejected, import_files
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_importing import (
    MOVES_H,
    PEOPLE_H,
    all_files,
    counts,
    files,  # noqa: F401 (a fixture)
    write_csv,
)
from tests.services.test_importing import rejected as rejected_on

TODAY = dt.date(2025, 6, 2)
P2 = ["P2", "Bo Analyst", "bo@example.org", "R-DA", "P1", "DATA", "2023-01-09", "Lisbon"]


def rejected(db: Database, paths: list[Path]) -> list[str]:
    return rejected_on(db, paths, today=TODAY)


def move(mid: str, person: str, start: str, end: str, percent: object = 10, status: str = "completed") -> list[object]:
    outcome = "end" if status == "completed" else ""
    return [mid, person, "gig", "Gig", "", start, end, percent, status, "", "c", outcome, ""]


# ---------------------------------------------------------------------------------------------- hire dates


def test_a_pre_hire_is_taken_and_has_no_move_before_the_hire_date(db: Database, tmp_path: Path) -> None:
    """An HRIS export lists the people who start later (pre-hires): a hire date after the import's 'today'
    was refused, and the whole sync with it. It is taken; the rule that no move starts before the hire date
    holds for a pre-hire as for anyone, in the import and in the app alike."""
    people = write_csv(
        tmp_path / "people.csv",
        PEOPLE_H,
        [
            ["P7", "Future Hire", "", "", "", "", "2025-06-03", ""],
            ["P8", "Hired Today", "", "", "", "", "2025-06-02", ""],
        ],
    )
    moves = write_csv(tmp_path / "moves.csv", MOVES_H, [move("F1", "P7", "2025-05-05", "2025-05-30")])
    assert rejected(db, [people, moves]) == [
        "moves.csv:2:start: a move cannot start before its person's hire date (P7 hired 2025-06-03, people.csv "
        "row 2): 2025-05-05"
    ]
    first = [move("F2", "P7", "2025-06-03", "2025-06-27", status="requested")]  # from the first day on
    summary = import_files(
        db, [people, write_csv(tmp_path / "later_moves.csv", MOVES_H, first)], actor="hr", today=TODAY
    )
    assert summary.created == {"people": 2, "moves": 1}
    with db.engine.connect() as conn:
        assert conn.scalar(select(t.people.c.hire_date).where(t.people.c.id == "P7")) == dt.date(2025, 6, 3)
    # The app holds a proposal to the same date.
    proposal: dict[str, Any] = dict(person_id="P7", kind="gig", title="Early", percent_time=10, actor="hr")
    proposal |= dict(criteria=["c"], end=dt.date(2025, 7, 25))
    with pytest.raises(InvalidDates) as info:
        move_svc.propose_move(db, **proposal, start=dt.date(2025, 6, 2))
    assert (info.value.field, info.value.message) == (
        "start",
        "start 2025-06-02 is before P7's hire date 2025-06-03; a move cannot start before its person's first day",
    )
    assert move_svc.propose_move(db, **proposal, start=dt.date(2025, 6, 30)).status is MoveStatus.PROPOSED


def test_a_hire_date_years_ahead_is_a_typo_not_a_pre_hire(db: Database, tmp_path: Path) -> None:
    """A pre-hire's hire date is months ahead; one years ahead (2052 for 2025) was taken as a pre-hire's, and
    kept every move of theirs from starting and their plan from having any time for decades. Refused beyond
    MICROMOVES_PREHIRE_MAX_DAYS (366 by default), naming the row; a stored one re-imported as it is stays
    taken (only what the import changes is checked), and so does one within the window."""
    far = write_csv(tmp_path / "people.csv", PEOPLE_H, [["P7", "Typo Hire", "", "", "", "", "2052-06-03", ""]])
    assert rejected(db, [far]) == [
        "people.csv:2:hire_date: 2052-06-03 is more than 366 days after today (2025-06-02): a pre-hire's hire "
        "date is at most that far ahead (MICROMOVES_PREHIRE_MAX_DAYS)"
    ]
    with db.engine.connect() as conn:
        assert conn.scalar(select(t.people.c.id).where(t.people.c.id == "P7")) is None
    within = write_csv(tmp_path / "next_people.csv", PEOPLE_H, [["P7", "Next Year", "", "", "", "", "2026-06-03", ""]])
    assert import_files(db, [within], actor="hr", today=TODAY).created == {"people": 1}
    # Stored before the rule (as an import made then would have): re-imported as stored, it is taken.
    with db.engine.begin() as conn:
        conn.execute(update(t.people).where(t.people.c.id == "P7").values(hire_date=dt.date(2052, 6, 3)))
    again = write_csv(tmp_path / "again_people.csv", PEOPLE_H, [["P7", "Next Year", "", "", "", "", "2052-06-03", ""]])
    assert import_files(db, [again], actor="hr", today=TODAY).created == {"people": 0}
    with db.engine.connect() as conn:
        assert conn.scalar(select(t.people.c.hire_date).where(t.people.c.id == "P7")) == dt.date(2052, 6, 3)


def test_the_app_refuses_a_hire_date_years_ahead_too(db: Database) -> None:
    from micromoves.services import org

    with pytest.raises(InvalidDates) as info:
        org.add_person(db, id="P9", name="Typo", actor="hr", hire_date=dt.date.today() + dt.timedelta(days=367))
    assert info.value.field == "hire_date"
    assert "more than 366 days after today" in info.value.message
    hired = dt.date.today() + dt.timedelta(days=366)
    assert org.add_person(db, id="P9", name="Soon", actor="hr", hire_date=hired).hire_date == hired


def test_a_move_cannot_start_before_the_hire_date_of_a_person_in_the_same_import(db: Database, tmp_path: Path) -> None:
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [["P7", "New Hire", "", "", "", "", "2024-03-04", ""]])
    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_H,
        [
            move("E1", "P7", "2024-01-08", "2024-02-09"),
            move("E2", "P7", "2024-03-04", "2024-04-05"),  # starts on the hire date: fine
            # A row refused for another problem has its start checked too: one round of fixes.
            move("E3", "P7", "2024-02-26", "2024-03-29", percent=150),
        ],
    )
    assert rejected(db, [people, moves]) == [
        "moves.csv:2:start: a move cannot start before its person's hire date (P7 hired 2024-03-04, people.csv "
        "row 2): 2024-01-08",
        "moves.csv:4:percent_time: 150 is out of range 1–100",
        "moves.csv:4:start: a move cannot start before its person's hire date (P7 hired 2024-03-04, people.csv "
        "row 2): 2024-02-26",
    ]


def test_a_move_cannot_start_before_the_stored_hire_date_of_its_person(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    import_files(db, all_files(files), actor="hr")
    moves = write_csv(tmp_path / "moves.csv", MOVES_H, [move("E1", "P2", "2022-12-05", "2023-01-06")])
    stored = "moves.csv:2:start: a move cannot start before its person's hire date (P2 hired 2023-01-09, as stored)"
    assert rejected(db, [moves]) == [f"{stored}: 2022-12-05"]
    # A people row that leaves the hire date empty keeps the stored one, and the move is held to it.
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [[*P2[:6], "", "Lisbon"]])
    assert rejected(db, [people, moves]) == [f"{stored}: 2022-12-05"]
    # A people row that gives an earlier hire date makes it possible.
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [[*P2[:6], "2022-11-01", "Lisbon"]])
    assert import_files(db, [people, moves], actor="hr", today=TODAY).created == {"people": 0, "moves": 1}


def test_a_hire_date_cannot_come_after_the_persons_stored_moves(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """The other way round: a people file moving a stored person's hire date past the start of their stored
    moves (MV1 from 2025-01-06). A moves file of the same import that gives the move a later start is the
    move's version that counts."""
    import_files(db, all_files(files), actor="hr")
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [[*P2[:6], "2025-02-01", "Lisbon"]])
    assert rejected(db, [people]) == [
        "people.csv:2:hire_date: a hire date cannot be after the start of the person's stored move MV1 "
        "(2025-01-06): 2025-02-01"
    ]
    later = ["MV1", "P2", "stretch_assignment", "Build churn model", "DATA", "2025-02-03", "2025-03-28", 40]
    later += ["completed", "R-DS", "Model in production;AUC above 0.75", "end", "Programming:2>3.5"]
    moves = write_csv(tmp_path / "moves.csv", MOVES_H, [later])
    assert import_files(db, [people, moves], actor="hr", today=TODAY).updated == {"people": 1, "moves": 1}


MV1 = ["MV1", "P2", "stretch_assignment", "Build churn model", "DATA", "2025-01-06", "2025-03-28", 40, "completed"]
MV1 += ["R-DS", "Model in production;AUC above 0.75", "end", "Programming:2>3.5"]


def test_an_export_holding_a_move_before_its_persons_hire_date_imports_back_unchanged(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """The app took moves starting before their person's hire date until it checked the rule too
    (moves.check_hired): such a move may be stored. Its export then came back refused (the moves row before
    the stored hire date, the people row's hire date after a stored move), and so did a people sync that
    only repeated the stored hire date. What an import does not change is taken; a change is held to the
    rule."""
    import_files(db, all_files(files), actor="hr")
    with db.write_engine.begin() as conn:  # stored before the rule: P2 hired after MV1's start (2025-01-06)
        conn.execute(update(t.people).where(t.people.c.id == "P2").values(hire_date=dt.date(2025, 1, 13)))
    exported = exporting.export_csv(db, tmp_path / "export")
    summary = import_files(db, list(exported.values()), actor="hr", today=TODAY)
    assert summary.updated == {"teams": 0, "roles": 0, "role_skills": 0, "people": 0, "moves": 0}
    assert import_files(db, [exported["people"]], actor="hr", today=TODAY).unchanged == {"people": 2}
    assert import_files(db, [exported["moves"]], actor="hr", today=TODAY).unchanged == {"moves": 3}
    # A new hire date is held to the stored move, and a new start to the stored hire date.
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [[*P2[:6], "2025-01-20", "Lisbon"]])
    assert rejected(db, [people]) == [
        "people.csv:2:hire_date: a hire date cannot be after the start of the person's stored move MV1 "
        "(2025-01-06): 2025-01-20"
    ]
    moves = write_csv(tmp_path / "moves.csv", MOVES_H, [[*MV1[:5], "2025-01-08", *MV1[6:]]])
    assert rejected(db, [moves]) == [
        "moves.csv:2:start: a move cannot start before its person's hire date (P2 hired 2025-01-13, as stored): "
        "2025-01-08"
    ]
    # The same row with the stored start, beside a people row changing the hire date: held to the new one.
    moves = write_csv(tmp_path / "moves.csv", MOVES_H, [MV1])
    assert rejected(db, [people, moves]) == [
        "moves.csv:2:start: a move cannot start before its person's hire date (P2 hired 2025-01-20, people.csv "
        "row 2): 2025-01-06"
    ]


def test_a_hire_date_is_held_only_to_the_moves_that_hold_or_held_time(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """A request withdrawn or declined never ran: a hire date after its start refused the people row (it
    named W1), and a new row of one before the hire date was refused too. A request still pending (MV3,
    from 2026-01-05) holds no time either: it is held to the hire date when approved."""
    import_files(db, all_files(files), actor="hr")
    never = [
        move("W1", "P2", "2024-03-04", "2024-03-29", status="withdrawn"),
        move("D1", "P2", "2024-04-01", "2024-04-26", status="declined"),
    ]
    import_files(db, [write_csv(tmp_path / "moves.csv", MOVES_H, never)], actor="hr", today=TODAY)
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [[*P2[:6], "2024-12-02", "Lisbon"]])
    moves = write_csv(
        tmp_path / "moves.csv", MOVES_H, [move("W2", "P2", "2024-01-08", "2024-02-02", status="withdrawn")]
    )
    assert import_files(db, [people, moves], actor="hr", today=TODAY).created == {"people": 0, "moves": 1}
    # Held to the moves that ran (MV1, from 2025-01-06), not to those that never did.
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [[*P2[:6], "2025-01-13", "Lisbon"]])
    assert rejected(db, [people]) == [
        "people.csv:2:hire_date: a hire date cannot be after the start of the person's stored move MV1 "
        "(2025-01-06): 2025-01-13"
    ]


def test_a_pending_request_is_held_to_a_new_hire_date_when_it_is_approved(db: Database, tmp_path: Path) -> None:
    """The HRIS corrects a hire date to after the start of a move still requested: the sync is taken (the
    request holds no time, and may be withdrawn), and the request cannot be approved while it starts before
    the person's first day (it could, and was then stored as a move that ran before the hire)."""
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [["P7", "New Hire", "", "", "", "", "2025-05-05", ""]])
    request = move("R1", "P7", "2025-06-09", "2025-07-04", status="requested")
    import_files(db, [people, write_csv(tmp_path / "moves.csv", MOVES_H, [request])], actor="hr", today=TODAY)
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [["P7", "New Hire", "", "", "", "", "2025-06-16", ""]])
    assert import_files(db, [people], actor="hr", today=dt.date(2025, 6, 16)).updated == {"people": 1}
    with pytest.raises(InvalidDates) as info:
        move_svc.transition_move(db, "R1", MoveStatus.APPROVED, actor="hr")
    assert (info.value.field, info.value.message) == (
        "start",
        "start 2025-06-09 is before P7's hire date 2025-06-16; a move cannot start before its person's first day",
    )
    assert move_svc.get_move(db, "R1").status is MoveStatus.REQUESTED


def test_a_re_import_cannot_approve_a_pending_request_that_starts_before_the_hire_date(
    db: Database, tmp_path: Path
) -> None:
    """A moves row with the stored person and start was taken as stored whatever its status: a re-import
    of a request still pending, now approved or active, stepped it past the hire date the app holds its
    approval to (it was stored as a move that ran before the person's first day). Re-imported as it is
    (still requested) it is taken."""
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [["P7", "New Hire", "", "", "", "", "2025-05-05", ""]])
    request = move("R1", "P7", "2025-06-09", "2025-07-04", status="requested")
    import_files(db, [people, write_csv(tmp_path / "moves.csv", MOVES_H, [request])], actor="hr", today=TODAY)
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [["P7", "New Hire", "", "", "", "", "2025-06-16", ""]])
    assert import_files(db, [people], actor="hr", today=dt.date(2025, 6, 16)).updated == {"people": 1}
    later = dt.date(2025, 6, 20)
    for status in ("active", "approved"):
        row = move("R1", "P7", "2025-06-09", "2025-07-04", 10, status)
        stepped = write_csv(tmp_path / f"{status}_moves.csv", MOVES_H, [row])
        before = counts(db)
        with pytest.raises(ImportRejected) as info:
            import_files(db, [stepped], actor="hr", today=later)
        assert counts(db) == before
        assert [str(i) for i in info.value.issues] == [
            f"{status}_moves.csv:2:start: a move cannot start before its person's hire date (P7 hired 2025-06-16, as "
            "stored): 2025-06-09"
        ]
    assert move_svc.get_move(db, "R1").status is MoveStatus.REQUESTED
    again = write_csv(tmp_path / "again_moves.csv", MOVES_H, [request])
    import_files(db, [again], actor="hr", today=later)
    assert move_svc.get_move(db, "R1").status is MoveStatus.REQUESTED


# ---------------------------------------------------------------------------------------------- capacity


def test_a_home_share_given_alone_is_named_at_its_own_column(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """A file with home_role_min_percent and no capacity_percent column was refused at capacity_percent. The
    sum is of moves that run together on the day named (MV3 is only requested: it holds no time)."""
    import_files(db, all_files(files), actor="hr")
    people = write_csv(tmp_path / "people.csv", [*PEOPLE_H, "home_role_min_percent"], [[*P2, 50]])
    assert rejected(db, [people]) == [
        "people.csv:2:home_role_min_percent: the stored moves' time share (past ones too, as their re-import is "
        "held to it) is over the capacity for moves: MV1 40% + MV2 20% = 60% on 2025-02-03, capacity for moves "
        "50% = capacity_percent 100 (stored) - home_role_min_percent 50 (people.csv row 2)"
    ]
    # Both columns given (as the export writes them), the capacity as stored: the home share is what changes.
    header = [*PEOPLE_H, "capacity_percent", "home_role_min_percent"]
    people = write_csv(tmp_path / "people.csv", header, [[*P2, 100, 50]])
    [problem] = rejected(db, [people])
    assert problem.startswith("people.csv:2:home_role_min_percent: the stored moves' time share")
    assert problem.endswith("= capacity_percent 100 (people.csv row 2) - home_role_min_percent 50 (people.csv row 2)")
    # A capacity given alone is named at capacity_percent, the home share said to be stored.
    import_files(db, [write_csv(tmp_path / "people_home.csv", header, [[*P2, "", 30]])], actor="hr", today=TODAY)
    people = write_csv(tmp_path / "people.csv", [*PEOPLE_H, "capacity_percent"], [[*P2, 80]])
    [problem] = rejected(db, [people])
    assert problem.startswith("people.csv:2:capacity_percent: the stored moves' time share")
    assert problem.endswith("capacity for moves 50% = capacity_percent 80 (people.csv row 2) - home_role_min_percent "
                            "30 (stored)")  # fmt: skip


def test_a_capacity_that_leaves_no_time_is_named_at_the_column_the_file_gives(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """A capacity of 25 beside a stored home share of 30 was refused at home_role_min_percent, which the file
    does not have; and the time checks held the moves to a capacity of -5% as well."""
    import_files(db, all_files(files), actor="hr")
    header = [*PEOPLE_H, "capacity_percent", "home_role_min_percent"]
    import_files(db, [write_csv(tmp_path / "people_home.csv", header, [[*P2, "", 30]])], actor="hr", today=TODAY)
    people = write_csv(tmp_path / "people.csv", [*PEOPLE_H, "capacity_percent"], [[*P2, 25]])
    assert rejected(db, [people]) == [
        "people.csv:2:capacity_percent: 25 leaves no time for moves beside the home role's share "
        "(home_role_min_percent 30, stored)"
    ]
    people = write_csv(tmp_path / "people.csv", [*PEOPLE_H, "home_role_min_percent"], [[*P2, 100]])
    assert rejected(db, [people]) == [
        "people.csv:2:home_role_min_percent: 100 leaves no time for moves (capacity_percent 100, stored)"
    ]


def test_a_moves_file_says_where_the_capacity_it_is_held_to_comes_from(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """A moves file has neither capacity column: the capacity is said to be stored, or named at the people
    file's row that gives it. A move of another year (O1, 2024) is not in the sum."""
    import_files(db, all_files(files), actor="hr")
    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_H,
        [
            move("O1", "P2", "2024-02-05", "2024-03-29", percent=70),
            move("O2", "P2", "2025-02-10", "2025-03-07", percent=50),
        ],
    )
    assert rejected(db, [moves]) == [
        "moves.csv:3:percent_time: time share over capacity: MV1 40% + MV2 20% + O2 50% = 110% on 2025-02-10, "
        "capacity for moves 100% = P2's stored capacity_percent 100 - home_role_min_percent 0"
    ]
    # With a people file giving a home share that the stored moves alone exceed too: both problems in one
    # round (the people row's came alone, and the moves row's only once it was fixed).
    people = write_csv(tmp_path / "people.csv", [*PEOPLE_H, "home_role_min_percent"], [[*P2, 50]])
    moves = write_csv(tmp_path / "moves.csv", MOVES_H, [move("O3", "P2", "2025-04-07", "2025-05-02", percent=60)])
    assert rejected(db, [people, moves]) == [
        "moves.csv:2:percent_time: time share over capacity: O3 60% = 60% on 2025-04-07, capacity for moves 50% = "
        "capacity_percent 100 (stored) - home_role_min_percent 50 (people.csv row 2)",
        "people.csv:2:home_role_min_percent: the stored moves' time share (past ones too, as their re-import is "
        "held to it) is over the capacity for moves: MV1 40% + MV2 20% = 60% on 2025-02-03, capacity for moves "
        "50% = capacity_percent 100 (stored) - home_role_min_percent 50 (people.csv row 2)",
    ]
