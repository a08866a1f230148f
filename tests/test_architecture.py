"""The domain, planning and allocation layers stay pure: no storage, web, CLI or service imports (static check)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "micromoves"
FORBIDDEN = (
    "micromoves.storage",
    "micromoves.services",
    "micromoves.cli",
    "micromoves.web",
    "sqlalchemy",
    "fastapi",
    "typer",
    "rich",
    "alembic",
    "psycopg",
)
PURE_PACKAGES = ["domain", "planning", "taxonomy", "allocation"]


def imported_modules(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_packages_import_no_io_layers(package: str) -> None:
    folder = SRC / package
    if not folder.exists():
        pytest.skip(f"{package}/ does not exist yet")
    offenders = [
        f"{path.relative_to(SRC)} imports {mod}"
        for path in sorted(folder.rglob("*.py"))
        for mod in imported_modules(path)
        if mod.startswith(FORBIDDEN)
    ]
    assert offenders == []


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from micromoves.storage.db import Database\nimport sqlalchemy\n")
    assert [m for m in imported_modules(bad) if m.startswith(FORBIDDEN)] == [
        "micromoves.storage.db",
        "sqlalchemy",
    ]
