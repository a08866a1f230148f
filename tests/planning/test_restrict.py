"""The restricted problem around a plan (planning.restrict): what a batch stores when the exact search runs
out of time must be a valid plan of the full problem, no worse than the greedy plan it started from."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from micromoves.planning import MoveOption, PlanProblem, check_plan, solve
from micromoves.planning.restrict import as_plan_of, restricted
from micromoves.planning.solver import NoPlanFound, solve_greedy
from tests.planning.strategies import problems


def _raiser(i: int, duration: int, gain: int) -> MoveOption:
    return MoveOption(id=f"r{i}", kind="gig", duration=duration, share=20, gains={"data": gain})


def test_restricted_keeps_the_plan_the_fastest_raisers_and_their_prerequisites() -> None:
    lead = MoveOption(id="lead", kind="temporary_lead", duration=4, share=50, gains={"people": 10})
    late_lead = MoveOption(id="late-lead", kind="temporary_lead", duration=12, share=50, gains={"people": 10})
    acting = MoveOption(
        id="acting",
        kind="acting_role",
        duration=8,
        share=50,
        gains={"data": 300},
        requires_kinds=frozenset({"temporary_lead"}),
    )
    slow = [_raiser(i, duration=20, gain=10) for i in range(10)]  # far behind on every ranking
    fast = [_raiser(10 + i, duration=4, gain=100 + i) for i in range(5)]
    unrelated = MoveOption(id="u", kind="gig", duration=2, share=10, gains={"sales": 100})
    problem = PlanProblem(
        levels={"data": 100},
        requirements={"data": 400},
        options=[*slow, *fast, acting, lead, late_lead, unrelated],
        depth_rule=False,
    )
    kept = {o.id for o in restricted(problem, ["r0"], per_skill=2).options}
    assert "r0" in kept  # the plan it starts from
    assert {"acting", "r14", "r13"} <= kept  # the largest increments per week
    assert "lead" in kept and "late-lead" in kept  # acting needs a temporary lead; both end within reach
    assert "u" not in kept and not kept & {f"r{i}" for i in range(1, 10)}
    assert len(kept) < len(problem.options)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems(max_options=9, max_horizon=20))
@pytest.mark.heavy
def test_the_restricted_optimum_is_a_valid_plan_between_the_optimum_and_the_greedy_plan(problem: PlanProblem) -> None:
    try:
        greedy = solve_greedy(problem, explain=False)
    except NoPlanFound:
        return
    if greedy.status != "ready" or not greedy.moves:
        return
    around = restricted(problem, [m.option_id for m in greedy.moves], per_skill=1)
    found = solve(around, explain=False)
    assert found.status == "ready" and found.objective <= greedy.objective  # the greedy plan is one of its plans
    plan = as_plan_of(problem, found)
    assert check_plan(problem, plan) == []  # the independent validator, on the full problem
    assert not plan.optimal and plan.explanation
    assert (plan.ready_week, plan.effort, len(plan.moves)) == (found.ready_week, found.effort, len(found.moves))
    assert solve(problem, explain=False).objective <= plan.objective
