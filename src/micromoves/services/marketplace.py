"""The marketplace of short opportunities: publish, apply, offer, accept — and what follows.

Every function takes the caller's :class:`Policy`: the CLI and the web app share these paths. Seats are
guarded under a lock on the opportunity's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite writers are
serialised by ``BEGIN IMMEDIATE``), so two people accepting the last seat at once never both get it: the
second gets a :class:`Conflict`.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from micromoves.domain import rules, vocabulary
from micromoves.domain.errors import Conflict, InvalidValue, NotFound, named_in_request
from micromoves.domain.lifecycle import COMMITTED_STATUSES, allowed_next
from micromoves.domain.marketplace import (
    CHECKLIST_OWNER_WORDS,
    LIVE_APPLICATIONS,
    ONBOARDING_CHECKLIST,
    ONBOARDING_OPEN,
    SEAT_HOLDING,
    ApplicationStatus,
    Candidate,
    ChecklistOwner,
    Eligibility,
    OpportunityStatus,
    before_first_day,
    check_application_transition,
    check_opportunity,
    check_opportunity_transition,
    ineligibility,
    may_apply_again,
    onboarding_owner,
)
from micromoves.domain.model import MoveKind, MoveStatus
from micromoves.services import moves as move_service
from micromoves.services.accounts import Scope
from micromoves.services.planning import OPPORTUNITY_PREFIX, WhatIf, plan_benefit, plan_in_force, replan_without
from micromoves.services.policy import Policy
from micromoves.services.views import names_of
from micromoves.settings import get_settings
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.repositories import resolve_skill_id
from micromoves.storage.uow import UnitOfWork, record_audit, utcnow

log = logging.getLogger(__name__)

# Follow-up work a use case hands to its caller: the web runs it after the response is sent (FastAPI's
# BackgroundTasks.add_task), so nobody waits on re-planning; the CLI runs it at once (the default).
Later = Callable[[Callable[[], None]], None]


def on_the_market(today: dt.date | None = None) -> Any:
    """Opportunities that are open, or filled until they end (taken, not gone): what the marketplace lists
    and the congestion report counts. A filled one whose dates are over is history; its move keeps it."""
    o = t.opportunities.c
    return (o.status == OS.OPEN.value) | ((o.status == OS.FILLED.value) & (o.end >= (today or dt.date.today())))


def first_activations() -> Any:
    """Subquery (move_id, on): when each move that started was first made active (a reverted trial had
    started too); for the release ledger's late starts and the congestion report's time to start."""
    sc = t.status_changes.c
    return (
        select(sc.move_id, func.min(sc.at).label("on"))
        .where(sc.to_status == MoveStatus.ACTIVE.value)
        .group_by(sc.move_id)
        .subquery("activated")
    )


def _now(job: Callable[[], None]) -> None:
    job()


A = ApplicationStatus
OS = OpportunityStatus
MAX_LOCATION_CHARS = 200  # a place name, as a person's location (people.location)


@dataclass(frozen=True)
class OpportunityInput:
    title: str
    kind: MoveKind | str
    host_team_id: str
    start: dt.date
    end: dt.date
    percent_time: int
    seats: int = 1
    description: str = ""
    required_skills: Mapping[str, float] | None = None
    preferred_skills: Mapping[str, float] | None = None
    builds_skills: Mapping[str, float] | None = None
    expected_outcomes: str = ""
    success_criteria: Sequence[str] = ()
    min_role_level: int | None = None
    min_tenure_months: int | None = None
    locations: Sequence[str] = ()
    application_deadline: dt.date | None = None
    template_id: str | None = None


def _skills(conn: Connection, levels: Mapping[str, float] | None, field: str) -> dict[str, float]:
    """Resolve skill ids or names; levels on the 0–7 scale."""
    out: dict[str, float] = {}
    for key, level in (levels or {}).items():
        with named_in_request(field):  # an unknown or ambiguous name (it picked one of Mathematics' two)
            skill_id = resolve_skill_id(conn, key)
        if not 0 <= float(level) <= 7:
            raise InvalidValue(f"{key}: a level is on the 0–7 scale, got {level}", field=field)
        if skill_id in out:
            raise InvalidValue(f"{key}: skill {skill_id} is given twice", field=field)
        out[skill_id] = float(level)
    return out


def host_manager_of(conn: Connection, team_id: str) -> str | None:
    return conn.scalar(select(t.team_managers.c.person_id).where(t.team_managers.c.team_id == team_id))


# ----------------------------------------------------------------------------------- opportunities


def _check_reachable(conn: Connection, data: OpportunityInput) -> None:
    """Refuse eligibility rules that nobody in the organisation could meet: a minimum role level above every
    role, or a location where nobody works (an opportunity "open to Mars only" was published, and every
    card then said the person could not apply, without saying the rule was a typo). Locations are checked
    only once some are recorded."""
    if data.min_role_level is not None:
        top = conn.scalar(select(func.max(t.roles.c.level)))
        if top is not None and data.min_role_level > top:
            raise InvalidValue(
                f"no role is at level {data.min_role_level} or above (the highest is {top}): nobody could apply",
                field="min_role_level",
            )
    if data.locations:
        known = set(conn.scalars(select(t.people.c.location).where(t.people.c.location != "").distinct()))
        unknown = [x for x in data.locations if x not in known]
        # Where no location is recorded yet (an HRIS that does not send them), a rule cannot be checked.
        if unknown and known:
            listed = ", ".join(sorted(known)[:12]) + (", …" if len(known) > 12 else "")
            raise InvalidValue(f"nobody works in {unknown[0]!r}; people work in: {listed}", field="locations")


def create_opportunity(db: Database, policy: Policy, data: OpportunityInput, *, publish: bool = False) -> str:
    """A draft opportunity, by the host team's manager, HR for the team, or an admin. ``publish``: open it at
    once, in the same transaction (the host team's manager's call, or an admin's): refused before anything
    is written when the actor may not publish, instead of leaving a draft behind."""
    policy.require_scope(Scope.WRITE)
    check_opportunity(
        title=data.title,
        start=data.start,
        end=data.end,
        percent_time=data.percent_time,
        seats=data.seats,
        max_weeks=get_settings().max_move_weeks,
        today=dt.date.today(),
        application_deadline=data.application_deadline,
    )
    kind = vocabulary.parse(MoveKind, data.kind, field="kind")
    if not data.success_criteria:  # an empty one is named by the rules ("success criterion 2: text is empty")
        raise InvalidValue("give the success criteria the move will be reviewed against", field="success_criteria")
    rules.check_criteria(data.success_criteria)
    for location in data.locations:
        if not location.strip() or len(location) > MAX_LOCATION_CHARS:
            raise InvalidValue(
                f"a location is 1 to {MAX_LOCATION_CHARS} characters, got {len(location.strip())}", field="locations"
            )
    opportunity_id = f"OPP-{uuid.uuid4().hex[:10]}"
    p = policy.principal
    with db.engine.connect() as conn:
        if conn.scalar(select(t.teams.c.id).where(t.teams.c.id == data.host_team_id)) is None:
            raise InvalidValue(f"unknown team {data.host_team_id!r}", field="host_team_id")
        _check_reachable(conn, data)
    # Decided before the write transaction: a refusal writes its own audit record.
    allowed = _runs_for(policy, data.host_team_id)
    if not allowed:
        policy.deny("offer opportunities for", "team", data.host_team_id, visible=True)
    if publish and not _may_publish(policy, data.host_team_id):
        policy.deny(f"set to {OS.OPEN}", "team", data.host_team_id, visible=True)
    with db.write_engine.begin() as conn:
        if (
            data.template_id
            and conn.scalar(select(t.move_templates.c.id).where(t.move_templates.c.id == data.template_id)) is None
        ):
            raise NotFound(f"unknown move template {data.template_id!r}", field="template_id")
        conn.execute(
            insert(t.opportunities).values(
                id=opportunity_id,
                title=data.title.strip(),
                description=data.description,
                kind=kind,
                host_team_id=data.host_team_id,
                host_manager_id=host_manager_of(conn, data.host_team_id),
                start=data.start,
                end=data.end,
                percent_time=data.percent_time,
                seats=data.seats,
                required_skills=_skills(conn, data.required_skills, "required_skills"),
                preferred_skills=_skills(conn, data.preferred_skills, "preferred_skills"),
                builds_skills=_skills(conn, data.builds_skills, "builds_skills"),
                expected_outcomes=data.expected_outcomes,
                criteria_template=[c.strip() for c in data.success_criteria],
                min_role_level=data.min_role_level,
                min_tenure_months=data.min_tenure_months,
                locations=list(data.locations),
                application_deadline=data.application_deadline,
                status=(OS.OPEN if publish else OS.DRAFT).value,
                approved_by=p.actor if publish else None,
                template_id=data.template_id,
                created_by=p.actor,
                created_at=utcnow(),
            )
        )
        record_audit(conn, p.actor, "opportunity.created", "opportunity", opportunity_id, title=data.title)
        if publish:
            record_audit(conn, p.actor, f"opportunity.{OS.OPEN.value}", "opportunity", opportunity_id, previous="draft")
    return opportunity_id


def _check_not_over(opp: Any, today: dt.date) -> None:
    """Refuse to apply for, offer or accept a seat of an opportunity whose end has passed (dates are
    inclusive): its move could never start, and an accepted offer would hold the seat for a move that ended
    before it was requested. Nothing closes an open opportunity when its dates are over."""
    if opp.end < today:
        raise Conflict(f"opportunity {opp.id} ended on {opp.end.isoformat()}; its move can no longer run", field="end")


def _opportunity(conn: Connection, opportunity_id: str, *, lock: bool = False) -> Any:
    q = select(t.opportunities).where(t.opportunities.c.id == opportunity_id)
    row = conn.execute(q.with_for_update() if lock else q).first()
    if row is None:
        raise NotFound(f"unknown opportunity {opportunity_id!r}", field="opportunity_id")
    return row


def _may_run(policy: Policy, opp: Any) -> bool:
    """The host side of an opportunity: its host manager, HR for the host team, admins."""
    return _runs_for(policy, opp.host_team_id)


def never_published(opp: Any) -> bool:
    """A draft, one pending approval, or one cancelled before it was published (``approved_by`` is set when
    it is): never on the market, so only its host side and its author may know it (cancelled unseen, it was
    readable by anyone given its id)."""
    status = OpportunityStatus(opp.status)
    return status in (OS.DRAFT, OS.PENDING_APPROVAL) or (status is OS.CANCELLED and opp.approved_by is None)


def sees_opportunity(policy: Policy, opp: Any) -> bool:
    """Whether the principal may know of the opportunity: any published one, else its host side or author."""
    return not never_published(opp) or _may_run(policy, opp) or opp.created_by == policy.principal.actor


def _seen_opportunity(db: Database, policy: Policy, opportunity_id: str, *, action: str) -> Any:
    """The opportunity, if the principal may know of it (:func:`sees_opportunity`); else not found, as one
    that does not exist."""
    with db.engine.connect() as conn:
        opp = _opportunity(conn, opportunity_id)
    policy.require(
        sees_opportunity(policy, opp), visible=False, action=action, entity_type="opportunity", entity_id=opportunity_id
    )
    return opp


def _runs_for(policy: Policy, team_id: str) -> bool:
    """The host side of a team's opportunities: its manager, HR for the team, admins."""
    p = policy.principal
    return p.is_admin or policy.hosts(team_id) or (p.is_hr and team_id in policy.hr_units)


def may_offer(policy: Policy) -> bool:
    """Whether the principal runs the opportunities of some team (:func:`_runs_for` of at least one)."""
    return policy.principal.is_admin or bool(policy.hosted_teams) or bool(policy.hr_units)


def _may_publish(policy: Policy, team_id: str) -> bool:
    """Publishing (opening) a team's opportunity is its manager's call; an admin may stand in."""
    return policy.principal.is_admin or policy.hosts(team_id)


def set_opportunity_status(
    db: Database, policy: Policy, opportunity_id: str, to: OpportunityStatus | str, *, later: Later | None = None
) -> None:
    """Submit a draft, publish (the host team's manager approves), close or cancel an opportunity."""
    policy.require_scope(Scope.WRITE)
    try:
        to = OpportunityStatus(to)
    except ValueError:
        raise InvalidValue(f"unknown opportunity status {to!r}", field="status") from None
    opp = _seen_opportunity(db, policy, opportunity_id, action="change")
    p = policy.principal
    if to is OS.OPEN:
        # Publishing is the host team manager's call (an admin may stand in).
        allowed = _may_publish(policy, opp.host_team_id)
    else:
        allowed = _may_run(policy, opp) or (to is OS.PENDING_APPROVAL and opp.created_by == p.actor)
    policy.require(allowed, visible=True, action=f"set to {to}", entity_type="opportunity", entity_id=opportunity_id)
    with db.write_engine.begin() as conn:
        opp = _opportunity(conn, opportunity_id, lock=True)
        check_opportunity_transition(OpportunityStatus(opp.status), to)
        if to is OS.OPEN and opp.status == OS.PENDING_APPROVAL.value:
            _check_not_over(opp, dt.date.today())  # published past its dates: listed, and nothing to do with it
        if to is OS.FILLED and (taken := seats_taken(conn, opportunity_id)) < opp.seats:
            raise Conflict(
                f"{opp.seats - taken} of {opp.seats} seat(s) of {opportunity_id} are still free: it is filled when the "
                "last is accepted; close it if nobody else should join",
                field="status",
            )
        if to is OS.OPEN and opp.status == OS.FILLED.value and seats_taken(conn, opportunity_id) >= opp.seats:
            # Filled → open is the way back of a seat given back (release_seat_of): published again while
            # every seat is taken, it was listed as open, taking applications for no seat.
            raise Conflict(
                f"every seat of {opportunity_id} is accepted: it reopens when one is given back", field="status"
            )
        if to is OS.CANCELLED and (taken := seats_taken(conn, opportunity_id)):
            # Cancelling says the move will not happen, but accepted seats have their moves in the tracker,
            # which would go on (approved, started) under a cancelled opportunity.
            raise Conflict(
                f"{taken} seat(s) of {opportunity_id} are accepted and their moves are in the tracker: close it so "
                "that nobody else joins, or withdraw those moves first",
                field="status",
            )
        values: dict[str, Any] = {"status": to.value}
        if to is OS.OPEN:
            values["approved_by"] = p.actor
        conn.execute(update(t.opportunities).where(t.opportunities.c.id == opportunity_id).values(**values))
        if to in (OS.CLOSED, OS.CANCELLED):
            # Nobody keeps waiting on a closed opportunity: the organisation's answer to each is no.
            now = utcnow()
            conn.execute(
                update(t.applications)
                .where(
                    t.applications.c.opportunity_id == opportunity_id,
                    t.applications.c.status.in_([s.value for s in LIVE_APPLICATIONS]),
                )
                .values(
                    status=A.REJECTED.value,
                    decided_at=now,
                    decided_by=p.actor,
                    # An offer made before is the organisation's answer; closing only ends it.
                    offered_or_rejected_at=func.coalesce(t.applications.c.offered_or_rejected_at, now),
                )
            )
        record_audit(conn, p.actor, f"opportunity.{to.value}", "opportunity", opportunity_id, previous=opp.status)
    if to in (OS.CLOSED, OS.CANCELLED, OS.FILLED):
        (later or _now)(lambda: _replan_around(db, opportunity_id, to, actor=p.actor))


def _replan_around(db: Database, opportunity_id: str, status: OpportunityStatus, *, actor: str) -> None:
    """The plans that took an opportunity that is no longer open (closed, cancelled, or filled: its last
    seat was taken) are made again without it, as a plan whose move was reverted is. The people holding a
    seat keep their plans: the step is theirs. The status change stands whatever happens here (it was
    committed before): any failure is audited, and the next ``plan-all --changed-only`` re-plans them (the
    options are part of each plan's digest).

    A seat taken and then given back (the release declined, the offer withdrawn) reopens the opportunity;
    the plans made without it meanwhile stay valid, and the next plan-all may take it again."""
    try:
        with db.engine.connect() as conn:
            holders = set(
                conn.scalars(
                    select(t.applications.c.person_id).where(
                        t.applications.c.opportunity_id == opportunity_id,
                        t.applications.c.status.in_([s.value for s in SEAT_HOLDING]),
                    )
                )
            )
        replan_without(
            db,
            OPPORTUNITY_PREFIX + opportunity_id,
            actor=actor,
            reason=f"opportunity {opportunity_id} was {status.value}",
            keep=holders,
        )
    except Exception as exc:  # after the commit nothing may undo the change or fail the request
        try:
            with db.write_engine.begin() as conn:
                record_audit(conn, actor, "plan.replan_failed", "opportunity", opportunity_id, error=str(exc))
        except Exception:  # the database itself is failing: the log keeps the trace
            log.exception("re-planning around opportunity %s failed, and so did auditing it", opportunity_id)


def seats_taken(conn: Connection, opportunity_id: str) -> int:
    c = t.applications.c
    return int(
        conn.scalar(
            select(func.count()).where(
                c.opportunity_id == opportunity_id, c.status.in_([s.value for s in SEAT_HOLDING])
            )
        )
        or 0
    )


SEATS_CHUNK = 1000  # opportunity ids per IN list of seats_taken_of (well under every backend's bound)


def seats_taken_of(conn: Connection, opportunity_ids: Sequence[str]) -> dict[str, int]:
    """:func:`seats_taken` of many opportunities, one GROUP BY per thousand (for a list page: one query per
    card made the marketplace's statements grow with the opportunities on offer). Absent: none taken."""
    c = t.applications.c
    wanted = sorted(set(opportunity_ids))
    taken: dict[str, int] = {}
    for i in range(0, len(wanted), SEATS_CHUNK):
        taken.update(
            (oid, int(n))
            for oid, n in conn.execute(
                select(c.opportunity_id, func.count())
                .where(
                    c.opportunity_id.in_(wanted[i : i + SEATS_CHUNK]),
                    c.status.in_([s.value for s in SEAT_HOLDING]),
                )
                .group_by(c.opportunity_id)
            )
        )
    return taken


# ------------------------------------------------------------------------------------ eligibility


def candidate(conn: Connection, person_id: str, start: dt.date, end: dt.date) -> Candidate:
    """The facts eligibility needs about a person, for a move over ``start``–``end``."""
    p = conn.execute(select(t.people).where(t.people.c.id == person_id)).first()
    if p is None:
        raise NotFound(f"unknown person {person_id!r}", field="person_id")
    level = conn.scalar(select(t.roles.c.level).where(t.roles.c.id == p.role_id)) if p.role_id else None
    return Candidate(
        person_id=person_id,
        role_level=level,
        hire_date=p.hire_date,
        location=p.location,
        skills=profile(conn, person_id),
        free_percent=free_percent(conn, p, start, end),
    )


def free_percent(conn: Connection, person: Any, start: dt.date, end: dt.date) -> int:
    """The share of time ``person`` (a people row) has free over ``start``–``end``: capacity less the home
    role's minimum and the peak of their committed moves (accepted seats awaiting release included)."""
    m = t.moves.c
    committed = [
        rules.Interval(r.id, r.start, r.end, r.percent_time)
        for r in conn.execute(
            select(m.id, m.start, m.end, m.percent_time).where(
                m.person_id == person.id,
                m.status.in_([s.value for s in COMMITTED_STATUSES]),
                m.start <= end,
                m.end >= start,
            )
        )
    ]
    free = int(person.capacity_percent) - int(person.home_role_min_percent) - rules.peak_load(committed, start, end)
    return max(0, free)


def profile(conn: Connection, person_id: str) -> dict[str, float]:
    """The person's current level per skill (the latest assessment)."""
    return profiles(conn, [person_id])[person_id]


def profiles(conn: Connection, person_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """:func:`profile` of each of ``person_ids`` (a page of them) in one query."""
    s = t.skill_levels.c
    found: dict[str, dict[str, float]] = {pid: {} for pid in person_ids}
    rows = conn.execute(
        select(s.person_id, s.skill_id, s.level)
        .where(s.person_id.in_(sorted(found)))
        .order_by(s.person_id, s.assessed_on, s.id)
    )
    for pid, skill, level in rows:
        found[pid][skill] = level
    return found


def eligibility_of(opp: Any) -> Eligibility:
    return Eligibility(
        min_role_level=opp.min_role_level,
        min_tenure_months=opp.min_tenure_months,
        locations=tuple(opp.locations or ()),
        required_skills=dict(opp.required_skills or {}),
    )


def plan_fit(
    conn: Connection, person_id: str, opp: Any, what_if: WhatIf | None = None, *, towards: str | None = None
) -> tuple[int | None, str]:
    """Whether the opportunity is a step of the person's current plan, or would shorten their plan; weeks
    of readiness it is worth. The second question re-plans (see :class:`WhatIf`), so it is asked only with
    a ``what_if``, which also shares the person's baseline plan between opportunities. ``towards``: only a
    plan towards this target role counts (give the ``what_if`` the same pin), so that the figure is known to
    be towards it (:func:`apply` keeps it only while it is still the person's target)."""
    return fit_in_plan(plan_in_force_of(conn, person_id, towards=towards), opp, what_if)


def plan_in_force_of(conn: Connection, person_id: str, *, towards: str | None = None) -> Any:
    """The person's current plan (steps, ready_week, alternatives) for :func:`fit_in_plan`, or None; read once
    for a page of many opportunities. ``towards``: as :func:`plan_fit`'s."""
    # A current plan made before the person's target role changed is no way to their target: no card is
    # "step N of your plan" by it (the person's page shows it out of date until it is planned again).
    pinned = [t.plans.c.target_role_id == towards] if towards is not None else []
    return conn.execute(
        select(t.plans.c.steps, t.plans.c.ready_week, t.plans.c.alternatives).where(
            t.plans.c.person_id == person_id, plan_in_force(), *pinned
        )
    ).first()


def fit_in_plan(plan: Any, opp: Any, what_if: WhatIf | None = None) -> tuple[int | None, str]:
    """:func:`plan_fit` with the person's plan already read (:func:`plan_in_force_of`)."""
    if plan is not None:
        # The plan takes this opportunity itself, or a move of the template it offers.
        ids = {OPPORTUNITY_PREFIX + opp.id, *([opp.template_id] if opp.template_id is not None else [])}
        for i, step in enumerate(plan.steps or [], 1):
            if step.get("template_id") in ids:
                # Without this step the person follows the next best plan that does without it, if any.
                others = [
                    a["ready_week"]
                    for a in plan.alternatives or []
                    if a.get("ready_week") is not None
                    and all(s.get("template_id") not in ids for s in a.get("steps", []))
                ]
                saved = plan_benefit(plan.ready_week, min(others) if others else None)
                words = f"step {i} of your plan"
                if saved:
                    words += f"; without it you would be ready {saved} weeks later"
                return saved, words
    # Not a step: would a plan that takes it get the person ready sooner than their best plan without it?
    saved = what_if.weeks_saved(opp) if what_if is not None else None
    if saved:
        unit = "week" if saved == 1 else "weeks"
        return saved, f"not in your plan, but with it you could be ready {saved} {unit} sooner"
    return None, ""


# ----------------------------------------------------------------------------------- applications


def apply(db: Database, policy: Policy, opportunity_id: str, *, note: str = "") -> int:
    """Apply for an open opportunity as oneself; refused with every reason when not eligible."""
    policy.require_scope(Scope.WRITE)
    me = policy.principal.person_id
    if me is None:
        raise InvalidValue("only an account linked to a person can apply", field="person_id")
    today = dt.date.today()
    opp = _seen_opportunity(db, policy, opportunity_id, action="apply")
    with db.engine.connect() as conn:
        _check_application(conn, policy, me, opp, today)
        # What the seat is worth to the applicant may mean re-planning: done after the checks and before the
        # write transaction (which on SQLite locks out every other writer); the figure is advice, bounded to
        # what the column holds (planning.plan_benefit). It is weighed towards the target read here, pinned
        # (on PostgreSQL each statement reads afresh: a plan and a re-plan could otherwise read two targets).
        aimed = conn.scalar(select(t.people.c.target_role_id).where(t.people.c.id == me))
        benefit: int | None = None
        if aimed is not None:  # no target: no plan to be sooner in
            benefit, _ = plan_fit(conn, me, opp, WhatIf(conn, me, target_role_id=aimed), towards=aimed)
    with db.write_engine.begin() as conn:
        opp = _opportunity(conn, opportunity_id, lock=True)
        earlier = _check_application(conn, policy, me, opp, today)  # again: things may have changed meanwhile
        # A target set or cleared since (catalogue.set_target_role) forgot the benefits of the person's live
        # applications in its transaction, before this one existed: a figure towards the old target is not
        # stored (unknown, as that change leaves it; the allocation counts it as none). The person's row is
        # locked (PostgreSQL; SQLite writers are serialised already), opportunity first as in _accept, so a
        # change waiting for it runs after this commits, and then clears this application with the others.
        now_aimed = conn.execute(
            select(t.people.c.target_role_id).where(t.people.c.id == me).with_for_update()
        ).scalar_one()
        if now_aimed != aimed:
            benefit = None
        fresh = {
            "status": A.APPLIED.value,
            "applied_at": utcnow(),
            "note": note.strip(),
            "plan_benefit_weeks": benefit,
            "decided_at": None,
            "decided_by": None,
            "offered_or_rejected_at": None,  # a renewed application awaits a new answer
            "move_id": None,
        }
        if earlier is not None:
            # One application per person and opportunity (a unique constraint): applying again after one's own
            # withdrawal or decline renews that row; the audit record keeps what it said before.
            app_id = earlier.id
            conn.execute(update(t.applications).where(t.applications.c.id == app_id).values(**fresh))
            record_audit(
                conn,
                policy.principal.actor,
                "application.reapplied",
                "application",
                str(app_id),
                opportunity=opportunity_id,
                previous={
                    "status": earlier.status,
                    "applied_at": earlier.applied_at,
                    "note": earlier.note,
                    "decided_at": earlier.decided_at,
                    "decided_by": earlier.decided_by,
                    "offered_or_rejected_at": earlier.offered_or_rejected_at,
                    "move_id": earlier.move_id,
                    "plan_benefit_weeks": earlier.plan_benefit_weeks,
                },
            )
            return int(app_id)
        app_id = conn.execute(
            insert(t.applications)
            .values(opportunity_id=opportunity_id, person_id=me, **fresh)
            .returning(t.applications.c.id)
        ).scalar_one()
        record_audit(
            conn, policy.principal.actor, "application.created", "application", str(app_id), opportunity=opportunity_id
        )
    return int(app_id)


def _check_application(conn: Connection, policy: Policy, me: str, opp: Any, today: dt.date) -> Any:
    """Refuse an application that cannot be made: not open, past the deadline, one's own, not eligible, twice.
    Returns the person's earlier application to renew (one they withdrew or whose offer they declined), if any."""
    if opp.status != OS.OPEN.value:
        raise Conflict(f"opportunity {opp.id} is {opp.status}, not open for applications", field="status")
    if opp.application_deadline is not None and today > opp.application_deadline:
        raise Conflict(f"applications closed on {opp.application_deadline}", field="application_deadline")
    _check_not_over(opp, today)
    if policy.hosts(opp.host_team_id) and policy.is_self(me) and opp.host_manager_id == me:
        raise InvalidValue("you host this opportunity; you cannot apply for it", field="opportunity_id")
    reasons = ineligibility(
        eligibility_of(opp),
        opp.percent_time,
        candidate(conn, me, opp.start, opp.end),
        start=opp.start,
        today=today,
        names=names_of(conn, t.skills, opp.required_skills or {}),
    )
    if reasons:
        raise InvalidValue("not eligible: " + "; ".join(reasons), field="eligibility")
    existing = conn.execute(
        select(t.applications).where(t.applications.c.opportunity_id == opp.id, t.applications.c.person_id == me)
    ).first()
    if existing is not None and not may_apply_again(existing.status, existing.decided_by, me):
        raise Conflict(f"you already applied (application {existing.id}, {existing.status})", field="opportunity_id")
    return existing


def _application(conn: Connection, application_id: int) -> Any:
    row = conn.execute(select(t.applications).where(t.applications.c.id == application_id)).first()
    if row is None:
        raise NotFound(f"unknown application {application_id}", field="application_id")
    return row


HOST_DECISIONS = {"offer": A.OFFERED, "waitlist": A.WAITLISTED, "reject": A.REJECTED}
# The host decisions that answer an application (applications.offered_or_rejected_at): waitlisting does not, it
# keeps the application waiting for one.
ORGANISATION_ANSWERS = frozenset({A.OFFERED, A.REJECTED})
APPLICANT_DECISIONS = {"accept": A.ACCEPTED, "decline": A.DECLINED, "withdraw": A.WITHDRAWN}


def decide(
    db: Database, policy: Policy, application_id: int, action: str, *, reason: str = "", later: Later | None = None
) -> str:
    """The host offers, waitlists or rejects; the applicant accepts, declines or withdraws.

    Returns the id of the move an acceptance created (else an empty string).
    """
    policy.require_scope(Scope.WRITE)
    if action not in HOST_DECISIONS and action not in APPLICANT_DECISIONS:
        raise InvalidValue(f"unknown action {action!r}", field="action")
    with db.engine.connect() as conn:
        app = _application(conn, application_id)
        opp = _opportunity(conn, app.opportunity_id)
    own = policy.is_self(app.person_id)
    host = _may_run(policy, opp)
    policy.require(own or host, visible=False, action=action, entity_type="application", entity_id=str(application_id))
    policy.require(
        own if action in APPLICANT_DECISIONS else host and not own,
        visible=True,
        action=action,
        entity_type="application",
        entity_id=str(application_id),
    )
    to = HOST_DECISIONS.get(action) or APPLICANT_DECISIONS[action]
    if to is A.ACCEPTED:
        return _accept(db, policy, application_id, later or _now)
    if to is A.WITHDRAWN and app.status == A.ACCEPTED.value and app.move_id:
        return _withdraw_accepted(db, policy, application_id, reason)
    with db.write_engine.begin() as conn:
        opp = _opportunity(conn, app.opportunity_id, lock=True)
        app = _application(conn, application_id)
        if to is A.WITHDRAWN and app.status == A.ACCEPTED.value and app.move_id is not None:
            # Accepted since the read above (a withdrawal racing the acceptance): withdrawing the application
            # alone would leave its move in the tracker for a seat nobody holds (_withdraw_accepted takes both).
            raise Conflict(
                f"application {application_id} was accepted just now (move {app.move_id}); withdraw it again to "
                "withdraw that move with it",
                field="status",
            )
        check_application_transition(ApplicationStatus(app.status), to)
        if to is A.OFFERED and opp.status != OS.OPEN.value:
            raise Conflict(f"opportunity {opp.id} is {opp.status}; offers are for open opportunities", field="status")
        if to is A.OFFERED:
            _check_not_over(opp, dt.date.today())
            # An import may have moved the hire date past the start since they applied: an offer they could
            # never accept (rules.check_after_hire) would hold a seat for nobody.
            hired = conn.scalar(select(t.people.c.hire_date).where(t.people.c.id == app.person_id))
            early = before_first_day(opp.start, hired, f"{app.person_id}'s")
            if early is not None:
                raise InvalidValue(f"not eligible: {early}", field="eligibility")
        now = utcnow()
        values: dict[str, Any] = {"status": to.value, "decided_at": now, "decided_by": policy.principal.actor}
        if to in ORGANISATION_ANSWERS:
            # The organisation's answer, kept apart from decided_at: the applicant's accept, decline or
            # withdrawal moves that on, and the congestion report's days to a decision measured them.
            values["offered_or_rejected_at"] = now
        conn.execute(update(t.applications).where(t.applications.c.id == application_id).values(**values))
        if app.status == A.ACCEPTED.value and opp.status == OS.FILLED.value:
            conn.execute(update(t.opportunities).where(t.opportunities.c.id == opp.id).values(status=OS.OPEN.value))
        record_audit(
            conn, policy.principal.actor, f"application.{to.value}", "application", str(application_id), reason=reason
        )
    return ""


def _withdraw_accepted(db: Database, policy: Policy, application_id: int, reason: str) -> str:
    """Withdrawing after acceptance withdraws the move the acceptance created, in the same transaction (which
    frees the seat: :func:`release_seat_of`); refused, with nothing written, once the move has started."""
    actor = policy.principal.actor
    with UnitOfWork(db) as uow:
        conn = uow.session.connection()
        # The person's row first, then the application and its move: read before the lock (PostgreSQL), a
        # release declined meanwhile was overwritten by the withdrawal of the copy read.
        person = uow.people.get_for_update(_application(conn, application_id).person_id)
        app = _application(conn, application_id)
        check_application_transition(ApplicationStatus(app.status), A.WITHDRAWN)
        move = uow.moves.get_full(app.move_id)
        if move.status in (MoveStatus.DECLINED, MoveStatus.WITHDRAWN):
            # The move ended before the application did (data from before the two were kept in step).
            release_seat_of(conn, move.id, move.status, actor=actor, reason=reason)
        elif MoveStatus.WITHDRAWN not in allowed_next(move.status):
            raise Conflict(
                f"move {move.id} is {move.status.value}: it has started and can no longer be withdrawn; end it "
                "through its review (complete or revert) instead",
                field="status",
            )
        else:
            move_service.apply_transition(uow, person, move, MoveStatus.WITHDRAWN, actor=actor, reason=reason)
        uow.commit()
    return ""


def release_seat_of(conn: Connection, move_id: str, status: MoveStatus, *, actor: str, reason: str = "") -> None:
    """A move that an accepted application created was declined (the line manager did not release the person)
    or withdrawn: the application is withdrawn with it and its seat is free again (a filled opportunity
    reopens). Runs inside the move's transition, so the two never disagree."""
    if status not in (MoveStatus.DECLINED, MoveStatus.WITHDRAWN):
        return
    c = t.applications.c
    app = conn.execute(select(c.id, c.opportunity_id).where(c.move_id == move_id, c.status == A.ACCEPTED.value)).first()
    if app is None:
        return
    conn.execute(
        update(t.applications)
        .where(c.id == app.id)
        .values(status=A.WITHDRAWN.value, decided_at=utcnow(), decided_by=actor)
    )
    o = t.opportunities.c
    conn.execute(
        update(t.opportunities)
        .where(o.id == app.opportunity_id, o.status == OS.FILLED.value)
        .values(status=OS.OPEN.value)
    )
    why = "the line manager did not release the person" if status is MoveStatus.DECLINED else "the move was withdrawn"
    record_audit(
        conn, actor, "application.withdrawn", "application", str(app.id), reason=reason or why, move_id=move_id
    )


def _accept(db: Database, policy: Policy, application_id: int, later: Later) -> str:
    actor = policy.principal.actor
    with UnitOfWork(db) as uow:
        conn = uow.session.connection()
        app = _application(conn, application_id)
        opp = _opportunity(conn, app.opportunity_id, lock=True)  # serialises every acceptance of this opportunity
        check_application_transition(ApplicationStatus(app.status), A.ACCEPTED)
        if opp.status != OS.OPEN.value:
            raise Conflict(f"opportunity {opp.id} is {opp.status}; no seat left to accept", field="seats")
        _check_not_over(opp, dt.date.today())
        taken = seats_taken(conn, opp.id)
        if taken >= opp.seats:
            raise Conflict(f"all {opp.seats} seat(s) of {opp.id} were taken just now", field="seats")
        move_id = move_service.new_move_id()
        person = uow.people.get_for_update(app.person_id)  # serialises this person's acceptances too
        # Taking the seat must fit beside what the person already committed to (accepted seats awaiting
        # release included): else both of two overlapping offers could be accepted, and the clash would
        # surface only at the line manager's release while the seat stayed held for nobody.
        free = free_percent(conn, person, opp.start, opp.end)
        if free < opp.percent_time:
            raise Conflict(
                f"{app.person_id} has {free}% of time free from {opp.start} to {opp.end} beside their other "
                f"moves and the home role, and {opp.id} takes {opp.percent_time}%: decline it, or withdraw "
                "from the other move first",
                field="percent_time",
            )
        move = move_service.build_requested_move(
            uow,
            person,
            move_id=move_id,
            kind=MoveKind(opp.kind),
            title=opp.title,
            start=opp.start,
            end=opp.end,
            percent_time=opp.percent_time,
            host_team_id=opp.host_team_id,
            criteria=list(opp.criteria_template),
            expected_outcomes=opp.expected_outcomes,
            skills_targeted=sorted(opp.builds_skills or {}),
            template_id=opp.template_id,
            actor=actor,
            reason=f"accepted offer for {opp.id}",
        )
        uow.session.flush()
        # The host side approved by making the offer: its slot of the two-person rule is filled; the
        # line manager's release is the remaining approval.
        # Who made the offer: a person, or an account without one ("user:NAME"), so that the same account
        # cannot also give the release (the two-person rule tells approvers apart by person or account).
        # Anyone else (the CLI's default actor "cli", a script's --actor) is neither: the record names them in
        # its note only (approver_id must be a person: the offer could not be accepted at all).
        offered_by = app.decided_by or ""
        offering_account = (
            conn.scalar(select(t.users.c.id).where(t.users.c.username == offered_by.removeprefix("user:")))
            if offered_by.startswith("user:")
            else None
        )
        offering_person = (
            conn.scalar(select(t.people.c.id).where(t.people.c.id == offered_by))
            if offered_by and not offered_by.startswith("user:")
            else None
        )
        unnamed = offered_by and offering_account is None and offering_person is None
        conn.execute(
            insert(t.move_approvals).values(
                move_id=move.id,
                slot="host",
                approver_id=offering_person,
                approver_user_id=offering_account,
                decision="approved",
                at=utcnow(),
                note=f"offer for {opp.id}" + (f" by {offered_by}" if unnamed else ""),
            )
        )
        conn.execute(
            insert(t.onboarding_items),
            [
                {"move_id": move.id, "position": i, "item": item}
                for i, item in enumerate(ONBOARDING_CHECKLIST[MoveKind(opp.kind)], 1)
            ],
        )
        conn.execute(
            update(t.applications)
            .where(t.applications.c.id == application_id)
            .values(status=A.ACCEPTED.value, decided_at=utcnow(), decided_by=actor, move_id=move.id)
        )
        filled = taken + 1 >= opp.seats
        if filled:
            conn.execute(update(t.opportunities).where(t.opportunities.c.id == opp.id).values(status=OS.FILLED.value))
        uow.audit(
            actor, "application.accepted", "application", str(application_id), move_id=move.id, opportunity=opp.id
        )
        uow.commit()
    if filled:  # after the commit: the seat is taken whatever the re-planning does
        later(lambda: _replan_around(db, opp.id, OS.FILLED, actor=actor))
    return move_id


def host_is_managed(conn: Connection, host_team_id: str | None, person_id: str) -> bool:
    """Does someone other than the person manage the move's host team? (Else the person's managers tick the
    host's items: a person hosted by the team they run ticked "access granted" for themself. The same case
    as approvals.host_absent.)"""
    if host_team_id is None:
        return False
    manager = host_manager_of(conn, host_team_id)
    return manager is not None and manager != person_id


def complete_onboarding_item(db: Database, policy: Policy, item_id: int, *, done: bool = True) -> None:
    """Tick an onboarding item off (``done``) or reopen it: by the party it is for (policy.ticks_onboarding),
    while the move is approved, onboarding or active (ONBOARDING_OPEN). It checked only that the caller saw
    the move: a withdrawn move's items were ticked, the person ticked the host's items on a mere request."""
    policy.require_scope(Scope.WRITE)
    i, m = t.onboarding_items.c, t.moves.c
    with db.engine.connect() as conn:
        row = conn.execute(
            select(i.move_id, i.item, m.person_id, m.host_team_id)
            .join(t.moves, m.id == i.move_id)
            .where(i.id == item_id)
        ).first()
        host_managed = row is not None and host_is_managed(conn, row.host_team_id, row.person_id)
    visible = row is not None and policy.sees_move(row.person_id, row.host_team_id)
    policy.require(visible, visible=False, action="update", entity_type="onboarding item", entity_id=str(item_id))
    assert row is not None
    owner = onboarding_owner(row.item)
    if not policy.ticks_onboarding(owner, row.person_id, row.host_team_id, host_managed=host_managed):
        words = CHECKLIST_OWNER_WORDS[owner] if owner is not None else "the person or whoever runs the move"
        if owner is ChecklistOwner.HOST_MANAGER and not host_managed:
            words = "the person's line manager (nobody manages a host team for this move)"
        policy.deny(
            "tick off",
            "onboarding item",
            str(item_id),
            visible=True,
            message=f"{row.item!r} is for {words} to tick off (or HR of the person's unit)",
        )
    with db.write_engine.begin() as conn:
        # Read under the write lock: a withdrawal committed since the read above closes the checklist.
        status = conn.execute(select(m.status).where(m.id == row.move_id).with_for_update()).scalar_one()
        if MoveStatus(status) not in ONBOARDING_OPEN:
            raise Conflict(
                f"move {row.move_id} is {status}: its onboarding checklist is ticked off while the move is "
                "approved, onboarding or active",
                field="status",
            )
        # Only a change is written: ticking an item someone ticked already rewrote who did it and when.
        changed = conn.execute(
            update(t.onboarding_items)
            .where(i.id == item_id, i.done_on.is_(None) if done else i.done_on.is_not(None))
            .values(done_on=dt.date.today() if done else None, done_by=policy.principal.actor if done else None)
        ).rowcount
        if not changed:
            return
        record_audit(
            conn,
            policy.principal.actor,
            "onboarding.item_done" if done else "onboarding.item_reopened",
            "move",
            row.move_id,
            item=item_id,
        )
