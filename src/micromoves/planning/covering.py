"""The covering relaxation of the fallback problem, solved exactly with CP-SAT (see
:meth:`micromoves.planning.solver._Search.covering_plan`, which says why it is a relaxation and when its answer
is an optimal plan). A module of its own: the compiled copy of the solver calls it as plain Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model


@dataclass(frozen=True)
class CoveringProblem:
    """Which sets of options could make up a plan, as far as increments, prerequisites and room tell.

    * ``options[i]``: (effort, duration, lane-weeks) of option i.
    * ``prerequisites[i]``: option i's kind, the kinds it requires and (skill, increase over the initial level
      it requires). A chosen option needs another chosen option of each kind it requires, and the others'
      increments on each such skill must reach the increase (necessary for a schedule, not sufficient).
    * ``rows[s]``: the options raising skill ``s`` as (option, bit, increment, cap, earliest end).
    * ``needs``: (skill, units up to its reachable level, weight): an option counts ``min(increment, need)``
      towards a need, and a need counts at most once in full.
    * ``room``: capacity, move-weeks, lane-weeks and moves that moves ending by the horizon can use.
    """

    options: Sequence[tuple[int, int, int]]
    prerequisites: Sequence[tuple[str, Sequence[str], Sequence[tuple[int, int]]]]
    rows: Mapping[int, Sequence[tuple[int, int, int, int, int]]]
    needs: Sequence[tuple[int, int, int]]
    room: tuple[int, int, int, int]


def best_coverage(problem: CoveringProblem, seconds: float | None, deterministic_time: float) -> int | None:
    """The most weighted coverage ``Σ weight · covered`` any set can reach, or None if not proven in time."""
    model, _take, coverage = _model(problem)
    model.maximize(coverage)
    solver = _solver(seconds, deterministic_time)
    if solver.solve(model) != cp_model.OPTIMAL:
        return None
    return round(solver.objective_value)


def least_covering(
    problem: CoveringProblem,
    coverage: int,
    excluded: Sequence[tuple[int, ...]],
    seconds: float | None,
    deterministic_time: float,
) -> tuple[int, ...] | None:
    """The options (ascending) of the set of least (effort, count) reaching ``coverage``, or None if CP-SAT
    does not prove one optimal within its limits. ``excluded``: sets that are not an answer (each that exact
    set only, not its subsets or supersets).

    One worker and a deterministic-time limit: the same problem gets the same answer however busy the machine
    is (``seconds``, wall clock, only stops it sooner)."""
    model, take, reached = _model(problem)
    if problem.needs:
        model.add(reached >= coverage)
    for chosen in excluded:
        inside = set(chosen)
        model.add(sum(x if i in inside else -x for i, x in take.items()) <= len(inside) - 1)
    # (effort, count) lexicographically: one more option never outweighs one unit of effort
    model.minimize(sum((problem.options[i][0] * (len(take) + 1) + 1) * x for i, x in take.items()))
    solver = _solver(seconds, deterministic_time)
    if solver.solve(model) != cp_model.OPTIMAL:
        return None
    return tuple(sorted(i for i, x in take.items() if solver.value(x)))


def _model(problem: CoveringProblem) -> tuple[cp_model.CpModel, dict[int, cp_model.IntVar], cp_model.LinearExpr]:
    model = cp_model.CpModel()
    # Every option, also those raising no needed skill: a plan's other moves (a prerequisite kind, say) are
    # part of the point that stands for it, so excluding a set that is not a plan excludes no plan.
    take = {i: model.new_bool_var(f"x{i}") for i in range(len(problem.options))}
    covered = []
    for s, need, weight in problem.needs:
        part = model.new_int_var(0, need, f"covered{s}")
        model.add(part <= sum(min(u, need) * take[i] for i, _bit, u, _cap, _end in problem.rows.get(s, [])))
        covered.append(weight * part)
    of_kind: dict[str, list[int]] = {}
    for i, (kind, _kinds, _levels) in enumerate(problem.prerequisites):
        of_kind.setdefault(kind, []).append(i)
    for i, (_kind, kinds, levels) in enumerate(problem.prerequisites):
        for kind in kinds:
            model.add(sum(take[j] for j in of_kind.get(kind, []) if j != i) >= take[i])
        for s, increase in levels:
            raisers = sum(u * take[j] for j, _bit, u, _cap, _end in problem.rows.get(s, []) if j != i)
            model.add(raisers >= increase * take[i])
    for k, limit in enumerate(problem.room[:3]):
        model.add(sum(problem.options[i][k] * x for i, x in take.items()) <= limit)
    model.add(sum(take.values()) <= problem.room[3])
    return model, take, cp_model.LinearExpr.sum(covered)


def _solver(seconds: float | None, deterministic_time: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = deterministic_time
    if seconds is not None:
        solver.parameters.max_time_in_seconds = seconds
    return solver
