"""Imperative mapping of the domain dataclasses onto the tables (cosmicpython's "classical mapping").

The domain never imports SQLAlchemy; this module teaches SQLAlchemy about the domain instead.
"""

from __future__ import annotations

from sqlalchemy.orm import registry, relationship

from micromoves.domain import model
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
    _mapped = True
