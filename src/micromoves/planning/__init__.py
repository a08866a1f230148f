"""The pure planning core: the provably optimal sequence of short moves that makes a person ready for a role.

No I/O and no imports from storage, services, CLI or web (a test enforces it).

The problem
-----------
All quantities are integers, so the exact solver (:func:`solve`) and the CP-SAT reference
(:func:`micromoves.planning.reference.solve_reference`) see identical data.

* Time is in whole weeks ``t = 0 .. H-1`` from the plan's start (``horizon`` H ≥ 1, default 104).
* Skill levels are hundredths of O*NET's 0–7 level scale (0..700). ``levels`` holds the current level per
  skill (absent = 0), ``requirements`` the target role's required level per skill; a skill with a
  requirement > 0 is a *core* skill. Its *target* is ``max(0, requirement − tolerance)``.
* ``capacity[w]`` is the percent of week w free for new moves (moves already active, leave and phased
  returns already subtracted; 0 = unavailable).
* A :class:`MoveOption` lasts ``duration`` weeks (1 ≤ duration ≤ ``max_move_weeks``) at ``share`` percent
  of the time (1..100). Only options with ``seats ≥ 1`` are usable.

A *plan* picks a set of options, each at most once, each with a start week s in its window
(``earliest_start ≤ s ≤ latest_start``, default latest ``H − duration``; always ``s + duration ≤ H``). A
move runs in weeks ``[s, s + duration)``; its gains apply at ``s + duration`` (its end).

Levels. A gain ``(Δ, cap)`` (``cap = min(gain_cap, 700)``) maps a level x to ``max(x, min(x + Δ, cap))``.
The level of a skill at week w is the initial level with the gains of every move that ended by w (end ≤ w)
applied **in ascending order of cap** (equal caps commute). With equal caps this is simply
``min(cap, initial + ΣΔ)``; with different caps the order could matter, and ascending caps is the order that
gives the highest level (an exchange argument: swapping an adjacent pair into ascending order never lowers
the result), i.e. introductory material counts before advanced material whatever the calendar order. It
makes a level a function of the *set* of ended moves, non-decreasing in that set, which both solvers and the
validator rely on.

Constraints, every week: the shares of running moves sum to at most ``capacity[w]``; at most
``max_concurrent`` moves run. Prerequisites, at each move's start: every ``min_levels`` entry is met, and
for every kind in ``requires_kinds`` another move of that kind has ended (end ≤ start). Depth rule (when
``depth_rule``, the default): a non-empty plan contains a *depth step*: a move with a gain > 0 on a core
skill whose level when the move starts is at or above ``depth_level`` and below the move's cap — it raises
a skill the person already holds at the depth level. (A move that cannot raise the level it starts from
deepens nothing, e.g. one starting after another move of the plan took the skill to its cap.) So a depth
step's cap is above ``depth_level`` and above the person's level today. And when the person already holds
the skill at ``depth_level`` today, a plan holding any move that can raise it (cap above today's level) has
a depth step whatever its schedule: the earliest-starting such move starts from today's level (no move
that can raise the skill has ended by then). Only through skills below ``depth_level`` today does the depth
rule depend on the schedule, and there in both directions: moves ending before a step starts must bring the
skill to the depth level, but not to the step's cap.

Readiness and objective. A non-empty plan's ready week T is the week its last move ends, and the plan is
*ready* when every core skill meets its target at T. (So no move ends after T. A move ending after the
requirements are met can help neither readiness nor the prerequisites of any earlier move — it ends after
their starts — so dropping it keeps the plan valid and ready sooner; the only exception is a depth step that
must finish last, and then T is when it ends.) If the person meets every target already, the optimal plan is
empty (status ``already_ready``, T = 0). Otherwise the objective is lexicographic: (1) minimise T, (2)
minimise effort ``Σ duration × share``, (3) minimise the number of moves.

If no plan is ready within H, the result is the plan minimising the weighted gap at the horizon
``Σ weight[s] · max(0, target[s] − level_H[s])`` (weights default to 1), then effort, then moves — status
``unreachable``, with ``unreachable_skills`` (core skills below target even with every usable option,
ignoring time, capacity and prerequisites) and ``binding``: the relaxations, each tried alone, that make the
target reachable — ``horizon`` (twice as long; the new weeks get the profile's highest capacity), ``capacity`` (100%
every week), ``prerequisites`` (none), ``depth_rule`` (off), ``max_concurrent`` (unlimited).

k best plans: ``solve(problem, k)`` returns the best plan and, in ``alternatives``, the next ones: the k best
*irredundant* plans, i.e. plan j is the best plan that is not a superset of an earlier plan (a superset only
adds moves and effort). Alternatives have the same status as the best plan (ready alternatives for a ready
target). Both solvers implement this definition (the reference with one "not all of these moves" cut per
plan found).

Validation: constructing a :class:`PlanProblem` or :class:`MoveOption` with bad data raises
:class:`PlanningError` (a ``ValueError``) naming the field: horizon ≤ 0, duration ≤ 0 or above
``max_move_weeks``, share outside 1..100, capacity of the wrong length or outside 0..100, negative gains,
levels outside 0..700, duplicate option ids, prerequisite kinds that form a cycle, and so on.
"""

from micromoves.planning.explain import explain
from micromoves.planning.model import (
    RELAXATIONS,
    MoveOption,
    PlannedMove,
    PlanningError,
    PlanProblem,
    PlanResult,
    groundable_kinds,
    kind_cycle,
    problem_digest,
    validate_problem,
)
from micromoves.planning.solver import solve
from micromoves.planning.validate import check_plan

__all__ = [
    "RELAXATIONS",
    "MoveOption",
    "PlanProblem",
    "PlanResult",
    "PlannedMove",
    "PlanningError",
    "check_plan",
    "explain",
    "groundable_kinds",
    "kind_cycle",
    "problem_digest",
    "solve",
    "validate_problem",
]
