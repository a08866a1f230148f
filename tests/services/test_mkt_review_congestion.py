"""Congestion report, from the marketplace review: the numbers it shows must add up over its horizon."""

from __future__ import annotations

import datetime as dt

from micromoves.services import accounts, congestion, planning
from micromoves.services.policy import Policy
from micromoves.services.seats import respect_seats
from micromoves.storage.db import Database
from tests.services.test_planning_service import plan_db  # noqa: F401 (a fixture)
from tests.services.test_seats import PEOPLE, _clone_employee


def test_a_templates_demand_counts_only_the_plan_steps_starting_within_the_horizon(plan_db: Database) -> None:  # noqa: F811
    """Three people share a one-seat, 12-week stretch, fitted one after another (weeks 0, 12 and 24). Over
    the next 12 weeks it has one seat and one plan that takes it. The report counted every plan step however
    far ahead against the seats of the horizon alone: "3 wanted, 1 seat, a queue of 2" over plans that fit."""
    for pid in PEOPLE[1:]:
        _clone_employee(plan_db, pid)
    start = planning.next_monday(dt.date.today())
    for pid in PEOPLE:
        planning.plan_for_person(plan_db, pid, actor="test", start=start)
    respect_seats(plan_db, actor="test")
    admin = Policy(plan_db, accounts.Principal(0, "hr", accounts.Access.ADMIN, None))

    def stretch(horizon: int) -> tuple[int, int, int]:
        report = congestion.congestion(plan_db, admin, horizon_weeks=horizon)
        slot = next(s for s in report.slots if s.id == "T-STRETCH")
        return slot.supply, slot.demand_plans, slot.queue

    assert stretch(12) == (1, 1, 0)
    assert stretch(24) == (2, 2, 0)
    assert stretch(104) == (8, 3, 0)
