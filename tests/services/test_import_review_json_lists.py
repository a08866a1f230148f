"""A JSON array's element is one value: one holding ';' (the separator of the CSV's lists) was split into two
success criteria (or ratings, or gains) without a word, where the app refuses a criterion with ';' and the
CSV cannot hold one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from micromoves.services.importing import ImportRejected, import_files
from micromoves.storage.db import Database
from tests.services.test_importing import counts

PERSON = {"person_id": "P1", "name": "Ada", "hire_date": "2020-01-06"}
MOVE = {
    "move_id": "M1",
    "person_id": "P1",
    "kind": "gig",
    "title": "Gig",
    "start": "2025-01-06",
    "end": "2025-02-28",
    "percent_time": 10,
    "status": "completed",
    "outcome": "end",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("success_criteria", ["Ship v1; then v2"]),
        ("criteria_ratings", ["met;met"]),
        ("skills_gained", [{"skill": "Programming", "from": 1, "to": "2;Writing:1>2"}]),
    ],
)
def test_an_array_element_holding_a_semicolon_is_refused(
    db: Database, tmp_path: Path, field: str, value: list[object]
) -> None:
    move = {"success_criteria": ["Ship v1"], **MOVE, field: value}
    path = tmp_path / "org.json"
    path.write_text(json.dumps({"people": [PERSON], "moves": [move]}))
    with pytest.raises(ImportRejected) as refused:
        import_files(db, [path], actor="hr")
    [issue] = refused.value.issues
    assert (issue.file, issue.row, issue.column) == ("org.json#moves", 1, field)
    assert "';'" in issue.message
    assert counts(db)["moves"] == 0
