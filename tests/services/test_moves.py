from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from micromoves.domain.errors import (
    CapacityExceeded,
    DomainError,
    FullTimeOverlap,
    IllegalTransition,
    InvalidDates,
    InvalidValue,
    MissingSuccessCriteria,
    MoveTooLong,
    NotFound,
    UnratedCriteria,
)
from micromoves.domain.model import AssignmentReason, MoveStatus, Provenance, Rating
from micromoves.services import moves as svc
from micromoves.services import org
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.uow import UnitOfWork

S = MoveStatus
D = dt.date
PROGRAMMING = "2.B.3.e"  # O*NET element id of "Programming"


@pytest.fixture
def org_db(db: Database) -> Database:
    org.add_team(db, id="ENG", name="Engineering", function="engineering", actor="hr")
    org.add_role(
        db,
        id="SWE2",
        title="Software Engineer II",
        onet_code="15-1252.00",
        level=2,
        team_id="ENG",
        actor="hr",
    )
    org.add_role(
        db,
        id="SWE3",
        title="Senior Software Engineer",
        onet_code="15-1252.00",
        level=3,
        team_id="ENG",
        actor="hr",
    )
    org.add_person(
        db, id="MGR", name="Mara Manager", role_id="SWE3", team_id="ENG", hire_date=D(2020, 1, 6), actor="hr"
    )
    org.add_person(
        db,
        id="EMP",
        name="Eli Employee",
        role_id="SWE2",
        team_id="ENG",
        manager_id="MGR",
        hire_date=D(2022, 3, 1),
        actor="hr",
    )
    org.assess_skill(
        db,
        person_id="EMP",
        skill="Programming",
        level=3.0,
        provenance="manager",
        actor="MGR",
        on=D(2025, 1, 1),
    )
    return db


def propose(db: Database, **kw: object) -> str:
    args: dict[str, object] = dict(
        person_id="EMP",
        kind="stretch_assignment",
        title="Lead the API redesign",
        start=D(2026, 1, 5),
        end=D(2026, 3, 27),
        percent_time=40,
        actor="EMP",
        criteria=["API v2 shipped", "Design doc approved"],
        target_role_id="SWE3",
        skills_targeted=["Programming"],
    )
    args.update(kw)
    return svc.propose_move(db, **args).id  # type: ignore[arg-type]


def run_to(db: Database, move_id: str, *statuses: MoveStatus) -> None:
    for s in statuses:
        svc.transition_move(db, move_id, s, actor="MGR", on=D(2026, 3, 27))


def audit_actions(db: Database, move_id: str) -> list[str]:
    with UnitOfWork(db, write=False) as uow:
        return [e.action for e in reversed(uow.audit_log.list(entity_type="move", entity_id=move_id))]


def test_full_lifecycle_is_recorded_and_audited(org_db: Database) -> None:
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    svc.check_in(org_db, mid, author_id="EMP", note="halfway", progress=50, on=D(2026, 2, 13))
    move = svc.review_move(
        org_db,
        mid,
        reviewer_id="MGR",
        decision="end",
        on=D(2026, 3, 27),
        ratings=[svc.CriterionRating(1, Rating.MET, "released"), svc.CriterionRating(2, Rating.PARTLY_MET)],
        gains=[svc.GainInput("Programming", 4.5)],
    )
    assert move.status is S.COMPLETED
    stored = svc.get_move(org_db, mid)
    assert [(h.from_status, h.to_status) for h in stored.history] == [
        (None, S.PROPOSED),
        (S.PROPOSED, S.REQUESTED),
        (S.REQUESTED, S.APPROVED),
        (S.APPROVED, S.ONBOARDING),
        (S.ONBOARDING, S.ACTIVE),
        (S.ACTIVE, S.IN_REVIEW),
        (S.IN_REVIEW, S.COMPLETED),
    ]
    assert all(h.actor in ("EMP", "MGR") and h.at.tzinfo is not None for h in stored.history)
    assert [c.rating for c in stored.criteria] == [Rating.MET, Rating.PARTLY_MET]
    assert stored.outcome is not None and stored.outcome.decision == "end"
    assert [(c.note, c.progress) for c in stored.check_ins] == [("halfway", 50)]
    assert audit_actions(org_db, mid) == [
        "move.proposed",
        "move.requested",
        "move.approved",
        "move.onboarding",
        "move.active",
        "move.check_in",
        "move.in_review",
        "move.reviewed",
        "move.completed",
    ]


def test_a_move_cannot_start_before_its_persons_hire_date(org_db: Database) -> None:
    """The import refused such a move; the app took it (the web, the API and the CLI asked only that it end
    today or later), and its own export then could not be imported back. EMP was hired on 2022-03-01."""
    before = len(svc.list_moves(org_db, person_id="EMP"))
    with pytest.raises(InvalidDates) as info:
        propose(org_db, start=D(2022, 2, 28), end=D(2022, 4, 29))
    assert (info.value.field, info.value.message) == (
        "start",
        "start 2022-02-28 is before EMP's hire date 2022-03-01; a move cannot start before its person's first day",
    )
    assert len(svc.list_moves(org_db, person_id="EMP")) == before
    assert propose(org_db, start=D(2022, 3, 1), end=D(2022, 4, 29))  # on the first day


def test_completion_writes_skills_back_with_move_as_evidence(org_db: Database) -> None:
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    svc.review_move(
        org_db,
        mid,
        reviewer_id="MGR",
        decision="end",
        on=D(2026, 3, 27),
        ratings=[svc.CriterionRating(1, Rating.MET), svc.CriterionRating(2, Rating.MET)],
        gains=[svc.GainInput("Programming", 4.5)],
    )
    overview = org.person_overview(org_db, "EMP")
    prog = next(level for level, _name in overview.skills if level.skill_id == PROGRAMMING)
    assert (prog.level, prog.provenance, prog.move_id, prog.assessed_on) == (
        4.5,
        Provenance.MOVE_EVIDENCE,
        mid,
        D(2026, 3, 27),
    )
    gain = svc.get_move(org_db, mid).skill_gains[0]
    assert (gain.level_before, gain.level_after) == (3.0, 4.5)  # before = the profile level at review


def test_a_skill_name_two_elements_share_is_refused_naming_both(org_db: Database) -> None:
    """O*NET's Mathematics is a skill (2.A.1.e) and a knowledge area (2.C.4.a). A review gain or an
    assessment by that name silently took one of them (whichever the database returned first)."""
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    ratings = [svc.CriterionRating(1, Rating.MET), svc.CriterionRating(2, Rating.MET)]
    with pytest.raises(
        InvalidValue,
        match=r"'Mathematics' is ambiguous: give one of Mathematics \(skill 2\.A\.1\.e\), "
        r"Mathematics \(knowledge 2\.C\.4\.a\)",
    ):
        svc.review_move(
            org_db, mid, reviewer_id="MGR", decision="end", ratings=ratings, gains=[svc.GainInput("Mathematics", 5)]
        )
    assert svc.get_move(org_db, mid).status is S.ACTIVE  # nothing written
    with pytest.raises(InvalidValue, match="ambiguous"):
        org.assess_skill(org_db, person_id="EMP", skill="mathematics", level=4, provenance="manager", actor="MGR")
    svc.review_move(  # by its id, it is unambiguous
        org_db, mid, reviewer_id="MGR", decision="end", ratings=ratings, gains=[svc.GainInput("2.C.4.a", 5)]
    )
    assert [(g.skill_id, g.level_after) for g in svc.get_move(org_db, mid).skill_gains] == [("2.C.4.a", 5)]


def test_review_gains_twice_unknown_or_lowering_a_level_are_refused(org_db: Database) -> None:
    """Two gains of one skill (named in two spellings) kept the last silently, and a gain below today's
    level lowered the profile; an unknown skill was a 404, as if the move were missing. Each is refused
    as an invalid value of 'gains', and nothing is written."""
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    ratings = [svc.CriterionRating(1, Rating.MET), svc.CriterionRating(2, Rating.MET)]

    def review(*gains: svc.GainInput) -> None:
        svc.review_move(org_db, mid, reviewer_id="MGR", decision="end", ratings=ratings, gains=list(gains))

    with pytest.raises(InvalidValue, match=r"Programming \(2\.B\.3\.e\) is given twice") as err:
        review(svc.GainInput("Programming", 5), svc.GainInput("programming", 4))
    assert err.value.field == "gains"
    with pytest.raises(InvalidValue, match=r"a gain cannot lower Programming \(from 3 to 2\)"):
        review(svc.GainInput("Programming", 2))
    with pytest.raises(InvalidValue, match="unknown skill 'Juggling'") as err:
        review(svc.GainInput("Juggling", 2))
    assert err.value.field == "gains"
    move = svc.get_move(org_db, mid)
    assert move.status is S.ACTIVE and move.skill_gains == [] and move.outcome is None
    assert org.person_overview(org_db, "EMP").skills[0][0].level == 3.0
    review(svc.GainInput("Programming", 3))  # the same level is no loss
    assert [(g.level_before, g.level_after) for g in svc.get_move(org_db, mid).skill_gains] == [(3.0, 3.0)]


def test_completion_refused_until_every_criterion_rated(org_db: Database) -> None:
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    with pytest.raises(UnratedCriteria):
        svc.review_move(
            org_db,
            mid,
            reviewer_id="MGR",
            decision="end",
            ratings=[svc.CriterionRating(1, Rating.MET)],
            gains=[svc.GainInput("Programming", 5)],
        )
    move = svc.get_move(org_db, mid)
    assert move.status is S.ACTIVE  # the whole review rolled back, including the step to in_review
    assert move.outcome is None and move.skill_gains == []
    assert org.person_overview(org_db, "EMP").skills[0][0].level == 3.0


def test_approval_requires_success_criteria(org_db: Database) -> None:
    mid = propose(org_db, criteria=[])
    svc.transition_move(org_db, mid, S.REQUESTED, actor="EMP")
    with pytest.raises(MissingSuccessCriteria):
        svc.transition_move(org_db, mid, S.APPROVED, actor="MGR")
    svc.add_criteria(org_db, mid, ["Runbook written"], actor="EMP")
    assert svc.transition_move(org_db, mid, S.APPROVED, actor="MGR").status is S.APPROVED
    with pytest.raises(DomainError, match="fixed once it is approved"):
        svc.add_criteria(org_db, mid, ["late addition"], actor="EMP")


def test_illegal_transition_changes_nothing(org_db: Database) -> None:
    mid = propose(org_db)
    with pytest.raises(IllegalTransition, match="cannot go from proposed to active"):
        svc.transition_move(org_db, mid, S.ACTIVE, actor="MGR")
    assert svc.get_move(org_db, mid).status is S.PROPOSED
    assert audit_actions(org_db, mid) == ["move.proposed"]


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"end": D(2026, 1, 5)}, InvalidDates),
        ({"end": D(2026, 8, 1)}, MoveTooLong),
        ({"percent_time": 0}, InvalidValue),
        ({"percent_time": 120}, InvalidValue),
        ({"kind": "sabbatical"}, InvalidValue),
        ({"person_id": "NOBODY"}, NotFound),
        ({"target_role_id": "CEO"}, InvalidValue),  # named in the request: 422, not 404
        ({"skills_targeted": ["Juggling"]}, InvalidValue),
        ({"criteria": ["ok", "  "]}, InvalidValue),
    ],
)
def test_bad_proposals_are_rejected_and_nothing_written(
    org_db: Database, kw: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        propose(org_db, **kw)
    with org_db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.moves)) == 0
        assert conn.scalar(select(func.count()).select_from(t.success_criteria)) == 0


def test_capacity_and_full_time_rules(org_db: Database) -> None:
    a = propose(org_db, percent_time=60)
    run_to(org_db, a, S.REQUESTED, S.APPROVED)
    with pytest.raises(CapacityExceeded, match="100%"):
        propose(org_db, percent_time=50, start=D(2026, 3, 1), end=D(2026, 4, 30))
    # A proposal that fits while the first is only proposed is re-checked on approval.
    b = propose(org_db, percent_time=40, start=D(2026, 3, 1), end=D(2026, 4, 30))
    c = propose(org_db, percent_time=30, start=D(2026, 3, 10), end=D(2026, 3, 20))
    run_to(org_db, b, S.REQUESTED, S.APPROVED)
    svc.transition_move(org_db, c, S.REQUESTED, actor="EMP")
    with pytest.raises(CapacityExceeded):
        svc.transition_move(org_db, c, S.APPROVED, actor="MGR")
    assert svc.get_move(org_db, c).status is S.REQUESTED
    f1 = propose(org_db, percent_time=100, start=D(2026, 6, 1), end=D(2026, 7, 31))
    run_to(org_db, f1, S.REQUESTED, S.APPROVED)
    with pytest.raises(FullTimeOverlap):
        propose(org_db, percent_time=100, start=D(2026, 7, 1), end=D(2026, 8, 31))


def test_per_person_capacity_includes_home_role_share(org_db: Database) -> None:
    org.add_person(
        org_db,
        id="PART",
        name="Pat Part-time",
        role_id="SWE2",
        manager_id="MGR",
        capacity_percent=80,
        home_role_min_percent=50,
        actor="hr",
    )
    # On its own, a move too large is refused in plain words (it said "together with  would use 31%").
    with pytest.raises(CapacityExceeded) as caught:
        propose(org_db, person_id="PART", percent_time=31, move_id="M-PART")
    assert caught.value.message == "move M-PART needs 31% of time from 2026-01-05; capacity for moves is 30%"
    assert caught.value.field == "percent_time"
    propose(org_db, person_id="PART", percent_time=20, move_id="M-PART1", request=True)
    svc.transition_move(org_db, "M-PART1", MoveStatus.APPROVED, actor="MGR")
    with pytest.raises(CapacityExceeded, match=r"together with M-PART1 would use 40%"):
        propose(org_db, person_id="PART", percent_time=20, move_id="M-PART2")
    propose(org_db, person_id="PART", percent_time=10)


def test_extension_is_recorded_and_stays_short(org_db: Database) -> None:
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    move = svc.extend_move(org_db, mid, D(2026, 5, 1), actor="MGR", reason="scope grew")
    assert move.end == D(2026, 5, 1)
    assert [(e.old_end, e.new_end, e.reason) for e in svc.get_move(org_db, mid).extensions] == [
        (D(2026, 3, 27), D(2026, 5, 1), "scope grew")
    ]
    with pytest.raises(MoveTooLong):
        svc.extend_move(org_db, mid, D(2026, 9, 1), actor="MGR")
    assert svc.get_move(org_db, mid).end == D(2026, 5, 1)


def test_review_extend_and_continue_return_to_active(org_db: Database) -> None:
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    with pytest.raises(InvalidValue, match="new end"):
        svc.review_move(org_db, mid, reviewer_id="MGR", decision="extend")
    move = svc.review_move(org_db, mid, reviewer_id="MGR", decision="extend", new_end=D(2026, 4, 24))
    assert (move.status, move.end) == (S.ACTIVE, D(2026, 4, 24))
    assert svc.review_move(org_db, mid, reviewer_id="MGR", decision="continue").status is S.ACTIVE


def test_convert_then_revert_restores_prior_role(org_db: Database) -> None:
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    svc.review_move(
        org_db,
        mid,
        reviewer_id="MGR",
        decision="convert",
        on=D(2026, 3, 27),
        ratings=[svc.CriterionRating(1, Rating.MET), svc.CriterionRating(2, Rating.MET)],
    )
    overview = org.person_overview(org_db, "EMP")
    assert overview.person.role_id == "SWE3"
    assert [(a.role_id, a.reason, a.end) for a in overview.assignments] == [
        ("SWE2", AssignmentReason.HIRE, D(2026, 3, 27)),
        ("SWE3", AssignmentReason.CONVERSION, None),
    ]
    svc.transition_move(org_db, mid, S.REVERTED, actor="MGR", reason="trial did not work", on=D(2026, 5, 4))
    overview = org.person_overview(org_db, "EMP")
    assert overview.person.role_id == "SWE2"
    assert [(a.role_id, a.reason, a.end) for a in overview.assignments] == [
        ("SWE2", AssignmentReason.HIRE, D(2026, 3, 27)),
        ("SWE3", AssignmentReason.CONVERSION, D(2026, 5, 4)),
        ("SWE2", AssignmentReason.REVERT, None),
    ]
    move = svc.get_move(org_db, mid)
    assert move.status is S.REVERTED and move.history[-1].reason == "trial did not work"
    assert [h.to_status for h in move.history][-3:] == [S.IN_REVIEW, S.COMPLETED, S.REVERTED]  # history kept
    # The person's audit trail has both role changes (the revert's was missing).
    with UnitOfWork(org_db, write=False) as uow:
        changes = [
            (e.details["role_from"], e.details["role_to"], e.details["reason"])
            for e in reversed(uow.audit_log.list(entity_type="person", entity_id="EMP"))
            if e.action == "person.role_changed"
        ]
    assert changes == [("SWE2", "SWE3", "conversion"), ("SWE3", "SWE2", "revert")]


def test_revert_of_running_trial_ends_it_early_and_frees_capacity(org_db: Database) -> None:
    mid = propose(org_db, percent_time=100, kind="acting_role")
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    move = svc.transition_move(org_db, mid, S.REVERTED, actor="MGR", on=D(2026, 2, 1))
    assert move.end == D(2026, 2, 1)
    assert org.person_overview(org_db, "EMP").person.role_id == "SWE2"
    propose(org_db, percent_time=100, start=D(2026, 2, 2), end=D(2026, 3, 27))  # fits now


def test_a_move_starts_no_earlier_than_agreed_and_ending_early_gives_the_time_back(org_db: Database) -> None:
    """Activating before the start date is refused (the approvals and the capacity check were for those
    dates; nothing changes); completed before its end, the move ends on the review's day, so its time is free
    from then on (it stayed taken to the planned end: a later move over those weeks was refused)."""
    mid = propose(org_db, percent_time=100, kind="rotation")  # 2026-01-05 .. 2026-03-27, full time
    for status in (S.REQUESTED, S.APPROVED, S.ONBOARDING):
        svc.transition_move(org_db, mid, status, actor="MGR", on=D(2025, 12, 1))
    with pytest.raises(InvalidDates, match="starts on 2026-01-05"):
        svc.transition_move(org_db, mid, S.ACTIVE, actor="MGR", on=D(2026, 1, 4))
    assert svc.get_move(org_db, mid).status is S.ONBOARDING
    svc.transition_move(org_db, mid, S.ACTIVE, actor="MGR", on=D(2026, 1, 5))
    with pytest.raises(FullTimeOverlap):
        propose(org_db, percent_time=100, start=D(2026, 3, 2), end=D(2026, 3, 27))
    move = svc.review_move(
        org_db,
        mid,
        reviewer_id="MGR",
        decision="end",
        ratings=[svc.CriterionRating(1, Rating.MET), svc.CriterionRating(2, Rating.MET)],
        on=D(2026, 2, 27),
    )
    assert (move.status, move.start, move.end) == (S.COMPLETED, D(2026, 1, 5), D(2026, 2, 27))
    propose(org_db, percent_time=100, start=D(2026, 3, 2), end=D(2026, 3, 27))  # fits now
    with UnitOfWork(org_db, write=False) as uow:
        [done] = [e for e in uow.audit_log.list(entity_type="move", entity_id=mid) if e.action == "move.completed"]
    assert (done.details["old_end"], done.details["new_end"]) == ("2026-03-27", "2026-02-27")


def test_a_success_criterion_cannot_hold_the_separator_of_moves_csv(org_db: Database) -> None:
    """';' separates success criteria in moves.csv: a criterion holding one would export as two and fail
    to import back, so it is refused where it is written, naming the field."""
    before = _count(org_db)
    with pytest.raises(InvalidValue, match="cannot contain ';'") as err:
        propose(org_db, criteria=["Ship v1; then v2"])
    assert err.value.field == "success_criteria"
    assert _count(org_db) == before
    propose(org_db, criteria=["Ship v1, then v2"])


def _count(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(t.moves)) or 0)


def test_an_extension_refused_names_the_new_end(org_db: Database) -> None:
    """What an extension changes is the end: a refusal names ``new_end``, the field the review form and the
    API body have (it named ``end``, ``start`` or ``percent_time``, as for a new move, which a review has not)."""
    mid = propose(org_db, percent_time=100, kind="rotation")  # 2026-01-05 .. 2026-03-27
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    later = propose(org_db, percent_time=100, kind="rotation", start=D(2026, 4, 6), end=D(2026, 5, 29))
    run_to(org_db, later, S.REQUESTED, S.APPROVED)
    with pytest.raises(MoveTooLong) as too_long:
        svc.review_move(org_db, mid, reviewer_id="MGR", decision="extend", new_end=D(2026, 9, 4))
    with pytest.raises(FullTimeOverlap) as overlap:
        svc.review_move(org_db, mid, reviewer_id="MGR", decision="extend", new_end=D(2026, 4, 10))
    assert (too_long.value.field, overlap.value.field) == ("new_end", "new_end")
    assert svc.get_move(org_db, mid).end == D(2026, 3, 27)


def test_a_new_end_with_another_decision_than_extend_is_refused(org_db: Database) -> None:
    """The review form has one "New end (extend)" box and "end" as its first decision: a reviewer who gave
    a new end but left the decision at "end" had the move completed (its skills written back, for good)
    rather than extended. A new end is for "extend" only; with any other decision it is refused, naming it."""
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    ratings = [svc.CriterionRating(1, Rating.MET), svc.CriterionRating(2, Rating.MET)]
    for decision in ("end", "continue", "revert", "convert"):
        with pytest.raises(InvalidValue, match="new end") as refused:
            svc.review_move(org_db, mid, reviewer_id="MGR", decision=decision, ratings=ratings, new_end=D(2026, 4, 24))
        assert refused.value.field == "new_end"
    move = svc.get_move(org_db, mid)
    assert (move.status, move.end, move.outcome) == (S.ACTIVE, D(2026, 3, 27), None)


def test_reverting_the_conversion_of_someone_who_held_no_role_leaves_them_without_one(org_db: Database) -> None:
    """A person may come without a role (people.csv's role_id is optional). Their trial converted into a role
    could not be reverted ("no earlier role is recorded"): reverting restores what they held before, none."""
    org.add_person(org_db, id="NEW", name="Noa New", team_id="ENG", manager_id="MGR", actor="hr")
    mid = propose(org_db, person_id="NEW")
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    ratings = [svc.CriterionRating(1, Rating.MET), svc.CriterionRating(2, Rating.MET)]
    svc.review_move(org_db, mid, reviewer_id="MGR", decision="convert", on=D(2026, 3, 27), ratings=ratings)
    assert org.person_overview(org_db, "NEW").person.role_id == "SWE3"
    move = svc.transition_move(org_db, mid, S.REVERTED, actor="MGR", reason="not for now", on=D(2026, 5, 4))
    assert move.status is S.REVERTED
    overview = org.person_overview(org_db, "NEW")
    assert overview.person.role_id is None
    assert [(a.role_id, a.reason, a.end) for a in overview.assignments] == [
        ("SWE3", AssignmentReason.CONVERSION, D(2026, 5, 4))
    ]
    with UnitOfWork(org_db, write=False) as uow:
        changes = [
            (e.details["role_from"], e.details["role_to"], e.details["reason"])
            for e in reversed(uow.audit_log.list(entity_type="person", entity_id="NEW"))
            if e.action == "person.role_changed"
        ]
    assert changes == [(None, "SWE3", "conversion"), ("SWE3", None, "revert")]
