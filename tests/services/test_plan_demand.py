"""Plan demand counts only plans towards the person's recorded target role.

Before: a person's current plan stayed current after their target role changed (the app, the API, the CLI, an
import) or was cleared, and went on counting as demand: in the congestion report, among the people who want a
slot, in their alternate routes, in the seat fitter (which even re-planned it towards the old target), and in
the weeks a seat was worth on their applications (which the allocation scores). The plan still stays current,
shown out of date on the person's page (see test_target_role), but nothing counts it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pytest
from sqlalchemy import select, update

from micromoves.services import allocation as allocation_svc
from micromoves.services import catalogue, congestion, planning, secured, views
from micromoves.services import marketplace as market
from micromoves.services.seats import respect_seats
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_planning_service import START, add_engineer, insert_open_opportunity, plan_db
from tests.services.test_target_role import add_lead_role, admin, as_person

__all__ = ["plan_db"]  # the fixture

How = Literal["changed", "cleared", "imported"]


def _twin(db: Database, pid: str = "EMP2") -> None:
    """Another Engineer II like EMP, aiming at SWE3 too."""
    add_engineer(db, pid, pid)
    catalogue.set_target_role(db, person_id=pid, role_id="SWE3", actor=pid)


def _move_target(db: Database, how: How) -> None:
    """EMP leaves SWE3: for Tech Lead in the app, cleared in the app, or for Tech Lead as an import writes it
    (the people table's column, in bulk, not through the service)."""
    if how == "imported":
        with db.write_engine.begin() as conn:
            conn.execute(update(t.people).where(t.people.c.id == "EMP").values(target_role_id="LEAD"))
        return
    secured.set_target_role(db, as_person(db, "EMP"), "EMP", role_id="LEAD" if how != "cleared" else None)


def _in_force(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.scalars(select(t.plans.c.person_id).where(planning.plan_in_force())))


def _slot(report: congestion.CongestionReport, slot_id: str) -> congestion.SlotLoad | None:
    return next((s for s in report.slots if s.id == slot_id), None)


@pytest.mark.parametrize("how", ["changed", "cleared", "imported"])
def test_a_plan_towards_a_previous_target_is_nobodys_demand(plan_db: Database, how: How) -> None:
    """EMP and EMP2 both plan the one-seat stretch towards SWE3. Once EMP's target moves on (or is cleared),
    EMP's plan stays current (out of date on the page) but the report, who wants the stretch, the alternate
    routes and the seat fitter count EMP2's alone; set back, EMP's plan counts again."""
    add_lead_role(plan_db)
    _twin(plan_db)
    plans = {pid: planning.plan_for_person(plan_db, pid, actor=pid, start=START).plan for pid in ("EMP", "EMP2")}
    assert all("T-STRETCH" in {s["template_id"] for s in p.steps} for p in plans.values())
    hr = admin(plan_db)
    before = congestion.congestion(plan_db, hr)
    stretch = _slot(before, "T-STRETCH")
    assert stretch is not None and stretch.demand_plans == 2
    assert (before.current_plans, before.plans_out_of_date, before.targets_without_plan) == (2, 0, 0)
    assert congestion.affected_people(plan_db, "T-STRETCH") == ["EMP", "EMP2"]

    _move_target(plan_db, how)

    # The plan is still EMP's current one, shown out of date for the reason the demand rule applies.
    current = planning.current_plan(plan_db, "EMP")
    assert current is not None and (current.version, current.target_role_id) == (plans["EMP"].version, "SWE3")
    view = views.plan_view(plan_db, "EMP", reader_person_id="EMP")
    expected = "no_target" if how == "cleared" else "target_changed"
    assert view is not None and view.out_of_date_because == expected
    assert planning.target_out_of_date("SWE3", None if how == "cleared" else "LEAD") == expected
    assert _in_force(plan_db) == {"EMP2"}  # the SQL twin of the same rule

    after = congestion.congestion(plan_db, hr)
    stretch = _slot(after, "T-STRETCH")
    assert stretch is not None and (stretch.demand_plans, stretch.demand) == (1, 1)
    assert after.latest_plan_at == plans["EMP2"].created_at
    # EMP aims at Tech Lead with no plan towards it: unknown demand; cleared, EMP wants nothing.
    assert (after.current_plans, after.plans_out_of_date) == (1, 1)
    assert after.targets_without_plan == (0 if how == "cleared" else 1)
    assert congestion.affected_people(plan_db, "T-STRETCH") == ["EMP2"]
    routes = congestion.alternate_routes(plan_db, hr, "T-STRETCH")
    assert (routes.wanting, [r.person_id for r in routes.routes], routes.not_planned) == (1, ["EMP2"], [])

    # The seat fitter walks EMP2's plan alone: the stretch's one seat is theirs, nobody is re-planned, and EMP's
    # plan is not re-planned towards SWE3 (it used to be, stored as a new current version towards the old target).
    fitted = respect_seats(plan_db, actor="test")
    assert (fitted.plans, fitted.kept, fitted.replanned, fitted.failed) == (1, 1, [], [])
    assert [p.version for p in planning.plan_history(plan_db, "EMP")] == [plans["EMP"].version]

    # Set back to SWE3, the plan EMP kept aims at their target again and counts.
    secured.set_target_role(plan_db, as_person(plan_db, "EMP"), "EMP", role_id="SWE3")
    again = congestion.congestion(plan_db, hr)
    stretch = _slot(again, "T-STRETCH")
    assert stretch is not None and stretch.demand_plans == 2
    assert (again.current_plans, again.plans_out_of_date, again.targets_without_plan) == (2, 0, 0)
    assert congestion.affected_people(plan_db, "T-STRETCH") == ["EMP", "EMP2"]


def test_an_opportunity_a_stale_plan_takes_is_not_wanted_by_it_nor_worth_weeks_to_the_allocation(
    plan_db: Database,
) -> None:
    """The one-seat acting role is the first step of EMP's and EMP2's plans towards SWE3; EMP applied, and the
    application records the weeks it saves them. When EMP2 leaves SWE3, their plan no longer wants the seat;
    when EMP does, their live application forgets those weeks (the audit keeps them), so that the allocation
    and the host no longer rank EMP by weeks towards a role EMP no longer aims for."""
    add_lead_role(plan_db)
    _twin(plan_db)
    insert_open_opportunity(plan_db)
    for pid in ("EMP", "EMP2"):
        plan = planning.plan_for_person(plan_db, pid, actor=pid, k=3).plan
        assert plan.steps[0]["template_id"] == "opportunity:OPP-LEAD"
    application = market.apply(plan_db, as_person(plan_db, "EMP"), "OPP-LEAD")

    def benefit() -> int | None:
        with plan_db.engine.connect() as conn:
            return conn.scalar(select(t.applications.c.plan_benefit_weeks).where(t.applications.c.id == application))

    weeks = benefit()
    assert weeks is not None and weeks > 0  # without the acting role: the stretch and the gig, weeks later
    hr = admin(plan_db)
    lead = _slot(congestion.congestion(plan_db, hr), "OPP-LEAD")
    assert lead is not None and (lead.demand_plans, lead.demand_applications) == (1, 1)  # EMP2's plan, EMP applied

    secured.set_target_role(plan_db, as_person(plan_db, "EMP2"), "EMP2", role_id=None)
    lead = _slot(congestion.congestion(plan_db, hr), "OPP-LEAD")
    assert lead is not None and (lead.demand_plans, lead.demand_applications) == (0, 1)
    assert benefit() == weeks  # EMP's application is EMP's: EMP2's target is not its business

    def proposed() -> tuple[float, str]:
        proposal = allocation_svc.propose_allocation(plan_db, actor="hr", release_share=1.0, equity_weight=0.0)
        [chosen] = proposal.assignments
        assert (chosen.person_id, chosen.opportunity_id) == ("EMP", "OPP-LEAD")
        allocation_svc.discard_allocation(plan_db, proposal.run_id, actor="hr")
        return chosen.score, chosen.explanation

    score, words = proposed()
    assert score == pytest.approx(weeks + 1) and words.startswith(f"{weeks} weeks sooner to Senior Engineer")
    secured.set_target_role(plan_db, as_person(plan_db, "EMP"), "EMP", role_id="LEAD")
    assert benefit() is None
    score, words = proposed()
    assert score == pytest.approx(1) and "sooner" not in words  # skill fit alone (nothing asked: 1)
    with plan_db.engine.connect() as conn:
        details = conn.scalar(
            select(t.audit_events.c.details)
            .where(t.audit_events.c.action == "person.target_role", t.audit_events.c.entity_id == "EMP")
            .order_by(t.audit_events.c.id.desc())
            .limit(1)
        )
    assert details == {"old": "SWE3", "new": "LEAD", "plan_benefits_cleared": {str(application): weeks}}
    # Nothing left to clear: the next change is recorded as ever.
    secured.set_target_role(plan_db, as_person(plan_db, "EMP"), "EMP", role_id="SWE3")
    assert benefit() is None


@pytest.mark.parametrize("meanwhile", [("LEAD",), (None,), ("LEAD", "SWE3")])
def test_a_target_changed_while_applying_leaves_no_benefit_towards_the_old_one(
    plan_db: Database, monkeypatch: pytest.MonkeyPatch, meanwhile: tuple[str | None, ...]
) -> None:
    """apply weighed the seat (plan_benefit_weeks) before its write transaction and stored the figure unchecked:
    a target set or cleared in between forgot the benefits of EMP's live applications (this one did not exist
    yet), and the new application kept weeks towards the role EMP no longer aims for, ranked so by the
    allocation. Now it is stored only if the target is still the one it was weighed towards; else unknown.
    Changed and set back before the write, it is that target's again, and kept."""
    add_lead_role(plan_db)
    insert_open_opportunity(plan_db)
    plan = planning.plan_for_person(plan_db, "EMP", actor="EMP", k=3).plan
    assert plan.steps[0]["template_id"] == "opportunity:OPP-LEAD"
    weighed = market.plan_fit

    def then_the_target_changes(*args: object, **kwargs: object) -> tuple[int | None, str]:
        found = weighed(*args, **kwargs)  # type: ignore[arg-type]
        assert found[0], found  # towards SWE3 it saves weeks
        for role in meanwhile:  # after the figure is weighed, before apply writes
            secured.set_target_role(plan_db, as_person(plan_db, "EMP"), "EMP", role_id=role)
        return found

    monkeypatch.setattr(market, "plan_fit", then_the_target_changes)
    application = market.apply(plan_db, as_person(plan_db, "EMP"), "OPP-LEAD")
    with plan_db.engine.connect() as conn:
        a = t.applications.c
        stored = conn.execute(select(a.status, a.plan_benefit_weeks).where(a.id == application)).one()
    if meanwhile[-1] == "SWE3":
        assert stored.status == "applied" and stored.plan_benefit_weeks, stored  # towards SWE3, SWE3's again
    else:
        assert tuple(stored) == ("applied", None)  # the application itself is made


def test_the_seat_is_weighed_towards_the_target_read_once(plan_db: Database) -> None:
    """On PostgreSQL each statement of apply's reading connection reads afresh: the current plan and a re-plan
    could each read another target. The re-plan (WhatIf) takes the target apply read and checks at its write."""
    add_lead_role(plan_db)
    with plan_db.engine.connect() as conn:
        recorded = planning.WhatIf(conn, "EMP").problem()
        pinned = planning.WhatIf(conn, "EMP", target_role_id="LEAD").problem()
        assert conn.scalar(select(t.people.c.target_role_id).where(t.people.c.id == "EMP")) == "SWE3"
    assert recorded is not None and pinned is not None
    assert recorded.requirements != pinned.requirements
    secured.set_target_role(plan_db, as_person(plan_db, "EMP"), "EMP", role_id="LEAD")
    with plan_db.engine.connect() as conn:
        lead = planning.WhatIf(conn, "EMP").problem()
    assert lead is not None and lead.requirements == pinned.requirements


def test_the_demand_rule_and_the_page_rule_agree(plan_db: Database) -> None:
    """plan_in_force (SQL) is target_out_of_date (Python) being None, for the current plan only: a superseded
    version towards the recorded target does not count either."""
    add_lead_role(plan_db)
    first = planning.plan_for_person(plan_db, "EMP", actor="EMP", start=START).plan
    emp = as_person(plan_db, "EMP")
    for role in ("LEAD", None, "SWE3"):
        secured.set_target_role(plan_db, emp, "EMP", role_id=role)
        assert (_in_force(plan_db) == {"EMP"}) == (planning.target_out_of_date(first.target_role_id, role) is None)
    secured.set_target_role(plan_db, emp, "EMP", role_id="LEAD")
    planning.plan_for_person(plan_db, "EMP", actor="EMP", start=START)  # v2 towards LEAD supersedes v1
    with plan_db.engine.connect() as conn:
        counted = conn.execute(select(t.plans.c.version, t.plans.c.target_role_id).where(planning.plan_in_force()))
        assert counted.all() == [(first.version + 1, "LEAD")]


def test_forgetting_plan_benefits_clears_only_the_named_peoples_live_applications(plan_db: Database) -> None:
    """forget_plan_benefits touches only the people named and only live applications: a decided one keeps
    what the seat was worth then."""
    _twin(plan_db)
    insert_open_opportunity(plan_db)
    insert_open_opportunity(plan_db, "OPP-2")
    rows = [("OPP-LEAD", "EMP", "applied", 4), ("OPP-2", "EMP", "rejected", 3), ("OPP-LEAD", "EMP2", "waitlisted", 5)]
    now = dt.datetime.now(dt.UTC)
    with plan_db.write_engine.begin() as conn:
        conn.execute(
            t.applications.insert(),
            [
                {"opportunity_id": o, "person_id": p, "status": s, "applied_at": now, "plan_benefit_weeks": w}
                for o, p, s, w in rows
            ],
        )
    with plan_db.write_engine.begin() as conn:
        cleared = catalogue.forget_plan_benefits(conn, ["EMP"])
    with plan_db.engine.connect() as conn:
        a = t.applications.c
        left = dict(conn.execute(select(a.opportunity_id + ":" + a.person_id, a.plan_benefit_weeks)).all())
    assert list(cleared.values()) == [4]
    assert left == {"OPP-LEAD:EMP": None, "OPP-2:EMP": 3, "OPP-LEAD:EMP2": 5}
