"""Alternate routes around a congested slot (the congestion report's "alternate routes" page at its largest,
``limit=20``) on the demo organisation users see (2,000 people, built as of today).

Two states of the demo: as it is built (the seeded bottleneck, wanted by a crowd of applicants none of whom
has a plan yet: each route searches with the slot, and again without it if that plan takes it), then after
``plan-all`` (every template slot flagged as a bottleneck, wanted by people whose current plans take it: the
current plan stands in for the search with the slot). Measured: ``congestion.alternate_routes``, the one
service call behind the HTML page, its JSON twin and the CLI, with the O*NET data already loaded (as in a
server after its first page). Reference, measured in the same run: the same people's routes asked one by
one (``congestion.alternate_route``, each loading the catalogue, the opportunities and its target alone).

Today's date matters: routes plan from next Monday, and a current plan stands in for a search only if it
was made for that start, so the demo and plan-all run as of today, like ``make demo``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from benchmarks.common import Row, console, fresh_database, timed
from micromoves.services import congestion, planning
from micromoves.services.accounts import Access, Principal
from micromoves.services.demo import BOTTLENECK_ID, generate_demo
from micromoves.services.policy import Policy
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.taxonomy.onet import load_onet

LIMIT = 20
TARGET_SECONDS = 2.0


def run(people: int, tmp: Path, backend: str = "sqlite") -> list[Row]:
    db = fresh_database(backend, "micromoves_bench_routes", str(tmp))
    with timed() as gen:
        generate_demo(db, people=people)
    console.print(f"demo of {people:,} people generated in {gen[0]:.1f} s")
    admin = Policy(db, Principal(0, "bench", Access.ADMIN, None))
    load_onet()
    with db.engine.connect() as conn:
        seeded = conn.scalar(select(t.opportunities.c.template_id).where(t.opportunities.c.id == BOTTLENECK_ID))
    assert seeded is not None
    out = [measure(db, admin, backend, f"{people:,} people as built, the seeded bottleneck {seeded}", seeded)]
    with timed() as box:
        summary = planning.plan_all(db, actor="bench")
    console.print(f"plan-all: {summary.people:,} plans in {box[0]:.1f} s")
    report = congestion.congestion(db, admin)
    busiest = [s for s in report.slots if s.bottleneck and s.slot == "template" and s.template_id][:3]
    for s in busiest:
        assert s.template_id is not None
        what = f"{people:,} people after plan-all, {s.template_id} ({s.demand} want it)"
        out.append(measure(db, admin, backend, what, s.template_id))
    db.dispose()
    return out


def measure(db: Database, admin: Policy, backend: str, what: str, template_id: str) -> Row:
    with timed() as box:
        page = congestion.alternate_routes(db, admin, template_id, limit=LIMIT)
    with timed() as ref:
        for route in page.routes:
            congestion.alternate_route(db, admin, route.person_id, template_id)
    proven = sum(r.proven_optimal for r in page.routes)
    return Row(
        "alternate routes",
        backend,
        f"{what}, limit {LIMIT}",
        box[0],
        f"{len(page.routes)} routes ({proven} proven), {len(page.not_planned)} not planned; "
        f"{box[0] / max(1, len(page.routes)) * 1000:.0f} ms per route",
        "the same routes one by one",
        ref[0],
        f"≤ {TARGET_SECONDS:g} s",
    )
