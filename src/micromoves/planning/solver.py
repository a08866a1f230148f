"""The exact planner: best-first branch and bound over sets of moves, with an exact schedule oracle.

Overview
--------
A plan's objective depends on its *set* of moves S and on the best schedule of that set:

* effort Σ duration×share and the number of moves depend on S alone;
* levels after all of S has ended depend on S alone (gains compose order-independently, see the package
  docs), so whether S makes the person ready, and the remaining gap at the horizon, depend on S alone;
* the ready week of a ready set is the smallest makespan of a feasible schedule of S, ``T(S)``.

So the search enumerates sets, and an oracle computes ``T(S)`` (or feasibility) exactly.

Preprocessing
-------------
Options with no seat, an empty window, or no run of weeks with enough capacity are dropped. A fixpoint then
computes for every option a *static earliest start* ``ES`` valid in every feasible plan: its window and
capacity, the earliest end of any other option of each required kind, and the earliest week at which an
upper bound of each prerequisite level (initial level plus every gain of options that can have ended by
then, capped) reaches the minimum. Options that can never start are dropped; ``EE = ES + duration``.

Reduction (one plan wanted)
---------------------------
Dominance (defined under *Dominance* below) orders the options; a *canonical* optimal plan is one that is
smallest in a linear extension of strict dominance. Such a plan never holds an option b without every
strict dominator a of b (swapping b for a would give an optimal plan smaller in that order). Before the
search, an option is dropped when it helps nothing (raises no skill gap or prerequisite skill, is of no
required kind and cannot matter for the depth rule), or when its kind is required by no option, it raises
no prerequisite skill, and some of its strict dominators alone bring every gap skill it raises to its
target (one of them *trivially deep* if b could matter for the depth rule: it raises a core skill held at
the depth level today, so every plan holding it has a depth step, see the package docs): in a canonical
optimal plan holding b, b would be redundant and dropping it would save effort (dropping a move only lowers
levels: another move's depth step stays below its cap, and at the depth level unless b raised its skill).
So no canonical optimal plan holds a dropped option, and the reduced problem has the same optimum. During
the search, a set holding such a redundant move (given the rest of the set) is pruned with its whole
subtree.

Set search (A*)
---------------
A node is ``(S, X)``: the chosen set and the options excluded from its subtree; its subtree is every
``S' ⊇ S`` with ``S' ∩ X = ∅``. A node is branched on a *defect*: a set of options ``B`` of which every
interesting ``S'`` in the subtree must contain one. Children are ``(S+b1, X)``, ``(S+b2, X+b1)``, …, so
each set lies in exactly one subtree and is evaluated at most once. Defects:

* *gap* (ready mode): a required skill below its target; ``B`` = options that can raise it (gain > 0 and
  cap above the initial level). Any ready superset contains one: adding options that cannot raise a skill
  leaves its level unchanged (every gain function is non-decreasing, 1-Lipschitz and the identity at or
  above its cap).
* *kind prerequisite*: a chosen move needs a kind no other chosen move has; ``B`` = options of that kind
  that can end before the move's latest start.
* *level prerequisite*: a chosen move needs a level that even the rest of S (all ended first) does not
  give; ``B`` = options raising that skill that can end in time.
* *depth*: no chosen move is or can become a depth step (no move of S is trivially deep, and none has a
  skill it could deepen at the depth level even with the rest of S ended first); ``B`` = options that could
  be one, or raise a core skill still below the depth level. (A depth step in a superset is new, or an old
  move whose core skill a new one brought to the depth level.)
* *acceleration*: S is ready and evaluated, but its timing depends on prerequisites or the depth rule. A
  superset can only be ready earlier if the extra moves change a prerequisite or depth step (restricting
  a feasible schedule of S' to S keeps capacity, concurrency, windows and the makespan; only a rule that
  the extra moves satisfied can fail: levels only drop, so a depth step of S' that is in S stays below its
  cap and can only fall below the depth level, which a new raiser of its skill had lifted it to). ``B`` =
  options of a required kind, raisers of a prerequisite skill, and depth candidates. Otherwise supersets
  only add effort and the node is a leaf.
* *fallback mode*: any superset with a smaller gap raises some skill with a deficit; the node branches on
  one such skill, with a last child ``(S, X + raisers)`` for "no more raisers of that skill".

Bounds
------
Every node gets a lexicographic lower bound of the objective over its subtree, ``(T or gap, effort,
moves)``. Because the order is lexicographic, a set whose ready week exceeds the bound's week is worse than
the bound whatever its effort, so the effort and move parts may assume the ready week *equals* the bound's
week and use only options that can end by then (when a node's week is raised, those parts are reset).

* gap: each skill can reach at most ``min(700, max(init, caps), level(S) + Σ u)`` over available options,
  where ``u = min(Δ, cap − init)`` bounds any option's increment (inserting a gain into the ascending-cap
  composition raises the result by at most its own increment, since later gains are 1-Lipschitz);
* covering: every superset must cover the deficits ``δ_s``. Per skill, an exact 0/1 knapsack table gives
  the smallest cost of options covering each deficit (cost of a multi-skill option split between its
  skills in proportion to its useful increments, so the per-skill minima add up), for the costs effort,
  lane-weeks and effort + λ·lane-weeks (a Lagrangian relaxation of "the moves fit in the lanes by week
  t"), one table per week by which the options can end. An aggregate fractional knapsack (option ``i``
  covers at most ``Σ_s min(u_is, δ_s)`` of ``Σ δ_s``) and per-skill counts bound effort and moves too;
* ready week: the latest static earliest end in S; per deficit skill, the first week by which available
  options can cover it; and what fits by week t: capacity (effort), move-weeks, lane-weeks and moves (a run
  of usable weeks of length L holds at most ``max_concurrent · ⌊L / shortest move⌋`` moves), counting only
  runs of usable weeks at least as long as the shortest move, since a move cannot span a week without room
  for it. Lane-weeks count only the lanes that moves already under way leave free: in week w at most
  ``f_w = max_concurrent − busy_w`` planned moves run, and a move that cannot run beside any other planned
  move (share + smallest share > 100) runs alone, so charging each move one lane per week, or ``f_w`` per
  week for such a move (at least the fewest free lane-weeks of any start it can take, from its static
  earliest start), charges at most ``Σ_w f_w`` over the weeks before t. Move-weeks likewise count at most
  ``min(f_w, ⌊capacity_w / smallest share⌋)`` per week;
* forced options: an available option without which the others cannot cover a skill's deficit is in every
  set of the subtree that meets the bound's week (ready mode) or gap (fallback mode), which is all the
  later parts of a lexicographic bound are about: its effort, lane-weeks, duration and end count in full;
* covering costs are also bounded with the cost split evenly between an option's gap skills, and with
  one skill covered alone at unsplit lane-weeks; the largest bound wins;
* priced covering (Lagrangian, lane-weeks): with prices ``y_s ≥ 0`` per unit of deficit, any set X of
  available options covering every deficit (``Σ_{i∈X} a_is ≥ δ_s``, ``a_is = min(u_is, δ_s)``) has
  ``Σ_X lw_i ≥ Σ_X lw_i − Σ_s y_s (Σ_X a_is − δ_s) = Σ_s y_s δ_s + Σ_X (lw_i − Σ_s y_s a_is)``, which is at
  least ``Σ_s y_s δ_s`` plus every negative reduced cost ``lw_i − Σ_s y_s a_is`` of an option that can end
  by the week. Valid for any prices; the search takes the LP optimum's duals at the root (GLOP, once it is
  not trivial), scaled to integers so the sums are exact. The same prices also split each option's cost
  between its skills for another set of per-skill knapsack tables (skill s gets ``y_s a_is / Σ y a`` of it:
  the parts add up to at most the cost, so the per-skill minima add up to a lower bound, as above);
* ready week: the smallest makespan of S ignoring prerequisites and depth, checked lazily at the node's
  week (a lower bound for every superset: restrict a superset's schedule to S). A refuted week comes with
  the next candidate week; sets containing a refuted set inherit its bound.

Nodes are expanded best-bound-first; a child is queued with its parent's bound (raised by its own earliest
end) and its own bound is computed when it is popped. A ready set is queued as *pending* at its bound week
and checked one candidate week at a time ("does it fit by week t?"); refuted weeks give the next one. When
it fits it is queued with its exact objective, ahead of nodes with an equal bound, so the first set popped
is optimal: every set lies in some node's subtree whose bound is at most its objective.

Dominance (one plan wanted): option a dominates b if it is of the same kind (or no option requires b's
kind), no longer, no larger share, has a window at least as wide, prerequisites no stronger, is a depth
step wherever b is, and its gains are at least as large once levels are clipped at the highest level that
can matter for the skill (its target, the largest prerequisite level on it, the depth level). With the
depth rule on, a higher level can also undo a depth step (its skill reaches the step's cap before the step
starts), so unless a is trivially deep (every plan holding it has a depth step), a must also have the
same gains as b on the core skills below the depth level today, and the same duration if it has any: in
b's place it leaves those levels the same in every week. Swapping b for a keeps any plan valid and no
worse, so an optimal set that is smallest in a linear extension of dominance never holds b without a:
subtrees that add b while a dominator of b is excluded are pruned.

k best plans
------------
"The k best plans" are the k best *irredundant* plans: plans no proper subset of which is a plan with a
better objective. Equivalently: plan 1 is optimal, and plan j is the best plan that is not a superset of an
earlier one (a superset only adds moves; it can never be ready earlier than an optimal plan). The search
keeps popping: a popped plan that is a superset of an accepted one is discarded, and nodes whose S is such a
superset are pruned. Plans come out in objective order, which is the order of the definition. For a ready
target only ready plans are alternatives. Plan 1 comes from the search for one plan (with dominance pruning),
so that it is the same plan whatever k; the others from a second search without dominance pruning, seeded
with plan 1 as accepted.

Schedule oracle
---------------
"Does S fit by week D?" is answered with a serial schedule generation scheme: moves are placed one at a
time, each at the earliest week where its window, capacity, concurrency, kind and level prerequisites hold
given the moves placed before it. All those conditions are monotone (levels only grow as more moves end),
so for any feasible schedule σ, placing its moves in order of start gives a schedule starting each move no
later (induction: at σ's start of the next move, the placed moves occupy no more of the remaining weeks than
in σ and every move that ended by then in σ has ended). Iterating that map from an optimal schedule reaches
a fixpoint whose start order is non-decreasing, so the depth-first search over placement orders only
follows orders with non-decreasing (start, index). Pruning: the capacity/move-week/lane-week/move bounds
above for the unplaced moves from the last start on; a move that fits nowhere any more; identical moves
(when prerequisites are ignored) placed in index order; a bin-packing relaxation (every move in one lane of
one run of usable weeks) before the search; and a memo of failed states (the placed set and the moves still
running at the last start determine the rest) with the smallest bound cut below them, valid for every
deadline, kept across calls. A refutation returns the smallest bound it cut (iterative deepening): no
schedule ends earlier.

The depth rule is not monotone: a depth step's skill must be at the depth level when the step starts but
below the step's cap, and moving other moves earlier can take it past the cap. If a move of S is trivially
deep, S has a depth step whatever its schedule (package docs) and the rule is not checked; otherwise every
candidate deepens a core skill below the depth level today, and the oracle *guesses the depth step*: a move
q, its skill s and its start week t, tried in week order (skipping weeks by which the other moves, ended at
their static earliest ends, cannot bring s to the depth level). Take a feasible schedule σ whose depth step
is (q, s, t); let E be the moves raising s that end by t in σ, F the others. Give q the release t and each
move of F the release t − duration + 1 (it still ends after t); σ meets them. The map above, with these
releases, starts every move no later, so it keeps q at t, E ending by t and F after t: the level of s at t
stays that of E, and q a depth step. Its fixpoint is therefore among the schedules the search follows when,
for the guess, it offers q only in week t (and only if s is then at the depth level and below q's cap), a
move raising s at its earliest start if it ends by t and at its earliest start from t − duration + 1, and
every other move at its earliest start. A state whose moves ending by t already take s to q's cap, or
whose last start is past t without q, has no completion; the memo is kept per guess. Schedules of a guess
whose depth step would end after the deadline bound the makespan from below like cut nodes.

Ignoring prerequisites and depth, what the oracle does with a move depends only on its *job type*: duration,
share, static earliest start and window (the weeks it may occupy follow from them and the capacity). So the
relaxed checks (and their memo) are keyed by the multiset of job types of S, not by S: many sets of different
options with the same durations and shares share one answer. A refuted multiset also refutes every multiset
containing it (drop the extra moves from a schedule of the larger one).

Covering relaxation (fallback mode, one plan wanted)
----------------------------------------------------
When the fallback search has not finished after a couple of thousand bound computations, it reads a plan
off a relaxation (:meth:`_Search.covering_plan`), two small 0/1 programs solved exactly by CP-SAT in
:mod:`micromoves.planning.covering`. Options raise a skill by at most their increments, so a plan's level
of a skill is at most its initial level plus the increments of its options, capped at the reachable level;
its moves fit in the capacity, move-weeks, lane-weeks and move slots before the horizon; and each of its
options has another option of every kind it requires and enough increments on every skill whose minimum
level it requires. Over sets of options with just those properties, the first program finds the most
weighted coverage — hence a lower bound of every plan's gap — and the second the least (effort, moves) set
reaching it, a lower bound of every plan leaving that gap. If that set schedules with every rule and leaves
exactly that gap, it is optimal; if not, that exact set is excluded and the next one tried (a few rounds),
and then the search carries on. Ties in effort among plans leaving the same gap are where the search
struggles on large catalogues, and there the relaxation is usually tight. (CP-SAT also runs the
independent reference model, a different model of the whole problem; the property tests compare the two
with the relaxation switched on from the first node.)

Unreachable targets and the binding constraint are computed by :mod:`micromoves.planning._driver`.

Greedy plans
------------
:func:`solve_greedy` is not part of the exact solver: batch planning uses it when the exact search runs out
of its time budget. It builds a valid plan by serial schedule generation (see :meth:`_Search.dive`) and
marks it ``optimal=False``.
"""

from __future__ import annotations

import hashlib
import heapq
import importlib
import sys
import time
import types
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from mypy_extensions import mypyc_attr

from micromoves.planning import _driver
from micromoves.planning._core import build_result, depth_capable, window
from micromoves.planning.explain import explain as explain_plan
from micromoves.planning.model import MAX_LEVEL, PlanProblem, PlanResult
from micromoves.planning.validate import check_plan

Starts = dict[str, int]


def solve(
    problem: PlanProblem,
    k: int = 1,
    *,
    explain: bool = True,
    time_limit: float | None = None,
    step_limit: int | None = None,
    best: PlanResult | None = None,
) -> PlanResult:
    """The provably optimal plan for ``problem`` and up to ``k - 1`` alternatives (see module docs).

    ``best``: this problem's optimal plan, already found by ``solve(problem)`` (proven optimal): with k > 1 it
    is plan 1 and only the alternatives are searched for.

    With ``time_limit`` (seconds), :class:`SearchTimeout` is raised once the search has run that long
    (checked every few search steps, also inside a schedule check), so a caller can fall back to
    :func:`solve_greedy`. ``step_limit`` bounds the steps each search takes instead (nodes expanded and
    schedule states tried): unlike time, that gives the same answer however busy the machine is. (The CP-SAT
    programs of the covering relaxation are bounded by CP-SAT's deterministic time, not by steps.)
    """
    deadline = None if time_limit is None else time.monotonic() + time_limit
    known = None
    if best is not None:
        if not best.optimal:
            raise ValueError("best must be a proven optimal plan (solve(problem), not a plan found past a limit)")
        known = (best.status, {m.option_id: m.start for m in best.moves})
    return _driver.drive(problem, k, _Exact(deadline, step_limit, known), explain=explain)


# Plain Python classes also in the compiled copy (see the end of this module): callers outside it catch
# them, pickle them and subclass-check them like any exception.
@mypyc_attr(native_class=False)
class NoPlanFound(RuntimeError):
    """The greedy dive of :func:`solve_greedy` found no ready plan although one may exist."""


@mypyc_attr(native_class=False)
class SearchTimeout(RuntimeError):
    """The exact search ran past the ``time_limit`` or ``step_limit`` given to :func:`solve`."""


class _Undecided(Exception):
    """The schedule check of a covering set ran past its own budget: the set may or may not fit."""


def solve_greedy(problem: PlanProblem, *, explain: bool = True, nodes: int = 150) -> PlanResult:
    """A valid plan found quickly, marked ``optimal=False`` (for batches whose exact search ran out of time).

    A depth-first dive through the exact search's branching (defects first, candidates in greedy order,
    at most ``nodes`` sets tried). Status "unreachable" is only reported when the ready-mode bound proves
    that no plan is ready; if the dive finds no ready plan otherwise, :class:`NoPlanFound` is raised.
    Binding constraints of an unreachable target are those whose relaxation the dive makes ready (it may
    miss some). Check the result with :func:`micromoves.planning.check_plan` before trusting it.
    """
    return _driver.drive(problem, 1, _Greedy(nodes), explain=explain)


def solve_nearest(problem: PlanProblem, *, explain: bool = True, nodes: int = 150) -> PlanResult:
    """The nearest plan the greedy dive finds (smallest weighted gap at the horizon), not proven optimal. If
    it closes every gap it is a ready plan; if not, it is reported as not ready, and unless some skill cannot
    be raised enough by any option, its summary says that a ready plan may exist.

    The last resort of a batch in which the exact search, the greedy ready dive and CP-SAT all ran out of
    time without a ready plan, although one may exist: the person still gets a plan that closes what it can.
    Check it with :func:`micromoves.planning.check_plan` before trusting it.
    """
    backend = _NearestOnly(nodes)
    result = _driver.drive(problem, 1, backend, explain=False)
    # Already ready, or the nearest plan found makes the person ready; or no plan is ready, proven by a skill
    # that no option can raise enough or by the ready-mode bound: explained as usual. Else it is marked, and
    # its summary says that a ready plan may exist.
    may_exist = result.status == "unreachable" and not result.unreachable_skills and not backend.proven_unreachable
    result = replace(result, ready_plan_may_exist=may_exist)
    return replace(result, explanation=explain_plan(problem, result) if explain else ())


class _Exact:
    """The exact backend for :func:`micromoves.planning._driver.drive` (``deadline``: ``time.monotonic()``
    past which the search gives up with :class:`SearchTimeout`)."""

    def __init__(
        self,
        deadline: float | None = None,
        step_limit: int | None = None,
        known: tuple[str, Starts] | None = None,
    ) -> None:
        self.deadline = deadline
        self.step_limit = step_limit
        self.known = known  # (status, starts) of the optimal plan, found before

    def _search(self, problem: PlanProblem, reduce: bool) -> _Search:
        search = _Search(problem, reduce=reduce)
        search.deadline = self.deadline
        search.step_limit = self.step_limit
        return search

    def ready_plans(self, problem: PlanProblem, k: int) -> list[tuple[Starts, bool]]:
        if self.known is not None and self.known[0] == "unreachable":
            return []  # the optimal plan found before says no ready plan exists
        return [(starts, True) for starts in self._k_best(problem, k, ready=True)]

    def fallback_plans(self, problem: PlanProblem, k: int) -> list[tuple[Starts, bool]]:
        return [(starts, True) for starts in self._k_best(problem, k, ready=False)]

    def _k_best(self, problem: PlanProblem, k: int, *, ready: bool) -> list[Starts]:
        """The best plan is the one plan wanted alone, whatever k: optimal plans can tie, and the search for
        alternatives (no dominance pruning) may break the tie otherwise, so that ``plan P`` and ``plan P --k 3``
        would store different, equally good plans in turn. The alternatives are then the best plans that are not
        supersets of it (or of each other), as the module docs define them."""
        if self.known is not None and self.known[0] == ("ready" if ready else "unreachable"):
            best = [self.known[1]]
        else:
            best = self._search(problem, True).run(ready=ready, k=1)
        if k == 1 or not best:
            return best
        search = self._search(problem, False)
        first = set(best[0])
        seed = sum(1 << i for i, o in enumerate(search.opts) if o.id in first)
        return best + search.run(ready=ready, k=k - 1, accepted=[seed])

    def ready_feasible(self, problem: PlanProblem) -> bool:
        return bool(self._search(problem, True).run(ready=True, k=1, stop_at_first=True))


class _Greedy:
    """The greedy backend for :func:`micromoves.planning._driver.drive` (see :func:`solve_greedy`)."""

    def __init__(self, nodes: int) -> None:
        self.nodes = nodes

    def ready_plans(self, problem: PlanProblem, k: int) -> list[tuple[Starts, bool]]:
        search = _Search(problem, reduce=True)
        if search.bound((), 0, 0, True, 0) is None:
            return []
        starts = self._ready_dive(problem, search)
        if starts is None:
            raise NoPlanFound("the greedy dive found no ready plan")
        return [(starts, False)]

    def fallback_plans(self, problem: PlanProblem, k: int) -> list[tuple[Starts, bool]]:
        starts = _Search(problem, reduce=True).dive(ready=False, nodes=self.nodes)
        return [(starts or {}, False)]

    def ready_feasible(self, problem: PlanProblem) -> bool:
        search = _Search(problem, reduce=True)
        if search.bound((), 0, 0, True, 0) is None:
            return False
        return self._ready_dive(problem, search) is not None

    def _ready_dive(self, problem: PlanProblem, search: _Search) -> Starts | None:
        starts = search.dive(ready=True, nodes=self.nodes)
        if starts is not None:
            return starts
        # The ready-mode dive serves the skill with the fewest raisers first and can box itself in with many
        # gaps; the fallback-mode dive (best value per lane-week over every skill still short) sometimes ends
        # ready anyway. Its plan counts only if the independent validator accepts it as a ready plan.
        starts = search.dive(ready=False, nodes=self.nodes)
        return starts if _ready_and_valid(problem, starts) else None


def _ready_and_valid(problem: PlanProblem, starts: Starts | None) -> bool:
    """Does a fallback-mode dive's plan pass the independent validator as a ready plan?"""
    return bool(starts) and not check_plan(problem, build_result(problem, "ready", starts or {}, optimal=False))


class _NearestOnly(_Greedy):
    """The greedy backend, asked for the nearest plan only (see :func:`solve_nearest`): one fallback-mode
    dive, and no binding constraints (which relaxation would help is as unknown as whether one is needed)."""

    def __init__(self, nodes: int) -> None:
        super().__init__(nodes)
        self.nearest: Starts | None = None
        self.proven_unreachable = False

    def _dive(self, problem: PlanProblem) -> Starts:
        search = _Search(problem, reduce=True)
        self.proven_unreachable = search.bound((), 0, 0, True, 0) is None
        self.nearest = search.dive(ready=False, nodes=self.nodes) or {}
        return self.nearest

    def ready_plans(self, problem: PlanProblem, k: int) -> list[tuple[Starts, bool]]:
        nearest = self._dive(problem)
        # The nearest plan may make the person ready after all: it is then a ready plan (not proven optimal).
        return [(nearest, False)] if _ready_and_valid(problem, nearest) else []

    def fallback_plans(self, problem: PlanProblem, k: int) -> list[tuple[Starts, bool]]:
        # The driver skips the ready search when a skill is out of every option's reach: dive here then.
        return [(self.nearest if self.nearest is not None else self._dive(problem), False)]

    def ready_feasible(self, problem: PlanProblem) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class _Opt:
    id: str
    kind: str
    d: int
    share: int
    effort: int
    lo: int
    hi: int
    ok: tuple[int, ...]  # starts in [lo, hi] whose weeks all have capacity ≥ share
    gain: dict[int, tuple[int, int]]  # skill → (cap, delta), delta > 0
    inc: dict[int, int]  # skill → u = min(delta, cap − init) > 0
    min_levels: tuple[tuple[int, int], ...]  # (skill, level) above the initial level
    req_kinds: tuple[str, ...]
    depth_skills: tuple[int, ...]  # core skills it can ever be a depth step through (depth_capable)
    trivially_deep: bool  # one of them is held at the depth level today: a plan holding it has a depth step


def _runs(capacity: list[int], share: int) -> list[int]:
    """run[w] = number of consecutive weeks from w with capacity ≥ share."""
    run = [0] * (len(capacity) + 1)
    for w in range(len(capacity) - 1, -1, -1):
        run[w] = run[w + 1] + 1 if capacity[w] >= share else 0
    return run


class _Search:
    deadline: float | None = None  # time.monotonic() past which run() raises SearchTimeout
    step_limit: int | None = None  # search steps (nodes and schedule states) before run() raises SearchTimeout
    steps = 0

    def step(self) -> None:
        """One unit of search work (a node popped or a schedule state expanded), checked against the limits:
        the count at every step, the clock every 64 steps."""
        self.steps += 1
        if self.step_limit is not None and self.steps > self.step_limit:
            raise SearchTimeout(f"no proven optimum within {self.step_limit} search steps")
        if self.deadline is not None and not self.steps & 63 and time.monotonic() > self.deadline:
            raise SearchTimeout(f"no proven optimum within the time limit ({self.steps} search steps)")

    def __init__(self, problem: PlanProblem, *, reduce: bool = False) -> None:
        p = problem
        self.h = p.horizon
        self.m = p.max_concurrent
        # moves already under way, per week: they hold lanes. Placing a move checks them; a week whose every
        # lane is held has no room at all; the search's bounds count the lanes left free (see lane_weeks),
        # the schedule oracle's count every lane as free, which over-states the room and so stays valid.
        self.busy = list(p.lanes_busy)
        self.cap = [0 if b >= self.m else c for c, b in zip(p.capacity, self.busy, strict=True)]
        self.depth = p.depth_level
        self.depth_rule = p.depth_rule
        names = sorted(set(p.levels) | set(p.requirements) | {s for o in p.options for s in (*o.gains, *o.min_levels)})
        sid = {s: i for i, s in enumerate(names)}
        init = [p.level(s) for s in names]
        self.init = init
        self.targets = [(sid[s], p.target(s), p.weight(s)) for s in sorted(p.requirements) if p.requirements[s] > 0]
        runs: dict[int, list[int]] = {}
        starts: dict[tuple[int, int, int, int], tuple[int, ...]] = {}
        raw: list[_Opt] = []
        for o in p.options:
            win = window(p, o)
            if win is None:
                continue
            key = (o.share, o.duration, win[0], win[1])
            ok = starts.get(key)
            if ok is None:
                run = runs.get(o.share)
                if run is None:
                    run = runs[o.share] = _runs(self.cap, o.share)
                d = o.duration
                ok = starts[key] = tuple([s for s in range(win[0], win[1] + 1) if run[s] >= d])
            if not ok:
                continue
            gain = {sid[s]: (o.cap, dl) for s, dl in o.gains.items() if dl > 0}
            inc = {s: min(dl, c - init[s]) for s, (c, dl) in gain.items() if c > init[s]}
            depth_skills = tuple(sorted(sid[s] for s in o.gains if depth_capable(p, o, s)))
            raw.append(
                _Opt(
                    id=o.id,
                    kind=o.kind,
                    d=o.duration,
                    share=o.share,
                    effort=o.effort,
                    lo=win[0],
                    hi=win[1],
                    ok=ok,
                    gain=gain,
                    inc=inc,
                    min_levels=tuple(sorted((sid[s], v) for s, v in o.min_levels.items() if v > init[sid[s]])),
                    req_kinds=tuple(sorted(o.requires_kinds)),
                    depth_skills=depth_skills,
                    trivially_deep=any(init[s] >= self.depth for s in depth_skills),
                )
            )
        self.opts, self.es = self._static_starts(raw)
        if reduce:
            self.opts, self.es = self._reduce(self.opts, self.es)
        opts = self.opts
        n = len(opts)
        self.ee = [self.es[i] + opts[i].d for i in range(n)]
        ee = self.ee
        # Ignoring prerequisites and depth, a set schedules exactly as any set with the same multiset of job
        # types (duration, share, static earliest start, window: they fix the weeks a move may occupy), so
        # the relaxed schedule checks are cached per multiset. A multiset is a bit mask: the k-th copy of a
        # type in a set takes the type's k-th bit, so a sub-multiset is a subset of the bits.
        jobs: dict[tuple[int, int, int, int, int], int] = {}
        self.job = [
            jobs.setdefault((opts[i].d, opts[i].share, self.es[i], opts[i].lo, opts[i].hi), len(jobs)) for i in range(n)
        ]
        self.job_base = [0] * len(jobs)
        copies = [0] * len(jobs)
        for t in self.job:
            copies[t] += 1
        for t in range(1, len(jobs)):
            self.job_base[t] = self.job_base[t - 1] + copies[t - 1]
        self.raisers: dict[int, list[int]] = {}
        for i, opt in enumerate(opts):
            for s in opt.inc:
                self.raisers.setdefault(s, []).append(i)
        for s, lst in self.raisers.items():
            ratio = {i: opts[i].effort / opts[i].inc[s] for i in lst}
            lst.sort(key=lambda i: (ee[i], ratio[i], i))
        # per skill, its raisers as (index, bit, increment, cap, earliest end), and (increment, bit) largest first
        self.rows = {
            s: [(i, 1 << i, opts[i].inc[s], opts[i].gain[s][0], ee[i]) for i in lst] for s, lst in self.raisers.items()
        }
        self.by_u_rows = {
            s: sorted(((opts[i].inc[s], 1 << i) for i in lst), key=lambda t: (-t[0], t[1]))
            for s, lst in self.raisers.items()
        }
        self.by_kind: dict[str, list[int]] = {}
        for i in sorted(range(n), key=lambda i: (ee[i], opts[i].effort, i)):
            self.by_kind.setdefault(opts[i].kind, []).append(i)
        core = {s for s, _, _ in self.targets}
        pool = {i for i, o in enumerate(opts) if o.depth_skills}
        pool |= {i for s in core if init[s] < self.depth for i in self.raisers.get(s, [])}
        self.depth_pool = sorted(pool, key=lambda i: (ee[i], opts[i].effort, i))
        mu = min((o.share for o in opts), default=1)
        dmin = min((o.d for o in opts), default=1)
        # lane-weeks: the lanes not held by moves already under way (a week has m − busy of them). A move uses
        # one in each of its weeks; a move that cannot run next to any other (share + smallest share > 100)
        # uses every free lane of its weeks: at least the fewest free lane-weeks of any start it can take.
        lanes_free = [self.m - b if self.cap[w] > 0 else 0 for w, b in enumerate(self.busy)]
        upto = [0]
        for f in lanes_free:
            upto.append(upto[-1] + f)
        self.lane_weeks = [
            min(upto[s + o.d] - upto[s] for s in o.ok if s >= es) if o.share + mu > 100 else o.d
            for o, es in zip(opts, self.es, strict=True)
        ]
        # what moves ending by week t can use at most: capacity, move-weeks and lane-weeks of the weeks before t,
        # counting only runs of usable weeks (capacity ≥ the smallest share) at least as long as the shortest move
        self.cumcap, self.slots, self.lane_slots, self.move_slots = [0], [0], [0], [0]
        done = [0, 0, 0, 0]
        run = [0, 0, 0]
        length = 0
        for w in range(self.h):
            free = self.cap[w]
            if free >= mu:
                run = [run[0] + free, run[1] + min(lanes_free[w], free // mu), run[2] + lanes_free[w]]
                length += 1
            else:
                if length >= dmin:
                    done = [done[0] + run[0], done[1] + run[1], done[2] + run[2], done[3] + self.m * (length // dmin)]
                run = [0, 0, 0]
                length = 0
            part = [*run, self.m * (length // dmin)] if length >= dmin else [0, 0, 0, 0]
            self.cumcap.append(done[0] + part[0])
            self.slots.append(done[1] + part[1])
            self.lane_slots.append(done[2] + part[2])
            self.move_slots.append(done[3] + part[3])
        self._cover_tables()
        # computed once a search turns out not to be trivial (they only sharpen bounds and pruning)
        self.lagrange: list[tuple[int, dict[int, tuple[list[int], list[list[int]]]]]] = []
        self.prices: list[dict[int, int]] | None = None
        self.cover_lanes_priced = self.cover_lanes
        self.price_cands: list[list[int]] = []
        self.dominators: list[int] = []
        self.bound_calls = 0
        self.prune_dominated = False
        self.levels_cache: dict[int, tuple[int, ...]] = {}
        self.first_cover_cache: dict[tuple[int, int], int] = {}
        self.feasible_cache: dict[int, tuple[int, ...] | None] = {}
        self.relaxed_fits: dict[int, int] = {}
        self.refuted: list[tuple[int, int]] = []
        # per set (or multiset of job types) and depth step guessed: failed states of the schedule search
        self.sched_memo: dict[
            tuple[tuple[int, ...], bool, int, int, int], dict[tuple[int, int, int, tuple[int, ...]], int]
        ] = {}
        self.relaxed_lb: dict[int, int] = {}
        self.redundancy: list[tuple[int, ...] | None] | None = None
        self.clipped_masks: list[int] = []
        self.gap_target: dict[int, int] = {}

    # ------------------------------------------------------------------ preprocessing

    def _static_starts(self, raw: list[_Opt]) -> tuple[list[_Opt], list[int]]:
        """Fixpoint of static earliest starts; drops options that can never start."""
        alive = list(range(len(raw)))
        es = {i: raw[i].ok[0] for i in alive}
        init = self.init
        wanted = {s for o in raw for s, _ in o.min_levels}
        while True:
            ee = {i: es[i] + raw[i].d for i in alive}
            by_kind: dict[str, list[tuple[int, int]]] = {}
            for i in alive:
                by_kind.setdefault(raw[i].kind, []).append((ee[i], i))
            for lst in by_kind.values():
                lst.sort()
            by_skill: dict[int, list[tuple[int, int]]] = {}
            for i in alive:
                for s in raw[i].inc:
                    if s in wanted:
                        by_skill.setdefault(s, []).append((ee[i], i))
            for lst in by_skill.values():
                lst.sort()
            changed = False
            survivors = []
            new_es: dict[int, int] = {}
            for i in alive:
                o = raw[i]
                lb: int | None = o.lo
                for kind in o.req_kinds:
                    t = next((e for e, j in by_kind.get(kind, []) if j != i), None)
                    lb = None if t is None or lb is None else max(lb, t)
                for s, need in o.min_levels:
                    t = self._ub_reach(raw, by_skill.get(s, []), s, need, init[s], i)
                    lb = None if t is None or lb is None else max(lb, t)
                if lb is None:
                    changed = True
                    continue
                pos = bisect_left(o.ok, lb)
                if pos == len(o.ok):
                    changed = True
                    continue
                survivors.append(i)
                new_es[i] = o.ok[pos]
                if new_es[i] != es[i]:
                    changed = True
            alive, es = survivors, new_es
            if not changed:
                break
        return [raw[i] for i in alive], [es[i] for i in alive]

    def _relevance(self, opts: list[_Opt]) -> tuple[dict[int, int], set[str], dict[int, int]]:
        """Gap targets, required kinds, and the highest level of each skill that can matter (targets,
        prerequisites, the depth level): a level above it is as good as the ceiling itself."""
        init, depth = self.init, self.depth
        core = {s: t for s, t, _ in self.targets}
        gaps = {s: t for s, t in core.items() if t > init[s]}
        kinds = {k for o in opts for k in o.req_kinds}
        ceiling: dict[int, int] = {}
        for o in opts:
            for s, v in o.min_levels:
                ceiling[s] = max(ceiling.get(s, 0), v)
        for s, t in core.items():
            ceiling[s] = max(ceiling.get(s, 0), t, depth if self.depth_rule else 0)
        return gaps, kinds, ceiling

    def _dominance(self, opts: list[_Opt]) -> Callable[[int, int], bool]:
        """``dominates(a, b)``: swapping b for a in any plan that holds b but not a keeps it valid and no worse.

        Same kind, or b's kind is required by no option; no longer; no larger share; a window at least as
        wide; prerequisites no stronger; a depth step wherever b is one; and on every skill, with levels
        clipped at the ceiling c of the skill (see :meth:`_relevance`): ``min(c, f_a(x)) ≥ min(c, f_b(x))``
        for every reachable level x (f the gain map ``x ↦ max(x, min(x + Δ, cap))``). Then a fits wherever b
        fits, ends no later and, put in b's place, leaves every clipped level at every week at least as high
        (clipped composition is monotone), so readiness, prerequisites and the gap hold.

        The depth rule: higher levels can also *undo* a depth step (its skill reaches the step's cap before it
        starts), so with the rule on, unless a is trivially deep (then every plan holding a has a depth step),
        a and b must have the same effect on every core skill below the depth level today and, if they raise
        one, the same duration: in b's place, a then leaves those levels the same at every week, so every
        depth step through them stays one (b's own through a). A depth step through a skill held at the depth
        level today is a matter of the plan holding a move that can raise it (package docs): b trivially deep
        needs a trivially deep."""
        init = self.init
        _, kinds, ceiling = self._relevance(opts)
        gains = []
        for o in opts:
            clipped = {}
            for s, (c, dl) in o.gain.items():
                c = min(c, ceiling.get(s, 0))
                if c > init[s]:
                    clipped[s] = (c, dl)
            gains.append(clipped)
        depth_rule = self.depth_rule
        shallow = {s for s, _, _ in self.targets if init[s] < self.depth} if depth_rule else set()
        # (skill, cap, delta) of the gains that can raise a core skill below the depth level today
        low_gains = [
            tuple(sorted((s, c, dl) for s, (c, dl) in o.gain.items() if s in shallow and c > init[s])) for o in opts
        ]
        req = [frozenset(o.req_kinds) for o in opts]
        needs = [dict(o.min_levels) for o in opts]
        deep_skills = [frozenset(o.depth_skills) for o in opts]
        masks = [sum(1 << s for s in g) for g in gains]
        self.clipped_masks = masks

        def dominates(a: int, b: int) -> bool:
            oa, ob = opts[a], opts[b]
            if (
                masks[a] & masks[b] != masks[b]
                or oa.d > ob.d
                or oa.share > ob.share
                or oa.lo > ob.lo
                or oa.hi < ob.hi
                or (oa.kind != ob.kind and ob.kind in kinds)
                or not req[a] <= req[b]
            ):
                return False
            if oa.min_levels:
                need_b = needs[b]
                if any(need_b.get(s, -1) < v for s, v in oa.min_levels):
                    return False
            if depth_rule and (
                (ob.trivially_deep and not oa.trivially_deep)
                or (
                    not oa.trivially_deep
                    and (
                        not deep_skills[b] <= deep_skills[a]
                        or low_gains[a] != low_gains[b]
                        or (bool(low_gains[a]) and oa.d != ob.d)
                    )
                )
            ):
                return False
            ga = gains[a]
            for s, (cb, db) in gains[b].items():
                # for x in [init, cb): min(x + Δa, capa) ≥ min(x + Δb, cb) needs capa ≥ cb and Δa ≥ Δb, or
                # Δa large enough to reach cb from the initial level
                g = ga[s]
                if g[0] < cb or (g[1] < db and init[s] + g[1] < cb):
                    return False
            return True

        return dominates

    def _reduce(self, opts: list[_Opt], es: list[int]) -> tuple[list[_Opt], list[int]]:
        """Drop options that no *canonical* optimal plan holds (one plan wanted, see the module docs)."""
        init, depth = self.init, self.depth
        gaps, kinds, ceiling = self._relevance(opts)
        needs = {s for o in opts for s, _ in o.min_levels}
        shallow = {s for s, _, _ in self.targets if init[s] < depth} if self.depth_rule else set()
        dominates = self._dominance(opts)
        gains = [{s for s, (c, _) in o.gain.items() if min(c, ceiling.get(s, 0)) > init[s]} for o in opts]

        n = len(opts)
        raisers: dict[int, list[int]] = {}
        for i in range(n):
            for s in gains[i]:
                raisers.setdefault(s, []).append(i)
        deep_ones = [i for i in range(n) if opts[i].trivially_deep]
        keep = []
        for b in range(n):
            ob = opts[b]
            useful = [s for s in gains[b] if s in gaps or s in needs]
            deepish = self.depth_rule and (bool(ob.depth_skills) or any(s in shallow for s in ob.gain))
            if ob.kind not in kinds and not useful and not deepish:
                continue  # it helps nothing: no gap, prerequisite, kind or depth step
            if ob.kind in kinds or any(s in needs for s in useful):
                keep.append(b)
                continue
            # Every canonical optimal plan holding b holds all its dominators (see the module docs). If some of
            # them alone close every gap b closes (and one is a depth step anyway, if b could matter for the
            # depth rule), b is redundant in such a plan and dropping it saves effort: no canonical optimal plan
            # holds b.
            pool = raisers[useful[0]] if useful else deep_ones
            level = {s: init[s] for s in useful}
            ops: dict[int, list[tuple[int, int]]] = {s: [] for s in useful}
            deep_found = not deepish
            done = False
            for a in pool:
                if a == b or not dominates(a, b) or (a > b and dominates(b, a)):
                    continue
                deep_found = deep_found or opts[a].trivially_deep
                done = True
                for s in useful:
                    g = opts[a].gain.get(s)
                    if g is not None:
                        ops[s].append(g)
                    lv = init[s]
                    for c, dl in sorted(ops[s]):
                        if lv < c:
                            lv = min(lv + dl, c)
                    level[s] = lv
                    if lv < gaps[s]:
                        done = False
                if done and deep_found:
                    break
            if not (done and deep_found):
                keep.append(b)
        return [opts[i] for i in keep], [es[i] for i in keep]

    @staticmethod
    def _ub_reach(
        raw: list[_Opt], events: list[tuple[int, int]], s: int, need: int, init: int, skip: int
    ) -> int | None:
        """First week by which an upper bound of the level of ``s`` (options ended by then, except ``skip``)
        reaches ``need``."""
        total = init
        top = init
        for end, j in events:
            if j == skip:
                continue
            total += raw[j].inc[s]
            top = max(top, raw[j].gain[s][0])
            if min(total, top, MAX_LEVEL) >= need:
                return end
        return None

    def _cover_tables(self) -> None:
        """Per required skill and deficit, the smallest cost of a set of options covering it, for several costs:
        lane-weeks, effort, and effort + λ·lane-weeks (Lagrangian relaxations of "fits in the lanes").

        An option raising several skills has its cost split between them (in proportion to its useful
        increments, rounded down), so the per-skill minima add up to a lower bound for all deficits together.
        Deficits and increments are counted in units of ``scale`` hundredths (increments rounded up, deficits
        down), which only weakens the bound. Tables are kept for each week by which the options end."""
        opts, init = self.opts, self.init
        root = {s: t - init[s] for s, t, _ in self.targets if t > init[s]}
        self.scale = max(1, -(-max(root.values(), default=0) // 120))
        value = {i: sum(min(u, root[s]) for s, u in o.inc.items() if s in root) for i, o in enumerate(opts)}
        self.split_value = value
        self.cover_lanes, self.cover_effort = self._tables([self.lane_weeks, [o.effort for o in opts]])
        # until the search turns out not to be trivial (see _more_tables), the other bounds are these
        self.cover_lanes_even, self.cover_effort_even = self.cover_lanes, self.cover_effort
        self.cover_lanes_one = self.cover_lanes
        self.more_tables = False

    def _more_tables(self) -> None:
        opts = self.opts
        # the cost split evenly between the gap skills an option raises (another lower bound; the larger wins)
        self.cover_lanes_even, self.cover_effort_even = self._tables(
            [self.lane_weeks, [o.effort for o in opts]], even=True
        )
        # and unsplit: covering one skill alone costs at least this much (the largest such cost wins)
        (self.cover_lanes_one,) = self._tables([self.lane_weeks], whole=True)
        self.more_tables = True

    def _lagrange_tables(self) -> None:
        costs = [[o.effort + lam * lw for o, lw in zip(self.opts, self.lane_weeks, strict=True)] for lam in _LAMBDAS]
        self.lagrange = list(zip(_LAMBDAS, self._tables(costs), strict=True))

    def _tables(
        self,
        costs: list[list[int]],
        *,
        even: bool = False,
        whole: bool = False,
        prices: dict[int, int] | None = None,
    ) -> list[dict[int, tuple[list[int], list[list[int]]]]]:
        opts, init, scale, value = self.opts, self.init, self.scale, self.split_value
        root = {s: t - init[s] for s, t, _ in self.targets if t > init[s]}
        nsk = [max(1, sum(1 for s in o.inc if s in root)) for o in opts]
        # split by priced value: skill s gets the part y_s·min(u, δ_s) / Σ y·min(u, δ) of the cost
        priced = [
            {s: prices.get(s, 0) * min(u, root[s]) for s, u in o.inc.items() if s in root} if prices else {}
            for o in opts
        ]
        worth = [sum(p.values()) for p in priced]
        out: list[dict[int, tuple[list[int], list[list[int]]]]] = [{} for _ in costs]
        for s, need in root.items():
            size = need // scale
            tables = [[0] + [_INF] * size for _ in costs]
            thresholds: list[int] = []
            snaps: list[list[list[int]]] = [[] for _ in costs]
            for i in sorted(self.raisers.get(s, ()), key=lambda i: self.ee[i]):
                if not thresholds or thresholds[-1] != self.ee[i]:
                    if thresholds:
                        for snap, table in zip(snaps, tables, strict=True):
                            snap.append(table)
                    thresholds.append(self.ee[i])
                u = min(opts[i].inc[s], need)
                v = min(-(-u // scale), size + 1)
                for c, cost in enumerate(costs):
                    old = tables[c]
                    if whole:
                        share = cost[i]
                    elif even:
                        share = cost[i] // nsk[i]
                    elif worth[i]:
                        share = cost[i] * priced[i][s] // worth[i]
                    else:
                        share = cost[i] * u // value[i]
                    shifted = [old[0] + share] * v + [x + share for x in old[: size + 1 - v]]
                    tables[c] = list(map(min, old, shifted))
            for snap, table in zip(snaps, tables, strict=True):
                snap.append(table)
            if not thresholds:
                thresholds.append(0)
            for c in range(len(costs)):
                out[c][s] = (thresholds, snaps[c])
        return out

    def dominated(self, b: int, excluded: int) -> bool:
        """Is a dominator of option b excluded? (Dominators are computed once the search is not trivial.)"""
        if not self.dominators:
            if self.bound_calls < _LAZY:
                return False
            self.dominators = self._dominators()
        return bool(self.dominators[b] & excluded)

    def _dominators(self) -> list[int]:
        """Bitmask per option of the options that strictly dominate it (see :meth:`_dominance`; options that
        dominate each other are ordered by index).

        An optimal set that is smallest in a linear extension of strict dominance never holds a dominated
        option without its dominator (swap them), so subtrees that include b while excluding a dominator of b
        can be pruned (k = 1)."""
        opts = self.opts
        dominates = self._dominance(opts)
        masks = self.clipped_masks
        n = len(opts)
        dominators = [0] * n
        for b in range(n):
            mb, db, sb = masks[b], opts[b].d, opts[b].share
            for a in range(n):
                if (
                    a != b
                    and masks[a] & mb == mb
                    and opts[a].d <= db
                    and opts[a].share <= sb
                    and dominates(a, b)
                    and (a < b or not dominates(b, a))
                ):
                    dominators[b] |= 1 << a
        return dominators

    # ------------------------------------------------------------------ levels

    def levels_of(self, chosen: tuple[int, ...], mask: int) -> tuple[int, ...]:
        """Levels of the required skills (in ``targets`` order) once every chosen move has ended."""
        cached = self.levels_cache.get(mask)
        if cached is None:
            opts = self.opts
            out = []
            for s, _, _ in self.targets:
                lv = self.init[s]
                for c, dl in sorted(opts[i].gain[s] for i in chosen if s in opts[i].gain):
                    if lv < c:
                        lv = min(lv + dl, c)
                out.append(lv)
            cached = self.levels_cache[mask] = tuple(out)
        return cached

    def gap(self, levels: tuple[int, ...]) -> int:
        """The weighted gap left by ``levels`` of the required skills (in ``targets`` order)."""
        return sum(w * max(0, t - lv) for (_, t, w), lv in zip(self.targets, levels, strict=True))

    def level_without(self, chosen: tuple[int, ...], s: int, skip: int, latest: int) -> int:
        """Level of ``s`` from every chosen move except ``skip`` that can end by week ``latest``."""
        opts, ee = self.opts, self.ee
        ops = sorted(opts[i].gain[s] for i in chosen if i != skip and s in opts[i].gain and ee[i] <= latest)
        lv = self.init[s]
        for c, dl in ops:
            if lv < c:
                lv = min(lv + dl, c)
        return lv

    # ------------------------------------------------------------------ bounds

    def bound(
        self, chosen: tuple[int, ...], mask: int, used: int, ready: bool, tfloor: int
    ) -> tuple[int, int, int] | None:
        """Lower bound of (ready week | gap, effort, moves) over the subtree, or None if it holds no plan.

        Lexicographic: a set in the subtree whose ready week exceeds the bound's week is worse than the
        bound whatever its effort, so the effort and move bounds may assume the ready week equals the
        bound's week, i.e. use only options that can end by then."""
        opts, ee, init = self.opts, self.ee, self.init
        self.bound_calls += 1
        if self.bound_calls >= _LAZY and not self.more_tables:
            self._more_tables()
        effort = dur = lanes = 0
        week = tfloor
        for i in chosen:
            o = opts[i]
            effort += o.effort
            dur += o.d
            lanes += self.lane_weeks[i]
            if ee[i] > week:
                week = ee[i]
        count = len(chosen)
        gap_lb = 0
        fewest = 0
        needs: list[tuple[int, int, list[tuple[int, int, int, int, int]]]] = []
        forced: set[int] = set()
        for (s, target, weight), lv in zip(self.targets, self.levels_of(chosen, mask), strict=True):
            if lv >= target:
                continue
            avail = [row for row in self.rows.get(s, ()) if not used & row[1]]
            top = init[s]
            for i in chosen:
                g = opts[i].gain.get(s)
                if g is not None and g[0] > top:
                    top = g[0]
            total = 0
            best_cap = top
            need = target - lv
            t_acc = t_cap = -1 if ready else 0
            if ready and top >= target:
                t_cap = 0
            for _i, _b, u, c, e in avail:
                total += u
                if c > best_cap:
                    best_cap = c
                if t_acc < 0 and total >= need:
                    t_acc = e
                if t_cap < 0 and c >= target:
                    t_cap = e
            reach = min(MAX_LEVEL, best_cap, lv + total)
            if ready:
                if reach < target:
                    return None
                # first week by which available increments cover the deficit and a cap reaches the target
                if t_acc > week:
                    week = t_acc
                if t_cap > week:
                    week = t_cap
            else:
                gap_lb += weight * (target - min(target, reach))
                need = min(target, reach) - lv
                if need <= 0:
                    continue
            acc = n_needed = 0
            for u, b in self.by_u_rows.get(s, ()):
                if not used & b:
                    acc += u
                    n_needed += 1
                    if acc >= need:
                        break
            if n_needed > fewest:
                fewest = n_needed
            needs.append((s, need, avail))
            # an option without which the rest cannot cover the need is in every set of the subtree that
            # reaches the bound's week (ready mode) or gap (fallback mode), which is all the bound is about
            for row in avail:
                if total - row[2] < need:
                    forced.add(row[0])
        # forced options, and what the others must still cover (increments bound what an option adds)
        f_effort = f_lanes = f_dur = f_end = 0
        rest = needs
        if forced:
            for i in forced:
                f_effort += opts[i].effort
                f_lanes += self.lane_weeks[i]
                f_dur += opts[i].d
                f_end = max(f_end, ee[i])
            rest = [
                (s, max(0, need - sum(row[2] for row in avail if row[0] in forced)), avail) for s, need, avail in needs
            ]
        if ready:
            # every move needs a place: at most move_slots[t] moves can end by week t
            week = max(
                [
                    week,
                    f_end,
                    bisect_left(self.slots, dur + f_dur),
                    bisect_left(self.lane_slots, lanes + f_lanes),
                    bisect_left(self.cumcap, effort + f_effort),
                    bisect_left(self.move_slots, count + max(fewest, len(forced))),
                    *(self.first_cover(s, need) for s, need, _ in needs),
                ]
            )
            priced = self.priced(needs, used)
            while True:
                if week > self.h:
                    return None
                more_lanes = max(
                    sum(self.cover(self.cover_lanes, s, week, need) for s, need, _ in needs),
                    sum(self.cover(self.cover_lanes_even, s, week, need) for s, need, _ in needs),
                    max((self.cover(self.cover_lanes_one, s, week, need) for s, need, _ in needs), default=0),
                    f_lanes + sum(self.cover(self.cover_lanes, s, week, need) for s, need, _ in rest),
                    self.priced_at(priced, week),
                    sum(self.cover(self.cover_lanes_priced, s, week, need) for s, need, _ in needs),
                )
                more_effort = max(
                    sum(self.cover(self.cover_effort, s, week, need) for s, need, _ in needs),
                    sum(self.cover(self.cover_effort_even, s, week, need) for s, need, _ in needs),
                    f_effort + sum(self.cover(self.cover_effort, s, week, need) for s, need, _ in rest),
                )
                nxt = max(
                    bisect_left(self.lane_slots, lanes + more_lanes), bisect_left(self.cumcap, effort + more_effort)
                )
                if nxt <= week:
                    break
                # the covers only shrink when more options can end in time: re-check where that happens first
                week = min([nxt, *(self.next_cover_change(s, week) for s, _, _ in needs)])
        else:
            week = self.h
            more_effort = max(
                sum(self.cover(self.cover_effort, s, week, need) for s, need, _ in needs),
                sum(self.cover(self.cover_effort_even, s, week, need) for s, need, _ in needs),
                f_effort + sum(self.cover(self.cover_effort, s, week, need) for s, need, _ in rest),
            )
        if not needs:
            return (week if ready else gap_lb, effort, count)
        # aggregate fractional knapsack over options that can end by `week`; moves needed per skill
        useful: dict[int, int] = {}
        total_need = 0
        count_lb = count
        for s, need, avail in needs:
            total_need += need
            for i, _b, u, _c, e in avail:
                if e <= week:
                    useful[i] = useful.get(i, 0) + (u if u < need else need)
            acc = n_needed = 0
            for u, b in self.by_u_rows.get(s, ()):
                if used & b or ee[b.bit_length() - 1] > week:
                    continue
                acc += u
                n_needed += 1
                if acc >= need:
                    break
            if acc < need:
                n_needed = _INF
            count_lb = max(count_lb, count + n_needed)
        if ready:
            # effort + λ·lane-weeks ≥ table, and lane-weeks ≤ what is left by `week`: effort ≥ table − λ·left
            left = max(0, self.lane_slots[week] - lanes)
            if self.bound_calls >= _LAZY and not self.lagrange:
                self._lagrange_tables()
            for lam, tables in self.lagrange:
                more_effort = max(
                    more_effort, sum(self.cover(tables, s, week, need) for s, need, _ in needs) - lam * left
                )
        items = [(opts[i].effort, self.lane_weeks[i], u) for i, u in useful.items()]
        effort += max(more_effort, _knapsack(sorted(items, key=lambda t: t[0] / t[2]), total_need, 0))
        acc = 0
        n_needed = 0
        for u in sorted((t[2] for t in items), reverse=True):
            acc += u
            n_needed += 1
            if acc >= total_need:
                break
        count_lb = max(count_lb, count + n_needed, count + len(forced))
        if effort >= _INF or count_lb >= _INF:
            # nothing can close the deficits by `week`: the subtree's ready week is later
            if not ready or week >= self.h:
                return None if ready else (gap_lb + 1, effort, count)
            return (week + 1, 0, 0)
        if ready:
            return (week, effort, count_lb)
        return (gap_lb, effort, count_lb)

    def covering_plan(self) -> list[tuple[int, int]] | None:
        """Fallback mode, one plan wanted: the optimal plan read off a relaxation, or None (see the module
        docs). A plan's level of a skill short of its target is at most its initial level plus its options'
        increments, capped at the reachable level, so its gap is at least the deficit minus the weighted
        coverage ``Σ w_s · min(need_s, Σ min(u_is, need_s))`` of its options; with the room before the horizon
        and the prerequisites as conditions on the set, the most coverage any set reaches bounds every plan's
        gap, and the least (effort, moves) set reaching it bounds every plan leaving that gap. Such a set that
        schedules with every rule and leaves exactly that gap is optimal. This settles in milliseconds most of
        the targets out of reach on which the search ran out of time."""
        root = self.bound((), 0, 0, False, 0)
        assert root is not None  # fallback mode always has a bound
        needs: list[tuple[int, int, int]] = []
        deficit = 0
        for (s, target, weight), lv in zip(self.targets, self.levels_of((), 0), strict=True):
            if lv >= target:
                continue
            rows = self.rows.get(s, [])
            cap = max([self.init[s], *(row[3] for row in rows)])
            reach = min(MAX_LEVEL, cap, lv + sum(row[2] for row in rows))
            deficit += weight * (target - lv)
            if min(target, reach) > lv:
                needs.append((s, min(target, reach) - lv, weight))
        # Not compiled with this module: CP-SAT's expressions are Python objects mypyc would mistype.
        from micromoves.planning.covering import CoveringProblem, best_coverage, least_covering

        h = self.h
        relaxed = CoveringProblem(
            options=[(o.effort, o.d, lanes) for o, lanes in zip(self.opts, self.lane_weeks, strict=True)],
            # prerequisites as necessary conditions on the set: its required kinds among the others, and the
            # others' increments reaching its minimum levels (a level at the move's start is at most the
            # initial level plus the increments of the moves that ended before it)
            prerequisites=[
                (o.kind, o.req_kinds, tuple((s, level - self.init[s]) for s, level in o.min_levels)) for o in self.opts
            ],
            rows=self.rows,
            needs=needs,
            room=(self.cumcap[h], self.slots[h], self.lane_slots[h], self.move_slots[h]),
        )
        most = best_coverage(relaxed, self._covering_seconds(), _COVERING_DETERMINISTIC_TIME)
        if most is None or deficit - most < root[0]:
            return None  # not proven in time; or the bound proved more: no plan leaves the relaxation's gap
        # A set that fails the check is excluded (that exact set only) and the next best one is tried: what is
        # left of the relaxation still holds every plan leaving its gap.
        failed: list[tuple[int, ...]] = []
        for _round in range(_COVERING_ROUNDS):
            chosen = least_covering(relaxed, most, failed, self._covering_seconds(), _COVERING_DETERMINISTIC_TIME)
            if chosen is None:
                return None
            mask = sum(1 << i for i in chosen)
            gap = self.gap(self.levels_of(chosen, mask))
            starts = self._checked_schedule(chosen, mask) if gap == deficit - most else None
            if starts is not None:
                return list(zip(chosen, starts, strict=True))
            failed.append(chosen)
        return None

    def _checked_schedule(self, chosen: tuple[int, ...], mask: int) -> tuple[int, ...] | None:
        """:meth:`feasible` within a budget of its own (a set hard to schedule is left to the search): raises
        :class:`_Undecided` past it."""
        limit = self.step_limit
        self.step_limit = (
            self.steps + _COVERING_CHECK_STEPS if limit is None else min(limit, self.steps + _COVERING_CHECK_STEPS)
        )
        try:
            return self.feasible(chosen, mask)
        except SearchTimeout:
            if (limit is not None and self.steps > limit) or (
                self.deadline is not None and time.monotonic() > self.deadline
            ):
                raise  # the search's own limit
            raise _Undecided from None
        finally:
            self.step_limit = limit

    def _covering_seconds(self) -> float | None:
        """Wall-clock seconds the covering program may take: what is left before the deadline, if any."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    def priced(
        self, needs: list[tuple[int, int, list[tuple[int, int, int, int, int]]]], used: int
    ) -> list[tuple[int, list[tuple[int, int]]]]:
        """The Lagrangian covering bound of the lane-weeks the deficits ``needs`` take, for each price vector
        (see the module docs): per vector, ``Σ_s y_s δ_s`` and the negative reduced costs ``(end, Q·lw_i −
        Σ_s y_s min(u_is, δ_s))`` of the available options, by earliest end (:meth:`priced_at` sums those
        that can end by a week). Prices and costs are in units of 1/``_PRICE_SCALE``, so all of it is exact.
        Deficits only shrink below the root's, so an option whose reduced cost is not negative at the root
        never has one: only the others (``price_cands``) are looked at."""
        if self.prices is None:
            if self.bound_calls < _LAZY:
                return []
            from micromoves.planning.prices import cover_prices

            root = {s: t - self.init[s] for s, t, _ in self.targets if t > self.init[s]}
            duals = cover_prices(self.lane_weeks, self.rows, list(root.items()))
            self.prices = [{s: int(v * _PRICE_SCALE) for s, v in duals.items() if v > 0}]
            (self.cover_lanes_priced,) = self._tables([self.lane_weeks], prices=self.prices[0])
            self.price_cands = [
                [
                    i
                    for i, o in enumerate(self.opts)
                    if _PRICE_SCALE * self.lane_weeks[i]
                    < sum(ys.get(s, 0) * min(u, root[s]) for s, u in o.inc.items() if s in root)
                ]
                for ys in self.prices
            ]
        lw, ee, opts = self.lane_weeks, self.ee, self.opts
        deficit = {s: need for s, need, _ in needs}
        out: list[tuple[int, list[tuple[int, int]]]] = []
        for ys, cands in zip(self.prices, self.price_cands, strict=True):
            val = sum(ys.get(s, 0) * need for s, need in deficit.items())
            if val <= 0:
                continue
            reduced = []
            for i in cands:
                if (used >> i) & 1:
                    continue
                r = _PRICE_SCALE * lw[i]
                for s, u in opts[i].inc.items():
                    need = deficit.get(s, 0)
                    if need:
                        r -= ys.get(s, 0) * (u if u < need else need)
                if r < 0:
                    reduced.append((ee[i], r))
            reduced.sort()
            out.append((val, reduced))
        return out

    @staticmethod
    def priced_at(priced: list[tuple[int, list[tuple[int, int]]]], week: int) -> int:
        """The largest priced bound (see :meth:`priced`) with options that can end by ``week``."""
        best = 0
        for val, reduced in priced:
            for e, r in reduced:
                if e > week:
                    break
                val += r
            if val > best * _PRICE_SCALE:
                best = -(-val // _PRICE_SCALE)
        return best

    def first_cover(self, s: int, need: int) -> int:
        """First week by which options that can end then can cover ``need`` of skill s (> horizon: never)."""
        key = (s, need // self.scale)
        week = self.first_cover_cache.get(key)
        if week is None:
            thresholds, snapshots = self.cover_lanes[s]
            k = next((k for k, snap in enumerate(snapshots) if snap[key[1]] < _INF), None)
            week = self.h + 1 if k is None else thresholds[k]
            self.first_cover_cache[key] = week
        return week

    def next_cover_change(self, s: int, week: int) -> int:
        thresholds = self.cover_lanes[s][0]
        k = bisect_right(thresholds, week)
        return thresholds[k] if k < len(thresholds) else _INF

    def cover(self, tables: dict[int, tuple[list[int], list[list[int]]]], s: int, week: int, need: int) -> int:
        """Smallest split cost of covering ``need`` of skill s with options that can end by ``week``."""
        thresholds, snapshots = tables[s]
        k = bisect_right(thresholds, week) - 1
        return snapshots[k][need // self.scale] if k >= 0 else _INF

    # ------------------------------------------------------------------ defects

    def mandatory(self, chosen: tuple[int, ...], mask: int, used: int) -> list[int] | None:
        """Smallest branching set of a prerequisite or depth defect ([] = dead end), None if there is none."""
        opts, ee = self.opts, self.ee
        best: list[int] | None = None
        for j in chosen:
            o = opts[j]
            for kind in o.req_kinds:
                if any(opts[i].kind == kind and ee[i] <= o.hi for i in chosen if i != j):
                    continue
                cand = [i for i in self.by_kind.get(kind, ()) if not (used >> i) & 1 and ee[i] <= o.hi]
                if best is None or len(cand) < len(best):
                    best = cand
            for s, need in o.min_levels:
                if self.level_without(chosen, s, j, o.hi) >= need:
                    continue
                cand = [i for i in self.raisers.get(s, ()) if not (used >> i) & 1 and ee[i] <= o.hi]
                if best is None or len(cand) < len(best):
                    best = cand
        if (
            self.depth_rule
            and chosen
            and not any(opts[i].trivially_deep for i in chosen)
            and not any(
                self.level_without(chosen, s, j, opts[j].hi) >= self.depth for j in chosen for s in opts[j].depth_skills
            )
        ):
            cand = [i for i in self.depth_pool if not (used >> i) & 1]
            if best is None or len(cand) < len(best):
                best = cand
        return best

    def redundant(self, chosen: tuple[int, ...], mask: int) -> bool:
        """Does S hold a move that every superset can drop? (One plan wanted.)

        A move i whose kind no option requires, that raises no prerequisite skill, that cannot matter for
        the depth rule (another move of S is trivially deep, or i could be no depth step and raises no core
        skill below the depth level) and whose gap skills the rest of S already brings to their targets:
        dropping i from any superset keeps it valid with the same levels on every skill that matters, no
        later and with less effort (lower levels undo no depth step: a step needs its skill below its cap,
        and at the depth level only through skills i does not raise). So no superset is optimal."""
        if self.redundancy is None:
            gaps, kinds, _ = self._relevance(self.opts)
            needs = {s for o in self.opts for s, _ in o.min_levels}
            shallow = {s for s, _, _ in self.targets if self.init[s] < self.depth} if self.depth_rule else set()
            rel: list[tuple[int, ...] | None] = []
            for o in self.opts:
                if o.kind in kinds or any(s in needs for s in o.inc):
                    rel.append(None)
                    continue
                deepish = self.depth_rule and (bool(o.depth_skills) or any(s in shallow for s in o.gain))
                rel.append(
                    tuple(s for s in o.inc if s in gaps) if not deepish else (-1, *(s for s in o.inc if s in gaps))
                )
            self.redundancy = rel
            self.gap_target = gaps
        rel = self.redundancy
        opts = self.opts
        deep = [i for i in chosen if opts[i].trivially_deep]
        for i in chosen:
            skills = rel[i]
            if skills is None:
                continue
            if skills and skills[0] == -1:
                if not any(j != i for j in deep):
                    continue
                skills = skills[1:]
            if all(self.level_without(chosen, s, i, _INF) >= self.gap_target[s] for s in skills):
                return True
        return False

    def timing_dependent(self, chosen: tuple[int, ...]) -> bool:
        opts = self.opts
        if any(opts[i].req_kinds or opts[i].min_levels for i in chosen):
            return True
        return self.depth_rule and bool(chosen) and not any(opts[i].trivially_deep for i in chosen)

    def accelerators(self, chosen: tuple[int, ...], used: int) -> list[int]:
        opts, ee = self.opts, self.ee
        found: set[int] = set()
        for j in chosen:
            o = opts[j]
            for kind in o.req_kinds:
                found.update(i for i in self.by_kind.get(kind, ()) if ee[i] <= o.hi)
            for s, _ in o.min_levels:
                found.update(i for i in self.raisers.get(s, ()) if ee[i] <= o.hi)
        if self.depth_rule and not any(opts[i].trivially_deep for i in chosen):
            found.update(self.depth_pool)
        return sorted((i for i in found if not (used >> i) & 1), key=lambda i: (ee[i], opts[i].effort, i))

    # ------------------------------------------------------------------ search

    def run(
        self, *, ready: bool, k: int, stop_at_first: bool = False, accepted: list[int] | None = None
    ) -> list[Starts]:
        """The k best irredundant plans (ready plans in ready mode, else fallback plans), as {id: start}.
        ``accepted``: masks of plans found before, whose supersets are not plans here (alternatives)."""
        opts = self.opts
        # dominated options only matter for alternatives: with one plan wanted, prune them (see _dominators)
        self.prune_dominated = k == 1 and not accepted
        heap: list[tuple[tuple[int, int, int], int, int, _Node | _Found | _Pending]] = []
        seq = 0
        accepted = list(accepted or [])
        plans: list[Starts] = []

        def push(prio: tuple[int, int, int], item: _Node | _Found | _Pending) -> None:
            nonlocal seq
            seq += 1
            rank = 0 if isinstance(item, _Found) else 1 if isinstance(item, _Pending) else 2
            heapq.heappush(heap, (prio, rank, seq, item))

        def as_starts(found: _Found) -> Starts:
            return {opts[i].id: s for i, s in zip(found.chosen, found.starts, strict=True)}

        if ready and self.bound((), 0, 0, True, 0) is None:
            return []
        push((0, 0, 0), _Node((), 0, 0, False, False, 0))
        covering_tried = ready or k > 1 or bool(accepted)
        while heap:
            self.step()
            if not covering_tried and self.bound_calls >= _COVERING_AFTER:
                covering_tried = True
                try:
                    shortcut = self.covering_plan()
                except _Undecided:
                    shortcut = None
                if shortcut is not None:
                    return [{opts[i].id: st for i, st in shortcut}]
            prio, _, _, item = heapq.heappop(heap)
            if isinstance(item, _Found):
                if any(item.mask & a == a for a in accepted):
                    continue
                accepted.append(item.mask)
                plans.append(as_starts(item))
                if len(plans) >= k:
                    break
                continue
            if any(item.mask & a == a for a in accepted):
                continue
            if isinstance(item, _Pending):
                found = self.evaluate(item, prio, push)
            else:
                node = item
                used = node.mask | node.excluded
                if not node.bounded:
                    b = self.bound(node.chosen, node.mask, used, ready, node.tfloor)
                    if b is None:
                        continue
                    if b > prio:
                        push(b, node.bounded_copy())
                        continue
                if ready and len(node.chosen) > 1:
                    # every superset's ready week is at least S's makespan ignoring prerequisites and depth
                    nxt = self.relaxed_refuted(node.chosen, node.mask, prio[0])
                    if nxt is not None:
                        # the effort and move bounds held for ready week prio[0] only: recomputed when popped
                        if nxt <= self.h:
                            exact = (nxt, sum(opts[i].effort for i in node.chosen), len(node.chosen))
                            push(exact, _Node(*node.fields()[:4], False, nxt))
                        continue
                found = self.expand(node, used, ready, prio, push)
            if found is not None and stop_at_first:
                return [as_starts(found)]
        return plans

    def evaluate(
        self, pending: _Pending, prio: tuple[int, int, int], push: Callable[[tuple[int, int, int], _Item], None]
    ) -> _Found | None:
        """Ready mode: is ``T(S) ≤ prio[0]``? Every smaller week has been refuted, so then it is equal.

        Until S *ignoring prerequisites and depth* fits (``T_rel(S)``, tried first), nothing does. Once it
        fits but S does not, only prerequisites and depth delay S: branch on accelerators, whose subtrees
        have ready weeks ≥ ``T_rel(S)``. A refuted week comes with a lower bound of the next week to try."""
        chosen, mask = pending.chosen, pending.mask
        week = prio[0]
        accelerated = pending.accelerated
        if not accelerated:
            refuted = self.relaxed_refuted(chosen, mask, week)
            if refuted is not None:
                if refuted <= self.h:
                    push((refuted, prio[1], prio[2]), pending)
                return None
            accelerated = True
            excluded = pending.excluded
            for b in self.accelerators(chosen, mask | excluded):
                if not (self.prune_dominated and self.dominated(b, excluded)):
                    push(prio, _Node(tuple(sorted((*chosen, b))), mask | (1 << b), excluded, False, False, week))
                excluded |= 1 << b
        starts, nxt = self.schedule(chosen, rules=True, deadline=week)
        if starts is not None:
            found = _Found(chosen, mask, starts)
            push((nxt, prio[1], prio[2]), found)
            return found
        if nxt <= self.h:
            push((nxt, prio[1], prio[2]), _Pending(chosen, mask, pending.excluded, accelerated))
        return None

    def expand(
        self,
        node: _Node,
        used: int,
        ready: bool,
        prio: tuple[int, int, int],
        push: Callable[[tuple[int, int, int], _Item], None],
    ) -> _Found | None:
        opts = self.opts
        chosen, mask = node.chosen, node.mask
        if self.prune_dominated and len(chosen) > 1 and self.redundant(chosen, mask):
            return None

        lanes = sum(self.lane_weeks[i] for i in chosen)
        effort = sum(opts[i].effort for i in chosen)

        def children(branch: list[int]) -> None:
            # A child is queued with its parent's bound, raised by what its new move alone implies for the
            # ready week (its earliest end, the lane-weeks so far); the full bound is computed if it is popped.
            excluded = node.excluded
            for b in branch:
                if self.prune_dominated and self.dominated(b, excluded):
                    excluded |= 1 << b
                    continue
                week = prio[0]
                if ready:
                    week = max(week, self.ee[b], bisect_left(self.lane_slots, lanes + self.lane_weeks[b]))
                child = _Node(tuple(sorted((*chosen, b))), mask | (1 << b), excluded, False, False, node.tfloor)
                # the parent's effort and move bounds hold for its ready week only
                push((week, effort + opts[b].effort, len(chosen) + 1) if week > prio[0] else prio, child)
                excluded |= 1 << b

        defect = self.mandatory(chosen, mask, used)
        deficits = [
            (s, [i for i in self.raisers.get(s, ()) if not (used >> i) & 1])
            for (s, target, _), lv in zip(self.targets, self.levels_of(chosen, mask), strict=True)
            if lv < target
        ]
        if ready and deficits:
            # branch on the skill with the fewest raisers that can end by the current bound, those first
            soon = [(s, [i for i in b if self.ee[i] <= prio[0]], b) for s, b in deficits]
            _, first, branch = min(soon, key=lambda t: (len(t[1]), len(t[2]), t[0]))
            branch = first + [i for i in branch if self.ee[i] > prio[0]]
            if defect is not None and len(defect) < len(branch):
                branch = defect
            children(branch)
            return None
        if defect is not None:
            children(defect)
            return None
        if ready:
            # S is ready: evaluate it lazily, one candidate ready week at a time (see evaluate)
            effort = sum(opts[i].effort for i in chosen)
            push(
                (prio[0], effort, len(chosen)), _Pending(chosen, mask, node.excluded, not self.timing_dependent(chosen))
            )
            return None
        effort = sum(opts[i].effort for i in chosen)
        found: _Found | None = None
        feasible = self.feasible(chosen, mask)
        if feasible is not None and not node.evaluated:
            levels = self.levels_of(chosen, mask)
            gap = self.gap(levels)
            found = _Found(chosen, mask, feasible)
            push((gap, effort, len(chosen)), found)
        deficits = [(s, b) for s, b in deficits if b]
        if deficits:
            _, branch = min(deficits, key=lambda t: (len(t[1]), t[0]))
            children(branch)
            rest = node.excluded
            for b in branch:
                rest |= 1 << b
            push(prio, _Node(chosen, mask, rest, True, False, node.tfloor))
        elif feasible is None and self.timing_dependent(chosen):
            children(self.accelerators(chosen, used))
        return found

    # ------------------------------------------------------------------ greedy dive

    def dive(self, *, ready: bool, nodes: int) -> Starts | None:
        """A valid plan built greedily (not proven optimal), or None.

        Serial schedule generation: moves are appended one at a time, each at the earliest week where its
        window, capacity, concurrency and prerequisites hold given the moves placed before it (placed moves
        never move, so every step is polynomial). Each step adds, best first by increments per lane-week,
        a move raising the skill gap with the fewest raisers (ready mode) or any skill still short (fallback
        mode), then a depth step if the plan needs one. Ready mode repeats with a deadline before the last
        plan's ready week while ``nodes`` steps last; fallback mode stops when nothing more fits."""
        opts = self.opts
        best: Starts | None = None
        deadline = self.h
        steps = [nodes]
        by_id = {o.id: o for o in opts}
        # Ready mode: when one rule for picking moves finds nothing before the deadline, the others try (each
        # dead-ends on other instances: the most useful move per lane-week first can fill the lanes with moves
        # that end late; the quickest to end first can need many more moves).
        for rule in range(_GREEDY_RULES if ready else 1):
            while steps[0] > 0:
                plan = self._greedy_once(ready, deadline, steps, rule)
                if plan is None:
                    break
                best = plan
                if not ready or not plan:
                    return best
                deadline = max(st + by_id[i].d for i, st in plan.items()) - 1
        return best

    def _greedy_once(self, ready: bool, deadline: int, steps: list[int], rule: int = 0) -> Starts | None:
        opts, init, depth, cap, m = self.opts, self.init, self.depth, self.cap, self.m
        busy = self.busy
        load = [0] * self.h
        cnt = [0] * self.h
        placed: list[tuple[int, int]] = []  # (option, start)
        mask = 0

        def level_by(s: int, week: int) -> int:
            lv = init[s]
            for c, dl in sorted(opts[i].gain[s] for i, st in placed if st + opts[i].d <= week and s in opts[i].gain):
                if lv < c:
                    lv = min(lv + dl, c)
            return lv

        def reach(s: int, need: int) -> int | None:
            if init[s] >= need:
                return 0
            for week in sorted({st + opts[i].d for i, st in placed if s in opts[i].gain}):
                if level_by(s, week) >= need:
                    return week
            return None

        def earliest(i: int, want_deep: bool) -> int | None:
            o = opts[i]
            release = _release_week(
                self.es[i],
                o,
                lambda kind: min((st + opts[j].d for j, st in placed if opts[j].kind == kind), default=None),
                reach,
            )
            if release is None:
                return None
            if want_deep and not o.trivially_deep:
                # the first week a depth skill is at the depth level, if still below the move's cap then
                times = [
                    t
                    for sk in o.depth_skills
                    if (t := reach(sk, depth)) is not None and level_by(sk, t) < o.gain[sk][0]
                ]
                if not times:
                    return None
                release = max(release, min(times))
            pos = bisect_left(o.ok, release)
            while pos < len(o.ok):
                st = o.ok[pos]
                if st + o.d > deadline:
                    return None
                for w in range(st, st + o.d):
                    if load[w] + o.share > cap[w] or cnt[w] + busy[w] >= m:
                        pos = bisect_left(o.ok, w + 1, pos + 1)
                        break
                else:
                    return st
            return None

        def is_deep(i: int, st: int) -> bool:
            """Does the plan have a depth step through i placed at st (given the moves placed so far)?"""
            o = opts[i]
            return o.trivially_deep or any(depth <= level_by(sk, st) < o.gain[sk][0] for sk in o.depth_skills)

        def add(i: int, st: int) -> None:
            nonlocal mask
            placed.append((i, st))
            mask |= 1 << i
            for w in range(st, st + opts[i].d):
                load[w] += opts[i].share
                cnt[w] += 1

        def try_place(i: int) -> bool:
            """Place i, first placing the quickest move of each kind it needs that is not placed yet."""
            st = earliest(i, False)
            if st is None:
                missing = [k for k in opts[i].req_kinds if not any(opts[j].kind == k for j, _ in placed)]
                if not missing:
                    return False
                undo = (list(placed), mask, list(load), list(cnt))
                for kind in missing:
                    for j in self.by_kind.get(kind, ()):
                        if not (mask >> j) & 1 and not opts[j].req_kinds:
                            sj = earliest(j, False)
                            if sj is not None:
                                add(j, sj)
                                break
                st = earliest(i, False)
                if st is None:
                    restore(undo)
                    return False
            add(i, st)
            return True

        def restore(state: tuple[list[tuple[int, int]], int, list[int], list[int]]) -> None:
            nonlocal mask
            placed[:], mask, load[:], cnt[:] = state[0], state[1], state[2], state[3]

        def needs_now() -> dict[int, int]:
            out = {}
            for s, t, _ in self.targets:
                lv = level_by(s, _INF)
                if lv < t:
                    out[s] = t - lv
            return out

        def score(i: int, needs: dict[int, int]) -> tuple[float, float, int]:
            o = opts[i]
            useful = sum(min(u, needs[s]) for s, u in o.inc.items() if s in needs)
            if rule == 1:
                return (self.ee[i], -useful / (self.lane_weeks[i] * 100 + o.effort), i)
            if rule == 2:
                return (-useful / o.d, self.ee[i], i)
            return (-useful / (self.lane_weeks[i] * 100 + o.effort), self.ee[i], i)

        while steps[0] > 0:
            steps[0] -= 1
            needs = needs_now()
            if not needs:
                break
            if ready:
                ordered = sorted(needs, key=lambda s: (len(self.raisers.get(s, ())), s))
                groups = [[i for i in self.raisers.get(s, ()) if not (mask >> i) & 1] for s in ordered]
            else:
                groups = [list({i for s in needs for i in self.raisers.get(s, ()) if not (mask >> i) & 1})]
            added = False
            for group in groups:
                for i in sorted(group, key=lambda i: score(i, needs)):
                    added = try_place(i)
                    if added:
                        break
                if added:
                    break
            if not added:
                if ready:
                    return None
                break
        if ready and needs_now():
            return None
        # A move placed later may start earlier and end before a depth step starts, raising its skill to the
        # step's cap: whether the plan has a depth step is decided once every move is placed.
        if placed and self.depth_rule and not any(is_deep(i, st) for i, st in placed):
            # the plan needs a depth step: add the best one that fits
            for i in sorted((i for i in self.depth_pool if not (mask >> i) & 1), key=lambda i: (opts[i].effort, i)):
                st = earliest(i, True)
                if st is not None and is_deep(i, st):
                    add(i, st)
                    break
            else:
                return None if ready else {}
        return {opts[i].id: st for i, st in placed}

    # ------------------------------------------------------------------ schedule oracle

    def jobs_of(self, chosen: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        """The multiset of job types of ``chosen`` as a bit mask (see ``__init__``), and ``chosen`` ordered by
        job type (its relaxed schedule checks are then those of every set with that multiset)."""
        job, base = self.job, self.job_base
        ordered = tuple(sorted(chosen, key=lambda i: (job[i], i)))
        sig = 0
        prev, k = -1, 0
        for i in ordered:
            t = job[i]
            k = k + 1 if t == prev else 0
            prev = t
            sig |= 1 << (base[t] + k)
        return sig, ordered

    def relaxed_refuted(self, chosen: tuple[int, ...], mask: int, week: int) -> int | None:
        """None if ``chosen`` ignoring prerequisites and depth fits by ``week``, else a lower bound (> week)
        of its smallest makespan. Cached per multiset of job types (see ``__init__``)."""
        sig, ordered = self.jobs_of(chosen)
        if self.relaxed_fits.get(sig, self.h + 1) <= week:
            return None
        known = self.relaxed_lb.get(sig, 0)
        if known > week:
            return known
        # a superset of a multiset that does not fit by some week does not fit either (drop the extra moves
        # from a schedule of the superset)
        for sub, lb in self.refuted:
            if lb > week and sig & sub == sub:
                self.relaxed_lb[sig] = lb
                return lb
        starts, value = self.schedule(ordered, rules=False, deadline=week)
        if starts is None:
            self.relaxed_lb[sig] = value
            self.refuted.append((sig, value))
            return value
        self.relaxed_fits[sig] = value
        return None

    def feasible(self, chosen: tuple[int, ...], mask: int) -> tuple[int, ...] | None:
        if mask not in self.feasible_cache:
            self.feasible_cache[mask] = self.schedule(chosen, rules=True, deadline=self.h)[0]
        return self.feasible_cache[mask]

    def schedule(self, chosen: tuple[int, ...], *, rules: bool, deadline: int) -> tuple[tuple[int, ...] | None, int]:
        """A feasible schedule of ``chosen`` ending by ``deadline``: (starts, makespan). If there is none:
        (None, a lower bound of the smallest feasible makespan, > deadline; > horizon if there is none).
        ``rules`` False ignores prerequisites and the depth rule.

        The lower bound: the search is complete for ``deadline``, so an optimal schedule's path (see the
        module docs) was cut at some node whose bound, valid for every completion, exceeded the deadline;
        the smallest such bound over all cuts is at most the optimum (iterative deepening, as in IDA*)."""
        n = len(chosen)
        h = self.h
        if n == 0:
            return (), 0
        ops = [self.opts[i] for i in chosen]
        es = [self.es[i] for i in chosen]
        d = [o.d for o in ops]
        eff = [o.effort for o in ops]
        cap, m, busy = self.cap, self.m, self.busy
        mu = min(o.share for o in ops)
        lanes = [m if o.share + mu > 100 else 1 for o in ops]
        lb = max(es[q] + d[q] for q in range(n))
        zero = [0] * h
        lb = max(
            lb,
            _fits_by(cap, zero, zero, m, 0, sum(eff), sum(d), sum(d[q] * lanes[q] for q in range(n)), mu, min(d), n),
        )
        if lb > deadline:
            return None, lb
        if n > 3:
            # bin-packing relaxation: every move in one lane of one run of usable weeks
            windows = [(es[q], ops[q].hi + d[q]) for q in range(n)]
            week = deadline
            while week <= h and not _packs(cap, m, mu, week, d, lanes, windows):
                week += 1
            if week > deadline:
                return None, week
        need_depth = rules and self.depth_rule and not any(o.trivially_deep for o in ops)
        depth = self.depth
        init = self.init
        load = [0] * h
        cnt = [0] * h
        start = [-1] * n
        result: list[tuple[int, ...]] = []
        cut = [h + 1]  # smallest bound of a node cut by the deadline
        # the depth step the schedule is built around (see the module docs): (start week, move, skill), or -1s
        guess = [-1, -1, -1]
        # relaxed checks depend on the job types only (see __init__): sets with the same ones share the memo
        memo_key = (chosen if rules else tuple(self.job[i] for i in chosen), rules)
        memo = self.sched_memo.setdefault((*memo_key, -1, -1, -1), {})
        # classes of interchangeable moves ignoring prerequisites and depth (-1: no twin)
        twin = [-1] * n
        if not rules:
            classes: dict[tuple[int, int, int, int, int], list[int]] = {}
            for q in range(n):
                classes.setdefault((d[q], ops[q].share, es[q], ops[q].lo, ops[q].hi), []).append(q)
            for c, members in enumerate(classes.values()):
                if len(members) > 1:
                    for q in members:
                        twin[q] = c

        def level_at(s: int, week: int) -> int:
            """Level of s from the placed moves that end by ``week``."""
            lv = init[s]
            for c, dl in sorted(ops[r].gain[s] for r in range(n) if 0 <= start[r] <= week - d[r] and s in ops[r].gain):
                if lv < c:
                    lv = min(lv + dl, c)
            return lv

        def reach(s: int, need: int) -> int | None:
            """Earliest week at which the level of s from placed moves is ≥ need."""
            if init[s] >= need:
                return 0
            events = sorted((start[q] + d[q], ops[q].gain[s]) for q in range(n) if start[q] >= 0 and s in ops[q].gain)
            for idx in range(len(events)):
                lv = init[s]
                for c, dl in sorted(g for _, g in events[: idx + 1]):
                    if lv < c:
                        lv = min(lv + dl, c)
                if lv >= need:
                    return events[idx][0]
            return None

        def earliest(q: int, release: int) -> int | None:
            """Earliest start ≥ release that fits the placed moves and the deadline; records the cut."""
            o = ops[q]
            ok = o.ok
            share = o.share
            dq = d[q]
            pos = bisect_left(ok, release)
            while pos < len(ok):
                s = ok[pos]
                for w in range(s, s + dq):
                    if load[w] + share > cap[w] or cnt[w] + busy[w] >= m:
                        pos = bisect_left(ok, w + 1, pos + 1)
                        break
                else:
                    if s + dq > deadline:
                        cut[0] = min(cut[0], s + dq)
                        return None
                    return s
            return None

        def rec(placed: int, last_s: int, last_q: int, mask: int) -> bool:
            if placed == n:
                result.append(tuple(start))  # the depth step, if one is needed, was checked when placed
                return True
            # What is left depends only on the placed set and the moves still running at last_s (every later
            # start is ≥ last_s). A state that failed has no completion ending before the smallest bound cut in
            # its subtree, whatever the deadline: remembered across calls for this set.
            key = (
                mask,
                last_s,
                last_q,
                tuple(start[q] + d[q] if start[q] + d[q] > last_s else -1 for q in range(n)),
            )
            known = memo.get(key)
            if known is not None and known > deadline:
                cut[0] = min(cut[0], known)
                return False
            outer = cut[0]
            cut[0] = h + 1
            ok = expand_state(placed, last_s, last_q, mask)
            inner = cut[0]
            cut[0] = min(outer, inner)
            if ok:
                return True
            memo[key] = inner
            return False

        def expand_state(placed: int, last_s: int, last_q: int, mask: int) -> bool:
            self.step()  # a schedule check can take long: it counts against the limits too
            g_t, g_q, g_s = guess
            due = g_q >= 0 and start[g_q] < 0  # the depth step is still to be placed, in week g_t
            if due and (
                (g_t, g_q) <= (last_s, last_q)
                # the moves ending by g_t already take its skill to its cap: nothing placed later changes that
                or level_at(g_s, g_t) >= ops[g_q].gain[g_s][0]
            ):
                return False
            # every unplaced move starts at or after last_s (start order) and after its release
            area = slots = lane = 0
            first = h
            bound = 0
            small = 100
            shortest = h
            for q in range(n):
                if start[q] < 0:
                    r = max(last_s, es[q])
                    bound = max(bound, r + d[q])
                    area += eff[q]
                    slots += d[q]
                    lane += d[q] * lanes[q]
                    first = min(first, r)
                    small = min(small, ops[q].share)
                    shortest = min(shortest, d[q])
            bound = max(bound, _fits_by(cap, load, cnt, m, first, area, slots, lane, small, shortest, n - placed))
            if due:
                bound = max(bound, g_t + d[g_q])
            if bound > deadline:
                cut[0] = min(cut[0], bound)
                return False
            cands: list[tuple[int, int]] = []
            seen_classes: set[int] = set()
            for q in range(n):
                if start[q] >= 0:
                    continue
                o = ops[q]
                # identical moves (relaxed mode) are placed in index order: relabelling them in an optimal
                # schedule keeps it optimal and its start order
                if twin[q] >= 0:
                    if twin[q] in seen_classes:
                        continue
                    seen_classes.add(twin[q])
                # a move that fits nowhere from last_s on never will: later moves only add load
                r0 = max(es[q], last_s)
                s0 = earliest(q, r0)
                if s0 is None:
                    return False
                release: int | None = es[q]
                if rules:
                    release = _release_week(
                        release,
                        o,
                        lambda kind: min(
                            (start[r] + d[r] for r in range(n) if start[r] >= 0 and ops[r].kind == kind), default=None
                        ),
                        reach,
                    )
                if release is None:
                    continue
                if q == g_q:
                    # the depth step: exactly in week g_t, its skill then at the depth level and below its cap
                    if earliest(q, max(release, g_t)) == g_t and depth <= level_at(g_s, g_t) < o.gain[g_s][0]:
                        cands.append((g_t, q))
                    continue
                plain = s0 if release == r0 else earliest(q, release)
                if plain is None:
                    continue
                if g_q < 0 or g_s not in o.inc:
                    cands.append((plain, q))
                    continue
                # a move raising the depth step's skill ends by the step's start, or only after it
                if plain + d[q] <= g_t:
                    cands.append((plain, q))
                late = earliest(q, max(release, g_t - d[q] + 1))
                if late is not None:
                    cands.append((late, q))
            cands.sort()
            for s, q in cands:
                if (s, q) <= (last_s, last_q):
                    continue
                o = ops[q]
                start[q] = s
                for w in range(s, s + d[q]):
                    load[w] += o.share
                    cnt[w] += 1
                stop = rec(placed + 1, s, q, mask | (1 << q))
                for w in range(s, s + d[q]):
                    load[w] -= o.share
                    cnt[w] -= 1
                start[q] = -1
                if stop:
                    return True
            return False

        if not need_depth:
            if not rec(0, -1, -1, 0):
                return None, cut[0]
            starts = result[0]
            return starts, max(starts[q] + d[q] for q in range(n))
        # Build the schedule around its depth step: each (start week, move, skill) that could be one, in week
        # order (a week by which the other moves cannot even bring the skill to the depth level is skipped).
        guesses: list[tuple[int, int, int]] = []
        too_late = h + 1  # a depth step starting later than the deadline allows ends no earlier than this
        for q in range(n):
            for sk in ops[q].depth_skills:
                raised = sorted((es[r] + d[r], r) for r in range(n) if r != q and sk in ops[r].inc)
                for t in ops[q].ok:
                    if t < es[q]:
                        continue
                    if t + d[q] > deadline:
                        too_late = min(too_late, t + d[q])
                        break
                    total, top = init[sk], init[sk]
                    for end, r in raised:
                        if end > t:
                            break
                        total += ops[r].inc[sk]
                        top = max(top, ops[r].gain[sk][0])
                    if min(total, top) >= depth:
                        guesses.append((t, q, sk))
        for g_t, g_q, g_s in sorted(guesses):
            guess[:] = [g_t, g_q, g_s]
            memo = self.sched_memo.setdefault((*memo_key, g_t, g_q, g_s), {})
            if rec(0, -1, -1, 0):
                starts = result[0]
                return starts, max(starts[q] + d[q] for q in range(n))
        return None, min(cut[0], too_late)


@dataclass(frozen=True, slots=True)
class _Pending:
    """A ready set whose ready week is at least the priority it is queued with."""

    chosen: tuple[int, ...]
    mask: int
    excluded: int
    accelerated: bool


@dataclass(frozen=True, slots=True)
class _Node:
    chosen: tuple[int, ...]
    mask: int
    excluded: int
    evaluated: bool
    bounded: bool
    tfloor: int

    def fields(self) -> tuple[tuple[int, ...], int, int, bool, bool, int]:
        return (self.chosen, self.mask, self.excluded, self.evaluated, self.bounded, self.tfloor)

    def bounded_copy(self) -> _Node:
        return _Node(self.chosen, self.mask, self.excluded, self.evaluated, True, self.tfloor)


@dataclass(frozen=True, slots=True)
class _Found:
    chosen: tuple[int, ...]
    mask: int
    starts: tuple[int, ...]


_Item = _Node | _Found | _Pending
_INF = 10**12
_PRICE_SCALE = 1024
_LAMBDAS = (10, 25, 50, 100)
_LAZY = 48  # bound computations before the Lagrangian tables and dominance are built
# Fallback mode: bound computations before the covering relaxation is tried (quick searches never pay for it).
_COVERING_AFTER = 2_000
_GREEDY_RULES = 3  # rules for picking moves the greedy dive tries in turn (see _Search.dive)
_COVERING_DETERMINISTIC_TIME = 2.0  # CP-SAT's deterministic time units (about seconds on a fast core)
_COVERING_CHECK_STEPS = 20_000  # search steps the schedule check of the covering set may take
_COVERING_ROUNDS = 8  # covering sets tried before the search carries on alone


def _release_week(
    release: int | None,
    o: _Opt,
    kind_end: Callable[[str], int | None],
    reach: Callable[[int, int], int | None],
) -> int | None:
    """The earliest start ``o``'s prerequisites allow, from ``release`` on: after the first end of a move of
    each kind it requires (``kind_end``) and once each minimum level is reached (``reach``). None when one
    of them never holds. The greedy dive and the schedule oracle apply the same rule to their own state."""
    for kind in o.req_kinds:
        t = kind_end(kind)
        release = None if t is None or release is None else max(release, t)
    for skill, need in o.min_levels:
        if release is None:
            break
        t = reach(skill, need)
        release = None if t is None else max(release, t)
    return release


def _fits_by(
    cap: list[int],
    load: list[int],
    cnt: list[int],
    m: int,
    first: int,
    area: int,
    slots: int,
    lanes: int,
    small: int,
    shortest: int,
    moves: int = 0,
) -> int:
    """First week t such that [first, t) can hold ``area`` capacity, ``slots`` move-weeks, ``lanes``
    lane-weeks and ``moves`` moves; ``len(cap) + 1`` if none.

    A move runs in consecutive weeks with room for it (free capacity ≥ ``small``, a free lane), so it lies
    inside one run of such weeks: runs shorter than ``shortest`` count for nothing, and a run of length L
    with at most k free lanes holds at most k·⌊L/shortest⌋ moves (each lane's moves are disjoint)."""
    h = len(cap)
    done_area = done_slots = done_lanes = done_moves = 0
    run_area = run_slots = run_lanes = 0
    length = top = 0
    for w in range(first, h):
        free = cap[w] - load[w]
        free_lanes = m - cnt[w]
        if free >= small and free_lanes > 0:
            run_area += free
            run_slots += free_lanes if free_lanes * small <= free else free // small
            run_lanes += free_lanes
            length += 1
            if free_lanes > top:
                top = free_lanes
            if (
                length >= shortest
                and done_area + run_area >= area
                and done_slots + run_slots >= slots
                and done_lanes + run_lanes >= lanes
                and done_moves + top * (length // shortest) >= moves
            ):
                return w + 1
        elif length:
            if length >= shortest:
                done_area += run_area
                done_slots += run_slots
                done_lanes += run_lanes
                done_moves += top * (length // shortest)
            run_area = run_slots = run_lanes = 0
            length = top = 0
    return h + 1


def _packs(
    cap: list[int], m: int, small: int, end: int, d: list[int], lanes: list[int], windows: list[tuple[int, int]]
) -> bool:
    """Can the moves be put into lanes of the runs of usable weeks before ``end``? (A relaxation of scheduling:
    in a schedule each move lies in one run of weeks with room for it, at most m run at once so moves can be
    given lanes (interval colouring), a move that cannot run next to any other takes every lane, and a lane's
    moves fit in the run's length; order, capacity shares and exact positions are ignored.)"""
    runs: list[tuple[int, int]] = []
    w = 0
    while w < end:
        if cap[w] >= small:
            a = w
            while w < end and cap[w] >= small:
                w += 1
            runs.append((a, w))
        else:
            w += 1
    order = sorted(range(len(d)), key=lambda q: (-d[q] * lanes[q], -d[q]))
    allowed = [
        [r for r, (a, b) in enumerate(runs) if min(b, windows[q][1]) - max(a, windows[q][0]) >= d[q]] for q in order
    ]
    free = [[b - a] * m for a, b in runs]
    failed: set[tuple[int, tuple[tuple[int, ...], ...]]] = set()

    def place(k: int) -> bool:
        if k == len(order):
            return True
        key = (k, tuple(tuple(sorted(f)) for f in free))
        if key in failed:
            return False
        q = order[k]
        size = d[q]
        for r in allowed[k]:
            lanes_r = free[r]
            if lanes[q] > 1:
                if min(lanes_r) >= size:
                    free[r] = [x - size for x in lanes_r]
                    if place(k + 1):
                        return True
                    free[r] = lanes_r
                continue
            tried: set[int] = set()
            for i, x in enumerate(lanes_r):
                if x >= size and x not in tried:
                    tried.add(x)
                    lanes_r[i] = x - size
                    if place(k + 1):
                        return True
                    lanes_r[i] = x
        failed.add(key)
        return False

    return place(0)


def _knapsack(items: list[tuple[int, int, int]], need: int, cost: int) -> int:
    """Fractional covering knapsack, rounded up: the smallest total of field ``cost`` of items
    ``(effort, duration, value)``, taken in the given order (ascending cost/value), covering ``need``."""
    total = 0
    left = need
    for item in items:
        value = item[2]
        if value >= left:
            return total - (-(item[cost] * left) // value)
        total += item[cost]
        left -= value
    return 10**12


# --- switch to the compiled copy (not part of it: scripts/build_native.py copies the module up to here)
#
# ``scripts/build_native.py`` (run by ``make setup``) compiles this module with mypyc into ``_solver_native``,
# recording the SHA-256 of the planning sources it compiled against (``SOURCES``). Its search runs about
# 1.5–1.7× faster with identical results. It replaces this module's classes and functions only while those
# sources are unchanged: an edited module runs as written, never a stale build.

NATIVE_MODULE = "micromoves.planning._solver_native"
_COMPILED_NAMES = (
    "solve",
    "solve_greedy",
    "solve_nearest",
    "NoPlanFound",
    "SearchTimeout",
    "_Exact",
    "_Greedy",
    "_NearestOnly",
    "_Search",
)
# The planning modules the compiled copy was type-checked and compiled against: a change to any of them
# (a field of a dataclass, say) makes the build stale just as a change to this module does.
SOURCES = ("solver.py", "_driver.py", "_core.py", "model.py", "validate.py", "explain.py", "covering.py", "prices.py")


def source_digest(package: Path) -> str:
    """SHA-256 over the planning sources the compiled copy depends on (``SOURCES``, in ``package``)."""
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update(name.encode() + b"\0" + (package / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _compiled(digest: Callable[[], str]) -> types.ModuleType | None:
    """The compiled copy, if it is built and was built from the sources with this digest (computed only
    when there is a build to compare: installs without one do not read and hash the sources)."""
    try:
        native = importlib.import_module(NATIVE_MODULE)
    except Exception:  # not built, or built for another interpreter: the pure search runs
        return None
    return native if getattr(native, "SOURCE_SHA256", None) == digest() else None


# Only as micromoves.planning.solver: a test loads this file under another name to run the pure search.
_here = Path(__file__).parent
_native = _compiled(lambda: source_digest(_here)) if __name__ == "micromoves.planning.solver" else None
IMPLEMENTATION: types.ModuleType = _native or sys.modules[__name__]
"""The module whose search runs: the compiled copy, or this one."""
COMPILED = _native is not None
if _native is not None:
    globals().update({name: getattr(_native, name) for name in _COMPILED_NAMES})
