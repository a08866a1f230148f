"""Import of a large moves.csv (default 1,000,000 rows) on SQLite and PostgreSQL.

Reference, measured in the same run on the same machine: the bare bulk insert of the same move rows
into the same table with the driver alone (executemany on SQLite, COPY on PostgreSQL), without parsing,
validation, success criteria, history or audit. The ratio is what checking and completeness cost.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from benchmarks.common import Row, fresh_database, timed
from micromoves.services.importing import REQUIRED, import_files
from micromoves.storage import tables as t
from micromoves.storage.bulk import BulkWriter

KINDS = ["stretch_assignment", "rotation", "gig", "shadowing", "course", "mentoring"]


def write_files(folder: Path, rows: int, people: int) -> tuple[Path, Path]:
    """people.csv and moves.csv: each person has rows/people moves in sequence, 20% time, no overlaps, the
    first a month after their hire (a move may not start before it)."""
    folder.mkdir(parents=True, exist_ok=True)
    people_csv, moves_csv = folder / "people.csv", folder / "moves.csv"
    with people_csv.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["person_id", "name", "email", "role_id", "manager_id", "team", "hire_date", "location"])
        w.writerows(
            [f"P{i}", f"Person {i}", f"p{i}@example.org", "", "", f"T{i % 50}", "2014-12-01", "Berlin"]
            for i in range(people)
        )
    base = dt.date(2015, 1, 5)
    with moves_csv.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*REQUIRED["moves"], "criteria_ratings"])
        for i in range(rows):
            person, seq = i % people, i // people
            start = base + dt.timedelta(weeks=10 * seq)
            end = start + dt.timedelta(weeks=8)
            w.writerow(
                [
                    f"M{i}",
                    f"P{person}",
                    KINDS[i % len(KINDS)],
                    "Bench move",
                    f"T{seq % 50}",
                    start.isoformat(),
                    end.isoformat(),
                    20,
                    "completed",
                    "",
                    "Deliverable shipped;Stakeholders satisfied",
                    "end",
                    "Programming:2>3",
                    "met;partly_met",
                ]
            )
    return people_csv, moves_csv


def reference_insert(db, moves_csv: Path) -> float:  # type: ignore[no-untyped-def]
    """Bare insert of the same move rows (pre-parsed tuples) by the driver, in one transaction."""
    with moves_csv.open() as f:
        reader = csv.reader(f)
        next(reader)
        tuples = [(r[0], r[1], r[2], r[3], r[5], r[6], int(r[7]), r[8], "[]", "") for r in reader]
    with timed() as box, db.write_engine.begin() as conn:
        BulkWriter(conn).insert(
            t.moves,
            [
                "id",
                "person_id",
                "kind",
                "title",
                "start",
                "end",
                "percent_time",
                "status",
                "skills_targeted",
                "expected_outcomes",
            ],
            (
                (m[0], m[1], m[2], m[3], dt.date.fromisoformat(m[4]), dt.date.fromisoformat(m[5]), m[6], m[7], [], m[9])
                for m in tuples
            ),
        )
        conn.rollback()  # leave the table empty for the measured import
    return box[0]


def run(rows: int, people: int, tmp: Path, backends: list[str]) -> list[Row]:
    people_csv, moves_csv = write_files(tmp / "import", rows, people)
    out = []
    for backend in backends:
        db = fresh_database(backend, "micromoves_bench_import", str(tmp))
        import_files(db, [people_csv], actor="bench")
        ref = reference_insert(db, moves_csv)
        with timed() as box:
            summary = import_files(db, [moves_csv], actor="bench")
        assert summary.created["moves"] == rows
        out.append(
            Row(
                "import moves.csv",
                backend,
                f"{rows:,} rows",
                box[0],
                f"{rows / box[0]:,.0f} rows/s",
                "bare driver insert of the moves",
                ref,
                "≤ 60 s",
            )
        )
        # The nightly HRIS sync: the same file again. Every move is compared with its stored version (change
        # detection) and nothing is written; the first import is the reference.
        with timed() as again:
            second = import_files(db, [moves_csv], actor="bench")
        assert second.unchanged["moves"] == rows and not second.updated.get("moves")
        out.append(
            Row(
                "re-import, unchanged",
                backend,
                f"{rows:,} rows",
                again[0],
                f"{rows / again[0]:,.0f} rows/s, {second.unchanged['moves']:,} unchanged",
                "the first import above",
                box[0],
                "-",
            )
        )
        db.dispose()
    return out
