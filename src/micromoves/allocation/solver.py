"""The exact allocation: OR-Tools min-cost flow on a five-layer network, solved sparse and certified.

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

Why it is solved sparse
-----------------------
An organisation has hundreds of applicants per seat, and almost none of them can matter: the 100,000-person
benchmark has 1.9 million candidate pairs for 6,250 seats. So the solver first solves the network with only a
**shortlist** of pair arcs (each opportunity's best ``factor × seats + extra`` applicants; every other arc of
the network is there, with the same capacities), then **proves** the result optimal for the whole network:
the shortest-path distances ``d`` in the residual network of the shortlist's optimum (Bellman–Ford from a
virtual root joined to every node at cost 0; it converges because an optimum has no negative cycle) are node
potentials under which every residual arc has a non-negative reduced cost. A flow with such potentials is a
minimum-cost flow (the reduced-cost optimality condition), and a left-out pair arc carries no flow, so it
adds only its forward residual arc: if ``d[opportunity] ≤ d[person] − score`` holds for every left-out pair,
the same potentials prove the flow optimal for the whole network. Pairs that break it join the shortlist and
the network is solved again; nothing is ever concluded from a heuristic. The proof costs one numpy pass per
Bellman–Ford round (about 20 on the benchmark) and one over all pairs; when the shortlist would not be much
smaller than the network, or the proof does not settle within a few rounds, the whole network is solved as is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from micromoves.allocation.model import AllocationError, AllocationProblem, AllocationResult, Int32Array, IntArray

SOURCE, SINK = 0, 1
SHORTLIST = (2, 4)  # each opportunity's best 2 × seats + 4 applicants; 2 × seats + 3 needed no second round
MAX_ROUNDS = 4  # shortlist rounds before the whole network is solved instead
MAX_PATH_ROUNDS = 1_000  # Bellman–Ford rounds before the proof gives up (then the whole network is solved)
Method = Literal["auto", "sparse", "dense"]


@dataclass(frozen=True)
class Network:
    """A problem's min-cost flow network as arrays.

    Nodes ``0 .. n_nodes-1``: source, sink, then every team, person and opportunity in index order. The pair
    arcs (``pair_tail → pair_head``, capacity 1, cost ``pair_cost``; ``pair_index`` is the problem's pair
    index of each) and the other arcs, all of cost 0: ``tails → heads`` with capacity ``caps``, in sections
    source → team (``[:team_end]``), team → person (``[team_end:person_end]``), opportunity → sink, and the
    bypass last. ``shortlist``: positions of the pair arcs the sparse solve starts from.
    """

    n_nodes: int
    supply: int
    pair_index: IntArray
    pair_tail: Int32Array
    pair_head: Int32Array
    pair_cost: IntArray
    shortlist: IntArray
    tails: Int32Array
    heads: Int32Array
    caps: IntArray
    team_end: int
    person_end: int

    @property
    def n_arcs(self) -> int:
        return len(self.pair_index) + len(self.tails)


def _best_of_each(group: npt.NDArray[np.integer[Any]], score: IntArray, keep: IntArray) -> IntArray:
    """Positions of the ``keep[g]`` highest scores of each group ``g``, ties to the earlier position, ascending.

    The order is total, so the best of a union of chunks is among the union of each chunk's best: the
    services shortlist each range of applications as it arrives and the result equals the whole problem's.
    """
    if not len(group):
        return np.zeros(0, np.int64)
    g = group.astype(np.int64)
    low, high = int(score.min()), int(score.max())
    span = high - low + 1
    bits = max(1, (len(g) - 1).bit_length())
    if ((int(g.max()) + 1) * span) << bits < 2**63:
        # One sort of plain int64 keys (group, score descending, position): several times faster than an
        # argsort, and the position in the low bits makes the order total.
        key = (g * span + (high - score)) << bits
        key |= np.arange(len(g))
        key.sort()
        order = key & ((1 << bits) - 1)
        ranked = (key >> bits) // span
    else:  # pragma: no cover - scores spanning beyond 2**40 or so
        order = np.lexsort((np.arange(len(g)), -score, g))
        ranked = g[order]
    rank = np.arange(len(g)) - np.searchsorted(ranked, ranked)
    return np.sort(order[rank < keep[ranked]])


class NetworkBuilder:
    """The min-cost flow network of an allocation problem, built as its candidate pairs arrive.

    Nodes are numbered from the problem's sizes alone (source 0, sink 1, then every team, person and
    opportunity in index order), so pair arcs can be added chunk by chunk — the services add each range of
    scored applications while the database still scans the next — and :meth:`finish` adds the arcs that
    need every pair's count: source → team, team → person, opportunity → sink and the bypass. Pair arcs keep
    the order the pairs were given. :func:`build_network` builds the same network from a whole problem at
    once, so both paths solve the identical graph. ``shortlist``: ``(factor, extra)``, each opportunity's
    best ``factor × seats + extra`` pairs start the sparse solve.

    The per-pair arrays are millions long: they are filled in place (``out=``) in the dtypes the solver
    takes, instead of as temporaries that are concatenated and converted.
    """

    def __init__(
        self,
        person_team: npt.NDArray[np.integer[Any]],
        person_seats: npt.NDArray[np.integer[Any]],
        team_limit: npt.NDArray[np.integer[Any]],
        opportunity_seats: npt.NDArray[np.integer[Any]],
        shortlist: tuple[int, int] | None = SHORTLIST,
    ) -> None:
        self.person_team = np.asarray(person_team, np.int64)
        self.person_seats = np.asarray(person_seats, np.int64)
        self.team_limit = np.asarray(team_limit, np.int64)
        self.opportunity_seats = np.asarray(opportunity_seats, np.int64)
        if shortlist is not None and (min(shortlist) < 0 or max(shortlist) < 1):
            raise AllocationError(f"shortlist {shortlist}: factor and extra must be ≥ 0, one of them ≥ 1")
        # None: no shortlist (the network is solved as is).
        self.keep = None if shortlist is None else shortlist[0] * self.opportunity_seats + shortlist[1]
        n_teams, n_people = len(self.team_limit), len(self.person_team)
        self.person_node0 = 2 + n_teams
        self.opp_node0 = 2 + n_teams + n_people
        # Pairs that could earn nothing are left out: a person without seats or whose team may release
        # nobody, an opportunity without free seats, a score ≤ 0.
        self.person_ok = (self.person_seats > 0) & (self.team_limit[self.person_team] > 0)
        self.opp_ok = self.opportunity_seats > 0
        self.pairs_of_person = np.zeros(n_people, np.int64)
        self.pairs_of_opp = np.zeros(len(self.opportunity_seats), np.int64)
        # Per chunk: pair indices, tails, heads, costs of the kept pair arcs, and the chunk's shortlist.
        self.chunks: list[tuple[IntArray, Int32Array, Int32Array, IntArray, IntArray]] = []
        self.given = 0  # pairs given so far (kept or not)
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
        if score.dtype.kind == "u":  # costs are the negated scores: an unsigned negation would wrap around
            score = score.astype(np.int64)
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
        self.pairs_of_person += np.bincount(tails - self.person_node0, minlength=len(self.pairs_of_person))
        self.pairs_of_opp += np.bincount(heads - self.opp_node0, minlength=len(self.pairs_of_opp))
        best = np.zeros(0, np.int64) if self.keep is None else _best_of_each(heads - self.opp_node0, -costs, self.keep)
        self.chunks.append((idx + self.given, tails, heads, costs, best))
        self.given += len(person)

    def finish(self) -> Network:
        """The network. Once only: the builder's chunks are handed over, not copied."""
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
        parts = list(zip(*self.chunks, strict=True)) if self.chunks else [[np.zeros(0, np.int64)]] * 5
        self.chunks = []
        index, p_tail, p_head, p_cost = (np.concatenate(x) for x in parts[:4])
        offsets = np.cumsum([0, *(len(x) for x in parts[0][:-1])])
        candidates = np.concatenate([best + offset for best, offset in zip(parts[4], offsets, strict=True)])
        if self.keep is not None:
            candidates = candidates[_best_of_each(p_head[candidates] - self.opp_node0, -p_cost[candidates], self.keep)]
        return Network(
            n_nodes=self.opp_node0 + len(self.opportunity_seats),
            supply=supply,
            pair_index=index.astype(np.int64, copy=False),
            pair_tail=p_tail.astype(np.int32, copy=False),
            pair_head=p_head.astype(np.int32, copy=False),
            pair_cost=p_cost.astype(np.int64, copy=False),
            shortlist=candidates.astype(np.int64, copy=False),
            tails=tails,
            heads=heads,
            caps=caps,
            team_end=b,
            person_end=c,
        )


def build_network(problem: AllocationProblem, shortlist: tuple[int, int] | None = SHORTLIST) -> Network:
    """The min-cost flow network of ``problem`` (see :class:`Network`; ``shortlist`` None: none)."""
    p = problem
    builder = NetworkBuilder(p.person_team, p.person_seats, p.team_limit, p.opportunity_seats, shortlist)
    builder.add_pairs(p.pair_person, p.pair_opportunity, p.pair_score)
    return builder.finish()


def _min_cost_flow(
    tails: Int32Array, heads: Int32Array, caps: IntArray, costs: IntArray, supply: int
) -> tuple[IntArray, int]:
    """OR-Tools' minimum-cost flow of ``supply`` units from the source to the sink: each arc's flow, the cost."""
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_nodes_supplies(np.array([SOURCE, SINK], np.int32), np.array([supply, -supply], np.int64))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise AllocationError(f"min-cost flow did not find an optimum (status {status})")
    return np.asarray(flow.flows(np.arange(len(tails), dtype=np.int32)), np.int64), int(flow.optimal_cost())


def _arcs(net: Network, pairs: IntArray | slice) -> tuple[Int32Array, Int32Array, IntArray, IntArray]:
    """Tails, heads, capacities and costs of the chosen pair arcs (first, in order) and every other arc."""
    n = len(net.pair_tail[pairs])
    return (
        np.concatenate([net.pair_tail[pairs], net.tails]),
        np.concatenate([net.pair_head[pairs], net.heads]),
        np.concatenate([np.ones(n, np.int64), net.caps]),
        np.concatenate([net.pair_cost[pairs], np.zeros(len(net.tails), np.int64)]),
    )


def solve_dense(net: Network) -> tuple[IntArray, int]:
    """The flow on each pair arc and the cost of a minimum-cost flow of the whole network, as given."""
    flows, cost = _min_cost_flow(*_arcs(net, slice(None)), net.supply)
    return flows[: len(net.pair_tail)], cost


def potentials(
    n_nodes: int, tails: IntArray, heads: IntArray, caps: IntArray, costs: IntArray, flows: IntArray
) -> IntArray | None:
    """Shortest-path distances in the residual network of ``flows`` from a root joined to every node at cost
    0, or None when they do not settle within :data:`MAX_PATH_ROUNDS` rounds (a negative cycle: the flow is
    not a minimum-cost flow; or paths too long to be worth it). Every residual arc ``u → v`` of cost ``w``
    then has ``d[v] ≤ d[u] + w``. Bellman–Ford, one vectorised round over every residual arc at a time."""
    forward, backward = flows < caps, flows > 0
    t = np.concatenate([tails[forward], heads[backward]])
    h = np.concatenate([heads[forward], tails[backward]])
    w = np.concatenate([costs[forward], -costs[backward]])
    d = np.zeros(n_nodes, np.int64)
    if not len(h):
        return d
    order = np.argsort(h, kind="stable")
    t, h, w = t[order], h[order], w[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    nodes = h[starts]
    for _ in range(MAX_PATH_ROUNDS):
        now = d[nodes]
        best = np.minimum(now, np.minimum.reduceat(d[t] + w, starts))
        if np.array_equal(best, now):
            return d
        d[nodes] = best
    return None


def solve_sparse(net: Network, max_share: float = 0.5) -> tuple[tuple[IntArray, int] | None, dict[str, float]]:
    """The flow on each pair arc and the cost of a minimum-cost flow of the whole network, found on a
    shortlist of its pair arcs and proven optimal for all of them (see the module docstring), and what it
    took. None instead of the flow when the shortlist grows past ``max_share`` of the pairs, takes more than
    :data:`MAX_ROUNDS` rounds, or the proof does not settle (solve the network as is then)."""
    n_pairs = len(net.pair_tail)
    listed = np.zeros(n_pairs, bool)
    listed[net.shortlist] = True
    for rounds in range(1, MAX_ROUNDS + 1):
        arcs = np.flatnonzero(listed)
        tails32, heads32, caps, costs = _arcs(net, arcs)
        tails, heads = tails32.astype(np.int64), heads32.astype(np.int64)
        # The solver gets only the nodes the listed pairs reach (and their teams), numbered densely: every
        # node costs it time even without arcs. The others' arcs carry no flow anyway (dead ends).
        active = np.zeros(net.n_nodes, bool)
        active[[SOURCE, SINK]] = True
        active[net.pair_tail[arcs]] = True
        active[net.pair_head[arcs]] = True
        to_people = slice(net.team_end, net.person_end)
        active[net.tails[to_people][active[net.heads[to_people]]]] = True
        used = active[tails] & active[heads]
        number = np.cumsum(active) - 1
        flows = np.zeros(len(tails), np.int64)
        flows[used], cost = _min_cost_flow(
            number[tails[used]].astype(np.int32),
            number[heads[used]].astype(np.int32),
            caps[used],
            costs[used],
            net.supply,
        )
        d = potentials(net.n_nodes, tails, heads, caps, costs, flows)
        done = {"rounds": float(rounds), "solved_pair_arcs": float(len(arcs))}
        if d is None:
            return None, done
        # A left-out pair arc carries no flow: only its forward arc joins the residual network.
        broken = np.flatnonzero(~listed & (d[net.pair_head] > d[net.pair_tail] + net.pair_cost))
        if not len(broken):
            pair_flows = np.zeros(n_pairs, np.int64)
            pair_flows[arcs] = flows[: len(arcs)]
            return (pair_flows, cost), done
        listed[broken] = True
        if int(listed.sum()) > max_share * n_pairs:
            return None, done
    return None, done


def solve(
    problem: AllocationProblem,
    network: NetworkBuilder | None = None,
    *,
    method: Method = "auto",
    shortlist: tuple[int, int] | None = None,
) -> AllocationResult:
    """The allocation with the highest total score (exact; see the module docstring). ``network``: the
    problem's pairs already added to a :class:`NetworkBuilder` (with its shortlist), in the problem's order;
    else the network is built here with ``shortlist`` (default :data:`SHORTLIST`). ``method``: ``"dense"``
    solves the whole network as is (the benchmark's reference), ``"sparse"`` always starts from the
    shortlist, ``"auto"`` does when it is under half the pairs.

    ``stats``: ``rounds`` of the sparse solve (0: none), ``dense`` 1 when the whole network was solved (by
    choice, or after a sparse attempt that did not settle), seconds to build and to solve."""
    started = time.perf_counter()
    if method not in ("auto", "sparse", "dense"):
        raise AllocationError(f"unknown method {method!r}: auto, sparse or dense")
    if network is not None and shortlist is not None:
        raise AllocationError("a network comes with its own shortlist; give the NetworkBuilder the shortlist")
    if network is not None and network.given != problem.n_pairs:
        raise AllocationError(f"the network was given {network.given} pairs, the problem has {problem.n_pairs}")
    listing = None if method == "dense" else (shortlist or SHORTLIST)
    net = build_network(problem, listing) if network is None else network.finish()
    built = time.perf_counter()
    stats = {"build_s": built - started, "solve_s": 0.0, "arcs": float(net.n_arcs), "rounds": 0.0, "dense": 0.0}
    if net.supply == 0 or len(net.pair_index) == 0:
        return AllocationResult(np.zeros(0, np.int64), 0, stats)
    found = None
    if len(net.shortlist) and (
        method == "sparse" or (method == "auto" and 2 * len(net.shortlist) <= len(net.pair_index))
    ):
        found, tried = solve_sparse(net, 1.0 if method == "sparse" else 0.5)
        stats.update(tried)
    if found is None:
        found = solve_dense(net)
        stats["dense"] = 1.0
    pair_flows, cost = found
    stats["solve_s"] = time.perf_counter() - built
    chosen = np.sort(net.pair_index[pair_flows > 0])
    objective = int(problem.pair_score[chosen].sum())
    if objective != -cost:
        raise AllocationError("min-cost flow objective does not match the chosen pairs")  # pragma: no cover
    return AllocationResult(chosen, objective, stats)
