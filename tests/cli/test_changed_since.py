"""--changed-since on `people list`, `moves list` and `export`: the API's ?changed_since= on the command line,
read and refused as the API reads and refuses it, and filtering as the API's lists filter (a record whose last
change is not known counts as changed)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from micromoves.cli.main import app
from micromoves.storage import tables as t
from micromoves.storage.db import Database

runner = CliRunner()
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
LATER = dt.datetime(2030, 6, 1, 12, 0, tzinfo=dt.UTC)
MOVES = (
    "move_id,person_id,kind,title,host_team,start,end,percent_time,status,target_role_id,success_criteria,"
    "outcome,skills_gained\n"
    "M1,P1,gig,Pricing study,DATA,2025-01-06,2025-02-28,20,completed,,Study shared,end,\n"
    "M2,P2,gig,Churn model,DATA,2025-03-03,2025-04-25,20,completed,,Model shipped,end,\n"
    "M3,P2,gig,Data catalogue,DATA,2025-05-05,2025-06-27,20,completed,,Catalogue live,end,\n"
)


def mm(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def org(db_url: str, tmp_path: Path) -> str:
    """Three people and three moves; P2 and the move M2 changed LATER, M3's last change is not known, the
    rest changed LONG_AGO."""
    (tmp_path / "people.csv").write_text(
        "person_id,name,email,role_id,manager_id,team,hire_date,location\n"
        "P1,Ada Boss,ada@x.org,,,DATA,2020-01-01,Berlin\n"
        "P2,Bo Analyst,bo@x.org,,P1,DATA,2023-01-01,Porto\n"
        "P3,Cy Coder,cy@x.org,,P1,DATA,2023-01-01,Porto\n"
    )
    (tmp_path / "moves.csv").write_text(MOVES)
    code, _, err = mm(db_url, "import", str(tmp_path / "people.csv"), str(tmp_path / "moves.csv"))
    assert code == 0, err
    db = Database(db_url)
    try:
        with db.write_engine.begin() as conn:
            conn.execute(update(t.people).values(updated_at=LONG_AGO))
            conn.execute(update(t.people).where(t.people.c.id == "P2").values(updated_at=LATER))
            conn.execute(update(t.moves).values(updated_at=LONG_AGO))
            conn.execute(update(t.moves).where(t.moves.c.id == "M2").values(updated_at=LATER))
            conn.execute(update(t.moves).where(t.moves.c.id == "M3").values(updated_at=None))
    finally:
        db.dispose()
    return db_url


def _ids(db_url: str, what: str, *args: str) -> list[str]:
    code, out, err = mm(db_url, what, "list", "--json", *args)
    assert code == 0, err
    return sorted(x["id"] for x in json.loads(out))


def test_the_lists_take_changed_since(org: str) -> None:
    assert _ids(org, "people") == ["P1", "P2", "P3"]
    assert _ids(org, "people", "--changed-since", "2030-01-01T00:00:00Z") == ["P2"]
    # At or after, in any time zone: 14:00 in Berlin's summer time is LATER.
    assert _ids(org, "people", "--changed-since", "2030-06-01T14:00:00+02:00") == ["P2"]
    assert _ids(org, "people", "--changed-since", "2030-06-01T14:00:01+02:00") == []
    # With the other filters
    assert _ids(org, "people", "--changed-since", "2030-01-01T00:00:00Z", "--manager", "P1") == ["P2"]
    assert _ids(org, "people", "--changed-since", "2030-01-01T00:00:00Z", "--search", "ada") == []
    # A move whose last change is not known is always among the changed ones.
    assert _ids(org, "moves", "--changed-since", "2030-01-01T00:00:00Z") == ["M2", "M3"]
    assert _ids(org, "moves", "--changed-since", "2031-01-01T00:00:00Z") == ["M3"]
    assert _ids(org, "moves", "--changed-since", "2030-01-01T00:00:00Z", "--person", "P2") == ["M2", "M3"]
    # Each record says when it changed, as the API writes it, so the next pull can start from it.
    code, out, _ = mm(org, "moves", "list", "--json", "--changed-since", "2030-01-01T00:00:00Z")
    assert {m["id"]: m["updated_at"] for m in json.loads(out)} == {"M2": "2030-06-01T12:00:00Z", "M3": None}
    code, out, _ = mm(org, "people", "list", "--json", "--changed-since", "2030-01-01T00:00:00Z")
    assert [p["updated_at"] for p in json.loads(out)] == ["2030-06-01T12:00:00Z"]
    # The table too
    code, out, err = mm(org, "people", "list", "--changed-since", "2030-01-01T00:00:00Z")
    assert code == 0 and "Bo Analyst" in out and "Ada Boss" not in out and "1 shown" in out, err


@pytest.mark.parametrize("command", [["people", "list"], ["moves", "list"], ["export", "out"]])
def test_a_time_without_a_zone_or_out_of_range_is_refused(org: str, tmp_path: Path, command: list[str]) -> None:
    if command[0] == "export":
        command = ["export", str(tmp_path / "out")]
    for value, why in [
        ("2026-11-27T08:00:00", "timezone"),
        ("2026-11-27", "timezone"),
        ("0001-01-01T00:00:00+01:00", "out of range once in UTC"),
        ("last tuesday", "valid datetime"),
    ]:
        code, out, err = mm(org, *command, "--changed-since", value)
        assert code == 2, (command, value, out, err)
        assert err.startswith(f"error: --changed-since: {value!r}: ") and why in err, err
        assert "2026-11-27T08:00:00Z" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_help_documents_the_option() -> None:
    for command in (["people", "list"], ["moves", "list"], ["export"]):
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0 and "--changed-since" in result.stdout, result.stdout


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_export_writes_the_people_and_moves_changed_since(org: str, tmp_path: Path) -> None:
    out = tmp_path / "delta"
    code, _, err = mm(org, "export", str(out), "--changed-since", "2030-01-01T00:00:00Z")
    assert code == 0, err
    assert [r["person_id"] for r in _csv(out / "people.csv")] == ["P2"]
    moves = _csv(out / "moves.csv")
    assert [r["move_id"] for r in moves] == ["M2", "M3"]
    # Each move with its own criteria and review, not a neighbour's (the children are filtered alike).
    assert [(r["success_criteria"], r["outcome"]) for r in moves] == [
        ("Model shipped", "end"),
        ("Catalogue live", "end"),
    ]
    # Teams keep no change time: written whole, so the delta imports back on its own.
    assert [r["team_id"] for r in _csv(out / "teams.csv")] == ["DATA"]
    # Without the option, everything
    code, _, err = mm(org, "export", str(tmp_path / "all"))
    assert code == 0, err
    assert len(_csv(tmp_path / "all" / "people.csv")) == 3 and len(_csv(tmp_path / "all" / "moves.csv")) == 3
    # The JSON export alike
    doc = tmp_path / "delta.json"
    code, _, err = mm(org, "export", str(doc), "--changed-since", "2031-01-01T00:00:00+00:00")
    assert code == 0, err
    data = json.loads(doc.read_text())
    assert data["people"] == [] and [m["move_id"] for m in data["moves"]] == ["M3"]
    assert [m["success_criteria"] for m in data["moves"]] == [["Catalogue live"]]
    # The delta imports back (into the database it came from: unchanged).
    code, stdout, err = mm(org, "import", str(out / "people.csv"), str(out / "moves.csv"))
    assert code == 0 and "people: 0 created, 0 updated, 1 unchanged" in stdout, (stdout, err)
