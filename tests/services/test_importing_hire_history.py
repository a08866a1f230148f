"""A hire date corrected by a re-import moves the hire in the person's role history with it. The import stored
the new hire date on the person and left the role history's "hire" record at the old date, so the history said
they were hired on the day the HRIS had since corrected. A correction that would put the hire after a later
role change the history already has (a promotion, a transfer, a conversion, a revert) is refused, naming the
file, row and field, with nothing written, as one after a stored move's start is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from micromoves.domain.model import AssignmentReason
from micromoves.services import org
from micromoves.services.importing import import_files
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_importing import PEOPLE_H, ROLES_H, rejected, write_csv

ROLES = [["R1", "Analyst", "", 1, "", "false"], ["R2", "Senior Analyst", "", 2, "", "false"]]
HIRED = dt.date(2020, 1, 6)
PROMOTED = dt.date(2024, 3, 1)
TODAY = dt.date(2026, 6, 1)
History = list[tuple[str, dt.date, dt.date | None, AssignmentReason]]


def _history(db: Database, pid: str) -> History:
    return sorted((a.role_id, a.start, a.end, a.reason) for a in org.person_overview(db, pid).assignments)


def _hire_dates(db: Database) -> dict[str, dt.date]:
    with db.engine.connect() as conn:
        return dict(conn.execute(select(t.people.c.id, t.people.c.hire_date)).all())


def _person(pid: str, role: str, hired: dt.date | str) -> list[object]:
    day = hired.isoformat() if isinstance(hired, dt.date) else hired
    return [pid, f"Person {pid}", f"{pid.lower()}@example.org", role, "", "", day, ""]


def _import(db: Database, folder: Path, rows: list[list[object]], *, today: dt.date = TODAY) -> None:
    folder.mkdir()
    import_files(db, [write_csv(folder / "people.csv", PEOPLE_H, rows)], actor="hr", today=today)


def _set_up(db: Database, tmp_path: Path) -> None:
    """P1 hired into R1 and still in it; P2 hired into R1 and promoted to R2 on PROMOTED; P3 a pre-hire."""
    roles = write_csv(tmp_path / "roles.csv", ROLES_H, ROLES)
    people = [_person("P1", "R1", HIRED), _person("P2", "R1", HIRED), _person("P3", "R1", "2026-07-01")]
    import_files(db, [roles, write_csv(tmp_path / "people.csv", PEOPLE_H, people)], actor="hr", today=TODAY)
    _import(db, tmp_path / "promoted", [_person("P2", "R2", HIRED)], today=PROMOTED)
    assert _history(db, "P2") == [
        ("R1", HIRED, PROMOTED, AssignmentReason.HIRE),
        ("R2", PROMOTED, None, AssignmentReason.PROMOTION),
    ]


def test_a_corrected_hire_date_moves_the_hire_in_the_role_history(db: Database, tmp_path: Path) -> None:
    _set_up(db, tmp_path)
    earlier, later = dt.date(2019, 9, 2), dt.date(2020, 2, 3)
    rows = [_person("P1", "R1", earlier), _person("P2", "R2", later), _person("P3", "R1", "2026-08-03")]
    _import(db, tmp_path / "corrected", rows)
    assert _hire_dates(db) == {"P1": earlier, "P2": later, "P3": dt.date(2026, 8, 3)}
    assert _history(db, "P1") == [("R1", earlier, None, AssignmentReason.HIRE)]
    # The promotion stays where it was; only the hire moves.
    assert _history(db, "P2") == [
        ("R1", later, PROMOTED, AssignmentReason.HIRE),
        ("R2", PROMOTED, None, AssignmentReason.PROMOTION),
    ]
    # A pre-hire's start moved: hired on the new day, still ahead.
    assert _history(db, "P3") == [("R1", dt.date(2026, 8, 3), None, AssignmentReason.HIRE)]
    # Up to the day of the promotion: hired and promoted the same day, as the tracker records a conversion
    # on a person's first day.
    _import(db, tmp_path / "same_day", [_person("P2", "R2", PROMOTED)])
    assert _history(db, "P2") == [
        ("R1", PROMOTED, PROMOTED, AssignmentReason.HIRE),
        ("R2", PROMOTED, None, AssignmentReason.PROMOTION),
    ]


def test_a_hire_date_corrected_with_a_new_role_moves_the_hire_first(db: Database, tmp_path: Path) -> None:
    """A row correcting a hire date into the future (the person starts later than the HRIS said: a pre-hire)
    and changing the role: the role is the one they are hired into, as for any pre-hire's new role."""
    _set_up(db, tmp_path)
    _import(db, tmp_path / "later", [_person("P1", "R2", "2026-07-06")])
    assert _history(db, "P1") == [("R2", dt.date(2026, 7, 6), None, AssignmentReason.HIRE)]


def test_a_hire_date_after_a_later_role_change_is_refused_with_nothing_written(db: Database, tmp_path: Path) -> None:
    _set_up(db, tmp_path)
    before = (_hire_dates(db), _history(db, "P1"), _history(db, "P2"))
    (tmp_path / "after").mkdir()
    # P1 beside it is a correction that would be taken: the whole import is refused.
    rows = [_person("P1", "R1", "2019-09-02"), _person("P2", "R2", "2024-03-04")]
    people = write_csv(tmp_path / "after" / "people.csv", PEOPLE_H, rows)
    assert rejected(db, [people], today=TODAY) == [
        "people.csv:3:hire_date: a hire date cannot be after the person's promotion to R2 on 2024-03-01 in "
        "their role history: 2024-03-04"
    ]
    assert (_hire_dates(db), _history(db, "P1"), _history(db, "P2")) == before
    # Into the future (a pre-hire's date) too: the history says they were promoted already.
    people = write_csv(tmp_path / "after" / "people.csv", PEOPLE_H, [_person("P2", "R2", "2026-07-06")])
    assert rejected(db, [people], today=TODAY) == [
        "people.csv:2:hire_date: a hire date cannot be after the person's promotion to R2 on 2024-03-01 in "
        "their role history: 2026-07-06"
    ]
    assert (_hire_dates(db), _history(db, "P1"), _history(db, "P2")) == before
