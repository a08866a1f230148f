#!/usr/bin/env python3
"""Build the compact O*NET tables shipped inside ``micromoves.taxonomy``.

Usage::

    .venv/bin/python scripts/build_taxonomy_data.py [SOURCE_DIR] [--out OUT_DIR]

``SOURCE_DIR`` defaults to ``<repo>/../shared/data/onet`` (O*NET 29.3 as tab-separated text, large
tables xz-compressed); ``OUT_DIR`` defaults to ``<repo>/src/micromoves/taxonomy/data``.

Only the columns micromoves needs are kept, which shrinks ~3 MB of compressed source to a few hundred
KB. The output is byte-for-byte reproducible: rows are sorted, numbers are formatted with a fixed
precision, the xz preset and integrity check are fixed, and nothing time- or host-dependent (mtimes,
file names, usernames) ends up inside the archives. That lets a test rebuild the data and compare bytes
with what is committed.

Stdlib only and deliberately independent of ``micromoves`` so it can run before the package is
installed; ``micromoves.taxonomy.onet`` is the matching reader.
"""

from __future__ import annotations

import argparse
import csv
import io
import lzma
import math
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "onet"
DEFAULT_OUT = REPO / "src" / "micromoves" / "taxonomy" / "data"

# xz preset 9 gives the smallest files; the data is small enough that the extra compression time is
# irrelevant. The check type is pinned too because it is written into the container.
XZ_PRESET = 9
XZ_CHECK = lzma.CHECK_CRC64

# Each output table: file name -> header. The reader in micromoves.taxonomy.onet checks these headers.
OUTPUT_HEADERS: dict[str, tuple[str, ...]] = {
    "occupations.tsv.xz": ("code", "title", "description", "job_zone"),
    "elements.tsv.xz": ("element_id", "name", "kind", "description"),
    "occupation_elements.tsv.xz": ("code", "element_id", "importance", "level"),
    "related.tsv.xz": ("code", "related_code", "tier", "rank"),
}

# Source rating files and the element kind their rows describe.
RATING_FILES = (("Skills.tsv.xz", "skill"), ("Knowledge.tsv.xz", "knowledge"))

SOC_CODE = re.compile(r"\d{2}-\d{4}\.\d{2}")
TIERS = ("Primary-Short", "Primary-Long", "Supplemental")


class BuildError(Exception):
    """The source data does not look like the O*NET release this script was written for."""


def read_source(path: Path) -> Iterator[dict[str, str]]:
    """Yield the rows of an O*NET TSV (optionally .xz) as dicts keyed by the header.

    The source is CSV-quoted where a cell contains tabs, newlines or quotes (see its NOTICE.md), so the
    csv module is used rather than a plain ``split("\\t")``.
    """
    if not path.is_file():
        raise BuildError(f"missing source file: {path}")
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", strict=True)
        header = next(reader)
        for row in reader:
            if len(row) != len(header):
                raise BuildError(f"{path.name}, row {reader.line_num}: expected {len(header)} columns, got {len(row)}")
            yield dict(zip(header, row, strict=True))


def natural_key(element_id: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key for content-model ids so that ``2.C.2.a`` < ``2.C.10`` (O*NET's own ordering).

    Each part is tagged so ints and strings never get compared with each other.
    """
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in element_id.split("."))


def fmt_number(value: float) -> str:
    """Two decimals, as the brief asks; every O*NET 29.3 rating already has at most two."""
    return f"{value:.2f}"


def parse_number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BuildError(f"{where}: not a number: {text!r}") from None
    if not math.isfinite(value):
        raise BuildError(f"{where}: not a finite number: {text!r}")
    return value


def check_code(code: str, where: str) -> str:
    if not SOC_CODE.fullmatch(code):
        raise BuildError(f"{where}: not an O*NET-SOC code: {code!r}")
    return code


def build_occupations(source: Path) -> tuple[list[list[str]], dict[str, str]]:
    titles: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for row in read_source(source / "Occupation Data.tsv"):
        code = check_code(row["O*NET-SOC Code"], "Occupation Data.tsv")
        if code in titles:
            raise BuildError(f"Occupation Data.tsv: duplicate code {code}")
        titles[code] = row["Title"]
        descriptions[code] = row["Description"]

    zones: dict[str, str] = {}
    for row in read_source(source / "Job Zones.tsv"):
        code = row["O*NET-SOC Code"]
        zone = row["Job Zone"]
        if code not in titles:
            raise BuildError(f"Job Zones.tsv: unknown occupation {code}")
        if zone not in {"1", "2", "3", "4", "5"}:
            raise BuildError(f"Job Zones.tsv: {code} has job zone {zone!r}, expected 1-5")
        zones[code] = zone

    # Codes sort correctly as strings (fixed-width digits).
    rows = [[code, titles[code], descriptions[code], zones.get(code, "")] for code in sorted(titles)]
    return rows, zones


def build_elements_and_ratings(
    source: Path, occupation_codes: set[str]
) -> tuple[list[list[str]], list[list[str]], dict[str, int]]:
    reference = {row["Element ID"]: row for row in read_source(source / "Content Model Reference.tsv")}

    elements: dict[str, tuple[str, str]] = {}  # element_id -> (name, kind)
    # (code, element_id) -> {scale id: value}
    ratings: dict[tuple[str, str], dict[str, float]] = {}
    stats = {"suppress_flagged": 0, "not_relevant": 0, "incomplete_pairs": 0}
    for file_name, kind in RATING_FILES:
        for row in read_source(source / file_name):
            code, element_id, scale = row["O*NET-SOC Code"], row["Element ID"], row["Scale ID"]
            where = f"{file_name} {code} {element_id} {scale}"
            if code not in occupation_codes:
                raise BuildError(f"{where}: unknown occupation")
            ref = reference.get(element_id)
            if ref is None or ref["Element Name"] != row["Element Name"]:
                raise BuildError(f"{where}: element name disagrees with Content Model Reference.tsv")
            known = elements.setdefault(element_id, (row["Element Name"], kind))
            if known[1] != kind:
                raise BuildError(f"{where}: element appears as both {known[1]} and {kind}")
            if scale not in {"IM", "LV"}:
                continue  # other scales are not used (29.3 has none in these files)
            scales = ratings.setdefault((code, element_id), {})
            if scale in scales:
                raise BuildError(f"{where}: duplicate rating")
            scales[scale] = parse_number(row["Data Value"], where)
            # Kept for the summary only: suppression and "not relevant" flags are not carried over
            # (the brief keeps source values as-is), but the numbers are worth knowing.
            stats["suppress_flagged"] += row["Recommend Suppress"] == "Y"
            stats["not_relevant"] += row["Not Relevant"] == "Y"

    element_rows = [
        [element_id, name, kind, reference[element_id]["Description"]]
        for element_id, (name, kind) in sorted(elements.items(), key=lambda item: natural_key(item[0]))
    ]

    rating_rows: list[list[str]] = []
    for (code, element_id), scales in sorted(ratings.items(), key=lambda i: (i[0][0], natural_key(i[0][1]))):
        if "IM" not in scales or "LV" not in scales:
            stats["incomplete_pairs"] += 1
            continue
        importance, level = scales["IM"], scales["LV"]
        if not 1.0 <= importance <= 5.0 or not 0.0 <= level <= 7.0:
            raise BuildError(f"{code} {element_id}: rating out of range (IM={importance}, LV={level})")
        rating_rows.append([code, element_id, fmt_number(importance), fmt_number(level)])
    return element_rows, rating_rows, stats


def build_related(source: Path, occupation_codes: set[str]) -> list[list[str]]:
    rows: dict[tuple[str, str], list[str]] = {}
    for row in read_source(source / "Related Occupations.tsv.xz"):
        code, related, tier, index = (
            row["O*NET-SOC Code"],
            row["Related O*NET-SOC Code"],
            row["Relatedness Tier"],
            row["Index"],
        )
        where = f"Related Occupations.tsv.xz {code} -> {related}"
        if code not in occupation_codes or related not in occupation_codes:
            raise BuildError(f"{where}: unknown occupation")
        if tier not in TIERS:
            raise BuildError(f"{where}: unknown relatedness tier {tier!r}")
        if not index.isdigit() or int(index) < 1:
            raise BuildError(f"{where}: index {index!r} is not a positive integer")
        if (code, related) in rows:
            raise BuildError(f"{where}: duplicate relation")
        rows[(code, related)] = [code, related, tier, str(int(index))]
    return sorted(rows.values(), key=lambda r: (r[0], int(r[3]), r[1]))


def encode_tsv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """TSV with minimal CSV quoting (none of the kept cells needs it in 29.3) and ``\\n`` line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def compress(data: bytes) -> bytes:
    return lzma.compress(data, format=lzma.FORMAT_XZ, check=XZ_CHECK, preset=XZ_PRESET)


MODIFICATIONS = """
## Modifications in micromoves
The files next to this notice were derived from the O*NET 29.3 tables described above by
`scripts/build_taxonomy_data.py`. They are xz-compressed, tab-separated UTF-8 text, one header row, rows
sorted so that rebuilding gives identical bytes. Only these tables and columns were kept:

- `occupations.tsv.xz` — from `Occupation Data.tsv` (O*NET-SOC Code, Title, Description) joined with
  `Job Zones.tsv` (Job Zone): `code, title, description, job_zone`. `job_zone` is empty for the
  occupations that have no job zone in O*NET (residual "All Other" codes and military occupations).
- `elements.tsv.xz` — the skill elements of `Skills.tsv.xz` and the knowledge elements of
  `Knowledge.tsv.xz`, with descriptions from `Content Model Reference.tsv`:
  `element_id, name, kind (skill|knowledge), description`.
- `occupation_elements.tsv.xz` — from `Skills.tsv.xz` and `Knowledge.tsv.xz`, the Data Value of the
  Importance (IM, 1–5) and Level (LV, 0–7) scales, one row per occupation × element that has both:
  `code, element_id, importance, level`. Values are unchanged apart from being written with two
  decimals. The N, Standard Error, confidence bounds, Recommend Suppress, Not Relevant, Date and Domain
  Source columns were dropped; values that O*NET flags "Recommend Suppress" or "Not Relevant" are
  kept as published.
- `related.tsv.xz` — from `Related Occupations.tsv.xz` (O*NET-SOC Code, Related O*NET-SOC Code,
  Relatedness Tier, Index): `code, related_code, tier, rank`. Titles were dropped (they are in
  `occupations.tsv.xz`).

No other O*NET tables are included.
"""


def build_notice(source: Path) -> bytes:
    path = source / "NOTICE.md"
    if not path.is_file():
        raise BuildError(f"missing {path}: the CC BY 4.0 attribution must travel with the data")
    # The source text is copied verbatim (attribution intact); only a section is appended.
    original = path.read_text(encoding="utf-8")
    return (original.rstrip("\n") + "\n" + MODIFICATIONS).encode("utf-8")


def build(source: Path, out: Path) -> dict[str, int]:
    """Build every output file into ``out``; return row counts and source quirks for the summary."""
    occupation_rows, zones = build_occupations(source)
    codes = {row[0] for row in occupation_rows}
    element_rows, rating_rows, stats = build_elements_and_ratings(source, codes)
    related_rows = build_related(source, codes)

    tables = {
        "occupations.tsv.xz": occupation_rows,
        "elements.tsv.xz": element_rows,
        "occupation_elements.tsv.xz": rating_rows,
        "related.tsv.xz": related_rows,
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        (out / name).write_bytes(compress(encode_tsv(OUTPUT_HEADERS[name], rows)))
    (out / "NOTICE.md").write_bytes(build_notice(source))

    profiled = {row[0] for row in rating_rows}
    summary = {
        "occupations": len(occupation_rows),
        "occupations_without_job_zone": len(codes - set(zones)),
        "occupations_with_ratings": len(profiled),
        "skill_elements": sum(row[2] == "skill" for row in element_rows),
        "knowledge_elements": sum(row[2] == "knowledge" for row in element_rows),
        "ratings": len(rating_rows),
        "related": len(related_rows),
    }
    summary.update(stats)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE, help="O*NET folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--quiet", action="store_true", help="do not print the summary")
    args = parser.parse_args(argv)
    try:
        summary = build(args.source, args.out)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        for key, value in summary.items():
            print(f"{key}: {value}")
        total = sum(path.stat().st_size for path in args.out.iterdir() if path.is_file())
        print(f"written to {args.out} ({total / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
