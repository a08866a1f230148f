"""What both solvers share around the optimisation: already-ready check, fallback, binding constraints.

A backend answers three questions: the k best ready plans, the k best fallback plans, and whether a ready
plan exists. :func:`drive` turns the answers into a :class:`PlanResult` with alternatives, unreachable
skills, binding constraints and explanations.
"""

from __future__ import annotations

from typing import Protocol

from micromoves.planning._core import build_result, is_ready, relaxed, unreachable_skills
from micromoves.planning.explain import explain as explain_plan
from micromoves.planning.model import RELAXATIONS, PlanningError, PlanProblem, PlanResult, Status


class Backend(Protocol):
    def ready_plans(self, problem: PlanProblem, k: int) -> list[tuple[dict[str, int], bool]]:
        """Up to k best irredundant ready plans as ({option id: start}, proven optimal), best first."""
        ...

    def fallback_plans(self, problem: PlanProblem, k: int) -> list[tuple[dict[str, int], bool]]:
        """Up to k best irredundant plans by (weighted gap at the horizon, effort, moves)."""
        ...

    def ready_feasible(self, problem: PlanProblem) -> bool:
        """Does any plan make the person ready within the horizon?"""
        ...


def drive(problem: PlanProblem, k: int, backend: Backend, *, explain: bool = True) -> PlanResult:
    if not isinstance(problem, PlanProblem):
        raise PlanningError("problem", f"must be a PlanProblem, got {type(problem).__name__}")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise PlanningError("k", f"must be a positive integer, got {k!r}")
    status: Status
    unreachable: tuple[str, ...] = ()
    binding: tuple[str, ...] = ()
    plans: list[tuple[dict[str, int], bool]]
    if is_ready(problem, problem.levels):
        status, plans = "already_ready", [({}, True)]
    else:
        # A required skill that even every option together cannot bring to its level (time and rules
        # ignored: a relaxation) rules out every ready plan; the ready search would only prove that, after
        # its preprocessing (a fifth of the people of the demo organisation, 18 ms each).
        unreachable = unreachable_skills(problem)
        plans = [] if unreachable else backend.ready_plans(problem, k)
        status = "ready"
        if not plans:
            status = "unreachable"
            plans = backend.fallback_plans(problem, k)
            if not unreachable:
                binding = tuple(r for r in RELAXATIONS if backend.ready_feasible(relaxed(problem, r)))
    results = []
    for starts, optimal in plans:
        result = build_result(problem, status, starts, optimal=optimal)
        result = _with(result, unreachable, binding, ())
        if explain:
            result = _with(result, unreachable, binding, explain_plan(problem, result))
        results.append(result)
    best = results[0]
    return PlanResult(
        status=best.status,
        ready_week=best.ready_week,
        effort=best.effort,
        moves=best.moves,
        gap=best.gap,
        final_levels=best.final_levels,
        unreachable_skills=unreachable,
        binding=binding,
        alternatives=tuple(results[1:]),
        explanation=best.explanation,
        optimal=best.optimal,
    )


def _with(
    result: PlanResult, unreachable: tuple[str, ...], binding: tuple[str, ...], explanation: tuple[str, ...]
) -> PlanResult:
    return PlanResult(
        status=result.status,
        ready_week=result.ready_week,
        effort=result.effort,
        moves=result.moves,
        gap=result.gap,
        final_levels=result.final_levels,
        unreachable_skills=unreachable,
        binding=binding,
        explanation=explanation,
        optimal=result.optimal,
    )
