"""The move lifecycle: which status may follow which, and the guards on each step.

``proposed → requested → approved → onboarding → active → in_review → completed`` with the side exits
``declined``, ``withdrawn`` and ``reverted``. Side effects that need other aggregates (writing skills
back, restoring a role) live in the services; this module only decides whether a step is legal and
records it on the move.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from micromoves.domain.errors import IllegalTransition, MissingSuccessCriteria, UnratedCriteria
from micromoves.domain.model import Move, MoveStatus, StatusChange

S = MoveStatus

LEGAL_TRANSITIONS: Mapping[MoveStatus, frozenset[MoveStatus]] = {
    S.PROPOSED: frozenset({S.REQUESTED, S.DECLINED, S.WITHDRAWN}),
    S.REQUESTED: frozenset({S.APPROVED, S.DECLINED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.ONBOARDING, S.WITHDRAWN}),
    S.ONBOARDING: frozenset({S.ACTIVE, S.WITHDRAWN}),
    S.ACTIVE: frozenset({S.IN_REVIEW, S.REVERTED}),
    # A review may send the move back to active (decision continue/extend) or end the trial early.
    S.IN_REVIEW: frozenset({S.COMPLETED, S.ACTIVE, S.REVERTED}),
    # Only a move that was converted into a role can be reverted after completion (see guard below).
    S.COMPLETED: frozenset({S.REVERTED}),
    S.DECLINED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.REVERTED: frozenset(),
}

# Statuses in which a move holds (or held) part of the person's time: they count against capacity.
OCCUPYING_STATUSES: frozenset[MoveStatus] = frozenset(
    {S.APPROVED, S.ONBOARDING, S.ACTIVE, S.IN_REVIEW, S.COMPLETED, S.REVERTED}
)
# Statuses in which a move holds the person's time, or will once its request is approved: what eligibility
# for another move and the allocation count against a person's capacity (a reverted trial gave its time
# back; a request counts so that two accepted seats cannot promise the same time twice).
COMMITTED_STATUSES: frozenset[MoveStatus] = (OCCUPYING_STATUSES - {S.REVERTED}) | {S.REQUESTED}
# Statuses of a move that has started (a reverted trial had started too): it holds or held the person's
# time; before that (approved, onboarding) it is only promised.
STARTED_STATUSES: frozenset[MoveStatus] = frozenset({S.ACTIVE, S.IN_REVIEW, S.COMPLETED, S.REVERTED})
# Statuses of a move that never ran and never will: a request declined, or withdrawn before it started
# (withdrawing is a step before active only). It holds and held none of the person's time.
NEVER_RAN_STATUSES: frozenset[MoveStatus] = frozenset({S.DECLINED, S.WITHDRAWN})
# Statuses that are over: nothing more can happen to the move except the completed→reverted guard.
TERMINAL_STATUSES: frozenset[MoveStatus] = frozenset({S.DECLINED, S.WITHDRAWN, S.REVERTED})
# Statuses of a move that has ended or will never happen: it is no longer extended, and takes no handoff.
ENDED_STATUSES: frozenset[MoveStatus] = TERMINAL_STATUSES | {S.COMPLETED}


def allowed_next(status: MoveStatus) -> frozenset[MoveStatus]:
    return LEGAL_TRANSITIONS[status]


def _reachable(start: MoveStatus) -> frozenset[MoveStatus]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in LEGAL_TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return frozenset(seen)


# Every status a move can come to from each status by legal steps (itself included): an import may record
# several steps at once (requested → completed: the HRIS saw the move through), never a step back.
REACHABLE: Mapping[MoveStatus, frozenset[MoveStatus]] = {s: _reachable(s) for s in S}


def check_transition(move: Move, to: MoveStatus) -> None:
    """Raise a clear error if ``move`` may not go to ``to`` now."""
    if to not in LEGAL_TRANSITIONS[move.status]:
        allowed = ", ".join(sorted(LEGAL_TRANSITIONS[move.status])) or "none (final status)"
        raise IllegalTransition(
            f"move {move.id} cannot go from {move.status} to {to}; allowed next: {allowed}", field="status"
        )
    if to is S.APPROVED and not move.criteria:
        raise MissingSuccessCriteria(
            f"move {move.id} needs at least one success criterion before it can be approved",
            field="success_criteria",
        )
    if to is S.COMPLETED:
        unrated = [c.statement for c in move.criteria if c.rating is None]
        if unrated:
            raise UnratedCriteria(
                f"move {move.id} cannot be completed: {len(unrated)} success criteria are not rated "
                f"({'; '.join(unrated)})",
                field="success_criteria",
            )
    if move.status is S.COMPLETED and to is S.REVERTED and move.converted_assignment_id is None:
        raise IllegalTransition(
            f"move {move.id} is completed and was not converted into a role; there is nothing to revert",
            field="status",
        )


def transition(move: Move, to: MoveStatus, *, actor: str, at: dt.datetime, reason: str = "") -> StatusChange:
    """Move ``move`` to status ``to`` after checking the guards; returns the recorded step."""
    check_transition(move, to)
    change = StatusChange(move_id=move.id, from_status=move.status, to_status=to, actor=actor, at=at, reason=reason)
    move.status = to
    move.history.append(change)
    return change
