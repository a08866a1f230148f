"""The same planning problem as a CP-SAT model: the reference the exact solver is tested and benchmarked
against (tests and benchmarks only).

Model
-----
* Per usable option i: presence ``x_i``, start ``s_i`` in its window, an optional fixed-size interval.
* Capacity: one cumulative of capacity 100 over the moves' shares plus fixed intervals that occupy
  ``100 − capacity[w]`` in every week with less than full capacity (runs of equal capacity merged).
* Concurrency: a cumulative of demand 1 and capacity ``max_concurrent``, next to fixed intervals for the
  moves already under way (``lanes_busy``).
* Levels: a level under a set of conditional gains is a chain over the gains in ascending cap order,
  ``y_k ≤ y_{k−1} + Δ_k·b_k`` and ``y_k ≤ max(y_{k−1}, cap_k)``. Every constraint on a level is a lower
  bound (readiness, prerequisites, depth) or the level is maximised (gap), and the gain map is monotone, so
  the largest value the chain allows is exactly the level. ``b_k`` is the presence (final levels) or a
  literal implying "present and ended by this move's start" (prerequisites, depth): a literal may be false
  while the move has ended, which only lowers the level, so "implies" is enough.
* Kind prerequisites: for each required kind, one of the implied "ended before" literals of the options of
  that kind. Depth rule: a literal per (option, depth-capable core skill) implying presence and the level
  at its start; some literal must hold if any move is present. The level at the start must also be *below*
  the option's cap (else the move deepens nothing): an upper bound, so for it the "ended before" literals
  are exact (a raiser present and ended by the start forces its literal) and the level is a second chain of
  lower bounds ``z_k ≥ z_{k−1}``, ``z_k ≥ min(z_{k−1} + Δ_k·b_k, cap_k)``, the smallest value of which is the
  level. For a skill the person already holds at the depth level today the literal is just the presence:
  a plan holding such an option has a depth step whatever its schedule (see :mod:`micromoves.planning`).
* Ready mode: ``T ≥ end`` of every present move, every core skill's final level ≥ target. Fallback mode:
  weighted gap variables.

Lexicographic solving: minimise T (or the gap), fix it, minimise effort, fix it, minimise the number of
moves, each phase hinted with the previous solution (the first phase, optionally, with a caller's plan: a *warm
start*, see :func:`solve_reference`). k best: after each plan S, the cut
``Σ_{i∈S} x_i ≤ |S| − 1`` ("not all of S") and solve again, which yields the k best plans that are not
supersets of an earlier one — the definition in the package docstring.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from ortools.sat.python import cp_model

from micromoves.planning import _driver
from micromoves.planning._core import core_skills, depth_capable, window
from micromoves.planning.model import MAX_CAPACITY, MAX_LEVEL, MoveOption, PlanProblem, PlanResult

Starts = dict[str, int]


class ReferenceTimeout(RuntimeError):
    """CP-SAT found no solution (or could not prove infeasibility) within its time limit."""


def solve_reference(
    problem: PlanProblem,
    k: int = 1,
    *,
    time_limit: float = 60.0,
    workers: int = 1,
    explain: bool = True,
    warm_start: Mapping[str, int] | None = None,
) -> PlanResult:
    """Solve with CP-SAT. ``time_limit`` (seconds) bounds the whole call; if it runs out after a solution
    was found, the result has ``optimal=False``; if before, :class:`ReferenceTimeout` is raised.

    ``warm_start``: a plan as ``{option id: start week}`` given to CP-SAT as the first plan's solution hint.
    It changes how soon CP-SAT finds good plans, never what it proves: an optimum is proven by CP-SAT's own
    lower bound whatever the hint, and a hint that breaks a rule is only a poor starting point, so checking
    the exact solver's optimum against a CP-SAT run warm-started with that very plan is still a check. With
    a warm start, presolve also skips probing: with a solution in hand, the time goes into the proof, and on
    the benchmark's 500-option instances probing took about a second per phase without shortening it."""
    backend = _CpSat(time.monotonic() + time_limit, workers, dict(warm_start) if warm_start is not None else None)
    return _driver.drive(problem, k, backend, explain=explain)


class _CpSat:
    def __init__(self, deadline: float, workers: int, warm_start: dict[str, int] | None = None) -> None:
        self.deadline = deadline
        self.workers = workers
        self.warm_start = warm_start

    def _solver(self) -> cp_model.CpSolver:
        solver = cp_model.CpSolver()
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ReferenceTimeout("time limit reached")
        solver.parameters.max_time_in_seconds = left
        solver.parameters.num_workers = self.workers
        solver.parameters.random_seed = 0
        if self.warm_start is not None:
            solver.parameters.cp_model_probing_level = 0
        return solver

    def ready_plans(self, problem: PlanProblem, k: int) -> list[tuple[Starts, bool]]:
        return self._k_best(problem, k, ready=True)

    def fallback_plans(self, problem: PlanProblem, k: int) -> list[tuple[Starts, bool]]:
        return self._k_best(problem, k, ready=False)

    def ready_feasible(self, problem: PlanProblem) -> bool:
        built = _Model(problem, ready=True, cuts=[])
        status = self._solver().solve(built.model)
        if status == cp_model.UNKNOWN:
            raise ReferenceTimeout("feasibility check timed out")
        return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)

    def _k_best(self, problem: PlanProblem, k: int, *, ready: bool) -> list[tuple[Starts, bool]]:
        plans: list[tuple[Starts, bool]] = []
        cuts: list[list[str]] = []
        while len(plans) < k:
            built = _Model(problem, ready=ready, cuts=cuts)
            if not plans and self.warm_start is not None:
                built.hint(self.warm_start)
            found = self._lexicographic(built)
            if found is None:
                break
            plans.append(found)
            if not found[0]:
                break  # the empty plan: every other plan is a superset of it
            cuts.append(sorted(found[0]))
        return plans

    def _lexicographic(self, built: _Model) -> tuple[Starts, bool] | None:
        model = built.model
        optimal = True
        solver: cp_model.CpSolver | None = None
        for objective in built.objectives():
            model.minimize(objective)
            solver = self._solver()
            status = solver.solve(model)
            if status == cp_model.INFEASIBLE:
                return None
            if status == cp_model.UNKNOWN:
                raise ReferenceTimeout("no solution within the time limit")
            if status != cp_model.OPTIMAL:
                optimal = False
            value = round(solver.objective_value)
            model.add(objective == value)
            model.clear_hints()  # type: ignore[no-untyped-call]
            for var in built.all_vars():
                model.add_hint(var, solver.value(var))
        assert solver is not None
        starts = {oid: int(solver.value(built.start[oid])) for oid, x in built.present.items() if solver.value(x)}
        return starts, optimal


class _Model:
    def __init__(self, problem: PlanProblem, *, ready: bool, cuts: Sequence[Sequence[str]]) -> None:
        p = problem
        self.problem = p
        self.ready = ready
        m = self.model = cp_model.CpModel()
        self.usable: list[tuple[MoveOption, int, int]] = []
        for o in p.options:
            win = window(p, o)
            if win is not None:
                self.usable.append((o, win[0], win[1]))
        self.present: dict[str, cp_model.IntVar] = {}
        self.start: dict[str, cp_model.IntVar] = {}
        intervals = []
        for o, lo, hi in self.usable:
            x = m.new_bool_var(f"x_{o.id}")
            begin = m.new_int_var(lo, hi, f"s_{o.id}")
            self.present[o.id], self.start[o.id] = x, begin
            intervals.append(m.new_optional_fixed_size_interval_var(begin, o.duration, x, f"iv_{o.id}"))
        demands = [o.share for o, _, _ in self.usable]
        fixed, fixed_demands = [], []
        week = 0
        while week < p.horizon:
            cap = p.capacity[week]
            end = week
            while end < p.horizon and p.capacity[end] == cap:
                end += 1
            if cap < MAX_CAPACITY:
                fixed.append(m.new_fixed_size_interval_var(week, end - week, f"cap_{week}"))
                fixed_demands.append(MAX_CAPACITY - cap)
            week = end
        if intervals:
            m.add_cumulative(intervals + fixed, demands + fixed_demands, MAX_CAPACITY)
            # moves already under way hold lanes: fixed one-week intervals of their count
            busy = [(w, b) for w, b in enumerate(p.lanes_busy) if b]
            if p.max_concurrent < len(intervals) + max((b for _, b in busy), default=0):
                held = [m.new_fixed_size_interval_var(w, 1, f"busy_{w}") for w, _ in busy]
                m.add_cumulative(intervals + held, [1] * len(intervals) + [b for _, b in busy], p.max_concurrent)
        self.before_lits: dict[tuple[str, str], cp_model.IntVar] = {}
        self.exact: set[tuple[str, str]] = set()
        self.aux: list[cp_model.IntVar] = []
        self._prerequisites()
        if p.depth_rule:
            self._depth()
        for cut in cuts:
            m.add(sum(self.present[i] for i in cut) <= len(cut) - 1)
        self.effort = sum(o.effort * self.present[o.id] for o, _, _ in self.usable)
        self.count = sum(self.present.values())
        self.primary: cp_model.LinearExprT
        targets = [s for s in core_skills(p) if p.target(s) > p.level(s)]
        final_ops = {
            s: [(o, self.present[o.id]) for o, _, _ in self.usable if o.gains.get(s, 0) > 0 and o.cap > p.level(s)]
            for s in targets
        }
        if ready:
            t = m.new_int_var(0, p.horizon, "T")
            for o, _, _ in self.usable:
                m.add(self.start[o.id] + o.duration <= t).only_enforce_if(self.present[o.id])
            for s in targets:
                m.add(self._chain(s, final_ops[s]) >= p.target(s))
            self.primary = t
            self.aux.append(t)
        else:
            gaps = []
            for s in targets:
                g = m.new_int_var(0, p.target(s), f"gap_{s}")
                m.add(g >= p.target(s) - self._chain(s, final_ops[s]))
                gaps.append(p.weight(s) * g)
                self.aux.append(g)
            self.primary = sum(gaps)

    def hint(self, starts: Mapping[str, int]) -> None:
        """Hint the plan ``starts`` (options this model does not use are left out)."""
        for oid, x in self.present.items():
            self.model.add_hint(x, oid in starts)
            if oid in starts:
                self.model.add_hint(self.start[oid], starts[oid])

    def objectives(self) -> list[cp_model.LinearExprT]:
        return [self.primary, self.effort, self.count]

    def all_vars(self) -> list[cp_model.IntVar]:
        return [*self.present.values(), *self.start.values(), *self.before_lits.values(), *self.aux]

    def _before(self, first: MoveOption, then: MoveOption) -> cp_model.IntVar:
        """A literal implying: ``first`` is present and ends by the start of ``then``."""
        key = (first.id, then.id)
        lit = self.before_lits.get(key)
        if lit is None:
            m = self.model
            lit = m.new_bool_var(f"b_{first.id}_{then.id}")
            m.add_implication(lit, self.present[first.id])
            m.add(self.start[first.id] + first.duration <= self.start[then.id]).only_enforce_if(lit)
            self.before_lits[key] = lit
        return lit

    def _ended(self, first: MoveOption, then: MoveOption) -> cp_model.IntVar:
        """A literal equivalent to: ``first`` is present and ends by the start of ``then`` (exact, for upper bounds
        on a level: every raiser that has ended must count)."""
        lit = self._before(first, then)
        key = (first.id, then.id)
        if key not in self.exact:
            m = self.model
            late = m.new_bool_var(f"late_{first.id}_{then.id}")
            m.add(self.start[first.id] + first.duration >= self.start[then.id] + 1).only_enforce_if(late)
            m.add_bool_or([self.present[first.id].Not(), late, lit])
            self.exact.add(key)
            self.aux.append(late)
        return lit

    def _chain_lb(self, skill: str, ops: list[tuple[MoveOption, cp_model.IntVar]], name: str) -> cp_model.IntVar:
        """A value at least the level of ``skill`` after the gains whose literal is true (a lower bound chain in
        ascending cap order, whose smallest value is the level)."""
        m = self.model
        init = self.problem.level(skill)
        prev: cp_model.IntVar | int = init
        for o, lit in sorted((op for op in ops if op[0].cap > init), key=lambda op: (op[0].cap, op[0].id)):
            raised = m.new_int_var(init, MAX_LEVEL, f"up_{name}_{o.id}")
            m.add_min_equality(raised, [prev + o.gains[skill] * lit, o.cap])
            cur = m.new_int_var(init, MAX_LEVEL, f"lb_{name}_{o.id}")
            m.add(cur >= prev)
            m.add(cur >= raised)
            self.aux += [raised, cur]
            prev = cur
        return m.new_constant(prev) if isinstance(prev, int) else prev

    def _can_precede(self, first: tuple[MoveOption, int, int], then: tuple[MoveOption, int, int]) -> bool:
        return first[0].id != then[0].id and first[1] + first[0].duration <= then[2]

    def _chain(self, skill: str, ops: list[tuple[MoveOption, cp_model.IntVar]]) -> cp_model.LinearExprT:
        """The level of ``skill`` after the gains whose literal is true (an upper bound the solver maximises)."""
        m = self.model
        init = self.problem.level(skill)
        ops = sorted((op for op in ops if op[0].cap > init), key=lambda op: (op[0].cap, op[0].id))
        if not ops:
            return init
        if all(o.cap >= MAX_LEVEL for o, _ in ops):
            level = m.new_int_var(init, MAX_LEVEL, f"lv_{skill}")
            m.add(level <= init + sum(o.gains[skill] * lit for o, lit in ops))
            self.aux.append(level)
            return level
        prev: cp_model.IntVar | int = init
        for o, lit in ops:
            cur = m.new_int_var(init, MAX_LEVEL, f"lv_{skill}_{o.id}")
            m.add(cur <= prev + o.gains[skill] * lit)
            if o.cap < MAX_LEVEL:
                if isinstance(prev, int):
                    m.add(cur <= max(prev, o.cap))
                else:
                    top = m.new_int_var(0, MAX_LEVEL, f"mx_{skill}_{o.id}")
                    m.add_max_equality(top, [prev, o.cap])
                    m.add(cur <= top)
                    self.aux.append(top)
            self.aux.append(cur)
            prev = cur
        return prev

    def _prerequisites(self) -> None:
        p, m = self.problem, self.model
        for then in self.usable:
            o = then[0]
            x = self.present[o.id]
            for kind in sorted(o.requires_kinds):
                lits = [self._before(f[0], o) for f in self.usable if f[0].kind == kind and self._can_precede(f, then)]
                if lits:
                    m.add(sum(lits) >= 1).only_enforce_if(x)
                else:
                    m.add(x == 0)
            for skill, need in sorted(o.min_levels.items()):
                if need <= p.level(skill):
                    continue
                ops = [
                    (f[0], self._before(f[0], o))
                    for f in self.usable
                    if f[0].gains.get(skill, 0) > 0 and f[0].cap > p.level(skill) and self._can_precede(f, then)
                ]
                m.add(self._chain(skill, ops) >= need).only_enforce_if(x)

    def _depth(self) -> None:
        p, m = self.problem, self.model
        if not self.usable:
            return
        nonempty = m.new_bool_var("nonempty")
        for o, _, _ in self.usable:
            m.add_implication(self.present[o.id], nonempty)
        steps: list[cp_model.IntVar] = []
        for then in self.usable:
            o = then[0]
            for skill in sorted(o.gains):
                if not depth_capable(p, o, skill):
                    continue
                if p.level(skill) >= p.depth_level:
                    # held at the depth level today: the plan then has a depth step whatever the schedule (the
                    # earliest-starting move raising the skill above today's level starts from today's level)
                    steps.append(self.present[o.id])
                    continue
                ops = [
                    (f[0], self._before(f[0], o))
                    for f in self.usable
                    if f[0].gains.get(skill, 0) > 0 and f[0].cap > p.level(skill) and self._can_precede(f, then)
                ]
                if not ops:
                    continue
                lit = m.new_bool_var(f"deep_{o.id}_{skill}")
                m.add_implication(lit, self.present[o.id])
                m.add(self._chain(skill, ops) >= p.depth_level).only_enforce_if(lit)
                # below the cap when it starts: every raiser that has ended by then counts
                exact = [(f, self._ended(f, o)) for f, _ in ops]
                m.add(self._chain_lb(skill, exact, f"{o.id}_{skill}") <= o.cap - 1).only_enforce_if(lit)
                steps.append(lit)
                self.aux.append(lit)
        m.add(sum(steps) >= nonempty)
        self.aux.append(nonempty)
