"""Review of the plan's Rich timeline: user text is printed as written."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from micromoves.cli import plan_view
from micromoves.domain.model import Plan, PlanStatus
from micromoves.planning.explain import Subject


def _render(monkeypatch: Any, plan: Plan, **kw: Any) -> str:
    console = Console(width=200, record=True, color_system=None)
    monkeypatch.setattr(plan_view, "console", console)
    plan_view.print_plan(plan, **kw)
    return console.export_text()


def _plan(titles: list[str]) -> Plan:
    import datetime as dt

    steps = [
        {
            "template_id": f"T{i}",
            "kind": "gig",
            "title": title,
            "start_week": 0,
            "end_week": 4,
            "start": "2026-01-05",
            "end": "2026-01-30",
            "percent_time": 20,
            "depth_step": i == 0,
            "gains": {},
        }
        for i, title in enumerate(titles)
    ]
    return Plan(
        person_id="P",
        target_role_id="R",
        created_by="x",
        start=dt.date(2026, 1, 5),
        horizon_weeks=104,
        outcome="ready",
        ready_week=4,
        effort=160,
        steps=steps,
        reason="requested",
        problem_digest=None,
        alternatives=[
            {"outcome": "ready", "ready_week": 6, "effort": 100, "gap": 0, "steps": steps, "explanation": []}
        ],
        explanation={"lines": []},
        version=1,
        created_at=dt.datetime(2026, 1, 1),
        status=PlanStatus.CURRENT,
    )


def test_text_ending_in_a_backslash_is_printed_as_written(monkeypatch: Any) -> None:
    r"""A step titled 'Backup to C:\' showed as 'Backup to C:\\' (Rich's escape doubles a final backslash, for
    markup that follows at once), in the timeline and among the alternatives; so did a name ending in one."""
    out = _render(
        monkeypatch,
        _plan(["Backup to C:\\", "[bold]Plain[/bold] \\"]),
        person_name="Ada \\",
        target_title="Lead [/]\\",
        subject=Subject.named("Ada \\"),
    )
    assert "\\\\" not in out, out
    assert "Plan v1 for Ada \\ → Lead [/]\\ (from 2026-01-05)" in out
    assert "1. Backup to C:\\ ◆" in out
    assert "2. [bold]Plain[/bold] \\" in out
    assert "Backup to C:\\; [bold]Plain[/bold] \\" in out
