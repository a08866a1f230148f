"""The exact allocation: OR-Tools min-cost flow on a five-layer network.

The network
-----------
``source → team k`` (capacity ``team_limit[k]``) ``→ person i`` (capacity ``person_seats[i]``)
``→ opportunity j`` (one arc per candidate pair, capacity 1, cost ``−score``) ``→ sink`` (capacity
``opportunity_seats[j]``), plus a **bypass** arc ``source → sink`` with cost 0 and capacity equal to the
supply. The source supplies ``S`` units (any ``S`` at least the largest possible allocation) and the sink
absorbs them; every unit that would not earn anything takes the bypass. So a minimum-cost flow maximises the
total score — it never forces an assignment just to push more flow — and pairs with a score ≤ 0 are left out
of the network (they could only lower the objective or tie with not assigning; they are never chosen).

Why this is exact
-----------------
Each person sits in exactly one team, so the team and person layers form a tree under the source: a flow
unit from the source reaches person ``i`` along one path only, and the flow on ``team k → person i`` is the
number of pairs of ``i`` chosen. Integer flows therefore correspond one-to-one to allocations (seats,
per-person seats and team limits are exactly the arc capacities), with cost = −(total score). Network flow
matrices are totally unimodular, so the min-cost flow solver's integral optimum is an optimum over all
allocations. (A person in two teams, or a limit on time windows that overlap differently per
opportunity, would break the tree and need a MILP; the services keep to this structure.)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from micromoves.allocation.model import AllocationError, AllocationProblem, AllocationResult, IntArray

SOURCE, SINK = 0, 1


def _compact(used: npt.NDArray[np.integer[Any]], size: int) -> tuple[IntArray, IntArray]:
    """Indices of the used entries and a map old index → new index (−1 where unused)."""
    mask = np.zeros(size, dtype=bool)
    mask[used] = True
    kept = np.flatnonzero(mask)
    remap = np.full(size, -1, dtype=np.int64)
    remap[kept] = np.arange(len(kept), dtype=np.int64)
    return kept, remap


def build_network(problem: AllocationProblem) -> tuple[min_cost_flow.SimpleMinCostFlow, IntArray, int]:
    """The min-cost flow instance of ``problem``, the pair index of each pair arc, and the supply.

    Arcs ``0 .. len(pairs) - 1`` are the kept pair arcs, in the order of the returned pair indices.
    """
    p = problem
    useful = (p.pair_score > 0) & (p.opportunity_seats[p.pair_opportunity] > 0)
    useful &= p.person_seats[p.pair_person] > 0
    useful &= p.team_limit[p.person_team[p.pair_person]] > 0
    pairs = np.flatnonzero(useful).astype(np.int64)
    person = p.pair_person[pairs]
    opp = p.pair_opportunity[pairs]
    people, person_ix = _compact(person, p.n_people)
    opps, opp_ix = _compact(opp, p.n_opportunities)
    teams, team_ix = _compact(p.person_team[people], p.n_teams)

    n_teams, n_people, n_opps = len(teams), len(people), len(opps)
    team0, person0 = 2, 2 + n_teams
    opp0 = person0 + n_people
    # A team can release no more people than it has with seats to fill.
    seats_of_people = np.minimum(p.person_seats[people], np.bincount(person_ix[person], minlength=n_people))
    team_cap = np.minimum(
        p.team_limit[teams], np.bincount(team_ix[p.person_team[people]], weights=seats_of_people, minlength=n_teams)
    ).astype(np.int64)
    opp_cap = np.minimum(p.opportunity_seats[opps], np.bincount(opp_ix[opp], minlength=n_opps)).astype(np.int64)
    supply = int(min(team_cap.sum(), opp_cap.sum()))

    tails = np.concatenate(
        [
            person0 + person_ix[person],
            np.full(n_teams, SOURCE),
            team0 + team_ix[p.person_team[people]],
            opp0 + np.arange(n_opps),
            [SOURCE],
        ]
    ).astype(np.int32)
    heads = np.concatenate(
        [
            opp0 + opp_ix[opp],
            team0 + np.arange(n_teams),
            person0 + np.arange(n_people),
            np.full(n_opps, SINK),
            [SINK],
        ]
    ).astype(np.int32)
    caps = np.concatenate([np.ones(len(pairs), np.int64), team_cap, seats_of_people, opp_cap, [supply]]).astype(
        np.int64
    )
    costs = np.concatenate([-p.pair_score[pairs], np.zeros(n_teams + n_people + n_opps + 1, np.int64)]).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    if supply:
        flow.set_nodes_supplies(np.array([SOURCE, SINK], np.int32), np.array([supply, -supply], np.int64))
    return flow, pairs, supply


def solve(problem: AllocationProblem) -> AllocationResult:
    """The allocation with the highest total score (exact; see the module docstring)."""
    started = time.perf_counter()
    flow, pairs, supply = build_network(problem)
    built = time.perf_counter()
    if supply == 0 or len(pairs) == 0:
        return AllocationResult(np.zeros(0, np.int64), 0, {"build_s": built - started, "solve_s": 0.0})
    status = flow.solve()
    solved = time.perf_counter()
    if status != flow.OPTIMAL:
        raise AllocationError(f"min-cost flow did not find an optimum (status {status})")
    on = np.asarray(flow.flows(np.arange(len(pairs), dtype=np.int32))) > 0
    chosen = np.sort(pairs[on])
    objective = int(problem.pair_score[chosen].sum())
    if objective != -int(flow.optimal_cost()):
        raise AllocationError("min-cost flow objective does not match the chosen pairs")  # pragma: no cover
    return AllocationResult(
        chosen,
        objective,
        {"build_s": built - started, "solve_s": solved - built, "arcs": float(flow.num_arcs())},
    )
