"""Every date of every import file is a day in the years a record may hold (1900–2199, rules.calendar_problem).
A moves file read its YYYY-MM-DD dates on a fast path that skipped that check: a move dated 0202-01-06 (a
typo'd 2026) was stored in the year 202, while the same date as a hire date was refused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select

from micromoves.services.importing import import_files
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_importing import MOVES_H, PEOPLE_H, write_csv
from tests.services.test_importing import rejected as rejected_on

TODAY = dt.date(2026, 6, 1)
PEOPLE = [["P1", "Ada", "", "", "", "DATA", "2019-04-01", ""], ["P2", "Bo", "", "", "", "DATA", "", ""]]


def move(mid: str, start: str, end: str, status: str = "proposed") -> list[object]:
    return [mid, "P1", "gig", "Gig", "", start, end, 10, status, "", "c", "end" if status == "completed" else "", ""]


def rejected(db: Database, paths: list[Path]) -> list[str]:
    return rejected_on(db, paths, today=TODAY)


def test_a_moves_file_refuses_a_date_outside_the_years_a_record_may_hold(db: Database, tmp_path: Path) -> None:
    """Start and end alike, each named by row and column, next to a move in range (which, alone, imports)."""
    people = write_csv(tmp_path / "people.csv", PEOPLE_H, PEOPLE)
    moves = write_csv(
        tmp_path / "moves.csv",
        MOVES_H,
        [
            move("M1", "0202-01-06", "0202-02-27", "completed"),
            move("M2", "2026-01-05", "2026-02-27", "completed"),
            move("M3", "2199-12-01", "2200-01-30"),
            move("M4", "1899-12-25", "1900-01-26", "completed"),
        ],
    )
    assert rejected(db, [people, moves]) == [
        "moves.csv:2:end: 0202-02-27 is outside the years 1900–2199",
        "moves.csv:2:start: 0202-01-06 is outside the years 1900–2199",
        "moves.csv:4:end: 2200-01-30 is outside the years 1900–2199",
        "moves.csv:5:start: 1899-12-25 is outside the years 1900–2199",
    ]
    # The edges are in range, and a file without the bad rows imports.
    ok = write_csv(
        tmp_path / "ok.csv",
        MOVES_H,
        [move("M2", "2026-01-05", "2026-02-27", "completed"), move("M5", "2199-12-01", "2199-12-31")],
    )
    import_files(db, [people, ok], actor="hr", today=TODAY, kinds={ok: "moves"})
    with db.engine.connect() as conn:
        assert dict(conn.execute(select(t.moves.c.id, t.moves.c.start)).all()) == {
            "M2": dt.date(2026, 1, 5),
            "M5": dt.date(2199, 12, 1),
        }


def test_a_json_document_refuses_dates_outside_the_years_in_every_dated_field(db: Database, tmp_path: Path) -> None:
    """The dated fields of the format, a person's hire date and a move's start and end, in a .json too."""
    people = [
        {"person_id": "P1", "name": "Ada", "team": "DATA", "hire_date": "1899-12-31", "location": ""},
        {"person_id": "P2", "name": "Bo", "team": "DATA", "hire_date": "1900-01-01", "location": ""},
    ]
    moves = [
        {
            "move_id": "M1",
            "person_id": "P2",
            "kind": "gig",
            "title": "Gig",
            "start": "0026-03-02",
            "end": "2026-03-27",
            "percent_time": 10,
            "status": "proposed",
            "success_criteria": ["c"],
            "criteria_ratings": "",
        }
    ]
    org = tmp_path / "org.json"
    org.write_text(json.dumps({"people": people, "moves": moves}))
    assert rejected(db, [org]) == [
        "org.json#moves:1:start: 0026-03-02 is outside the years 1900–2199",
        "org.json#people:1:hire_date: 1899-12-31 is outside the years 1900–2199",
    ]
