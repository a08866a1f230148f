"""The short tour printed after `micromoves demo`: what was built and what a move history looks like."""

from __future__ import annotations

from typing import Any

from rich.markup import escape as esc
from rich.rule import Rule

from micromoves.cli.render import console, print_move, table
from micromoves.services import moves as move_svc
from micromoves.services import org
from micromoves.storage.db import Database


def print_tour(db: Database, summary: Any) -> None:
    counts = summary.counts
    console.print(Rule("micromoves demo organisation"))
    console.print(
        f"{counts['people']:,} people in {counts['teams']} teams, {counts['roles']} roles from O*NET 29.3, "
        f"{counts['moves']:,} moves with {counts['criteria']:,} success criteria and {counts['check_ins']:,} "
        f"check-ins — generated in {summary.seconds:.1f} s"
    )
    by_kind = counts["by_kind"]
    console.print(table("moves per kind", ["kind", "moves"], [[k, f"{n:,}"] for k, n in sorted(by_kind.items())]))
    by_status = counts["by_status"]
    console.print(table("moves per status", ["status", "moves"], [[k, f"{n:,}"] for k, n in sorted(by_status.items())]))

    overview = org.person_overview(db, summary.tour_person_id)
    p = overview.person
    console.print(Rule(f"one person's path: {esc(p.name)} ({p.id})"))
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
    console.print(Rule("a trial that was reverted"))
    print_move(move_svc.get_move(db, summary.reverted_move_id))
    console.print(Rule("next"))
    console.print(f"  micromoves people show {p.id}      micromoves moves list --status active")
    console.print(f"  micromoves moves show {summary.reverted_move_id}   micromoves audit --limit 10")
