"""Repositories: the named queries services need, over one SQLAlchemy session.

They return domain objects and raise :class:`NotFound` with the id the user typed, so services never
see ``None`` for a missing object by accident.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from micromoves.domain.errors import InvalidValue, NotFound
from micromoves.domain.lifecycle import OCCUPYING_STATUSES
from micromoves.domain.model import (
    AuditEvent,
    Move,
    MoveKind,
    MoveStatus,
    Person,
    Role,
    RoleAssignment,
    RoleSkill,
    Skill,
    SkillLevel,
    Team,
)
from micromoves.storage import changes
from micromoves.storage import tables as t

E = TypeVar("E")
# Relationships loaded with a move shown in full (the attributes are instrumented by storage.orm).
MOVE_CHILDREN = ("criteria", "check_ins", "skill_gains", "history", "extensions", "outcome")


def people_matching(search: str) -> Any:
    """People whose name or e-mail contains ``search``, case aside, for every people search (CLI, directory,
    its CSV export). autoescape: a % or _ typed in the search is a character to find, not a wildcard (it
    matched everyone)."""
    text = search.lower()
    return func.lower(t.people.c.name).contains(text, autoescape=True) | func.lower(t.people.c.email).contains(
        text, autoescape=True
    )


class Repository(Generic[E]):
    entity: type[E]
    label: str

    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, id_: str) -> E | None:
        return self.session.get(self.entity, id_)

    def get(self, id_: str) -> E:
        found = self.find(id_)
        if found is None:
            raise NotFound(f"unknown {self.label} {id_!r}", field=f"{self.label}_id")
        return found

    def add(self, obj: E) -> E:
        self.session.add(obj)
        return obj

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(self.entity)) or 0)


class TeamRepository(Repository[Team]):
    entity = Team
    label = "team"

    def all(self) -> Sequence[Team]:
        return self.session.scalars(select(Team).order_by(t.teams.c.id)).all()


class RoleRepository(Repository[Role]):
    entity = Role
    label = "role"

    def all(self) -> Sequence[Role]:
        return self.session.scalars(select(Role).order_by(t.roles.c.id)).all()

    def requirements(self, role_id: str) -> Sequence[RoleSkill]:
        return self.session.scalars(
            select(RoleSkill).where(t.role_skills.c.role_id == role_id).order_by(t.role_skills.c.skill_id)
        ).all()


class SkillRepository(Repository[Skill]):
    entity = Skill
    label = "skill"

    def resolve(self, key: str) -> Skill:
        """A skill by id (O*NET element id or ESCO URI) or by name, case-insensitive (``resolve_skill_id``)."""
        return self.get(resolve_skill_id(self.session.connection(), key))


def skill_label(skill_id: str, name: str, kind: str, *, shared: bool) -> str:
    """How pages name a skill: its name, and where another skill has the same name (O*NET's Mathematics is a
    skill and a knowledge area) its kind and id too, ``Mathematics (knowledge 2.C.4.a)``, which
    :func:`resolve_skill_id` reads back."""
    return f"{name} ({kind} {skill_id})" if shared else name


_LABEL = re.compile(r"^(?P<name>.+?)\s*\((?P<kind>\w+)\s+(?P<id>[^\s()]+)\)\s*$")


def labelled_skill(key: str, known: Callable[[str], tuple[str, str] | None]) -> str | None:
    """The id in a label a page shows (:func:`skill_label`), if ``known(id)`` gives that skill's (name,
    kind) and both agree with the label; else None."""
    label = _LABEL.match(key.strip())
    if label is None:
        return None
    found = known(label["id"])
    if found is not None and (found[0].lower(), found[1]) == (label["name"].lower(), label["kind"].lower()):
        return label["id"]
    return None


def skill_labels(conn: Any, ids: Iterable[str]) -> dict[str, str]:
    """The label (:func:`skill_label`) of each of the skills ``ids``; an unknown id is left out (callers
    that may hold one fall back to the id)."""
    c = t.skills.c
    rows = conn.execute(select(c.id, c.name, c.kind).where(c.id.in_(sorted(set(ids))))).all()
    names = {r.name.lower() for r in rows}
    shared = {
        n
        for (n,) in conn.execute(
            select(func.lower(c.name))
            .where(func.lower(c.name).in_(sorted(names)))
            .group_by(func.lower(c.name))
            .having(func.count() > 1)
        )
    }
    return {r.id: skill_label(r.id, r.name, r.kind, shared=r.name.lower() in shared) for r in rows}


def all_skill_labels(conn: Any) -> dict[str, str]:
    """:func:`skill_labels` of every skill, in one query (the planner's catalogue and the congestion report
    name any skill: passing every id to skill_labels sent them all as parameters, twice)."""
    rows = conn.execute(select(t.skills.c.id, t.skills.c.name, t.skills.c.kind)).all()
    counts = Counter(r.name.lower() for r in rows)
    return {r.id: skill_label(r.id, r.name, r.kind, shared=counts[r.name.lower()] > 1) for r in rows}


def resolve_skill_id(conn: Any, key: str) -> str:
    """The id of the skill ``key`` names: its id, else its name, case-insensitive, or the label a page shows
    (``Mathematics (skill 2.A.1.e)``). A name that several skills share (O*NET's Mathematics is both a skill
    and a knowledge area) is refused, naming them as the pages do: picking one would write a level to a skill
    the user did not mean."""
    c = t.skills.c
    if conn.scalar(select(c.id).where(c.id == key)) is not None:
        return key
    labelled = labelled_skill(key, lambda sid: conn.execute(select(c.name, c.kind).where(c.id == sid)).first())
    if labelled is not None:
        return labelled
    named = conn.execute(
        select(c.id, c.name, c.kind).where(func.lower(c.name) == key.strip().lower()).order_by(c.id).limit(5)
    ).all()
    if not named:
        raise NotFound(f"unknown skill {key!r}", field="skill")
    if len(named) > 1:
        shown = [skill_label(r.id, r.name, r.kind, shared=True) for r in named]
        raise InvalidValue(
            f"skill {key!r} is ambiguous: give one of "
            + ", ".join(shown)
            + " (as the skills table shows them) or its id",
            field="skill",
        )
    return str(named[0].id)


class PersonRepository(Repository[Person]):
    entity = Person
    label = "person"

    def get_for_update(self, id_: str) -> Person:
        """Lock the person's row on PostgreSQL so concurrent changes to their moves serialise
        (capacity is a per-person invariant). SQLite writers are already serialised by BEGIN IMMEDIATE."""
        person = self.session.scalars(select(Person).where(t.people.c.id == id_).with_for_update()).first()
        if person is None:
            raise NotFound(f"unknown person {id_!r}", field="person_id")
        return person

    def list(
        self,
        *,
        team_id: str | None = None,
        role_id: str | None = None,
        manager_id: str | None = None,
        search: str | None = None,
        changed_since: dt.datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Sequence[Person]:
        q = select(Person).order_by(t.people.c.id)
        if team_id:
            q = q.where(t.people.c.team_id == team_id)
        if role_id:
            q = q.where(t.people.c.role_id == role_id)
        if manager_id:
            q = q.where(t.people.c.manager_id == manager_id)
        if search:
            q = q.where(people_matching(search))
        if changed_since:
            q = q.where(changes.changed_since(t.people.c.updated_at, changed_since))
        return self.session.scalars(q.limit(limit).offset(offset)).all()

    def skill_levels(self, person_id: str) -> Sequence[SkillLevel]:
        """Every assessment, oldest first (the profile is the last one per skill)."""
        return self.session.scalars(
            select(SkillLevel)
            .where(t.skill_levels.c.person_id == person_id)
            .order_by(t.skill_levels.c.assessed_on, t.skill_levels.c.id)
        ).all()

    def profile(self, person_id: str) -> dict[str, SkillLevel]:
        profile: dict[str, SkillLevel] = {}
        for level in self.skill_levels(person_id):
            profile[level.skill_id] = level
        return profile

    def assignments(self, person_id: str) -> Sequence[RoleAssignment]:
        return self.session.scalars(
            select(RoleAssignment)
            .where(t.role_assignments.c.person_id == person_id)
            .order_by(t.role_assignments.c.start, t.role_assignments.c.id)
        ).all()

    def current_assignment(self, person_id: str) -> RoleAssignment | None:
        open_ = [a for a in self.assignments(person_id) if a.end is None]
        return open_[-1] if open_ else None


class MoveRepository(Repository[Move]):
    entity = Move
    label = "move"

    def get_full(self, id_: str) -> Move:
        move = self.session.scalars(
            select(Move)
            .where(t.moves.c.id == id_)
            .options(*(selectinload(getattr(Move, name)) for name in MOVE_CHILDREN))
        ).first()
        if move is None:
            raise NotFound(f"unknown move {id_!r}", field="move_id")
        return move

    def for_person(self, person_id: str) -> Sequence[Move]:
        return self.session.scalars(
            select(Move).where(t.moves.c.person_id == person_id).order_by(t.moves.c.start, t.moves.c.id)
        ).all()

    def occupying_for_person(self, person_id: str) -> Sequence[Move]:
        return [m for m in self.for_person(person_id) if m.status in OCCUPYING_STATUSES]

    def list(
        self,
        *,
        person_id: str | None = None,
        status: MoveStatus | None = None,
        kind: MoveKind | None = None,
        host_team_id: str | None = None,
        active_on: dt.date | None = None,
        changed_since: dt.datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Sequence[Move]:
        c = t.moves.c
        q = select(Move).order_by(c.start, c.id)
        if person_id:
            q = q.where(c.person_id == person_id)
        if status:
            q = q.where(c.status == status)
        if kind:
            q = q.where(c.kind == kind)
        if host_team_id:
            q = q.where(c.host_team_id == host_team_id)
        if active_on:
            q = q.where(c.start <= active_on, c.end >= active_on)
        if changed_since:
            q = q.where(changes.changed_since(c.updated_at, changed_since))
        return self.session.scalars(q.limit(limit).offset(offset)).all()

    def count_by_kind(self) -> dict[str, int]:
        rows = self.session.execute(select(t.moves.c.kind, func.count()).group_by(t.moves.c.kind)).all()
        return {str(k): int(n) for k, n in rows}

    def count_by_status(self) -> dict[str, int]:
        rows = self.session.execute(select(t.moves.c.status, func.count()).group_by(t.moves.c.status)).all()
        return {str(k): int(n) for k, n in rows}


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, event: AuditEvent) -> AuditEvent:
        self.session.add(event)
        return event

    def list(
        self,
        *,
        entity_type: str | None = None,
        entity_id: str | None = None,
        actor: str | None = None,
        limit: int = 100,
    ) -> Sequence[AuditEvent]:
        c = t.audit_events.c
        q = select(AuditEvent).order_by(c.at.desc(), c.id.desc())
        if entity_type:
            q = q.where(c.entity_type == entity_type)
        if entity_id:
            q = q.where(c.entity_id == entity_id)
        if actor:
            q = q.where(c.actor == actor)
        return self.session.scalars(q.limit(limit)).all()
