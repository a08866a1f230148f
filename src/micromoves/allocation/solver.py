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


class NetworkBuilder:
    """The min-cost flow network of an allocation problem, built as its candidate pairs arrive.

    Nodes are numbered from the problem's sizes alone (source 0, sink 1, then every team, person and
    opportunity in index order), so pair arcs can be added chunk by chunk — the services add each range of
    scored applications while the database still scans the next — and :meth:`finish` adds the arcs that
    need every pair's count: team → person, opportunity → sink, source → team and the bypass. Arcs
    ``0 .. n-1`` are the kept pair arcs, in the order the pairs were given. :func:`build_network` builds the
    same network from a whole problem at once, so both paths solve the identical graph.

    The per-pair arrays are millions long: they are filled in place (``out=``) in the dtypes the solver
    takes, instead of as temporaries that are concatenated and converted.
    """

    def __init__(
        self,
        person_team: npt.NDArray[np.integer[Any]],
        person_seats: npt.NDArray[np.integer[Any]],
        team_limit: npt.NDArray[np.integer[Any]],
        opportunity_seats: npt.NDArray[np.integer[Any]],
    ) -> None:
        self.person_team = np.asarray(person_team, np.int64)
        self.person_seats = np.asarray(person_seats, np.int64)
        self.team_limit = np.asarray(team_limit, np.int64)
        self.opportunity_seats = np.asarray(opportunity_seats, np.int64)
        n_teams, n_people = len(self.team_limit), len(self.person_team)
        self.person_node0 = 2 + n_teams
        self.opp_node0 = 2 + n_teams + n_people
        # Pairs that could earn nothing are left out: a person without seats or whose team may release
        # nobody, an opportunity without free seats, a score ≤ 0.
        self.person_ok = (self.person_seats > 0) & (self.team_limit[self.person_team] > 0)
        self.opp_ok = self.opportunity_seats > 0
        self.pairs_of_person = np.zeros(n_people, np.int64)
        self.pairs_of_opp = np.zeros(len(self.opportunity_seats), np.int64)
        self.kept: list[IntArray] = []  # pair indices of the pair arcs, chunk by chunk
        self.given = 0  # pairs given so far (kept or not)
        self.flow = min_cost_flow.SimpleMinCostFlow()
        self.finished = False

    def add_pairs(
        self,
        person: npt.NDArray[np.integer[Any]],
        opportunity: npt.NDArray[np.integer[Any]],
        score: npt.NDArray[np.integer[Any]],
    ) -> None:
        """Add the next candidate pairs (indices into the problem's people and opportunities, integer scores)."""
        if self.finished:
            raise AllocationError("the network is finished; no pairs can be added")
        useful = score > 0
        useful &= self.person_ok[person]
        useful &= self.opp_ok[opportunity]
        idx = np.flatnonzero(useful)
        n = len(idx)
        tails = np.empty(n, np.int32)
        heads = np.empty(n, np.int32)
        costs = np.empty(n, np.int64)
        np.add(person[idx], self.person_node0, out=tails, casting="unsafe")
        np.add(opportunity[idx], self.opp_node0, out=heads, casting="unsafe")
        np.negative(score[idx], out=costs, casting="unsafe")
        self.flow.add_arcs_with_capacity_and_unit_cost(tails, heads, np.ones(n, np.int64), costs)
        self.pairs_of_person += np.bincount(tails - self.person_node0, minlength=len(self.pairs_of_person))
        self.pairs_of_opp += np.bincount(heads - self.opp_node0, minlength=len(self.pairs_of_opp))
        self.kept.append(idx + self.given)
        self.given += len(person)

    def finish(self) -> tuple[min_cost_flow.SimpleMinCostFlow, IntArray, int]:
        """The network (with supplies), the pair index of each pair arc, and the supply. Once only: a second
        call would add the team, person and opportunity arcs twice (and double every limit)."""
        if self.finished:
            raise AllocationError("the network is finished already; build a new one to solve again")
        self.finished = True
        people = np.flatnonzero(self.pairs_of_person)
        teams = np.flatnonzero(np.bincount(self.person_team[people], minlength=len(self.team_limit)))
        opps = np.flatnonzero(self.pairs_of_opp)
        # A team can release no more people than it has with seats to fill.
        seats_of_people = np.minimum(self.person_seats[people], self.pairs_of_person[people])
        team_cap = np.minimum(
            self.team_limit[teams],
            np.bincount(self.person_team[people], weights=seats_of_people, minlength=len(self.team_limit))[teams],
        ).astype(np.int64)
        opp_cap = np.minimum(self.opportunity_seats[opps], self.pairs_of_opp[opps])
        supply = int(min(team_cap.sum(), opp_cap.sum()))
        # Source → team, team → person, opportunity → sink, and the bypass source → sink.
        sizes = np.cumsum([0, len(teams), len(people), len(opps), 1])
        tails = np.empty(int(sizes[-1]), np.int32)
        heads = np.empty_like(tails)
        caps = np.empty(len(tails), np.int64)
        a, b, c, d = (int(x) for x in sizes[:4])
        tails[a:b], heads[a:b], caps[a:b] = SOURCE, teams + 2, team_cap
        tails[b:c], heads[b:c], caps[b:c] = self.person_team[people] + 2, people + self.person_node0, seats_of_people
        tails[c:d], heads[c:d], caps[c:d] = opps + self.opp_node0, SINK, opp_cap
        tails[d], heads[d], caps[d] = SOURCE, SINK, supply
        self.flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, np.zeros(len(tails), np.int64))
        if supply:
            self.flow.set_nodes_supplies(np.array([SOURCE, SINK], np.int32), np.array([supply, -supply], np.int64))
        pairs = np.concatenate(self.kept) if self.kept else np.zeros(0, np.int64)
        return self.flow, pairs, supply


def build_network(problem: AllocationProblem) -> tuple[min_cost_flow.SimpleMinCostFlow, IntArray, int]:
    """The min-cost flow instance of ``problem``, the pair index of each pair arc, and the supply."""
    p = problem
    builder = NetworkBuilder(p.person_team, p.person_seats, p.team_limit, p.opportunity_seats)
    builder.add_pairs(p.pair_person, p.pair_opportunity, p.pair_score)
    return builder.finish()


def solve(problem: AllocationProblem, network: NetworkBuilder | None = None) -> AllocationResult:
    """The allocation with the highest total score (exact; see the module docstring). ``network``: the
    problem's pairs already added to a :class:`NetworkBuilder`, in the problem's order (else built here)."""
    started = time.perf_counter()
    if network is not None and network.given != problem.n_pairs:
        raise AllocationError(f"the network was given {network.given} pairs, the problem has {problem.n_pairs}")
    flow, pairs, supply = build_network(problem) if network is None else network.finish()
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
