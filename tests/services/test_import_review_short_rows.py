"""A CSV row with fewer cells than the header is refused, as one with more cells is: it was padded with empty
cells and taken, so a row cut short (a cell lost to a missing comma shifts every value after it left) imported
what it still held, and an empty cell of a column beyond the format cleared the stored value (a person's cost
centre gone, without a word). A header's trailing comma (a column without a name) needs no cell."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from micromoves.services.importing import import_files
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_importing import PEOPLE_H, rejected

HEADER = ",".join([*PEOPLE_H, "cost_center"])


def test_a_row_with_fewer_cells_than_the_header_is_refused(db: Database, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(f"{HEADER}\nP1,Ada,ada@example.org,,,,2019-04-01,Berlin,CC-1\n")
    import_files(db, [people], actor="hr")
    (tmp_path / "b").mkdir()
    short = tmp_path / "b" / "people.csv"
    short.write_text(f"{HEADER}\nP1,Ada,ada@example.org,,,,2019-04-01,Berlin\nP2,Bo\n")
    assert rejected(db, [short]) == [
        "people.csv:2:-: 8 cells but the header has 9 columns",
        "people.csv:3:-: 2 cells but the header has 9 columns",
    ]
    with db.engine.connect() as conn:
        assert conn.scalar(select(t.people.c.extra).where(t.people.c.id == "P1")) == {"cost_center": "CC-1"}


def test_a_trailing_comma_of_the_header_alone_needs_no_cell(db: Database, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(f"{HEADER},\nP1,Ada,ada@example.org,,,,2019-04-01,Berlin,CC-1\nP2,Bo,,,,,,,,\n")
    summary = import_files(db, [people], actor="hr")
    assert summary.created == {"people": 2}
