"""Imperative mapping of the domain dataclasses onto the tables (cosmicpython's "classical mapping").

The domain never imports SQLAlchemy; this module teaches SQLAlchemy about the domain instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session, column_property, registry, relationship

from micromoves.domain import model
from micromoves.storage import changes
from micromoves.storage import tables as t

mapper_registry = registry(metadata=t.metadata)
_mapped = False


def start_mappers() -> None:
    """Map once per process (idempotent)."""
    global _mapped
    if _mapped:
        return
    m = mapper_registry.map_imperatively
    # ``extra`` (an import's columns beyond the format) stays out of the domain objects: only the import and
    # the export read it, and an object printed or serialised whole must not carry an HRIS's pay grade.
    hidden = {"exclude_properties": ["extra"]}
    m(model.Team, t.teams)
    m(model.Role, t.roles, **hidden)
    m(model.Skill, t.skills)
    m(model.RoleSkill, t.role_skills)
    m(model.Person, t.people, **hidden)
    m(model.SkillLevel, t.skill_levels)
    m(model.RoleAssignment, t.role_assignments)
    m(model.AuditEvent, t.audit_events)
    m(model.Availability, t.availability)
    m(model.MoveTemplate, t.move_templates)
    m(model.Plan, t.plans)
    criterion = m(model.SuccessCriterion, t.success_criteria)
    check_in = m(model.CheckIn, t.check_ins)
    gain = m(model.SkillGain, t.skill_gains)
    change = m(model.StatusChange, t.status_changes)
    extension = m(model.Extension, t.extensions)
    outcome = m(model.Outcome, t.outcomes)
    m(
        model.Move,
        t.moves,
        **hidden,
        properties={
            # The old person of a reassigned move must be known to stamp them (see _touch_parents): a column's
            # history keeps its old value only if it was loaded, which an expired object's was not.
            "person_id": column_property(t.moves.c.person_id, active_history=True),
            "criteria": relationship(criterion, order_by=t.success_criteria.c.position, cascade="all, delete-orphan"),
            "check_ins": relationship(
                check_in, order_by=(t.check_ins.c.on, t.check_ins.c.id), cascade="all, delete-orphan"
            ),
            "skill_gains": relationship(gain, order_by=t.skill_gains.c.id, cascade="all, delete-orphan"),
            "history": relationship(
                change, order_by=(t.status_changes.c.at, t.status_changes.c.id), cascade="all, delete-orphan"
            ),
            "extensions": relationship(extension, order_by=t.extensions.c.id, cascade="all, delete-orphan"),
            "outcome": relationship(outcome, uselist=False, cascade="all, delete-orphan"),
        },
    )
    event.listen(Session, "after_flush", _touch_parents)
    _mapped = True


# A change to what belongs to a move or a person changes the move or the person for an integration that
# pulls what changed (``updated_at``, see storage.tables._updated_at): a criterion rated, a check-in, a
# review, skills written back. The parent's own row may not be written at all (onupdate then never runs).
_PARENT_OF: dict[type, tuple[Any, str]] = {
    model.SuccessCriterion: (t.moves, "move_id"),
    model.CheckIn: (t.moves, "move_id"),
    model.SkillGain: (t.moves, "move_id"),
    model.StatusChange: (t.moves, "move_id"),
    model.Extension: (t.moves, "move_id"),
    model.Outcome: (t.moves, "move_id"),
    model.SkillLevel: (t.people, "person_id"),
    model.RoleAssignment: (t.people, "person_id"),
    model.Availability: (t.people, "person_id"),
}


# A rename changes what shows the name (storage.changes.stamp_renamed): the attribute renamed, per class.
_NAMES = {model.Team: ("name", "teams"), model.Role: ("title", "roles"), model.Person: ("name", "people")}


def _touch_parents(session: Session, flush_context: Any) -> None:
    # After the flush: a new child's foreign key is only filled in by the flush (it was appended to the
    # parent's collection). new/dirty/deleted, and the attributes' history, still show what this flush wrote.
    touched: dict[Any, set[str]] = {}
    renamed: dict[str, set[str]] = {"teams": set(), "roles": set(), "people": set()}
    dirty = session.dirty  # computed on each access
    for obj in (*session.new, *dirty, *session.deleted):
        changed = obj in dirty
        if changed and not session.is_modified(obj):
            continue
        if changed and type(obj) in _NAMES:
            attribute, kind = _NAMES[type(obj)]
            if inspect(obj).attrs[attribute].history.has_changes():
                renamed[kind].add(obj.id)
        if changed and isinstance(obj, model.Move):
            # A move given to another person changes both people: each one's moves changed.
            history = inspect(obj).attrs.person_id.history
            if history.has_changes():
                touched.setdefault(t.people, set()).update(p for p in (*history.added, *history.deleted) if p)
        parent = _PARENT_OF.get(type(obj))
        if parent is None:
            continue
        table, column = parent
        key = getattr(obj, column, None)
        if key is not None:
            touched.setdefault(table, set()).add(key)
    now = dt.datetime.now(dt.UTC)
    conn = session.connection()
    for table, ids in touched.items():
        conn.execute(update(table).where(table.c.id.in_(sorted(ids))).values(updated_at=now))
    if any(renamed.values()):
        changes.stamp_renamed(conn, teams=renamed["teams"], roles=renamed["roles"], people=renamed["people"], now=now)
