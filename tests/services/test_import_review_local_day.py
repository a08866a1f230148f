"""A role change an import makes is dated the local day, as the tracker dates one (``today``, the local date
import_files is given), not the UTC date of the clock: an import run in the evening west of Greenwich (past
midnight UTC) started the new role, and ended the old one, tomorrow; a new person without a hire date was hired
tomorrow."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from micromoves.services.importing import import_files
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_importing import PEOPLE_H, ROLES_H, write_csv

ROLES = [["R1", "Analyst", "", 1, "", "false"], ["R2", "Senior Analyst", "", 2, "", "false"]]


def _assignments(db: Database) -> list[tuple[str, str, dt.date, dt.date | None]]:
    a = t.role_assignments.c
    with db.engine.connect() as conn:
        rows = conn.execute(select(a.person_id, a.role_id, a.start, a.end).order_by(a.person_id, a.start, a.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_role_changes_are_dated_the_local_day(db: Database, tmp_path: Path) -> None:
    local = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)  # the day it still is west of Greenwich
    roles = write_csv(tmp_path / "roles.csv", ROLES_H, ROLES)
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, [["P1", "Ada", "", "R1", "", "", "2020-01-06", ""]])
    import_files(db, [roles, people], actor="hr", today=local)
    (tmp_path / "b").mkdir()
    again = write_csv(
        tmp_path / "b" / "people.csv",
        PEOPLE_H,
        [["P1", "Ada", "", "R2", "", "", "2020-01-06", ""], ["P2", "Bo", "", "R1", "", "", "", ""]],
    )
    import_files(db, [again], actor="hr", today=local)
    assert _assignments(db) == [
        ("P1", "R1", dt.date(2020, 1, 6), local),
        ("P1", "R2", local, None),
        ("P2", "R1", local, None),
    ]
