"""Defects found by the accounts/moves review (acc): each test failed before its fix."""

from __future__ import annotations

import datetime as dt

import pytest

from micromoves.domain.errors import Conflict, InvalidValue
from micromoves.domain.model import AssignmentReason, MoveStatus, Rating
from micromoves.services import catalogue, org
from micromoves.services import moves as svc
from micromoves.storage.db import Database
from micromoves.storage.uow import UnitOfWork
from tests.services.test_moves import org_db, propose

__all__ = ["org_db"]  # the organisation of the tracker's tests

S = MoveStatus
D = dt.date
PROG = "2.B.3.e"  # O*NET's Programming
BOTH_MET = [svc.CriterionRating(1, Rating.MET), svc.CriterionRating(2, Rating.MET)]


def _converted(db: Database, target: str, start: D, end: D) -> str:
    mid = propose(db, start=start, end=end, target_role_id=target)
    for status in (S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE):
        svc.transition_move(db, mid, status, actor="MGR", on=start)
    svc.review_move(db, mid, reviewer_id="MGR", decision="convert", on=end, ratings=BOTH_MET)
    return mid


def test_reverting_a_conversion_a_later_role_change_replaced_is_refused(org_db: Database) -> None:
    """A trial converted into SWE3, then a second one converted into LEAD: reverting the first put the person
    back in SWE2, silently taking away the role the later conversion (or a promotion an import recorded) gave
    them, and ended that later assignment. Now refused: the conversion is no longer their current role."""
    org.add_role(org_db, id="LEAD", title="Tech Lead", level=4, team_id="ENG", actor="hr")
    first = _converted(org_db, "SWE3", D(2026, 1, 5), D(2026, 3, 27))
    _converted(org_db, "LEAD", D(2026, 4, 6), D(2026, 6, 26))
    assert org.person_overview(org_db, "EMP").person.role_id == "LEAD"

    with pytest.raises(Conflict) as caught:
        svc.transition_move(org_db, first, S.REVERTED, actor="MGR", reason="oops", on=D(2026, 7, 6))
    assert caught.value.field == "status"
    assert "LEAD" in caught.value.message

    overview = org.person_overview(org_db, "EMP")
    assert overview.person.role_id == "LEAD"
    assert [(a.role_id, a.reason, a.end) for a in overview.assignments] == [
        ("SWE2", AssignmentReason.HIRE, D(2026, 3, 27)),
        ("SWE3", AssignmentReason.CONVERSION, D(2026, 6, 26)),
        ("LEAD", AssignmentReason.CONVERSION, None),
    ]
    assert svc.get_move(org_db, first).status is S.COMPLETED


def test_a_move_title_longer_than_its_column_is_refused_naming_the_field(org_db: Database) -> None:
    """The web form and the API hold a title to 500 characters (moves.title's width); the CLI's --title did
    not: on PostgreSQL a longer one stopped with "database error: value too long for type character
    varying(500)", on SQLite it was stored (and an export of it then read back by nothing that checks it)."""
    with pytest.raises(InvalidValue) as caught:
        propose(org_db, title="x" * 501)
    assert caught.value.field == "title" and "500" in caught.value.message
    assert svc.get_move(org_db, propose(org_db, title="  " + "y" * 500 + " ")).title == "y" * 500  # stripped: fits


def _profile_level(db: Database, skill_id: str) -> float:
    with UnitOfWork(db, write=False) as uow:
        return uow.people.profile("EMP")[skill_id].level


def test_completing_a_move_never_lowers_a_skill_raised_since_its_gain_was_recorded(org_db: Database) -> None:
    """Two moves build Programming (3.0). The first's mid-way review (continue) records a gain to 4.0; the
    second completes with a gain to 5.0, written to the profile. The first then ends: its completion wrote
    4.0 as the latest assessment, and the profile fell from 5.0 to 4.0, though a review refuses a gain that
    lowers a level. A gain the profile has since passed is kept on the move and not written back."""
    first = propose(org_db, start=D(2026, 1, 5), end=D(2026, 3, 27), percent_time=40)
    second = propose(org_db, start=D(2026, 1, 5), end=D(2026, 2, 27), percent_time=40)
    for mid in (first, second):
        for status in (S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE):
            svc.transition_move(org_db, mid, status, actor="MGR", on=D(2026, 1, 5))
    svc.review_move(
        org_db, first, reviewer_id="MGR", decision="continue", on=D(2026, 2, 2), gains=[svc.GainInput(PROG, 4.0)]
    )
    svc.review_move(
        org_db,
        second,
        reviewer_id="MGR",
        decision="end",
        on=D(2026, 2, 27),
        ratings=BOTH_MET,
        gains=[svc.GainInput(PROG, 5.0)],
    )
    assert _profile_level(org_db, PROG) == 5.0

    done = svc.review_move(org_db, first, reviewer_id="MGR", decision="end", on=D(2026, 3, 27), ratings=BOTH_MET)
    assert done.status is S.COMPLETED
    assert _profile_level(org_db, PROG) == 5.0
    assert [(g.skill_id, g.level_before, g.level_after) for g in done.skill_gains] == [(PROG, 3.0, 4.0)]
    with UnitOfWork(org_db, write=False) as uow:
        completed = next(e for e in uow.audit_log.list(entity_id=first) if e.action == "move.completed")
    assert completed.details["skills_written"] == []
    assert completed.details["skills_not_written"] == [f"{PROG}:4 (profile already 5)"]


@pytest.mark.parametrize("before", [-3.0, 7.5, float("nan")])
def test_a_gain_whose_level_before_is_off_the_scale_is_refused(org_db: Database, before: float) -> None:
    """A gain's level_before given by the caller (review_move's GainInput) was not checked: -3 was stored as
    the move's evidence ("-3 → 4"), and NaN failed as a database error (NOT NULL constraint failed)."""
    mid = propose(org_db)
    for status in (S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE):
        svc.transition_move(org_db, mid, status, actor="MGR", on=D(2026, 1, 5))
    with pytest.raises(InvalidValue) as caught:
        svc.review_move(
            org_db,
            mid,
            reviewer_id="MGR",
            decision="continue",
            on=D(2026, 2, 2),
            gains=[svc.GainInput(PROG, 4.0, level_before=before)],
        )
    assert caught.value.field == "gains"
    assert svc.get_move(org_db, mid).skill_gains == []


@pytest.mark.parametrize("gain", [float("nan"), float("inf"), 0.0, 7.5])
def test_a_template_gain_off_the_scale_is_refused(org_db: Database, gain: float) -> None:
    """A template's gain of NaN passed its bounds check (every comparison with NaN is false) and was stored,
    poisoning every plan that could use the template."""
    with pytest.raises(InvalidValue) as caught:
        catalogue.add_template(
            org_db, id="T1", kind="gig", title="Gig", duration_weeks=4, percent_time=20, gains={PROG: gain}, actor="hr"
        )
    assert caught.value.field == "gains"
