"""A pre-hire's role changed by an import before their start is the role they are hired into: the import ended
the hire's assignment today, before it started (an assignment ending before its start), and recorded a promotion
to the new role from today, weeks before the person joins."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from micromoves.domain.model import AssignmentReason
from micromoves.services import org
from micromoves.services.importing import import_files
from micromoves.storage.db import Database
from tests.services.test_importing import PEOPLE_H, ROLES_H, write_csv

TODAY = dt.date(2026, 6, 1)
HIRED = dt.date(2026, 7, 1)
ROLES = [["R1", "Analyst", "", 1, "", "false"], ["R2", "Senior Analyst", "", 2, "", "false"]]


def _history(db: Database, pid: str) -> list[tuple[str, dt.date, dt.date | None, AssignmentReason]]:
    return sorted((a.role_id, a.start, a.end, a.reason) for a in org.person_overview(db, pid).assignments)


def test_a_pre_hires_new_role_is_the_role_they_are_hired_into(db: Database, tmp_path: Path) -> None:
    roles = write_csv(tmp_path / "roles.csv", ROLES_H, ROLES)
    hired = HIRED.isoformat()
    people = [["P1", "Ada", "", "R1", "", "", hired, ""], ["P2", "Bo", "", "R1", "", "", "2020-01-06", ""]]
    people.append(["P3", "Cy", "", "", "", "", hired, ""])  # a pre-hire whose role the HRIS does not know yet
    import_files(db, [roles, write_csv(tmp_path / "people.csv", PEOPLE_H, people)], actor="hr", today=TODAY)
    (tmp_path / "b").mkdir()
    people = [["P1", "Ada", "", "R2", "", "", hired, ""], ["P2", "Bo", "", "R2", "", "", "2020-01-06", ""]]
    people.append(["P3", "Cy", "", "R1", "", "", hired, ""])
    import_files(db, [write_csv(tmp_path / "b" / "people.csv", PEOPLE_H, people)], actor="hr", today=TODAY)
    assert _history(db, "P1") == [("R2", HIRED, None, AssignmentReason.HIRE)]
    assert _history(db, "P3") == [("R1", HIRED, None, AssignmentReason.HIRE)]
    # Someone who has started changes role as before: the old one ends today, the new one starts.
    assert _history(db, "P2") == [
        ("R1", dt.date(2020, 1, 6), TODAY, AssignmentReason.HIRE),
        ("R2", TODAY, None, AssignmentReason.PROMOTION),
    ]
