"""`plan-all` on a large demo organisation: every person with a target role gets an optimal plan.

Reference, measured in the same run: planning the first 2,000 people in one process, scaled linearly to the
same number of people. The ratio shows what the worker processes and the bulk load/store buy.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from benchmarks.common import Row, fresh_database, timed
from micromoves.services import planning
from micromoves.services.demo import generate_demo

AS_OF = dt.date(2026, 11, 2)
START = dt.date(2026, 11, 2)


def run(people: int, tmp: Path, backends: list[str]) -> list[Row]:
    out = []
    for backend in backends:
        db = fresh_database(backend, "micromoves_bench_plan", str(tmp))
        generate_demo(db, people=people, seed=3, as_of=AS_OF)
        with db.engine.connect() as conn:
            from sqlalchemy import func, select

            from micromoves.storage import tables as t

            targets = conn.scalar(select(func.count()).where(t.people.c.target_role_id.is_not(None))) or 0
        # Reference: one process over a sample (same code path), scaled.
        sample = planning_sample(db, 2_000)
        with timed() as box:
            summary = planning.plan_all(db, actor="bench", start=START)
        out.append(
            Row(
                "plan-all",
                backend,
                f"{people:,} people, {targets:,} targets",
                box[0],
                f"{summary.people / box[0]:,.0f} plans/s ({summary.ready:,} ready, "
                f"{summary.unreachable:,} unreachable, {len(summary.failed)} failed)",
                "1 process on 2,000 people × scale",
                sample * summary.people / 2_000,
                "≤ 120 s",
            )
        )
        db.dispose()
    return out


def planning_sample(db, n: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds to load, solve and record n people's plans in this process (nothing stored)."""
    from sqlalchemy import select

    from micromoves.settings import get_settings
    from micromoves.storage import tables as t

    settings = get_settings()
    started = time.perf_counter()
    with db.engine.connect() as conn:
        pairs = conn.execute(
            select(t.people.c.id, t.people.c.target_role_id)
            .where(t.people.c.target_role_id.is_not(None))
            .order_by(t.people.c.id)
            .limit(n)
        ).all()
        people = planning.load_people(conn, [p for p, _ in pairs], start=START)
        targets = planning.load_targets(conn, {r for _, r in pairs})
        catalogue = planning.load_catalogue(conn)
    for pid, rid in pairs:
        problem = planning.make_problem(
            people[pid], targets[rid], catalogue, start=START, horizon=104, settings=settings
        )
        result = planning.solve(problem)
        planning.plan_record(
            result, problem, person_id=pid, target_role_id=rid, start=START, actor="bench", reason="bench"
        )
    return (time.perf_counter() - started) * n / max(len(pairs), 1)
