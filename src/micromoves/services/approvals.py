"""Approving a requested move: the two-person rule.

A requested move needs two approvals from two different people, neither of them the person on the move:

- the **manager** slot: someone in the person's management chain (usually the line manager);
- the **host** slot: the manager of the team hosting the move. When there is no host team, the host team
  has no manager, or its manager is the person on the move or already approved in the manager slot (a move
  hosted by one's own team), a second manager up the chain or HR for the person's org unit stands in.

Admins may fill either slot, but the two approvers still differ. A decline in either slot declines the move.
Two approvals of the same slot at once cannot both land: the slot is unique per move, and the loser gets
a conflict error.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, func, insert, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError

from micromoves.domain.errors import Conflict, DomainError, Forbidden, InvalidValue
from micromoves.domain.model import Move, MoveStatus
from micromoves.services import moves as move_service
from micromoves.services.accounts import Principal
from micromoves.services.policy import Policy, reports_of
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.uow import UnitOfWork, utcnow


class Slot(enum.StrEnum):
    MANAGER = "manager"
    HOST = "host"


class Verdict(enum.StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"


@dataclass(frozen=True)
class ApprovalRecord:
    slot: Slot
    approver_id: str | None
    approver_user_id: int | None
    decision: Verdict
    at: dt.datetime
    note: str


def host_manager(db: Database, host_team_id: str | None) -> str | None:
    if host_team_id is None:
        return None
    with db.engine.connect() as conn:
        return conn.scalar(select(t.team_managers.c.person_id).where(t.team_managers.c.team_id == host_team_id))


def host_managers(conn: Any, host_team_ids: list[str | None]) -> dict[str, str | None]:
    """The manager of each of these teams (None for a team without one), in one query."""
    wanted = sorted({x for x in host_team_ids if x})
    tm = t.team_managers.c
    found = dict(conn.execute(select(tm.team_id, tm.person_id).where(tm.team_id.in_(wanted))).all()) if wanted else {}
    return {team: found.get(team) for team in wanted}


def records_for(conn: Any, move_ids: list[str]) -> dict[str, list[ApprovalRecord]]:
    """The approval records of many moves in one query (a queue page), by move id."""
    a = t.move_approvals.c
    out: dict[str, list[ApprovalRecord]] = {m: [] for m in move_ids}
    if move_ids:
        for r in conn.execute(select(t.move_approvals).where(a.move_id.in_(move_ids)).order_by(a.id)):
            out[r.move_id].append(
                ApprovalRecord(Slot(r.slot), r.approver_id, r.approver_user_id, Verdict(r.decision), r.at, r.note)
            )
    return out


def records(db: Database, move_id: str) -> list[ApprovalRecord]:
    with db.engine.connect() as conn:
        return _records(conn, move_id)


def _records(conn: Any, move_id: str) -> list[ApprovalRecord]:
    a = t.move_approvals.c
    rows = conn.execute(select(t.move_approvals).where(a.move_id == move_id).order_by(a.id)).all()
    return [
        ApprovalRecord(Slot(r.slot), r.approver_id, r.approver_user_id, Verdict(r.decision), r.at, r.note) for r in rows
    ]


def _same_approver(principal: Principal, record: ApprovalRecord) -> bool:
    if principal.person_id is not None and record.approver_id == principal.person_id:
        return True
    if principal.person_id is None and not principal.user_id:
        # A command-line operator (no person, no account): operators are not told apart, so the second
        # approval after one of them must come from a person or an account.
        return record.approver_id is None and record.approver_user_id is None
    return bool(principal.user_id) and record.approver_user_id == principal.user_id


def host_absent(move: Move, host: str | None, done: list[ApprovalRecord]) -> str | None:
    """Why the host team's manager (``host``) cannot give the host approval, so that a manager up the chain or
    HR stands in; None when they can. The one statement of those cases, for :func:`open_slots`,
    :func:`waiting_for` and :func:`stand_in`."""
    if move.host_team_id is None:
        return "no host team"
    if host is None:
        return "the host team has no manager"
    if host == move.person_id:
        return "the host team's manager is the person on the move"
    manager_slot = next((r for r in done if r.slot is Slot.MANAGER), None)
    if manager_slot is not None and manager_slot.approver_id == host:
        return "the host team's manager already approved, as line manager"
    return None


def stand_in_manager(chain: Sequence[str], person_id: str, manager_approver: str | None) -> str | None:
    """The nearest manager in the person's management ``chain`` (nearest first, as
    :meth:`Policy.managers_of` lists it) who may stand in for the host team's manager when
    :func:`host_absent` says they cannot approve: neither the person nor the approver of the manager slot.
    None: nobody is left up the chain, so HR for the person's org unit stands in. (:func:`open_slots` lets
    any such manager approve; this is the first one to ask, as the demo records it.)"""
    return next((m for m in chain if m not in (person_id, manager_approver)), None)


def _host_of(policy: Policy, move: Move, hosts: dict[str, str | None] | None) -> str | None:
    """The manager of the move's host team, from ``hosts`` when the caller looked them up for a page."""
    if hosts is not None and (move.host_team_id is None or move.host_team_id in hosts):
        return hosts.get(move.host_team_id) if move.host_team_id else None
    return host_manager(policy.db, move.host_team_id)


def open_slots(
    policy: Policy, move: Move, done: list[ApprovalRecord], *, hosts: dict[str, str | None] | None = None
) -> list[Slot]:
    """The slots of ``move`` the principal may fill now, manager first. ``hosts``: the host teams' managers,
    when the caller has looked them up for many moves at once (see :func:`host_managers`)."""
    p = policy.principal
    if move.status is not MoveStatus.REQUESTED or policy.is_self(move.person_id):
        return []
    filled = {r.slot: r for r in done}
    if any(_same_approver(p, r) for r in done):
        return []  # the second approval must come from someone else
    slots = []
    if Slot.MANAGER not in filled:
        has_manager = bool(policy.managers_of(move.person_id))
        if p.is_admin or policy.manages(move.person_id) or (not has_manager and policy.hr_covers(move.person_id)):
            slots.append(Slot.MANAGER)
    if Slot.HOST not in filled:
        host = _host_of(policy, move, hosts)
        stands_in = host_absent(move, host, done) is not None
        if (
            p.is_admin
            or (host is not None and host == p.person_id)
            or (stands_in and (policy.manages(move.person_id) or policy.hr_covers(move.person_id)))
        ):
            slots.append(Slot.HOST)
    return slots


def decidable(policy: Policy) -> Select[Any] | None:
    """The requested moves with a slot the principal may fill now, as rows (id, start): :func:`open_slots`
    in SQL, so that the approvals queue is counted and cut into pages by the database (and its pages hold
    nothing :func:`open_slots` would not offer). None: nothing can be (not a manager, host or HR, nor admin).
    Change the two together: tests/web/test_paging.py compares them."""
    p = policy.principal
    c, a, pc, tm = t.moves.c, t.move_approvals.c, t.people.c, t.team_managers.c
    requested = c.status == MoveStatus.REQUESTED.value

    def recorded(*where: Any) -> Any:
        return exists().where(a.move_id == c.id, *where)

    if p.person_id is not None:  # as _same_approver
        same = a.approver_id == p.person_id
        if p.user_id:
            same = or_(same, a.approver_user_id == p.user_id)
    elif not p.user_id:
        same = and_(a.approver_id.is_(None), a.approver_user_id.is_(None))
    else:
        same = a.approver_user_id == p.user_id
    common = [requested, ~recorded(same)]
    if p.person_id is not None:
        common.append(c.person_id != p.person_id)  # nobody approves their own move
    manager_open = ~recorded(a.slot == Slot.MANAGER.value)
    host_open = ~recorded(a.slot == Slot.HOST.value)
    if p.is_admin:
        return select(c.id, c.start).where(*common, or_(manager_open, host_open))

    # Why the principal may see each request: one branch per reason, unioned (joining the reports CTE,
    # rather than testing "person_id IN (CTE) OR …" per row, lets PostgreSQL hash it once), with flags
    # for what the slots ask: manages the person, HR for their unit.
    def seen_as(managed: int, covered: int) -> Select[Any]:
        return select(c.id, literal(managed).label("managed"), literal(covered).label("covered"))

    branches = []
    if p.person_id is not None:
        below = reports_of(p.person_id)
        branches.append(seen_as(1, 0).join(below, below.c.id == c.person_id).where(requested))
        if policy.hosted_teams:
            branches.append(seen_as(0, 0).where(requested, c.host_team_id.in_(sorted(policy.hosted_teams))))
    if p.is_hr and policy.hr_units:
        people = select(pc.id).where(pc.team_id.in_(sorted(policy.hr_units)))
        branches.append(seen_as(0, 1).where(requested, c.person_id.in_(people)))
    if not branches:
        return None
    seen = union_all(*branches).subquery()
    why = (
        select(seen.c.id, func.max(seen.c.managed).label("managed"), func.max(seen.c.covered).label("covered"))
        .group_by(seen.c.id)
        .subquery()
    )
    managed, covered = why.c.managed == 1, why.c.covered == 1
    # host_absent: no host team, no manager of it, the person themself, or already approved as line manager
    host_absent_ = or_(
        c.host_team_id.is_(None),
        ~exists().where(tm.team_id == c.host_team_id),
        exists().where(tm.team_id == c.host_team_id, tm.person_id == c.person_id),
        recorded(a.slot == Slot.MANAGER.value, a.approver_id == tm.person_id, tm.team_id == c.host_team_id),
    )
    hosts = c.host_team_id.in_(sorted(policy.hosted_teams)) if policy.hosted_teams else literal(False)
    manager_slot = and_(manager_open, or_(managed, and_(pc.manager_id.is_(None), covered)))
    host_slot = and_(host_open, or_(hosts, and_(host_absent_, or_(managed, covered))))
    return (
        select(c.id, c.start)
        .select_from(t.moves.join(why, why.c.id == c.id).join(t.people, pc.id == c.person_id))
        .where(*common, or_(manager_slot, host_slot))
    )


def waiting_for(conn: Any, move: Move, done: list[ApprovalRecord]) -> list[tuple[Slot, str | None]]:
    """The approvals a requested move still waits for, as (slot, the person expected to give it): the line
    manager (None: the person has none, so HR of their unit decides) and the host team's manager (None: the
    team has none, it is the person themself, or the line manager already approved as that manager, so a
    manager further up or HR stands in). The rules are :func:`open_slots`'s, seen from the request's side."""
    if move.status is not MoveStatus.REQUESTED:
        return []
    filled = {r.slot: r for r in done}
    waiting: list[tuple[Slot, str | None]] = []
    if Slot.MANAGER not in filled:
        manager = conn.scalar(select(t.people.c.manager_id).where(t.people.c.id == move.person_id))
        waiting.append((Slot.MANAGER, manager))
    if Slot.HOST not in filled:
        host = host_managers(conn, [move.host_team_id]).get(move.host_team_id or "") if move.host_team_id else None
        waiting.append((Slot.HOST, None if host_absent(move, host, done) is not None else host))
    return waiting


def stand_in(
    policy: Policy, move: Move, slot: Slot, done: list[ApprovalRecord], *, hosts: dict[str, str | None] | None = None
) -> str | None:
    """Why the principal, filling ``slot`` of ``move`` (one of :func:`open_slots`), stands in for the approver
    the slot is for, in words for the approvals page ("standing in: …"); None when they are that approver
    (the line manager; the host team's manager). Only a stand-in for a missing host team was told so: a
    skip-level manager, HR or an admin filling the line manager's slot, or a manager standing in for a host
    team's manager who cannot approve, saw the slot's name as if it were theirs by right."""
    p = policy.principal
    if slot is Slot.MANAGER:
        chain = policy.managers_of(move.person_id)
        line = chain[0] if chain else None
        if line is not None and line == p.person_id:
            return None
        if line is None:
            return "no line manager"
        if any(r.slot is Slot.HOST and r.approver_id == line for r in done):
            return "the line manager already approved, as the host team's manager"
        if policy.manages(move.person_id):
            return "for the line manager, as a manager further up"
        return "as admin, for the line manager"  # open_slots gives this slot to nobody else
    host = _host_of(policy, move, hosts)
    if host is not None and host == p.person_id:
        return None
    return host_absent(move, host, done) or "as admin, for the host team's manager"


def decide(db: Database, policy: Policy, move_id: str, *, verdict: Verdict | str, note: str = "") -> Move:
    """Record the principal's approval or decline of a requested move; the second approval approves it."""
    try:
        verdict = Verdict(verdict)
    except ValueError:
        raise InvalidValue("decision must be 'approved' or 'declined'", field="decision") from None
    p = policy.principal
    # Decide who may act before taking the write lock: a refusal writes its own audit record.
    with UnitOfWork(db, write=False) as ro:
        found = ro.moves.find(move_id)
        move = ro.moves.get_full(move_id) if found is not None else None
    done = records(db, move_id)
    visible = move is not None and (
        policy.sees_move(move.person_id, move.host_team_id) or bool(open_slots(policy, move, done))
    )
    policy.require(visible, visible=False, action="approve", entity_type="move", entity_id=move_id)
    assert move is not None
    if policy.is_self(move.person_id):
        policy.deny(
            "approve", "move", move_id, visible=True, message="nobody approves their own move; your managers do"
        )
    if move.status is not MoveStatus.REQUESTED:
        raise Conflict(f"move {move_id} is {move.status}, not awaiting approval", field="status")
    slots = open_slots(policy, move, done)
    if not slots:
        if any(_same_approver(p, r) for r in done):
            raise Forbidden("you already decided on this move; a second person must approve it")
        policy.deny("approve", "move", move_id, visible=True)
    with UnitOfWork(db) as uow:
        move, person = move_service.locked_move(uow, move_id)
        # Re-read under the lock: another approver may have acted since the checks above.
        done = _records(uow.session.connection(), move_id)
        if move.status is not MoveStatus.REQUESTED or slots[0] in {r.slot for r in done}:
            raise Conflict(f"move {move_id} was decided by someone else just now; reload it", field="status")
        if any(_same_approver(p, r) for r in done):
            raise Forbidden("you already decided on this move; a second person must approve it")
        slot = slots[0]
        last = len(done) + 1 == len(Slot)
        if verdict is Verdict.APPROVED:
            # The first approval too (the last one's transition to approved checks it again below): a first
            # approval of a move that does not fit only left the second approver a button that fails. Its
            # error names only the person's moves the approver may see (a host manager sees one of them).
            move_service.check_hired(person, move)
            move_service.check_fits(uow, person, move, sees=policy.sees_move)
        try:
            uow.session.execute(
                insert(t.move_approvals).values(
                    move_id=move_id,
                    slot=slot.value,
                    approver_id=p.person_id,
                    approver_user_id=p.user_id or None,  # 0: the command line, no account
                    decision=verdict.value,
                    at=utcnow(),
                    note=note.strip(),
                )
            )
            uow.session.flush()
        except IntegrityError:
            raise Conflict(
                f"the {slot} approval of move {move_id} was just given by someone else", field="status"
            ) from None
        uow.audit(p.actor, f"move.approval_{verdict.value}", "move", move_id, slot=slot.value, note=note.strip())
        if slot is Slot.MANAGER and verdict is Verdict.APPROVED and p.person_id is not None:
            # Whoever gives the release is the manager the ledger credits (a stand-in, HR, not always
            # the line manager recorded when the move was proposed).
            move.released_by_id = p.person_id
        if verdict is Verdict.DECLINED:
            move_service.apply_transition(
                uow,
                person,
                move,
                MoveStatus.DECLINED,
                actor=p.actor,
                reason=f"declined ({slot}): {note.strip()}" if note.strip() else f"declined ({slot})",
            )
        elif last:
            move_service.apply_transition(
                uow, person, move, MoveStatus.APPROVED, actor=p.actor, reason="approved by two approvers"
            )
        try:
            uow.commit()
        except IntegrityError:
            raise Conflict(
                f"the {slot} approval of move {move_id} was just given by someone else", field="status"
            ) from None
        return move


def needs_me(db: Database, policy: Policy, move: Move) -> bool:
    try:
        return bool(open_slots(policy, move, records(db, move.id)))
    except DomainError:
        return False
