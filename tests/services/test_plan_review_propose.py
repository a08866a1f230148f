"""Review of turning a plan's step into a move (planning.propose_from_plan)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from micromoves.domain.errors import InvalidValue
from micromoves.services import catalogue, planning
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_planning_service import START, plan_db  # noqa: F401 (a fixture)


def _plan_with_window(db: Database, latest_start: dt.date = dt.date(2026, 2, 2)) -> int:
    """A plan from START (2026-01-05) whose only step is a template that may start no later than
    ``latest_start``; its step number."""
    catalogue.add_template(
        db,
        id="T-WINDOW",
        kind="acting_role",
        title="Acting lead while the lead is away",
        duration_weeks=4,
        percent_time=50,
        gains={"Programming": 1.0, "Critical Thinking": 1.0},
        latest_start=latest_start,
        actor="hr",
    )
    plan = planning.plan_for_person(db, "EMP", actor="EMP", start=START).plan
    assert [s["template_id"] for s in plan.steps] == ["T-WINDOW"]
    return 1


def test_a_step_whose_window_has_passed_is_not_proposed(plan_db: Database) -> None:  # noqa: F811
    """The template could start until 2026-02-02; today is later. Proposing the step made a move the catalogue no
    longer offers on any date; it is refused, naming the step, and nothing is written."""
    step = _plan_with_window(plan_db)
    with pytest.raises(InvalidValue, match="2026-02-02, has passed") as info:
        planning.propose_from_plan(plan_db, "EMP", step, actor="EMP")
    assert info.value.field == "step"
    with plan_db.engine.connect() as conn:
        assert conn.scalar(t.moves.select().with_only_columns(t.moves.c.id)) is None


def test_a_step_whose_window_is_open_is_proposed(plan_db: Database) -> None:  # noqa: F811
    step = _plan_with_window(plan_db, dt.date.today() + dt.timedelta(days=30))
    move = planning.propose_from_plan(plan_db, "EMP", step, actor="EMP")
    assert move.template_id == "T-WINDOW"


def test_a_step_whose_template_was_retired_is_not_proposed(plan_db: Database) -> None:  # noqa: F811
    step = _plan_with_window(plan_db, dt.date.today() + dt.timedelta(days=30))
    with plan_db.write_engine.begin() as conn:
        conn.execute(update(t.move_templates).where(t.move_templates.c.id == "T-WINDOW").values(active=False))
    with pytest.raises(InvalidValue, match="no longer offered") as info:
        planning.propose_from_plan(plan_db, "EMP", step, actor="EMP")
    assert info.value.field == "step"


def test_a_steps_success_criteria_name_the_levels_the_plan_expects(plan_db: Database) -> None:  # noqa: F811
    """Programming at 3.46: the stretch (+1.0) takes it to 4.46. Its criterion read "Programming reaches 4.5
    (from 3.5)": rounded to one decimal, it asked the reviewer for more than the plan expects."""
    from micromoves.services import org

    org.assess_skill(
        plan_db, person_id="EMP", skill="Programming", level=3.46, provenance="manager", actor="MGR", on=START
    )
    plan = planning.plan_for_person(plan_db, "EMP", actor="EMP", start=START).plan
    step = [s["template_id"] for s in plan.steps].index("T-STRETCH") + 1
    move = planning.propose_from_plan(plan_db, "EMP", step, actor="EMP")
    statements = [c.statement for c in move.criteria]
    assert "Programming reaches 4.46 (from 3.46), confirmed at review" in statements
