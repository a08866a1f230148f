"""Reference solvers for tests: the same problem as a CP-SAT model, and brute force for tiny instances.

Deliberately independent of the network construction in :mod:`micromoves.allocation.solver`: one Boolean
per candidate pair and the constraints written as sums.
"""

from __future__ import annotations

import itertools

import numpy as np
from ortools.sat.python import cp_model

from micromoves.allocation.model import AllocationError, AllocationProblem, AllocationResult, violations


def solve_reference(problem: AllocationProblem, *, time_limit: float = 30.0) -> AllocationResult:
    """The optimum by CP-SAT (proven optimal, or an error)."""
    p = problem
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{k}") for k in range(p.n_pairs)]
    by_person: dict[int, list[int]] = {}
    by_opp: dict[int, list[int]] = {}
    by_team: dict[int, list[int]] = {}
    for k in range(p.n_pairs):
        i, j = int(p.pair_person[k]), int(p.pair_opportunity[k])
        by_person.setdefault(i, []).append(k)
        by_opp.setdefault(j, []).append(k)
        by_team.setdefault(int(p.person_team[i]), []).append(k)
    for i, ks in by_person.items():
        model.add(sum(x[k] for k in ks) <= int(p.person_seats[i]))
    for j, ks in by_opp.items():
        model.add(sum(x[k] for k in ks) <= int(p.opportunity_seats[j]))
    for team, ks in by_team.items():
        model.add(sum(x[k] for k in ks) <= int(p.team_limit[team]))
    model.maximize(sum(int(p.pair_score[k]) * x[k] for k in range(p.n_pairs)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    if status != cp_model.OPTIMAL:
        raise AllocationError(f"CP-SAT did not prove optimality ({solver.status_name(status)})")
    chosen = np.array([k for k in range(p.n_pairs) if solver.value(x[k])], dtype=np.int64)
    return AllocationResult(chosen, int(p.pair_score[chosen].sum()) if len(chosen) else 0)


def solve_brute_force(problem: AllocationProblem) -> AllocationResult:
    """The optimum by trying every subset of pairs with a positive score (≤ 16 such pairs)."""
    positive = [k for k in range(problem.n_pairs) if problem.pair_score[k] > 0]
    if len(positive) > 16:
        raise AllocationError("brute force is for at most 16 positive pairs")
    best: tuple[int, tuple[int, ...]] = (0, ())
    for r in range(1, len(positive) + 1):
        for combo in itertools.combinations(positive, r):
            value = int(problem.pair_score[list(combo)].sum())
            if value > best[0] and not violations(problem, combo):
                best = (value, combo)
    return AllocationResult(np.array(best[1], dtype=np.int64), best[0])
