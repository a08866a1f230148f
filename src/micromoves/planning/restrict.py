"""A smaller catalogue around a plan, for a better plan when the exact search runs out of time.

On the largest catalogues (300+ options) the exact search sometimes cannot prove its optimum within a batch's
time budget, and the greedy dive's plan it falls back on can be weeks later than the optimum. The exact
search on a *restricted* problem — the same person, target and rules, but only the options of that plan and,
per skill still short, the few that raise it fastest — is far smaller and usually finishes in a fraction of
the budget. Its optimum is a valid plan of the full problem (a plan only uses its own options, and every rule
is about those), and no worse than the plan it started from (that plan's options are all kept). It is not
proven optimal for the full problem and is marked so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from micromoves.planning._core import build_result
from micromoves.planning.explain import explain
from micromoves.planning.model import MoveOption, PlanProblem, PlanResult

PER_SKILL = 3  # options kept per skill and per ranking (fastest per week, per unit of effort, earliest end)
Ranking = Callable[[MoveOption], tuple[float, ...]]


def restricted(problem: PlanProblem, around: Iterable[str], per_skill: int = PER_SKILL) -> PlanProblem:
    """``problem`` with only the options ``around`` and, for every required skill still short (and every
    required skill already held at the depth level, for depth steps), the ``per_skill`` best raisers by
    increment per week, by increment per unit of effort and by earliest end; then, until nothing changes,
    for every kept option the options of each kind it requires that end earliest, and the raisers of each
    skill it needs a minimum level in (the fastest per week: a prerequisite is about getting there early)."""
    options = list(problem.options)
    levels = problem.levels
    keep = set(around)

    def increment(option: MoveOption, skill: str) -> int:
        return min(option.gains.get(skill, 0), max(0, option.gain_cap - levels.get(skill, 0)))

    def best(candidates: list[MoveOption], rankings: list[Ranking]) -> set[str]:
        return {o.id for rank in rankings for o in sorted(candidates, key=rank)[:per_skill]}

    def per_week(skill: str) -> Ranking:
        return lambda o: (-increment(o, skill) / o.duration, o.duration * o.share)

    def per_effort(skill: str) -> Ranking:
        return lambda o: (-increment(o, skill) / (o.duration * o.share), o.duration)

    def soonest(skill: str) -> Ranking:
        return lambda o: (o.earliest_start + o.duration, -increment(o, skill))

    def raisers(skill: str, rankings: tuple[Callable[[str], Ranking], ...]) -> set[str]:
        return best([o for o in options if increment(o, skill) > 0], [rank(skill) for rank in rankings])

    short = [s for s, need in problem.requirements.items() if levels.get(s, 0) < need - problem.tolerance]
    deep = [s for s in problem.requirements if levels.get(s, 0) >= problem.depth_level]
    for skill in short + deep:
        keep |= raisers(skill, (per_week, per_effort, soonest))
    done: set[str] = set()
    while pending := [o for o in options if o.id in keep and o.id not in done]:
        for option in pending:
            done.add(option.id)
            for kind in option.requires_kinds:
                of_kind = [o for o in options if o.kind == kind]
                keep |= best(of_kind, [lambda o: (o.earliest_start + o.duration, o.duration * o.share)])
            for skill in option.min_levels:
                keep |= raisers(skill, (per_week,))
    return replace(problem, options=tuple(o for o in options if o.id in keep))


def as_plan_of(problem: PlanProblem, plan: PlanResult) -> PlanResult:
    """A ready plan of a restricted problem as a plan of the full ``problem``: same moves and starts,
    explained against ``problem``, marked not proven optimal."""
    result = build_result(problem, "ready", {m.option_id: m.start for m in plan.moves}, optimal=False)
    return replace(result, explanation=explain(problem, result))
