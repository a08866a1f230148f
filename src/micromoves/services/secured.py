"""The tracker's use cases as a signed-in user performs them: the policy check, then the use case.

The web pages and the JSON API call these (never the unchecked functions in ``moves``), so both enforce
the same rules. The CLI is the operator's console on the server and calls ``moves`` directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from micromoves.domain.errors import InvalidValue
from micromoves.domain.model import CheckIn, Move, MoveStatus
from micromoves.services import approvals, moves
from micromoves.services.accounts import Scope
from micromoves.services.policy import Policy
from micromoves.services.views import load_visible_move
from micromoves.storage.db import Database
from micromoves.storage.uow import UnitOfWork

# The lifecycle steps a user takes by name. Approval and decline go through the two-person rule instead.
STEPS: dict[str, MoveStatus] = {
    "submit": MoveStatus.REQUESTED,
    "withdraw": MoveStatus.WITHDRAWN,
    "start_onboarding": MoveStatus.ONBOARDING,
    "activate": MoveStatus.ACTIVE,
}


def _load(db: Database, policy: Policy, move_id: str, action: str) -> Move:
    policy.require_scope(Scope.WRITE)
    with UnitOfWork(db, write=False) as uow:
        return load_visible_move(uow, policy, move_id, action)


def propose(
    db: Database,
    policy: Policy,
    *,
    person_id: str,
    kind: str,
    title: str,
    start: dt.date,
    end: dt.date,
    percent_time: int,
    criteria: Sequence[str],
    expected_outcomes: str = "",
    host_team_id: str | None = None,
    skills_targeted: Sequence[str] = (),
    submit: bool = True,
) -> Move:
    """Propose a move for oneself (or, as their manager or HR, for someone), submitted for approval."""
    policy.require_scope(Scope.WRITE)
    policy.require(
        policy.may_act_for(person_id),
        visible=False,
        action="propose a move for",
        entity_type="person",
        entity_id=person_id,
    )
    return moves.propose_move(
        db,
        person_id=person_id,
        kind=kind,
        title=title,
        start=start,
        end=end,
        percent_time=percent_time,
        actor=policy.principal.actor,
        criteria=criteria,
        expected_outcomes=expected_outcomes,
        host_team_id=host_team_id or None,
        skills_targeted=skills_targeted,
        request=submit,
    )


def step(db: Database, policy: Policy, move_id: str, action: str, *, reason: str = "") -> Move:
    """Take a named lifecycle step (see :data:`STEPS`; ``approve``/``decline`` use the two-person rule)."""
    if action in ("approve", "decline"):
        policy.require_scope(Scope.WRITE)
        verdict = approvals.Verdict.APPROVED if action == "approve" else approvals.Verdict.DECLINED
        return approvals.decide(db, policy, move_id, verdict=verdict, note=reason)
    if action not in STEPS:
        raise InvalidValue(
            f"unknown action {action!r}; one of: {', '.join([*STEPS, 'approve', 'decline'])}", field="action"
        )
    move = _load(db, policy, move_id, action)
    owner_side = action in ("submit", "withdraw")
    allowed = policy.may_act_for(move.person_id) if owner_side else policy.runs_move(move.person_id, move.host_team_id)
    policy.require(allowed, visible=True, action=action, entity_type="move", entity_id=move_id)
    return moves.transition_move(db, move_id, STEPS[action], actor=policy.principal.actor, reason=reason)


def check_in(db: Database, policy: Policy, move_id: str, *, note: str, progress: int | None = None) -> CheckIn:
    move = _load(db, policy, move_id, "check in on")
    allowed = policy.is_self(move.person_id) or policy.runs_move(move.person_id, move.host_team_id)
    policy.require(allowed, visible=True, action="check in on", entity_type="move", entity_id=move_id)
    return moves.check_in(db, move_id, author_id=policy.principal.actor, note=note, progress=progress)


def review(
    db: Database,
    policy: Policy,
    move_id: str,
    *,
    decision: str,
    ratings: Sequence[moves.CriterionRating],
    gains: Sequence[moves.GainInput] = (),
    notes: str = "",
    confidential: bool = False,
    new_end: dt.date | None = None,
) -> Move:
    """Review a running move; never by the person on it."""
    move = _load(db, policy, move_id, "review")
    allowed = policy.runs_move(move.person_id, move.host_team_id)
    policy.require(allowed, visible=True, action="review", entity_type="move", entity_id=move_id)
    return moves.review_move(
        db,
        move_id,
        reviewer_id=policy.principal.actor,
        decision=decision,
        ratings=ratings,
        gains=gains,
        notes=notes,
        confidential=confidential,
        new_end=new_end,
    )
