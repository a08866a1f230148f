"""Unit of work: one transaction, its repositories and its audit trail.

Everything a use case changes — including the audit events that describe the change — commits together
or not at all. Leaving the ``with`` block without ``commit()`` rolls back.
"""

from __future__ import annotations

import datetime as dt
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from micromoves.domain.model import AuditEvent
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.repositories import (
    AuditRepository,
    MoveRepository,
    PersonRepository,
    RoleRepository,
    SkillRepository,
    TeamRepository,
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UnitOfWork:
    def __init__(self, db: Database, *, write: bool = True) -> None:
        self.db = db
        self.write = write

    def __enter__(self) -> UnitOfWork:
        bind = self.db.write_engine if self.write else self.db.engine
        self.session = Session(bind=bind, expire_on_commit=False, autoflush=True)
        self.people = PersonRepository(self.session)
        self.teams = TeamRepository(self.session)
        self.roles = RoleRepository(self.session)
        self.skills = SkillRepository(self.session)
        self.moves = MoveRepository(self.session)
        self.audit_log = AuditRepository(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() ends any open transaction with a rollback, without expiring loaded objects (rollback()
        # would), so a read-only use case can hand fully loaded, detached objects back to its caller.
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def audit(self, actor: str, action: str, entity_type: str, entity_id: str, **details: Any) -> AuditEvent:
        """Record who changed what, in the same transaction as the change itself."""
        return self.audit_log.add(
            AuditEvent(
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                at=utcnow(),
                details=_jsonable(details),
            )
        )


def record_audit(conn: Connection, actor: str, action: str, entity_type: str, entity_id: str, **details: Any) -> None:
    """The audit record for a change made with a Core connection, in the connection's transaction (what
    ``UnitOfWork.audit`` is for use cases that work through the session)."""
    conn.execute(
        insert(t.audit_events).values(
            at=utcnow(),
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id)[:300],
            details=_jsonable(details),
        )
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
