"""Property tests: on random small instances the exact solver's objective equals CP-SAT's optimum (for the best
plan, the k-best alternatives, fallback plans of unreachable targets and the binding constraints), and every
plan either solver returns passes the independent validator."""

from __future__ import annotations

import itertools
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micromoves.planning import PlanProblem, PlanResult, check_plan, solve, solver
from micromoves.planning._core import build_result
from micromoves.planning.reference import solve_reference
from tests.planning.strategies import depth_to_earn, problems, problems_with_near_copies

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
SLOW = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def summary(result: PlanResult) -> tuple[object, ...]:
    return (
        [plan.objective for plan in result.plans()],
        result.unreachable_skills,
        result.binding,
    )


def assert_agree(problem: PlanProblem, k: int) -> None:
    exact = solve(problem, k=k)
    reference = solve_reference(problem, k=k, time_limit=60)
    assert reference.optimal
    assert check_plan(problem, exact) == []
    assert check_plan(problem, reference) == []
    assert summary(exact) == summary(reference)


@FAST
@given(problems())
def test_exact_matches_cpsat_on_small_instances(problem: PlanProblem) -> None:
    assert_agree(problem, k=1)


@FAST
@given(depth_to_earn())
def test_exact_matches_cpsat_when_depth_steps_must_be_earned(problem: PlanProblem) -> None:
    # a depth step through a skill below the depth level today must start between the moves that bring the
    # skill to that level and those that would take it to the step's cap: schedules not as early as they fit
    assert_agree(problem, k=1)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems_with_near_copies(base=depth_to_earn(max_options=5)))
@pytest.mark.heavy
def test_exact_matches_cpsat_when_depth_steps_must_be_earned_with_dominance_from_the_start(
    problem: PlanProblem,
) -> None:
    # copies that raise a skill more can undo a depth step: dominance must not swap them in
    with patch.object(solver.IMPLEMENTATION, "_LAZY", 0):
        assert_agree(problem, k=1)
    assert_agree(problem, k=2)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth_to_earn(max_options=8, max_horizon=16, max_skills=3))
def test_exact_matches_cpsat_when_depth_steps_must_be_earned_at_scale(problem: PlanProblem) -> None:
    assert_agree(problem, k=2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems(max_options=8, max_horizon=20))
@pytest.mark.heavy
def test_exact_matches_cpsat_with_dominance_and_lagrangian_bounds_from_the_start(problem: PlanProblem) -> None:
    # on small instances the search usually ends before these kick in: switch them on from the first node
    with patch.object(solver.IMPLEMENTATION, "_LAZY", 0):  # the module whose search runs
        assert_agree(problem, k=1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems(max_options=9, max_horizon=12))
@pytest.mark.heavy
def test_exact_matches_cpsat_with_the_covering_relaxation_from_the_start(problem: PlanProblem) -> None:
    # targets out of reach: the covering relaxation is tried before the first node instead of after 2,000
    # bound computations (short horizons make most of these instances unreachable)
    with patch.object(solver.IMPLEMENTATION, "_COVERING_AFTER", 0):
        assert_agree(problem, k=1)


@FAST
@given(problems(max_options=5, max_horizon=10, max_skills=3))
@pytest.mark.heavy
def test_k_best_alternatives_match_cpsat(problem: PlanProblem) -> None:
    assert_agree(problem, k=3)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems(), st.data())
def test_a_warm_start_never_changes_what_cpsat_proves(problem: PlanProblem, data: st.DataObject) -> None:
    # the benchmark warm-starts CP-SAT with the exact solver's plan: any hint, a broken or a poor plan
    # included, must leave CP-SAT's proven optimum (and alternatives, fallback, binding rules) as they were
    exact = solve(problem, k=2)
    ids = [o.id for o in problem.options]
    hints = {
        "the exact plan": {m.option_id: m.start for m in exact.moves},
        "its alternative": {m.option_id: m.start for m in exact.plans()[-1].moves},
        "any plan": data.draw(
            st.dictionaries(st.sampled_from(ids), st.integers(0, problem.horizon), max_size=len(ids))
            if ids
            else st.just({})
        ),
    }
    for name, hint in hints.items():
        warm = solve_reference(problem, k=2, time_limit=60, warm_start=hint)
        assert warm.optimal, name
        assert check_plan(problem, warm) == [], name
        assert summary(warm) == summary(exact), name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems(max_options=9, max_horizon=24, max_skills=4))
@pytest.mark.heavy
def test_exact_matches_cpsat_on_medium_instances(problem: PlanProblem) -> None:
    assert_agree(problem, k=2)


@pytest.mark.slow
@SLOW
@given(problems(max_options=12, max_horizon=30, max_skills=5))
def test_exact_matches_cpsat_at_scale(problem: PlanProblem) -> None:
    assert_agree(problem, k=3)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems_with_near_copies())
@pytest.mark.heavy
def test_exact_matches_cpsat_with_dominated_options(problem: PlanProblem) -> None:
    # the reduction (dropping options no canonical optimal plan holds) is only used for one plan
    assert_agree(problem, k=1)


@settings(max_examples=90, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems_with_near_copies(max_options=7, max_horizon=18))
@pytest.mark.heavy
def test_reduction_keeps_the_optimum(problem: PlanProblem) -> None:
    for ready in (True, False):
        full = solver._Search(problem).run(ready=ready, k=1)
        reduced = solver._Search(problem, reduce=True).run(ready=ready, k=1)
        assert len(full) == len(reduced)
        if full:
            status = "ready" if ready else "unreachable"
            a = build_result(problem, status, full[0])
            b = build_result(problem, status, reduced[0])
            assert (a.ready_week, a.gap, a.effort, len(a.moves)) == (b.ready_week, b.gap, b.effort, len(b.moves))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems_with_near_copies(max_options=6, max_horizon=16))
@pytest.mark.heavy
def test_greedy_plans_are_valid_and_never_better_than_the_optimum(problem: PlanProblem) -> None:
    exact = solve(problem)
    try:
        greedy = solver.solve_greedy(problem)
    except solver.NoPlanFound:
        return  # allowed when readiness is not disproved by the bound (the target may still be unreachable)
    assert check_plan(problem, greedy) == []
    assert greedy.objective >= exact.objective
    if exact.status == "unreachable":
        assert greedy.status == "unreachable"
        assert greedy.unreachable_skills == exact.unreachable_skills
    if greedy.status != exact.status or greedy.objective != exact.objective or exact.status == "already_ready":
        assert not greedy.optimal or exact.status == "already_ready"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems_with_near_copies(max_options=6, max_horizon=16), st.data())
def test_relaxed_schedule_checks_cached_per_multiset_of_job_types_are_exact(
    problem: PlanProblem, data: st.DataObject
) -> None:
    # One search answers every check from its caches (shared between sets with the same job types, and
    # refutations inherited by supersets); a fresh search per check computes each from scratch.
    cached = solver.IMPLEMENTATION._Search(problem)
    n = len(cached.opts)
    for _ in range(8):
        chosen = tuple(sorted(data.draw(st.sets(st.integers(0, n - 1), max_size=n) if n else st.just(set()))))
        mask = sum(1 << i for i in chosen)
        for week in data.draw(st.lists(st.integers(0, problem.horizon), min_size=1, max_size=4)):
            fresh = solver.IMPLEMENTATION._Search(problem)
            starts, _ = fresh.schedule(chosen, rules=False, deadline=week)
            answer = cached.relaxed_refuted(chosen, mask, week)
            assert (answer is None) == (starts is not None)
            if answer is not None:
                # a lower bound of the smallest makespan: the set does not fit before it
                assert answer > week
                assert fresh.schedule(chosen, rules=False, deadline=answer - 1)[0] is None


def _best_ready_superset(search: solver._Search, chosen: tuple[int, ...]) -> tuple[int, int, int] | None:
    """Brute force: the least (ready week, effort, moves) of a ready superset of ``chosen``, or None."""
    n, h = len(search.opts), search.h
    rest = [i for i in range(n) if i not in chosen]
    best: tuple[int, int, int] | None = None
    for bits in range(1 << len(rest)):
        s = tuple(sorted((*chosen, *(rest[j] for j in range(len(rest)) if bits >> j & 1))))
        mask = sum(1 << i for i in s)
        if search.gap(search.levels_of(s, mask)) > 0:
            continue
        week = 0
        while week <= h:
            starts, nxt = search.schedule(s, rules=True, deadline=week)
            if starts is not None:
                objective = (nxt, sum(search.opts[i].effort for i in s), len(s))
                best = objective if best is None else min(best, objective)
                break
            week = nxt
    return best


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems(max_options=8, max_horizon=16), st.data())
def test_ready_mode_bound_is_admissible_with_every_part_switched_on(problem: PlanProblem, data: st.DataObject) -> None:
    # The bound of a node whose subtree is every superset of S is at most the best ready superset's objective
    # (brute force over all supersets). Every part of the bound is on from the first node (the tables and the
    # LP-priced covering bound built lazily), and weeks with moves under way count only their free lanes.
    with patch.object(solver.IMPLEMENTATION, "_LAZY", 0):
        search = solver.IMPLEMENTATION._Search(problem)
        n = len(search.opts)
        for _ in range(3):
            chosen = tuple(
                sorted(data.draw(st.sets(st.integers(0, n - 1), max_size=min(n, 3)) if n else st.just(set())))
            )
            mask = sum(1 << i for i in chosen)
            bound = search.bound(chosen, mask, mask, True, 0)
            best = _best_ready_superset(search, chosen)
            if best is None:
                continue  # no ready superset: any bound holds (None says so)
            assert bound is not None
            assert bound <= best


def _smallest_makespan(problem: PlanProblem, ids: list[str]) -> int | None:
    """Brute force: the smallest makespan of a schedule of the options ``ids`` that keeps every rule (capacity,
    concurrency, windows, prerequisites, the depth rule), trying every combination of start weeks."""
    by_id = {o.id: o for o in problem.options}
    weeks = []
    for i in ids:
        o = by_id[i]
        latest = problem.horizon - o.duration if o.latest_start is None else o.latest_start
        weeks.append(range(o.earliest_start, latest + 1))
    best: int | None = None
    for combo in itertools.product(*weeks):
        starts = dict(zip(ids, combo, strict=True))
        makespan = max((s + by_id[i].duration for i, s in starts.items()), default=0)
        if best is not None and makespan >= best:
            continue
        plan = build_result(problem, "unreachable", starts)
        if not [e for e in check_plan(problem, plan) if "reported unreachable" not in e]:
            best = makespan
    return best


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(depth_to_earn(max_options=5, max_horizon=6))
def test_schedule_check_with_the_depth_rule_is_exact(problem: PlanProblem) -> None:
    # For every set of the options, the schedule oracle (every rule) finds the smallest makespan that brute
    # force over every combination of start weeks finds, and refutes every earlier week.
    assert_schedule_check_exact(problem)


@pytest.mark.slow
@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth_to_earn(max_options=5, max_horizon=6))
def test_schedule_check_with_the_depth_rule_is_exact_on_many_instances(problem: PlanProblem) -> None:
    # a set whose only schedules keep a move from ending before the depth step starts is rare at random
    assert_schedule_check_exact(problem)


def assert_schedule_check_exact(problem: PlanProblem) -> None:
    search = solver.IMPLEMENTATION._Search(problem)
    n = len(search.opts)
    for size in range(1, n + 1):
        for chosen in itertools.combinations(range(n), size):
            best = _smallest_makespan(problem, [search.opts[i].id for i in chosen])
            week, found = 0, None
            while week <= problem.horizon:
                starts, nxt = search.schedule(chosen, rules=True, deadline=week)
                if starts is not None:
                    found = nxt
                    break
                assert nxt > week
                week = nxt
            assert found == best, chosen


@st.composite
def problems_with_stronger_copies(draw: st.DrawFn) -> PlanProblem:
    """Instances where some options have a copy that is the same but raises its skills more: when either is
    enough, optimal plans tie (same effort), and dominance prefers the stronger copy."""
    import dataclasses

    problem = draw(problems(max_options=5, max_horizon=12))
    options = list(problem.options)
    for n, option in enumerate(list(options)):
        if draw(st.booleans()):
            gains = {s: g + draw(st.sampled_from([50, 100])) for s, g in option.gains.items()}
            options.insert(draw(st.integers(0, len(options))), dataclasses.replace(option, id=f"c{n}", gains=gains))
    return dataclasses.replace(problem, options=options)


@FAST
@given(problems_with_stronger_copies())
def test_the_best_plan_does_not_depend_on_how_many_alternatives_are_asked_for(problem: PlanProblem) -> None:
    # plan 1 must be the same plan for k = 1 and k = 3 (`plan P` and `plan P --k 3` must not store different
    # plans in turn)
    one = solve(problem, k=1, explain=False)
    three = solve(problem, k=3, explain=False)
    assert [(m.option_id, m.start) for m in three.moves] == [(m.option_id, m.start) for m in one.moves]
    assert three.objective == one.objective
