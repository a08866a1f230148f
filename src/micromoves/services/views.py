"""Read models for the web pages and their JSON twins: one function per page, authorised by the policy.

Each function returns a pydantic model; the HTML page renders it and the JSON API returns it as is, so
what a browser shows and what an integrator reads cannot drift apart, and a field the user may not see is
left out of both.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from micromoves.domain import rules
from micromoves.domain.errors import DomainError, InvalidValue
from micromoves.domain.lifecycle import ENDED_STATUSES, OCCUPYING_STATUSES
from micromoves.domain.marketplace import KINDS_WITH_HANDOFF
from micromoves.domain.model import Decision, Move, MoveKind, MoveStatus
from micromoves.services import approvals as approval_service
from micromoves.services.accounts import Principal
from micromoves.services.choices import KindField, StatusField
from micromoves.services.moves import review_imported_by
from micromoves.services.paging import FIRST_PAGE, Paged, PageQuery, count
from micromoves.services.policy import Policy
from micromoves.storage import tables as t
from micromoves.storage.changes import changed_since
from micromoves.storage.db import Database
from micromoves.storage.repositories import people_matching, skill_labels
from micromoves.storage.uow import UnitOfWork

CHECK_IN_EVERY = dt.timedelta(days=14)


class PersonRef(BaseModel):
    id: str
    name: str


class MoveSummary(BaseModel):
    id: str
    title: str
    kind: MoveKind
    status: MoveStatus
    start: dt.date
    end: dt.date
    percent_time: int
    person: PersonRef
    host_team: str | None = None
    updated_at: dt.datetime | None = None  # when the move last changed (None: before that was recorded)


class RoleSpell(BaseModel):
    """A role the person held: from ``start`` to ``end`` (null: still), and how it came (hire, conversion of
    a move, import, ...)."""

    role: str
    start: dt.date
    end: dt.date | None
    reason: str
    move_id: str | None  # the move converted into it


class SkillEntry(BaseModel):
    skill_id: str
    name: str
    kind: str  # skill or knowledge (O*NET has a skill and a knowledge area both named Mathematics)
    label: str  # how pages show it: the name, with kind and id where another skill shares the name
    level: float
    provenance: str
    assessed_on: dt.date
    evidence_move_id: str | None = None
    evidence_move_title: str | None = None


class SkillPoint(BaseModel):
    on: dt.date
    level: float


class SkillSeries(BaseModel):
    skill_id: str
    name: str
    label: str  # as in SkillEntry
    points: list[SkillPoint]


class DueCheckIn(BaseModel):
    move_id: str
    title: str
    last_check_in: dt.date | None
    due: dt.date


class PlanStepView(BaseModel):
    title: str
    kind: str
    start: dt.date
    end: dt.date
    percent_time: int
    depth_step: bool


class PlanView(BaseModel):
    version: int
    target_role: str
    target_role_id: str
    horizon_weeks: int  # how far ahead it was planned (a plan asked for with --horizon keeps its own)
    outcome: str
    ready_plan_may_exist: bool = False  # outcome unreachable, but only because every search ran out of time
    proven_optimal: bool = True  # False: the best plan found within plan-all's time budget (see solve_within)
    ready_week: int | None
    ready_on: dt.date | None
    steps: list[PlanStepView]
    explanation: list[str]
    made_at: dt.datetime | None = None
    # The person or their moves changed after the plan was made (a move approved, a review's skills written
    # back): its steps may no longer fit or be needed. Re-planning gives the plan for today.
    out_of_date: bool = False
    # Why: "target_changed" (the person's target role is now another one: planning again plans towards it),
    # "no_target" (their target role was cleared: nothing to plan towards), "changed" (what the plan was
    # computed from changed); None while it is up to date.
    out_of_date_because: Literal["target_changed", "no_target", "changed"] | None = None


class PersonPage(BaseModel):
    """A person's page (the dashboard when it is one's own)."""

    id: str
    name: str
    email: str
    role: str | None
    team: str | None
    location: str
    manager: PersonRef | None
    target_role: str | None
    target_role_id: str | None = None
    capacity_percent: int
    # Oldest first. The pages showed only the current role: a conversion was visible in the CLI alone.
    role_history: list[RoleSpell]
    active_moves: list[MoveSummary]
    other_moves: list[MoveSummary]
    due_check_ins: list[DueCheckIn]
    skills: list[SkillEntry]
    skill_growth: list[SkillSeries]
    plan: PlanView | None
    may_propose: bool
    # May the user set or clear the target role (PUT /api/v1/people/ID/target-role)? Who may propose moves
    # for the person may: themself, their managers, HR for their unit, admins.
    may_set_target: bool = False


class AccountView(BaseModel):
    id: int
    username: str
    access: str
    person_id: str | None


class MePage(BaseModel):
    """The dashboard's JSON twin: the signed-in account and its person's page (the fields of
    :class:`PersonPage`). An account linked to no person (an admin, HR) has no personal record: those fields
    are null and its moves, check-ins, skills and plan empty."""

    account: AccountView
    id: str | None = None
    name: str | None = None
    email: str | None = None
    role: str | None = None
    team: str | None = None
    location: str | None = None
    manager: PersonRef | None = None
    target_role: str | None = None
    target_role_id: str | None = None
    capacity_percent: int | None = None
    role_history: list[RoleSpell] = []
    active_moves: list[MoveSummary] = []
    other_moves: list[MoveSummary] = []
    due_check_ins: list[DueCheckIn] = []
    skills: list[SkillEntry] = []
    skill_growth: list[SkillSeries] = []
    plan: PlanView | None = None
    may_propose: bool = False
    may_set_target: bool = False


def me_page(db: Database, policy: Policy) -> MePage:
    p = policy.principal
    account = AccountView(id=p.user_id, username=p.username, access=p.access.value, person_id=p.person_id)
    if p.person_id is None:
        return MePage(account=account)
    return MePage(account=account, **dict(person_page(db, policy, p.person_id)))


class CriterionView(BaseModel):
    position: int
    statement: str
    rating: str | None
    evidence: str


class CheckInView(BaseModel):
    on: dt.date
    author: str
    note: str
    progress: int | None


REVIEWER_DOC = "who reviewed the move; null for a review an import brought in from the HRIS (see imported_by)"
IMPORTED_BY_DOC = "a review an import brought in: who ran the import (they did not review the move); else null"


class OutcomeView(BaseModel):
    decision: str
    reviewed_on: dt.date
    reviewer: str | None = Field(description=REVIEWER_DOC)
    imported_by: str | None = Field(default=None, description=IMPORTED_BY_DOC)
    confidential: bool
    # Absent (null) when the notes are confidential and the user may not read them.
    notes: str | None


class HistoryEntry(BaseModel):
    at: dt.datetime
    actor: str
    from_status: str | None
    to_status: str
    reason: str


class ApprovalView(BaseModel):
    slot: str
    approver: str
    decision: str
    at: dt.datetime  # serialised like every other timestamp of the API (…Z), not as the database's text
    note: str


class GainView(BaseModel):
    skill: str
    level_before: float
    level_after: float


class GainSuggestion(BaseModel):
    """A skill the move builds, with the person's level now: the review form asks for its level after."""

    skill_id: str
    skill: str
    level_now: float | None  # None: never assessed, or not shown
    level_shown: bool = True  # False for a reviewer who may not see the person's profile (a host manager)


class EarlierReview(BaseModel):
    """A review a later one superseded: its decision, notes (null when confidential and not for this user),
    the ratings it gave and the gains it recorded."""

    decision: str
    reviewed_on: dt.date
    reviewer: str | None = Field(description=REVIEWER_DOC)
    imported_by: str | None = Field(default=None, description=IMPORTED_BY_DOC)
    confidential: bool
    notes: str | None
    criteria: list[CriterionView]
    skill_gains: list[GainView]


class MoveDetail(BaseModel):
    id: str
    title: str
    kind: MoveKind
    status: MoveStatus
    start: dt.date
    end: dt.date
    percent_time: int
    person: PersonRef
    host_team: str | None
    target_role: str | None
    released_by: PersonRef | None  # once the move is approved (before, nobody has released the person yet)
    expected_outcomes: str
    skills_targeted: list[str]
    criteria: list[CriterionView]
    check_ins: list[CheckInView]
    skill_gains: list[GainView]
    outcome: OutcomeView | None
    earlier_reviews: list[EarlierReview] = []  # oldest first; the outcome is the latest review
    history: list[HistoryEntry]
    approvals: list[ApprovalView]
    # A request's approvals still to come, in words: "line manager: Mira Manager", "host team's manager: a
    # manager further up or HR" (the request page said only "No decisions yet").
    waiting_for: list[str] = []
    # What the current user may do next (the page shows these buttons; the API lists them).
    actions: list[str]
    # The decisions a review may take now (none unless "review" is an action): "convert" only for a move
    # with a target role to convert into (offered always, it failed at once for every move without one).
    decisions: list[str] = []
    # Why "convert" is not among the decisions (null when it is, or when no review is open): the kind is not a
    # trial of a role, or the move has no target role.
    no_convert: str | None = None
    # The skills the move builds with the person's level now (only when "review" is an action): the review
    # form had one free-text box, and a reviewer had to know the skills' exact names and the levels before.
    gain_suggestions: list[GainSuggestion] = []


class ApprovalItem(BaseModel):
    move: MoveSummary
    slot: str
    criteria: list[str]
    approvals_so_far: int
    # Why the principal fills this slot for someone else ("no host team", "no line manager", "for the line
    # manager, as a manager further up", …); None when the slot is theirs (the line or host team's manager).
    stand_in: str | None = None
    # Why approving cannot succeed now (the move no longer fits beside the person's other moves), if so: the
    # second approval checks capacity, and the queue offered an approval that then failed with a 409.
    blocked: str | None = None


class ApprovalQueue(Paged):
    """The requests the principal may decide now, soonest to start first, a page at a time."""

    items: list[ApprovalItem]


class TeamMember(BaseModel):
    person: PersonRef
    role: str | None
    moves: list[MoveSummary]
    percent_away: int
    returning_on: dt.date | None


class TeamPage(Paged):
    """The principal's direct reports, by id, a page at a time."""

    manager: PersonRef | None
    members: list[TeamMember]


class PersonRow(BaseModel):
    id: str
    name: str
    email: str
    role: str | None
    team: str | None
    location: str
    updated_at: dt.datetime | None = None  # when the person last changed (None: before that was recorded)


class TeamRef(BaseModel):
    id: str
    name: str
    label: str  # how the filters show it: the name, with the id where another team of the list shares the name


class Directory(Paged):
    people: list[PersonRow]
    # What the team filter offers: the teams of the people you see, those you manage, HR's units (admins: all).
    teams: list[TeamRef] = Field(default_factory=list)


class MoveList(Paged):
    moves: list[MoveSummary]
    # What the filters offer: ``teams`` for the person's team (the teams of the people on a move you see),
    # ``host_teams`` for the host team (the teams hosting a move you see); admins: every team, both.
    teams: list[TeamRef] = Field(default_factory=list)
    host_teams: list[TeamRef] = Field(default_factory=list)


CHANGED_SINCE = (
    "only records changed at or after this time (ISO 8601 with a time zone, e.g. 2026-11-27T08:00:00Z): an "
    "integration passes the time it started its previous pull, less an overlap (a change is stamped when it "
    "is written and seen when its transaction commits; an import writes for up to about a minute; reading a "
    "record twice is harmless). A move changes with its criteria, check-ins, "
    "review and gains, and when its person or host team is renamed; a person with their skills and role "
    "history, when their team or role is renamed, and when a move is given to or taken from them"
)


def _in_utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC: a 500 where it is stored
        raise ValueError("is out of range once in UTC") from None


ChangedSince = Annotated[AwareDatetime, AfterValidator(_in_utc)]
_CHANGED_SINCE: TypeAdapter[dt.datetime] = TypeAdapter(ChangedSince)


def parse_changed_since(value: str, option: str = "changed_since") -> dt.datetime:
    """``value`` read as the API reads ``?changed_since=`` (an ISO 8601 time with a time zone, in UTC), for
    the command line's ``--changed-since``; a refusal names ``option`` and says what is wanted."""
    try:
        return _CHANGED_SINCE.validate_python(value)
    except ValidationError as exc:
        why = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidValue(
            f"{option}: {value!r}: {why[:1].lower()}{why[1:]}; give an ISO 8601 time with a time zone, "
            "e.g. 2026-11-27T08:00:00Z",
            field="changed_since",
        ) from None


class MoveSelection(BaseModel):
    """Which moves: the filters of the moves page, its JSON twin and the CSV export (which has no pages:
    it streams every match, so it does not take ``page`` and a ``?page=2`` is refused, not ignored)."""

    status: StatusField | None = None  # any case, as everywhere (services/choices.py)
    kind: KindField | None = None
    team: str | None = Field(default=None, max_length=64, description="the host team's id")
    person: str | None = Field(default=None, max_length=64, description="the person's id")
    person_team: str | None = Field(default=None, max_length=64, description="the id of the person's own team")
    changed_since: ChangedSince | None = Field(default=None, description=CHANGED_SINCE)


class MoveFilter(MoveSelection, PageQuery):
    pass


class PeopleSelection(BaseModel):
    """The directory's filters, for its page, its JSON twin and its CSV export alike."""

    q: str | None = Field(default=None, max_length=200)
    team: str | None = Field(default=None, max_length=64, description="the team's id")
    changed_since: ChangedSince | None = Field(default=None, description=CHANGED_SINCE)


class PeopleFilter(PeopleSelection, PageQuery):
    pass


# ----------------------------------------------------------------------------------------- helpers


def names_of(conn: Any, table: Any, ids: Iterable[str | None]) -> dict[str, str]:
    """Display names (``name``, or ``title`` for roles) of the rows of ``table`` with these ids, in one query."""
    wanted = sorted({x for x in ids if x})
    if not wanted:
        return {}
    label = table.c.name if "name" in table.c else table.c.title
    return dict(conn.execute(select(table.c.id, label).where(table.c.id.in_(wanted))).all())


def team_options(conn: Any, where: Any) -> list[TeamRef]:
    """The teams matching ``where`` (None: all), by name, for a filter's list."""
    q = select(t.teams.c.id, t.teams.c.name).order_by(t.teams.c.name, t.teams.c.id)
    rows = conn.execute(q if where is None else q.where(where)).all()
    shared = Counter(r.name for r in rows)
    return [TeamRef(id=r.id, name=r.name, label=r.name if shared[r.name] == 1 else f"{r.name} ({r.id})") for r in rows]


def _summaries(conn: Any, moves: Sequence[Move]) -> list[MoveSummary]:
    people = names_of(conn, t.people, [m.person_id for m in moves])
    teams = names_of(conn, t.teams, [m.host_team_id for m in moves])
    return [
        MoveSummary(
            id=m.id,
            title=m.title,
            kind=m.kind,
            status=m.status,
            start=m.start,
            end=m.end,
            percent_time=m.percent_time,
            person=PersonRef(id=m.person_id, name=people.get(m.person_id, m.person_id)),
            host_team=teams.get(m.host_team_id) if m.host_team_id else None,
            # Mapped from the table, not a field of the domain's Move: bookkeeping of storage, not of moves.
            updated_at=getattr(m, "updated_at", None),
        )
        for m in moves
    ]


def _approver(names: dict[str, str], person_id: str | None, user_id: int | None) -> str:
    """Who gave an approval: a person, an account without one (by username), or the command line's operator,
    which has neither (it read "user #None")."""
    if person_id is None and user_id is None:
        return "an operator (command line)"
    return actor_name(names, person_id or f"user #{user_id}")


def reviewed_by(names: dict[str, str], reviewer_id: str) -> dict[str, str | None]:
    """A review's ``reviewer``, or, for one an import brought in, who ran the import (``imported_by``): it
    read "by admin", an admin who never reviewed the move."""
    imported = review_imported_by(reviewer_id)
    if imported is not None:
        return {"reviewer": None, "imported_by": actor_name(names, imported)}
    return {"reviewer": actor_name(names, reviewer_id), "imported_by": None}


def actor_name(names: dict[str, str], actor: str) -> str:
    """A person's name for a person id; an account without a person (``user:NAME``) by its username."""
    return names.get(actor) or actor.removeprefix("user:")


# ------------------------------------------------------------------------------------------ pages


def person_page(db: Database, policy: Policy, person_id: str, *, today: dt.date | None = None) -> PersonPage:
    today = today or dt.date.today()
    with UnitOfWork(db, write=False) as uow:
        person = uow.people.find(person_id)
        policy.require(
            person is not None and policy.sees_person(person_id),
            visible=False,
            action="view",
            entity_type="person",
            entity_id=person_id,
        )
        assert person is not None
        conn = uow.session.connection()
        role = uow.roles.find(person.role_id) if person.role_id else None
        target = uow.roles.find(person.target_role_id) if person.target_role_id else None
        team = names_of(conn, t.teams, [person.team_id]).get(person.team_id or "")
        manager = uow.people.find(person.manager_id) if person.manager_id else None
        moves = list(uow.moves.for_person(person_id))
        summaries = _summaries(conn, moves)
        running = {MoveStatus.ONBOARDING, MoveStatus.ACTIVE, MoveStatus.IN_REVIEW}
        active = [s for s in summaries if s.status in running]
        others = [s for s in summaries if s.status not in running]
        last = dict(
            conn.execute(
                select(t.check_ins.c.move_id, func.max(t.check_ins.c.on))
                .where(t.check_ins.c.move_id.in_([s.id for s in active] or [""]))
                .group_by(t.check_ins.c.move_id)
            ).all()
        )
        due = [
            DueCheckIn(
                move_id=s.id,
                title=s.title,
                last_check_in=last.get(s.id),
                # every two weeks, and the last one by the move's end (it was shown due after the end)
                due=max(today, min(s.end, (last.get(s.id) or s.start) + CHECK_IN_EVERY)),
            )
            for s in active
        ]
        spells = uow.people.assignments(person_id)
        titles_of = names_of(conn, t.roles, [a.role_id for a in spells])
        history = [
            RoleSpell(
                role=titles_of.get(a.role_id, a.role_id),
                start=a.start,
                end=a.end,
                reason=a.reason.value,
                move_id=a.move_id,
            )
            for a in spells
        ]
        levels = uow.people.skill_levels(person_id)
        skill_rows = {
            r.id: r
            for r in conn.execute(
                select(t.skills.c.id, t.skills.c.name, t.skills.c.kind).where(
                    t.skills.c.id.in_(sorted({x.skill_id for x in levels}))
                )
            )
        }
        skill_names = {sid: r.name for sid, r in skill_rows.items()}
        labels = skill_labels(conn, skill_rows)
        titles = {m.id: m.title for m in moves}
        latest: dict[str, Any] = {}
        series: dict[str, list[SkillPoint]] = {}
        for lv in levels:
            latest[lv.skill_id] = lv
            series.setdefault(lv.skill_id, []).append(SkillPoint(on=lv.assessed_on, level=lv.level))
        skills = sorted(
            (
                SkillEntry(
                    skill_id=sid,
                    name=skill_names.get(sid, sid),
                    kind=skill_rows[sid].kind if sid in skill_rows else "skill",
                    label=labels.get(sid, sid),
                    level=lv.level,
                    provenance=str(lv.provenance),
                    assessed_on=lv.assessed_on,
                    evidence_move_id=lv.move_id,
                    evidence_move_title=titles.get(lv.move_id) if lv.move_id else None,
                )
                for sid, lv in latest.items()
            ),
            key=lambda e: (-e.level, e.label),
        )
        # A skill first recorded by a move starts, on the chart, at its level before the move.
        completed = {m.id: m for m in moves if m.status in (MoveStatus.COMPLETED, MoveStatus.REVERTED)}
        gains = conn.execute(
            select(t.skill_gains.c.move_id, t.skill_gains.c.skill_id, t.skill_gains.c.level_before).where(
                t.skill_gains.c.move_id.in_(sorted(completed) or [""])
            )
        ).all()
        for move_id, skill_id, before in gains:
            pts = series.get(skill_id)
            started = completed[move_id].start
            if pts is not None and pts[0].on > started:
                pts.insert(0, SkillPoint(on=started, level=before))
        # Skill growth: the skills that changed over time (more than one point), largest change first.
        grown = sorted(
            (sid for sid, pts in series.items() if len(pts) > 1),
            key=lambda sid: -(series[sid][-1].level - series[sid][0].level),
        )[:6]
        growth = [
            SkillSeries(skill_id=sid, name=skill_names.get(sid, sid), label=labels.get(sid, sid), points=series[sid])
            for sid in grown
        ]
    return PersonPage(
        id=person.id,
        name=person.name,
        email=person.email,
        role=role.title if role else None,
        team=team,
        location=person.location,
        manager=PersonRef(id=manager.id, name=manager.name) if manager else None,
        target_role=target.title if target else None,
        target_role_id=person.target_role_id,
        capacity_percent=person.capacity_percent,
        role_history=history,
        active_moves=active,
        other_moves=others,
        due_check_ins=due,
        skills=skills,
        skill_growth=growth,
        plan=plan_view(db, person_id, reader_person_id=policy.principal.person_id),
        may_propose=policy.may_act_for(person_id),
        may_set_target=policy.may_act_for(person_id),
    )


def plan_view(db: Database, person_id: str, *, reader_person_id: str | None) -> PlanView | None:
    """The person's current plan as their page shows it, with whether it is out of date. Its explanation
    speaks to the reader (the person of the account reading, None for an account without one): "you" to the
    person, else their name ("you already hold …" was read so by their manager and HR)."""
    from micromoves.planning.explain import readdress, subject_for
    from micromoves.services.planning import current_plan, still_current, target_out_of_date

    plan = current_plan(db, person_id)
    if plan is None:
        return None
    with db.engine.connect() as conn:
        target = conn.scalar(select(t.roles.c.title).where(t.roles.c.id == plan.target_role_id))
        name, recorded, person_changed = conn.execute(
            select(t.people.c.name, t.people.c.target_role_id, t.people.c.updated_at).where(t.people.c.id == person_id)
        ).one()
        changed = (
            conn.scalar(select(func.max(t.moves.c.updated_at)).where(t.moves.c.person_id == person_id)),
            person_changed,
        )
    # Its own problem may be unchanged, but it aims at a role the person no longer aims for (or at none): the
    # rule by which nothing counts it as demand either (planning.plan_in_force).
    because: Literal["target_changed", "no_target", "changed"] | None = target_out_of_date(
        plan.target_role_id, recorded
    )
    # Nothing of the person or their moves changed since the plan was made: it is current, no need to build
    # the problem. Else the problem decides (a check-in changes a move, not what the planner reads).
    if because is None and any(at is None or at > plan.created_at for at in changed) and not still_current(db, plan):
        because = "changed"
    ready_on = plan.start + dt.timedelta(weeks=plan.ready_week) if plan.ready_week is not None else None
    return PlanView(
        version=plan.version,
        target_role=target or plan.target_role_id,
        target_role_id=plan.target_role_id,
        horizon_weeks=plan.horizon_weeks,
        outcome=plan.outcome,
        ready_plan_may_exist=bool(plan.explanation.get("ready_plan_may_exist")),
        proven_optimal=bool(plan.explanation.get("optimal", True)),
        ready_week=plan.ready_week,
        ready_on=ready_on,
        steps=[
            PlanStepView(
                title=s["title"],
                kind=s["kind"],
                start=dt.date.fromisoformat(s["start"]),
                end=dt.date.fromisoformat(s["end"]),
                percent_time=s["percent_time"],
                depth_step=bool(s.get("depth_step")),
            )
            for s in plan.steps
        ],
        explanation=readdress(
            [str(x) for x in plan.explanation.get("lines", [])], subject_for(reader_person_id, person_id, name)
        ),
        made_at=plan.created_at,
        out_of_date=because is not None,
        out_of_date_because=because,
    )


class RoleChoice(BaseModel):
    id: str
    title: str
    level: int


class TargetRoleSet(BaseModel):
    """What PUT /api/v1/people/ID/target-role answers a token that may write but not read: the change it made,
    not the person's page (skills, moves, plan, e-mail), which only a token that may read is given."""

    person_id: str
    old_role_id: str | None
    role_id: str | None
    plan_out_of_date: bool


class TargetRoleForm(BaseModel):
    """The target role form of a person's page (its JSON twin): their target and the roles to choose from.
    Set it with PUT /api/v1/people/ID/target-role {"role_id": ROLE} (null clears it)."""

    person: PersonRef
    target_role_id: str | None
    target_role: str | None
    roles: list[RoleChoice]
    may_set_target: bool


def target_role_form(db: Database, policy: Policy, person_id: str) -> TargetRoleForm:
    """A person's target role and the roles there are, for who may see the person (others: not found)."""
    with db.engine.connect() as conn:
        row = conn.execute(
            select(t.people.c.id, t.people.c.name, t.people.c.target_role_id).where(t.people.c.id == person_id)
        ).first()
        policy.require(
            row is not None and policy.sees_person(person_id),
            visible=False,
            action="view",
            entity_type="person",
            entity_id=person_id,
        )
        assert row is not None
        roles = [
            RoleChoice(id=r.id, title=r.title, level=r.level)
            for r in conn.execute(
                select(t.roles.c.id, t.roles.c.title, t.roles.c.level).order_by(t.roles.c.title, t.roles.c.level)
            )
        ]
    titles = {r.id: r.title for r in roles}
    return TargetRoleForm(
        person=PersonRef(id=row.id, name=row.name),
        target_role_id=row.target_role_id,
        target_role=titles.get(row.target_role_id or ""),
        roles=roles,
        may_set_target=policy.may_act_for(person_id),
    )


def move_actions(policy: Policy, move: Move, open_slots: Sequence[str], *, has_handoff: bool = False) -> list[str]:
    """The lifecycle steps the principal may take on the move now (each is also checked when taken)."""
    s = move.status
    actions: list[str] = []
    owner_side = policy.may_act_for(move.person_id)
    runs = policy.runs_move(move.person_id, move.host_team_id)
    if s is MoveStatus.PROPOSED and owner_side:
        actions.append("submit")
    if s in (MoveStatus.PROPOSED, MoveStatus.REQUESTED, MoveStatus.APPROVED, MoveStatus.ONBOARDING) and owner_side:
        actions.append("withdraw")
    if open_slots:
        actions += ["approve", "decline"]
    if s is MoveStatus.APPROVED and runs:
        actions.append("start_onboarding")
    if s is MoveStatus.ONBOARDING and runs and move.start <= dt.date.today() <= move.end:  # within its dates
        actions.append("activate")
    if s in (MoveStatus.ONBOARDING, MoveStatus.ACTIVE, MoveStatus.IN_REVIEW) and (
        policy.is_self(move.person_id) or runs
    ):
        actions.append("check_in")
    if s in (MoveStatus.ACTIVE, MoveStatus.IN_REVIEW) and runs:
        actions.append("review")
    # The rules handoffs.record_handoff checks: a move still to come or under way, one handoff per move,
    # corrected (handoffs.correct_handoff) by the same people while the move has not ended.
    if move.kind in KINDS_WITH_HANDOFF and s not in ENDED_STATUSES and runs:
        actions.append("correct_handoff" if has_handoff else "handoff")
    return actions


def _released(move: Move) -> bool:
    """Has the person been released for the move? Not while it waits for approval or after a decline, nor
    when it was withdrawn before anyone approved it (the line manager is recorded from the start, as the one
    expected to release)."""
    if move.status in (MoveStatus.PROPOSED, MoveStatus.REQUESTED, MoveStatus.DECLINED):
        return False
    return move.status is not MoveStatus.WITHDRAWN or any(h.to_status is MoveStatus.APPROVED for h in move.history)


def load_visible_move(uow: UnitOfWork, policy: Policy, move_id: str, action: str = "view") -> Move:
    move = uow.moves.find(move_id)
    visible = move is not None and policy.sees_move(move.person_id, move.host_team_id)
    if not visible and move is not None and move.status is MoveStatus.REQUESTED:
        # An approver who stands in (HR, a skip-level manager) sees the request they are asked to decide.
        visible = approval_service.needs_me(policy.db, policy, uow.moves.get_full(move_id))
    policy.require(visible, visible=False, action=action, entity_type="move", entity_id=move_id)
    return uow.moves.get_full(move_id)


SLOT_WORDS = {approval_service.Slot.MANAGER: "line manager", approval_service.Slot.HOST: "host team's manager"}
STAND_IN = {
    approval_service.Slot.MANAGER: "HR of the person's unit (no line manager)",
    approval_service.Slot.HOST: "a manager further up or HR (standing in for the host team's manager)",
}


def move_detail(db: Database, policy: Policy, move_id: str) -> MoveDetail:
    with UnitOfWork(db, write=False) as uow:
        move = load_visible_move(uow, policy, move_id)
        conn = uow.session.connection()
        done = approval_service.records(db, move_id)
        slots = approval_service.open_slots(policy, move, done)
        waiting = approval_service.waiting_for(conn, move, done)
        outcome = move.outcome
        r = t.reviews.c
        earlier = conn.execute(select(t.reviews).where(r.move_id == move.id).order_by(r.reviewed_on, r.id)).all()
        actors = [move.person_id, move.released_by_id, *(c.author_id for c in move.check_ins)]
        actors += [h.actor for h in move.history] + [a.approver_id for a in done] + [who for _, who in waiting]
        reviewers = [e.reviewer_id for e in earlier] + ([outcome.reviewer_id] if outcome is not None else [])
        actors += [review_imported_by(r) or r for r in reviewers]
        names = names_of(conn, t.people, actors)
        # Approvals given by an account without a person: by its username (they read "user #5").
        accounts_without_person = [a.approver_user_id for a in done if not a.approver_id and a.approver_user_id]
        if accounts_without_person:
            names.update(
                (f"user #{uid}", name)
                for uid, name in conn.execute(
                    select(t.users.c.id, t.users.c.username).where(t.users.c.id.in_(accounts_without_person))
                )
            )
        earlier_gains = {g["skill_id"] for e in earlier for g in e.gains}
        skills = skill_labels(conn, {*move.skills_targeted, *(g.skill_id for g in move.skill_gains), *earlier_gains})
        statements = {c.position: c.statement for c in move.criteria}
        host = names_of(conn, t.teams, [move.host_team_id]).get(move.host_team_id or "")
        target = conn.scalar(select(t.roles.c.title).where(t.roles.c.id == move.target_role_id))
        may_read_notes = outcome is not None and (
            not outcome.confidential or policy.sees_confidential(move.person_id, outcome.reviewer_id)
        )
        return MoveDetail(
            id=move.id,
            title=move.title,
            kind=move.kind,
            status=move.status,
            start=move.start,
            end=move.end,
            percent_time=move.percent_time,
            person=PersonRef(id=move.person_id, name=names.get(move.person_id, move.person_id)),
            host_team=host,
            target_role=target,
            released_by=(
                PersonRef(id=move.released_by_id, name=names.get(move.released_by_id, move.released_by_id))
                if move.released_by_id and _released(move)
                else None
            ),
            expected_outcomes=move.expected_outcomes,
            skills_targeted=[skills.get(s, s) for s in move.skills_targeted],
            criteria=[
                CriterionView(
                    position=c.position,
                    statement=c.statement,
                    rating=str(c.rating) if c.rating else None,
                    evidence=c.evidence,
                )
                for c in sorted(move.criteria, key=lambda c: c.position)
            ],
            check_ins=[
                CheckInView(on=c.on, author=actor_name(names, c.author_id), note=c.note, progress=c.progress)
                for c in sorted(move.check_ins, key=lambda c: (c.on, c.id or 0))
            ],
            skill_gains=[
                GainView(
                    skill=skills.get(g.skill_id, g.skill_id), level_before=g.level_before, level_after=g.level_after
                )
                for g in move.skill_gains
            ],
            outcome=(
                OutcomeView(
                    decision=str(outcome.decision),
                    reviewed_on=outcome.reviewed_on,
                    **reviewed_by(names, outcome.reviewer_id),
                    confidential=outcome.confidential,
                    notes=outcome.notes if may_read_notes else None,
                )
                if outcome is not None
                else None
            ),
            earlier_reviews=[
                EarlierReview(
                    decision=str(e.decision),
                    reviewed_on=e.reviewed_on,
                    **reviewed_by(names, e.reviewer_id),
                    confidential=e.confidential,
                    # hidden exactly as the current outcome's notes are
                    notes=e.notes
                    if not e.confidential or policy.sees_confidential(move.person_id, e.reviewer_id)
                    else None,
                    criteria=[
                        CriterionView(
                            position=int(pos),
                            # as that review saw it (an import may reorder the criteria since)
                            statement=given.get("statement") or statements.get(int(pos), ""),
                            rating=given["rating"],
                            evidence=given["evidence"],
                        )
                        for pos, given in sorted(e.ratings.items(), key=lambda x: int(x[0]))
                    ],
                    skill_gains=[
                        GainView(
                            skill=skills.get(g["skill_id"], g["skill_id"]),
                            level_before=g["level_before"],
                            level_after=g["level_after"],
                        )
                        for g in e.gains
                    ],
                )
                for e in earlier
            ],
            history=[
                HistoryEntry(
                    at=h.at,
                    actor=actor_name(names, h.actor),
                    from_status=str(h.from_status) if h.from_status else None,
                    to_status=str(h.to_status),
                    reason=h.reason,
                )
                for h in sorted(move.history, key=lambda h: (h.at, h.id or 0))
            ],
            waiting_for=[
                f"{SLOT_WORDS[slot]}: {names.get(who, who) if who else STAND_IN[slot]}" for slot, who in waiting
            ],
            approvals=[
                ApprovalView(
                    slot=a.slot.value,
                    approver=_approver(names, a.approver_id, a.approver_user_id),
                    decision=a.decision.value,
                    at=a.at,
                    note=a.note,
                )
                for a in done
            ],
            actions=(
                actions := [
                    a
                    for a in move_actions(
                        policy,
                        move,
                        slots,
                        has_handoff=conn.scalar(select(t.handoffs.c.id).where(t.handoffs.c.move_id == move.id))
                        is not None,
                    )
                    # as in the approvals queue: an approval of a move that no longer fits is refused
                    if a != "approve" or move.id not in _fit_problems(conn, [move], policy)
                ]
            ),
            decisions=review_decisions(move) if "review" in actions else [],
            no_convert=convert_unavailable(move) if "review" in actions else None,
            gain_suggestions=_gain_suggestions(uow, policy, move, skills) if "review" in actions else [],
        )


def _gain_suggestions(uow: UnitOfWork, policy: Policy, move: Move, labels: dict[str, str]) -> list[GainSuggestion]:
    # A reviewer who may not open the person's page (a host manager) is not shown their profile's levels.
    shown = policy.sees_person(move.person_id)
    profile = uow.people.profile(move.person_id) if shown else {}
    return [
        GainSuggestion(
            skill_id=s,
            skill=labels.get(s, s),
            level_now=profile[s].level if s in profile else None,
            level_shown=shown,
        )
        for s in move.skills_targeted
    ]


def review_decisions(move: Move) -> list[str]:
    """What :func:`micromoves.services.moves.review_move` can decide for this move."""
    order = (Decision.END, Decision.CONVERT, Decision.CONTINUE, Decision.EXTEND, Decision.REVERT)
    convertible = convert_unavailable(move) is None
    return [d.value for d in order if d is not Decision.CONVERT or convertible]


def convert_unavailable(move: Move) -> str | None:
    """Why a review cannot convert this move into a role (None: it can)."""
    refusal = rules.convert_refusal(move.kind)
    if refusal is None and not move.target_role_id:
        return "the move has no target role to convert into"
    return refusal


def approval_queue(db: Database, policy: Policy, page: PageQuery = FIRST_PAGE) -> ApprovalQueue:
    """A page of the requested moves waiting for a decision the principal may give, soonest first."""
    c = t.moves.c
    decidable = approval_service.decidable(policy)
    if decidable is None:
        return ApprovalQueue(items=[], **page.answer(0))
    with UnitOfWork(db, write=False) as uow:
        total = count(uow.session.connection(), decidable)
        ids = list(uow.session.scalars(page.rows(decidable.order_by(c.start, c.id))))
        items = []
        # One query per kind of fact for the whole page (not per move): moves with their criteria, approval
        # records, host managers, management chains.
        criteria = selectinload(Move.criteria)  # type: ignore[arg-type]  # imperative mapping: mypy sees a list
        loaded = uow.session.scalars(select(Move).where(c.id.in_(ids)).options(criteria))
        by_id = {m.id: m for m in loaded}
        moves = [by_id[i] for i in ids]
        conn = uow.session.connection()
        summaries = {s.id: s for s in _summaries(conn, moves)}
        decided = approval_service.records_for(conn, ids)
        hosts = approval_service.host_managers(conn, [m.host_team_id for m in moves])
        policy.prefetch_chains([m.person_id for m in moves])
        fits = _fit_problems(conn, moves, policy)
        for move in moves:
            done = decided[move.id]
            slots = approval_service.open_slots(policy, move, done, hosts=hosts)
            if slots:  # always: decidable selected only these (a decision since then may have taken the slot)
                items.append(
                    ApprovalItem(
                        move=summaries[move.id],
                        slot=slots[0].value,
                        stand_in=approval_service.stand_in(policy, move, slots[0], done, hosts=hosts),
                        criteria=[x.statement for x in sorted(move.criteria, key=lambda x: x.position)],
                        approvals_so_far=sum(1 for d in done if d.decision is approval_service.Verdict.APPROVED),
                        blocked=fits.get(move.id),
                    )
                )
    return ApprovalQueue(items=items, **page.answer(total))


def _fit_problems(conn: Any, moves: Sequence[Move], policy: Policy) -> dict[str, str]:
    """Per requested move, why it does not fit beside its person's committed moves (the check its approval
    makes, :func:`rules.check_fits`; or, first, why it starts before its person's hire date), for a whole
    queue in two queries. It names only the other moves the viewer may see (``policy.sees_move``): a host
    manager read "together with M-… would use 120%" of a move they cannot open; the others are told by share
    and dates."""
    people = {m.person_id for m in moves}
    if not people:
        return {}
    c, pc = t.moves.c, t.people.c
    committed: dict[str, list[rules.Interval]] = {}
    hosts: dict[str, str | None] = {}
    rows = conn.execute(
        select(c.id, c.person_id, c.start, c.end, c.percent_time, c.host_team_id).where(
            c.person_id.in_(sorted(people)), c.status.in_([s.value for s in OCCUPYING_STATUSES])
        )
    )
    for r in rows:
        committed.setdefault(r.person_id, []).append(rules.Interval(r.id, r.start, r.end, r.percent_time))
        hosts[r.id] = r.host_team_id
    capacity, hired = {}, {}
    for r in conn.execute(
        select(pc.id, pc.capacity_percent, pc.home_role_min_percent, pc.hire_date).where(pc.id.in_(sorted(people)))
    ):
        capacity[r.id] = r.capacity_percent - r.home_role_min_percent
        hired[r.id] = r.hire_date
    problems = {}
    for m in moves:
        others = [i for i in committed.get(m.person_id, []) if i.move_id != m.id]
        person = m.person_id

        def named(move_id: str, person: str = person) -> bool:
            return policy.sees_move(person, hosts[move_id])

        try:
            rules.check_after_hire(m.start, hired[m.person_id], m.person_id)  # as moves.check_hired
            rules.check_fits(
                rules.Interval(m.id, m.start, m.end, m.percent_time), others, capacity[m.person_id], named=named
            )
        except DomainError as exc:
            problems[m.id] = exc.message
    return problems


def team_page(db: Database, policy: Policy, page: PageQuery = FIRST_PAGE, *, today: dt.date | None = None) -> TeamPage:
    """A page of the principal's direct reports (by id) and the moves they are on (or about to start)."""
    today = today or dt.date.today()
    p = policy.principal
    if p.person_id is None:
        return TeamPage(manager=None, members=[], **page.answer(0))
    with UnitOfWork(db, write=False) as uow:
        conn = uow.session.connection()
        me = uow.people.get(p.person_id)
        total = count(conn, select(t.people.c.id).where(t.people.c.manager_id == p.person_id))
        reports = list(uow.people.list(manager_id=p.person_id, limit=page.page_size, offset=page.offset))
        roles = dict(conn.execute(select(t.roles.c.id, t.roles.c.title)).all())
        c = t.moves.c
        current = list(
            uow.moves.session.scalars(
                select(Move)
                .where(
                    c.person_id.in_([r.id for r in reports] or [""]),
                    c.status.in_([MoveStatus.APPROVED, MoveStatus.ONBOARDING, MoveStatus.ACTIVE, MoveStatus.IN_REVIEW]),
                    c.end >= today,
                )
                .order_by(c.start)
            )
        )
        summaries = _summaries(conn, current)
    by_person: dict[str, list[MoveSummary]] = {}
    for s in summaries:
        by_person.setdefault(s.person.id, []).append(s)
    members = []
    for r in reports:
        mine = by_person.get(r.id, [])
        now = [m for m in mine if m.start <= today <= m.end and m.status in OCCUPYING_STATUSES]
        members.append(
            TeamMember(
                person=PersonRef(id=r.id, name=r.name),
                role=roles.get(r.role_id) if r.role_id else None,
                moves=mine,
                percent_away=min(100, sum(m.percent_time for m in now)),
                returning_on=max((m.end for m in now), default=None),
            )
        )
    return TeamPage(manager=PersonRef(id=me.id, name=me.name), members=members, **page.answer(total))


def _directory_filter(policy: Policy, f: PeopleSelection) -> list[Any]:
    """Who the principal may see (HR their units, managers their reports, admins everyone), filtered."""
    p = t.people.c
    where = [x for x in (policy.people_filter(),) if x is not None]
    if f.q:
        where.append(people_matching(f.q))
    if f.team:
        where.append(p.team_id == f.team)
    if f.changed_since:
        where.append(changed_since(p.updated_at, f.changed_since))
    return where


def directory(db: Database, policy: Policy, f: PeopleFilter | None = None) -> Directory:
    """People the principal may see: HR their units, managers their reports, admins everyone."""
    f = f or PeopleFilter()
    p = t.people.c
    where = _directory_filter(policy, f)
    with db.engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(t.people).where(*where)) or 0
        teams = team_options(conn, policy.team_filter())
        rows = conn.execute(
            f.rows(
                select(p.id, p.name, p.email, t.roles.c.title, t.teams.c.name.label("team"), p.location, p.updated_at)
                .select_from(t.people)
                .outerjoin(t.roles, t.roles.c.id == p.role_id)
                .outerjoin(t.teams, t.teams.c.id == p.team_id)
                .where(*where)
                .order_by(p.name, p.id)
            )
        ).all()
    return Directory(
        people=[
            PersonRow(
                id=r.id,
                name=r.name,
                email=r.email,
                role=r.title,
                team=r.team,
                location=r.location,
                updated_at=r.updated_at,
            )
            for r in rows
        ],
        **f.answer(total),
        teams=teams,
    )


def _visible_moves(policy: Policy) -> Any:
    """A WHERE clause on ``moves`` selecting those the principal sees (None: all): of the people they see,
    or hosted by a team they manage."""
    c = t.moves.c
    visible = policy.people_filter()
    if visible is None:
        return None
    people_seen = select(t.people.c.id).where(visible)
    hosted = sorted(policy.hosted_teams)
    return or_(c.person_id.in_(people_seen), c.host_team_id.in_(hosted)) if hosted else c.person_id.in_(people_seen)


def _move_query(policy: Policy, f: MoveSelection) -> Any:
    c = t.moves.c
    q = select(Move)
    visible = _visible_moves(policy)
    if visible is not None:
        q = q.where(visible)
    if f.status:
        q = q.where(c.status == f.status)
    if f.kind:
        q = q.where(c.kind == f.kind)
    if f.team:
        q = q.where(c.host_team_id == f.team)
    if f.person:
        q = q.where(c.person_id == f.person)
    if f.person_team:
        q = q.where(c.person_id.in_(select(t.people.c.id).where(t.people.c.team_id == f.person_team)))
    if f.changed_since:
        q = q.where(changed_since(c.updated_at, f.changed_since))
    return q


def move_list(db: Database, policy: Policy, f: MoveFilter) -> MoveList:
    q = _move_query(policy, f)
    with UnitOfWork(db, write=False) as uow:
        total = uow.session.scalar(select(func.count()).select_from(q.subquery())) or 0
        moves = list(uow.session.scalars(f.rows(q.order_by(t.moves.c.start.desc(), t.moves.c.id))))
        conn = uow.session.connection()
        summaries = _summaries(conn, moves)
        # The teams that can match: of the people on a move the principal sees, hosting one (admins: all).
        visible = _visible_moves(policy)
        on_moves = select(t.moves.c.person_id) if visible is None else select(t.moves.c.person_id).where(visible)
        people_on = select(t.people.c.team_id).where(t.people.c.id.in_(on_moves))
        teams = team_options(conn, None if visible is None else t.teams.c.id.in_(people_on))
        hosting = None if visible is None else t.teams.c.id.in_(select(t.moves.c.host_team_id).where(visible))
        host_teams = team_options(conn, hosting)
    return MoveList(
        moves=summaries,
        **f.answer(total),
        teams=teams,
        host_teams=host_teams,
    )


def move_rows(db: Database, policy: Policy, f: MoveSelection, *, chunk: int = 2000) -> Iterator[list[str]]:
    """Every move the principal may see that matches the filter, as CSV rows (header first), streamed in
    id order, a chunk per short read transaction.

    Each chunk starts after the last id of the one before, on the primary key's index: with OFFSET every
    chunk sorted and skipped all the moves before it, so a million-move export did 500 sorts of up to a
    million rows."""
    # The host team's id beside its name, as people.csv has team_id beside team: the interchange
    # moves.csv's host_team is the id, and a name alone is ambiguous when two teams share one.
    yield [
        "id",
        "person_id",
        "person",
        "kind",
        "title",
        "status",
        "start",
        "end",
        "percent_time",
        "host_team",
        "host_team_id",  # after the others: a reader by column position keeps the columns it had
        "updated_at",
    ]
    q = _move_query(policy, f).order_by(t.moves.c.id)
    after: str | None = None
    while True:
        with UnitOfWork(db, write=False) as uow:
            moves = list(uow.session.scalars((q if after is None else q.where(t.moves.c.id > after)).limit(chunk)))
            rows = _summaries(uow.session.connection(), moves)
        for m, s in zip(moves, rows, strict=True):
            yield [
                s.id,
                s.person.id,
                s.person.name,
                s.kind.value,
                s.title,
                s.status.value,
                s.start.isoformat(),
                s.end.isoformat(),
                str(s.percent_time),
                s.host_team or "",
                m.host_team_id or "",
                _cell(s.updated_at),
            ]
        if len(moves) < chunk:
            return
        after = moves[-1].id


def people_rows(
    db: Database, policy: Policy, f: PeopleSelection | None = None, *, chunk: int = 5000
) -> Iterator[list[str]]:
    """Every person of the directory (same visibility and filters), as CSV rows (header first), streamed:
    what the directory shows, with the ids beside the names (nothing the pages do not show, such as hire
    dates)."""
    # updated_at last, as host_team_id in the moves' export: a reader by position keeps its columns.
    yield ["id", "name", "email", "role_id", "role", "team_id", "team", "manager_id", "location", "updated_at"]
    p = t.people.c
    q = (
        select(
            p.id,
            p.name,
            p.email,
            p.role_id,
            t.roles.c.title,
            p.team_id,
            t.teams.c.name,
            p.manager_id,
            p.location,
            p.updated_at,
        )
        .select_from(t.people)
        .outerjoin(t.roles, t.roles.c.id == p.role_id)
        .outerjoin(t.teams, t.teams.c.id == p.team_id)
        .where(*_directory_filter(policy, f or PeopleSelection()))
        .order_by(p.id)
    )
    after = None
    while True:
        with db.engine.connect() as conn:
            rows = conn.execute((q if after is None else q.where(p.id > after)).limit(chunk)).all()
        for r in rows:
            yield [_cell(v) for v in r]
        if len(rows) < chunk:
            return
        after = rows[-1].id


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        # As the JSON writes it (…Z): a +00:00 pasted into ?changed_since= unencoded reads as a space.
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def principal_person(principal: Principal, field: str) -> str:
    """The person a request left unnamed in ``field``: the account's own. An account without one (an
    admin, HR) must name it: a missing field of the request (422 naming it), not a missing object (404)."""
    if principal.person_id is None:
        raise InvalidValue(
            f"this account is not linked to a person: give {field}, the person it is for (or open a person's "
            "page from the directory)",
            field=field,
        )
    return principal.person_id
