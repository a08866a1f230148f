from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from micromoves.domain.model import AssignmentReason, MoveStatus, Provenance
from micromoves.services import org
from micromoves.services.importing import ImportRejected, import_files
from micromoves.storage import tables as t
from micromoves.storage.db import Database

ORG_TABLES = (
    "teams",
    "roles",
    "role_skills",
    "people",
    "moves",
    "success_criteria",
    "skill_gains",
    "outcomes",
    "reviews",
    "skill_levels",
    "role_assignments",
    "status_changes",
    "audit_events",
)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


ROLES_H = ["role_id", "title", "onet_code", "level", "team", "critical"]
PEOPLE_H = ["person_id", "name", "email", "role_id", "manager_id", "team", "hire_date", "location"]
MOVES_H = [
    "move_id",
    "person_id",
    "kind",
    "title",
    "host_team",
    "start",
    "end",
    "percent_time",
    "status",
    "target_role_id",
    "success_criteria",
    "outcome",
    "skills_gained",
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "roles": write_csv(
            tmp_path / "roles.csv",
            ROLES_H,
            [
                ["R-DA", "Data Analyst", "15-2051.01", 2, "DATA", "false"],
                ["R-DS", "Data Scientist", "15-2051.00", 3, "DATA", "true"],
            ],
        ),
        "role_skills": write_csv(
            tmp_path / "role_skills.csv",
            ["role_id", "skill", "level"],
            [
                ["R-DS", "Programming", 4.5],
                ["R-DS", "Critical Thinking", 5],
                ["R-DA", "2.A.2.a", 4],
            ],
        ),
        "people": write_csv(
            tmp_path / "people.csv",
            PEOPLE_H,
            [
                ["P1", "Ada Boss", "ada@example.org", "R-DS", "", "DATA", "2019-04-01", "Berlin"],
                ["P2", "Bo Analyst", "bo@example.org", "R-DA", "P1", "DATA", "2023-01-09", "Lisbon"],
            ],
        ),
        "moves": write_csv(
            tmp_path / "moves.csv",
            [*MOVES_H, "criteria_ratings"],
            [
                [
                    "MV1",
                    "P2",
                    "stretch_assignment",
                    "Build churn model",
                    "DATA",
                    "2025-01-06",
                    "2025-03-28",
                    40,
                    "completed",
                    "R-DS",
                    "Model in production;AUC above 0.75",
                    "end",
                    "Programming:2>3.5",
                    "met;partly_met",
                ],
                [*MV2_ROW, "end", "", "met"],
                [
                    "MV3",
                    "P2",
                    "rotation",
                    "Rotation to ML platform",
                    "ML",
                    "2026-01-05",
                    "2026-04-03",
                    100,
                    "requested",
                    "R-DS",
                    "Own one pipeline",
                    "",
                    "",
                    "",
                ],
            ],
        ),
    }


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {name: conn.scalar(text(f"SELECT count(*) FROM {name}")) for name in ORG_TABLES}


def rejected(db: Database, paths: list[Path], *, today: dt.date | None = None, known_teams: bool = False) -> list[str]:
    """The problems of an import that must be rejected, having written nothing."""
    before = counts(db)
    with pytest.raises(ImportRejected) as info:
        import_files(db, paths, actor="hr", today=today, known_teams=known_teams)
    assert counts(db) == before
    return [str(i) for i in info.value.issues]


def updates(db: Database, label: str) -> list[tuple[str, dict[str, Any]]]:
    """The import's audit events of updated records of one kind: (id, details)."""
    a = t.audit_events.c
    with db.engine.connect() as conn:
        rows = conn.execute(select(a.entity_id, a.details).where(a.action == f"{label}.updated_by_import"))
        return [(r.entity_id, r.details) for r in rows]


def all_files(files: dict[str, Path]) -> list[Path]:
    return [files[k] for k in ("people", "moves", "roles", "role_skills")]  # order given is irrelevant


def test_import_writes_everything_and_writes_skills_back(db: Database, files: dict[str, Path]) -> None:
    summary = import_files(db, all_files(files), actor="hr")
    assert summary.created == {"roles": 2, "role_skills": 3, "people": 2, "moves": 3}
    assert summary.teams_created == ["DATA", "MKT", "ML"]
    overview = org.person_overview(db, "P2")
    assert overview.manager is not None and overview.manager.id == "P1"
    assert [(a.role_id, a.reason, a.start) for a in overview.assignments] == [
        ("R-DA", AssignmentReason.HIRE, dt.date(2023, 1, 9))
    ]
    prog = [lvl for lvl, name in overview.skills if name == "Programming"]
    assert [(p.level, p.provenance, p.move_id) for p in prog] == [(3.5, Provenance.MOVE_EVIDENCE, "MV1")]
    mv1 = next(m for m in overview.moves if m.id == "MV1")
    assert [(c.statement, c.rating) for c in mv1.criteria] == [
        ("Model in production", "met"),
        ("AUC above 0.75", "partly_met"),
    ]
    assert mv1.outcome is not None and mv1.outcome.decision == "end"
    assert [(g.skill_id, g.level_before, g.level_after) for g in mv1.skill_gains] == [("2.B.3.e", 2.0, 3.5)]
    assert next(m for m in overview.moves if m.id == "MV3").status is MoveStatus.REQUESTED


def test_reimport_is_idempotent(db: Database, files: dict[str, Path]) -> None:
    import_files(db, all_files(files), actor="hr")
    first = counts(db)
    summary = import_files(db, all_files(files), actor="hr")
    # Nothing in the files differs from what is stored: reported as unchanged, not updated (it said
    # "people: 0 created, 400 updated" for a re-imported export, with an empty audit event per record).
    assert summary.updated == {"roles": 0, "role_skills": 0, "people": 0, "moves": 0}
    assert summary.unchanged == {"roles": 2, "role_skills": 3, "people": 2, "moves": 3}
    again = counts(db)
    # Same data, no duplicates; only the audit trail grows, by one event per file.
    assert {k: v for k, v in again.items() if k != "audit_events"} == {
        k: v for k, v in first.items() if k != "audit_events"
    }
    assert again["audit_events"] == first["audit_events"] + 4


def test_reimport_updates_fields_and_records_role_change(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    import_files(db, all_files(files), actor="hr")
    people = write_csv(
        tmp_path / "people2.csv",
        PEOPLE_H,
        [["P2", "Bo Analyst-Smith", "bo@example.org", "R-DS", "P1", "DATA", "2023-01-09", "Porto"]],
    )
    summary = import_files(db, [people], kinds={people: "people"}, actor="hr")
    assert (summary.updated, summary.unchanged) == ({"people": 1}, {"people": 0})
    assert updates(db, "person") == [("P2", {"changed": ["name", "role_id", "location"]})]  # what it changed
    overview = org.person_overview(db, "P2")
    assert (overview.person.name, overview.person.location, overview.person.role_id) == (
        "Bo Analyst-Smith",
        "Porto",
        "R-DS",
    )
    assert [(a.role_id, a.reason, a.end is None) for a in overview.assignments] == [
        ("R-DA", AssignmentReason.HIRE, False),
        ("R-DS", AssignmentReason.PROMOTION, True),
    ]


def expect_rejected(db: Database, paths: list[Path], expected: list[str]) -> None:
    before = counts(db)
    with pytest.raises(ImportRejected) as info:
        import_files(db, paths, actor="hr")
    assert [str(i) for i in info.value.issues] == expected
    assert counts(db) == before  # zero rows written


def test_bad_rows_reject_whole_import_with_every_error(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_H,
        [
            ["A1", "P2", "gig", "ok", "", "2025-01-06", "2025-02-28", 20, "proposed", "", "", "", ""],
            ["A2", "P2", "gig", "bad date", "", "2025-13-01", "2025-02-28", 20, "proposed", "", "", "", ""],
            ["A3", "NOBODY", "gig", "who", "", "2025-01-06", "2025-02-28", 20, "proposed", "", "", "", ""],
            [
                "A4",
                "P2",
                "sabbatical",
                "kind",
                "",
                "2025-01-06",
                "2025-02-28",
                20,
                "proposed",
                "",
                "",
                "",
                "",
            ],
            ["A5", "P2", "gig", "role", "", "2025-01-06", "2025-02-28", 20, "proposed", "R-CEO", "", "", ""],
            [
                "A6",
                "P2",
                "gig",
                "skill",
                "",
                "2025-01-06",
                "2025-02-28",
                20,
                "proposed",
                "",
                "",
                "",
                "Juggling:1>2",
            ],
            ["A7", "P2", "gig", "long", "", "2025-01-06", "2025-12-31", 20, "proposed", "", "", "", ""],
            ["A8", "P2", "gig", "share", "", "2025-01-06", "2025-02-28", 150, "proposed", "", "", "", ""],
            ["A1", "P2", "gig", "dup", "", "2025-01-06", "2025-02-28", 20, "proposed", "", "", "", ""],
        ],
    )
    expect_rejected(
        db,
        [files["roles"], files["people"], moves],
        [
            "moves.csv:3:start: '2025-13-01' is not an ISO date (YYYY-MM-DD)",
            "moves.csv:4:person_id: unknown person 'NOBODY'",
            "moves.csv:5:kind: unknown move kind 'sabbatical'; one of: stretch_assignment, rotation, lateral_swap, "
            "temporary_lead, gig, acting_role, responsibility_handoff, shadowing, mentoring, course",
            "moves.csv:6:target_role_id: unknown role 'R-CEO'",
            "moves.csv:7:skills_gained: unknown skill 'Juggling' (O*NET element name or ESCO URI)",
            "moves.csv:8:end: move lasts 51.4 weeks; a move may last at most 26 weeks",
            "moves.csv:9:percent_time: 150 is out of range 1–100",
            "moves.csv:10:move_id: duplicate id 'A1' (first on row 2)",
        ],
    )


def test_missing_and_unknown_columns(db: Database, tmp_path: Path) -> None:
    """Missing columns are named; a column role_skills does not know, and a value under a header without a
    name, are refused (people, roles and moves keep their unknown columns: see the tests below)."""
    people = write_csv(tmp_path / "people.csv", ["person_id", "name", "role_id", "shoe_size"], [["P1", "A", "", "9"]])
    skills = write_csv(
        tmp_path / "role_skills.csv", ["role_id", "skill", "level", "weight"], [["R", "Programming", 3, 1]]
    )
    roles = write_csv(
        tmp_path / "roles.csv",
        [*ROLES_H, ""],
        [["R1", "A", "", 1, "", "false", ""], ["R2", "B", "", 1, "", "false", "x"]],
    )
    expect_rejected(
        db,
        [people, skills, roles],
        [
            "people.csv:1:email: missing required column",
            "people.csv:1:hire_date: missing required column",
            "people.csv:1:location: missing required column",
            "people.csv:1:manager_id: missing required column",
            "people.csv:1:team: missing required column",
            "role_skills.csv:1:weight: unknown column for role_skills (its rows take role_id, skill and level only)",
            "roles.csv:3:column 7: a value in a column without a name in the header",
        ],
    )
    # A trailing comma (an empty column without a name) holds nothing to keep or lose: it is accepted.
    roles.write_text("role_id,title,onet_code,level,team,critical,\nR1,A,,1,,false,\n")
    assert import_files(db, [roles], actor="hr").created["roles"] == 1


def extras(db: Database, table: Any) -> dict[str, Any]:
    with db.engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(select(table.c.id, table.c.extra).order_by(table.c.id))}


def test_columns_beyond_the_format_are_kept_merged_on_reimport_and_exported_back(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """An HRIS export carries its own columns (conventions.md: formats are extended with optional columns).
    People, roles and moves keep them per record, as text; a re-import replaces them column by column (an
    empty cell clears one, a column the file lacks stays), audits what changed, and the CSV and JSON exports
    write them back so that the export imports back unchanged."""
    from micromoves.services.exporting import export_csv, export_json

    import_files(db, [files["roles"], files["role_skills"]], actor="hr")
    people = write_csv(
        tmp_path / "people.csv",
        [*PEOPLE_H, "Cost_Center ", "grade"],
        [
            ["P1", "Ada Boss", "ada@example.org", "R-DS", "", "DATA", "2019-04-01", "Berlin", "CC-10", "E5"],
            ["P2", "Bo Analyst", "bo@example.org", "R-DA", "P1", "DATA", "2023-01-09", "Lisbon", "'=1+2", ""],
        ],
    )
    moves = write_csv(
        tmp_path / "moves.csv",
        [*MOVES_H, "budget_code"],
        [["MV9", "P2", "gig", "Gig", "DATA", "2025-02-03", "2025-03-14", 20, "proposed", "", "", "", "", "B-7"]],
    )
    summary = import_files(db, [people, moves], actor="hr")
    assert summary.extra_columns == {"people": ["cost_center", "grade"], "moves": ["budget_code"]}
    # Names as the header has them (trimmed, lower case, like every column); our export's defused cell
    # ('=1+2) comes back as it was; an empty cell stores nothing.
    assert extras(db, t.people) == {"P1": {"cost_center": "CC-10", "grade": "E5"}, "P2": {"cost_center": "=1+2"}}
    assert extras(db, t.moves) == {"MV9": {"budget_code": "B-7"}}
    assert extras(db, t.roles) == {"R-DA": None, "R-DS": None}

    # Another system's file: one column again (changed for P1, emptied for P2), one of its own, and no grade.
    other = write_csv(
        tmp_path / "people2.csv",
        [*PEOPLE_H, "cost_center", "badge"],
        [
            ["P1", "Ada Boss", "ada@example.org", "R-DS", "", "DATA", "2019-04-01", "Berlin", "CC-11", "B1"],
            ["P2", "Bo Analyst", "bo@example.org", "R-DA", "P1", "DATA", "2023-01-09", "Lisbon", "", ""],
        ],
    )
    again = import_files(db, [other], actor="hr", kinds={other: "people"})
    assert again.updated["people"] == 2 and again.unchanged["people"] == 0
    assert extras(db, t.people) == {"P1": {"cost_center": "CC-11", "grade": "E5", "badge": "B1"}, "P2": None}
    assert sorted(updates(db, "person")) == [
        ("P1", {"changed": ["extra:badge", "extra:cost_center"]}),
        ("P2", {"changed": ["extra:cost_center"]}),
    ]
    # The same file again is no change at all.
    assert import_files(db, [other], actor="hr", kinds={other: "people"}).unchanged["people"] == 2

    out = export_csv(db, tmp_path / "out")
    with out["people"].open() as f:
        exported = list(csv.DictReader(f))
    assert list(exported[0])[-3:] == ["badge", "cost_center", "grade"]  # after the format's, sorted
    assert [(r["person_id"], r["badge"], r["cost_center"], r["grade"]) for r in exported] == [
        ("P1", "B1", "CC-11", "E5"),
        ("P2", "", "", ""),
    ]
    with out["moves"].open() as f:
        assert [r["budget_code"] for r in csv.DictReader(f)] == ["B-7"]
    with out["roles"].open() as f:
        assert list(next(csv.DictReader(f))) == ROLES_H  # no role keeps any: no extra column
    before = counts(db)
    summary = import_files(db, [out["people"], out["moves"], out["roles"]], actor="hr")
    assert summary.updated == {"roles": 0, "people": 0, "moves": 0}
    assert {k: v for k, v in counts(db).items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }
    doc = json.loads(export_json(db, tmp_path / "org.json").read_text())
    assert doc["people"][0]["cost_center"] == "CC-11" and "cost_center" not in doc["people"][1]
    assert doc["moves"][0]["budget_code"] == "B-7"
    # The JSON document imports back unchanged too (its extra keys are columns like any other).
    assert import_files(db, [tmp_path / "org.json"], actor="hr").updated == {
        "teams": 0,
        "roles": 0,
        "role_skills": 0,
        "people": 0,
        "moves": 0,
    }


def test_columns_beyond_the_format_with_awkward_names_and_json_objects_that_leave_them_out(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """A column beyond the format named like a spreadsheet formula is defused in the export's header and
    comes back under its own name; one named like a moves list column holds one value for people; a JSON
    object that leaves out a key keeps the stored value (only an explicit empty value clears it), and keys
    that differ only in case are refused."""
    from micromoves.services.exporting import export_csv

    import_files(db, [files["roles"]], actor="hr")
    header = [*PEOPLE_H, '=HYPERLINK("http://x")', "skills_gained", "success_criteria"]
    row = ["P1", "Ada Boss", "ada@example.org", "R-DS", "", "DATA", "2019-04-01", "Berlin"]
    import_files(db, [write_csv(tmp_path / "people.csv", header, [[*row, "h", "Python:1>2", "a;b"]])], actor="hr")
    stored = {'=hyperlink("http://x")': "h", "skills_gained": "Python:1>2", "success_criteria": "a;b"}
    assert extras(db, t.people) == {"P1": stored}
    out = export_csv(db, tmp_path / "out", kinds=["people"])
    with out["people"].open() as f:
        exported = next(csv.reader(f))
    assert '\'=hyperlink("http://x")' in exported and not any(c.startswith("=") for c in exported)
    assert import_files(db, [out["people"]], actor="hr").unchanged["people"] == 1
    assert extras(db, t.people) == {"P1": stored}

    doc = tmp_path / "org.json"
    person = dict(zip(PEOPLE_H, row, strict=True))
    p2 = {"person_id": "P2", "email": "p2@example.org"}
    doc.write_text(json.dumps({"people": [{**person, "grade": "E5"}, {**person, **p2, "grade": "E1"}]}))
    import_files(db, [doc], actor="hr")
    # P1 leaves grade out and P2 clears it; neither says anything of the earlier columns.
    doc.write_text(json.dumps({"people": [{**person, "badge": "B"}, {**person, **p2, "grade": ""}]}))
    import_files(db, [doc], actor="hr")
    assert extras(db, t.people) == {"P1": {**stored, "grade": "E5", "badge": "B"}, "P2": None}
    doc.write_text(json.dumps({"people": [{**person, "Grade": "E5", "grade": "E6"}]}))
    with pytest.raises(ImportRejected) as info:
        import_files(db, [doc], actor="hr")
    assert [str(i) for i in info.value.issues] == ["org.json#people:1:grade: key appears twice (keys ignore case)"]
    doc.write_text(json.dumps({"people": [{**person, "skills_gained": [{"skill": "x"}]}]}))
    with pytest.raises(ImportRejected) as info:
        import_files(db, [doc], actor="hr")
    assert "expected one value, got an array" in str(info.value.issues[0])


def test_a_change_to_a_moves_extra_column_alone_rewrites_that_move(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """A re-imported move whose only change is a column beyond the format is an update (audited by the
    column's name) and stores the new value; the other moves are left alone."""
    import_files(db, all_files(files), actor="hr")
    with files["moves"].open() as f:
        rows = list(csv.reader(f))
    rows[0].append("budget_code")
    for i, row in enumerate(rows[1:], 1):
        row.append("B-1" if i == 1 else "")
    write_csv(files["moves"], rows[0], rows[1:])
    summary = import_files(db, [files["moves"]], actor="hr")
    assert (summary.updated["moves"], summary.unchanged["moves"]) == (1, 2)
    assert updates(db, "move") == [("MV1", {"changed": ["extra:budget_code"]})]
    assert extras(db, t.moves) == {"MV1": {"budget_code": "B-1"}, "MV2": None, "MV3": None}


def test_manager_cycle_rejected(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    people = write_csv(
        tmp_path / "people.csv",
        PEOPLE_H,
        [
            ["P1", "A", "", "", "P3", "", "", ""],
            ["P2", "B", "", "", "P1", "", "", ""],
            ["P3", "C", "", "", "P2", "", "", ""],
            ["P4", "D", "", "", "P4", "", "", ""],
        ],
    )
    expect_rejected(
        db,
        [people],
        [
            "people.csv:2:manager_id: manager cycle: P1 → P3 → P2 → P1",
            "people.csv:5:manager_id: manager cycle: P4 → P4",
        ],
    )


def test_cycle_through_people_already_stored(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    import_files(db, all_files(files), actor="hr")  # P2 reports to P1
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [["P1", "Ada Boss", "", "R-DS", "P2", "DATA", "", ""]])
    expect_rejected(db, [people], ["people.csv:2:manager_id: manager cycle: P1 → P2 → P1"])


def test_time_rules_across_file_and_database(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    import_files(db, all_files(files), actor="hr")  # MV3: P2 full-time rotation 2026-01-05..04-03, requested
    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_H,
        [
            [
                "B1",
                "P2",
                "rotation",
                "full A",
                "",
                "2026-06-01",
                "2026-07-31",
                100,
                "approved",
                "",
                "c",
                "",
                "",
            ],
            [
                "B2",
                "P2",
                "acting_role",
                "full B",
                "",
                "2026-07-01",
                "2026-08-31",
                100,
                "approved",
                "",
                "c",
                "",
                "",
            ],
            ["B3", "P2", "gig", "share", "", "2025-02-10", "2025-03-07", 50, "approved", "", "c", "", ""],
            ["B4", "P2", "gig", "no criteria", "", "2025-06-02", "2025-06-27", 10, "active", "", "", "", ""],
        ],
    )
    expect_rejected(
        db,
        [moves],
        [
            "moves.csv:3:start: full-time move B2 overlaps full-time move B1",
            "moves.csv:4:percent_time: time share over capacity: B3 50% + MV1 40% + MV2 20% = 110% on 2025-02-10, "
            "capacity for moves 100% = P2's stored capacity_percent 100 - home_role_min_percent 0",
            "moves.csv:5:success_criteria: a move that is active needs at least one success criterion",
        ],
    )


def test_csv_and_json_give_the_same_data(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    doc = {
        "roles": [
            {
                "role_id": "R-DA",
                "title": "Data Analyst",
                "onet_code": "15-2051.01",
                "level": 2,
                "team": "DATA",
                "critical": False,
            }
        ],
        "people": [
            {
                "person_id": "P9",
                "name": "Jo",
                "email": "",
                "role_id": "R-DA",
                "manager_id": None,
                "team": "DATA",
                "hire_date": "2024-01-01",
                "location": "",
            }
        ],
        "moves": [
            {
                "move_id": "J1",
                "person_id": "P9",
                "kind": "course",
                "title": "SQL course",
                "host_team": "",
                "start": "2024-02-05",
                "end": "2024-03-29",
                "percent_time": 10,
                "status": "completed",
                "target_role_id": "",
                "success_criteria": ["Certificate"],
                "criteria_ratings": ["met"],
                "outcome": "end",
                "skills_gained": [{"skill": "Programming", "from": 1, "to": 2}],
            }
        ],
    }
    path = tmp_path / "org.json"
    path.write_text(json.dumps(doc))
    summary = import_files(db, [path], actor="hr")
    assert summary.created == {"roles": 1, "people": 1, "moves": 1}
    move = org.person_overview(db, "P9").moves[0]
    assert [(g.skill_id, g.level_after) for g in move.skill_gains] == [("2.B.3.e", 2.0)]


def test_a_completed_move_may_come_without_ratings_but_not_with_the_wrong_number(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """conventions.md's moves.csv has no criteria_ratings column: a completed move with criteria and no
    ratings is imported with its ratings unknown (it was refused, so the documented format could not carry
    a completed move at all). Ratings given must still match the criteria one for one."""
    import_files(db, all_files(files), actor="hr")
    documented = write_csv(
        tmp_path / "moves.csv",
        MOVES_H,
        [["C1", "P2", "gig", "x", "", "2024-01-08", "2024-02-09", 10, "completed", "", "Done;Shared", "end", ""]],
    )
    import_files(db, [documented], actor="hr")
    with db.engine.connect() as conn:
        c = t.success_criteria.c
        rated = conn.execute(select(c.statement, c.rating).where(c.move_id == "C1").order_by(c.position)).all()
    assert [tuple(r) for r in rated] == [("Done", None), ("Shared", None)]
    row = ["C2", "P2", "gig", "x", "", "2024-01-08", "2024-02-09", 10, "completed", "", "Done;Shared", "end", ""]
    miscounted = write_csv(tmp_path / "moves2.csv", [*MOVES_H, "criteria_ratings"], [[*row, "met"]])
    expect_rejected(db, [miscounted], ["moves2.csv:2:criteria_ratings: 1 ratings for 2 success criteria"])


def test_a_move_of_26_weeks_and_a_day_is_refused(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    """Monday to the Monday 26 weeks later is 183 days of move: one too many (both dates count)."""
    import_files(db, all_files(files), actor="hr")
    row = ["", "2027-01-04", "2027-07-05", 10, "proposed", "", "x", "", ""]
    too_long = write_csv(tmp_path / "moves.csv", MOVES_H, [["L1", "P2", "gig", "long", *row]])
    expect_rejected(db, [too_long], ["moves.csv:2:end: move lasts 26.1 weeks; a move may last at most 26 weeks"])
    row[2] = "2027-07-04"
    import_files(db, [write_csv(tmp_path / "moves.csv", MOVES_H, [["L1", "P2", "gig", "long", *row]])], actor="hr")


def test_unreadable_file(db: Database, tmp_path: Path) -> None:
    bad = tmp_path / "moves.csv"
    bad.write_bytes(b"move_id\n\xff\xfe\n")
    # The line of the first bad byte: the header is fine, line 2 is not.
    expect_rejected(db, [bad], ["moves.csv:2:-: not UTF-8 text at byte 8 (invalid start byte); save it as UTF-8"])
    # With a byte-order mark (which the reader skips), the byte is still counted from the file's start.
    bad.write_bytes(b"\xef\xbb\xbfmove_id\nM1\n\xff\n")
    expect_rejected(db, [bad], ["moves.csv:3:-: not UTF-8 text at byte 14 (invalid start byte); save it as UTF-8"])


def test_import_events_are_audited(db: Database, files: dict[str, Path]) -> None:
    import_files(db, all_files(files), actor="hr-integration")
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_events.c.action, t.audit_events.c.entity_id, t.audit_events.c.actor)
            .where(t.audit_events.c.action == "import.file")
            .order_by(t.audit_events.c.entity_id)
        ).all()
        assert [(a, e, who) for a, e, who in rows] == [
            ("import.file", n, "hr-integration") for n in ("moves.csv", "people.csv", "role_skills.csv", "roles.csv")
        ]
        assert conn.scalar(select(func.count()).select_from(t.status_changes)) == 3


# --- export -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_safe_cell_defuses_formulas(payload: str) -> None:
    from micromoves.services.exporting import safe_cell

    assert safe_cell(payload) == "'" + payload
    assert safe_cell("plain -dash inside") == "plain -dash inside"


def test_export_round_trips_and_guards_injection(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    from micromoves.services.exporting import export_csv, export_json

    import_files(db, all_files(files), actor="hr")
    people = write_csv(
        tmp_path / "people.csv",
        PEOPLE_H,
        [["P3", '=HYPERLINK("http://evil","click")', "", "R-DA", "P1", "DATA", "", "@home"]],
    )
    import_files(db, [people], actor="hr")
    out = export_csv(db, tmp_path / "out")
    with out["people"].open() as f:
        exported = {r["person_id"]: r for r in csv.DictReader(f)}
    assert exported["P3"]["name"] == '\'=HYPERLINK("http://evil","click")'
    assert exported["P3"]["location"] == "'@home"
    with out["moves"].open() as f:
        mv1 = next(r for r in csv.DictReader(f) if r["move_id"] == "MV1")
    assert mv1["success_criteria"] == "Model in production;AUC above 0.75"
    assert mv1["criteria_ratings"] == "met;partly_met"
    assert mv1["skills_gained"] == "Programming:2>3.5"  # the O*NET element name, as conventions.md asks
    before = counts(db)
    # Re-importing our own export (minus the defused row) changes nothing: the formats round-trip.
    with out["people"].open() as f:
        kept = [r for r in csv.DictReader(f) if r["person_id"] != "P3"]
    with out["people"].open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(kept[0]))
        w.writeheader()
        w.writerows(kept)
    summary = import_files(db, [out["roles"], out["role_skills"], out["people"], out["moves"]], actor="hr")
    assert summary.created == {"roles": 0, "role_skills": 0, "people": 0, "moves": 0}
    after = counts(db)
    assert {k: v for k, v in after.items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }
    doc = json.loads(export_json(db, tmp_path / "org.json").read_text())
    assert {m["move_id"] for m in doc["moves"]} == {"MV1", "MV2", "MV3"}
    assert doc["people"][0]["name"] == "Ada Boss"


def test_bulk_path_gives_the_same_result_and_keeps_foreign_keys(db: Database, files: dict[str, Path]) -> None:
    from sqlalchemy import inspect

    from micromoves.settings import Settings

    def fk_names() -> list[str]:
        insp = inspect(db.engine)
        return sorted(
            str(fk["name"])
            for name in ("moves", "success_criteria", "skill_levels")
            for fk in insp.get_foreign_keys(name)
        )

    before = fk_names()
    summary = import_files(db, all_files(files), actor="hr", settings=Settings(bulk_import_threshold=1))
    assert summary.created["moves"] == 3
    assert fk_names() == before and len(before) >= 8
    mv1 = next(m for m in org.person_overview(db, "P2").moves if m.id == "MV1")
    assert [g.skill_id for g in mv1.skill_gains] == ["2.B.3.e"]


def test_errors_name_the_right_one_of_several_files_of_a_kind(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """Two move files: a reference error names the file the row is in (it named the last file of the
    kind), and the same id in both is an error naming both places (it was a database error)."""
    row = ["2025-01-06", "2025-02-28", 20, "proposed", "", "", "", ""]
    first = write_csv(
        tmp_path / "moves_a.csv",
        MOVES_H,
        [["A1", "P2", "gig", "ok", "", *row], ["A2", "NOBODY", "gig", "who", "", *row]],
    )
    second = write_csv(
        tmp_path / "moves_b.csv", MOVES_H, [["B1", "P2", "gig", "ok", "", *row], ["A1", "P1", "gig", "again", "", *row]]
    )
    paths = [files["roles"], files["role_skills"], files["people"], first, second]
    kinds = {first: "moves", second: "moves"}
    before = counts(db)
    with pytest.raises(ImportRejected) as info:
        import_files(db, paths, kinds=kinds, actor="hr")
    assert [str(i) for i in info.value.issues] == [
        "moves_a.csv:3:person_id: unknown person 'NOBODY'",
        "moves_b.csv:3:move_id: duplicate id 'A1' (first in moves_a.csv on row 2)",
    ]
    assert counts(db) == before


def test_reimporting_an_export_keeps_what_the_format_does_not_carry(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """Who released the person, the expected outcomes and targeted skills, each criterion's evidence, and
    the review's reviewer, notes and confidentiality are not in moves.csv: re-importing our own export
    (a nightly HRIS sync) keeps them. It blanked them all, reporting only 'moves: updated'."""
    from sqlalchemy import update

    from micromoves.services.exporting import export_csv

    import_files(db, all_files(files), actor="hr")
    m, c, o = t.moves.c, t.success_criteria.c, t.outcomes.c

    def review_data() -> tuple[Any, ...]:
        with db.engine.connect() as conn:
            move = conn.execute(
                select(m.released_by_id, m.expected_outcomes, m.skills_targeted).where(m.id == "MV1")
            ).one()
            criteria = conn.execute(
                select(c.statement, c.rating, c.evidence).where(c.move_id == "MV1").order_by(c.position)
            ).all()
            outcome = conn.execute(
                select(o.decision, o.reviewed_on, o.reviewer_id, o.notes, o.confidential).where(o.move_id == "MV1")
            ).one()
        return tuple(move), [tuple(x) for x in criteria], tuple(outcome)

    with db.write_engine.begin() as conn:
        conn.execute(
            update(t.moves)
            .where(m.id == "MV1")
            .values(released_by_id="P1", expected_outcomes="A churn model in production", skills_targeted=["2.B.3.e"])
        )
        conn.execute(update(t.success_criteria).where(c.move_id == "MV1").values(evidence="dashboard link"))
        conn.execute(
            update(t.outcomes)
            .where(o.move_id == "MV1")
            .values(
                reviewer_id="P1", notes="strong work; ask about pay", confidential=True, reviewed_on=dt.date(2025, 4, 2)
            )
        )
    before = review_data()
    assert before[0] == ("P1", "A churn model in production", ["2.B.3.e"])
    out = export_csv(db, tmp_path / "out", kinds=["moves"])
    summary = import_files(db, [out["moves"]], actor="hris-sync")
    assert (summary.updated["moves"], summary.unchanged["moves"]) == (0, 3)  # the export is what is stored
    assert review_data() == before


def test_rows_the_format_does_not_allow_are_refused_naming_row_and_field(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """What conventions.md does not allow is refused, not read some way: a decision that contradicts the
    status, a percent or a date in another notation, a gain without its level before, an ambiguous skill
    name, a column given twice. All of these were imported."""
    import_files(db, all_files(files), actor="hr")

    def row(mid: str, **kw: object) -> list[object]:
        base = dict(move_id=mid, person_id="P2", kind="gig", title="t", host_team="", start="2024-01-08")
        base |= dict(end="2024-02-09", percent_time=10, status="proposed", target_role_id="", success_criteria="x")
        base |= dict(outcome="", skills_gained="")
        base |= kw
        return [base[h] for h in MOVES_H]

    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_H,
        [
            row("B1", outcome="convert"),
            row("B2", status="completed", outcome="revert"),
            row("B3", percent_time="2_0"),
            row("B4", start="20240108"),
            row("B5", end="2024-W06-5"),
            row("B6", status="completed", outcome="end", skills_gained="Programming:>4"),
            row("B7", status="completed", outcome="end", skills_gained="Mathematics:2>3"),
            row("B8", status="finished", outcome="end"),  # one error, the status: not "…, not None" too
        ],
    )
    expect_rejected(
        db,
        [moves],
        [
            "moves.csv:2:outcome: a review deciding convert leaves the move completed or reverted, not proposed",
            "moves.csv:3:outcome: a review deciding revert leaves the move reverted, not completed",
            "moves.csv:4:percent_time: '2_0' is not a whole number",
            "moves.csv:5:start: '20240108' is not an ISO date (YYYY-MM-DD)",
            "moves.csv:6:end: '2024-W06-5' is not an ISO date (YYYY-MM-DD)",
            "moves.csv:7:skills_gained: 'Programming:>4' needs the level before the move: skill:from>to",
            "moves.csv:8:skills_gained: skill name 'Mathematics' is ambiguous: give one of Mathematics (skill "
            "2.A.1.e), Mathematics (knowledge 2.C.4.a) (as the pages show them) or its id",
            "moves.csv:9:status: unknown status 'finished'; one of: proposed, requested, approved, onboarding, "
            "active, in_review, completed, declined, withdrawn, reverted",
        ],
    )
    # the label the pages show for such a name is read as that skill (it was "unknown skill")
    labelled = write_csv(
        tmp_path / "moves.csv",
        MOVES_H,
        [row("B7", status="completed", outcome="end", skills_gained="Mathematics (knowledge 2.C.4.a):2>3")],
    )
    import_files(db, [labelled], actor="hr")
    with db.engine.connect() as conn:
        gained = conn.execute(select(t.skill_gains.c.skill_id).where(t.skill_gains.c.move_id == "B7")).scalars().all()
    assert gained == ["2.C.4.a"]
    twice = tmp_path / "people.csv"
    twice.write_text("person_id,name,email,role_id,manager_id,team,hire_date,location,name\nP9,A,,,,,,,B\n")
    expect_rejected(db, [twice], ["people.csv:1:name: column appears twice in the header"])


def test_an_export_with_defused_cells_and_esco_skills_imports_back_unchanged(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """A title our export defused against formula injection ('-10% churn study' → "'-10% churn study") reads
    back without the quote, and a gain in an ESCO skill (a URI, as role_skills.csv allows) is accepted."""
    from micromoves.services.exporting import export_csv

    import_files(db, all_files(files), actor="hr")
    esco = "http://data.europa.eu/esco/skill/0005c151-5b5a-4a66-8aac-60e734beb1ab"
    row = ["-10% churn study", "", "2024-01-08", "2024-02-09", 10, "completed", "", "=SUM(A1)", "end", f"{esco}:1>2"]
    import_files(db, [write_csv(tmp_path / "moves.csv", MOVES_H, [["Q1", "P2", "gig", *row]])], actor="hr")
    out = export_csv(db, tmp_path / "out", kinds=["moves"])
    with out["moves"].open() as f:
        exported = next(r for r in csv.DictReader(f) if r["move_id"] == "Q1")
    assert (exported["title"], exported["success_criteria"]) == ("'-10% churn study", "'=SUM(A1)")
    import_files(db, [out["moves"]], actor="hr")
    with db.engine.connect() as conn:
        title = conn.scalar(select(t.moves.c.title).where(t.moves.c.id == "Q1"))
        statement = conn.scalar(select(t.success_criteria.c.statement).where(t.success_criteria.c.move_id == "Q1"))
        gained = conn.scalar(select(t.skill_gains.c.skill_id).where(t.skill_gains.c.move_id == "Q1"))
    assert (title, statement, gained) == ("-10% churn study", "=SUM(A1)", esco)


def test_json_values_of_the_wrong_shape_are_refused_naming_row_and_field(db: Database, tmp_path: Path) -> None:
    """An array where the format has one value was stored as its text (a name of ["list"] became "list"),
    and an object anywhere but in skills_gained likewise; both are errors naming file, row and field, and
    nothing is written."""
    person = {"person_id": "P1", "name": "Ada", "email": "", "role_id": "", "manager_id": "", "team": "DATA"}
    for bad, field, words in (
        ({"name": ["list"]}, "name", "got an array"),
        ({"team": {"id": "DATA"}}, "team", "got an object"),
    ):
        path = tmp_path / "org.json"
        path.write_text(json.dumps({"people": [person, {**person, "person_id": "P2", **bad}]}))
        with pytest.raises(ImportRejected) as refused:
            import_files(db, [path], actor="hr")
        [issue] = refused.value.issues
        assert (issue.file, issue.row, issue.column) == ("org.json#people", 2, field) and words in issue.message
    assert counts(db)["people"] == 0


def test_a_reimport_reports_and_audits_only_what_the_file_changes(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """Of a re-imported export, the moves whose file rows differ are updated (and audited with the fields
    that changed); the rest are unchanged and leave no event."""
    from micromoves.services.exporting import export_csv

    import_files(db, all_files(files), actor="hr")
    out = export_csv(db, tmp_path / "out", kinds=["moves"])
    with out["moves"].open() as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if r["move_id"] == "MV2":
            r["title"] = r["title"] + " (renamed)"
            r["percent_time"] = str(int(r["percent_time"]) + 5)
    with out["moves"].open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    evidence = select(t.skill_levels.c.id, t.skill_levels.c.move_id, t.skill_levels.c.assessed_on).where(
        t.skill_levels.c.move_id.is_not(None)
    )
    with db.write_engine.begin() as conn:
        # A manager's assessment after the import: rows written again would be numbered after it.
        person, skill = conn.execute(select(t.skill_levels.c.person_id, t.skill_levels.c.skill_id)).first()  # type: ignore[misc]
        conn.execute(
            t.skill_levels.insert().values(
                person_id=person, skill_id=skill, level=3.0, provenance="manager", assessed_on=dt.date(2026, 1, 5)
            )
        )
        before = sorted(conn.execute(evidence).all())
        history = conn.scalar(select(func.count()).select_from(t.status_changes))
    assert {m for _, m, _ in before} - {"MV2"}, "the fixture needs evidence of a move the file leaves as it is"
    summary = import_files(db, [out["moves"]], actor="hris-sync")
    assert (summary.updated, summary.unchanged) == ({"moves": 1}, {"moves": 2})
    assert updates(db, "move") == [("MV2", {"changed": ["title", "percent_time"]})]
    with db.engine.connect() as conn:
        after = sorted(conn.execute(evidence).all())
        assert conn.scalar(select(t.moves.c.title).where(t.moves.c.id == "MV2")).endswith("(renamed)")
        assert conn.scalar(select(func.count()).select_from(t.status_changes)) == history
    # The unchanged moves were left alone: their evidence rows are the same rows (they were deleted and
    # written again, renumbered, by every nightly sync).
    assert [r for r in after if r[1] != "MV2"] == [r for r in before if r[1] != "MV2"]


def test_a_column_named_almost_like_a_format_column_is_refused(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """A typo in an optional column's name would keep the column quietly (as an HRIS's own) while the
    field took its default: refused, naming the format column it looks like, with nothing written. A typo
    in a required column's name is refused as missing, naming the column the file has instead; both come
    in one list."""
    import_files(db, [files["roles"], files["role_skills"]], actor="hr")
    header = [*PEOPLE_H, "capacity_percnt", "grade"]
    row = ["P1", "Ada Boss", "ada@example.org", "R-DS", "", "DATA", "2019-04-01", "Berlin", "50", "E5"]
    with pytest.raises(
        ImportRejected,
        match=r"people.csv:1:capacity_percnt: named almost like the format's column "
        r"'capacity_percent', which the file does not have",
    ) as info:
        import_files(db, [write_csv(tmp_path / "people.csv", header, [row])], actor="hr")
    assert len(info.value.issues) == 1  # 'grade' is a column of the sender's own
    with db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.people)) == 0
    # With the real column present, a similar name is a column of its own, not a typo.
    both = write_csv(tmp_path / "people2.csv", [*header, "capacity_percent"], [[*row, "60"]])
    assert import_files(db, [both], actor="hr", kinds={both: "people"}).extra_columns == {
        "people": ["capacity_percnt", "grade"]
    }
    typo = [("hire_dat" if c == "hire_date" else c) for c in PEOPLE_H] + ["Capacity Percent"]
    bad = write_csv(tmp_path / "people3.csv", typo, [[*row[: len(PEOPLE_H)], "50"]])
    with pytest.raises(ImportRejected) as info:
        import_files(db, [bad], actor="hr", kinds={bad: "people"})
    assert sorted((i.column, i.message.split(" (")[0].split(":")[0]) for i in info.value.issues) == [
        ("capacity percent", "named almost like the format's column 'capacity_percent', which the file does not have"),
        ("hire_date", "missing required column"),
    ]
    assert any("(the file has 'hire_dat')" in i.message for i in info.value.issues)


def test_a_status_change_that_contradicts_the_kept_review_is_refused(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """MV1 is completed with an 'end' review. A file setting it back to proposed with the outcome left empty
    kept that review and its gains (an empty outcome keeps the stored one), and the database's own export
    then failed to import. It is refused naming the row and field; with a matching outcome it is accepted."""
    from micromoves.services.exporting import export_csv

    import_files(db, all_files(files), actor="hr")
    with files["moves"].open() as f:
        rows = list(csv.reader(f))
    header, mv1 = rows[0], rows[1]
    col = {name: i for i, name in enumerate(header)}
    back = list(mv1)
    back[col["status"]], back[col["outcome"]], back[col["skills_gained"]] = "proposed", "", ""
    back[col["criteria_ratings"]] = ""
    path = write_csv(tmp_path / "back_moves.csv", header, [back])
    before = counts(db)
    with pytest.raises(ImportRejected) as err:
        import_files(db, [path], actor="hr")
    [issue] = err.value.issues
    assert (issue.file, issue.row, issue.column) == ("back_moves.csv", 2, "status")
    # Proposed is a step back from completed: refused as such (once, not also for the kept review).
    assert "move MV1 is completed here; proposed would be a step back in its lifecycle" in issue.message
    assert issue.message.endswith("Statuses it can still come to: reverted")
    assert counts(db) == before
    # 'reverted' does not go with 'end'; with the outcome that goes with it, it is accepted.
    back[col["status"]] = "reverted"
    with pytest.raises(ImportRejected, match="not reverted"):
        import_files(db, [write_csv(tmp_path / "rev_moves.csv", header, [back])], actor="hr")
    back[col["status"]], back[col["outcome"]] = "reverted", "revert"
    assert import_files(db, [write_csv(tmp_path / "ok_moves.csv", header, [back])], actor="hr").updated["moves"] == 1
    # What is stored now exports and imports back unchanged.
    out = export_csv(db, tmp_path / "out")
    with db.engine.connect() as conn:
        status = conn.scalar(select(t.moves.c.status).where(t.moves.c.id == "MV1"))
    assert status == MoveStatus.REVERTED
    assert import_files(db, [out["moves"]], actor="hr").unchanged["moves"] == 3


def test_a_re_import_never_takes_a_move_back_in_its_lifecycle(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """An older export sent again set an approved move back to requested (its approvals kept; a step the
    tracker refuses). Steps on are fine (the HRIS saw the move through, several at once too); back, never."""
    import_files(db, all_files(files), actor="hr")
    with db.engine.connect() as conn:
        stored = dict(conn.execute(select(t.moves.c.id, t.moves.c.status)).all())
    with files["moves"].open() as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    mid, row = next((r[col["move_id"]], r) for r in body if stored[r[col["move_id"]]] is MoveStatus.REQUESTED)
    back = [*row]
    back[col["status"]] = "proposed"
    before = counts(db)
    with pytest.raises(ImportRejected) as err:
        import_files(db, [write_csv(tmp_path / "old_moves.csv", header, [back])], actor="hr")
    [issue] = err.value.issues
    assert (issue.row, issue.column) == (2, "status")
    assert f"move {mid} is requested here; proposed would be a step back" in issue.message
    assert issue.message.endswith("onboarding, reverted, withdrawn")
    assert counts(db) == before
    # The same row as stored, and several steps on, are accepted.
    assert import_files(db, [write_csv(tmp_path / "same_moves.csv", header, [row])], actor="hr").unchanged["moves"] == 1
    on = [*row]
    on[col["status"]] = "approved"
    assert import_files(db, [write_csv(tmp_path / "on_moves.csv", header, [on])], actor="hr").updated["moves"] == 1


def test_a_people_file_keeps_stored_capacity_it_leaves_out_and_cannot_cut_it_below_stored_moves(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """conventions.md's people.csv has no capacity columns. A sync in that format reset every stored
    person's capacity settings to the defaults; and a people file alone could cut a capacity below the
    moves already stored (MV1 40% + MV2 20% overlap in February 2025), whose own export then failed."""
    import_files(db, all_files(files), actor="hr")
    p1 = ["P1", "Ada Boss", "ada@example.org", "R-DS", "", "DATA", "2019-04-01", "Berlin"]
    header = [*PEOPLE_H, "capacity_percent", "home_role_min_percent"]
    import_files(db, [write_csv(tmp_path / "people_cap.csv", header, [[*p1, 80, 30]])], actor="hr")
    new = ["P3", "Cy New", "cy@example.org", "", "P1", "DATA", "2024-01-01", "Porto"]
    summary = import_files(db, [write_csv(tmp_path / "people.csv", PEOPLE_H, [p1, new])], actor="hr")
    assert (summary.unchanged["people"], summary.updated.get("people", 0), summary.created["people"]) == (1, 0, 1)
    # An empty cell keeps the stored value too; the other column given is taken.
    import_files(db, [write_csv(tmp_path / "people_home.csv", header, [[*p1, "", 10]])], actor="hr")
    with db.engine.connect() as conn:
        p = t.people.c
        stored = dict(conn.execute(select(p.id, p.capacity_percent).order_by(p.id)).all())
        homes = dict(conn.execute(select(p.id, p.home_role_min_percent).order_by(p.id)).all())
    assert (stored["P1"], homes["P1"]) == (80, 10)
    assert (stored["P3"], homes["P3"]) == (100, 0)  # the defaults, for someone new
    # A home share the stored capacity leaves no time beside is refused on the row that gives it.
    with pytest.raises(ImportRejected, match=r"people_bad.csv:2:home_role_min_percent: 80 leaves no time"):
        import_files(db, [write_csv(tmp_path / "people_bad.csv", header, [[*p1, "", 80]])], actor="hr")
    # P2's stored moves take 60% in February 2025: capacity 50 is refused, naming the file's row.
    p2 = ["P2", "Bo Analyst", "bo@example.org", "R-DA", "P1", "DATA", "2023-01-09", "Lisbon"]
    before = counts(db)
    with pytest.raises(ImportRejected) as err:
        import_files(db, [write_csv(tmp_path / "people_cut.csv", header, [[*p2, 50, 0]])], actor="hr")
    [issue] = err.value.issues
    assert (issue.file, issue.row, issue.column) == ("people_cut.csv", 2, "capacity_percent")
    assert "MV1 40% + MV2 20% = 60% on 2025-02-03" in issue.message and "50%" in issue.message
    assert counts(db) == before
    assert (
        import_files(db, [write_csv(tmp_path / "people_ok.csv", header, [[*p2, 60, 0]])], actor="hr").updated["people"]
        == 1
    )


def test_apostrophes_and_formulas_in_every_criterion_survive_the_round_trip(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """A title that really starts with an apostrophe (''=quoted title', ''-) smiley') lost it on a CSV or
    JSON round trip (the import took it for our guard), and only a cell's first criterion was guarded: a
    tool splitting criteria on ';' got a live formula from the second."""
    from micromoves.services.exporting import export_csv, export_json

    import_files(db, all_files(files), actor="hr")
    titles = {"Q1": "'=quoted title", "Q2": "'-) smiley course", "Q3": "''double", "Q4": "'plain"}
    criteria = ["fine", '=HYPERLINK("http://evil")', "-x", "'@y"]
    rows = [
        [mid, "P2", "gig", title, "", "2024-01-08", "2024-02-09", 10, "completed", "", criteria, "end", ""]
        for mid, title in titles.items()
    ]
    # Stored as given (a JSON value is never taken for a guarded CSV cell).
    source = tmp_path / "moves.json"
    source.write_text(json.dumps({"moves": [dict(zip(MOVES_H, row, strict=True)) for row in rows]}))
    import_files(db, [source], actor="hr")

    def stored() -> dict[str, tuple[str, list[str]]]:
        m, c = t.moves.c, t.success_criteria.c
        with db.engine.connect() as conn:
            names = dict(conn.execute(select(m.id, m.title).where(m.id.in_(titles))).all())
            said = conn.execute(
                select(c.move_id, c.statement).where(c.move_id.in_(titles)).order_by(c.move_id, c.position)
            ).all()
        return {mid: (names[mid], [s for k, s in said if k == mid]) for mid in titles}

    expected = {mid: (title, criteria) for mid, title in titles.items()}
    assert stored() == expected
    out = export_csv(db, tmp_path / "out", kinds=["moves"])
    with out["moves"].open() as f:
        exported = {r["move_id"]: r for r in csv.DictReader(f) if r["move_id"] in titles}
    assert [exported[k]["title"] for k in titles] == ["''=quoted title", "''-) smiley course", "'''double", "'plain"]
    assert exported["Q1"]["success_criteria"] == "fine;'=HYPERLINK(\"http://evil\");'-x;''@y"
    assert all(not part.startswith(("=", "-", "@")) for part in exported["Q1"]["success_criteria"].split(";"))
    assert import_files(db, [out["moves"]], actor="hr").unchanged["moves"] == 3 + len(titles)  # the fixture's three too
    assert stored() == expected
    doc = export_json(db, tmp_path / "out.json", kinds=["moves"])  # JSON values carry no guard
    assert import_files(db, [doc], actor="hr").updated.get("moves", 0) == 0
    assert stored() == expected


def test_a_gain_that_lowers_a_level_is_refused(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    """'Programming:4>3' was written back to the profile as the move's evidence, lowering the level."""
    import_files(db, all_files(files), actor="hr")
    row = [
        "Q1",
        "P2",
        "gig",
        "Down",
        "",
        "2024-01-08",
        "2024-02-09",
        10,
        "completed",
        "",
        "c",
        "end",
        "Programming:4>3",
    ]
    with pytest.raises(ImportRejected) as err:
        import_files(db, [write_csv(tmp_path / "moves.csv", MOVES_H, [row])], actor="hr")
    [issue] = err.value.issues
    assert (issue.row, issue.column) == (2, "skills_gained") and "lowers the level" in issue.message
    row[-1] = "Programming:4>4"
    assert import_files(db, [write_csv(tmp_path / "moves.csv", MOVES_H, [row])], actor="hr").created["moves"] == 1


def test_a_row_with_a_bad_value_still_has_its_references_checked(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """A row with an unknown person and a date in another notation reported only the date: the unknown
    person surfaced on the next attempt. Both are in the one report."""
    import_files(db, all_files(files), actor="hr")
    row = ["Q1", "P9", "gig", "T", "", "05/01/2026", "2026-02-09", 10, "proposed", "R-XX", "c", "", ""]
    with pytest.raises(ImportRejected) as err:
        import_files(db, [write_csv(tmp_path / "moves.csv", MOVES_H, [row])], actor="hr")
    assert [(i.row, i.column) for i in err.value.issues] == [(2, "person_id"), (2, "start"), (2, "target_role_id")]
    assert "unknown person 'P9'" in err.value.issues[0].message


def test_a_file_separated_by_semicolons_gets_one_clear_error(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(";".join(PEOPLE_H) + "\nP1;Ada;ada@example.org;;;DATA;2019-04-01;Berlin\n")
    with pytest.raises(ImportRejected) as err:
        import_files(db, [path], actor="hr")
    assert [(i.row, i.column, i.message) for i in err.value.issues] == [
        (1, "-", "the header is one column separated by semicolons: save the file with commas")
    ]


def test_an_e_mail_address_belongs_to_one_person(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    """Two people with one address (in the file, or one stored and one imported; without regard to case)
    are refused naming the row and the other person; two stored people may swap addresses in one import,
    and people without an address are many."""
    import_files(db, all_files(files), actor="hr")  # P1 ada@, P2 bo@
    clash = write_csv(
        tmp_path / "people.csv",
        PEOPLE_H,
        [
            ["P3", "Cy", "cy@example.org", "", "", "", "", ""],
            ["P4", "Di", "CY@example.org", "", "", "", "", ""],
            ["P5", "Ed", "Ada@Example.org", "", "", "", "", ""],
            ["P6", "Fi", "", "", "", "", "", ""],
            ["P7", "Gu", "", "", "", "", "", ""],
        ],
    )
    expect_rejected(
        db,
        [clash],
        [
            "people.csv:3:email: e-mail 'CY@example.org' is also P3's (row 2)",
            "people.csv:4:email: e-mail 'Ada@Example.org' is also P1's (already stored)",
        ],
    )
    swap = write_csv(
        tmp_path / "people.csv",
        PEOPLE_H,
        [
            ["P1", "Ada Boss", "bo@example.org", "R-DS", "", "DATA", "2019-04-01", "Berlin"],
            ["P2", "Bo Analyst", "ada@example.org", "R-DA", "P1", "DATA", "2023-01-09", "Lisbon"],
            ["P6", "Fi", "", "", "", "", "", ""],
            ["P7", "Gu", "", "", "", "", "", ""],
        ],
    )
    import_files(db, [swap], actor="hr")
    with db.engine.connect() as conn:
        emails = dict(conn.execute(select(t.people.c.id, t.people.c.email)).all())
    assert (emails["P1"], emails["P2"], emails["P6"], emails["P7"]) == ("bo@example.org", "ada@example.org", "", "")


def test_a_date_outside_the_years_a_record_may_hold_is_refused(db: Database, tmp_path: Path) -> None:
    """A typo'd year (0202) or one at the calendar's edge (9999, whose last day has no next one) names the
    row and column instead of being stored."""
    people = write_csv(
        tmp_path / "people.csv",
        PEOPLE_H,
        [["P1", "A", "", "", "", "", "0202-04-01", ""], ["P2", "B", "", "", "", "", "2024-04-01", ""]],
    )
    expect_rejected(db, [people], ["people.csv:2:hire_date: 0202-04-01 is outside the years 1900–2199"])


def test_known_teams_refuses_a_team_that_does_not_exist(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    """By default an import creates the teams it names (and says so); with known_teams a team the database
    does not hold is an error naming the row, so a typo'd host team is not made a team of its own."""
    import_files(db, all_files(files), actor="hr")  # creates DATA, MKT, ML
    row = ["MV9", "P2", "gig", "Gig", "T-NOPE", "2025-05-05", "2025-05-30", 10, "proposed", "", "x", "", ""]
    moves = write_csv(tmp_path / "moves.csv", MOVES_H, [row, [*row[:0], "MV8", *row[1:4], "ML", *row[5:]]])
    before = counts(db)
    with pytest.raises(ImportRejected) as info:
        import_files(db, [moves], actor="hr", known_teams=True)
    assert [str(i) for i in info.value.issues] == [
        "moves.csv:2:host_team: unknown team 'T-NOPE' (teams are not created with known_teams)"
    ]
    assert counts(db) == before
    assert import_files(db, [moves], actor="hr").teams_created == ["T-NOPE"]


def all_ids(db: Database) -> set[str]:
    """Every id and team the organisation tables hold (to find a stray guard apostrophe)."""
    with db.engine.connect() as conn:
        found = {*conn.scalars(select(t.teams.c.id)), *conn.scalars(select(t.roles.c.id))}
        found |= {*conn.scalars(select(t.roles.c.team_id)), *conn.scalars(select(t.role_skills.c.role_id))}
        for col in (t.people.c.id, t.people.c.role_id, t.people.c.manager_id, t.people.c.team_id):
            found |= set(conn.scalars(select(col)))
        for col in (t.moves.c.id, t.moves.c.person_id, t.moves.c.host_team_id, t.moves.c.target_role_id):
            found |= set(conn.scalars(select(col)))
    return {x for x in found if x is not None}


def test_ids_and_teams_an_export_guards_against_formulas_import_back_unchanged(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """The export guards every cell starting with = + - @, the import took the guard off titles and some
    people columns only: a re-imported export read move_id '=M1 (a second move), host team '+TEAM (a new
    team) and target role '-R-X (unknown role). Every cell of every file is un-guarded the same way."""
    from micromoves.services.exporting import export_csv

    import_files(db, all_files(files), actor="hr")
    src = tmp_path / "src"
    src.mkdir()
    roles = write_csv(src / "roles.csv", ROLES_H, [["-R-X", "Minus role", "15-1252.00", 2, "+TEAM", "false"]])
    skills = write_csv(src / "role_skills.csv", ["role_id", "skill", "level"], [["-R-X", "Programming", 3]])
    people = write_csv(
        src / "people.csv", PEOPLE_H, [["@P5", "At Person", "", "-R-X", "P1", "+TEAM", "2024-01-08", ""]]
    )
    row = ["=M1", "@P5", "gig", "Gig", "+TEAM", "2025-01-06", "2025-02-28", 20, "proposed", "-R-X", "x", "", ""]
    moves = write_csv(src / "moves.csv", MOVES_H, [row])
    import_files(db, [roles, skills, people, moves], actor="hr")
    out = export_csv(db, tmp_path / "ex")
    with out["moves"].open() as f:
        exported = next(r for r in csv.DictReader(f) if r["move_id"] == "'=M1")
    assert (exported["host_team"], exported["target_role_id"], exported["person_id"]) == ("'+TEAM", "'-R-X", "'@P5")
    before = counts(db)
    summary = import_files(db, [out[k] for k in ("roles", "role_skills", "people", "moves")], actor="hr")
    assert summary.created == {"roles": 0, "role_skills": 0, "people": 0, "moves": 0}
    assert summary.updated == {"roles": 0, "role_skills": 0, "people": 0, "moves": 0}
    assert summary.teams_created == []
    assert {k: v for k, v in counts(db).items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }
    assert {"=M1", "@P5", "+TEAM", "-R-X"} <= all_ids(db)
    assert not any(x.startswith("'") for x in all_ids(db))


def test_an_exported_cell_over_the_csv_modules_default_limit_imports_back(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """A success criterion of 10 MB exported, then imported back, was refused: 'field larger than field
    limit (131072)'."""
    from micromoves.services.exporting import export_csv

    import_files(db, all_files(files), actor="hr")
    long = "evidence " * 1_200_000  # 10.8 MB
    row = ["Q1", "P2", "gig", "Gig", "", "2025-01-06", "2025-02-28", 20, "proposed", "", long.strip(), "", ""]
    source = tmp_path / "moves.json"
    source.write_text(json.dumps({"moves": [dict(zip(MOVES_H, row, strict=True))]}))
    import_files(db, [source], actor="hr")
    out = export_csv(db, tmp_path / "ex", kinds=["moves"])
    assert out["moves"].stat().st_size > 10_000_000
    assert import_files(db, [out["moves"]], actor="hr").unchanged["moves"] == 4
    with db.engine.connect() as conn:
        statement = conn.scalar(select(t.success_criteria.c.statement).where(t.success_criteria.c.move_id == "Q1"))
    assert statement == long.strip()


def test_the_same_id_in_two_files_of_one_name_or_one_file_given_twice_is_refused(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """The check across files compared file names: a/people.csv and b/people.csv with the same person both
    passed (the second silently won). Files of one name are named by their path; one file twice is refused."""
    import_files(db, [files["roles"]], actor="hr")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    row = ["P7", "Seven", "", "R-DA", "", "DATA", "", ""]
    a = write_csv(tmp_path / "a" / "people.csv", PEOPLE_H, [row])
    b = write_csv(tmp_path / "b" / "people.csv", PEOPLE_H, [["P8", "Eight", "", "", "", "", "", ""], row])
    expect_rejected(db, [a, b], [f"{b}:3:person_id: duplicate id 'P7' (first in {a} on row 2)"])
    expect_rejected(
        db, [a, tmp_path / "b" / ".." / "a" / "people.csv"], [f"{tmp_path}/b/../a/people.csv:1:-: the same file is "
        f"given twice (also as {a}): give it once"]
    )  # fmt: skip
    expect_rejected(db, [a, a], [f"{a}:1:-: the same file is given twice (also as {a}): give it once"])


def test_an_export_that_fails_writes_nothing_and_names_the_target(
    db: Database, files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'mkdir ex/moves.csv; micromoves export ex' replaced roles, role_skills and people, left moves.csv.part
    behind and named it in the error. An export now replaces the folder's files all together or not at all."""
    from micromoves.services import exporting

    import_files(db, all_files(files), actor="hr")
    ex = tmp_path / "ex"
    exporting.export_csv(db, ex, kinds=["roles", "role_skills", "people"])
    before = {p.name: p.read_bytes() for p in ex.iterdir()}
    import_files(
        db, [write_csv(tmp_path / "people.csv", PEOPLE_H, [["P9", "Nine", "", "", "", "", "", ""]])], actor="hr"
    )
    (ex / "moves.csv").mkdir()
    with pytest.raises(OSError) as info:
        exporting.export_csv(db, ex)
    assert info.value.filename == str(ex / "moves.csv")
    assert sorted(p.name for p in ex.iterdir()) == sorted([*before, "moves.csv"])  # no .part left
    assert {p.name: p.read_bytes() for p in ex.iterdir() if p.is_file()} == before
    (ex / "moves.csv").rmdir()

    # A file that fails while it is written: the ones written before it are not put in place.
    def broken(conn: Any, kind: str, *rest: Any) -> Any:
        if kind == "moves":
            raise OSError(28, "No space left on device")
        return real(conn, kind, *rest)

    real = exporting.rows_for
    monkeypatch.setattr(exporting, "rows_for", broken)
    with pytest.raises(OSError) as info:
        exporting.export_csv(db, ex)
    assert info.value.filename == str(ex / "moves.csv")
    assert {p.name: p.read_bytes() for p in ex.iterdir()} == before
    monkeypatch.undo()

    # One that cannot be put in place: those already replaced get their old files back.
    real_replace = Path.replace

    def failing_replace(self: Path, target: Any) -> Path:
        if Path(target).name == "people.csv" and self.name.endswith(".part"):
            raise PermissionError(13, "Permission denied", str(target))
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", failing_replace)
    with pytest.raises(OSError) as info:
        exporting.export_csv(db, ex)
    assert info.value.filename == str(ex / "people.csv")
    assert {p.name: p.read_bytes() for p in ex.iterdir()} == before
    monkeypatch.undo()
    exporting.export_csv(db, ex)
    assert sorted(p.name for p in ex.iterdir()) == [
        "moves.csv",
        "people.csv",
        "role_skills.csv",
        "roles.csv",
        "teams.csv",
    ]
    assert b"P9" in (ex / "people.csv").read_bytes()


def test_json_whole_numbers_written_as_floats_and_keys_left_out_for_null(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """ "percent_time": 20.0 was refused as "'20.0' is not a whole number"; and an object leaving out a key
    whose value would be null (no target role, no outcome, no gains) was "missing required column". A key
    whose empty value would stand for a default (status) stays required."""
    import_files(db, all_files(files), actor="hr")
    move = {"move_id": "J1", "person_id": "P2", "kind": "gig", "title": "Gig", "start": "2025-04-07"}
    move |= {"end": "2025-05-02", "percent_time": 20.0, "status": "proposed", "success_criteria": ["x"]}
    person = {"person_id": "P9", "name": "Nine", "capacity_percent": 80.0}
    doc = tmp_path / "org.json"
    doc.write_text(json.dumps({"moves": [move], "people": [person]}))
    assert import_files(db, [doc], actor="hr").created == {"people": 1, "moves": 1}
    m = t.moves.c
    with db.engine.connect() as conn:
        row = conn.execute(select(m.percent_time, m.target_role_id, m.host_team_id).where(m.id == "J1")).one()
        assert tuple(row) == (20, None, None)
        assert conn.scalar(select(func.count()).select_from(t.outcomes).where(t.outcomes.c.move_id == "J1")) == 0
        assert conn.scalar(select(t.people.c.capacity_percent).where(t.people.c.id == "P9")) == 80
    doc.write_text(json.dumps({"moves": [{**move, "move_id": "J2", "percent_time": 20.5}]}))
    expect_rejected(db, [doc], ["org.json#moves:1:percent_time: '20.5' is not a whole number"])
    doc.write_text(json.dumps({"moves": [{k: v for k, v in move.items() if k != "status"}]}))
    expect_rejected(db, [doc], ["org.json#moves:1:status: missing required column"])


def test_criteria_reordered_by_a_reimport_keep_their_evidence_and_ratings(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """The evidence a review recorded (not in the format) was kept by the criterion's position: a re-import
    listing the same criteria in another order silently dropped it. It follows the statement now."""
    import_files(db, all_files(files), actor="hr")
    c = t.success_criteria.c
    with db.engine.begin() as conn:
        for statement, evidence in (("Model in production", "deployed 2025-03-20"), ("AUC above 0.75", "AUC 0.74")):
            conn.execute(
                t.success_criteria.update()
                .where(c.move_id == "MV1", c.statement == statement)
                .values(evidence=evidence)
            )
    row = ["MV1", "P2", "stretch_assignment", "Build churn model", "DATA", "2025-01-06", "2025-03-28", 40]
    row += ["completed", "R-DS", "AUC above 0.75;Model in production;New criterion", "end", "Programming:2>3.5"]
    assert import_files(db, [write_csv(tmp_path / "moves.csv", MOVES_H, [row])], actor="hr").updated == {"moves": 1}
    with db.engine.connect() as conn:
        stored = conn.execute(
            select(c.position, c.statement, c.rating, c.evidence).where(c.move_id == "MV1").order_by(c.position)
        ).all()
    assert [tuple(r) for r in stored] == [
        (1, "AUC above 0.75", "partly_met", "AUC 0.74"),
        (2, "Model in production", "met", "deployed 2025-03-20"),
        (3, "New criterion", None, ""),
    ]


def test_a_move_cannot_be_imported_as_started_before_its_start_or_ended_before_its_end(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """The tracker activates a move from its start date and ends it once its end is past; the import took any
    status with any dates: a completed move ending next month wrote a skill assessment dated next month."""
    import_files(db, all_files(files), actor="hr")
    today = dt.date(2025, 6, 2)

    def move(mid: str, status: str, start: str, end: str) -> list[object]:
        outcome = {"completed": "end", "reverted": "revert"}.get(status, "")
        return [mid, "P2", "gig", "Gig", "", start, end, 10, status, "", "x", outcome, "Programming:2>3"]

    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_H,
        [
            move("F1", "active", "2025-06-03", "2025-07-04"),
            move("F2", "in_review", "2025-06-09", "2025-07-04"),
            move("F3", "completed", "2025-05-05", "2025-06-03"),
            move("F4", "reverted", "2025-05-05", "2025-06-20"),
            move("F5", "approved", "2025-06-09", "2025-07-04"),  # not started yet: fine
            move("F6", "active", "2025-06-02", "2025-07-04"),  # starts today: fine
            move("F7", "completed", "2025-05-05", "2025-06-02"),  # ended today: fine
            move("F8", "reverted", "2025-06-02", "2025-06-03"),  # the tracker's revert on the first day: fine
        ],
    )
    before = counts(db)
    with pytest.raises(ImportRejected) as info:
        import_files(db, [moves], actor="hr", today=today)
    assert [str(i) for i in info.value.issues] == [
        "moves.csv:2:status: a move starting on 2025-06-03 cannot be active before then (today is 2025-06-02)",
        "moves.csv:3:status: a move starting on 2025-06-09 cannot be in_review before then (today is 2025-06-02)",
        "moves.csv:4:end: a move that is completed cannot end after today (2025-06-02): 2025-06-03",
        "moves.csv:5:end: a move that is reverted cannot end after today (2025-06-02): 2025-06-20",
    ]
    assert counts(db) == before
    with moves.open() as f:
        fine = [r for r in csv.reader(f)][5:]
    summary = import_files(db, [write_csv(tmp_path / "ok_moves.csv", MOVES_H, fine)], actor="hr", today=today)
    assert summary.created == {"moves": 4}
    with db.engine.connect() as conn:
        assert conn.scalar(select(func.max(t.skill_levels.c.assessed_on))) <= today


def test_an_empty_cell_is_unknown_and_keeps_what_is_stored(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """conventions.md: empty cell = unknown. A re-import with a person's manager, role, team… left empty
    cleared them (a cleared role also left the role history saying the old role was current), and a move's
    empty host team or target role cleared those. A stored record keeps them; a new one gets none."""
    import_files(db, all_files(files), actor="hr")
    people = write_csv(
        tmp_path / "people.csv",
        PEOPLE_H,
        [["P2", "Bo Analyst", "", "", "", "", "", ""], ["P9", "Nine", "", "", "", "", "", ""]],
    )
    row = ["MV1", "P2", "stretch_assignment", "Build churn model", "", "2025-01-06", "2025-03-28", 40]
    row += ["completed", "", "Model in production;AUC above 0.75", "end", "Programming:2>3.5"]
    mv3 = ["MV3", "P2", "rotation", "Rotation to ML platform", "", "2026-01-05", "2026-04-03", 100, "requested"]
    moves = write_csv(tmp_path / "moves.csv", MOVES_H, [row, [*mv3, "", "", "", ""]])
    summary = import_files(db, [people, moves], actor="hr")
    assert (summary.created, summary.updated) == ({"people": 1, "moves": 0}, {"people": 0, "moves": 0})
    p, m, a = t.people.c, t.moves.c, t.role_assignments.c
    with db.engine.connect() as conn:
        stored = {
            r[0]: tuple(r[1:])
            for r in conn.execute(select(p.id, p.email, p.role_id, p.manager_id, p.team_id, p.hire_date, p.location))
        }
        move = tuple(conn.execute(select(m.host_team_id, m.target_role_id).where(m.id == "MV1")).one())
        mv3_kept = tuple(conn.execute(select(m.host_team_id, m.target_role_id).where(m.id == "MV3")).one())
        criteria = conn.scalars(select(t.success_criteria.c.statement).where(t.success_criteria.c.move_id == "MV3"))
        mv3_kept += tuple(criteria)
        history = conn.execute(select(a.person_id, a.role_id, a.end).order_by(a.person_id, a.id)).all()
    assert stored["P2"] == ("bo@example.org", "R-DA", "P1", "DATA", dt.date(2023, 1, 9), "Lisbon")
    assert stored["P9"] == ("", None, None, None, None, "")
    assert move == ("DATA", "R-DS")
    assert mv3_kept == ("ML", "R-DS", "Own one pipeline")
    assert [tuple(r) for r in history] == [("P1", "R-DS", None), ("P2", "R-DA", None)]


def test_what_the_database_cannot_store_is_refused_naming_row_and_column(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """A person_id over varchar(64), or a NUL byte in a name, failed on PostgreSQL with a driver's traceback
    (SQLite stored them). Lengths are checked against storage/tables.py and control characters (but tab and
    line breaks) in every cell, header included, as problems of their file, row and column."""
    import_files(db, all_files(files), actor="hr")
    people = write_csv(
        tmp_path / "people.csv",
        [*PEOPLE_H, "grade"],
        [
            ["P" * 65, "Long Id", "", "", "", "", "", "", ""],
            ["P10", "Nul\x00Name", "", "", "", "T" * 65, "", "L" * 201, "a\x01b"],
            ["P11", "Tab\tand\nbreaks are text", "", "", "", "", "", "", ""],
        ],
    )
    row = ["Q1", "P2", "gig", "x" * 501, "", "2025-01-06", "2025-02-28", 20, "proposed", "", "c\x1bd", "", ""]
    moves = write_csv(tmp_path / "moves.csv", MOVES_H, [row])
    expect_rejected(
        db,
        [people, moves],
        [
            "moves.csv:2:success_criteria: holds the control character U+001B, which the database cannot store as text",
            "moves.csv:2:title: too long: 501 characters, the database holds at most 500",
            "people.csv:2:person_id: too long: 65 characters, the database holds at most 64",
            "people.csv:3:grade: holds the control character U+0001, which the database cannot store as text",
            "people.csv:3:location: too long: 201 characters, the database holds at most 200",
            "people.csv:3:name: holds the control character U+0000, which the database cannot store as text",
            "people.csv:3:team: too long: 65 characters, the database holds at most 64",
        ],
    )
    doc = tmp_path / "org.json"
    doc.write_text(json.dumps({"roles": [{"role_id": "R\u0000", "title": "T", "onet_code": "", "level": 1,
                                          "team": "", "critical": False, "bad\u0002key": "v"}]}))  # fmt: skip
    expect_rejected(
        db,
        [doc],
        [
            "org.json#roles:1:column 1 'bad\\x02key': holds the control character U+0002, which the database cannot "
            "store as text",
            "org.json#roles:1:role_id: holds the control character U+0000, which the database cannot store as text",
        ],
    )
    ok = write_csv(tmp_path / "ok_people.csv", PEOPLE_H, [["P11", "Tab\tand\nbreaks are text", *[""] * 6]])
    assert import_files(db, [ok], actor="hr").created == {"people": 1}


def test_a_file_is_scanned_once_for_guarded_cells_and_control_characters(tmp_path: Path) -> None:
    """The per-row checks run only for a file that holds an apostrophe opening a cell (the export's formula
    guard) or a control character; an apostrophe inside a word (O'Brien) is neither."""
    from micromoves.services.importing import read_csv

    header = "person_id,name,email,role_id,manager_id,team,hire_date,location\n"
    cases = {
        "plain": ("P1,Ann O'Brien,a@x.org,,,T,2020-01-01,Dublin\n", (False, False)),
        "guarded": ("'=P1,Ann,a@x.org,,,T,2020-01-01,Oslo\n", (True, False)),
        "quoted": ('P1,"\'+Ann, Jr",a@x.org,,,T,2020-01-01,Oslo\n', (True, False)),
        "control": ("P1,Ann\x07,a@x.org,,,T,2020-01-01,Oslo\n", (False, True)),
    }
    for name, (row, flags) in cases.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(header + row, encoding="utf-8")
        src = read_csv(path, "people")
        assert (src.guard_marks, src.control) == flags, name


# ------------------------------------------------------------------------- a review an import replaces


def mv1_row(
    *, title: str = "Build churn model", status: str = "completed", criteria: str = "Model in production;AUC above 0.75"
) -> list[object]:
    """MV1 of the ``files`` fixture, as a moves.csv row (with criteria_ratings) to change one field at a time."""
    row: list[object] = ["MV1", "P2", "stretch_assignment", title, "DATA", "2025-01-06", "2025-03-28", 40, status]
    return [*row, "R-DS", criteria]


# MV2 of the ``files`` fixture, up to its success criteria.
MV2_ROW: list[object] = [
    "MV2",
    "P2",
    "gig",
    "Dashboard gig",
    "MKT",
    "2025-02-03",
    "2025-03-14",
    20,
    "completed",
    "",
    "Dashboard live",
]


def kept_reviews(db: Database, move_id: str = "MV1") -> list[tuple[Any, ...]]:
    r = t.reviews.c
    with db.engine.connect() as conn:
        rows = conn.execute(select(t.reviews).where(r.move_id == move_id).order_by(r.id)).all()
    return [(x.decision, x.reviewed_on, x.reviewer_id, x.notes, x.confidential, x.ratings, x.gains) for x in rows]


@pytest.mark.parametrize("threshold", [50_000, 1], ids=["rows", "bulk"])
def test_an_import_that_replaces_a_review_keeps_the_replaced_one_as_the_tracker_does(
    db: Database, files: dict[str, Path], tmp_path: Path, threshold: int
) -> None:
    """A re-import giving MV1 another decision, ratings or gains overwrote its 'end' review: the decision,
    the ratings with their evidence, the gains and the reviewer's notes were gone, where a later review in
    the tracker keeps the one it replaces (reviews, the move page's earlier_reviews). It is kept now, whole,
    as the tracker keeps it; only a review the file changes is kept (a re-import of the same file, a change
    to the title, or criteria only reordered keep none), also on the bulk path (threshold 1)."""
    from micromoves.services import views
    from micromoves.services.accounts import Access, Principal
    from micromoves.services.policy import Policy
    from micromoves.settings import Settings

    settings = Settings(bulk_import_threshold=threshold)
    import_files(db, all_files(files), actor="hr", settings=settings)
    c, o = t.success_criteria.c, t.outcomes.c
    with db.write_engine.begin() as conn:  # what a review in the tracker records beyond the format
        conn.execute(t.success_criteria.update().where(c.move_id == "MV1", c.position == 1).values(evidence="live"))
        conn.execute(
            t.outcomes.update()
            .where(o.move_id == "MV1")
            .values(reviewer_id="P1", notes="SECRET: ask about pay", confidential=True, reviewed_on=dt.date(2025, 4, 2))
        )
    header = [*MOVES_H, "criteria_ratings"]

    def reimport(name: str, row: list[object]) -> dict[str, int]:
        moves = write_csv(tmp_path / f"{name}_moves.csv", header, [row])
        return import_files(db, [moves], actor="hris", settings=settings).updated

    assert reimport("same", [*mv1_row(), "end", "Programming:2>3.5", "met;partly_met"]) == {"moves": 0}
    assert kept_reviews(db) == []
    # A conversion reverted since (a new decision), with other ratings and a larger gain.
    assert reimport("revert", [*mv1_row(status="reverted"), "revert", "Programming:2>4", "not_met;met"]) == {"moves": 1}
    end_review = (
        "end",
        dt.date(2025, 4, 2),
        "P1",
        "SECRET: ask about pay",
        True,
        {
            "1": {"rating": "met", "evidence": "live", "statement": "Model in production"},
            "2": {"rating": "partly_met", "evidence": "", "statement": "AUC above 0.75"},
        },
        [{"skill_id": "2.B.3.e", "level_before": 2.0, "level_after": 3.5}],
    )
    assert kept_reviews(db) == [end_review]
    with db.engine.connect() as conn:
        assert conn.execute(select(o.decision).where(o.move_id == "MV1")).scalar_one() == "revert"
    # The same file again, a new title, the criteria reordered with their ratings: the review is unchanged.
    assert reimport("again", [*mv1_row(status="reverted"), "revert", "Programming:2>4", "not_met;met"]) == {"moves": 0}
    assert reimport("title", [*mv1_row(title="Churn", status="reverted"), "revert", "", ""]) == {"moves": 1}
    reordered = mv1_row(title="Churn", status="reverted", criteria="AUC above 0.75;Model in production")
    assert reimport("order", [*reordered, "revert", "Programming:2>4", "met;not_met"]) == {"moves": 1}
    assert kept_reviews(db) == [end_review]
    # Ratings alone are a review too: the 'revert' review they replace is kept as it was.
    assert reimport("ratings", [*reordered, "", "", "met;met"]) == {"moves": 1}
    assert len(kept_reviews(db)) == 2
    revert_review = kept_reviews(db)[1]
    assert revert_review[0] == "revert" and revert_review[2:5] == ("P1", "SECRET: ask about pay", True)
    assert revert_review[5] == {
        "1": {"rating": "met", "evidence": "", "statement": "AUC above 0.75"},
        "2": {"rating": "not_met", "evidence": "live", "statement": "Model in production"},
    }
    assert revert_review[6] == [{"skill_id": "2.B.3.e", "level_before": 2.0, "level_after": 4.0}]
    # The move page lists both, the confidential notes hidden from the person as the outcome's are.
    admin = Policy(db, Principal(0, "admin", Access.ADMIN, None))
    shown = views.move_detail(db, admin, "MV1").earlier_reviews
    assert [(e.decision, e.notes) for e in shown] == [
        ("end", "SECRET: ask about pay"),
        ("revert", "SECRET: ask about pay"),
    ]
    assert [(x.position, x.statement, x.rating, x.evidence) for x in shown[0].criteria] == [
        (1, "Model in production", "met", "live"),
        (2, "AUC above 0.75", "partly_met", ""),
    ]
    assert [(g.skill, g.level_before, g.level_after) for g in shown[0].skill_gains] == [("Programming", 2.0, 3.5)]
    person = Policy(db, Principal(0, "bo", Access.EMPLOYEE, "P2"))
    assert [e.notes for e in views.move_detail(db, person, "MV1").earlier_reviews] == [None, None]


def test_an_import_refused_or_without_a_stored_review_keeps_no_review(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """The review a refused import would have replaced is not kept (nothing is written); a move reviewed for
    the first time by a re-import had no review to keep."""
    import_files(db, all_files(files), actor="hr")
    header = [*MOVES_H, "criteria_ratings"]
    replacing = [*mv1_row(status="reverted"), "revert", "Programming:2>4", "not_met;met"]
    bad = [*MV2_ROW, "end", "", "maybe"]
    expect_rejected(
        db,
        [write_csv(tmp_path / "moves.csv", header, [replacing, bad])],
        ["moves.csv:3:criteria_ratings: unknown rating 'maybe'; one of: met, partly_met, not_met"],
    )
    assert kept_reviews(db) == []
    mv3 = ["MV3", "P2", "rotation", "Rotation to ML platform", "ML", "2025-04-07", "2025-06-27", 100, "completed"]
    mv3 += ["R-DS", "Own one pipeline", "end", "", "met"]
    assert import_files(db, [write_csv(tmp_path / "mv3_moves.csv", header, [mv3])], actor="hr").updated == {"moves": 1}
    assert kept_reviews(db, "MV3") == []


def test_vocabularies_are_read_in_any_case_and_stored_canonical(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """A kind, status, decision or rating in any case (an HRIS writes 'Active', 'Completed', 'Met') is read as
    the API, the CLI and the forms read it (one parser, domain.vocabulary) and stored as the canonical value;
    anything else is refused naming every accepted value."""
    import_files(db, all_files(files), actor="hr")
    header = [*MOVES_H, "criteria_ratings"]
    row = ["MV4", "P1", " Shadowing ", "Shadow the CTO", "DATA", "2025-01-06", "2025-02-28", 10, "COMPLETED", ""]
    row += ["Attend five meetings;Write notes", "End", "", "Met; PARTLY_MET"]
    assert import_files(db, [write_csv(tmp_path / "moves.csv", header, [row])], actor="hr").created == {"moves": 1}
    m, c, o = t.moves.c, t.success_criteria.c, t.outcomes.c
    with db.engine.connect() as conn:
        assert tuple(conn.execute(select(m.kind, m.status).where(m.id == "MV4")).one()) == ("shadowing", "completed")
        assert conn.execute(select(o.decision).where(o.move_id == "MV4")).scalar_one() == "end"
        assert conn.scalars(select(c.rating).where(c.move_id == "MV4").order_by(c.position)).all() == [
            "met",
            "partly_met",
        ]
        # stored as the canonical value: the database's own filter on 'completed' finds it
        assert conn.execute(select(func.count()).where(m.status == "completed", m.id == "MV4")).scalar_one() == 1
    # an unchanged re-import in another case changes nothing
    again = [*row[:8], "completed", *row[9:11], "end", "", "met;partly_met"]
    summary = import_files(db, [write_csv(tmp_path / "again_moves.csv", header, [again])], actor="hr")
    assert (summary.updated, summary.unchanged) == ({"moves": 0}, {"moves": 1})
    bad = [*row[:2], "Sabbatical", *row[3:8], "Done", *row[9:11], "Ended", "", "Met;Yes"]
    bad[0] = "MV5"
    expect_rejected(
        db,
        [write_csv(tmp_path / "bad_moves.csv", header, [bad])],
        [
            "bad_moves.csv:2:criteria_ratings: unknown rating 'Yes'; one of: met, partly_met, not_met",
            "bad_moves.csv:2:kind: unknown move kind 'Sabbatical'; one of: stretch_assignment, rotation, lateral_swap, "
            "temporary_lead, gig, acting_role, responsibility_handoff, shadowing, mentoring, course",
            "bad_moves.csv:2:outcome: unknown decision 'Ended'; one of: continue, extend, convert, revert, end",
            "bad_moves.csv:2:status: unknown status 'Done'; one of: proposed, requested, approved, onboarding, active, "
            "in_review, completed, declined, withdrawn, reverted",
        ],
    )


# ------------------------------------------------------------------------- malformed input, numbers, names

PEOPLE_HEAD = ",".join(PEOPLE_H)


def write_text(path: Path, *lines: str, newline: str = "\n", bom: bool = False) -> Path:
    """A file of exactly these lines (a quote in them is written as it stands, unlike write_csv's)."""
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + newline.join(lines).encode("utf-8") + newline.encode())
    return path


def names(db: Database) -> dict[str, str]:
    with db.engine.connect() as conn:
        return {pid: name for pid, name in conn.execute(select(t.people.c.id, t.people.c.name))}


def test_a_stray_quote_rejects_the_import_naming_line_and_column(db: Database, tmp_path: Path) -> None:
    """A quote opening a cell that no quote closes swallowed every row after it into that cell, and a closing
    quote followed by more text ("Luke" Lucas Moreau) was stored without its quotes: both imported with
    success. Now each is a problem naming the file, the line the cell starts on and its column, and nothing
    is written (all or nothing)."""
    people = tmp_path / "people.csv"
    write_text(
        people,
        PEOPLE_HEAD,
        'P1,Ada,,,,DATA,2020-01-01,"said ""hi',  # the last cell's quote never closes
        "P2,Bo,,,,DATA,2020-01-01,Porto",
        "P3,Cy,,,,DATA,2020-01-01,Lisbon",
    )
    expect_rejected(
        db,
        [people],
        ['people.csv:2:location: unbalanced quote: the cell starting on line 2 never ends (a quote opens it and '
         'none closes it); write a quote inside a quoted cell twice ("")'],
    )  # fmt: skip
    write_text(people, PEOPLE_HEAD, "P1,Ada,,,,DATA,2020-01-01,Berlin", 'P3,"Luke" Lucas Moreau,,,,DATA,,Paris')
    expect_rejected(
        db,
        [people],
        ['people.csv:3:name: text after a closing quote: a quoted cell ends at its closing quote, which a comma or '
         'the end of the line must follow; write a quote inside a quoted cell twice ("")'],
    )  # fmt: skip
    # The stray quote of line 2 runs until the quote of line 4, where the strict reader stops: the problem is
    # named at the cell that opened it, with the line where it ends.
    write_text(
        people,
        PEOPLE_HEAD,
        'P1,Ada,,,,DATA,2020-01-01,"said ""hi',
        "P2,Bo,,,,DATA,2020-01-01,Porto",
        'P3,"Luke" Lucas Moreau,,,,DATA,,Paris',
        "P4,Di,,,,DATA,,Rome",
    )
    expect_rejected(
        db,
        [people],
        ["people.csv:2:location: text after a closing quote on line 4: the quoted cell starting on line 2 ends "
         "there; if it should not span lines, the quote that opens it is unbalanced"],
    )  # fmt: skip
    # In the header (no column names yet: its position), and in a later cell of a record that spans lines.
    write_text(people, 'person_id,"name" x,email,role_id,manager_id,team,hire_date,location')
    expect_rejected(
        db,
        [people],
        ['people.csv:1:column 2: text after a closing quote: a quoted cell ends at its closing quote, which a comma '
         'or the end of the line must follow; write a quote inside a quoted cell twice ("")'],
    )  # fmt: skip
    write_text(people, PEOPLE_HEAD, 'P1,"Ada\nLovelace",,,,DATA,2020-01-01,"Lon"don')
    expect_rejected(
        db,
        [people],
        ['people.csv:3:location: text after a closing quote: a quoted cell ends at its closing quote, which a comma '
         'or the end of the line must follow; write a quote inside a quoted cell twice ("")'],
    )  # fmt: skip
    assert names(db) == {}


def test_quoted_cells_with_line_breaks_doubled_quotes_and_commas_import_with_bom_and_crlf(
    db: Database, tmp_path: Path
) -> None:
    """The strict reader still takes every legitimate quoted cell: line breaks, doubled quotes and commas
    inside it, a byte-order mark and CRLF line ends (a spreadsheet's export), and a quote inside an unquoted
    cell; rows keep their line numbers past a cell spanning lines."""
    lines = [
        PEOPLE_HEAD,
        'P1,"Moreau, ""Luke""\r\nthe second",,,,DATA,2020-01-01,"Paris, FR"',
        'P2,Bo "Bobby" Tables,,,,DATA,2020-01-01,""',
        'P3,"",,,,DATA,2020-01-01,Oslo',
    ]
    people = write_text(tmp_path / "people.csv", *lines, newline="\r\n", bom=True)
    expect_rejected(db, [people], ["people.csv:5:name: required value is empty"])  # line 5: P3 (P1 spans 2–3)
    write_text(people, *lines[:3], newline="\r\n", bom=True)
    summary = import_files(db, [people], actor="hr")
    assert (summary.created, summary.unchanged) == ({"people": 2}, {"people": 0})
    assert names(db) == {"P1": 'Moreau, "Luke"\r\nthe second', "P2": 'Bo "Bobby" Tables'}
    with db.engine.connect() as conn:
        assert conn.scalar(select(t.people.c.location).where(t.people.c.id == "P1")) == "Paris, FR"
    assert import_files(db, [people], actor="hr").unchanged == {"people": 2}


def test_where_a_quote_problem_is_found_in_a_record(tmp_path: Path) -> None:
    """The error path's own reading of a record (the csv module names neither the cell nor its line), and a
    cell over the size limit, which an unbalanced quote in a large file reaches before the file's end."""
    from micromoves.services.importing import _quote_problem

    columns = ["a", "b", "c"]
    text = 'x,y,z\n1,"two\r\nlines",3\r2,"open\n3,z\n'  # a lone CR ends a line too, as for csv.reader
    assert _quote_problem(text, 4, columns, 1_000) == (
        4,
        "b",
        "unbalanced quote: the cell starting on line 4 never ends (a quote opens it and none closes it); write a "
        'quote inside a quoted cell twice ("")',
    )
    # A cell after one spanning lines starts on a later line than its record; a record without a problem
    # (another csv.Error) is no quote problem.
    text = 'x,y,z\n1,"two\r\nlines, ""quoted""","x"y\n'
    assert _quote_problem(text, 2, columns, 1_000)[:2] == (3, "c")
    assert _quote_problem(text, 1, columns, 1_000) is None
    assert _quote_problem('a,"b"c\n', 1, [], 1_000)[:2] == (1, "column 2")
    text = 'a,b,c\n1,"' + "x" * 50 + '\n2,"y",z\n'  # the stray quote of line 2 runs to the quote of line 3
    assert _quote_problem(text, 2, columns, 20) == (
        2,
        "b",
        "the quoted cell starting on line 2 is longer than a cell may be (20 characters): if it should not be, "
        "the quote that opens it is unbalanced",
    )
    assert _quote_problem("a,b,c\n1,2," + "x" * 30 + "\n", 2, columns, 20) == (
        2,
        "c",
        "the cell is longer than a cell may be (20 characters)",
    )


def test_numbers_in_other_scripts_or_too_long_are_row_problems_not_crashes(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    """'²' passes str.isdigit() and int() refuses it (a traceback, a 500 over the API); Arabic-Indic digits
    (١٠٠) were read as 100, and float() reads '١.٥' as 1.5; an integer of 5,000 digits is more than int()
    reads. Each is a problem of its row and column; nothing is written."""
    import_files(db, all_files(files), actor="hr")
    before = counts(db)
    huge = "9" * 5_000
    move = ["N1", "P2", "gig", "Gig", "", "2025-01-06", "2025-02-28", "²", "proposed", "", "x", "", ""]
    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_H,
        [
            move,
            ["N2", *move[1:7], "١٠٠", *move[8:]],
            ["N3", *move[1:7], huge, *move[8:]],
            ["N4", *move[1:7], "-" + huge, *move[8:]],
            ["N5", *move[1:7], "00000000000000000000000000020", *move[8:12], "Programming:١>٣"],
        ],
    )
    roles = write_csv(
        tmp_path / "roles.csv", ROLES_H, [["R-X", "X", "", "²", "", "false"], ["R-Y", "Y", "", huge, "", "false"]]
    )
    role_skills = write_csv(
        tmp_path / "role_skills.csv",
        ["role_id", "skill", "level"],
        [
            ["R-DS", "Programming", "١.٥"],
            ["R-DA", "Programming", "1_5"],
            ["R-DS", "Critical Thinking", "nan"],
            ["R-DA", "Mathematics (skill 2.A.1.e)", "1e0"],  # read as before: 1.0
        ],
    )
    people = write_csv(
        tmp_path / "people.csv",
        [*PEOPLE_H, "capacity_percent"],
        [["P7", "Seven", "", "", "", "", "", "", "١٠٠"], ["P8", "Eight", "", "", "", "", "", "", huge]],
    )
    too_long = "a number of 5000 digits"
    expect_rejected(
        db,
        [moves, roles, role_skills, people],
        [
            "moves.csv:2:percent_time: '²' is not a whole number",
            "moves.csv:3:percent_time: '١٠٠' is not a whole number",
            f"moves.csv:4:percent_time: {too_long} is out of range 1–100",
            "moves.csv:5:percent_time: a negative number of 5000 digits is out of range 1–100",
            "moves.csv:6:skills_gained: '٣' is not a number",
            "moves.csv:6:skills_gained: '١' is not a number",
            "people.csv:2:capacity_percent: '١٠٠' is not a whole number",
            f"people.csv:3:capacity_percent: {too_long} is out of range 1–200",
            "role_skills.csv:2:level: '١.٥' is not a number",
            "role_skills.csv:3:level: '1_5' is not a number",
            "role_skills.csv:4:level: 'nan' is not a number",
            "roles.csv:2:level: '²' is not a whole number",
            f"roles.csv:3:level: {too_long} is out of range 1–20",
        ],
    )
    assert counts(db) == before


def test_json_with_huge_numbers_or_deep_nesting_is_refused_naming_the_file(db: Database, tmp_path: Path) -> None:
    """A JSON number of 5,000 digits raised 'Exceeds the limit (4300 digits)' and a document nested 3,000
    levels deep a RecursionError: tracebacks (a 500 over the API). The first is a problem of its row and
    column, the second one of the file."""
    doc = tmp_path / "org.json"
    person = {"person_id": "P1", "name": "Ada", "capacity_percent": 80}
    doc.write_text('{"people": [' + json.dumps(person)[:-1] + ', "home_role_min_percent": ' + "1" * 5_000 + "}]}")
    expect_rejected(
        db, [doc], ["org.json#people:1:home_role_min_percent: a number of 5000 digits is out of range 0–199"]
    )
    doc.write_text('{"people": ' + "[" * 3_000 + "]" * 3_000 + "}")
    expect_rejected(db, [doc], ["org.json:1:-: invalid JSON: nested too deeply (arrays or objects inside one another)"])
    doc.write_text(json.dumps({"people": [{**person, "capacity_percent": "٨٠"}]}))
    expect_rejected(db, [doc], ["org.json#people:1:capacity_percent: '٨٠' is not a whole number"])
    doc.write_text(json.dumps({"people": [person]}))  # and an ordinary number still reads as before
    assert import_files(db, [doc], actor="hr").created == {"people": 1}
    with db.engine.connect() as conn:
        assert conn.scalar(select(t.people.c.capacity_percent)) == 80


def test_a_json_export_with_an_empty_list_imports_back(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    """An organisation without moves exports "moves": [], which imported back as a "missing required
    column" problem per column. An empty list is none of its kind; a document with none of the kinds, or
    with a key that is not one, is refused saying so."""
    from micromoves.services.exporting import export_json

    import_files(db, [files["roles"], files["people"]], actor="hr")
    out = export_json(db, tmp_path / "org.json")
    doc = json.loads(out.read_text())
    assert (doc["moves"], doc["role_skills"]) == ([], [])
    before = counts(db)
    summary = import_files(db, [out], actor="hr")
    assert summary.created == {"teams": 0, "roles": 0, "role_skills": 0, "people": 0, "moves": 0}
    assert summary.unchanged == {"teams": 1, "roles": 2, "role_skills": 0, "people": 2, "moves": 0}
    assert {k: v for k, v in counts(db).items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }
    empty = tmp_path / "empty.json"
    empty.write_text('{"people": [], "moves": []}')
    summary = import_files(db, [empty], actor="hr")
    assert (summary.created, summary.updated, summary.unchanged) == ({"people": 0, "moves": 0},) * 3
    empty.write_text("{}")
    expect_rejected(db, [empty], ["empty.json:1:-: no teams, people, roles, role_skills or moves in this file"])
    empty.write_text('{"people": [], "People": [], "exported_at": "2026-01-05"}')
    expect_rejected(
        db,
        [empty],
        [
            "empty.json:1:People: unknown key: the keys are teams, people, roles, role_skills and moves (lower case)",
            "empty.json:1:exported_at: unknown key: the keys are teams, people, roles, role_skills and moves "
            "(lower case)",
        ],
    )
    assert {k: v for k, v in counts(db).items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("moves.csv", "moves"),
        ("role_skills.csv", "role_skills"),
        ("Role-Skills.csv", "role_skills"),
        ("roles.csv", "roles"),
        ("hris_moves.csv", "moves"),
        ("peoplesoft_moves.csv", "moves"),  # 'people' starts the name but is not a word of it: moves
        ("workday-people.csv", "people"),
        ("people_2024.csv", "people"),
        ("moves 2024-01.csv", "moves"),
        ("roles2024.csv", "roles"),
        ("peoplesoft.csv", "people"),  # a kind the name only starts with, where nothing else matches
        ("hris_role_skills.csv", "role_skills"),
    ],
)
def test_a_files_kind_is_told_from_its_name(name: str, kind: str) -> None:
    from micromoves.services.importing import guess_kind

    assert guess_kind(Path(name)) == kind


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("people_moves.csv", "its name could mean people or moves"),
        ("moves_of_roles.csv", "its name could mean moves or roles"),
        ("notes.csv", "cannot tell what this file holds; name it"),
    ],
)
def test_a_name_that_names_two_kinds_or_none_is_refused(name: str, message: str) -> None:
    from micromoves.domain.errors import DomainError
    from micromoves.services.importing import guess_kind

    with pytest.raises(DomainError) as refused:
        guess_kind(Path(name))
    assert refused.value.field == "file" and refused.value.message.startswith(name + ": ")
    assert message in refused.value.message


def test_a_peoplesoft_moves_file_imports_as_moves(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    import_files(db, all_files(files), actor="hr")
    row = ["PS1", "P2", "gig", "Gig", "", "2027-01-04", "2027-02-26", 10, "proposed", "", "x", "", ""]
    path = write_csv(tmp_path / "peoplesoft_moves.csv", MOVES_H, [row])
    assert import_files(db, [path], actor="hr").created == {"moves": 1}
    with db.engine.connect() as conn:
        assert conn.scalar(select(t.moves.c.title).where(t.moves.c.id == "PS1")) == "Gig"


def test_a_file_without_rows_is_counted_in_the_summary(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    """A header-only moves.csv gave created == {} (the CLI printed nothing for it): every kind a file holds
    is in the summary, with zeros."""
    import_files(db, all_files(files), actor="hr")
    moves = write_csv(tmp_path / "moves.csv", MOVES_H, [])
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [])
    summary = import_files(db, [moves, people], actor="hr")
    assert (summary.created, summary.updated, summary.unchanged) == ({"people": 0, "moves": 0},) * 3
    assert counts(db)["moves"] == 3


def test_an_id_no_web_address_can_name_is_refused(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    """Ids holding '/' are taken (``EMP/0042`` has a page at /people/EMP%2F0042), but one starting or ending
    with '/' or holding '//' has an empty path segment: imported, it had no page and no JSON twin (404)."""
    import_files(db, [files["roles"]], actor="hr")
    rows = [[pid, "Name", "", "R-DA", "", "DATA", "", ""] for pid in ("EMP/0042", "/P1", "P2/", "P//3")]
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, rows)
    expect_rejected(
        db,
        [people],
        [
            f"people.csv:{row}:person_id: id {pid!r} starts or ends with '/' or holds '//': no web address can name it"
            for row, pid in ((3, "/P1"), (4, "P2/"), (5, "P//3"))
        ],
    )
    source = tmp_path / "people.json"
    source.write_text(
        json.dumps({"people": [dict(zip(PEOPLE_H, ["/P4", "Name", "", "R-DA", "", "DATA", "", ""], strict=True))]})
    )
    with pytest.raises(ImportRejected, match=r"person_id: id '/P4' starts or ends with '/'"):
        import_files(db, [source], actor="hr")
    (tmp_path / "ok").mkdir()
    assert (
        import_files(db, [write_csv(tmp_path / "ok" / "people.csv", PEOPLE_H, rows[:1])], actor="hr").created["people"]
        == 1
    )
