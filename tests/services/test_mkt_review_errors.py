"""Errors from the marketplace review: each names the field the caller got wrong (the API's error carries it,
the CLI names the option from it)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from micromoves.domain.errors import Conflict
from micromoves.services import accounts, handoffs
from micromoves.services import marketplace as market
from micromoves.services.policy import Policy
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_planning_service import add_engineer, insert_open_opportunity, plan_db  # noqa: F401


def _withdrawn_acting_role(db: Database) -> str:
    """EMP accepted the acting role OPP-LEAD, then withdrew: its move is withdrawn (ended)."""
    admin = Policy(db, accounts.Principal(0, "hr", accounts.Access.ADMIN, None))
    me = Policy(db, accounts.Principal(0, "EMP", accounts.Access.EMPLOYEE, "EMP"))
    insert_open_opportunity(db)
    application = market.apply(db, me, "OPP-LEAD")
    market.decide(db, admin, application, "offer")
    move_id = market.decide(db, me, application, "accept")
    market.decide(db, me, application, "withdraw")
    return move_id


def test_a_handoff_on_an_ended_move_names_the_status(plan_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Refused with no field: the API's 409 did not say what was wrong with the request."""
    add_engineer(plan_db, "EMP2", "Ada")
    move_id = _withdrawn_acting_role(plan_db)
    admin = Policy(plan_db, accounts.Principal(0, "hr", accounts.Access.ADMIN, None))
    for record in (handoffs.record_handoff, handoffs.correct_handoff):
        with pytest.raises(Conflict, match="withdrawn") as info:
            record(plan_db, admin, move_id, holder_id="MGR", responsibilities="standups")
        assert info.value.field == "status"

    # Ended between the check and the write (read again under the lock): named the same way.
    def read_before_it_ended(db: Database, policy: Policy, move: str, action: str) -> Any:
        with db.engine.connect() as conn:
            return conn.execute(select(t.moves).where(t.moves.c.id == move)).first()

    monkeypatch.setattr(handoffs, "_move_to_hand_over", read_before_it_ended)
    with pytest.raises(Conflict, match="withdrawn") as info:
        handoffs.record_handoff(plan_db, admin, move_id, holder_id="MGR", responsibilities="standups")
    assert info.value.field == "status"
