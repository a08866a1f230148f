"""teams.csv (team names, the team tree, team managers) and people's target roles in the interchange files:
an export rebuilds the organisation in a fresh installation. Without them a team came back named after its
id, with no parent (HR's org-unit subtrees stopped at it) and no manager, and everyone's target role was lost.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from micromoves.services.exporting import export_csv, export_json
from micromoves.services.importing import KINDS, ImportRejected, guess_kind, import_files
from micromoves.storage import tables as t
from micromoves.storage.bulk import BulkWriter
from micromoves.storage.db import Database
from tests.services.test_importing import PEOPLE_H, ROLES_H, write_csv

TEAMS_H = ["team_id", "name", "parent_id", "function", "manager_id"]
TABLES = ("teams", "team_managers", "roles", "people", "moves", "role_assignments", "audit_events")
AS_OF = dt.date(2026, 3, 2)  # the demo's date: its moves' statuses are those of that day


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {name: conn.scalar(text(f"SELECT count(*) FROM {name}")) for name in TABLES}


def teams_of(db: Database) -> dict[str, tuple[str, str | None, str, str | None]]:
    """Each team: (name, parent, function, manager)."""
    tm, mg = t.teams.c, t.team_managers.c
    q = select(tm.id, tm.name, tm.parent_id, tm.function, mg.person_id).select_from(
        t.teams.outerjoin(t.team_managers, mg.team_id == tm.id)
    )
    with db.engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(q)}  # type: ignore[misc]


def targets_of(db: Database) -> dict[str, str | None]:
    with db.engine.connect() as conn:
        return {pid: target for pid, target in conn.execute(select(t.people.c.id, t.people.c.target_role_id))}


def team_events(db: Database) -> list[tuple[str, str, Any]]:
    a = t.audit_events.c
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(a.action, a.entity_id, a.details).where(a.entity_type == "team").order_by(a.id)
        ).all()
    return [(r.action, r.entity_id, r.details) for r in rows]


@pytest.fixture
def org(tmp_path: Path) -> dict[str, Path]:
    """Nested teams whose children come before their parents in the file (T-ENG-9 → T-ENG → T-ROOT), managed
    by people of the same import; a person with a target role. (In a folder of their own: a test writes its
    own files to ``tmp_path``.)"""
    folder = tmp_path / "org"
    folder.mkdir()
    return {
        "teams": write_csv(
            folder / "teams.csv",
            TEAMS_H,
            [
                ["T-ENG-9", "Developer Experience", "T-ENG", "engineering", "P2"],
                ["T-ENG", "Engineering", "T-ROOT", "engineering", "P1"],
                ["T-ROOT", "Company", "", "executive", ""],
            ],
        ),
        "roles": write_csv(
            folder / "roles.csv",
            ROLES_H,
            [
                ["R-DA", "Data Analyst", "15-2051.01", 2, "T-ENG", "false"],
                ["R-DS", "Data Scientist", "", 3, "", "true"],
            ],
        ),
        "people": write_csv(
            folder / "people.csv",
            [*PEOPLE_H, "target_role_id"],
            [
                ["P1", "Ada Boss", "ada@example.org", "R-DS", "", "T-ENG", "2019-04-01", "Berlin", ""],
                ["P2", "Bo Analyst", "bo@example.org", "R-DA", "P1", "T-ENG-9", "2023-01-09", "Lisbon", "R-DS"],
            ],
        ),
    }


def all_of(org: dict[str, Path]) -> list[Path]:
    return [org["people"], org["roles"], org["teams"]]  # the order given is irrelevant


ORG_TEAMS = {
    "T-ENG-9": ("Developer Experience", "T-ENG", "engineering", "P2"),
    "T-ENG": ("Engineering", "T-ROOT", "engineering", "P1"),
    "T-ROOT": ("Company", None, "executive", None),
}


def test_a_teams_file_defines_names_parents_functions_and_managers(db: Database, org: dict[str, Path]) -> None:
    summary = import_files(db, all_of(org), actor="hr")
    assert summary.created == {"teams": 3, "roles": 2, "people": 2}
    assert summary.teams_created == []  # every team the files name is defined, none is made up from its id
    assert teams_of(db) == ORG_TEAMS
    assert targets_of(db) == {"P1": None, "P2": "R-DS"}
    assert guess_kind(Path("teams.csv")) == "teams" and guess_kind(Path("hris_teams.csv")) == "teams"


def test_the_organisation_is_rebuilt_from_its_export_in_a_fresh_database(
    db: Database, sqlite_template: Path, tmp_path: Path
) -> None:
    """The demo organisation (nested teams, team managers, target roles) exported, imported into a fresh
    database (``db``: SQLite and PostgreSQL), and exported again: the two exports are identical."""
    from micromoves.services.demo import generate_demo

    shutil.copyfile(sqlite_template, tmp_path / "source.sqlite3")
    source = Database(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    try:
        generate_demo(source, people=200, seed=11, as_of=AS_OF, plan_bottleneck=False)
        first = export_csv(source, tmp_path / "first")
        doc = tmp_path / "org.json"
        export_json(source, doc)
        teams, targets = teams_of(source), targets_of(source)
    finally:
        source.dispose()
    # What the demo holds is what this test is about: a tree of several levels, managers, target roles.
    assert sum(parent is not None and teams[parent][1] is not None for _, parent, _, _ in teams.values()) >= 10
    assert sum(manager is not None for *_, manager in teams.values()) >= 10
    assert sum(target is not None for target in targets.values()) >= 20
    # A parent later in the file than its child (T-EXEC after T-CXO): the second pass writes it.
    order = [row["team_id"] for row in csv.DictReader(first["teams"].open())]
    assert order.index("T-EXEC") > order.index("T-CXO") and teams["T-CXO"][1] == "T-EXEC"

    summary = import_files(db, [first[k] for k in KINDS], actor="hr", today=AS_OF)
    assert summary.created["teams"] == len(teams) and summary.teams_created == []
    assert teams_of(db) == teams  # names, parents, functions and managers: not T-ENG-1|T-ENG-1||
    assert teams["T-ENG-1"][:3] == ("Platform", "T-ENG", "engineering")
    assert targets_of(db) == targets
    again = export_csv(db, tmp_path / "again")
    for kind in KINDS:
        assert again[kind].read_bytes() == first[kind].read_bytes(), kind

    # The JSON export carries the same: imported over what the CSV files wrote, it changes nothing.
    assert [t_["team_id"] for t_ in json.loads(doc.read_text())["teams"]] == order
    before = counts(db)
    summary = import_files(db, [doc], actor="hr", today=AS_OF)
    assert sum(summary.created.values()) == 0 and sum(summary.updated.values()) == 0, summary
    assert summary.unchanged["teams"] == len(teams) and summary.unchanged["people"] == len(targets)
    assert {k: v for k, v in counts(db).items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch, db: Database) -> Iterator[list[str]]:
    """What the import writes to the teams tables: rows sent by the bulk writer, and SQL statements."""
    from sqlalchemy import event

    found: list[str] = []
    insert, upsert = BulkWriter.insert, BulkWriter.upsert

    def spy(real: Any) -> Any:
        def write(self: BulkWriter, table: Any, columns: Any, *rest: Any) -> int:
            rows = list(rest[-1])
            if rows and table.name in ("teams", "team_managers"):
                found.append(f"{real.__name__} {table.name}: {len(rows)}")
            return int(real(self, table, columns, *rest[:-1], rows))

        return write

    monkeypatch.setattr(BulkWriter, "insert", spy(insert))
    monkeypatch.setattr(BulkWriter, "upsert", spy(upsert))

    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        words = sql.split()
        if words and words[0].upper() in ("INSERT", "UPDATE", "DELETE") and "team" in sql.split("(")[0].lower():
            found.append(" ".join(words[:3]))

    event.listen(db.write_engine, "before_cursor_execute", statement)
    yield found
    event.remove(db.write_engine, "before_cursor_execute", statement)


def test_an_unchanged_teams_file_is_reported_unchanged_and_writes_nothing(
    db: Database, org: dict[str, Path], writes: list[str]
) -> None:
    import_files(db, all_of(org), actor="hr")
    assert writes  # the spy sees the first import's writes
    writes.clear()
    before, stored = counts(db), teams_of(db)
    summary = import_files(db, [org["teams"]], actor="hr")
    assert (summary.created, summary.updated, summary.unchanged) == ({"teams": 0}, {"teams": 0}, {"teams": 3})
    assert writes == []
    assert teams_of(db) == stored
    assert counts(db) == {**before, "audit_events": before["audit_events"] + 1}  # the file's import.file event
    assert team_events(db) == []


def test_a_stored_team_is_updated_by_id_and_an_empty_cell_keeps_what_is_stored(
    db: Database, org: dict[str, Path], tmp_path: Path
) -> None:
    """A team a people file named (created named after its id) gets its name, parent, function and manager
    from a teams file later; an empty cell there keeps the stored value, as in people.csv."""
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [["P1", "Ada", "", "", "", "T-ENG", "", ""]])
    assert import_files(db, [people], actor="hr").teams_created == ["T-ENG"]
    assert teams_of(db) == {"T-ENG": ("T-ENG", None, "", None)}
    summary = import_files(db, [org["teams"], org["people"], org["roles"]], actor="hr")
    assert (summary.created["teams"], summary.updated["teams"], summary.unchanged["teams"]) == (2, 1, 0)
    assert teams_of(db) == ORG_TEAMS
    assert team_events(db) == [
        ("team.created_by_import", "T-ENG", {}),
        ("team.updated_by_import", "T-ENG", {"changed": ["name", "function", "parent_id", "manager_id"]}),
    ]
    renamed = write_csv(
        tmp_path / "teams.csv", TEAMS_H[:4], [["T-ENG", "Engineering & IT", "", ""], ["T-ENG-9", "DevEx", "", ""]]
    )
    summary = import_files(db, [renamed], actor="hr")
    assert (summary.updated, summary.unchanged) == ({"teams": 2}, {"teams": 0})
    assert teams_of(db) == {
        **ORG_TEAMS,
        "T-ENG": ("Engineering & IT", "T-ROOT", "engineering", "P1"),
        "T-ENG-9": ("DevEx", "T-ENG", "engineering", "P2"),
    }
    assert team_events(db)[-2:] == [
        ("team.updated_by_import", "T-ENG", {"changed": ["name"]}),
        ("team.updated_by_import", "T-ENG-9", {"changed": ["name"]}),
    ]
    # A new parent and manager: stored teams and people, or new ones of the same import.
    moved = write_csv(
        tmp_path / "teams.csv",
        TEAMS_H,
        [["T-ENG-9", "DevEx", "T-PLAT", "", "P1"], ["T-PLAT", "Platform", "T-ENG", "", ""]],
    )
    import_files(db, [moved], actor="hr")
    assert teams_of(db)["T-ENG-9"] == ("DevEx", "T-PLAT", "engineering", "P1")
    assert teams_of(db)["T-PLAT"] == ("Platform", "T-ENG", "", None)


def test_a_team_only_named_is_still_created_or_refused_with_known_teams(
    db: Database, org: dict[str, Path], tmp_path: Path
) -> None:
    """Teams a teams file of the import defines count as known; one only a person names is created named
    after its id, as before, or refused with known_teams."""
    people = write_csv(
        tmp_path / "people.csv",
        PEOPLE_H,
        [["P1", "Ada", "", "", "", "T-ENG", "", ""], ["P3", "Cy", "", "", "", "T-OPS", "", ""]],
    )
    before = counts(db)
    with pytest.raises(ImportRejected) as info:
        import_files(db, [org["teams"], people], actor="hr", known_teams=True)
    assert [str(i) for i in info.value.issues] == [
        "people.csv:3:team: unknown team 'T-OPS' (teams are not created with known_teams)",
        "teams.csv:2:manager_id: unknown person 'P2'",
    ]
    assert counts(db) == before
    ops = write_csv(tmp_path / "ops_people.csv", PEOPLE_H, [["P3", "Cy", "", "", "", "T-OPS", "", ""]])
    summary = import_files(db, [*all_of(org), ops], actor="hr")
    assert summary.teams_created == ["T-OPS"]
    assert teams_of(db) == {**ORG_TEAMS, "T-OPS": ("T-OPS", None, "", None)}


CYCLE = [["T-A", "A", "T-B", "", ""], ["T-B", "B", "T-C", "", ""], ["T-C", "C", "T-A", "", ""]]


@pytest.mark.parametrize(
    ("teams", "people_extra", "expected"),
    [
        (CYCLE, [], ["teams.csv:2:parent_id: parent cycle: T-A → T-B → T-C → T-A"]),
        ([["T-A", "A", "T-A", "", ""]], [], ["teams.csv:2:parent_id: parent cycle: T-A → T-A"]),
        # Through the stored tree: T-ROOT under T-ENG-9, which is under T-ENG, which is under T-ROOT.
        (
            [["T-ROOT", "Company", "T-ENG-9", "", ""]],
            [],
            ["teams.csv:2:parent_id: parent cycle: T-ENG → T-ROOT → T-ENG-9 → T-ENG"],
        ),
        (
            [["T-X", "X", "T-NOPE", "", ""]],
            [],
            ["teams.csv:2:parent_id: unknown team 'T-NOPE' (a parent is a team stored or defined in a teams file)"],
        ),
        ([["T-X", "X", "", "", "P-NOBODY"]], [], ["teams.csv:2:manager_id: unknown person 'P-NOBODY'"]),
        ([], [["P4", "Di", "", "", "", "", "", "", "R-NOPE"]], ["people.csv:2:target_role_id: unknown role 'R-NOPE'"]),
        (
            [["T-X", "X", "", "", ""], ["T-X", "X again", "", "", ""], ["", "no id", "", "", ""]],
            [],
            [
                "teams.csv:3:team_id: duplicate id 'T-X' (first on row 2)",
                "teams.csv:4:team_id: required value is empty",
            ],
        ),
        (
            [["T-X", "x" * 201, "", "f" * 101, ""], ["T-Y", "", "", "", ""]],
            [],
            [
                "teams.csv:2:function: too long: 101 characters, the database holds at most 100",
                "teams.csv:2:name: too long: 201 characters, the database holds at most 200",
                "teams.csv:3:name: required value is empty",
            ],
        ),
    ],
    ids=[
        "cycle",
        "own-parent",
        "cycle-through-stored",
        "unknown-parent",
        "unknown-manager",
        "unknown-target",
        "duplicate-id",
        "too-long",
    ],
)
def test_a_bad_team_or_target_role_rejects_the_import_and_writes_nothing(
    db: Database,
    org: dict[str, Path],
    tmp_path: Path,
    teams: list[list[str]],
    people_extra: list[list[str]],
    expected: list[str],
) -> None:
    import_files(db, all_of(org), actor="hr")
    before, stored, targets = counts(db), teams_of(db), targets_of(db)
    (tmp_path / "bad").mkdir()
    paths = [write_csv(tmp_path / "bad" / "teams.csv", TEAMS_H, teams)] if teams else []
    if people_extra:
        paths.append(write_csv(tmp_path / "bad" / "people.csv", [*PEOPLE_H, "target_role_id"], people_extra))
    # A valid people file alongside: all or nothing, it is not written either.
    paths.append(
        write_csv(tmp_path / "bad" / "more_people.csv", PEOPLE_H, [["P9", "Eve", "", "", "", "T-ENG", "", ""]])
    )
    with pytest.raises(ImportRejected) as info:
        import_files(db, paths, actor="hr")
    assert [str(i) for i in info.value.issues] == expected
    assert counts(db) == before
    assert (teams_of(db), targets_of(db)) == (stored, targets)


def test_a_teams_file_takes_only_its_columns(db: Database, tmp_path: Path) -> None:
    """teams has nowhere to keep a column beyond the format (as role_skills): refused, never dropped."""
    path = write_csv(tmp_path / "teams.csv", [*TEAMS_H, "cost_center"], [["T-X", "X", "", "", "", "CC-1"]])
    before = counts(db)
    with pytest.raises(ImportRejected) as info:
        import_files(db, [path], actor="hr")
    assert [str(i) for i in info.value.issues] == [
        "teams.csv:1:cost_center: unknown column for teams (its rows take team_id, name, parent_id, function and "
        "manager_id only)"
    ]
    assert counts(db) == before
    path = write_csv(tmp_path / "teams.csv", ["team_id", "name"], [["T-X", "X"]])
    with pytest.raises(ImportRejected) as info:
        import_files(db, [path], actor="hr")
    assert [str(i) for i in info.value.issues] == [
        "teams.csv:1:function: missing required column",
        "teams.csv:1:parent_id: missing required column",
    ]


def test_a_target_role_is_exported_and_an_empty_one_keeps_the_stored_target(
    db: Database, org: dict[str, Path], tmp_path: Path
) -> None:
    from micromoves.services import catalogue

    import_files(db, all_of(org), actor="hr")
    catalogue.set_target_role(db, person_id="P1", role_id="R-DA", actor="ada")
    out = export_csv(db, tmp_path / "out")
    with out["people"].open() as f:
        assert {r["person_id"]: r["target_role_id"] for r in csv.DictReader(f)} == {"P1": "R-DA", "P2": "R-DS"}
    with out["teams"].open() as f:
        assert list(csv.reader(f)) == [
            TEAMS_H,
            ["T-ENG", "Engineering", "T-ROOT", "engineering", "P1"],
            ["T-ENG-9", "Developer Experience", "T-ENG", "engineering", "P2"],
            ["T-ROOT", "Company", "", "executive", ""],
        ]
    # A people file without the column, or with it empty, keeps the stored targets (empty is unknown).
    people = write_csv(
        tmp_path / "people.csv",
        [*PEOPLE_H, "target_role_id"],
        [
            ["P1", "Ada Boss", "", "", "", "", "", "", ""],
            ["P2", "Bo Analyst", "", "", "", "", "", "", "R-DA"],
        ],
    )
    summary = import_files(db, [people], actor="hr")
    assert (summary.updated, summary.unchanged) == ({"people": 1}, {"people": 1})
    assert targets_of(db) == {"P1": "R-DA", "P2": "R-DA"}
    a = t.audit_events.c
    with db.engine.connect() as conn:
        changed = conn.execute(select(a.entity_id, a.details).where(a.action == "person.updated_by_import")).all()
        assert [(r.entity_id, r.details) for r in changed] == [("P2", {"changed": ["target_role_id"]})]
        assert conn.scalar(select(func.count()).select_from(t.people).where(t.people.c.extra.is_not(None))) == 0
    import_files(db, [org["people"]], actor="hr")  # the fixture's file: P2's target back to R-DS
    assert targets_of(db) == {"P1": "R-DA", "P2": "R-DS"}


def test_team_cells_a_spreadsheet_would_run_are_guarded_and_import_back_unchanged(db: Database, tmp_path: Path) -> None:
    teams = write_csv(
        tmp_path / "teams.csv",
        TEAMS_H,
        [["=T1", '=HYPERLINK("http://evil")', "", "-ops", ""], ["T2", "'quoted", "=T1", "", ""]],
    )
    import_files(db, [teams], actor="hr")
    stored = teams_of(db)
    assert stored == {"=T1": ('=HYPERLINK("http://evil")', None, "-ops", None), "T2": ("'quoted", "=T1", "", None)}
    out = export_csv(db, tmp_path / "out", kinds=["teams"])["teams"]
    with out.open() as f:
        assert list(csv.reader(f))[1:] == [
            ["'=T1", '\'=HYPERLINK("http://evil")', "", "'-ops", ""],
            ["T2", "'quoted", "'=T1", "", ""],
        ]
    summary = import_files(db, [out], actor="hr")
    assert (summary.updated, summary.unchanged) == ({"teams": 0}, {"teams": 2})
    assert teams_of(db) == stored
