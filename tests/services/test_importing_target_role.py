"""A people import that changes a person's target role forgets what a seat was worth to their plan, as the app
does (catalogue.set_target_role): their live applications (applied, waitlisted, offered) carried a
``plan_benefit_weeks`` weighed towards the previous target, which the allocation and the host rank by. Before,
only the app cleared it; an HRIS sync moving someone's target left the figures in place."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from micromoves.services.importing import ImportRejected, import_files
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_importing import PEOPLE_H, ROLES_H, updates, write_csv

TARGET_H = [*PEOPLE_H, "target_role_id"]
ROLES = [
    ["R-DA", "Data Analyst", "15-2051.01", 2, "DATA", "false"],
    ["R-DS", "Data Scientist", "15-2051.00", 3, "DATA", "true"],
]


def person(pid: str, target: str, location: str = "Berlin") -> list[object]:
    return [pid, f"Person {pid}", f"{pid.lower()}@example.org", "R-DA", "", "DATA", "2020-01-06", location, target]


def benefits(db: Database) -> dict[str, int | None]:
    """``opportunity:person`` → the application's plan benefit."""
    a = t.applications.c
    with db.engine.connect() as conn:
        return dict(conn.execute(select(a.opportunity_id + ":" + a.person_id, a.plan_benefit_weeks)).all())


def targets(db: Database) -> dict[str, str | None]:
    with db.engine.connect() as conn:
        return dict(conn.execute(select(t.people.c.id, t.people.c.target_role_id)).all())


@pytest.fixture
def applied(db: Database, tmp_path: Path) -> dict[str, int]:
    """P1, P2 and P3 aim at R-DS. P1 applied to OPP-1, holds an offer of OPP-2 and was rejected by OPP-3; P2 is
    waitlisted for OPP-1 and P3 applied to it: each with the weeks the seat saves them. Returns the
    applications' ids by ``opportunity:person``."""
    roles = write_csv(tmp_path / "roles.csv", ROLES_H, ROLES)
    people = write_csv(tmp_path / "people.csv", TARGET_H, [person(p, "R-DS") for p in ("P1", "P2", "P3")])
    import_files(db, [roles, people], actor="hr")
    monday = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday())
    now = dt.datetime.now(dt.UTC)
    rows = [
        ("OPP-1", "P1", "applied", 4),
        ("OPP-2", "P1", "offered", 6),
        ("OPP-3", "P1", "rejected", 3),
        ("OPP-1", "P2", "waitlisted", 5),
        ("OPP-1", "P3", "applied", 2),
    ]
    with db.write_engine.begin() as conn:
        for oid in ("OPP-1", "OPP-2", "OPP-3"):
            conn.execute(
                t.opportunities.insert().values(
                    id=oid,
                    title=f"Stretch {oid}",
                    kind="stretch_assignment",
                    host_team_id="DATA",
                    start=monday,
                    end=monday + dt.timedelta(weeks=4, days=-1),
                    percent_time=20,
                    seats=1,
                    status="open",
                    created_by="hr",
                    created_at=now,
                )
            )
        ids = {}
        for oid, pid, status, weeks in rows:
            ids[f"{oid}:{pid}"] = conn.execute(
                t.applications.insert()
                .values(opportunity_id=oid, person_id=pid, status=status, applied_at=now, plan_benefit_weeks=weeks)
                .returning(t.applications.c.id)
            ).scalar_one()
    return ids


def test_an_imported_target_change_forgets_the_plan_benefits_of_live_applications(
    db: Database, tmp_path: Path, applied: dict[str, int]
) -> None:
    """P1's target moves to R-DA: the applied and the offered application forget their weeks (the rejected
    one keeps what the seat was worth then), and P1's audit event keeps the figures cleared, under the key the
    app's event uses. P2's row leaves the target empty (unknown: kept) and changes the location; P3's gives the
    same target: both keep their benefits, and P2's event says nothing of benefits."""
    people = write_csv(
        tmp_path / "people.csv",
        TARGET_H,
        [person("P1", "R-DA"), person("P2", "", location="Lisbon"), person("P3", "R-DS")],
    )
    summary = import_files(db, [people], actor="hr")
    assert (summary.updated["people"], summary.unchanged["people"]) == (2, 1)
    assert targets(db) == {"P1": "R-DA", "P2": "R-DS", "P3": "R-DS"}
    assert benefits(db) == {
        "OPP-1:P1": None,
        "OPP-2:P1": None,
        "OPP-3:P1": 3,
        "OPP-1:P2": 5,
        "OPP-1:P3": 2,
    }
    events: dict[str, Any] = dict(updates(db, "person"))
    assert events == {
        "P1": {
            "changed": ["target_role_id"],
            "plan_benefits_cleared": {str(applied["OPP-1:P1"]): 4, str(applied["OPP-2:P1"]): 6},
        },
        "P2": {"changed": ["location"]},
    }
    # Changed again, with nothing left to clear: the event names the change alone, as the app's does.
    again = write_csv(tmp_path / "again.csv", TARGET_H, [person("P1", "R-DS")])
    import_files(db, [again], actor="hr", kinds={again: "people"})
    p1 = [details for pid, details in updates(db, "person") if pid == "P1"]
    assert p1[-1] == {"changed": ["target_role_id"]}
    assert benefits(db)["OPP-3:P1"] == 3


def test_an_import_forgets_plan_benefits_in_one_select_and_one_update_per_chunk_of_people(
    db: Database, tmp_path: Path, applied: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync retargeting tens of thousands of people asked about each one in turn: a SELECT and an UPDATE per
    person. Now one of each per chunk of people (2 here, as if the chunk were 5,000), each person's audit
    event keeping the weeks cleared of their applications. The UPDATE listed the application ids the SELECT
    found, any number of them (past SQLite's limit on bound parameters): it now repeats the SELECT's filter."""
    from micromoves.services import catalogue

    monkeypatch.setattr(catalogue, "CHUNK", 2, raising=False)  # raising: absent before the chunks
    statements: list[str] = []
    wheres: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if " applications" in statement:
            statements.append(statement.split()[0].upper())
            wheres.append(statement.split("WHERE", 1)[1])

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        people = write_csv(tmp_path / "people.csv", TARGET_H, [person(p, "R-DA") for p in ("P1", "P2", "P3")])
        assert import_files(db, [people], actor="hr").updated == {"people": 3}
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert statements == ["SELECT", "UPDATE", "SELECT", "UPDATE"]
    # The UPDATE picks the rows as the SELECT did (people of the chunk, live, with a benefit), not by a list of
    # application ids: as many as the chunk's people have, it could pass SQLite's limit on bound parameters.
    for where in wheres[1::2]:
        assert "applications.person_id" in where and "applications.id " not in where, where
    assert benefits(db) == {"OPP-1:P1": None, "OPP-2:P1": None, "OPP-3:P1": 3, "OPP-1:P2": None, "OPP-1:P3": None}
    cleared = {pid: details["plan_benefits_cleared"] for pid, details in updates(db, "person")}
    assert cleared == {
        "P1": {str(applied["OPP-1:P1"]): 4, str(applied["OPP-2:P1"]): 6},
        "P2": {str(applied["OPP-1:P2"]): 5},
        "P3": {str(applied["OPP-1:P3"]): 2},
    }


def test_a_rejected_import_forgets_no_plan_benefit(db: Database, tmp_path: Path, applied: dict[str, int]) -> None:
    """The same change, with another row of the file invalid: nothing is written, the benefits included."""
    before = benefits(db)
    people = write_csv(
        tmp_path / "people.csv",
        TARGET_H,
        [person("P1", "R-DA"), person("P2", "R-NOPE")],
    )
    with pytest.raises(ImportRejected) as info:
        import_files(db, [people], actor="hr")
    assert [str(i) for i in info.value.issues] == ["people.csv:3:target_role_id: unknown role 'R-NOPE'"]
    assert benefits(db) == before and before["OPP-1:P1"] == 4
    assert targets(db) == {"P1": "R-DS", "P2": "R-DS", "P3": "R-DS"}
    assert updates(db, "person") == []
