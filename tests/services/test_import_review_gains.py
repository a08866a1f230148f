"""A move gains each skill once, as a review in the app does ("given twice in gains"): an import took
``Programming:2>3;Programming:2>4`` (or the skill by its name and its element id) and wrote both gains and
two profile assessments of the skill on the same day, one of them at the wrong level."""

from __future__ import annotations

from pathlib import Path

from micromoves.services.importing import import_files
from micromoves.storage.db import Database
from tests.services.test_importing import MOVES_H, all_files, files, rejected, write_csv

__all__ = ["files"]


def test_a_skill_gained_twice_by_one_move_is_refused(db: Database, files: dict[str, Path], tmp_path: Path) -> None:
    import_files(db, all_files(files), actor="hr")
    (tmp_path / "new").mkdir()
    row = ["P2", "gig", "G", "DATA", "2025-05-05", "2025-06-06", 10, "completed", "", "Ship it", "end"]
    moves = write_csv(
        tmp_path / "new" / "moves.csv",
        MOVES_H,
        [
            ["MV8", *row, "Programming:2>3;Critical Thinking:1>2;programming:2>4"],
            ["MV9", *row, "Programming:3>4;2.B.3.e:3>4"],
            ["MV10", *row, "Programming:4>5;Critical Thinking:2>3"],
            ["MV11", *row, "Programming:4>5;Programming:4>5"],
        ],
    )
    assert rejected(db, [moves]) == [
        "moves.csv:2:skills_gained: skill 'programming' is gained twice (also as 'Programming')",
        "moves.csv:3:skills_gained: skill '2.B.3.e' is gained twice (also as 'Programming')",
        "moves.csv:5:skills_gained: skill 'Programming' is gained twice",
    ]
