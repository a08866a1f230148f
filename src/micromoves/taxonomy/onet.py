"""Read the compact O*NET 29.3 tables shipped in ``micromoves/taxonomy/data``.

The tables are produced by ``scripts/build_taxonomy_data.py`` (see ``data/NOTICE.md`` for the
attribution and exactly which O*NET columns were kept). This module is deliberately pure: stdlib only,
no database and no imports from the rest of micromoves, so planning code and tests can use it anywhere.

Things about O*NET 29.3 that callers should know (they are facts of the release, not loader bugs):

* Only 879 of the 1,016 occupations have skill/knowledge ratings. The 93 that are not "data-level"
  occupations (residual "All Other" codes and military codes) have none, and neither do 44 newer
  data-level occupations, among them Software Developers (15-1252.00). For those, ``profiles`` has no
  entry and :meth:`OnetData.requirements` returns an empty dict.
* Those same 93 occupations have no job zone (``Occupation.job_zone is None``) and no related
  occupations; every other occupation has exactly 20 related occupations.
* Ratings are kept as O*NET publishes them, including values O*NET flags "Recommend Suppress" (low
  precision) or level values flagged "Not Relevant" (importance too low for the level to mean much).
"""

from __future__ import annotations

import csv
import functools
import io
import lzma
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

__all__ = [
    "ONET_VERSION",
    "RELATEDNESS_TIERS",
    "ElementKind",
    "ElementRating",
    "Occupation",
    "OnetData",
    "RelatedOccupation",
    "SkillElement",
    "TaxonomyError",
    "load_onet",
]

ONET_VERSION = "29.3"

ElementKind = Literal["skill", "knowledge"]
# Narrowing a ``str`` to the Literal through a dict keeps mypy --strict happy without casts.
_KINDS: dict[str, ElementKind] = {"skill": "skill", "knowledge": "knowledge"}

# O*NET's relatedness tiers, closest first.
RELATEDNESS_TIERS: tuple[str, ...] = ("Primary-Short", "Primary-Long", "Supplemental")

# Rating scales: importance (IM) 1-5, level (LV) 0-7.
IMPORTANCE_RANGE = (1.0, 5.0)
LEVEL_RANGE = (0.0, 7.0)

OCCUPATIONS_FILE = "occupations.tsv.xz"
ELEMENTS_FILE = "elements.tsv.xz"
RATINGS_FILE = "occupation_elements.tsv.xz"
RELATED_FILE = "related.tsv.xz"

_HEADERS: dict[str, tuple[str, ...]] = {
    OCCUPATIONS_FILE: ("code", "title", "description", "job_zone"),
    ELEMENTS_FILE: ("element_id", "name", "kind", "description"),
    RATINGS_FILE: ("code", "element_id", "importance", "level"),
    RELATED_FILE: ("code", "related_code", "tier", "rank"),
}

# ASCII-only patterns: ``\d`` would also accept non-ASCII digits.
_SOC_CODE = re.compile(r"[0-9]{2}-[0-9]{4}\.[0-9]{2}")
_POSITIVE_INT = re.compile(r"[1-9][0-9]*")
_JOB_ZONES = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}


class TaxonomyError(ValueError):
    """A taxonomy data file is missing or malformed.

    ``file`` is the path of the offending file; ``row`` is the 1-based record number with the header as
    row 1 (equal to the line number, since no kept cell contains a newline); ``column`` is the column
    name. ``row``/``column`` are ``None`` when the problem is not tied to one cell.
    """

    def __init__(self, message: str, *, file: str, row: int | None = None, column: str | None = None):
        self.file = file
        self.row = row
        self.column = column
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Occupation:
    code: str
    title: str
    description: str
    job_zone: int | None  # 1-5; None for occupations O*NET gives no job zone


@dataclass(frozen=True, slots=True)
class SkillElement:
    element_id: str
    name: str
    kind: ElementKind
    description: str


@dataclass(frozen=True, slots=True)
class ElementRating:
    importance: float  # 1-5
    level: float  # 0-7


@dataclass(frozen=True, slots=True)
class RelatedOccupation:
    code: str
    tier: str  # one of RELATEDNESS_TIERS
    rank: int  # O*NET's "Index", 1 = most related


@dataclass(frozen=True, slots=True)
class OnetData:
    """The loaded taxonomy.

    All dicts are keyed by O*NET-SOC code or element id and ordered like the data files (codes and
    element ids ascending; related occupations by rank). ``profiles`` and ``related`` only have entries
    for occupations that have ratings / relations (see the module docstring).

    Treat the contents as read-only: :func:`load_onet` returns one shared, cached instance.
    """

    occupations: dict[str, Occupation]
    elements: dict[str, SkillElement]
    profiles: dict[str, dict[str, ElementRating]]
    related: dict[str, list[RelatedOccupation]]

    def requirements(self, code: str, min_importance: float = 3.0) -> dict[str, float]:
        """Required level per element for the elements of ``code`` with importance >= ``min_importance``.

        The default of 3.0 is the midpoint of O*NET's 1-5 importance scale ("important"). Returns an
        empty dict for occupations that exist but have no ratings; raises ``KeyError`` for unknown codes
        so that typos do not silently look like "no requirements".
        """
        if code not in self.occupations:
            raise KeyError(f"unknown O*NET-SOC code {code!r}")
        profile = self.profiles.get(code, {})
        return {
            element_id: rating.level for element_id, rating in profile.items() if rating.importance >= min_importance
        }

    def element_by_name(self, name: str, kind: ElementKind | None = None) -> SkillElement:
        """Find an element by name, ignoring case and surrounding/repeated whitespace.

        "Mathematics" is both a skill (2.A.1.e) and a knowledge area (2.C.4.a), so such names need
        ``kind``; an ambiguous or unknown name raises ``KeyError``. A linear scan is fine: there are only
        68 elements.
        """
        wanted = " ".join(name.split()).casefold()
        matches = [
            element
            for element in self.elements.values()
            if element.name.casefold() == wanted and (kind is None or element.kind == kind)
        ]
        if not matches:
            raise KeyError(f"no O*NET element named {name!r}" + (f" of kind {kind!r}" if kind else ""))
        if len(matches) > 1:
            ids = ", ".join(f"{m.element_id} ({m.kind})" for m in matches)
            raise KeyError(f"element name {name!r} is ambiguous: {ids}; pass kind=")
        return matches[0]


def load_onet(data_dir: Path | None = None) -> OnetData:
    """Load the taxonomy from ``data_dir``, or from the package data (cached) when it is ``None``.

    Raises :class:`TaxonomyError` if a file is missing or malformed.
    """
    if data_dir is None:
        return _load_package_data()
    return _load(Path(data_dir))


@functools.lru_cache(maxsize=1)
def _load_package_data() -> OnetData:
    # importlib.resources rather than __file__ so this also works from a wheel or zip import.
    return _load(resources.files(__package__ or "micromoves.taxonomy") / "data")


def _load(folder: Traversable) -> OnetData:
    occupations = _read_occupations(folder)
    elements = _read_elements(folder)
    return OnetData(
        occupations=occupations,
        elements=elements,
        profiles=_read_profiles(folder, occupations, elements),
        related=_read_related(folder, occupations),
    )


def _rows(folder: Traversable, name: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(row number, cells)`` for each data row after checking the header and column count."""
    source = folder / name
    path = str(source)
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise TaxonomyError("file not found", file=path) from None
    try:
        text = lzma.decompress(raw).decode("utf-8")
    except lzma.LZMAError as exc:
        raise TaxonomyError(f"not a valid xz file ({exc})", file=path) from None
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})", file=path) from None

    # Same dialect as the build script writes; strict=True turns stray quotes into errors.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", strict=True)
    header = _HEADERS[name]
    row_number = 0
    try:
        for cells in reader:
            row_number += 1
            if row_number == 1:
                _check_header(cells, header, path)
                continue
            if len(cells) != len(header):
                if len(cells) < len(header):
                    missing = header[len(cells)]
                    raise TaxonomyError(
                        f"expected {len(header)} columns, found {len(cells)}",
                        file=path,
                        row=row_number,
                        column=missing,
                    )
                raise TaxonomyError(
                    f"expected {len(header)} columns ({', '.join(header)}), found {len(cells)}",
                    file=path,
                    row=row_number,
                )
            yield row_number, cells
    except csv.Error as exc:
        raise TaxonomyError(f"malformed TSV ({exc})", file=path, row=row_number + 1) from None
    if row_number == 0:
        raise TaxonomyError("empty file, expected a header row", file=path, row=1)


def _check_header(cells: list[str], header: tuple[str, ...], path: str) -> None:
    for index, expected in enumerate(header):
        found = cells[index] if index < len(cells) else None
        if found != expected:
            raise TaxonomyError(
                f"header: expected column {expected!r}, found {found!r}", file=path, row=1, column=expected
            )
    if len(cells) > len(header):
        raise TaxonomyError(f"header: unexpected extra column {cells[len(header)]!r}", file=path, row=1)


def _number(text: str, low: float, high: float, *, file: str, row: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise TaxonomyError(f"expected a number, found {text!r}", file=file, row=row, column=column) from None
    # Written so that NaN fails too (every comparison with NaN is False).
    if not low <= value <= high:
        raise TaxonomyError(
            f"expected a number in [{low:g}, {high:g}], found {text!r}", file=file, row=row, column=column
        )
    return value


def _read_occupations(folder: Traversable) -> dict[str, Occupation]:
    path = str(folder / OCCUPATIONS_FILE)
    occupations: dict[str, Occupation] = {}
    for row, (code, title, description, job_zone) in _rows(folder, OCCUPATIONS_FILE):
        if not _SOC_CODE.fullmatch(code):
            raise TaxonomyError(f"not an O*NET-SOC code: {code!r}", file=path, row=row, column="code")
        if code in occupations:
            raise TaxonomyError(f"duplicate code {code}", file=path, row=row, column="code")
        if not title.strip():
            raise TaxonomyError("empty title", file=path, row=row, column="title")
        zone: int | None = None
        if job_zone:
            if job_zone not in _JOB_ZONES:
                raise TaxonomyError(
                    f"expected a job zone 1-5 or empty, found {job_zone!r}",
                    file=path,
                    row=row,
                    column="job_zone",
                )
            zone = _JOB_ZONES[job_zone]
        occupations[code] = Occupation(code=code, title=title, description=description, job_zone=zone)
    return occupations


def _read_elements(folder: Traversable) -> dict[str, SkillElement]:
    path = str(folder / ELEMENTS_FILE)
    elements: dict[str, SkillElement] = {}
    for row, (element_id, name, kind_text, description) in _rows(folder, ELEMENTS_FILE):
        if not element_id:
            raise TaxonomyError("empty element id", file=path, row=row, column="element_id")
        if element_id in elements:
            raise TaxonomyError(f"duplicate element {element_id}", file=path, row=row, column="element_id")
        if not name.strip():
            raise TaxonomyError("empty name", file=path, row=row, column="name")
        kind = _KINDS.get(kind_text)
        if kind is None:
            raise TaxonomyError(
                f"expected 'skill' or 'knowledge', found {kind_text!r}", file=path, row=row, column="kind"
            )
        elements[element_id] = SkillElement(element_id, name, kind, description)
    return elements


def _read_profiles(
    folder: Traversable, occupations: dict[str, Occupation], elements: dict[str, SkillElement]
) -> dict[str, dict[str, ElementRating]]:
    path = str(folder / RATINGS_FILE)
    profiles: dict[str, dict[str, ElementRating]] = {}
    for row, (code, element_id, importance, level) in _rows(folder, RATINGS_FILE):
        if code not in occupations:
            raise TaxonomyError(f"unknown occupation code {code!r}", file=path, row=row, column="code")
        if element_id not in elements:
            raise TaxonomyError(f"unknown element id {element_id!r}", file=path, row=row, column="element_id")
        profile = profiles.setdefault(code, {})
        if element_id in profile:
            raise TaxonomyError(f"duplicate rating for {code} {element_id}", file=path, row=row, column="element_id")
        profile[element_id] = ElementRating(
            importance=_number(importance, *IMPORTANCE_RANGE, file=path, row=row, column="importance"),
            level=_number(level, *LEVEL_RANGE, file=path, row=row, column="level"),
        )
    return profiles


def _read_related(folder: Traversable, occupations: dict[str, Occupation]) -> dict[str, list[RelatedOccupation]]:
    path = str(folder / RELATED_FILE)
    related: dict[str, list[RelatedOccupation]] = {}
    seen: set[tuple[str, str]] = set()
    for row, (code, related_code, tier, rank) in _rows(folder, RELATED_FILE):
        if code not in occupations:
            raise TaxonomyError(f"unknown occupation code {code!r}", file=path, row=row, column="code")
        if related_code not in occupations:
            raise TaxonomyError(f"unknown occupation code {related_code!r}", file=path, row=row, column="related_code")
        # A self-relation or a repeated pair would create loops / parallel edges in the lattice.
        if related_code == code or (code, related_code) in seen:
            raise TaxonomyError(
                f"duplicate or self relation {code} -> {related_code}",
                file=path,
                row=row,
                column="related_code",
            )
        if tier not in RELATEDNESS_TIERS:
            raise TaxonomyError(
                f"expected one of {', '.join(RELATEDNESS_TIERS)}, found {tier!r}",
                file=path,
                row=row,
                column="tier",
            )
        if not _POSITIVE_INT.fullmatch(rank):
            raise TaxonomyError(f"expected a positive integer, found {rank!r}", file=path, row=row, column="rank")
        seen.add((code, related_code))
        related.setdefault(code, []).append(RelatedOccupation(related_code, tier, int(rank)))
    for entries in related.values():
        # The file is already sorted; sorting again keeps the documented order for hand-edited files.
        entries.sort(key=lambda entry: (entry.rank, entry.code))
    return related
