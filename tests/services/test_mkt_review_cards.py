"""Opportunity cards, from the marketplace review: a card says the viewer may take an opportunity only when
applying would be accepted."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from micromoves.domain.errors import Conflict
from micromoves.services import accounts
from micromoves.services import marketplace as market
from micromoves.services import marketplace_views as views
from micromoves.services.policy import Policy
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_planning_service import insert_open_opportunity, plan_db  # noqa: F401 (a fixture)


@pytest.mark.parametrize("what", ["deadline", "end"])
def test_an_open_opportunity_one_can_no_longer_apply_to_says_why_on_its_card(plan_db: Database, what: str) -> None:  # noqa: F811
    """Nothing closes an open opportunity when its apply-by date or its end passes (marketplace.apply refuses
    it then), and the marketplace keeps listing it: its card said "eligible", with no reason, and its page
    showed no Apply button without saying why."""
    insert_open_opportunity(plan_db)
    yesterday = dt.date.today() - dt.timedelta(days=1)
    values = (
        {"application_deadline": yesterday}
        if what == "deadline"
        else {"start": yesterday - dt.timedelta(days=27), "end": yesterday}
    )
    with plan_db.write_engine.begin() as conn:
        conn.execute(update(t.opportunities).where(t.opportunities.c.id == "OPP-LEAD").values(**values))
    me = Policy(plan_db, accounts.Principal(0, "EMP", accounts.Access.EMPLOYEE, "EMP"))
    with pytest.raises(Conflict) as info:
        market.apply(plan_db, me, "OPP-LEAD")
    assert info.value.field == ("application_deadline" if what == "deadline" else "end")
    (card,) = [c for c in views.marketplace(plan_db, me).opportunities if c.id == "OPP-LEAD"]
    words = f"applications closed on {yesterday}" if what == "deadline" else f"it ended on {yesterday}"
    assert (card.eligible, card.reasons) == (False, [words])
    detail = views.opportunity_detail(plan_db, me, "OPP-LEAD")
    assert (detail.card.eligible, detail.card.reasons, detail.actions) == (False, [words], [])
