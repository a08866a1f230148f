"""Dates no organisation can have, and the capacity a time problem names. A product walk imported a hire date
in the future and a move starting before its person's hire date, both taken as they came; and a home share
given alone was refused naming capacity_percent, a column the file did not have.

The files of tests/services/test_importing.py: P1 hired 2019-04-01, P2 hired 2023-01-09; P2's stored moves
MV1 (40%, 2025-01-06..03-28) and MV2 (20%, 2025-02-03..03-14) run together from 2025-02-03."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from micromoves.services.importing import ImportRejected, import_files
from micromoves.storage.db import Database
from tests.services.test_importing import (
    MOVES_H,
    PEOPLE_H,
    all_files,
    counts,
    files,  # noqa: F401 (a fixture)
    write_csv,
)

TODAY = dt.date(2025, 6, 2)
P2 = ["P2", "Bo Analyst", "bo@example.org", "R-DA", "P1", "DATA", "2023-01-09", "Lisbon"]


def rejected(db: Database, paths: list[Path]) -> list[str]:
    """The problems of an import that must be rejected, having written nothing."""
    before = counts(db)
    with pytest.raises(ImportRejected) as info:
        import_files(db, paths, actor="hr", today=TODAY)
    assert counts(db) == before
    return [str(i) for i in info.value.issues]


def move(mid: str, person: str, start: str, end: str, percent: object = 10, status: str = "completed") -> list[object]:
    outcome = "end" if status == "completed" else ""
    return [mid, person, "gig", "Gig", "", start, end, percent, status, "", "c", outcome, ""]


# ---------------------------------------------------------------------------------------------- hire dates


def test_a_hire_date_after_today_is_refused(db: Database, tmp_path: Path) -> None:
    """'Today' is the import's (``today``, the local date the move statuses are checked against too). A move
    before that refused hire date is not also reported: the hire date is the problem to fix."""
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
        "people.csv:2:hire_date: a hire date cannot be after today (2025-06-02): 2025-06-03"
    ]
    # The same people file on the day after is fine (the move, then, is before the hire date).
    assert import_files(db, [people], actor="hr", today=dt.date(2025, 6, 3)).created == {"people": 2}


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
