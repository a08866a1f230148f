"""Run the benchmarks and print one table: `python -m benchmarks [--rows N] [--people N] [--only NAME]`."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.common import print_rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--rows", type=int, default=1_000_000, help="moves in the import benchmark")
    parser.add_argument("--people", type=int, default=100_000, help="people in the demo benchmark")
    parser.add_argument("--plan-people", type=int, default=100_000, help="people in the plan-all benchmark")
    parser.add_argument("--routes-people", type=int, default=2000, help="people in the alternate-routes benchmark")
    parser.add_argument("--market-people", type=int, default=2000, help="people in the marketplace benchmark")
    parser.add_argument("--market-extra", type=int, default=300, help="opportunities the marketplace benchmark adds")
    parser.add_argument(
        "--only",
        choices=["import", "demo", "plan-all", "routes", "marketplace"],
        action="append",
        help="run only these",
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--workers", type=int, default=None, help="plan-all worker processes (default: every core)")
    args = parser.parse_args()
    only = args.only or ["import", "demo", "plan-all"]
    backends = args.backend or ["sqlite", "postgresql"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="micromoves-bench-") as tmp:
        if "import" in only:
            from benchmarks import import_moves

            rows += import_moves.run(args.rows, max(args.rows // 10, 1), Path(tmp), backends)
        if "demo" in only:
            from benchmarks import demo_org

            rows += demo_org.run(args.people, Path(tmp), backends)
        if "plan-all" in only:
            from benchmarks import plan_all

            rows += plan_all.run(args.plan_people, Path(tmp), backends[:1], args.workers)
        if "routes" in only:
            from benchmarks import routes

            rows += routes.run(args.routes_people, Path(tmp), backends[0])
        if "marketplace" in only:
            from benchmarks import marketplace

            rows += marketplace.run(args.market_people, args.market_extra, Path(tmp), backends[0])
    print_rows(rows)


if __name__ == "__main__":
    main()
