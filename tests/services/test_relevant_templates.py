"""The service plans with part of the catalogue (``relevant_templates``): that part must never change the
optimum. Checked against the whole catalogue on hand-made cases and on random small catalogues."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micromoves.planning import PlanningError, PlanProblem, solve
from micromoves.services import planning as P
from micromoves.settings import Settings

START = dt.date(2026, 1, 5)
SETTINGS = Settings()
KINDS = ["course", "gig", "rotation", "temporary_lead"]


def tpl(
    id: str,
    kind: str,
    weeks: int,
    share: int,
    gains: dict[str, float],
    *,
    min_levels: dict[str, float] | None = None,
    requires: tuple[str, ...] = (),
    cap: float = 7.0,
    earliest: int | None = None,
) -> dict[str, Any]:
    return {
        "id": id,
        "kind": kind,
        "title": id,
        "duration_weeks": weeks,
        "percent_time": share,
        "gains": gains,
        "gain_cap": cap,
        "min_levels": min_levels or {},
        "requires_kinds": list(requires),
        "earliest_start": None if earliest is None else START + dt.timedelta(weeks=earliest),
        "latest_start": None,
        "seats": 1,
    }


def both(
    person: P.PersonContext, target: P.TargetContext, templates: list[dict[str, Any]], horizon: int = 52
) -> tuple[PlanProblem, PlanProblem]:
    """The service's problem, and the same problem with every template of the catalogue as an option."""
    catalogue = P.Catalogue(templates, {})
    service = P.make_problem(person, target, catalogue, start=START, horizon=horizon, settings=SETTINGS)
    every = [
        P._option(
            t,
            frozenset(k for k in t["requires_kinds"] if k in person.kinds_done),
            start=START,
            horizon=horizon,
            settings=SETTINGS,
        )
        for t in templates
        if t["id"] not in person.in_progress
    ]
    return service, dataclasses.replace(service, options=[o for o in every if o is not None])


def test_a_move_that_only_raises_a_prerequisite_is_kept() -> None:
    # The fast stretch needs B ≥ 4.0 (B is not required): the 2-week course on B makes it possible.
    person = P.PersonContext("P", None, 100, levels={"A": 3.0, "B": 3.5})
    target = P.TargetContext("R", {"A": 4.0}, {"A": 1})
    service, full = both(
        person,
        target,
        [
            tpl("FAST", "stretch_assignment", 4, 20, {"A": 1.0}, min_levels={"B": 4.0}),
            tpl("B-COURSE", "course", 2, 10, {"B": 0.6}),
            tpl("SLOW", "rotation", 20, 20, {"A": 1.0}),
        ],
    )
    assert {o.id for o in service.options} == {"FAST", "B-COURSE", "SLOW"}
    plan = solve(service)
    assert (plan.ready_week, [m.option_id for m in plan.moves]) == (6, ["B-COURSE", "FAST"])
    assert plan.objective == solve(full).objective


def test_the_depth_step_is_the_one_that_fits_the_schedule_not_the_cheapest() -> None:
    # A closes with one course but is below the depth level before it; C (held at 3.5) needs no raise, so a
    # move on C is the depth step. Five cheap 10-week moves on C, one dearer 2-week one: ready in week 2.
    person = P.PersonContext("Q", None, 100, levels={"A": 2.0, "C": 3.5})
    target = P.TargetContext("R", {"A": 3.8, "C": 3.0}, {})
    templates = [tpl("GAP", "course", 2, 10, {"A": 2.0})]
    templates += [tpl(f"SLOW{i}", "gig", 10, 10, {"C": 0.2}) for i in range(5)]
    templates += [tpl("FAST", "gig", 2, 60, {"C": 0.2})]
    service, full = both(person, target, templates)
    # The five slow ones are beaten by one another (ties broken by id): one of them is left.
    assert {o.id for o in service.options} == {"GAP", "SLOW0", "FAST"}
    plan = solve(service)
    assert (plan.ready_week, sorted(m.option_id for m in plan.moves)) == (2, ["FAST", "GAP"])
    assert plan.objective == solve(full).objective


def test_a_move_in_progress_is_not_offered_again() -> None:
    person = P.PersonContext("P", None, 60, levels={"A": 3.0}, in_progress={"STRETCH"})
    target = P.TargetContext("R", {"A": 4.5}, {})
    service, _ = both(
        person,
        target,
        [tpl("STRETCH", "stretch_assignment", 12, 40, {"A": 1.0}), tpl("C", "course", 4, 10, {"A": 0.5})],
    )
    assert [o.id for o in service.options] == ["C"]


def test_prerequisites_are_followed_to_a_fixpoint() -> None:
    # ACTING needs a temporary lead; the only lead needs W ≥ 3, raised only by a course nothing else wants.
    person = P.PersonContext("P", None, 100, levels={"A": 3.0, "W": 2.0})
    target = P.TargetContext("R", {"A": 4.0}, {})
    templates = [
        tpl("ACTING", "acting_role", 8, 50, {"A": 1.5}, requires=("temporary_lead",)),
        tpl("LEAD", "temporary_lead", 6, 30, {"X": 0.5}, min_levels={"W": 3.0}),
        tpl("W-COURSE", "course", 4, 10, {"W": 1.0}),
        tpl("UNRELATED", "gig", 4, 10, {"Y": 1.0}),
    ]
    service, full = both(person, target, templates)
    assert [o.id for o in service.options] == ["ACTING", "LEAD", "W-COURSE"]
    assert solve(service).objective == solve(full).objective


skill = st.sampled_from(["A", "B", "W"])


@st.composite
def catalogues(draw: st.DrawFn) -> tuple[P.PersonContext, P.TargetContext, list[dict[str, Any]]]:
    levels = {s: draw(st.sampled_from([1.0, 2.0, 2.5, 3.0, 3.5, 4.0])) for s in ("A", "B", "W")}
    requirements = {s: draw(st.sampled_from([0.0, 3.0, 4.0, 4.5])) for s in ("A", "B")}
    done = set(draw(st.lists(st.sampled_from(KINDS), max_size=1)))
    templates = []
    for i in range(draw(st.integers(3, 9))):
        gains = {
            s: draw(st.sampled_from([0.3, 0.5, 1.0]))
            for s in draw(st.lists(skill, min_size=1, max_size=2, unique=True))
        }
        min_levels = {s: draw(st.sampled_from([2.5, 3.5])) for s in draw(st.lists(skill, max_size=1))}
        kind = draw(st.sampled_from(KINDS))
        requires = tuple(draw(st.lists(st.sampled_from([k for k in KINDS if k != kind]), max_size=1)))
        templates.append(
            tpl(
                f"T{i}",
                kind,
                draw(st.sampled_from([2, 4, 6, 10])),
                draw(st.sampled_from([10, 20, 40, 60])),
                gains,
                min_levels=min_levels,
                requires=requires,
                cap=draw(st.sampled_from([3.5, 5.0, 7.0])),
                earliest=draw(st.sampled_from([None, None, 4])),
            )
        )
    in_progress = set(draw(st.lists(st.sampled_from([t["id"] for t in templates]), max_size=1)))
    person = P.PersonContext(
        "P", None, draw(st.sampled_from([30, 60, 100])), levels=levels, kinds_done=done, in_progress=in_progress
    )
    return person, P.TargetContext("R", requirements, {}), templates


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogues())
@pytest.mark.heavy
def test_the_part_of_the_catalogue_the_service_keeps_has_the_whole_catalogues_optimum(
    case: tuple[P.PersonContext, P.TargetContext, list[dict[str, Any]]],
) -> None:
    person, target, templates = case
    try:
        service, full = both(person, target, templates, horizon=30)
    except PlanningError:
        return  # prerequisites in a cycle among the kept moves: refused, as the whole catalogue would be
    try:
        expected = solve(full, explain=False)
    except PlanningError:
        return
    assert solve(service, explain=False).objective == expected.objective


def test_a_move_in_progress_leaves_no_cycle_behind() -> None:
    # The only gig without a prerequisite is under way: the rotation (needs a gig) and the other gig (needs a
    # rotation) can never start for this person. They are left out, not reported as a cycle.
    person = P.PersonContext("P", None, 100, levels={"A": 3.0}, in_progress={"G0"})
    target = P.TargetContext("R", {"A": 4.0}, {})
    templates = [
        tpl("G0", "gig", 4, 20, {"A": 0.5}),
        tpl("ROT", "rotation", 6, 20, {"A": 1.0}, requires=("gig",)),
        tpl("G2", "gig", 4, 20, {"A": 0.5}, requires=("rotation",)),
        tpl("C", "course", 4, 10, {"A": 1.0}),
    ]
    problem = P.make_problem(person, target, P.Catalogue(templates, {}), start=START, horizon=30, settings=SETTINGS)
    assert [o.id for o in problem.options] == ["C"]
    assert solve(problem).status == "ready"


def test_levels_are_compared_in_hundredths_as_the_planner_does() -> None:
    # A held at 4.996 is 5.00 to the planner: the short course (cap 5.0) cannot raise it, so it is no depth
    # step; the long one (cap 7) is, and must not be left out in the short one's favour.
    person = P.PersonContext("P", None, 100, levels={"A": 4.996, "B": 1.0})
    target = P.TargetContext("R", {"A": 4.0, "B": 2.0}, {})
    templates = [
        tpl("SHORT", "course", 2, 10, {"A": 0.5}, cap=5.0),
        tpl("LONG", "course", 4, 10, {"A": 0.5}, cap=7.0),
        tpl("B", "course", 2, 10, {"B": 1.0}, cap=2.0),
    ]
    service, full = both(person, target, templates)
    assert "LONG" in {o.id for o in service.options}
    result = solve(service)
    assert result.status == "ready" and result.objective == solve(full).objective
