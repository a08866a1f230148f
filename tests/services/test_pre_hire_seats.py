"""A pre-hire (hired after today) cannot start a move before their first day (moves.check_hired), and so is
offered no seat of an opportunity that starts before it: apply, the host's offer and the allocation refuse
it early, naming the hire date. Before, eligibility never compared the two: a pre-hire applied, was ranked
and offered, and accepting failed (InvalidDates) while the offer held a seat."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from micromoves.domain.errors import InvalidValue
from micromoves.services import accounts, planning
from micromoves.services import allocation as alloc
from micromoves.services import marketplace as market
from micromoves.services import marketplace_views as views
from micromoves.services.policy import Policy
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_allocation_service import TODAY, application, base_org, insert, opportunity
from tests.services.test_planning_service import insert_open_opportunity, plan_db  # noqa: F401 (a fixture)


def _hire(db: Database, pid: str, day: dt.date) -> None:
    with db.write_engine.begin() as conn:
        conn.execute(update(t.people).where(t.people.c.id == pid).values(hire_date=day))


def _admin(db: Database) -> Policy:
    return Policy(db, accounts.Principal(0, "hr", accounts.Access.ADMIN, None))


def _as(db: Database, pid: str) -> Policy:
    return Policy(db, accounts.Principal(0, pid, accounts.Access.EMPLOYEE, pid))


def test_a_pre_hire_cannot_apply_for_a_seat_starting_before_their_first_day(plan_db: Database) -> None:  # noqa: F811
    first_day = dt.date.today() + dt.timedelta(days=21)
    _hire(plan_db, "EMP", first_day)
    insert_open_opportunity(plan_db)  # from next Monday: before the first day
    with pytest.raises(InvalidValue) as info:
        market.apply(plan_db, _as(plan_db, "EMP"), "OPP-LEAD")
    assert (info.value.field, info.value.message) == (
        "eligibility",
        f"not eligible: it starts before your first day (hire date {first_day.isoformat()})",
    )
    # Their own page says so too.
    (card,) = [c for c in views.marketplace(plan_db, _as(plan_db, "EMP")).opportunities if c.id == "OPP-LEAD"]
    assert card.eligible is False
    assert card.reasons == [f"it starts before your first day (hire date {first_day.isoformat()})"]
    # From the first day on, they may.
    _hire(plan_db, "EMP", planning.next_monday(dt.date.today()))
    assert market.apply(plan_db, _as(plan_db, "EMP"), "OPP-LEAD") > 0


def test_no_offer_holds_a_seat_for_someone_whose_hire_date_moved_past_its_start(plan_db: Database) -> None:  # noqa: F811
    """They applied; an import then moved their hire date to after the opportunity's start: the host's offer
    is refused (accepting it would be), and the seat stays free."""
    insert_open_opportunity(plan_db)
    app_id = market.apply(plan_db, _as(plan_db, "EMP"), "OPP-LEAD")
    first_day = dt.date.today() + dt.timedelta(days=21)
    _hire(plan_db, "EMP", first_day)
    with pytest.raises(InvalidValue) as info:
        market.decide(plan_db, _admin(plan_db), app_id, "offer")
    assert (info.value.field, info.value.message) == (
        "eligibility",
        f"not eligible: it starts before EMP's first day (hire date {first_day.isoformat()})",
    )
    with plan_db.engine.connect() as conn:
        assert conn.scalar(select(t.applications.c.status).where(t.applications.c.id == app_id)) == "applied"


def test_the_allocation_offers_a_pre_hire_no_seat_starting_before_their_first_day(db: Database) -> None:
    """O1 starts two weeks from TODAY, O2 six: A-0 starts work in between. Alone on O1 they were chosen."""
    base_org(db, {"A": 4})
    _hire(db, "A-0", TODAY + dt.timedelta(weeks=4))
    insert(db, t.opportunities, [opportunity("O1"), opportunity("O2", start=TODAY + dt.timedelta(weeks=6))])
    insert(db, t.applications, [application("A-0", "O1", benefit=5), application("A-0", "O2", benefit=1)])
    proposal = alloc.propose_allocation(db, actor="hr", today=TODAY, release_share=1.0)
    assert [(a.person_id, a.opportunity_id) for a in proposal.assignments] == [("A-0", "O2")]
    (o1,) = [u for u in proposal.stats["unfilled"] if u["opportunity_id"] == "O1"]
    assert (o1["applied"], o1["outside_rules"]) == (1, 1)
