"""Prices for the exact planner's Lagrangian covering bound (see :meth:`micromoves.planning.solver._Search.priced`):
the duals of a small LP solved with GLOP. A module of its own: the compiled copy of the solver calls it as plain
Python, and it imports only ortools' linear solver (CP-SAT's Python layer, in :mod:`.covering`, pulls in pandas).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def cover_prices(
    costs: Sequence[int],
    rows: Mapping[int, Sequence[tuple[int, int, int, int, int]]],
    needs: Sequence[tuple[int, int]],
) -> dict[int, float]:
    """Prices per unit of each need ``(skill, units)``: the dual values of the LP relaxation of "the least
    total cost of options whose increments ``min(u, units)`` cover every need" (``rows[s]``: the options
    raising skill s as (option, bit, increment, cap, earliest end)). Any non-negative prices give a valid
    lower bound (see the solver); the LP optimum's are the best single choice for the root. {} if GLOP is
    missing or does not solve it."""
    from ortools.linear_solver import pywraplp

    lp = pywraplp.Solver.CreateSolver("GLOP")
    if lp is None:
        return {}
    take: dict[int, pywraplp.Variable] = {}
    for s, _units in needs:
        for i, _bit, _u, _cap, _end in rows.get(s, []):
            if i not in take:
                take[i] = lp.NumVar(0.0, 1.0, f"x{i}")
    covers = []
    for s, units in needs:
        raised = [min(u, units) * take[i] for i, _bit, u, _cap, _end in rows.get(s, [])]
        covers.append((s, lp.Add(lp.Sum(raised) >= units)))
    lp.Minimize(lp.Sum([costs[i] * x for i, x in take.items()]))
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return {}
    return {s: max(0.0, constraint.dual_value()) for s, constraint in covers}
