"""Acting roles and responsibility handoffs: whose responsibilities go to whom, until when, and who
backfills — recorded on the move that carries them (by whoever runs it), corrected while it has not ended,
ended when the move ends. The holder is of the team whose responsibilities they are (the host team), the
backfill of the person's own team (see ``_checked``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
    """Attach a handoff to an acting-role, handoff or temporary-lead move (its managers, host, HR): see
    :func:`_checked` for the rules. One per move: a mistake is corrected with :func:`correct_handoff`."""
    move = _move_to_hand_over(db, policy, move_id, "record a handoff on")
    with db.write_engine.begin() as conn:
        # Read again under the lock, as a correction does: a move that ended since the check above has
        # returned its handoffs already, and one written now would stay active for good.
        status = _status_for_update(conn, move_id, move.person_id)
        fields = _checked(conn, policy, move, holder_id, responsibilities, return_on, backfill_id)
        if conn.scalar(select(t.handoffs.c.id).where(t.handoffs.c.move_id == move_id)) is not None:
            raise Conflict(f"move {move_id} already has a handoff: correct that one instead", field="move_id")
        handoff_id = conn.execute(
            insert(t.handoffs)
            .values(
                move_id=move_id,
                receiver_id=move.person_id,
                start=move.start,
                status="active" if status in RUNNING else "planned",
                **fields,
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
            return_on=fields["return_on"],
        )
    return int(handoff_id)


def correct_handoff(
    db: Database,
    policy: Policy,
    move_id: str,
    *,
    holder_id: str,
    responsibilities: str,
    return_on: dt.date | None = None,
    backfill_id: str | None = None,
) -> bool:
    """Replace what a move's handoff says (holder, responsibilities, return date, backfill: all of it, as
    when it was recorded; no return date is the move's end, no backfill none) under the same rules, by the
    same people, while the move has not ended. A typo was permanent: a second record is refused, and there
    was nothing else. Audited with what it said before; True if anything changed."""
    move = _move_to_hand_over(db, policy, move_id, "correct the handoff of")
    c = t.handoffs.c
    with db.write_engine.begin() as conn:
        # Read again under the lock: a move completed or withdrawn since the check above has returned or
        # cancelled its handoff, which a correction must not rewrite.
        _status_for_update(conn, move_id, move.person_id)
        fields = _checked(conn, policy, move, holder_id, responsibilities, return_on, backfill_id)
        old = conn.execute(select(t.handoffs).where(c.move_id == move_id).with_for_update()).first()
        if old is None:
            raise Conflict(f"move {move_id} has no handoff to correct: record one", field="move_id")
        changed = {k: v for k, v in fields.items() if getattr(old, k) != v}
        if not changed:
            return False
        conn.execute(update(t.handoffs).where(c.id == old.id).values(**changed))
        record_audit(
            conn,
            policy.principal.actor,
            "handoff.corrected",
            "move",
            move_id,
            **{k: {"from": getattr(old, k), "to": v} for k, v in changed.items()},
        )
    return True


def _status_for_update(conn: Connection, move_id: str, person_id: str) -> MoveStatus:
    """The move's status under its row lock, refused once the move has ended (or never will run).

    The person's row is locked first, as every change to a person's moves locks it before writing the move
    (moves.locked_move): with the move's row taken first, a status change holding the person and waiting for
    the move deadlocked with the handoff's insert, whose foreign key to the person waits for that person
    (PostgreSQL)."""
    conn.execute(select(t.people.c.id).where(t.people.c.id == person_id).with_for_update())
    status = MoveStatus(
        conn.execute(select(t.moves.c.status).where(t.moves.c.id == move_id).with_for_update()).scalar_one()
    )
    _refuse_ended(move_id, status)
    return status


def _refuse_ended(move_id: str, status: MoveStatus) -> None:
    if status in ENDED_STATUSES:
        raise Conflict(
            f"move {move_id} is {status}: a handoff is for a move still to come or under way", field="status"
        )


def _move_to_hand_over(db: Database, policy: Policy, move_id: str, action: str) -> Any:
    """The move, if the caller runs it (404 unseen, 403 seen), it is still to come or under way, and its kind
    carries a handoff."""
    policy.require_scope(Scope.WRITE)
    with db.engine.connect() as conn:
        move = conn.execute(select(t.moves).where(t.moves.c.id == move_id)).first()
    visible = move is not None and policy.sees_move(move.person_id, move.host_team_id)
    policy.require(visible, visible=False, action=action, entity_type="move", entity_id=move_id)
    assert move is not None
    policy.require(
        policy.runs_move(move.person_id, move.host_team_id),
        visible=True,
        action=action,
        entity_type="move",
        entity_id=move_id,
    )
    _refuse_ended(move_id, MoveStatus(move.status))
    if MoveKind(move.kind) not in KINDS_WITH_HANDOFF:
        raise InvalidValue(
            f"a {move.kind} move carries no handoff; acting roles, handoffs and temporary leads do", field="kind"
        )
    return move


def _checked(
    conn: Connection,
    policy: Policy,
    move: Any,
    holder_id: str,
    responsibilities: str,
    return_on: dt.date | None,
    backfill_id: str | None,
) -> dict[str, Any]:
    """The handoff's fields, checked. A handoff has two sides, as the move does:

    - the **holder** hands responsibilities over and takes them back: someone of the team whose
      responsibilities they are, the host team (a member, or its manager); for a move without a host team, or
      hosted by the person's own team, the person's own side;
    - the **backfill** covers the receiver's own work meanwhile: someone of the person's own side (a member of
      their team, its manager, or their line manager).

    Neither is the person on the move, and they are two people: the holder hands their responsibilities over
    to be free of them, so covering the receiver's work as well is no handoff ("Amara takes them back …
    Amara backfills Ibrahim's own work"). Someone the caller may not see and of neither side is an unknown
    person, as one who does not exist: the handoff shows their name."""
    if not responsibilities.strip():
        raise InvalidValue("say which responsibilities are handed over", field="responsibilities")
    return_on = return_on or move.end
    if not move.start <= return_on <= move.end + dt.timedelta(days=31):
        raise InvalidValue(
            f"the return date {return_on} must fall between {move.start} and a month after {move.end}",
            field="return_on",
        )
    if move.person_id in (holder_id, backfill_id):
        raise InvalidValue(
            "the person on the move cannot hand over to, or backfill, themself",
            field="holder_id" if holder_id == move.person_id else "backfill_id",
        )
    if holder_id == backfill_id:
        raise InvalidValue(
            "the holder hands their responsibilities over and cannot also backfill the person's own work: "
            "name someone of the person's own team as the backfill, or none",
            field="backfill_id",
        )
    p, tm = t.people.c, t.team_managers.c
    home_team, line_manager = conn.execute(select(p.team_id, p.manager_id).where(p.id == move.person_id)).one()

    def side(team: str | None) -> set[str]:
        """The people of a team's side: its members and its managers."""
        if team is None:
            return set()
        members = conn.scalars(select(p.id).where(p.team_id == team, p.id.in_([holder_id, backfill_id or ""])))
        return {*members, *conn.scalars(select(tm.person_id).where(tm.team_id == team))}

    home = side(home_team) | ({line_manager} if line_manager else set())
    at_home = move.host_team_id is None or move.host_team_id == home_team
    host = home if at_home else side(move.host_team_id)
    host_words = "the person's own team (the move has no other host)" if at_home else "the host team"
    for field, pid, allowed, words in (
        ("holder_id", holder_id, host, host_words),
        ("backfill_id", backfill_id, home, "the person's own team"),
    ):
        if pid is None or pid in allowed:
            continue
        # Naming a person of the move's other side, or one the caller sees, is a mistake they can read; any
        # other id gets the answer of an id that does not exist (else any id would read out a name).
        known = conn.scalar(select(p.id).where(p.id == pid)) is not None
        if known and (pid in home | host or policy.sees_person(pid)):
            role = "whose responsibilities are handed over" if field == "holder_id" else "who backfills"
            raise InvalidValue(f"{pid} is not of {words}, {role}", field=field)
        raise InvalidValue(f"unknown person {pid!r}", field=field)
    return {
        "holder_id": holder_id,
        "responsibilities": responsibilities.strip(),
        "return_on": return_on,
        "backfill_id": backfill_id,
    }


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
