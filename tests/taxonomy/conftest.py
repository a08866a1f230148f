"""Shared helpers for the taxonomy tests.

Tests that compare the packaged data with the O*NET source read ``<repo>/../shared/data/onet`` directly
(independently of the build script and the loader) and are skipped when that folder is absent.
"""

from __future__ import annotations

import csv
import lzma
import shutil
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ONET_SOURCE = REPO.parent / "shared" / "data" / "onet"
PACKAGE_DATA = Path(str(resources.files("micromoves.taxonomy") / "data"))


@pytest.fixture
def onet_source() -> Path:
    if not (ONET_SOURCE / "Occupation Data.tsv").is_file():
        pytest.skip(f"O*NET source not available at {ONET_SOURCE}")
    return ONET_SOURCE


def read_source_rows(path: Path) -> Iterator[dict[str, str]]:
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, delimiter="\t")


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged data files."""
    target = tmp_path / "data"
    shutil.copytree(PACKAGE_DATA, target)
    return target


def rewrite_table(folder: Path, name: str, edit: Callable[[list[str]], list[str]]) -> None:
    """Decompress ``folder/name``, let ``edit`` change its lines, and compress it again."""
    path = folder / name
    lines = lzma.decompress(path.read_bytes()).decode("utf-8").split("\n")
    # preset 0: the tests only need a valid file, not a small one.
    path.write_bytes(lzma.compress("\n".join(edit(lines)).encode("utf-8"), preset=0))
