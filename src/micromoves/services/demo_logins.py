"""Demo accounts for ``micromoves serve --demo``: one login per kind of user, on real demo people.

Passwords are random for every run and printed once; nothing is hard-coded.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, update

from micromoves.domain.errors import DomainError, InvalidValue
from micromoves.domain.model import MoveStatus
from micromoves.services import accounts
from micromoves.services.accounts import Access
from micromoves.services.demo import not_a_demo
from micromoves.services.planning import PlanAllSummary, current_plan, plan_all, plan_for_person, plan_in_force
from micromoves.services.policy import teams_under
from micromoves.storage import tables as t
from micromoves.storage.db import Database


@dataclass(frozen=True)
class DemoLogin:
    kind: str  # employee / manager / host manager / hr / admin
    username: str
    password: str
    person_id: str | None
    person_name: str | None


def _pick_employee(conn: object, only: str | None = None) -> str | None:
    """A person with a manager and a move hosted by another team (so every demo role has work to do),
    preferably with a target role and a running move; with ``only``, that person if they still qualify."""
    m, p = t.moves.c, t.people.c
    query = (
        select(m.person_id)
        .join(t.people, p.id == m.person_id)
        .join(t.team_managers, t.team_managers.c.team_id == m.host_team_id)
        .where(
            p.manager_id.is_not(None),
            m.host_team_id != p.team_id,
            m.status.in_([MoveStatus.ACTIVE, MoveStatus.COMPLETED]),
            t.team_managers.c.person_id != p.manager_id,
            *([m.person_id == only] if only is not None else []),
        )
        .group_by(m.person_id)
        # Prefer someone on a running move (the dashboard then shows check-ins due), then the richest history.
        .order_by(
            func.max(case((p.target_role_id.is_not(None), 1), else_=0)).desc(),
            func.max(case((m.status == MoveStatus.ACTIVE, 1), else_=0)).desc(),
            func.count().desc(),
            m.person_id,
        )
        .limit(1)
    )
    row = conn.execute(query).first()  # type: ignore[attr-defined]
    return None if row is None else str(row[0])


def create_demo_logins(db: Database) -> list[DemoLogin]:
    """Create (or reset the passwords of) the demo accounts and return them with their passwords.

    Only in a demo organisation (``micromoves demo`` built it, and no files were imported since): the accounts
    named ``admin``, ``hr``… are replaced, and the people get logins whose passwords are printed, so on a real
    organisation ``serve --demo`` replaced its own ``admin`` account with one whose password it printed."""
    with db.engine.connect() as conn:
        reason = not_a_demo(conn)
        if reason is not None:
            raise DomainError(
                f"the database holds an organisation and {reason}: demo logins are made only in a demo "
                "organisation; serve it without --demo (create accounts with `micromoves users add`)"
            )
        # The same people as the last run while they still qualify: a restart of `serve --demo` picked
        # another employee once the first one's moves had changed, and the tour's person with it.
        before = conn.scalar(select(t.users.c.person_id).where(t.users.c.username == "employee"))
        employee = (before and _pick_employee(conn, before)) or _pick_employee(conn)
        if employee is None:
            raise DomainError("the organisation has no person with a hosted move; generate the demo first")
        p = t.people.c
        emp = conn.execute(
            select(p.id, p.name, p.manager_id, p.team_id, p.target_role_id).where(p.id == employee)
        ).one()
        manager = conn.execute(select(p.id, p.name).where(p.id == emp.manager_id)).one()
        host_id = conn.scalar(
            select(t.team_managers.c.person_id)
            .join(t.moves, t.moves.c.host_team_id == t.team_managers.c.team_id)
            .where(
                t.moves.c.person_id == employee,
                t.moves.c.host_team_id != emp.team_id,
                t.team_managers.c.person_id != emp.manager_id,
            )
            .order_by(t.moves.c.start.desc())
            .limit(1)
        )
        host = conn.execute(select(p.id, p.name).where(p.id == host_id)).one()
        unit = conn.scalar(select(t.teams.c.parent_id).where(t.teams.c.id == emp.team_id)) or emp.team_id
    wanted = [
        ("employee", "employee", Access.EMPLOYEE, emp.id, emp.name, ()),
        ("manager", "manager", Access.EMPLOYEE, manager.id, manager.name, ()),
        ("host manager", "host", Access.EMPLOYEE, host.id, host.name, ()),
        ("hr", "hr", Access.HR, None, None, (unit,)),
        ("admin", "admin", Access.ADMIN, None, None, ()),
    ]
    logins = []
    for kind, username, access, person_id, name, units in wanted:
        password = _password(username)
        _replace_user(db, username, password, access, person_id, units)
        logins.append(DemoLogin(kind, username, password, person_id, name))
    # The employee has a target role: give their dashboard a plan towards it.
    if emp.target_role_id is not None and current_plan(db, emp.id) is None:
        plan_for_person(db, emp.id, actor="demo", reason="demo logins")
    return logins


def plan_hr_unit(db: Database, progress: Any = None) -> PlanAllSummary | None:
    """Plans for everyone with a target role in the demo HR login's unit, as a nightly ``plan-all`` would have
    left them: without plans, HR's congestion report and people pages showed no plan demand at all until
    someone ran plan-all on the whole organisation (minutes on the demo). One unit plans in seconds. Runs
    only while someone there has no current plan towards their target (a restart plans nobody); None when
    nobody was planned."""
    u, p, pl = t.users.c, t.people.c, t.plans.c
    with db.engine.connect() as conn:
        unit = conn.scalar(
            select(t.user_org_units.c.team_id)
            .join(t.users, u.id == t.user_org_units.c.user_id)
            .where(u.username == "hr")
        )
        if unit is None:
            return None
        tree = teams_under(select(t.teams.c.id).where(t.teams.c.id == unit))
        planned = select(pl.person_id).where(plan_in_force())  # towards their target: as congestion counts
        missing = conn.scalar(
            select(func.count()).where(
                p.target_role_id.is_not(None), p.team_id.in_(select(tree.c.id)), p.id.not_in(planned)
            )
        )
    if not missing:
        return None
    return plan_all(db, actor="demo", team=unit, changed_only=True, progress=progress)


def _password(username: str) -> str:
    """A fresh random password the account rules accept (one in a hundred random ones held the username
    "hr", which they refuse)."""
    while True:
        password = secrets.token_urlsafe(9)
        try:
            accounts.check_password_strength(password, username)
        except InvalidValue:
            continue
        return password


def _replace_user(
    db: Database, username: str, password: str, access: Access, person_id: str | None, units: tuple[str, ...]
) -> None:
    """The account as wanted, with a new password. An account that is already so (same person, access and
    org units) keeps its id and with it the API tokens made for it: a restart of ``serve --demo`` revoked
    every token an integrator had made against the demo. Any other account of that name is replaced."""
    with db.engine.connect() as conn:
        u = t.users.c
        row = conn.execute(select(u.id, u.person_id, u.access, u.active).where(u.username == username)).first()
        kept = row is not None and (row.person_id, row.access, row.active) == (person_id, access.value, True)
        if kept and row is not None:
            has = set(conn.scalars(select(t.user_org_units.c.team_id).where(t.user_org_units.c.user_id == row.id)))
            kept = has == set(units)
    if kept and row is not None:
        operator = accounts.Principal(0, "demo", Access.ADMIN, None)
        accounts.set_password(db, row.id, password=password, actor=operator)
        return
    with db.write_engine.begin() as conn:
        # A person can hold one account: free it if an earlier demo gave it to another username.
        if person_id is not None:
            conn.execute(update(t.users).where(t.users.c.person_id == person_id).values(person_id=None))
        conn.execute(t.users.delete().where(t.users.c.username == username))
    accounts.create_user(
        db, username=username, password=password, access=access, person_id=person_id, org_units=units, actor="demo"
    )
