"""Use cases for the organisation itself: teams, roles, people, their skill assessments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select

from micromoves.domain import rules
from micromoves.domain.errors import InvalidDates, InvalidValue
from micromoves.domain.model import (
    AssignmentReason,
    Move,
    Person,
    Provenance,
    Role,
    RoleAssignment,
    RoleSkill,
    SkillLevel,
    Team,
)
from micromoves.settings import Settings, get_settings
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.repositories import skill_labels
from micromoves.storage.uow import UnitOfWork


def add_team(db: Database, *, id: str, name: str, function: str = "", parent_id: str | None = None, actor: str) -> Team:
    with UnitOfWork(db) as uow:
        if parent_id:
            uow.teams.get(parent_id)
        team = uow.teams.add(Team(id=id, name=name, function=function, parent_id=parent_id))
        uow.audit(actor, "team.created", "team", id, name=name)
        uow.commit()
        return team


def add_role(
    db: Database,
    *,
    id: str,
    title: str,
    onet_code: str | None = None,
    level: int = 1,
    team_id: str | None = None,
    critical: bool = False,
    requirements: Mapping[str, float] | None = None,
    actor: str,
) -> Role:
    with UnitOfWork(db) as uow:
        if team_id:
            uow.teams.get(team_id)
        role = uow.roles.add(
            Role(id=id, title=title, onet_code=onet_code, level=level, team_id=team_id, critical=critical)
        )
        for key, level_required in (requirements or {}).items():
            skill = uow.skills.resolve(key)
            uow.session.add(RoleSkill(role_id=id, skill_id=skill.id, level=level_required))
        uow.audit(actor, "role.created", "role", id, title=title, onet_code=onet_code, level=level)
        uow.commit()
        return role


def add_person(
    db: Database,
    *,
    id: str,
    name: str,
    actor: str,
    email: str = "",
    role_id: str | None = None,
    manager_id: str | None = None,
    team_id: str | None = None,
    hire_date: dt.date | None = None,
    location: str = "",
    capacity_percent: int | None = None,
    home_role_min_percent: int | None = None,
    settings: Settings | None = None,
) -> Person:
    """Add a person; their role starts a role-assignment history with reason ``hire``."""
    settings = settings or get_settings()
    capacity = settings.default_capacity_percent if capacity_percent is None else capacity_percent
    home = settings.default_home_role_min_percent if home_role_min_percent is None else home_role_min_percent
    rules.check_capacity_settings(capacity, home)
    if hire_date is not None:
        rules.check_calendar(hire_date, "hire_date")
        if (problem := rules.prehire_problem(hire_date, dt.date.today(), settings.prehire_max_days)) is not None:
            raise InvalidDates(problem, field="hire_date")
    with UnitOfWork(db) as uow:
        if uow.people.find(id) is not None:
            raise InvalidValue(f"person {id} already exists", field="person_id")
        if email:  # one address, one person (see importing._check_emails)
            holder = uow.session.scalar(
                select(t.people.c.id).where(func.lower(t.people.c.email) == email.lower()).limit(1)
            )
            if holder is not None:
                raise InvalidValue(f"e-mail {email!r} is already {holder}'s", field="email")
        if role_id:
            uow.roles.get(role_id)
        if team_id:
            uow.teams.get(team_id)
        if manager_id:
            uow.people.get(manager_id)
        person = uow.people.add(
            Person(
                id=id,
                name=name,
                email=email,
                role_id=role_id,
                manager_id=manager_id,
                team_id=team_id,
                hire_date=hire_date,
                location=location,
                capacity_percent=capacity,
                home_role_min_percent=home,
            )
        )
        if role_id:
            uow.session.add(
                RoleAssignment(
                    person_id=id,
                    role_id=role_id,
                    start=hire_date or dt.date.today(),
                    reason=AssignmentReason.HIRE,
                )
            )
        uow.audit(actor, "person.created", "person", id, role_id=role_id, manager_id=manager_id)
        uow.commit()
        return person


def assess_skill(
    db: Database,
    *,
    person_id: str,
    skill: str,
    level: float,
    provenance: Provenance | str,
    actor: str,
    on: dt.date | None = None,
) -> SkillLevel:
    if not 0 <= level <= 7:
        raise InvalidValue(f"skill level must be on the 0–7 scale, got {level}", field="level")
    with UnitOfWork(db) as uow:
        uow.people.get(person_id)
        found = uow.skills.resolve(skill)
        entry = SkillLevel(
            person_id=person_id,
            skill_id=found.id,
            level=level,
            provenance=Provenance(provenance),
            assessed_on=on or dt.date.today(),
        )
        uow.session.add(entry)
        uow.audit(
            actor,
            "skill.assessed",
            "person",
            person_id,
            skill=found.id,
            level=level,
            provenance=entry.provenance.value,
        )
        uow.commit()
        return entry


@dataclass(frozen=True)
class PersonOverview:
    person: Person
    role: Role | None
    manager: Person | None
    assignments: list[RoleAssignment]
    moves: list[Move]
    skills: list[tuple[SkillLevel, str]]  # latest assessment per skill, with the skill's label
    skill_names: dict[str, str] = field(default_factory=dict)  # label of every skill held or gained


def list_people(db: Database, **filters: object) -> Sequence[Person]:
    """People by id, filtered as PersonRepository.list takes them (``changed_since`` as the API's)."""
    with UnitOfWork(db, write=False) as uow:
        return uow.people.list(**filters)  # type: ignore[arg-type]


def person_overview(db: Database, person_id: str) -> PersonOverview:
    with UnitOfWork(db, write=False) as uow:
        person = uow.people.get(person_id)
        role = uow.roles.find(person.role_id) if person.role_id else None
        manager = uow.people.find(person.manager_id) if person.manager_id else None
        moves = [uow.moves.get_full(m.id) for m in uow.moves.for_person(person_id)]
        profile = uow.people.profile(person_id)
        # Labelled as the pages label them (the CLI printed two "Mathematics": O*NET's skill and knowledge).
        gained = [g.skill_id for m in moves for g in m.skill_gains]
        names = skill_labels(uow.session.connection(), [*profile, *gained])
        skills = sorted(((lvl, names[sid]) for sid, lvl in profile.items()), key=lambda x: (-x[0].level, x[1]))
        return PersonOverview(person, role, manager, list(uow.people.assignments(person_id)), moves, skills, names)
