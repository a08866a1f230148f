"""Planner benchmark: the exact solver against the CP-SAT reference on seeded realistic instances.

``python -m benchmarks.planner [--instances N] [--sizes 60 150 500] [--seed S] [--time-limit SECONDS]
[--warm-start] [--shard I/N] [--json FILE]``, or ``--show FILE...`` to print earlier runs (shards merged)

For every catalogue size, the same instances (see :mod:`benchmarks.planner_instances`) are solved by
:func:`micromoves.planning.solve` and by :func:`micromoves.planning.reference.solve_reference` (CP-SAT,
1 worker, lexicographic), one after the other in this process. Reported per size: agreement of the
objective tuples (and, for unreachable targets, of the unreachable skills and binding constraints) on every
instance CP-SAT solved to proven optimality; CP-SAT timeouts and unproven results are counted separately
and left out of the agreement (an unproven CP-SAT plan better than the exact one is still a disagreement);
every exact plan is also checked by the independent validator; p50/p99 time of each solver; the median over
instances of the ratio CP-SAT time / exact time. Times are the process's CPU time (both solvers run on one
thread): shards run side by side (``--shard I/N``, then ``--show`` their JSON files together) or other work
on the machine do not inflate them. (CP-SAT's time limit is still wall time: on a busy machine it can time
out where it would not on an idle one.)

``--warm-start`` gives CP-SAT the exact solver's plan as its first solution hint (see
:func:`~micromoves.planning.reference.solve_reference`): CP-SAT still proves its optimum on its own, so the
agreement is still a check, and its time only gets shorter, so the speed ratio is a lower bound of the cold
one. At 500 options a cold CP-SAT takes a median of about 12 s and often hits the time limit; warm-started,
1,000 instances take about 95 minutes in two shards (and 96 still hit 60 s). The table marks warm-started rows.

Targets: 100% agreement; median ratio ≥ 20× at every size; exact p99 ≤ 50 ms at 60 options and ≤ 500 ms at
500 options (150 options: reported, no p99 target).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.planner_instances import instances as make_instances
from micromoves.planning import PlanResult, check_plan, solve
from micromoves.planning.reference import ReferenceTimeout, solve_reference

P99_TARGET_MS = {60: 50.0, 500: 500.0}
RATIO_TARGET = 20.0
SETTINGS = ("seed", "time_limit", "warm_start")  # what a run's rows must share to be merged (its shards)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _same(a: PlanResult, b: PlanResult) -> bool:
    return (
        a.objective == b.objective
        and a.unreachable_skills == b.unreachable_skills
        and a.binding == b.binding
        and [p.objective for p in a.alternatives] == [p.objective for p in b.alternatives]
    )


def run_size(
    count: int,
    size: int,
    seed: int = 0,
    time_limit: float = 60.0,
    progress: bool = True,
    warm_start: bool = False,
    shard: tuple[int, int] = (0, 1),
    checkpoint: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Solve instances ``n`` of ``count`` with ``n % shard[1] == shard[0]`` both ways; the row of the size.
    ``checkpoint`` gets the row so far at every progress step (a long run keeps what it has done)."""
    settings = dict(zip(SETTINGS, (seed, time_limit, warm_start), strict=True))
    part, parts = shard
    problems = make_instances(count, size, seed)
    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    for n, problem in enumerate(problems):
        if n % parts != part:
            continue
        # CPU time of this process: both solvers run on one thread, so it is their time on an idle core, and
        # two shards (or anything else) running beside them on the machine's cores do not inflate it.
        t0 = time.process_time()
        result = solve(problem)
        t1 = time.process_time()
        reference: PlanResult | None
        try:
            hint = {m.option_id: m.start for m in result.moves} if warm_start else None
            reference = solve_reference(problem, time_limit=time_limit, warm_start=hint)
        except ReferenceTimeout:
            reference = None
        t2 = time.process_time()
        if reference is None:
            outcome = "timeout"
        elif not reference.optimal:
            # the exact solver may never be worse than any solution
            outcome = "unproven, better" if result.objective > reference.objective else "unproven"
        else:
            outcome = "agreed" if _same(result, reference) else "disagreed"
        records.append(
            {
                "n": n,
                "exact_ms": 1000 * (t1 - t0),
                "cpsat_ms": 1000 * (t2 - t1),
                "outcome": outcome,
                "valid": not check_plan(problem, result),
                "status": result.status,
            }
        )
        if len(records) % max(1, count // parts // 20) == 0:
            row = summarise(size, count, settings, records)
            if checkpoint:
                checkpoint(row)
            if progress:
                print(
                    f"  size {size}: {len(records)}/{len(range(part, count, parts))} instances, "
                    f"{time.perf_counter() - started:.0f} s, exact p50 {row['exact_p50_ms']:.1f} ms, "
                    f"CP-SAT p50 {row['cpsat_p50_ms']:.0f} ms, disagreements {len(row['disagreements'])}",
                    file=sys.stderr,
                    flush=True,
                )
    return summarise(size, count, settings, records)


def summarise(size: int, count: int, settings: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """The row of one catalogue size from its instances' records (of one run, or of every shard of one)."""
    records = sorted(records, key=lambda r: r["n"])
    numbers = [r["n"] for r in records]
    if len(set(numbers)) != len(numbers):
        repeated = sorted(n for n, times in Counter(numbers).items() if times > 1)
        raise ValueError(f"instances {repeated[:10]} are recorded twice (the same shard given twice?)")
    exact_ms = [r["exact_ms"] for r in records]
    ref_ms = [r["cpsat_ms"] for r in records]
    ratios = [r["cpsat_ms"] / max(r["exact_ms"], 1e-6) for r in records]
    outcomes = Counter(r["outcome"] for r in records)
    row: dict[str, Any] = {
        "size": size,
        "instances": len(records),
        "of": count,
        **settings,
        "compared": outcomes["agreed"] + outcomes["disagreed"],
        "agreed": outcomes["agreed"],
        "disagreements": [r["n"] for r in records if r["outcome"] in ("disagreed", "unproven, better")],
        "cpsat_timeouts": outcomes["timeout"],
        "cpsat_unproven": outcomes["unproven"] + outcomes["unproven, better"],
        "invalid_plans": sum(1 for r in records if not r["valid"]),
        "statuses": dict(Counter(r["status"] for r in records)),
        "exact_p50_ms": _quantile(exact_ms, 0.5),
        "exact_p99_ms": _quantile(exact_ms, 0.99),
        "exact_max_ms": max(exact_ms, default=float("nan")),
        "cpsat_p50_ms": _quantile(ref_ms, 0.5),
        "cpsat_p99_ms": _quantile(ref_ms, 0.99),
        "median_ratio": statistics.median(ratios) if ratios else float("nan"),
        "records": records,
    }
    row["agreement_pct"] = 100.0 * row["agreed"] / row["compared"] if row["compared"] else float("nan")
    p99_target = P99_TARGET_MS.get(size)
    # 100% agreement means on every instance: one CP-SAT could not prove leaves the target unverified.
    row["targets_met"] = bool(
        numbers == list(range(count))
        and row["agreed"] == row["instances"]
        and row["invalid_plans"] == 0
        and row["median_ratio"] >= RATIO_TARGET
        and (p99_target is None or row["exact_p99_ms"] <= p99_target)
    )
    return row


def merge(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the same size and settings (the shards of one run) as one row; other rows as they are."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        if "records" not in r:  # a row written before records were kept
            groups[(id(r),)] = [r]
            continue
        groups.setdefault((r["size"], r["of"], *(r.get(k) for k in SETTINGS)), []).append(r)
    merged = []
    for key, group in groups.items():
        if len(key) == 1:
            merged.append(group[0])
            continue
        size, count, *values = key
        settings = dict(zip(SETTINGS, values, strict=True))
        merged.append(summarise(size, count, settings, [rec for r in group for rec in r["records"]]))
    return merged


def run(
    instances: int = 1000,
    sizes: tuple[int, ...] = (60, 150, 500),
    seed: int = 0,
    time_limit: float = 60.0,
    progress: bool = True,
    json_path: str | None = None,
    warm_start: bool = False,
    shard: tuple[int, int] = (0, 1),
) -> list[dict[str, Any]]:
    """Benchmark both solvers on ``instances`` instances per catalogue size; one result dict per size
    (also written to ``json_path`` after each size, so a long run keeps what it finished)."""
    rows: list[dict[str, Any]] = []

    def save(partial: dict[str, Any] | None = None) -> None:
        if json_path:
            with open(json_path, "w") as f:
                json.dump(rows + ([partial] if partial else []), f, indent=2)

    for size in sizes:
        rows.append(run_size(instances, size, seed, time_limit, progress, warm_start, shard, save))
        save()
    return rows


def print_table(rows: list[dict[str, Any]], console: Console | None = None) -> None:
    console = console or Console(width=150)
    table = Table(title="planner: exact solver vs CP-SAT reference", title_justify="left", header_style="bold")
    for col in (
        "options",
        "instances",
        "agreement",
        "CP-SAT t/o, unproven",
        "valid",
        "exact p50 ms CPU",
        "exact p99 ms CPU",
        "CP-SAT p50 ms CPU",
        "CP-SAT p99 ms CPU",
        "median ratio",
        "targets",
    ):
        table.add_column(col, justify="right" if col not in ("targets",) else "left")
    for r in rows:
        table.add_row(
            str(r["size"]) + (" (CP-SAT warm)" if r.get("warm_start") else ""),
            str(r["instances"]) + (f" of {r['of']}" if r.get("of", r["instances"]) != r["instances"] else ""),
            f"{r['agreement_pct']:.1f}% ({r['agreed']}/{r['compared']})",
            f"{r['cpsat_timeouts']}, {r['cpsat_unproven']}",
            f"{r['instances'] - r['invalid_plans']}/{r['instances']}",
            f"{r['exact_p50_ms']:.1f}",
            f"{r['exact_p99_ms']:.1f}",
            f"{r['cpsat_p50_ms']:.0f}",
            f"{r['cpsat_p99_ms']:.0f}",
            f"{r['median_ratio']:.1f}×",
            "met" if r["targets_met"] else "MISSED",
        )
    console.print(table)
    console.print(
        f"targets: 100% agreement, median ratio ≥ {RATIO_TARGET:.0f}×, exact p99 ≤ "
        + ", ".join(f"{ms:.0f} ms at {size} options" for size, ms in P99_TARGET_MS.items())
    )
    for r in rows:
        console.print(
            f"{r['size']} options: statuses {r['statuses']}, exact max {r['exact_max_ms']:.0f} ms"
            + (f", disagreements at instances {r['disagreements'][:20]}" if r["disagreements"] else "")
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.planner")
    parser.add_argument("--instances", type=int, default=1000, help="instances per catalogue size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 150, 500], help="catalogue sizes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=60.0, help="CP-SAT seconds per instance")
    parser.add_argument(
        "--warm-start", action="store_true", help="give CP-SAT the exact plan as its first hint (it still proves alone)"
    )
    parser.add_argument(
        "--shard",
        default="0/1",
        metavar="I/N",
        help="run only instances n with n %% N == I (run N shards at once, then --show their JSON files together)",
    )
    parser.add_argument("--json", help="also write the rows to this file (after each size)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--show", nargs="+", metavar="JSON", help="only print the table of earlier runs")
    args = parser.parse_args(argv)
    if args.show:
        rows: list[dict[str, Any]] = []
        for path in args.show:
            with open(path) as f:
                rows += json.load(f)
        print_table(merge(rows))
        return
    part, _, parts = args.shard.partition("/")
    if not (part.isdigit() and parts.isdigit() and int(part) < int(parts)):
        parser.error(f"--shard: I/N with 0 <= I < N, got {args.shard!r}")
    rows = run(
        args.instances,
        tuple(args.sizes),
        args.seed,
        args.time_limit,
        not args.quiet,
        args.json,
        args.warm_start,
        (int(part), int(parts)),
    )
    print_table(rows)


if __name__ == "__main__":
    main()
