"""Demo organisation generation at scale (default 100,000 people) on SQLite and PostgreSQL.

Reference, measured in the same run: the 2,000-person demo, scaled linearly to the same size. A ratio
near 1× means generation scales linearly; above 1× shows where it does not.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from benchmarks.common import Row, fresh_database, timed
from micromoves.services.demo import generate_demo

AS_OF = dt.date(2026, 11, 2)


def run(people: int, tmp: Path, backends: list[str]) -> list[Row]:
    out = []
    for backend in backends:
        db = fresh_database(backend, "micromoves_bench_demo", str(tmp))
        with timed() as small:
            generate_demo(db, people=2000, seed=1, as_of=AS_OF)
        with timed() as box:
            summary = generate_demo(db, people=people, seed=1, as_of=AS_OF, replace=True)
        rows_written = sum(
            getattr(summary, f)
            for f in (
                "teams",
                "roles",
                "people",
                "moves",
                "criteria",
                "check_ins",
                "status_changes",
                "extensions",
                "outcomes",
                "skill_gains",
                "skill_levels",
                "role_assignments",
            )
        )
        out.append(
            Row(
                "demo generation",
                backend,
                f"{people:,} people",
                box[0],
                f"{rows_written / box[0]:,.0f} rows/s ({summary.moves:,} moves)",
                "2,000-person demo × scale",
                small[0] * people / 2000,
                "works, progress bar",
            )
        )
        db.dispose()
    return out
