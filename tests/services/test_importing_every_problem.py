"""Every problem of an import in one report (README: "listing every problem"), so that an administrator
fixes a file in one round. A row refused while parsed (a time share out of range, a rating no one knows)
still has every check made that the cells it did read allow: its person, host team, target role and gained
skills are looked up, its time counts against capacity, its status against the stored move's. Before, a
row's unknown skill or team surfaced only once its other problems were fixed."""

from __future__ import annotations

from pathlib import Path

from micromoves.services.importing import import_files
from micromoves.storage.db import Database
from tests.services.test_importing import (
    MOVES_H,
    MV2_ROW,
    PEOPLE_H,
    ROLES_H,
    all_files,
    files,  # noqa: F401 (a fixture)
    rejected,
    write_csv,
)

MOVES_RH = [*MOVES_H, "criteria_ratings"]


def test_a_refused_move_row_still_has_its_skills_teams_people_and_roles_checked(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """The reviewer's file: row 2 has a time share of 150% and a gain of an unknown skill, row 3 an unknown
    host team, a rating no one knows and a gain to level 9. Only the time share, the rating and the level
    were reported."""
    import_files(db, all_files(files), actor="hr")  # P1, P2; R-DA, R-DS; teams DATA, MKT, ML
    moves = write_csv(
        tmp_path / "moves3.csv",
        MOVES_RH,
        [
            ["Q1", "P2", "gig", "Gig one", "DATA", "2025-04-07", "2025-05-02", 150, "proposed", "", "c", "", "Nope:3>4",
             ""],
            ["Q2", "P2", "gig", "Gig two", "T-NOPE-TEAM", "2025-04-07", "2025-05-02", 10, "proposed", "", "c", "",
             "Programming:2>9;Nope2:1>9;Critical Thinking:3>4", "great"],
            # Everything this row names is unknown, and its start is in another notation.
            ["Q3", "P9", "gig", "Gig three", "T-NOPE-2", "05/01/2026", "2026-02-09", 10, "proposed", "R-XX", "c", "",
             "Nope3:1>2", ""],
        ],
    )  # fmt: skip
    unknown_skill = "skills_gained: unknown skill {!r} (O*NET element name or ESCO URI)"
    unknown_team = "host_team: unknown team {!r} (teams are not created with known_teams)"
    assert rejected(db, [moves], known_teams=True) == [
        "moves3.csv:2:percent_time: 150 is out of range 1–100",
        "moves3.csv:2:" + unknown_skill.format("Nope"),
        "moves3.csv:3:criteria_ratings: unknown rating 'great'; one of: met, partly_met, not_met",
        "moves3.csv:3:" + unknown_team.format("T-NOPE-TEAM"),
        "moves3.csv:3:skills_gained: level 9 is outside O*NET's 0–7 level scale",
        "moves3.csv:3:skills_gained: level 9 is outside O*NET's 0–7 level scale",
        # A gain whose level cannot be read still names its skill: it is looked up too.
        "moves3.csv:3:" + unknown_skill.format("Nope2"),
        "moves3.csv:4:" + unknown_team.format("T-NOPE-2"),
        "moves3.csv:4:person_id: unknown person 'P9'",
        "moves3.csv:4:" + unknown_skill.format("Nope3"),
        "moves3.csv:4:start: '05/01/2026' is not an ISO date (YYYY-MM-DD)",
        "moves3.csv:4:target_role_id: unknown role 'R-XX'",
    ]
    # Without known_teams an unknown team is created, not a problem; the rest stays.
    assert [(p.split(":")[1], p.split(":")[2]) for p in rejected(db, [moves])] == [
        ("2", "percent_time"),
        ("2", "skills_gained"),
        ("3", "criteria_ratings"),
        ("3", "skills_gained"),
        ("3", "skills_gained"),
        ("3", "skills_gained"),
        ("4", "person_id"),
        ("4", "skills_gained"),
        ("4", "start"),
        ("4", "target_role_id"),
    ]


def test_a_refused_move_row_counts_against_capacity_and_its_stored_status(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """A refused row whose dates, time share and status read counts in the time checks (it overlapped a
    full-time move unseen); one whose status reads is held to the stored move's lifecycle. A row whose time
    or status has a problem of its own is left out of those checks (no second message about the same cell)."""
    import_files(db, all_files(files), actor="hr")  # MV1 completed (reviewed: end), MV2 completed
    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_RH,
        [
            ["B1", "P2", "rotation", "full A", "", "2026-06-01", "2026-07-31", 100, "approved", "", "c", "", "", ""],
            # Refused for its rating; its full-time overlap with B1 is a problem all the same.
            ["B2", "P2", "rotation", "full B", "", "2026-07-01", "2026-08-31", 100, "approved", "", "c", "", "",
             "great"],
            # Refused for its time share: it also takes a completed move back to proposed.
            ["MV1", "P2", "stretch_assignment", "Build churn model", "DATA", "2025-01-06", "2025-03-28", 0,
             "proposed", "R-DS", "Model in production;AUC above 0.75", "", "", ""],
            # Its time share has a problem of its own: not also an overload; its status is unknown: no step.
            ["B3", "P2", "rotation", "full C", "", "2026-07-01", "2026-08-31", 500, "approved", "", "c", "", "", ""],
            ["MV2", "P2", "gig", "Dashboard gig", "MKT", "2025-02-03", "2025-03-14", 20, "finished", "", "c", "", "",
             ""],
        ],
    )  # fmt: skip
    assert rejected(db, [moves]) == [
        "moves.csv:3:criteria_ratings: unknown rating 'great'; one of: met, partly_met, not_met",
        "moves.csv:3:start: full-time move B2 overlaps full-time move B1",
        "moves.csv:4:percent_time: 0 is out of range 1–100",
        "moves.csv:4:status: move MV1 is completed here; proposed would be a step back in its lifecycle (a file "
        "older than the changes made since?). Statuses it can still come to: reverted",
        "moves.csv:5:percent_time: 500 is out of range 1–100",
        "moves.csv:6:status: unknown status 'finished'; one of: proposed, requested, approved, onboarding, "
        "active, in_review, completed, declined, withdrawn, reverted",
    ]
    # MV2 is completed, reviewed 'end': reverted, its outcome left empty (the review kept), is a clash; with an
    # outcome that does not read, whether the review is kept is unknown (no second problem on the row).
    mv2 = [*MV2_ROW[:7], 0, "reverted", *MV2_ROW[9:], "", "", ""]
    assert rejected(db, [write_csv(tmp_path / "mv2_moves.csv", MOVES_RH, [mv2])]) == [
        "mv2_moves.csv:2:percent_time: 0 is out of range 1–100",
        "mv2_moves.csv:2:status: a review deciding end leaves the move completed, not reverted (the stored review, "
        "kept as the outcome column is empty): give the outcome that goes with the new status, or keep the status",
    ]
    mv2[11] = "finish"
    assert [p.split(":")[2] for p in rejected(db, [write_csv(tmp_path / "mv2_moves.csv", MOVES_RH, [mv2])])] == [
        "outcome",
        "percent_time",
    ]


def test_a_stored_moves_lifecycle_is_checked_with_every_other_problem(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """A step back in a stored move's lifecycle, or a status its kept review contradicts, was checked only
    once the rest of the import was clean: a second round for the administrator."""
    import_files(db, all_files(files), actor="hr")
    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_RH,
        [
            ["A1", "P2", "gig", "bad date", "", "2025-13-01", "2025-02-28", 20, "proposed", "", "", "", "", ""],
            [*MV2_ROW[:8], "reverted", *MV2_ROW[9:], "", "", ""],  # reverted, its 'end' review kept: a clash
            ["MV1", "P2", "stretch_assignment", "Build churn model", "DATA", "2025-01-06", "2025-03-28", 40,
             "proposed", "R-DS", "Model in production;AUC above 0.75", "", "", ""],
        ],
    )  # fmt: skip
    problems = rejected(db, [moves])
    assert [p.split(":", 3)[1:3] for p in problems] == [["2", "start"], ["3", "status"], ["4", "status"]]
    assert "a review deciding end leaves the move completed, not reverted (the stored review" in problems[1]
    assert "move MV1 is completed here; proposed would be a step back" in problems[2]


def test_a_refused_move_row_with_an_id_of_another_file(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """The same id in two moves files is a problem whichever of the two rows is refused for another."""
    import_files(db, all_files(files), actor="hr")
    row = ["Q1", "P2", "gig", "Gig", "", "2025-04-07", "2025-05-02", 10, "proposed", "", "c", "", "", ""]
    a = write_csv(tmp_path / "a_moves.csv", MOVES_RH, [[*row[:7], 150, *row[8:]]])
    b = write_csv(tmp_path / "b_moves.csv", MOVES_RH, [row])
    assert rejected(db, [a, b]) == [
        "a_moves.csv:2:percent_time: 150 is out of range 1–100",
        "b_moves.csv:2:move_id: duplicate id 'Q1' (first in a_moves.csv on row 2)",
    ]
    c = write_csv(tmp_path / "c_moves.csv", MOVES_RH, [[*row[:7], 150, *row[8:]]])
    assert rejected(db, [b, c]) == [
        "c_moves.csv:2:move_id: duplicate id 'Q1' (first in b_moves.csv on row 2)",
        "c_moves.csv:2:percent_time: 150 is out of range 1–100",
    ]


def test_a_people_row_with_a_bad_value_still_has_its_references_checked(db: Database, tmp_path: Path) -> None:
    """people.csv keeps a row with a bad value among the people checked: its unknown manager, role, target
    role and team are reported with the bad date, capacity or e-mail address."""
    people = write_csv(
        tmp_path / "people.csv",
        [*PEOPLE_H, "capacity_percent", "target_role_id"],
        [
            ["PX1", "A", "", "R-NOPE", "P-NOPE", "T-NOPE", "2025-13-01", "", "", "R-NOPE2"],
            ["PX2", "B", "bad email", "", "", "", "", "", "900", ""],
            ["PX3", "", "", "", "P-NOPE", "", "", "", "abc", ""],
        ],
    )
    assert rejected(db, [people], known_teams=True) == [
        "people.csv:2:hire_date: '2025-13-01' is not an ISO date (YYYY-MM-DD)",
        "people.csv:2:manager_id: unknown person 'P-NOPE'",
        "people.csv:2:role_id: unknown role 'R-NOPE'",
        "people.csv:2:target_role_id: unknown role 'R-NOPE2'",
        "people.csv:2:team: unknown team 'T-NOPE' (teams are not created with known_teams)",
        "people.csv:3:capacity_percent: 900 is out of range 1–200",
        "people.csv:3:email: 'bad email' is not an e-mail address",
        "people.csv:4:capacity_percent: 'abc' is not a whole number",
        "people.csv:4:manager_id: unknown person 'P-NOPE'",
        "people.csv:4:name: required value is empty",
    ]


def test_a_role_skill_row_with_a_bad_level_still_has_its_role_and_skill_checked(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """A role_skills row whose level did not read was dropped before its role and skill were looked up (and
    before it was compared with the rows before it); an empty role or skill was reported twice: empty, and
    unknown ''."""
    import_files(db, all_files(files), actor="hr")
    role_skills = write_csv(
        tmp_path / "role_skills.csv",
        ["role_id", "skill", "level"],
        [
            ["R-NOPE", "Nope", 9],
            ["R-DS", "Nope2", "x"],
            ["", "Programming", 3],
            ["R-DA", "", 3],
            ["R-DA", "Programming", 3],
            ["R-DA", "programming", "high"],
        ],
    )
    assert rejected(db, [role_skills]) == [
        "role_skills.csv:2:level: level 9 is outside O*NET's 0–7 level scale",
        "role_skills.csv:2:role_id: unknown role 'R-NOPE'",
        "role_skills.csv:2:skill: unknown skill 'Nope' (O*NET element name or ESCO URI)",
        "role_skills.csv:3:level: 'x' is not a number",
        "role_skills.csv:3:skill: unknown skill 'Nope2' (O*NET element name or ESCO URI)",
        "role_skills.csv:4:role_id: required value is empty",
        "role_skills.csv:5:skill: required value is empty",
        "role_skills.csv:7:level: 'high' is not a number",
        "role_skills.csv:7:skill: skill 'programming' listed twice for role R-DA (first on row 6)",
    ]


def test_an_onet_code_of_the_wrong_shape_is_reported_once(db: Database, tmp_path: Path) -> None:
    roles = write_csv(
        tmp_path / "roles.csv",
        ROLES_H,
        [["R1", "T", "abc", 1, "", "false"], ["R2", "T", "99-9999.00", "abc", "", "maybe"]],
    )
    assert rejected(db, [roles]) == [
        "roles.csv:2:onet_code: 'abc' is not an O*NET-SOC code like 15-1252.00",
        "roles.csv:3:critical: 'maybe' is not true/false",
        "roles.csv:3:level: 'abc' is not a whole number",
        "roles.csv:3:onet_code: unknown O*NET-SOC code 99-9999.00",
    ]


def test_a_value_no_column_can_hold_is_looked_up_without_a_crash(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """A NUL character in a person, team or role that a row names ended the import in a driver's traceback on
    PostgreSQL, once the table looked in was large enough to be asked rather than read whole (a row refused
    for another problem has its references looked up too). Such a value, or one longer than its column, can
    be no stored id: it is unknown, on either database."""
    import_files(db, all_files(files), actor="hr")
    long_id = "P" * 64
    many = [[f"PP{i}", "n", "", "R-DA", "", f"T{i}", "", ""] for i in range(30)]
    many += [[long_id, "Long", "", "", "", "", "", ""]]
    import_files(db, [write_csv(tmp_path / "people.csv", PEOPLE_H, many)], actor="hr")
    roles = write_csv(tmp_path / "roles.csv", ROLES_H, [[f"R{i}", "T", "", 1, "", "false"] for i in range(30)])
    import_files(db, [roles], actor="hr")  # roles enough to be asked too
    row = ["Q1", "P2", "gig", "Gig", "DATA", "2025-04-07", "2025-05-02", 10, "proposed", "", "c", "", "", ""]
    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_RH,
        [
            ["Q1", "P\x00", *row[2:4], "T\x00", *row[5:9], "R\x00", *row[10:]],
            ["Q2", "P\x00", *row[2:7], 150, *row[8:]],  # refused for its time share as well
            ["Q3", long_id + "X", *row[2:]],
        ],
    )
    nul = "holds the control character U+0000, which the database cannot store as text"
    assert rejected(db, [moves], known_teams=True) == [
        f"moves.csv:2:host_team: {nul}",
        "moves.csv:2:host_team: unknown team 'T\\x00' (teams are not created with known_teams)",
        f"moves.csv:2:person_id: {nul}",
        "moves.csv:2:person_id: unknown person 'P\\x00'",
        f"moves.csv:2:target_role_id: {nul}",
        "moves.csv:2:target_role_id: unknown role 'R\\x00'",
        "moves.csv:3:percent_time: 150 is out of range 1–100",
        f"moves.csv:3:person_id: {nul}",
        "moves.csv:3:person_id: unknown person 'P\\x00'",
        "moves.csv:4:person_id: too long: 65 characters, the database holds at most 64",
        f"moves.csv:4:person_id: unknown person '{long_id}X'",
    ]
    people = write_csv(tmp_path / "people2.csv", PEOPLE_H, [["P\x00", "Nul", "", "R\x00", "P\x00x", "", "", ""]])
    assert rejected(db, [people]) == [
        "people2.csv:2:manager_id: holds the control character U+0000, which the database cannot store as text",
        "people2.csv:2:manager_id: unknown person 'P\\x00x'",
        "people2.csv:2:person_id: holds the control character U+0000, which the database cannot store as text",
        "people2.csv:2:role_id: holds the control character U+0000, which the database cannot store as text",
        "people2.csv:2:role_id: unknown role 'R\\x00'",
    ]


def test_a_row_whose_id_a_row_before_it_has_still_has_its_other_problems_reported(db: Database, tmp_path: Path) -> None:
    """A row with an id already given on a row before it was dropped at once: its bad date, unknown manager,
    team, role or skill came up only once the id was fixed. It is read all the same (never written); its
    status and time are not the move's (the first row's are), so they are not held against it."""
    teams = write_csv(
        tmp_path / "teams.csv",
        ["team_id", "name", "parent_id", "function", "manager_id"],
        [["T1", "One", "", "", ""], ["T1", "One again", "T-NOPE", "", "P-NOPE"]],
    )
    roles = write_csv(
        tmp_path / "roles.csv",
        ROLES_H,
        [["R1", "Role", "", 1, "T1", "false"], ["R1", "Role again", "99-9999.00", "abc", "T-NOPE", "false"]],
    )
    people = write_csv(
        tmp_path / "people.csv",
        [*PEOPLE_H, "target_role_id"],
        [
            ["P1", "Ada", "", "R1", "", "T1", "2020-01-06", "", ""],
            ["P1", "Ada again", "", "R-NOPE", "P-NOPE", "T-NOPE", "2020-13-06", "", "R-NOPE2"],
            ["", "No id", "", "", "", "", "", "", ""],
            ["", "No id either", "", "", "", "", "", "", ""],
        ],
    )
    row = ["M1", "P1", "rotation", "Full", "T1", "2026-06-01", "2026-07-31", 100, "approved", "", "c", "", "", ""]
    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_RH,
        [row, [*row[:1], "P9", *row[2:4], "T-NOPE", *row[5:12], "Nope:1>2", ""], [*row[:7], 150, *row[8:]]],
    )
    unknown_team = "unknown team 'T-NOPE' (teams are not created with known_teams)"
    assert rejected(db, [teams, roles, people, moves], known_teams=True) == [
        "moves.csv:3:host_team: " + unknown_team,
        "moves.csv:3:move_id: duplicate id 'M1' (first on row 2)",
        "moves.csv:3:person_id: unknown person 'P9'",
        "moves.csv:3:skills_gained: unknown skill 'Nope' (O*NET element name or ESCO URI)",
        "moves.csv:4:move_id: duplicate id 'M1' (first on row 2)",
        "moves.csv:4:percent_time: 150 is out of range 1–100",
        "people.csv:3:hire_date: '2020-13-06' is not an ISO date (YYYY-MM-DD)",
        "people.csv:3:manager_id: unknown person 'P-NOPE'",
        "people.csv:3:person_id: duplicate id 'P1' (first on row 2)",
        "people.csv:3:role_id: unknown role 'R-NOPE'",
        "people.csv:3:target_role_id: unknown role 'R-NOPE2'",
        "people.csv:3:team: " + unknown_team,
        # An empty id is a problem of its own, not also a duplicate of the empty id before it.
        "people.csv:4:person_id: required value is empty",
        "people.csv:5:person_id: required value is empty",
        "roles.csv:3:level: 'abc' is not a whole number",
        "roles.csv:3:onet_code: unknown O*NET-SOC code 99-9999.00",
        "roles.csv:3:role_id: duplicate id 'R1' (first on row 2)",
        "roles.csv:3:team: " + unknown_team,
        "teams.csv:3:manager_id: unknown person 'P-NOPE'",
        "teams.csv:3:parent_id: unknown team 'T-NOPE' (a parent is a team stored or defined in a teams file)",
        "teams.csv:3:team_id: duplicate id 'T1' (first on row 2)",
    ]


def test_a_capacity_that_does_not_read_is_not_replaced_in_the_time_checks(
    db: Database,
    tmp_path: Path,
    files: dict[str, Path],  # noqa: F811
) -> None:
    """A capacity or home share that does not read was replaced by the stored or default value in the time
    checks, which then reported problems of a number the file does not give ('150 leaves no time for moves
    (capacity 100)' for a capacity of 900)."""
    import_files(db, all_files(files), actor="hr")  # P2's stored moves take 60% in February 2025
    people = write_csv(
        tmp_path / "people.csv",
        [*PEOPLE_H, "capacity_percent", "home_role_min_percent"],
        [
            ["P1", "Ada Boss", "ada@example.org", "R-DS", "", "DATA", "2019-04-01", "Berlin", "900", "150"],
            ["P2", "Bo Analyst", "bo@example.org", "R-DA", "P1", "DATA", "2023-01-09", "Lisbon", "abc", "50"],
            ["P3", "Cy", "", "", "", "", "", "", "", "1O"],
        ],
    )
    assert rejected(db, [people]) == [
        "people.csv:2:capacity_percent: 900 is out of range 1–200",
        "people.csv:3:capacity_percent: 'abc' is not a whole number",
        "people.csv:4:home_role_min_percent: '1O' is not a whole number",
    ]
    # What reads is checked as before: a home share of 50 leaves 50% for P2's 60% of stored moves (named at
    # the column that gives it: the capacity cell is empty, the stored capacity stays).
    people = write_csv(
        tmp_path / "people.csv",
        [*PEOPLE_H, "capacity_percent", "home_role_min_percent"],
        [["P2", "Bo Analyst", "bo@example.org", "R-DA", "P1", "DATA", "2023-01-09", "Lisbon", "", "50"]],
    )
    [problem] = rejected(db, [people])
    assert problem.startswith("people.csv:2:home_role_min_percent: the stored moves' time share")
