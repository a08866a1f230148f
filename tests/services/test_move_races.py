"""A change to a move reads the move after taking its person's row lock (PostgreSQL).

Every change to a person's moves locks the person's row first, so that they serialise. A use case that read
the move before waiting for that lock acted on what the move was before the change it waited for: an
onboarding move withdrawn meanwhile was started (and stored as active), a move completed meanwhile was
extended. Each test holds the lock in another transaction, changes the move there while the use case waits,
then lets it go: the use case must see the change. (SQLite takes its write lock before the first read.)
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Connection, select, text

from micromoves.domain.errors import Conflict, IllegalTransition
from micromoves.domain.model import MoveStatus, Rating
from micromoves.services import approvals, handoffs
from micromoves.services import moves as svc
from micromoves.services.accounts import Access, Principal
from micromoves.services.policy import Policy
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_moves import D, org_db, propose, run_to

S = MoveStatus


__all__ = ["org_db"]  # the organisation of the tracker's tests


@pytest.fixture
def pg(org_db: Database) -> Iterator[Database]:
    if org_db.backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite writers take the write lock before reading")
    yield org_db


def _waiting_for_a_lock(db: Database) -> bool:
    with db.engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
        )


def _set_status(move_id: str, status: MoveStatus) -> Callable[[Connection], None]:
    def change(conn: Connection) -> None:
        conn.execute(t.moves.update().where(t.moves.c.id == move_id).values(status=status))

    return change


def while_locked(
    db: Database, change: Callable[[Connection], None], action: Callable[[], Any], *, lock_person: bool = True
) -> Any:
    """Run ``action`` while another transaction holds EMP's row lock (``lock_person``; else the lock ``change``
    takes); once ``action`` waits for it, that transaction makes ``change`` and commits. ``action``'s result,
    or its error raised. On SQLite the other transaction holds the write lock, and ``action`` is given a
    moment to reach it."""
    with db.write_engine.connect() as conn:
        tx = conn.begin()
        if lock_person:
            conn.execute(select(t.people.c.id).where(t.people.c.id == "EMP").with_for_update())
        else:
            change(conn)
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(action)
            if db.backend == "sqlite":
                time.sleep(0.5)
            deadline = time.monotonic() + 20
            while db.backend != "sqlite" and not _waiting_for_a_lock(db):
                assert time.monotonic() < deadline, "the use case never waited for the lock"
                assert not future.done(), future.result()
                time.sleep(0.02)
            if lock_person:
                change(conn)
            tx.commit()
            return future.result(timeout=30)


def _status(db: Database, move_id: str) -> str:
    with db.engine.connect() as conn:
        return str(conn.scalar(select(t.moves.c.status).where(t.moves.c.id == move_id)).value)


def test_a_move_withdrawn_while_it_was_being_started_is_not_started(pg: Database) -> None:
    org_db = pg
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING)
    with pytest.raises(IllegalTransition, match="from withdrawn"):
        while_locked(
            org_db,
            _set_status(mid, S.WITHDRAWN),
            lambda: svc.transition_move(org_db, mid, S.ACTIVE, actor="MGR", on=D(2026, 1, 5)),
        )
    assert _status(org_db, mid) == "withdrawn"


def test_a_move_reverted_while_it_was_being_reviewed_is_not_reviewed(pg: Database) -> None:
    org_db = pg
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    ratings = [svc.CriterionRating(1, Rating.MET), svc.CriterionRating(2, Rating.MET)]
    with pytest.raises(Conflict, match="is reverted"):
        while_locked(
            org_db,
            _set_status(mid, S.REVERTED),
            lambda: svc.review_move(org_db, mid, reviewer_id="MGR", decision="end", ratings=ratings),
        )
    assert _status(org_db, mid) == "reverted"


def test_a_move_completed_while_it_was_being_extended_is_not_extended(pg: Database) -> None:
    org_db = pg
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    with pytest.raises(Conflict, match="completed and cannot be extended"):
        while_locked(
            org_db,
            _set_status(mid, S.COMPLETED),
            lambda: svc.extend_move(org_db, mid, D(2026, 4, 24), actor="MGR"),
        )
    assert svc.get_move(org_db, mid).end == D(2026, 3, 27)


def test_no_criterion_is_added_to_a_move_approved_meanwhile(pg: Database) -> None:
    org_db = pg
    mid = propose(org_db)
    run_to(org_db, mid, S.REQUESTED)
    with pytest.raises(Conflict, match="fixed once it is approved"):
        while_locked(
            org_db,
            _set_status(mid, S.APPROVED),
            lambda: svc.add_criteria(org_db, mid, ["One more"], actor="EMP"),
        )
    assert len(svc.get_move(org_db, mid).criteria) == 2


def test_a_request_withdrawn_while_it_was_being_approved_is_not_approved(pg: Database) -> None:
    org_db = pg
    mid = propose(org_db, start=dt.date.today() + dt.timedelta(days=7), end=dt.date.today() + dt.timedelta(days=60))
    run_to(org_db, mid, S.REQUESTED)
    operator = Policy(org_db, Principal(0, "cli", Access.ADMIN, None))
    approvals.decide(org_db, operator, mid, verdict="approved")  # one slot: the second approval approves
    manager = Policy(org_db, Principal(0, "mgr", Access.EMPLOYEE, "MGR"))
    with pytest.raises(Conflict, match="reload it"):
        while_locked(
            org_db,
            _set_status(mid, S.WITHDRAWN),
            lambda: approvals.decide(org_db, manager, mid, verdict="approved"),
        )
    assert _status(org_db, mid) == "withdrawn"


def test_no_handoff_is_recorded_on_a_move_that_ended_meanwhile(org_db: Database) -> None:
    """record_handoff checked the move's status before its transaction, and wrote the handoff (active) on a
    move completed since: the move's end had returned its handoffs already, so this one stayed active for
    good. It reads the status again under the move's lock, as correct_handoff does."""
    mid = propose(org_db, kind="acting_role", percent_time=100)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    admin = Policy(org_db, Principal(0, "admin", Access.ADMIN, None))
    with pytest.raises(Conflict, match="is completed"):
        while_locked(
            org_db,
            _set_status(mid, S.COMPLETED),
            lambda: handoffs.record_handoff(org_db, admin, mid, holder_id="MGR", responsibilities="The team"),
            lock_person=False,
        )
    assert handoffs.handoff_for_move(org_db, mid) is None


def test_a_handoff_recorded_while_the_move_changes_waits_for_the_person_and_does_not_deadlock(pg: Database) -> None:
    """Every change to a move locks its person's row, then writes the move. record_handoff locked the move's
    row first, then its insert (whose foreign key names the person) waited for the person: the change, holding
    the person and waiting for the move, deadlocked with it (PostgreSQL aborted one of the two). It now takes
    the person's row first, waits for the change, and records the handoff on the move as the change left it."""
    org_db = pg
    mid = propose(org_db, kind="acting_role", percent_time=100)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED)
    admin = Policy(org_db, Principal(0, "admin", Access.ADMIN, None))
    handoff_id = while_locked(  # the change: EMP's row locked, then the move started (onboarding)
        org_db,
        _set_status(mid, S.ONBOARDING),
        lambda: handoffs.record_handoff(org_db, admin, mid, holder_id="MGR", responsibilities="The team"),
    )
    recorded = handoffs.handoff_for_move(org_db, mid)
    assert recorded is not None and recorded.id == handoff_id and recorded.status == "active"  # onboarding: runs


def test_plan_alls_store_does_not_deadlock_with_a_change_naming_a_person_it_locks(pg: Database) -> None:
    """plan-all's store locks the people it stores plans for, in id order, so that a target set meanwhile
    waits (and is not stored over). With FOR UPDATE it also conflicted with the foreign-key checks of rows
    naming a locked person: a change holding MGR (as an approval of MGR's move does) and then writing a row
    naming EMP (an approver, a manager) deadlocked with a store holding EMP and waiting for MGR, and PostgreSQL
    aborted one of them: minutes of plan-all's search lost. FOR NO KEY UPDATE leaves foreign-key checks be."""
    from micromoves.services import planning

    records = [{"person_id": "EMP", "target_role_id": "SWE3"}, {"person_id": "MGR", "target_role_id": None}]
    with org_db_write(pg) as conn:
        conn.execute(select(t.people.c.id).where(t.people.c.id == "MGR").with_for_update())
        with ThreadPoolExecutor(1) as pool:

            def store() -> dict[str, str]:
                with pg.write_engine.begin() as c:
                    return planning.changed_while_planning(c, records, {}, during="plan-all ran")

            future = pool.submit(store)
            deadline = time.monotonic() + 20
            while not _waiting_for_a_lock(pg):  # the store holds EMP and waits for MGR
                assert time.monotonic() < deadline and not future.done(), future
                time.sleep(0.02)
            # A row naming EMP: its foreign-key check takes EMP's row in key-share mode.
            conn.execute(t.people.update().where(t.people.c.id == "MGR").values(manager_id="EMP"))
            conn.commit()
        assert isinstance(future.result(timeout=30), dict)


def org_db_write(db: Database) -> Any:
    """A connection with a transaction begun (committed by the caller, else rolled back)."""
    conn = db.write_engine.connect()
    conn.begin()
    return conn
