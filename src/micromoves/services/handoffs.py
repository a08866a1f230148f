"""Acting roles and responsibility handoffs: whose responsibilities go to whom, until when, and who
backfills — recorded on the move that carries them, ended when the move ends."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import Connection, insert, select, update

from micromoves.domain.errors import Conflict, InvalidValue
from micromoves.domain.lifecycle import ENDED_STATUSES
from micromoves.domain.marketplace import KINDS_WITH_HANDOFF
from micromoves.domain.model import MoveKind, MoveStatus
from micromoves.services.accounts import Scope
from micromoves.services.policy import Policy
from micromoves.services.views import PersonRef
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.uow import record_audit

RUNNING = frozenset({MoveStatus.ONBOARDING, MoveStatus.ACTIVE, MoveStatus.IN_REVIEW})


class HandoffView(BaseModel):
    id: int
    move_id: str
    holder: PersonRef  # whose responsibilities are handed over (and who gets them back)
    receiver: PersonRef  # the person on the move
    responsibilities: str
    start: dt.date
    return_on: dt.date  # when the holder takes the responsibilities back
    backfill: PersonRef | None  # who covers the receiver's own work meanwhile
    status: str  # planned / active / returned / cancelled (the move ended before it was handed over)
    returned_on: dt.date | None


def record_handoff(
    db: Database,
    policy: Policy,
    move_id: str,
    *,
    holder_id: str,
    responsibilities: str,
    return_on: dt.date | None = None,
    backfill_id: str | None = None,
) -> int:
    """Attach a handoff to an acting-role, handoff or temporary-lead move (its managers, host, HR)."""
    policy.require_scope(Scope.WRITE)
    with db.engine.connect() as conn:
        move = conn.execute(select(t.moves).where(t.moves.c.id == move_id)).first()
    visible = move is not None and policy.sees_move(move.person_id, move.host_team_id)
    policy.require(visible, visible=False, action="record a handoff on", entity_type="move", entity_id=move_id)
    assert move is not None
    policy.require(
        policy.runs_move(move.person_id, move.host_team_id),
        visible=True,
        action="record a handoff on",
        entity_type="move",
        entity_id=move_id,
    )
    if MoveStatus(move.status) in ENDED_STATUSES:
        raise Conflict(f"move {move_id} is {move.status}: a handoff is for a move still to come or under way")
    if MoveKind(move.kind) not in KINDS_WITH_HANDOFF:
        raise InvalidValue(
            f"a {move.kind} move carries no handoff; acting roles, handoffs and temporary leads do", field="kind"
        )
    if not responsibilities.strip():
        raise InvalidValue("say which responsibilities are handed over", field="responsibilities")
    return_on = return_on or move.end
    if not move.start <= return_on <= move.end + dt.timedelta(days=31):
        raise InvalidValue(
            f"the return date {return_on} must fall between {move.start} and a month after {move.end}",
            field="return_on",
        )
    with db.write_engine.begin() as conn:
        # The move's two teams: the host team (whose responsibilities are handed over) and the person's
        # own (whose work a backfill covers). Whoever runs the move may name their members.
        teams = {move.host_team_id, conn.scalar(select(t.people.c.team_id).where(t.people.c.id == move.person_id))}
        for field, pid in (("holder_id", holder_id), ("backfill_id", backfill_id)):
            if pid is None:
                continue
            # Else only someone the caller may see: the handoff shows the holder's and the backfill's names,
            # so any id would read out any person's name (and which ids exist). Both get the same answer.
            team = conn.execute(select(t.people.c.team_id).where(t.people.c.id == pid)).first()
            if team is None or not (team.team_id in teams - {None} or policy.sees_person(pid)):
                raise InvalidValue(f"unknown person {pid!r}", field=field)
        if holder_id == move.person_id or backfill_id == move.person_id:
            raise InvalidValue("the person on the move cannot hand over to, or backfill, themself", field="holder_id")
        if conn.scalar(select(t.handoffs.c.id).where(t.handoffs.c.move_id == move_id)) is not None:
            raise Conflict(f"move {move_id} already has a handoff", field="move_id")
        handoff_id = conn.execute(
            insert(t.handoffs)
            .values(
                move_id=move_id,
                holder_id=holder_id,
                receiver_id=move.person_id,
                responsibilities=responsibilities.strip(),
                start=move.start,
                return_on=return_on,
                backfill_id=backfill_id,
                status="active" if MoveStatus(move.status) in RUNNING else "planned",
            )
            .returning(t.handoffs.c.id)
        ).scalar_one()
        record_audit(
            conn,
            policy.principal.actor,
            "handoff.recorded",
            "move",
            move_id,
            holder=holder_id,
            backfill=backfill_id,
            return_on=return_on,
        )
    return int(handoff_id)


def handoff_for_move(db: Database, move_id: str) -> HandoffView | None:
    """The move's handoff; callers have checked the user may see the move."""
    with db.engine.connect() as conn:
        h = conn.execute(select(t.handoffs).where(t.handoffs.c.move_id == move_id)).first()
        if h is None:
            return None
        ids = sorted({h.holder_id, h.receiver_id, *([h.backfill_id] if h.backfill_id else [])})
        names = dict(conn.execute(select(t.people.c.id, t.people.c.name).where(t.people.c.id.in_(ids))).all())

    def ref(pid: str) -> PersonRef:
        return PersonRef(id=pid, name=names.get(pid, pid))

    return HandoffView(
        id=h.id,
        move_id=h.move_id,
        holder=ref(h.holder_id),
        receiver=ref(h.receiver_id),
        responsibilities=h.responsibilities,
        start=h.start,
        return_on=h.return_on,
        backfill=ref(h.backfill_id) if h.backfill_id else None,
        status=h.status,
        returned_on=h.returned_on,
    )


def sync_with_move(conn: Connection, move_id: str, status: MoveStatus, on: dt.date) -> None:
    """Keep a move's handoff in step with it: active while it runs, returned when it ends (cancelled when
    it ends before it ran)."""
    c = t.handoffs.c
    if status in RUNNING:
        conn.execute(update(t.handoffs).where(c.move_id == move_id, c.status == "planned").values(status="active"))
    elif status in ENDED_STATUSES:
        # The move ended, or will never happen (withdrawn, or declined by its approvers): the holder has
        # their responsibilities back from that day. One that was never handed over (still planned) is
        # cancelled: it said "returned" on a day before the move would have started.
        never_ran = status in (MoveStatus.WITHDRAWN, MoveStatus.DECLINED)
        if never_ran:
            conn.execute(
                update(t.handoffs).where(c.move_id == move_id, c.status == "planned").values(status="cancelled")
            )
        # (an import may take a planned handoff's move straight to completed or reverted: it ran, so returned)
        conn.execute(
            update(t.handoffs)
            .where(c.move_id == move_id, c.status.in_(("active",) if never_ran else ("active", "planned")))
            .values(status="returned", returned_on=on)
        )


def follow_extension(conn: Connection, move_id: str, old_end: dt.date, new_end: dt.date) -> None:
    """An extended move keeps its holder's responsibilities as much longer: a return date on or after the
    old end moves by the extension (one agreed before the end, the holder back early, stays)."""
    c = t.handoffs.c
    for hid, return_on in conn.execute(select(c.id, c.return_on).where(c.move_id == move_id, c.return_on >= old_end)):
        conn.execute(update(t.handoffs).where(c.id == hid).values(return_on=return_on + (new_end - old_end)))
