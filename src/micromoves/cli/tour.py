"""The short tour printed after `micromoves demo`: what was built and what a move history looks like."""

from __future__ import annotations

from rich.rule import Rule

from micromoves.cli.render import console, esc, print_move, table
from micromoves.services import moves as move_svc
from micromoves.services import org
from micromoves.services.demo import DemoSummary
from micromoves.storage.db import Database


def print_tour(db: Database, s: DemoSummary) -> None:
    console.print(Rule("micromoves demo organisation"))
    console.print(
        f"{s.people:,} people in {s.teams} teams, {s.roles} roles from O*NET 29.3, {s.moves:,} moves with "
        f"{s.criteria:,} success criteria, {s.check_ins:,} check-ins and {s.skill_gains:,} recorded skill gains — "
        f"3 years of history up to {s.as_of} (seed {s.seed}), generated in {s.elapsed_seconds:.1f} s"
    )
    console.print(
        table(
            "moves per kind",
            ["kind", "moves"],
            [[k, f"{n:,}"] for k, n in sorted(s.moves_by_kind.items(), key=lambda kv: -kv[1])],
        )
    )
    console.print(
        table(
            "moves per status",
            ["status", "moves"],
            [[k, f"{n:,}"] for k, n in sorted(s.moves_by_status.items(), key=lambda kv: -kv[1])],
        )
    )

    overview = org.person_overview(db, s.tour_person_id)
    p = overview.person
    console.print(
        Rule(f"one person's path: {esc(p.name)} ({p.id}), {esc(overview.role.title if overview.role else '')}")
    )
    console.print(
        table(
            "role history",
            ["role", "from", "to", "reason"],
            [[a.role_id, a.start, a.end or "now", a.reason.value] for a in overview.assignments],
        )
    )
    names = {lvl.skill_id: name for lvl, name in overview.skills}
    for move in overview.moves:
        print_move(move, skill_names=names)
    if s.reverted_move_id:
        console.print(Rule("a trial that was reverted"))
        print_move(move_svc.get_move(db, s.reverted_move_id), skill_names=names)
    console.print(Rule("try next"))
    console.print(f"  micromoves people show {p.id}")
    console.print("  micromoves moves list --status active")
    if s.reverted_move_id:
        console.print(f"  micromoves moves show {s.reverted_move_id}")
    if s.handoff_move_id:
        console.print(f"  micromoves handoff {s.handoff_move_id}    # who hands what over, until when, who backfills")
    console.print("  micromoves audit --limit 10")
