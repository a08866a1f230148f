from __future__ import annotations

import datetime as dt
import itertools

import pytest

from micromoves.domain import lifecycle
from micromoves.domain.errors import IllegalTransition, MissingSuccessCriteria, UnratedCriteria
from micromoves.domain.model import Move, MoveKind, MoveStatus, Rating, SuccessCriterion

S = MoveStatus
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# The lifecycle written out independently of the implementation's table.
EXPECTED_LEGAL = {
    (S.PROPOSED, S.REQUESTED),
    (S.PROPOSED, S.DECLINED),
    (S.PROPOSED, S.WITHDRAWN),
    (S.REQUESTED, S.APPROVED),
    (S.REQUESTED, S.DECLINED),
    (S.REQUESTED, S.WITHDRAWN),
    (S.APPROVED, S.ONBOARDING),
    (S.APPROVED, S.WITHDRAWN),
    (S.ONBOARDING, S.ACTIVE),
    (S.ONBOARDING, S.WITHDRAWN),
    (S.ACTIVE, S.IN_REVIEW),
    (S.ACTIVE, S.REVERTED),
    (S.IN_REVIEW, S.COMPLETED),
    (S.IN_REVIEW, S.ACTIVE),
    (S.IN_REVIEW, S.REVERTED),
    (S.COMPLETED, S.REVERTED),
}


def make_move(status: MoveStatus, *, rated: bool = True, converted: bool = True) -> Move:
    move = Move(
        id="M1",
        person_id="P1",
        kind=MoveKind.GIG,
        title="t",
        start=dt.date(2026, 1, 5),
        end=dt.date(2026, 3, 27),
        percent_time=20,
        status=status,
    )
    move.criteria = [SuccessCriterion("M1", 1, "ship it", Rating.MET if rated else None)]
    move.converted_assignment_id = 7 if converted else None
    return move


@pytest.mark.parametrize(("src", "dst"), sorted(itertools.product(S, S)))
def test_every_pair_of_statuses(src: MoveStatus, dst: MoveStatus) -> None:
    move = make_move(src)
    if (src, dst) in EXPECTED_LEGAL:
        change = lifecycle.transition(move, dst, actor="P9", at=NOW, reason="why")
        assert move.status is dst
        assert (change.from_status, change.to_status, change.actor, change.at) == (src, dst, "P9", NOW)
        assert move.history[-1] is change
    else:
        with pytest.raises(IllegalTransition, match=f"cannot go from {src} to {dst}"):
            lifecycle.transition(move, dst, actor="P9", at=NOW)
        assert move.status is src
        assert move.history == []


def test_terminal_statuses_allow_nothing() -> None:
    for status in (S.DECLINED, S.WITHDRAWN, S.REVERTED):
        assert lifecycle.allowed_next(status) == frozenset()


def test_approval_needs_success_criteria() -> None:
    move = make_move(S.REQUESTED)
    move.criteria = []
    with pytest.raises(MissingSuccessCriteria):
        lifecycle.transition(move, S.APPROVED, actor="P9", at=NOW)
    assert move.status is S.REQUESTED


def test_completion_needs_every_criterion_rated() -> None:
    move = make_move(S.IN_REVIEW, rated=False)
    with pytest.raises(UnratedCriteria, match="1 success criteria are not rated"):
        lifecycle.transition(move, S.COMPLETED, actor="P9", at=NOW)
    move.criteria[0].rating = Rating.PARTLY_MET
    lifecycle.transition(move, S.COMPLETED, actor="P9", at=NOW)
    assert move.status is S.COMPLETED


def test_completed_move_reverts_only_if_converted() -> None:
    move = make_move(S.COMPLETED, converted=False)
    with pytest.raises(IllegalTransition, match="not converted"):
        lifecycle.transition(move, S.REVERTED, actor="P9", at=NOW)
