"""`plan-all` on a large demo organisation: every person with a target role gets an optimal plan.

Reported: wall time of ``plan_all`` (load, plan on every core, store), plans per second, how many plans
came from the time-bounded fallback (not proven optimal) and how many people failed, and the peak RSS of
the largest worker process. Reference, measured in the same run: the same per-person code path (build the
problem, solve within the budget, record) for a sample of people in this one process, scaled linearly to
everyone; the ratio shows what the worker processes and the bulk load/store buy. Then ``plan-all
--changed-only`` right after, as a nightly run in which nothing changed, next to the full run.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.common import Row, console, fresh_database, timed
from micromoves.services import planning
from micromoves.services.demo import generate_demo
from micromoves.settings import get_settings
from micromoves.storage import tables as t

AS_OF = dt.date(2026, 11, 2)
START = dt.date(2026, 11, 2)
SAMPLE = 150


def run(people: int, tmp: Path, backends: list[str], workers: int | None = None) -> list[Row]:
    out = []
    for backend in backends:
        db = fresh_database(backend, "micromoves_bench_plan", str(tmp))
        with timed() as gen:
            generate_demo(db, people=people, seed=3, as_of=AS_OF)
        console.print(f"demo of {people:,} people generated in {gen[0]:.1f} s")
        with db.engine.connect() as conn:
            targets = conn.scalar(select(func.count()).where(t.people.c.target_role_id.is_not(None))) or 0
        with timed() as box:
            summary = planning.plan_all(db, actor="bench", start=START, workers=workers)
        worker_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        console.print(
            f"plan-all: {summary.people:,} plans in {box[0]:.1f} s on {summary.workers} workers "
            f"({summary.people / box[0]:,.1f} plans/s): {summary.ready:,} ready, {summary.already_ready:,} already "
            f"ready, {summary.unreachable:,} unreachable, {summary.not_found:,} without a ready plan found in time, "
            f"{summary.not_proven_optimal:,} not proven optimal, {len(summary.failed):,} failed; "
            f"peak RSS of a worker {worker_rss:,.0f} MiB"
        )
        # A nightly re-run in which nothing changed: every plan is kept (compared by its problem's digest).
        with timed() as again:
            rerun = planning.plan_all(db, actor="bench", start=START, workers=workers, changed_only=True)
        console.print(
            f"plan-all --changed-only right after: {rerun.unchanged:,} of {rerun.people:,} unchanged, "
            f"{rerun.people - rerun.unchanged:,} planned again, in {again[0]:.1f} s"
        )
        sample = planning_sample(db, SAMPLE)
        out.append(
            Row(
                "plan-all",
                backend,
                f"{people:,} people, {targets:,} targets",
                box[0],
                f"{summary.people / box[0]:,.1f} plans/s ({summary.ready:,} ready, "
                f"{summary.unreachable:,} unreachable, {summary.not_found:,} not found in time, "
                f"{summary.not_proven_optimal:,} not proven optimal, "
                f"{len(summary.failed)} failed; worker RSS ≤ {worker_rss:,.0f} MiB)",
                f"1 process on {SAMPLE} people × scale",
                sample * summary.people / SAMPLE,
                "≤ 120 s at 100,000 people",
            )
        )
        out.append(
            Row(
                "plan-all --changed-only",
                backend,
                f"{people:,} people, nothing changed",
                again[0],
                f"{rerun.unchanged:,} plans kept, {rerun.people - rerun.unchanged:,} planned again",
                "the full plan-all above",
                box[0],
                "-",
            )
        )
        db.dispose()
    return out


def planning_sample(db, n: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds to load, solve (within the budget) and record n people's plans in this process (nothing
    stored), through the per-person code path that plan-all's workers run."""
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
    planning._init_worker(catalogue, targets, START, 104, settings)
    planning._solve_chunk([(people[pid], rid, None) for pid, rid in pairs])
    return (time.perf_counter() - started) * n / max(len(pairs), 1)
