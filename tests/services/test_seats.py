"""plan-all --respect-seats: everyone's plans together never take more seats than a move has."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import select

from micromoves.services import catalogue, org, planning
from micromoves.services.seats import full_until, peak, respect_seats
from micromoves.settings import get_settings
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_planning_service import START, plan_db  # noqa: F401 (a fixture)

PEOPLE = ["EMP", "EMP2", "EMP3"]


def _everyone_planned(db: Database) -> None:
    """EMP's twins EMP2 and EMP3, and a plan for each of the three, each made alone: all three plans take
    the one-seat stretch."""
    for pid in PEOPLE[1:]:
        _clone_employee(db, pid)
    for pid in PEOPLE:
        planning.plan_for_person(db, pid, actor="test", start=START)


def _clone_employee(db: Database, new_id: str) -> None:
    org.add_person(db, id=new_id, name=new_id, role_id="SWE2", team_id="ENG", manager_id="MGR", actor="hr")
    for skill, level in (("Programming", 3.5), ("Critical Thinking", 3.0)):
        org.assess_skill(
            db, person_id=new_id, skill=skill, level=level, provenance="manager", actor="MGR", on=dt.date(2025, 6, 1)
        )
    catalogue.set_target_role(db, person_id=new_id, role_id="SWE3", actor=new_id)


def _occupancy(db: Database) -> dict[str, list[tuple[int, int]]]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(t.plans.c.steps).where(t.plans.c.status == "current")).all()
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for (steps,) in rows:
        for s in steps:
            spans[s["template_id"]].append((s["start_week"], s["end_week"]))
    return spans


def test_helpers_count_concurrent_seats() -> None:
    spans = [(0, 12), (12, 20), (5, 8)]
    assert peak(spans, 0, 30) == 2 and peak(spans, 12, 20) == 1 and peak(spans, 20, 30) == 0
    assert full_until(spans, 2) == 8  # two at once until week 8
    assert full_until(spans, 1) == 20 and full_until([], 1) == 0


def test_plans_are_repaired_to_fit_the_seats(plan_db: Database) -> None:  # noqa: F811
    _everyone_planned(plan_db)
    before = _occupancy(plan_db)
    # Alone, each of the three would take the one-seat stretch in weeks 0–12.
    assert before["T-STRETCH"] == [(0, 12)] * 3
    summary = respect_seats(plan_db, actor="test")
    assert (summary.plans, summary.kept, len(summary.replanned), summary.failed) == (3, 1, 2, [])
    seats = {"T-STRETCH": 1, "T-GIG": 1, "T-COURSE": 1}
    after = _occupancy(plan_db)
    for template, spans in after.items():
        assert peak(spans, 0, 10_000) <= seats[template], (template, spans)
    # The stretch is needed (no plan without it reaches the target): the others take it later, one by one.
    assert sorted(after["T-STRETCH"]) == [(0, 12), (12, 24), (24, 36)]
    with plan_db.engine.connect() as conn:
        reasons = set(conn.scalars(select(t.plans.c.reason).where(t.plans.c.status == "current")))
    assert "re-planned so that everyone's plans fit the seats" in reasons
    # Running it again changes nothing: the plans fit.
    again = respect_seats(plan_db, actor="test")
    assert (again.kept, again.replanned) == (3, [])


def test_plan_all_respect_seats_from_the_cli(plan_db: Database) -> None:  # noqa: F811
    import json

    from typer.testing import CliRunner

    from micromoves.cli.main import app

    for pid in PEOPLE[1:]:
        _clone_employee(plan_db, pid)
    url = plan_db.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["--db", url, "plan-all", "--backend", "serial", "--respect-seats", "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["people"] == 3 and out["seats"]["kept"] + len(out["seats"]["replanned"]) == 3
    for template, spans in _occupancy(plan_db).items():
        assert peak(spans, 0, 10_000) <= 1, (template, spans)


def test_an_interrupted_run_changes_no_plan(plan_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    from micromoves.services import seats as seats_svc

    _everyone_planned(plan_db)
    before = _occupancy(plan_db)
    calls: list[float] = []
    real = seats_svc.solve_within

    def second_one_breaks(problem: Any, budget: float, **kw: Any) -> Any:
        calls.append(budget)
        if len(calls) == 2:
            raise OSError("the machine went away")
        return real(problem, budget, **kw)

    monkeypatch.setattr(seats_svc, "solve_within", second_one_breaks)
    with pytest.raises(OSError):
        respect_seats(plan_db, actor="test")
    # The first re-plan was computed, but nothing is stored until every plan fits: no plan changed.
    assert _occupancy(plan_db) == before
    # Each re-plan is bounded by the batch planner's time budget.
    assert calls == [get_settings().plan_all_budget_seconds] * 2


def test_an_opportunity_many_plans_take_is_a_bottleneck_and_seats_are_respected(plan_db: Database) -> None:  # noqa: F811
    from micromoves.services import accounts, congestion
    from micromoves.services.policy import Policy
    from tests.services.test_planning_service import insert_open_opportunity

    crowd = ["EMP", *(f"EMP{i}" for i in range(2, 6))]
    for pid in crowd[1:]:
        _clone_employee(plan_db, pid)
    insert_open_opportunity(plan_db)
    start = planning.next_monday(dt.date.today())
    for pid in crowd:
        plan = planning.plan_for_person(plan_db, pid, actor="test", start=start).plan
        assert [s["template_id"] for s in plan.steps] == ["opportunity:OPP-LEAD"]  # each alone takes it
    admin = Policy(plan_db, accounts.Principal(0, "hr", accounts.Access.ADMIN, None))
    report = congestion.congestion(plan_db, admin)
    slot = next(s for s in report.slots if s.id == "OPP-LEAD")
    assert (slot.slot, slot.supply, slot.demand_plans, slot.bottleneck) == ("opportunity", 1, 5, True)
    assert slot.median_wait_weeks == 0
    # Where it bites: five planned starts in the team, by quarter, and by the two skills the role builds.
    assert [(c.team, c.count) for c in report.heatmap] == [("Engineering", 5)]
    assert sorted((c.skill, c.count) for c in report.skill_heatmap) == [("Critical Thinking", 5), ("Programming", 5)]
    # Together the plans may take its one seat once: the others are re-planned without it.
    summary = respect_seats(plan_db, actor="test")
    assert (summary.kept, len(summary.replanned), summary.failed) == (1, 4, [])
    assert len(_occupancy(plan_db)["opportunity:OPP-LEAD"]) == 1


def test_an_accepted_seat_is_counted_once_and_stays_its_holders(plan_db: Database) -> None:  # noqa: F811
    """The holder's plan step is the seat they accepted, not one more: with two seats, one accepted, both
    plans that take it fit (it was counted twice and the other person lost the free seat). With one seat,
    accepted, the holder keeps the step (the filled opportunity had no seats left for anyone, its holder
    included)."""
    from sqlalchemy import update

    from micromoves.services import accounts
    from micromoves.services import marketplace as market
    from micromoves.services.policy import Policy
    from tests.services.test_planning_service import insert_open_opportunity

    _clone_employee(plan_db, "EMP2")
    insert_open_opportunity(plan_db)
    with plan_db.write_engine.begin() as conn:
        conn.execute(update(t.opportunities).where(t.opportunities.c.id == "OPP-LEAD").values(seats=2))
    start = planning.next_monday(dt.date.today())
    for pid in ("EMP", "EMP2"):
        plan = planning.plan_for_person(plan_db, pid, actor="test", start=start).plan
        assert [s["template_id"] for s in plan.steps] == ["opportunity:OPP-LEAD"]
    admin = Policy(plan_db, accounts.Principal(0, "hr", accounts.Access.ADMIN, None))

    def accept(pid: str) -> None:
        me = Policy(plan_db, accounts.Principal(0, pid, accounts.Access.EMPLOYEE, pid))
        application = market.apply(plan_db, me, "OPP-LEAD")
        market.decide(plan_db, admin, application, "offer")
        market.decide(plan_db, me, application, "accept")

    accept("EMP")
    from micromoves.services import congestion

    # The congestion monitor counts people too: one free seat, wanted by EMP2's plan alone (EMP holds one).
    slot = next(x for x in congestion.congestion(plan_db, admin).slots if x.id == "OPP-LEAD")
    assert (slot.supply, slot.demand_plans, slot.demand_applications) == (1, 1, 0)
    summary = respect_seats(plan_db, actor="test")
    assert (summary.kept, summary.replanned, summary.failed) == (2, [], [])
    assert len(_occupancy(plan_db)["opportunity:OPP-LEAD"]) == 2
    accept("EMP2")  # both seats taken: the opportunity is filled
    summary = respect_seats(plan_db, actor="test")
    assert (summary.kept, summary.replanned, summary.failed) == (2, [], [])
    assert len(_occupancy(plan_db)["opportunity:OPP-LEAD"]) == 2


def test_a_nightly_run_keeps_seat_fitted_plans_while_nothing_changes(plan_db: Database) -> None:  # noqa: F811
    """`plan-all --changed-only --respect-seats` every night, three people and a one-seat stretch: the
    first night fits two of them around the seat; on the next nights nothing changed, so every plan is
    kept and no version is added (the fitted plans were re-planned unfitted and fitted again each night)."""
    for pid in PEOPLE[1:]:
        _clone_employee(plan_db, pid)

    def night() -> tuple[int, int, list[str], dict[str, int]]:
        summary = planning.plan_all(plan_db, actor="nightly", start=START, backend="serial", changed_only=True)
        fitted = respect_seats(plan_db, actor="nightly")
        versions = {pid: planning.current_plan(plan_db, pid).version for pid in PEOPLE}  # type: ignore[union-attr]
        return summary.unchanged, fitted.kept, fitted.replanned, versions

    _, _, replanned, first = night()
    assert len(replanned) == 2 and peak(_occupancy(plan_db)["T-STRETCH"], 0, 999) == 1
    for _ in range(2):
        assert night() == (3, 3, [], first)
    assert peak(_occupancy(plan_db)["T-STRETCH"], 0, 999) == 1


def test_a_seat_accepted_before_its_opportunity_closed_stays_its_holders(plan_db: Database) -> None:  # noqa: F811
    """Closing an opportunity keeps the accepted seats (their moves are in the tracker), and the re-planning
    around it keeps its holders' plans: the step is theirs. --respect-seats counted only open or filled
    opportunities' seats, so a closed one had none, and its holder was re-planned without the seat they hold."""
    from micromoves.services import accounts
    from micromoves.services import marketplace as market
    from micromoves.services.policy import Policy
    from tests.services.test_planning_service import insert_open_opportunity

    _clone_employee(plan_db, "EMP2")
    insert_open_opportunity(plan_db)
    start = planning.next_monday(dt.date.today())
    for pid in ("EMP", "EMP2"):
        plan = planning.plan_for_person(plan_db, pid, actor="test", start=start).plan
        assert [s["template_id"] for s in plan.steps] == ["opportunity:OPP-LEAD"]
    admin = Policy(plan_db, accounts.Principal(0, "hr", accounts.Access.ADMIN, None))
    me = Policy(plan_db, accounts.Principal(0, "EMP", accounts.Access.EMPLOYEE, "EMP"))
    application = market.apply(plan_db, me, "OPP-LEAD")
    market.decide(plan_db, admin, application, "offer")
    market.decide(plan_db, me, application, "accept")  # its one seat: filled (EMP2 is re-planned without it)
    market.set_opportunity_status(plan_db, admin, "OPP-LEAD", "closed")
    held = planning.current_plan(plan_db, "EMP")
    assert held is not None and [s["template_id"] for s in held.steps] == ["opportunity:OPP-LEAD"]
    summary = respect_seats(plan_db, actor="test")
    assert "EMP" not in summary.replanned and summary.failed == []
    after = planning.current_plan(plan_db, "EMP")
    assert after is not None and (after.version, after.steps) == (held.version, held.steps)


def test_a_target_changed_while_the_seats_are_respected_is_not_overwritten(
    plan_db: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The re-plans run for everyone whose plan takes a full seat, seconds each: one whose target changed
    meanwhile was given a plan towards the old target as their current plan (as plan-all and the re-plans
    after an opportunity closes were). They keep what they have and are named as failed."""
    from micromoves.services import seats as seats_svc

    _everyone_planned(plan_db)
    real = seats_svc.solve_within
    calls: list[int] = []

    def retargeted_meanwhile(problem: Any, budget: float, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # the first re-planned person clears their target while the batch searches
            replanned_first.append(_first_replanned(plan_db))
        return real(problem, budget, **kw)

    replanned_first: list[str] = []
    monkeypatch.setattr(seats_svc, "solve_within", retargeted_meanwhile)
    summary = respect_seats(plan_db, actor="test")
    (who,) = replanned_first
    assert who not in summary.replanned and len(summary.replanned) == 1
    assert (
        dict(summary.failed)[who] == f"Conflict: {who}'s target role cleared while the seats were respected; plan again"
    )
    with plan_db.engine.connect() as conn:
        versions = dict(
            conn.execute(select(t.plans.c.person_id, t.plans.c.version).where(t.plans.c.status == "current")).all()
        )
    assert versions[who] == 1 and versions[summary.replanned[0]] == 2


def _first_replanned(db: Database) -> str:
    """Whoever of the people sharing the one-seat stretch comes after the first (in the order the seats are
    given: ready week, then id) — the first to be re-planned — clears their target role now."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(t.plans.c.person_id, t.plans.c.ready_week).where(t.plans.c.status == "current")
        ).all()
    who = sorted(rows, key=lambda r: (r.ready_week, r.person_id))[1].person_id
    catalogue.set_target_role(db, person_id=who, role_id=None, actor=who)
    return str(who)


@pytest.mark.parametrize("meanwhile", ["cleared", "planned in the app"])
def test_a_plan_refused_at_store_time_gives_back_its_seat_and_its_current_plan_is_counted(
    plan_db: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    meanwhile: str,
) -> None:
    """Three people, a one-seat stretch. While the seats are respected, the first person to be re-planned
    changes: their target is cleared, or the app stores a newer plan for them (which takes the stretch in
    weeks 0–12 again). Their re-plan is refused at store time, but the seat it claimed (weeks 12–24) was
    already counted for the third person, who was pushed to weeks 24–36 though 12–24 was free; and the newer
    plan was not counted at all, so it shared weeks 0–12 with the first person's (an over-booked seat).
    The walk is made again from what is stored now, with their current plan fixed in place: no seat is
    over-booked, and nobody is pushed back behind a seat nobody takes."""
    from micromoves.services import seats as seats_svc

    _everyone_planned(plan_db)
    real = seats_svc.solve_within
    changed: list[str] = []

    def changed_meanwhile(problem: Any, budget: float, **kw: Any) -> Any:
        if not changed:
            with plan_db.engine.connect() as conn:
                rows = conn.execute(
                    select(t.plans.c.person_id, t.plans.c.ready_week).where(t.plans.c.status == "current")
                ).all()
            who = sorted(rows, key=lambda r: (r.ready_week, r.person_id))[1].person_id
            if meanwhile == "cleared":
                catalogue.set_target_role(plan_db, person_id=who, role_id=None, actor=who)
            else:
                # A plan made in the app towards the same target (a shorter horizon: not the same as the current one).
                planning.plan_for_person(plan_db, who, actor=who, start=START, horizon=100)
            changed.append(who)
        return real(problem, budget, **kw)

    monkeypatch.setattr(seats_svc, "solve_within", changed_meanwhile)
    summary = respect_seats(plan_db, actor="test")
    (who,) = changed
    with plan_db.engine.connect() as conn:
        rows = conn.execute(select(t.plans.c.person_id, t.plans.c.steps).where(planning.plan_in_force())).all()
    stretch = sorted(
        (s["start_week"], s["end_week"]) for _, steps in rows for s in steps if s["template_id"] == "T-STRETCH"
    )
    if meanwhile == "cleared":
        # Their plan no longer counts; the third person takes the seat the refused re-plan had claimed.
        assert stretch == [(0, 12), (12, 24)]
        assert [pid for pid, _ in summary.failed] == [who] and len(summary.replanned) == 1
    else:
        # The newer plan stays as it is and is counted first: the other two are fitted around it.
        assert stretch == [(0, 12), (12, 24), (24, 36)]
        assert [pid for pid, _ in summary.failed] == [who] and len(summary.replanned) == 2
        assert who not in summary.replanned


def test_people_changing_during_every_walk_stop_it_after_a_few(
    plan_db: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Someone re-planned changes during each walk: the walk is made again at most ROUNDS times, and the last
    one's refused people are named as failed (their plans kept), as before."""
    from micromoves.services import seats as seats_svc

    _everyone_planned(plan_db)
    walks: list[int] = []
    real_walk = seats_svc._walk

    def counted(*args: Any, **kw: Any) -> Any:
        walks.append(1)
        return real_walk(*args, **kw)

    changed: list[str] = []
    real_replan = seats_svc._replan

    def replan_then_change(conn: Any, plan: Any, *args: Any, **kw: Any) -> Any:
        out = real_replan(conn, plan, *args, **kw)
        if len(changed) < len(walks):  # the first re-planned person of each walk changes meanwhile
            changed.append(plan.person_id)
            planning.plan_for_person(plan_db, plan.person_id, actor="app", start=START, horizon=100 - len(changed))
        return out

    monkeypatch.setattr(seats_svc, "_walk", counted)
    monkeypatch.setattr(seats_svc, "_replan", replan_then_change)
    summary = respect_seats(plan_db, actor="test")
    assert len(walks) == seats_svc.ROUNDS == len(changed)
    assert sorted(pid for pid, _ in summary.failed) == sorted(changed)
    assert all("was stored while the seats were respected" in why for _, why in summary.failed)


def test_a_kept_plan_that_changes_during_the_walk_gives_its_seat_back(
    plan_db: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three people, a one-seat stretch: the first keeps it in weeks 0–12 and the others are re-planned after
    it. Meanwhile the first clears their target, so their plan takes no seat any more. Only the re-planned
    people were checked when storing: the other two were pushed to weeks 12–24 and 24–36 behind a seat
    nobody takes. The walk is made again: the second keeps weeks 0–12, the third gets 12–24."""
    from micromoves.services import seats as seats_svc

    _everyone_planned(plan_db)
    with plan_db.engine.connect() as conn:
        rows = conn.execute(select(t.plans.c.person_id, t.plans.c.ready_week).where(t.plans.c.status == "current"))
        first = sorted(rows, key=lambda r: (r.ready_week, r.person_id))[0].person_id
    real = seats_svc.solve_within
    cleared: list[str] = []

    def first_clears_meanwhile(problem: Any, budget: float, **kw: Any) -> Any:
        if not cleared:
            catalogue.set_target_role(plan_db, person_id=first, role_id=None, actor=first)
            cleared.append(first)
        return real(problem, budget, **kw)

    monkeypatch.setattr(seats_svc, "solve_within", first_clears_meanwhile)
    summary = respect_seats(plan_db, actor="test")
    with plan_db.engine.connect() as conn:
        rows = conn.execute(select(t.plans.c.person_id, t.plans.c.steps).where(planning.plan_in_force())).all()
    stretch = sorted(
        (s["start_week"], s["end_week"]) for _, steps in rows for s in steps if s["template_id"] == "T-STRETCH"
    )
    assert stretch == [(0, 12), (12, 24)]
    assert [pid for pid, _ in summary.failed] == [first]
    assert "plan changed while the seats were respected" in summary.failed[0][1]
