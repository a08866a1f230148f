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

from micromoves.allocation.model import AllocationError, AllocationProblem, AllocationResult, Int32Array, IntArray

SOURCE, SINK = 0, 1


def _used(indices: npt.NDArray[np.integer[Any]], size: int) -> IntArray:
    """The distinct values of ``indices`` (all in 0..size−1), ascending."""
    mask = np.zeros(size, dtype=bool)
    mask[indices] = True
    return np.flatnonzero(mask)


def _nodes(kept: IntArray, size: int, first: int) -> Int32Array:
    """Node number of each kept index (``first`` onwards, in order); −1 for the others."""
    node = np.full(size, -1, dtype=np.int32)
    node[kept] = np.arange(first, first + len(kept), dtype=np.int32)
    return node


def build_network(problem: AllocationProblem) -> tuple[min_cost_flow.SimpleMinCostFlow, IntArray, int]:
    """The min-cost flow instance of ``problem``, the pair index of each pair arc, and the supply.

    Arcs ``0 .. len(pairs) - 1`` are the kept pair arcs, in the order of the returned pair indices.

    The per-pair arrays are millions long: they are filled in place (``out=``) in the dtypes the solver
    takes, instead of as temporaries that are concatenated and converted — fewer passes over memory, and
    less fresh memory for the kernel to hand over page by page.
    """
    p = problem
    useful = p.pair_score > 0
    # Per person and per opportunity first (thousands), then one gather of a boolean per pair.
    useful &= ((p.person_seats > 0) & (p.team_limit[p.person_team] > 0))[p.pair_person]
    useful &= (p.opportunity_seats > 0)[p.pair_opportunity]
    pairs = np.flatnonzero(useful)
    person = p.pair_person[pairs]
    opp = p.pair_opportunity[pairs]
    people = _used(person, p.n_people)
    teams = _used(p.person_team[people], p.n_teams)
    opps = _used(opp, p.n_opportunities)
    n_teams, n_people, n_opps = len(teams), len(people), len(opps)
    team_node = _nodes(teams, p.n_teams, 2)
    person_node = _nodes(people, p.n_people, 2 + n_teams)
    opp_node = _nodes(opps, p.n_opportunities, 2 + n_teams + n_people)

    # A team can release no more people than it has with seats to fill.
    seats_of_people = np.minimum(p.person_seats[people], np.bincount(person, minlength=p.n_people)[people])
    people_team = team_node[p.person_team[people]]
    team_cap = np.minimum(
        p.team_limit[teams], np.bincount(people_team - 2, weights=seats_of_people, minlength=n_teams)
    ).astype(np.int64)
    opp_cap = np.minimum(p.opportunity_seats[opps], np.bincount(opp, minlength=p.n_opportunities)[opps])
    supply = int(min(team_cap.sum(), opp_cap.sum()))

    n = len(pairs)
    # Pair arcs, then source → team, team → person, opportunity → sink, and the bypass source → sink.
    sizes = np.cumsum([n, n_teams, n_people, n_opps, 1])
    tails = np.empty(int(sizes[-1]), np.int32)
    heads = np.empty_like(tails)
    caps = np.ones(len(tails), np.int64)
    costs = np.zeros(len(tails), np.int64)
    np.take(person_node, person, out=tails[:n])
    np.take(opp_node, opp, out=heads[:n])
    np.take(p.pair_score, pairs, out=costs[:n])
    np.negative(costs[:n], out=costs[:n])
    a, b, c, d = (int(x) for x in sizes[:4])
    tails[a:b], heads[a:b], caps[a:b] = SOURCE, np.arange(2, 2 + n_teams), team_cap
    tails[b:c], heads[b:c], caps[b:c] = people_team, person_node[people], seats_of_people
    tails[c:d], heads[c:d], caps[c:d] = opp_node[opps], SINK, opp_cap
    tails[d], heads[d], caps[d] = SOURCE, SINK, supply
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
