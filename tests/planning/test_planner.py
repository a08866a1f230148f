"""Hand-built planning cases: readiness, fallback and binding constraints, depth rule, capacity, windows,
prerequisites, alternatives, validation and explanations. Each exact result is checked against CP-SAT too."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from micromoves.planning import (
    MoveOption,
    PlannedMove,
    PlanningError,
    PlanProblem,
    PlanResult,
    check_plan,
    explain,
    solve,
)
from micromoves.planning._core import build_result
from micromoves.planning.reference import solve_reference


def problem(options: list[MoveOption], **kw: Any) -> PlanProblem:
    base: dict[str, Any] = {
        "levels": {"py": 350, "data": 100},
        "requirements": {"py": 300, "data": 300},
        "horizon": 30,
        "skill_names": {"py": "Programming", "data": "Data analysis"},
    }
    base.update(kw)
    return PlanProblem(options=options, **base)


def both(p: PlanProblem, k: int = 1) -> PlanResult:
    """Solve exactly, check the plan and that CP-SAT agrees; return the exact result."""
    exact = solve(p, k=k)
    reference = solve_reference(p, k=k)
    assert check_plan(p, exact) == []
    assert check_plan(p, reference) == []
    assert [r.objective for r in exact.plans()] == [r.objective for r in reference.plans()]
    assert (exact.unreachable_skills, exact.binding) == (reference.unreachable_skills, reference.binding)
    return exact


def starts(result: PlanResult) -> dict[str, int]:
    return {m.option_id: m.start for m in result.moves}


# a depth step on Programming (already at 3.5 ≥ 3.0) and a fast gain on Data analysis
DEEP = MoveOption("deep", "gig", 6, 20, {"py": 30}, title="Code review rota")
FAST = MoveOption("fast", "course", 4, 50, {"data": 200}, title="Data bootcamp")


def test_already_ready_gives_the_empty_plan() -> None:
    p = problem([FAST, DEEP], levels={"py": 350, "data": 320})
    result = both(p, k=3)
    assert result.status == "already_ready"
    assert (result.moves, result.ready_week, result.effort, result.alternatives) == ((), 0, 0, ())
    assert "Already ready" in result.explanation[0]


def test_depth_rule_changes_the_optimum() -> None:
    p = problem([FAST, DEEP])
    with_rule = both(p)
    assert with_rule.status == "ready"
    assert starts(with_rule) == {"fast": 0, "deep": 0}
    assert with_rule.ready_week == 6
    assert [m.depth_step for m in with_rule.moves if m.option_id == "deep"] == [True]
    assert [m.depth_step for m in with_rule.moves if m.option_id == "fast"] == [False]
    without = both(dataclasses.replace(p, depth_rule=False))
    assert starts(without) == {"fast": 0}
    assert without.ready_week == 4


def test_depth_step_can_come_from_an_earlier_move() -> None:
    # data below the depth level: "fast" becomes a depth step once "intro" has lifted data to 3.0
    intro = MoveOption("intro", "course", 3, 10, {"data": 200})
    p = problem([intro, FAST], levels={"py": 100, "data": 100}, requirements={"py": 0, "data": 450})
    result = both(p)
    assert starts(result) == {"intro": 0, "fast": 3}
    assert any(m.depth_step for m in result.moves)
    assert "depth level" in " ".join(result.explanation)


def test_a_move_capped_below_the_persons_level_is_no_depth_step() -> None:
    # A is held at 5.0; the course raises A only up to 4.0, so it deepens nothing: it is no depth step, and
    # without another move there is no plan with one.
    course = MoveOption("course", "course", 4, 10, {"data": 200, "py": 50}, gain_cap=400)
    p = problem([course], levels={"py": 500, "data": 200}, requirements={"py": 500, "data": 400})
    result = both(p)
    assert result.status == "unreachable" and result.binding == ("depth_rule",)
    assert not any(m.depth_step for m in result.moves)
    # A move that can raise A above 5.0 is one, and it makes the plan.
    deeper = MoveOption("deeper", "gig", 2, 10, {"py": 50}, gain_cap=600)
    ready = both(dataclasses.replace(p, options=(course, deeper)))
    assert ready.status == "ready" and [m.option_id for m in ready.moves if m.depth_step] == ["deeper"]


def test_a_move_starting_once_an_earlier_one_has_topped_the_skill_up_is_no_depth_step() -> None:
    """Data is below the depth level (2.0). The bootcamp takes it to 7.0; a review rota starting after that
    cannot raise Data any more (its cap is 7.0), so it deepens nothing and is no depth step. It was one while
    the rule compared the cap with the level today rather than with the level when the move starts: the plan
    'bootcamp, then rota' was ready in week 5 through a step that adds nothing. No move here can be a depth
    step (the rota before the bootcamp ends starts below 3.0), so no plan is valid with the depth rule."""
    bootcamp = MoveOption("bootcamp", "course", 4, 50, {"data": 500}, title="Data bootcamp")
    rota = MoveOption("rota", "gig", 1, 10, {"data": 50}, title="Review rota")
    p = problem([bootcamp, rota], levels={"py": 100, "data": 200}, requirements={"py": 0, "data": 600})
    result = both(p)
    assert result.status == "unreachable" and result.binding == ("depth_rule",) and result.moves == ()
    topped_up = build_result(p, "ready", {"bootcamp": 0, "rota": 4})
    assert [m.depth_step for m in topped_up.moves] == [False, False]
    assert any("no depth step" in e for e in check_plan(p, topped_up))
    # A course that brings Data to exactly 3.0 first makes the rota, started then, a real depth step (3.0 → 3.5),
    # while the bootcamp runs: ready in week 4.
    intro = MoveOption("intro", "course", 2, 20, {"data": 100}, title="Data intro")
    ready = both(dataclasses.replace(p, options=(bootcamp, rota, intro)))
    assert ready.status == "ready" and ready.ready_week == 4
    assert starts(ready) == {"bootcamp": 0, "intro": 0, "rota": 2}
    assert [m.option_id for m in ready.moves if m.depth_step] == ["rota"]


def test_a_depth_step_can_need_a_move_started_later_than_it_could_so_it_ends_after_the_step_starts() -> None:
    """Data at 2.0, depth level 3.0. The intro takes Data to 3.0 (its cap); the bootcamp to 7.0; the review
    (cap 5.0) is the only move that can be a depth step (the intro's cap is not above 3.0, the bootcamp can
    start in week 0 or 1 only, below 3.0): it must start once the intro has ended but before the bootcamp
    has. So the bootcamp starts in week 1, not in week 0 where it also fits: a schedule check placing every
    move as early as it fits would miss the plan."""
    intro = MoveOption("intro", "course", 2, 50, {"data": 100}, gain_cap=300)
    bootcamp = MoveOption("bootcamp", "course", 2, 50, {"data": 500}, latest_start=1)
    review = MoveOption("review", "gig", 2, 50, {"data": 100}, gain_cap=500)
    p = problem([intro, bootcamp, review], levels={"py": 100, "data": 200}, requirements={"py": 0, "data": 700})
    result = both(p)
    assert result.status == "ready" and result.ready_week == 4
    assert starts(result) == {"intro": 0, "bootcamp": 1, "review": 2}
    assert [m.option_id for m in result.moves if m.depth_step] == ["review"]


def test_a_move_raising_the_skill_after_the_depth_step_starts_is_not_moved_before_it() -> None:
    """Data at 2.0 of 6.0, four weeks, two moves at a time: out of reach; the nearest plan. The workshop
    (week 0 only) takes Data to 3.0; the clinic (cap 3.5) is the only possible depth step, so it starts in
    week 1 at 3.0. Of the two one-week labs (cap 3.0), one runs beside the clinic and the other fits beside
    the workshop in week 0, but ending there it would take Data to 3.5 by week 1, the clinic's cap: it must
    start in week 2, after the clinic, though an earlier week fits."""
    lab = MoveOption("lab1", "course", 1, 30, {"data": 50}, gain_cap=300)
    options = [
        lab,
        dataclasses.replace(lab, id="lab2"),
        MoveOption("clinic", "course", 1, 30, {"data": 50}, gain_cap=350),
        MoveOption("workshop", "course", 1, 30, {"data": 100}, gain_cap=500, latest_start=0),
    ]
    p = problem(options, levels={"data": 200}, requirements={"data": 600}, horizon=4)
    result = both(p)
    assert result.status == "unreachable" and result.gap == 150
    assert starts(result) == {"workshop": 0, "lab1": 1, "clinic": 1, "lab2": 2}
    assert [m.option_id for m in result.moves if m.depth_step] == ["clinic"]


def test_a_depth_step_is_named_by_a_skill_it_raises_from_the_level_when_it_starts() -> None:
    """Customer service and Electronics are held at 6.94 and 6.91: the shadowing tops both up to 7.0, a depth
    step. The gig after it raises Media only (Customer service is at the top when it starts, Media below the
    depth level): no depth step, and its line says nothing about depth (it was one, named by Customer
    service). The stretch raises Fine arts, held at 4.68, but not Electronics, already at 7.0: a depth step
    through Fine arts, and its line names Fine arts (it named Electronics, the first skill by id)."""
    names = {"cps": "Customer service", "cm": "Media", "ce": "Electronics", "fa": "Fine arts"}
    shadow = MoveOption("shadow", "shadowing", 4, 10, {"cps": 6, "ce": 9}, title="Shadow a PR specialist")
    gig = MoveOption("gig", "gig", 10, 20, {"cm": 52, "cps": 40}, title="Media gig")
    stretch = MoveOption("stretch", "stretch_assignment", 16, 40, {"ce": 40, "fa": 77}, title="Electronics stretch")
    p = PlanProblem(
        levels={"cps": 694, "cm": 200, "ce": 691, "fa": 468},
        requirements={"cps": 600, "cm": 400, "ce": 600, "fa": 600},
        options=[shadow, gig, stretch],
        horizon=40,
        skill_names=names,
    )
    result = build_result(p, "unreachable", {"shadow": 0, "gig": 4, "stretch": 4})
    assert check_plan(p, result) == []
    deep = {m.option_id: m.depth_step for m in result.moves}
    assert deep == {"shadow": True, "gig": False, "stretch": True}
    lines = {line.split("'")[1]: line for line in explain(p, result)[1:-1]}
    assert "it is a depth step: you already hold Electronics at 6.91 when it starts" in lines["Shadow a PR specialist"]
    assert "depth" not in lines["Media gig"]
    assert "it is a depth step: you already hold Fine arts at 4.68 when it starts" in lines["Electronics stretch"]
    assert "Electronics at" not in lines["Electronics stretch"]
    assert explain(p, result)[-1].startswith("Balance: 2 depth steps ('Shadow a PR specialist', 'Electronics stretch')")


def test_capacity_taken_by_an_active_move_delays_a_full_time_move() -> None:
    rotation = MoveOption("rot", "rotation", 5, 100, {"data": 200, "py": 50})
    free = both(problem([rotation]))
    assert starts(free) == {"rot": 0}
    # an active move takes 30% of the first 8 weeks
    busy = both(problem([rotation], capacity=[70] * 8 + [100] * 22))
    assert starts(busy) == {"rot": 8}
    assert busy.ready_week == 13
    assert "only 70% of week 7 is available" in busy.explanation[1]


def test_zero_capacity_weeks_and_start_windows() -> None:
    rotation = MoveOption("rot", "rotation", 4, 100, {"data": 200, "py": 50})
    leave = [100, 100, 0, 0] + [100] * 26  # leave in weeks 2-3: the move cannot run across them
    assert starts(both(problem([rotation], capacity=leave))) == {"rot": 4}
    windowed = dataclasses.replace(rotation, earliest_start=9, latest_start=12)
    result = both(problem([windowed]))
    assert starts(result) == {"rot": 9}
    assert "window opens in week 9" in result.explanation[1]
    # a window that closes before the leave is over makes the target unreachable
    closed = both(problem([dataclasses.replace(rotation, latest_start=1)], capacity=leave))
    assert closed.status == "unreachable"
    assert closed.binding == ("capacity",)


def test_prerequisite_by_kind() -> None:
    course = MoveOption("course", "course", 3, 10, {"py": 10})
    gig = MoveOption("gig", "gig", 4, 20, {"data": 200, "py": 20}, requires_kinds=frozenset({"course"}))
    result = both(problem([course, gig]))
    assert starts(result) == {"course": 0, "gig": 3}
    assert "needs a completed course first" in result.explanation[2]
    unreachable = both(problem([gig]))
    assert unreachable.status == "unreachable"
    assert unreachable.binding == ("prerequisites",)


def test_prerequisite_by_level() -> None:
    basics = MoveOption("basics", "course", 3, 10, {"data": 100})
    advanced = MoveOption("advanced", "gig", 5, 30, {"data": 150, "py": 20}, min_levels={"data": 200})
    result = both(problem([basics, advanced]))
    assert starts(result) == {"basics": 0, "advanced": 3}
    assert result.final_levels == {"data": 350, "py": 370}
    assert "needs Data analysis at 2.0, reached in week 3" in result.explanation[2]


def test_unreachable_skill_gives_the_nearest_plan() -> None:
    p = problem(
        [FAST, DEEP, MoveOption("sql", "course", 4, 10, {"sql": 200}, gain_cap=250)],
        levels={"py": 350, "data": 100, "sql": 100},
        requirements={"py": 300, "data": 300, "sql": 400},
        weights={"sql": 3},
    )
    result = both(p, k=2)
    assert result.status == "unreachable"
    assert result.unreachable_skills == ("sql",)
    assert result.binding == ()
    assert result.ready_week is None
    # closes data fully and sql as far as the capped course allows: 2.5 of 4.0, weight 3
    assert result.gap == 3 * (400 - 250)
    assert result.option_ids == {"fast", "deep", "sql"}
    assert "cannot be reached" in result.explanation[0]
    assert "No combination of the options" in result.explanation[0]


def test_a_skill_out_of_every_options_reach_is_not_searched_for() -> None:
    """No ready plan exists when even every option together leaves a required skill short: the driver goes
    straight to the nearest plan instead of running the ready search to prove it (and no relaxation is
    tried: none of them adds a gain)."""
    from micromoves.planning import _driver
    from micromoves.planning.solver import _Exact

    calls: list[str] = []

    class Recording:
        def __init__(self) -> None:
            self.inner = _Exact()

        def ready_plans(self, p: PlanProblem, k: int) -> Any:
            calls.append("ready")
            return self.inner.ready_plans(p, k)

        def fallback_plans(self, p: PlanProblem, k: int) -> Any:
            calls.append("fallback")
            return self.inner.fallback_plans(p, k)

        def ready_feasible(self, p: PlanProblem) -> bool:
            calls.append("feasible")
            return bool(self.inner.ready_feasible(p))

    capped = MoveOption("sql", "course", 4, 10, {"sql": 200}, gain_cap=250)
    out_of_reach = problem(
        [FAST, DEEP, capped],
        levels={"py": 350, "data": 100, "sql": 100},
        requirements={"py": 300, "data": 300, "sql": 400},
    )
    result = _driver.drive(out_of_reach, 1, Recording())
    assert (result.status, result.unreachable_skills, calls) == ("unreachable", ("sql",), ["fallback"])
    calls.clear()
    reachable = dataclasses.replace(out_of_reach, requirements={"py": 300, "data": 300, "sql": 250})
    assert _driver.drive(reachable, 1, Recording()).status == "ready" and calls == ["ready"]


def test_binding_constraint_is_named() -> None:
    long_gig = MoveOption("long", "gig", 20, 50, {"data": 200, "py": 10})
    short = both(problem([long_gig], horizon=12))
    assert short.status == "unreachable"
    assert short.unreachable_skills == ()
    assert short.binding == ("horizon",)
    assert short.moves == ()
    assert "twice as long" in short.explanation[0]
    two = [
        MoveOption("a", "gig", 6, 20, {"data": 100, "py": 10}),
        MoveOption("b", "gig", 6, 20, {"data": 100, "py": 10}),
    ]
    one_at_a_time = both(problem(two, horizon=8, max_concurrent=1))
    assert one_at_a_time.binding == ("horizon", "max_concurrent")


def test_k_alternatives_are_distinct_and_ordered() -> None:
    options = [
        FAST,
        DEEP,
        MoveOption("slow", "gig", 8, 20, {"data": 250}),
        MoveOption("mix", "stretch_assignment", 10, 30, {"data": 120, "py": 40}),
        MoveOption("half", "course", 5, 10, {"data": 100}),
    ]
    result = both(problem(options), k=4)
    plans = result.plans()
    assert len(plans) == 4
    objectives = [plan.objective for plan in plans]
    assert objectives == sorted(objectives)
    sets = [plan.option_ids for plan in plans]
    assert len(set(sets)) == 4
    for later in range(1, 4):
        assert all(not sets[earlier] <= sets[later] for earlier in range(later))
    assert all(plan.status == "ready" for plan in plans)


def test_explanation_of_a_step() -> None:
    result = solve(problem([FAST, DEEP]))
    assert result.explanation == explain(problem([FAST, DEEP]), result)
    text = "\n".join(result.explanation)
    assert (
        "Week 0–4: course 'Data bootcamp' (50% time) raises Data analysis 1.0 → 3.0, closing 100% of that gap" in text
    )
    assert "it is a depth step: you already hold Programming at 3.5" in text
    assert result.explanation[-1].startswith("Balance: 1 depth step ('Code review rota'); 1 skill broadened")


def test_a_step_is_explained_to_whoever_reads_the_plan() -> None:
    """ "you already hold" is for the person; their manager, HR or an operator reads their name (or "they").
    A plan is stored speaking to the person: readdress() gives the same lines explain() would for the
    reader, so plans already stored read right too."""
    from micromoves.planning.explain import THEY, YOU, Subject, readdress, subject_for, under_way_note

    p = problem([FAST, DEEP])
    result = solve(p)
    stored = explain(p, result)
    assert stored == explain(p, result, YOU) == result.explanation
    ada = Subject.named("Ada Lovelace")
    for subject, said in ((ada, "Ada Lovelace already holds"), (THEY, "they already hold")):
        lines = explain(p, result, subject)
        assert f"it is a depth step: {said} Programming at 3.5 when it starts" in "\n".join(lines)
        assert not any(" you " in f" {line} " for line in lines), lines
        assert readdress(stored, subject) == list(lines)
    assert readdress(stored, YOU) == list(stored)
    note = under_way_note("Acting team lead", "temporary_lead", "2026-02-13")
    assert note == (
        "'Acting team lead' needs a temporary lead first: the temporary lead you are doing now counts once it "
        "ends on 2026-02-13, so it starts after that."
    )
    assert readdress([note], ada) == [under_way_note("Acting team lead", "temporary_lead", "2026-02-13", ada)]
    assert "the temporary lead Ada Lovelace is doing now" in readdress([note], ada)[0]
    # Who is "you": the reader's own plan only.
    assert subject_for("P1", "P1", "Ada Lovelace") == YOU
    assert subject_for("MGR", "P1", "Ada Lovelace") == ada
    # A person named "You" is still spoken of by name to their manager, not taken for the reader.
    you_named = subject_for("MGR", "P1", "you")
    assert not you_named.is_reader and readdress(stored, you_named) == list(explain(p, result, you_named))
    assert "you already holds" in "\n".join(readdress(stored, you_named))
    assert subject_for(None, "P1", "Ada Lovelace") == ada  # an admin, an operator
    assert subject_for("MGR", "P1", None) == subject_for("MGR", "P1", " ") == THEY


def test_steps_are_explained_in_the_order_their_gains_count() -> None:
    """A gig that starts with a shadowing but ends after it builds on what the shadowing added: its line comes
    second, so the levels chain from line to line (3.52 → 3.85, then 3.85 → 4.53) instead of the gig's
    "3.85 → 4.53" being printed before the shadowing that brings Design to 3.85."""
    gig = MoveOption("gig", "gig", 6, 20, {"design": 68}, title="Design gig")
    shadow = MoveOption("shadow", "shadowing", 4, 10, {"design": 33}, title="Shadow a designer")
    p = PlanProblem(
        levels={"design": 352},
        requirements={"design": 600},
        options=[gig, shadow],
        horizon=20,
        skill_names={"design": "Design"},
    )
    result = build_result(p, "ready", {"gig": 0, "shadow": 0})
    assert [m.option_id for m in result.moves] == ["gig", "shadow"]  # the plan itself stays in start order
    lines = explain(p, result)
    assert lines[1].startswith("Week 0–4: shadowing 'Shadow a designer' (10% time) raises Design 3.52 → 3.85")
    assert lines[2].startswith("Week 0–6: gig 'Design gig' (20% time) raises Design 3.85 → 4.53")
    # The depth clause names the level when the step starts, which the step's "before" level is not.
    assert "you already hold Design at 3.52 when it starts" in lines[2]
    assert lines[0].endswith("The steps below are listed in the order they end, which is when their gains count.")
    # A plan whose start order is its end order says nothing about the order.
    alone = build_result(p, "ready", {"gig": 0, "shadow": 6})
    assert "listed in the order" not in explain(p, alone)[0]


def test_a_step_that_meets_a_level_within_the_tolerance_says_so() -> None:
    """Data analysis 1.0 → 2.8 against 3.0 required with a 0.3 tolerance: the gap the plan works to is
    closed, and the step says so without claiming the role's own 3.0 is reached."""
    short = MoveOption("short", "course", 4, 50, {"data": 180}, title="Data basics")
    result = solve(problem([short, DEEP], tolerance=30))
    text = "\n".join(result.explanation)
    assert "raises Data analysis 1.0 → 2.8, closing 100% of that gap (within the tolerance of the 3.0 required)" in text
    # A move reaching the full level mentions no tolerance.
    assert "tolerance" not in "\n".join(solve(problem([FAST, DEEP], tolerance=30)).explanation)


def test_a_step_delayed_by_moves_already_in_the_tracker_says_they_are_approved_or_under_way() -> None:
    """The person's one lane is taken by a move for five weeks: it may be approved and not started yet, so
    the step does not call it "under way" alone."""
    result = solve(problem([FAST, DEEP], max_concurrent=1, lanes_busy=[1] * 5 + [0] * 25))
    assert result.moves[0].start == 5
    assert (
        "It starts in week 5 because week 4 already has 1 concurrent move (the most allowed, 1 of them already "
        "approved or under way)." in result.explanation[1]
    )


def test_validator_catches_broken_plans() -> None:
    p = problem([FAST, DEEP])
    result = solve(p)
    moved = dataclasses.replace(
        result, moves=tuple(dataclasses.replace(m, start=m.start + 1, end=m.end + 1) for m in result.moves)
    )
    assert any("ready week" in e for e in check_plan(p, moved))
    overfull = dataclasses.replace(p, capacity=[60] * 30)
    assert any("capacity" in e for e in check_plan(overfull, result))
    no_depth = dataclasses.replace(result, moves=tuple(m for m in result.moves if m.option_id == "fast"))
    errors = check_plan(p, no_depth)
    assert any("no depth step" in e for e in errors)
    assert any("effort" in e for e in errors)
    fake = PlannedMove("ghost", "gig", 0, 2, 10, {})
    assert any("unknown option" in e for e in check_plan(p, dataclasses.replace(result, moves=(fake,))))


def opt(**kw: Any) -> MoveOption:
    fields: dict[str, Any] = {"id": "x", "kind": "gig", "duration": 4, "share": 20, "gains": {"data": 100}}
    fields.update(kw)
    return MoveOption(**fields)


BAD_INPUTS: list[tuple[str, Callable[[], object]]] = [
    ("horizon", lambda: problem([], horizon=0)),
    ("duration", lambda: opt(duration=0)),
    ("options[0].duration", lambda: problem([opt(duration=27)])),
    ("share", lambda: opt(share=0)),
    ("share", lambda: opt(share=101)),
    ("capacity", lambda: problem([], capacity=[100] * 29)),
    ("capacity[3]", lambda: problem([], capacity=[100, 100, 100, 120] + [100] * 26)),
    ("gains['data']", lambda: opt(gains={"data": -10})),
    ("levels['py']", lambda: problem([], levels={"py": 701})),
    ("requirements['py']", lambda: problem([], requirements={"py": -1})),
    ("weights['py']", lambda: problem([], weights={"py": 0})),
    ("options[1].id", lambda: problem([opt(), opt()])),
    ("latest_start", lambda: opt(earliest_start=5, latest_start=3)),
    ("gain_cap", lambda: opt(gain_cap=800)),
    ("min_levels['py']", lambda: opt(min_levels={"py": 900})),
    ("max_concurrent", lambda: problem([], max_concurrent=0)),
    ("tolerance", lambda: problem([], tolerance=-5)),
    ("depth_level", lambda: problem([], depth_level=701)),
    (
        "options[0].requires_kinds",
        lambda: problem(
            [
                opt(id="a", kind="gig", requires_kinds=frozenset({"rotation"})),
                opt(id="b", kind="rotation", requires_kinds=frozenset({"gig"})),
            ]
        ),
    ),
    ("k", lambda: solve(problem([FAST, DEEP]), k=0)),
]


@pytest.mark.parametrize(("field", "make"), BAD_INPUTS, ids=[f for f, _ in BAD_INPUTS])
def test_bad_input_raises_planning_error_naming_the_field(field: str, make: Callable[[], object]) -> None:
    with pytest.raises(PlanningError) as info:
        make()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert isinstance(info.value, ValueError)


def test_a_self_requiring_kind_with_a_way_in_is_not_a_cycle() -> None:
    # an advanced course requires an earlier course: fine as long as some course has no such requirement
    basic = MoveOption("basic", "course", 2, 10, {"data": 100})
    advanced = MoveOption("adv", "course", 3, 10, {"data": 150}, requires_kinds=frozenset({"course"}))
    result = both(problem([basic, advanced, DEEP]))
    assert starts(result) == {"basic": 0, "adv": 2, "deep": 0}
    with pytest.raises(PlanningError, match="cycle"):
        problem([advanced])


def test_options_without_seats_or_window_are_never_planned() -> None:
    full = dataclasses.replace(FAST, seats=0)
    late = dataclasses.replace(FAST, id="late", earliest_start=28)
    result = both(problem([full, late, DEEP]))
    assert result.status == "unreachable"
    assert result.unreachable_skills == ()
    assert result.binding == ("horizon",)


def test_time_limit_stops_the_search_between_nodes() -> None:
    """Off the main thread there is no interval timer: the search itself gives up past ``time_limit``."""
    from micromoves.planning.solver import SearchTimeout

    # Sixteen near-equal small gains, three needed: many sets to rank before the optimum is proven.
    options = [opt(id=f"o{i}", duration=3 + i % 4, share=10 + 5 * (i % 3), gains={"data": 70 + i}) for i in range(16)]
    p = problem(options)
    assert solve(p, time_limit=60).status == "ready"  # a generous limit changes nothing
    with pytest.raises(SearchTimeout):
        solve(p, time_limit=-1.0)  # already past: the first check stops it


def test_step_limit_stops_the_search_without_a_clock() -> None:
    """A node limit bounds the work by counting nodes, not time: the outcome does not depend on the load."""
    from micromoves.planning.solver import SearchTimeout

    options = [opt(id=f"o{i}", duration=3 + i % 4, share=10 + 5 * (i % 3), gains={"data": 70 + i}) for i in range(16)]
    p = problem(options)
    assert solve(p, step_limit=1_000_000) == solve(p)  # a generous limit changes nothing
    with pytest.raises(SearchTimeout, match="no proven optimum within 5 search steps"):
        solve(p, step_limit=5)


# The nearest-plan dive takes the best value per lane-week first (the quick win on A), after which nothing
# raising B fits in the horizon; the one ready plan is the long rotation alone.
QUICK_WIN_TRAP = PlanProblem(
    options=[
        MoveOption("x", "gig", 4, 100, {"a": 100}, title="Quick win"),
        MoveOption("y", "rotation", 9, 100, {"a": 100, "b": 100}, title="Long rotation"),
        MoveOption("z", "gig", 8, 100, {"b": 100}, title="B course"),
    ],
    levels={"a": 0, "b": 0},
    requirements={"a": 100, "b": 100},
    horizon=10,
    max_concurrent=1,
    depth_rule=False,
    skill_names={"a": "A", "b": "B"},
)


def test_nearest_plan_says_when_a_ready_plan_may_exist() -> None:
    """The last resort of a batch whose searches all ran out of time: the nearest plan the dive finds. When it
    makes the person ready it is a ready plan. When it does not, it is marked and says that a ready plan may
    exist (with no guess at which relaxation would help), unless a skill that no option can raise enough
    proves the target unreachable. Never claimed optimal, always valid."""
    from micromoves.planning.solver import solve_nearest

    p = problem([FAST, DEEP])
    found = solve_nearest(p)
    assert (found.status, found.optimal, found.ready_plan_may_exist, check_plan(p, found)) == (
        "ready",
        False,
        False,
        [],
    )
    assert starts(found) == starts(solve(p))  # here the dive finds the optimum, but cannot know it

    trapped = solve_nearest(QUICK_WIN_TRAP)
    assert (trapped.status, starts(trapped), trapped.binding) == ("unreachable", {"x": 0}, ())
    assert trapped.ready_plan_may_exist and not trapped.optimal and check_plan(QUICK_WIN_TRAP, trapped) == []
    assert trapped.explanation[0].startswith("No ready plan was found within the time limit, although one may")
    assert "cannot be reached" not in trapped.explanation[0]
    assert (solve(QUICK_WIN_TRAP).status, starts(solve(QUICK_WIN_TRAP))) == ("ready", {"y": 0})  # it may indeed
    # The validator refuses the mark on anything but such a plan.
    assert check_plan(p, dataclasses.replace(found, ready_plan_may_exist=True)) != []

    beyond = problem([FAST, DEEP], requirements={"py": 300, "data": 300, "ml": 200}, skill_names={"ml": "ML"})
    proven = solve_nearest(beyond)
    assert (proven.status, proven.unreachable_skills, check_plan(beyond, proven)) == ("unreachable", ("ml",), [])
    assert not proven.ready_plan_may_exist and proven.moves  # it still closes the gaps it can
    assert proven.explanation[0].startswith("The target cannot be reached within 30 weeks. The nearest plan found")


def test_greedy_dive_that_boxes_itself_in_tries_the_value_order_before_giving_up() -> None:
    """The ready-mode dive serves the skill with the fewest raisers first (here d: only o2) but takes the
    best-valued raiser of each scarce skill as early as it can, and finds no ready plan; the fallback-mode dive
    (best value per lane-week over every skill still short) ends ready. Its plan is used, checked by the
    validator, and never claimed optimal."""
    from micromoves.planning.solver import _Search, solve_greedy

    options = [
        MoveOption("o0", "gig", 6, 50, {"b": 150, "a": 50}, latest_start=4, title="Move 0"),
        MoveOption("o1", "course", 2, 100, {"b": 100, "c": 150}, latest_start=2, title="Move 1"),
        MoveOption("o2", "gig", 8, 50, {"c": 100, "a": 50, "d": 150}, latest_start=2, title="Move 2"),
        MoveOption("o3", "course", 8, 50, {"b": 100}, latest_start=0, title="Move 3"),
    ]
    p = PlanProblem(
        options=options,
        levels={"a": 0, "b": 0, "c": 0, "d": 0},
        requirements={"a": 100, "b": 100, "c": 200, "d": 150},
        horizon=13,
        max_concurrent=2,
        depth_rule=False,
        skill_names={s: s.upper() for s in "abcd"},
    )
    assert _Search(p, reduce=True).dive(ready=True, nodes=150) is None  # the trap this test is about
    greedy = solve_greedy(p)
    assert greedy.status == "ready" and not greedy.optimal and check_plan(p, greedy) == []
    exact = both(p)
    assert exact.ready_week is not None and greedy.ready_week is not None
    assert exact.ready_week <= greedy.ready_week


def test_a_schedule_check_counts_against_the_search_limits() -> None:
    """A single schedule check can take seconds on a big plan (16 s on one demo person): it counts its states
    as search steps and watches the clock, so neither limit waits for it to finish."""
    from micromoves.planning.solver import SearchTimeout, _Search

    options = [opt(id=f"o{i}", duration=3 + i % 4, share=10 + 5 * (i % 3), gains={"data": 70 + i}) for i in range(6)]
    p = problem(options)
    everything = tuple(range(len(_Search(p).opts)))
    assert _Search(p).schedule(everything, rules=True, deadline=p.horizon)[0] is not None  # it fits
    counted = _Search(p)
    counted.step_limit = 2
    with pytest.raises(SearchTimeout, match="within 2 search steps"):
        counted.schedule(everything, rules=True, deadline=p.horizon)
    timed = _Search(p)
    timed.deadline = 0.0  # long past
    timed.steps = 63  # the clock is read every 64 steps
    with pytest.raises(SearchTimeout, match="time limit"):
        timed.schedule(everything, rules=True, deadline=p.horizon)


@pytest.mark.heavy  # starts interpreters with other hash seeds: seconds
def test_problem_digest_is_the_same_in_every_process_and_changes_with_the_problem() -> None:
    import subprocess
    import sys

    from micromoves.planning import problem_digest

    def problem(share: int = 40, level: int = 350) -> PlanProblem:
        return PlanProblem(
            levels={"Programming": level, "Writing": 200, "Critical Thinking": 300},
            requirements={"Programming": 450, "Critical Thinking": 400, "Writing": 300},
            options=[
                MoveOption(
                    id="o1",
                    kind="acting_role",
                    duration=8,
                    share=share,
                    gains={"Writing": 100, "Programming": 50, "Critical Thinking": 60},
                    requires_kinds=frozenset({"temporary_lead", "rotation", "gig", "course"}),
                ),
                MoveOption(id="o2", kind="gig", duration=4, share=20, gains={"Writing": 50}),
            ],
            horizon=20,
        )

    digest = problem_digest(problem(), "2026-01-05", "SWE3")
    assert len(digest) == 64 and digest == problem_digest(problem(), "2026-01-05", "SWE3")
    assert (
        len(
            {
                digest,
                problem_digest(problem(share=50), "2026-01-05", "SWE3"),
                problem_digest(problem(level=360), "2026-01-05", "SWE3"),
                problem_digest(problem(), "2026-01-12", "SWE3"),
                problem_digest(problem(), "2026-01-05", "SWE4"),
            }
        )
        == 5
    )
    # Strings hash differently in every process (sets and dicts iterate in another order): not the digest.
    script = (
        "import sys; sys.path[:0] = " + repr(sys.path) + "\n"
        "from tests.planning.test_planner import _digest_of_sample; print(_digest_of_sample())"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script], env={"PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }
    assert seen == {_digest_of_sample()}


def _digest_of_sample() -> str:
    from micromoves.planning import problem_digest

    option = MoveOption(
        id="o1",
        kind="acting_role",
        duration=8,
        share=40,
        gains={"b": 1, "a": 2, "c": 3},
        requires_kinds=frozenset({"temporary_lead", "rotation", "gig", "course", "shadowing"}),
    )
    return problem_digest(
        PlanProblem(levels={"a": 1, "b": 2}, requirements={"c": 300, "a": 200}, options=[option], horizon=12)
    )


# Target out of reach (nothing raises B past 200). Covering A's deficit is cheapest with a1 + a2 (effort 900),
# but both must start in week 0 at full time; the optimum is a3 with b1 (effort 970).
COVERING_REFUSAL = PlanProblem(
    levels={"A": 200, "B": 100},
    requirements={"A": 400, "B": 400},
    options=[
        MoveOption(id="a1", kind="gig", duration=4, share=100, gains={"A": 100}, earliest_start=0, latest_start=0),
        MoveOption(id="a2", kind="gig", duration=5, share=100, gains={"A": 110}, earliest_start=0, latest_start=0),
        MoveOption(id="a3", kind="rotation", duration=10, share=95, gains={"A": 200}, earliest_start=0, latest_start=0),
        MoveOption(id="b1", kind="course", duration=2, share=10, gains={"B": 100}, gain_cap=200),
    ],
    horizon=14,
    depth_rule=False,
)


def test_covering_relaxation_refuses_a_set_that_does_not_schedule_and_reads_off_the_optimum() -> None:
    from unittest.mock import patch

    from micromoves.planning import solver

    search = solver.IMPLEMENTATION._Search(COVERING_REFUSAL, reduce=True)
    plan = search.covering_plan()
    assert plan is not None
    assert sorted(search.opts[i].id for i, _start in plan) == ["a3", "b1"]
    with patch.object(solver.IMPLEMENTATION, "_COVERING_AFTER", 0):
        relaxed = solve(COVERING_REFUSAL)
    with patch.object(solver.IMPLEMENTATION, "_COVERING_AFTER", 10**9):
        searched = solve(COVERING_REFUSAL)
    assert relaxed.objective == searched.objective == (1, 200, 970, 2)
    assert check_plan(COVERING_REFUSAL, relaxed) == []


def test_the_best_plan_is_the_same_whatever_the_number_of_alternatives_asked_for() -> None:
    # Two courses of equal effort, either enough alone: the optimum is a tie. Asked for alternatives, the
    # search (no dominance pruning) used to pick the other one first, so `plan P` and `plan P --k 3` stored
    # different plans in turn. Now plan 1 is the one-plan search's whatever k, and the other is plan 2.
    small = MoveOption("small", "course", 1, 10, {"s0": 50}, min_levels={"s0": 150})
    large = MoveOption("large", "course", 1, 10, {"s0": 100}, min_levels={"s0": 150})
    p = PlanProblem(
        levels={"s0": 150},
        requirements={"s0": 200},
        options=[small, large],
        horizon=4,
        max_concurrent=1,
        depth_level=0,
        depth_rule=False,
    )
    one = both(p)
    three = both(p, k=3)
    assert [m.option_id for m in three.moves] == [m.option_id for m in one.moves]
    assert sorted([m.option_id for m in plan.moves] for plan in three.plans()) == [["large"], ["small"]]
    assert three.alternatives[0].objective == one.objective


def test_the_greedy_dive_tries_another_rule_when_its_first_finds_no_earlier_plan() -> None:
    # Batch planning keeps the greedy plan (improved around it) when the exact search runs out of time. Its first
    # rule (most useful per lane-week first) puts the gig beside the first course and must add the second course
    # late, ready in week 11; picking the quickest to end first finds the two courses, ready in week 9.
    from unittest.mock import patch

    from micromoves.planning import solver

    p = PlanProblem(
        levels={"s0": 150, "s1": 250},
        requirements={"s0": 300, "s1": 400},
        options=[
            MoveOption("o0", "course", 3, 40, {"s0": 100, "s1": 150}, latest_start=0),
            MoveOption("o1", "course", 4, 100, {"s0": 50, "s1": 100}),
            MoveOption("o2", "gig", 5, 60, {"s0": 150}, seats=2),
        ],
        horizon=21,
        capacity=(100, 50, 100, 100, 60, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 30, 100, 100, 0, 60, 50),
        lanes_busy=(0, 0, 0, 1, 0, 1, 0, 0, 2, 1, 1, 0, 2, 1, 0, 2, 1, 0, 1, 1, 0),
        max_concurrent=3,
    )
    with patch.object(solver.IMPLEMENTATION, "_GREEDY_RULES", 1):
        first_rule_only = solver.solve_greedy(p)
    greedy = solver.solve_greedy(p)
    assert first_rule_only.ready_week == 11
    assert (greedy.ready_week, sorted(starts(greedy))) == (9, ["o0", "o1"])
    assert greedy.objective == both(p).objective
    assert check_plan(p, greedy) == []


def test_alternatives_can_start_from_the_best_plan_already_found() -> None:
    # `plan P --k 3` within a budget makes the best plan first (as plan-all does), then only the alternatives
    p = problem([FAST, DEEP, MoveOption("slow", "course", 8, 50, {"data": 200})])
    best = solve(p)
    assert [r.objective for r in solve(p, k=3, best=best).plans()] == [r.objective for r in both(p, k=3).plans()]
    assert solve(p, k=3, best=best).moves == best.moves
    out_of_reach = problem([DEEP], requirements={"py": 300, "data": 300})
    nearest = solve(out_of_reach)
    assert nearest.status == "unreachable"
    assert solve(out_of_reach, k=2, best=nearest).moves == nearest.moves
    with pytest.raises(ValueError, match="proven optimal"):
        solve(p, k=3, best=dataclasses.replace(best, optimal=False))
