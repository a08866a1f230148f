"""Authorization in one place: who may see and do what.

Rules (services ask these questions; templates never decide access):

- an **employee** sees their own records;
- a **manager** sees their reports, direct and indirect (the org chart decides who is a manager);
- a **host manager** (the manager of a team) sees the moves their team hosts;
- **HR** sees the people in their assigned org units (team subtrees);
- an **admin** sees everything.

A denied read of an object the user may not know about is reported as *not found*; a denied action on an
object the user can see is *forbidden*. Every denial is written to the audit log.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from sqlalchemy import Connection, exists, literal, or_, select, union
from sqlalchemy.sql.elements import ColumnElement

from micromoves.domain.errors import Forbidden, NotFound
from micromoves.domain.marketplace import ChecklistOwner
from micromoves.services.accounts import Principal, Scope
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.uow import record_audit


class Policy:
    """The access questions for one principal. Cheap to build; answers are cached for its lifetime (one
    request), so build a new one per request."""

    def __init__(self, db: Database, principal: Principal) -> None:
        self.db = db
        self.principal = principal
        self._chains: dict[str, list[str]] = {}
        self._team_of: dict[str, str | None] = {}

    # ------------------------------------------------------------------ facts about the org chart

    def managers_of(self, person_id: str) -> list[str]:
        """The person's managers, nearest first (their line manager, then theirs, …)."""
        if person_id not in self._chains:
            p = t.people
            seed = select(p.c.manager_id.label("id"), literal(1).label("depth")).where(p.c.id == person_id)
            base = seed.cte("chain", recursive=True)
            up = select(p.c.manager_id, base.c.depth + 1).join(base, p.c.id == base.c.id)
            chain = base.union_all(up.where(base.c.depth < 64))  # depth bound: a guard against a cycle
            with self.db.engine.connect() as conn:
                rows = conn.execute(select(chain.c.id).where(chain.c.id.is_not(None)).order_by(chain.c.depth))
                self._chains[person_id] = [r[0] for r in rows]
        return self._chains[person_id]

    def prefetch_chains(self, person_ids: list[str]) -> None:
        """Look up the management chains of many people in one query (for a list page), so that
        :meth:`managers_of` and :meth:`manages` answer from the cache."""
        wanted = sorted({x for x in person_ids if x not in self._chains})
        if not wanted:
            return
        p = t.people
        seed = select(p.c.id.label("start"), p.c.manager_id.label("id"), literal(1).label("depth")).where(
            p.c.id.in_(wanted)
        )
        base = seed.cte("chains", recursive=True)
        up = select(base.c.start, p.c.manager_id, base.c.depth + 1).join(base, p.c.id == base.c.id)
        chains = base.union_all(up.where(base.c.depth < 64))  # depth bound: a guard against a cycle
        found: dict[str, list[str]] = {x: [] for x in wanted}
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(chains.c.start, chains.c.id).where(chains.c.id.is_not(None)).order_by(chains.c.depth)
            )
            for start, manager in rows:
                found[start].append(manager)
        self._chains.update(found)

    def manages(self, person_id: str) -> bool:
        me = self.principal.person_id
        return me is not None and me != person_id and me in self.managers_of(person_id)

    @cached_property
    def hr_units(self) -> frozenset[str]:
        """Every team in the HR user's assigned subtrees."""
        if not self.principal.is_hr:
            return frozenset()
        roots = select(t.user_org_units.c.team_id.label("id")).where(
            t.user_org_units.c.user_id == self.principal.user_id
        )
        tree = teams_under(roots)
        with self.db.engine.connect() as conn:
            return frozenset(conn.scalars(select(tree.c.id)))

    def team_of(self, person_id: str) -> str | None:
        if person_id not in self._team_of:
            with self.db.engine.connect() as conn:
                self._team_of[person_id] = conn.scalar(select(t.people.c.team_id).where(t.people.c.id == person_id))
        return self._team_of[person_id]

    def hr_covers(self, person_id: str) -> bool:
        return self.principal.is_hr and self.team_of(person_id) in self.hr_units

    @cached_property
    def hosted_teams(self) -> frozenset[str]:
        """Teams the principal manages (the moves they host are the principal's to see and run)."""
        if self.principal.person_id is None:
            return frozenset()
        tm = t.team_managers.c
        with self.db.engine.connect() as conn:
            return frozenset(conn.scalars(select(tm.team_id).where(tm.person_id == self.principal.person_id)))

    def hosts(self, host_team_id: str | None) -> bool:
        return host_team_id is not None and host_team_id in self.hosted_teams

    @cached_property
    def has_reports(self) -> bool:
        """Does anyone report to the principal (directly)? The org chart, not the access level, makes a manager."""
        me = self.principal.person_id
        if me is None:
            return False
        with self.db.engine.connect() as conn:
            return bool(conn.scalar(select(exists().where(t.people.c.manager_id == me))))

    # ------------------------------------------------------------------------------- questions

    def is_self(self, person_id: str) -> bool:
        return self.principal.person_id == person_id

    def sees_person(self, person_id: str) -> bool:
        p = self.principal
        return p.is_admin or self.is_self(person_id) or self.manages(person_id) or self.hr_covers(person_id)

    def sees_move(self, person_id: str, host_team_id: str | None) -> bool:
        return self.sees_person(person_id) or self.hosts(host_team_id)

    def sees_confidential(self, person_id: str, reviewer_id: str | None) -> bool:
        """Confidential review notes: for the reviewer, the person's managers, HR and admins; never for the
        person themself or a host manager who did not write them."""
        if self.is_self(person_id):
            return False
        p = self.principal
        return (
            p.is_admin
            or (reviewer_id is not None and reviewer_id == p.person_id)
            or self.manages(person_id)
            or self.hr_covers(person_id)
        )

    def may_act_for(self, person_id: str) -> bool:
        """Propose moves and submit requests for the person: themself, their managers, HR, admins."""
        return self.sees_person(person_id)

    def runs_move(self, person_id: str, host_team_id: str | None) -> bool:
        """Start, review, extend or revert a move: the person's managers, the host manager, HR, admins —
        never the person on the move."""
        if self.is_self(person_id):
            return False
        p = self.principal
        return p.is_admin or self.manages(person_id) or self.hosts(host_team_id) or self.hr_covers(person_id)

    def ticks_onboarding(
        self, owner: ChecklistOwner | None, person_id: str, host_team_id: str | None, *, host_managed: bool
    ) -> bool:
        """Tick off (or reopen) an onboarding item: the party it is for (``owner``: the person, the host team's
        manager — the person's managers when nobody manages a host team, ``host_managed`` False — or the
        person's managers), HR of the person's unit and admins. Seeing the move is not enough: the host
        manager ticked "home-team cover agreed" for the line manager, the person "access granted" for the
        host. An item of no known owner (an older checklist's wording) is for anyone on either side."""
        p = self.principal
        if p.is_admin or self.hr_covers(person_id):
            return True
        if owner is None:
            return self.is_self(person_id) or self.runs_move(person_id, host_team_id)
        if owner is ChecklistOwner.PERSON:
            return self.is_self(person_id)
        if owner is ChecklistOwner.HOST_MANAGER:
            return (host_managed and self.hosts(host_team_id) and not self.is_self(person_id)) or (
                not host_managed and self.manages(person_id)
            )
        return self.manages(person_id)

    def may_approve(self) -> bool:
        """Could a move request ever wait for this principal's decision? A line manager (anyone with reports),
        a host team's manager, HR with org units, an admin; an account that is none of these approves nothing
        (the navigation leaves out its empty approvals queue)."""
        p = self.principal
        return p.is_admin or bool(p.is_hr and self.hr_units) or self.has_reports or bool(self.hosted_teams)

    def sees_organisation(self) -> bool:
        """Org-wide lists (directory, all moves, exports) beyond one's own reports: HR and admins."""
        return self.principal.is_admin or self.principal.is_hr

    # ------------------------------------------------------------------------------- listings

    def people_filter(self) -> ColumnElement[bool] | None:
        """A WHERE clause on ``people`` selecting whom the principal sees (None: everyone)."""
        p = self.principal
        if p.is_admin:
            return None
        visible = []
        if p.person_id is not None:
            visible.append(select(literal(p.person_id).label("id")))
            visible.append(select(reports_of(p.person_id).c.id))
        if p.is_hr and self.hr_units:
            visible.append(select(t.people.c.id).where(t.people.c.team_id.in_(sorted(self.hr_units))))
        if not visible:
            return t.people.c.id.is_(None)
        return t.people.c.id.in_(union(*visible).scalar_subquery() if len(visible) > 1 else visible[0])

    def team_filter(self) -> ColumnElement[bool] | None:
        """A WHERE clause on ``teams`` selecting the teams the list filters offer the principal: those of the
        people they see, the teams they manage and HR's units with their sub-teams (None: every team, for
        admins). Team names are not secret; this keeps the lists to teams that can match something."""
        if self.principal.is_admin:
            return None
        people = self.people_filter()
        of_people = select(t.people.c.team_id).where(t.people.c.team_id.is_not(None))
        if people is not None:
            of_people = of_people.where(people)
        clause = t.teams.c.id.in_(of_people)
        extra = sorted(self.hosted_teams | self.hr_units)
        return or_(clause, t.teams.c.id.in_(extra)) if extra else clause

    # ----------------------------------------------------------------------------- enforcement

    def require(self, allowed: bool, *, visible: bool, action: str, entity_type: str, entity_id: str) -> None:
        """Raise (and audit) unless ``allowed``: NotFound when the object is not ``visible`` to the user,
        Forbidden when it is."""
        if allowed:
            return
        self.deny(action, entity_type, entity_id, visible=visible)

    def require_admin(self, action: str | None = None) -> None:
        """What only an administrator may do (accounts, imports, allocation runs): the web, the JSON API
        and the CLI's ``--actor`` all refuse it here, with one audit record shape. ``action`` names it in
        the audit log and the message ("only administrators may import data")."""
        if not self.principal.is_admin:
            message = f"only administrators may {action or 'do this'}"
            self.deny(action or "administer", "admin_area", "all", visible=True, message=message)

    def require_scope(self, scope: Scope) -> None:
        if scope not in self.principal.scopes:
            self.deny(
                f"scope:{scope.value}",
                "api_token",
                self.principal.username,
                visible=True,
                message=f"this API token may not {scope.value}: it was issued for "
                + (", ".join(sorted(s.value for s in self.principal.scopes)) or "nothing")
                + " only",
            )

    def deny(self, action: str, entity_type: str, entity_id: str, *, visible: bool, message: str | None = None) -> None:
        status = 403 if visible else 404
        with self.db.write_engine.begin() as conn:
            audit_denial(conn, self.principal, action, entity_type, entity_id, status)
        if visible:
            raise Forbidden(message or f"you may not {action.replace('_', ' ')} this {entity_type}")
        raise NotFound(f"unknown {entity_type} {entity_id!r}")


def audit_denial(
    conn: Connection, principal: Principal, action: str, entity_type: str, entity_id: str, status: int
) -> None:
    record_audit(
        conn,
        principal.actor,
        "access.denied",
        entity_type,
        entity_id,
        attempted=action,
        status=status,
        user=principal.username,
    )


def teams_under(roots: Any) -> Any:
    """A recursive CTE of the teams ``roots`` selects (one column, ``id``) and every team under them."""
    base = roots.cte("tree", recursive=True)
    return base.union_all(select(t.teams.c.id).join(base, t.teams.c.parent_id == base.c.id))


def reports_of(manager_id: str) -> Any:
    """A recursive CTE of everyone below ``manager_id`` in the org chart (column ``id``)."""
    p = t.people
    seed = select(p.c.id, literal(1).label("depth")).where(p.c.manager_id == manager_id)
    base = seed.cte("reports", recursive=True)
    step = select(p.c.id, base.c.depth + 1).join(base, p.c.manager_id == base.c.id).where(base.c.depth < 64)
    return base.union_all(step)
