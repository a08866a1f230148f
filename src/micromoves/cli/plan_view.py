"""The plan as a Rich timeline: one bar per step across the weeks, then the explanation."""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.markup import escape
from rich.table import Table

from micromoves.cli.render import console, esc
from micromoves.domain.model import Plan
from micromoves.planning.explain import Subject, readdress

KIND_STYLE = {
    "course": "cyan",
    "shadowing": "blue",
    "mentoring": "blue",
    "gig": "green",
    "stretch_assignment": "yellow",
    "rotation": "magenta",
    "temporary_lead": "red",
    "acting_role": "bold red",
    "lateral_swap": "magenta",
    "responsibility_handoff": "yellow",
}


def timeline(steps: list[dict[str, Any]], horizon: int, width: int = 52) -> Table:
    last = max([s["end_week"] for s in steps] + [1])
    span = min(horizon, max(last + 2, 12))
    scale = width / span
    grid = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    grid.add_column("step")
    grid.add_column("weeks", justify="right")
    grid.add_column(f"0{'':{'─'}>{width - 8}}{span}w".replace(" ", "─"), no_wrap=True)
    for i, s in enumerate(steps, 1):
        a, b = int(s["start_week"] * scale), max(int(s["start_week"] * scale) + 1, int(s["end_week"] * scale))
        style = KIND_STYLE.get(s["kind"], "white")
        bar = " " * a + f"[{style}]" + "█" * (b - a) + "[/]" + " " * (width - b)
        depth = " [bold]◆[/]" if s.get("depth_step") else ""
        grid.add_row(f"{i}. {esc(s['title'])}{depth}", f"{s['start_week']}–{s['end_week']}", bar)
    return grid


def for_reader(plan: Plan, subject: Subject) -> Plan:
    """The plan with its explanations (the plan's and each alternative's) as they read to ``subject``'s
    reader: a plan is stored speaking to its person, "you already hold …"."""
    if subject.is_reader:
        return plan
    e = plan.explanation
    return dataclasses.replace(
        plan,
        explanation={**e, "lines": readdress(e.get("lines", []), subject)},
        alternatives=[{**a, "explanation": readdress(a.get("explanation", []), subject)} for a in plan.alternatives],
    )


def print_plan(plan: Plan, *, person_name: str, target_title: str, subject: Subject) -> None:
    """The plan as ``subject``'s reader reads it: "you" to the person only (see :func:`for_reader`)."""
    plan = for_reader(plan, subject)
    e = plan.explanation
    names: dict[str, str] = e.get("skill_names", {})
    name = f"Plan v{plan.version}" if plan.version else "What-if plan"  # version 0: not stored
    header = f"[bold]{name}[/] for {esc(person_name)} → {esc(target_title)} (from {plan.start})"
    if plan.outcome == "already_ready":
        console.print(header + ": [green]already ready[/]")
    elif plan.outcome == "ready":
        console.print(
            header + f": [green]ready in {plan.ready_week} weeks[/] with {len(plan.steps)} "
            f"{'move' if len(plan.steps) == 1 else 'moves'}, "
            f"effort {plan.effort / 100:.1f} full-time weeks"
        )
    elif e.get("ready_plan_may_exist"):
        console.print(
            header + ": [yellow]no ready plan found within the time limit[/] (one may exist); nearest plan below"
        )
    else:
        console.print(header + f": [yellow]not reachable within {plan.horizon_weeks} weeks[/]; closest plan below")
    if not e.get("optimal", True) and not e.get("ready_plan_may_exist"):
        console.print("  [yellow]the best plan found within the time limit: not proven optimal[/]")
    if plan.steps:
        console.print(timeline(plan.steps, plan.horizon_weeks))
        console.print(
            f"[dim]◆ depth step: deepens a target skill {escape(subject.does('already hold', 'already holds'))}[/]"
        )
    for line in e.get("lines", []):
        console.print(f"  {esc(str(line))}")
    # Skills out of reach only because the horizon is too short for the moves that build them are not the
    # catalogue's fault: said apart (the horizon note above names them).
    by_horizon = set(e.get("horizon_bound_skills") or [])
    unreachable = [s for s in e.get("unreachable_skills") or [] if s not in by_horizon]
    if by_horizon:
        console.print(
            "  out of reach within the horizon: " + ", ".join(esc(names.get(s, s)) for s in sorted(by_horizon))
        )
    if unreachable:
        console.print("  unreachable with today's catalogue: " + ", ".join(esc(names.get(s, s)) for s in unreachable))
    if e.get("binding"):
        console.print(f"  would become reachable with: {', '.join(map(str, e['binding']))}")
    for n, alt in enumerate(plan.alternatives, 1):
        when = f"ready in {alt['ready_week']} weeks" if alt["outcome"] != "unreachable" else f"gap {alt['gap']}"
        titles = "; ".join(esc(s["title"]) for s in alt["steps"])
        console.print(f"  alternative {n}: {when}, effort {alt['effort'] / 100:.1f} FTE-weeks — {titles}")
