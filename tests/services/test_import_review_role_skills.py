"""A role lists each skill once, however the files name it (on PostgreSQL the upsert of one role skill
twice failed with "ON CONFLICT DO UPDATE command cannot affect row a second time", a traceback or a 500;
SQLite kept the last row and counted two role skills created)."""

from __future__ import annotations

from pathlib import Path

from micromoves.services.importing import import_files
from micromoves.storage.db import Database
from tests.services.test_importing import all_files, files, rejected, write_csv

__all__ = ["files"]

RS_H = ["role_id", "skill", "level"]


def test_one_skill_by_its_name_and_its_element_id_is_listed_twice(
    db: Database, files: dict[str, Path], tmp_path: Path
) -> None:
    import_files(db, all_files(files), actor="hr")
    (tmp_path / "new").mkdir()
    role_skills = write_csv(
        tmp_path / "new" / "role_skills.csv",
        RS_H,
        [["R-DA", "Programming", 3], ["R-DA", "2.B.3.e", 4], ["R-DS", "2.B.3.e", 5]],
    )
    assert rejected(db, [role_skills]) == [
        "role_skills.csv:3:skill: skill '2.B.3.e' listed twice for role R-DA (first on row 2, as 'Programming')",
    ]


def test_one_skill_in_two_role_skills_files_is_listed_twice(db: Database, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    roles = write_csv(tmp_path / "roles.csv", ["role_id", "title", "onet_code", "level", "team", "critical"],
                      [["R-DA", "Data Analyst", "", 2, "", "false"]])  # fmt: skip
    first = write_csv(tmp_path / "a" / "role_skills.csv", RS_H, [["R-DA", "Programming", 3]])
    second = write_csv(tmp_path / "b" / "role_skills.csv", RS_H, [["R-DA", "programming", 5]])
    assert rejected(db, [roles, first, second]) == [
        f"{tmp_path / 'b' / 'role_skills.csv'}:2:skill: skill 'programming' listed twice for role R-DA "
        f"(first in {tmp_path / 'a' / 'role_skills.csv'} on row 2, as 'Programming')",
    ]
