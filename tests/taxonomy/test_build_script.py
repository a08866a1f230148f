from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from micromoves.taxonomy import load_onet
from tests.taxonomy.conftest import PACKAGE_DATA, REPO

SCRIPT = REPO / "scripts" / "build_taxonomy_data.py"


def build(source: Path, out: Path) -> dict[str, bytes]:
    subprocess.run([sys.executable, str(SCRIPT), str(source), "--out", str(out), "--quiet"], check=True)
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


@pytest.mark.slow  # two full builds take ~4 s
def test_build_is_deterministic_and_matches_package_data(onet_source: Path, tmp_path: Path) -> None:
    first = build(onet_source, tmp_path / "first")
    second = build(onet_source, tmp_path / "second")
    assert sorted(first) == [
        "NOTICE.md",
        "elements.tsv.xz",
        "occupation_elements.tsv.xz",
        "occupations.tsv.xz",
        "related.tsv.xz",
    ]
    assert first == second
    # The committed package data must be exactly what the script produces from the source.
    assert first == {name: (PACKAGE_DATA / name).read_bytes() for name in first}
    assert sum(len(content) for content in first.values()) < 1_000_000
    assert load_onet(tmp_path / "first") == load_onet()


def test_build_fails_cleanly_on_missing_source(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "missing source file" in result.stderr
