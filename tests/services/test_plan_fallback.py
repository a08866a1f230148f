"""What a batch stores when the exact search runs out of time: the greedy plan, improved by the exact search
on small catalogues around it (services.planning._improved, planning.restrict).

The instance is a person of the 2,000-person demo (seed 3) whose search did not finish in plan-all's 2 s,
cut to the catalogue around their greedy plan (80 options; O*NET levels, see the package's NOTICE). Around
its greedy plan, the largest catalogue (three raisers per skill) is not solved in a quarter of the step
budget, so the greedy plan was stored; the smaller catalogues, tried first, are solved at once and give a
plan ready weeks earlier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from micromoves.planning import MoveOption, PlanProblem, check_plan, solve
from micromoves.planning.restrict import restricted
from micromoves.planning.solver import SearchTimeout, solve_greedy
from micromoves.services import planning

STEPS = 40_000  # the step budget of a deterministic solve_within (a quarter of it for the improvement)


def _demo_problem() -> PlanProblem:
    raw: dict[str, Any] = json.loads(
        (Path(__file__).parent.parent / "planning/data/demo_search_out_of_time.json").read_text()
    )
    options = [
        MoveOption(**{**o, "requires_kinds": frozenset(o.get("requires_kinds", ()))}) for o in raw.pop("options")
    ]
    return PlanProblem(**raw, options=options)


def test_smaller_catalogues_around_the_greedy_plan_find_an_earlier_plan_where_the_largest_runs_out_of_steps() -> None:
    problem = _demo_problem()
    greedy = solve_greedy(problem, explain=False)
    assert greedy.status == "ready"
    # What was stored before: the largest catalogue alone, not solved within the same quarter of the steps.
    largest = restricted(problem, [m.option_id for m in greedy.moves], per_skill=planning.NEIGHBOURHOODS[-1])
    try:
        alone = solve(largest, k=1, explain=False, step_limit=int(planning.RESTRICTED_SHARE * STEPS)).objective
    except SearchTimeout:
        alone = greedy.objective
    improved = planning._improved(problem, greedy, budget=60.0, steps=STEPS)
    assert improved.status == "ready" and not improved.optimal
    assert check_plan(problem, improved) == []  # the independent validator, on the whole problem
    assert improved.ready_week < alone[1] <= greedy.ready_week, (improved.objective, alone, greedy.objective)
    # Deterministic under a step budget: the same plan again.
    again = planning._improved(problem, greedy, budget=60.0, steps=STEPS)
    assert [(m.option_id, m.start) for m in again.moves] == [(m.option_id, m.start) for m in improved.moves]


def test_without_time_left_the_greedy_plan_is_kept() -> None:
    problem = _demo_problem()
    greedy = solve_greedy(problem, explain=False)
    assert planning._improved(problem, greedy, budget=0.0, steps=None) is greedy
