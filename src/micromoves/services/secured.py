"""The tracker's use cases as a signed-in user performs them: the policy check, then the use case.

The web pages, the JSON API and the CLI's move commands call these (never the unchecked functions in
``moves``), so all enforce the same rules. On the CLI, ``--actor P`` is person P with P's rights; without it
the operator acts, with an admin's (``cli.marketplace.cli_policy``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from micromoves.domain import vocabulary
from micromoves.domain.errors import InvalidDates, InvalidValue
from micromoves.domain.model import CheckIn, Move, MoveStatus
from micromoves.services import approvals, catalogue, moves
from micromoves.services.accounts import Scope
from micromoves.services.planning import target_out_of_date
from micromoves.services.policy import Policy
from micromoves.services.views import load_visible_move
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.repositories import skill_labels
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
    target_role_id: str | None = None,
) -> Move:
    """Propose a move for oneself (or, as their manager or HR, for someone), submitted for approval.

    A move still to run: ending today or later. Moves that already happened are history, recorded by the
    import (``micromoves import``), not proposed, approved and started after the fact. It starts on the
    person's hire date or later (:func:`moves.check_hired`, a pre-hire's first day too)."""
    policy.require_scope(Scope.WRITE)
    policy.require(
        policy.may_act_for(person_id),
        visible=False,
        action="propose a move for",
        entity_type="person",
        entity_id=person_id,
    )
    # Dates are inclusive: a move ending today still runs today. (An end before the start is the problem
    # to name first: propose_move does.)
    if start <= end < dt.date.today():
        raise InvalidDates(
            f"end {end.isoformat()} has passed; a proposed move ends today or later (past moves are imported)",
            field="end",
        )
    if target_role_id is None:
        # The long-term role a move serves: unless told otherwise, the one the person aims for (a move
        # proposed in the app had none, so none could ever be converted).
        with db.engine.connect() as conn:
            target_role_id = conn.scalar(select(t.people.c.target_role_id).where(t.people.c.id == person_id))
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
        target_role_id=target_role_id,
    )


@dataclass(frozen=True)
class TargetChange:
    person_id: str
    old_role_id: str | None
    role_id: str | None
    # The target of the person's current plan, if they have one: when it is not ``role_id`` that plan is
    # out of date, and planning again plans towards ``role_id``.
    plan_target_role_id: str | None

    @property
    def changed(self) -> bool:
        return self.old_role_id != self.role_id

    @property
    def plan_out_of_date(self) -> bool:
        plan_target = self.plan_target_role_id
        return plan_target is not None and target_out_of_date(plan_target, self.role_id) is not None


def set_target_role(db: Database, policy: Policy, person_id: str, *, role_id: str | None) -> TargetChange:
    """Set (or, with None, clear) the role the planner plans the person towards. Who may propose moves for
    the person may: themself, their managers up the line, HR for their unit, admins. Others are told the
    person does not exist, as for a proposal or a re-plan. The current plan stays as it was, out of date
    once it aims elsewhere (and no longer counted as demand: planning.plan_in_force); it is not re-planned
    here (a search takes seconds: the page offers it)."""
    policy.require_scope(Scope.WRITE)
    policy.require(
        policy.may_act_for(person_id),
        visible=policy.sees_person(person_id),
        action="set the target role of",
        entity_type="person",
        entity_id=person_id,
    )
    old = catalogue.set_target_role(db, person_id=person_id, role_id=role_id, actor=policy.principal.actor)
    with db.engine.connect() as conn:
        plan_target = conn.scalar(
            select(t.plans.c.target_role_id).where(t.plans.c.person_id == person_id, t.plans.c.status == "current")
        )
    return TargetChange(person_id, old, role_id, plan_target)


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
    return transition(db, policy, move_id, STEPS[action], reason=reason, action=action)


def transition(
    db: Database, policy: Policy, move_id: str, to: MoveStatus | str, *, reason: str = "", action: str | None = None
) -> Move:
    """Any lifecycle step but a decision on a request: the person's side (submitting, withdrawing) by those
    who may act for the person, the rest (onboarding, start, review, revert …) by those who run the move.
    ``to`` as typed (the CLI's argument): any case, as every status is read."""
    to = vocabulary.parse(MoveStatus, to, field="status")
    if to in (MoveStatus.APPROVED, MoveStatus.DECLINED):
        verb = "approve" if to is MoveStatus.APPROVED else "decline"
        raise InvalidValue(
            f"a requested move is {to.value} by its approvers: {verb} it (`micromoves moves {verb} {move_id}`; "
            "the line manager's and the host's decisions, two different people)",
            field="status",
        )
    label = action or f"move to {to.value}"
    move = _load(db, policy, move_id, label)
    owner_side = to in (MoveStatus.REQUESTED, MoveStatus.WITHDRAWN)
    allowed = policy.may_act_for(move.person_id) if owner_side else policy.runs_move(move.person_id, move.host_team_id)
    policy.require(allowed, visible=True, action=label, entity_type="move", entity_id=move_id)
    if to is MoveStatus.ACTIVE and move.status is MoveStatus.ONBOARDING and dt.date.today() > move.end:
        # A move whose agreed time is over never ran: starting it now would credit weeks nobody lent and
        # leave an active move that ended before it began. (The tracker's own transition takes any day:
        # an import or a history records moves that did run.)
        raise InvalidDates(
            f"move {move.id} was planned to end on {move.end.isoformat()}; it cannot be started after that "
            "(withdraw it and request it again with new dates)",
            field="status",
        )
    return moves.transition_move(db, move_id, to, actor=policy.principal.actor, reason=reason)


def view(db: Database, policy: Policy, move_id: str) -> tuple[Move, bool, dict[str, str]]:
    """A move the user may see, whether they may read its review's confidential notes, and the names of its
    skills (for the CLI's ``moves show``; the web's move page is :func:`views.move_detail`)."""
    with UnitOfWork(db, write=False) as uow:
        move = load_visible_move(uow, policy, move_id)
        conn = uow.session.connection()
        # Labelled as the pages label them: "Mathematics (knowledge 2.C.4.a)" where two skills share a name.
        skills = skill_labels(conn, [g.skill_id for g in move.skill_gains] + list(move.skills_targeted))
    outcome = move.outcome
    reads_notes = (
        outcome is None or not outcome.confidential or policy.sees_confidential(move.person_id, outcome.reviewer_id)
    )
    return move, reads_notes, skills


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
        sees=policy.sees_move,  # a host manager's extension names none of the person's other moves
    )
