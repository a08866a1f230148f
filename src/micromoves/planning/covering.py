"""The covering relaxation of the fallback problem, solved exactly with CP-SAT (see
:meth:`micromoves.planning.solver._Search.covering_plan`, which says why it is a relaxation and when its answer
is an optimal plan). A module of its own: the compiled copy of the solver calls it as plain Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ortools.sat.python import cp_model


def least_covering(
    efforts: Sequence[int],
    prerequisites: Sequence[tuple[str, Sequence[str], Sequence[tuple[int, int]]]],
    rows: Mapping[int, Sequence[tuple[int, int, int, int, int]]],
    needs: Sequence[tuple[int, int]],
    excluded: Sequence[tuple[int, ...]],
    seconds: float | None,
    deterministic_time: float,
) -> tuple[int, ...] | None:
    """The options (ascending; option i costs ``efforts[i]``) of least (effort, count) whose increments cover
    every need, or None if CP-SAT does not prove one optimal within its limits.

    ``prerequisites[i]``: option i's kind, the kinds it requires and (skill, increase over the initial level
    it requires); a chosen option needs another chosen option of each required kind and the others'
    increments on each such skill to reach the increase (necessary for a schedule, not sufficient).
    ``rows[s]``: the options raising skill ``s`` as (option, bit, increment, cap, earliest end); ``needs``:
    (skill, units to cover). An option counts ``min(increment, need)`` towards a need. ``excluded``: sets of
    options that are not an answer (each that exact set only, not its subsets or supersets). One worker and a
    deterministic-time limit: the same problem gets the same answer however busy the machine is (``seconds``,
    wall clock, only stops it sooner)."""
    model = cp_model.CpModel()
    # Every option, also those raising no needed skill: a plan's other moves (a prerequisite kind, say) are
    # part of the point that stands for it, so excluding a set that is not a plan excludes no plan.
    take = {i: model.new_bool_var(f"x{i}") for i in range(len(efforts))}
    for s, need in needs:
        model.add(sum(min(u, need) * take[i] for i, _bit, u, _cap, _end in rows.get(s, [])) >= need)
    of_kind: dict[str, list[int]] = {}
    for i, (kind, _kinds, _levels) in enumerate(prerequisites):
        of_kind.setdefault(kind, []).append(i)
    for i, (_kind, kinds, levels) in enumerate(prerequisites):
        for kind in kinds:
            model.add(sum(take[j] for j in of_kind.get(kind, []) if j != i) >= take[i])
        for s, increase in levels:
            raisers = sum(u * take[j] for j, _bit, u, _cap, _end in rows.get(s, []) if j != i)
            model.add(raisers >= increase * take[i])
    for chosen in excluded:
        inside = set(chosen)
        model.add(sum(x if i in inside else -x for i, x in take.items()) <= len(inside) - 1)
    # (effort, count) lexicographically: one more option never outweighs one unit of effort
    model.minimize(sum((efforts[i] * (len(take) + 1) + 1) * x for i, x in take.items()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = deterministic_time
    if seconds is not None:
        solver.parameters.max_time_in_seconds = seconds
    if solver.solve(model) != cp_model.OPTIMAL:
        return None
    return tuple(sorted(i for i, x in take.items() if solver.value(x)))
