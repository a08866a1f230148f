"""Opening a SQLite database that is not there."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from micromoves.cli.main import app
from micromoves.storage.db import Database


def test_a_command_on_a_missing_database_leaves_nothing_behind(tmp_path: Path) -> None:
    """`micromoves --db typo/x.sqlite3 people list` said 'no micromoves database …; run `micromoves init`
    first' and yet created the directory and an empty database file there (a mistyped path, or any command
    before `init`, left them behind); `init` creates them."""
    path = tmp_path / "typo" / "deeper" / "x.sqlite3"
    result = CliRunner().invoke(app, ["--db", str(path), "people", "list"])
    assert result.exit_code == 2 and "run `micromoves init` first" in result.output
    assert not (tmp_path / "typo").exists()
    db = Database(f"sqlite:///{path}")
    assert not db.is_initialised()
    db.dispose()
    assert not (tmp_path / "typo").exists()
    result = CliRunner().invoke(app, ["--db", str(path), "init"])
    assert result.exit_code == 0, result.output
    assert path.is_file()
