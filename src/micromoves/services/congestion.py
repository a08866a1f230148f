"""Congestion: where demand for short moves outruns the seats, and what it costs to route around it.

Demand for a move template comes from the current plans that schedule it and from live applications to
the opportunities that run it; supply is its seats over the horizon (a template can run again once a
cohort ends). A **bottleneck** is a slot on which many plans or applicants converge with too few seats.
An **alternate route** re-plans a person without the congested option: "if you cannot get X, your route
is N weeks longer".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import statistics
from collections import Counter, defaultdict
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, func, select

from micromoves.domain.errors import DomainError, InvalidValue, NotFound
from micromoves.domain.marketplace import LIVE_APPLICATIONS
from micromoves.domain.model import MoveStatus, PlanStatus
from micromoves.planning import PlanningError, PlanResult
from micromoves.services.marketplace import on_the_market
from micromoves.services.planning import (
    OPPORTUNITY_PREFIX,
    load_catalogue,
    load_people,
    load_targets,
    make_problem,
    next_monday,
    plan_digest,
    solve_within,
)
from micromoves.services.policy import Policy
from micromoves.services.views import names_of
from micromoves.settings import Settings, get_settings
from micromoves.storage import tables as t
from micromoves.storage.db import Database

# A slot is a bottleneck when demand is at least this many times its supply, and at least this many
# people want it (a single person queueing for a one-seat course is not congestion).
BOTTLENECK_RATIO = 2.0
BOTTLENECK_MIN_DEMAND = 5


class SlotLoad(BaseModel):
    """Demand and supply of one slot: an open opportunity (its free seats against its live applications)
    or a catalogue move template (its seats over the horizon against the current plans that schedule it)."""

    # An opportunity's demand counts people: those with a live application, and those whose plans take it
    # without having applied; a seat holder is neither (their seat is out of the supply already).
    slot: str  # "opportunity" or "template"
    id: str  # the opportunity's or the template's id
    template_id: str | None  # the template it runs (what an alternate route does without)
    title: str
    kind: str
    supply: int
    demand_plans: int
    demand_applications: int
    demand: int
    ratio: float  # demand / supply
    queue: int  # demand beyond supply
    median_wait_weeks: float | None  # from plan creation to the planned start
    median_days_to_decision: float | None  # applications: applied → offered / rejected
    # Observed time to start: from the application (opportunities) or the plan that scheduled it
    # (templates) to the day the move was made active (its first activation: the recorded status change,
    # not the planned start date); only moves that did start count.
    median_weeks_to_start: float | None = None
    started: int = 0  # how many moves that median is over
    bottleneck: bool


class HeatCell(BaseModel):
    team: str
    quarter: str
    count: int


class SkillHeatCell(BaseModel):
    skill: str
    quarter: str
    count: int


class CongestionReport(BaseModel):
    horizon_weeks: int
    slots: list[SlotLoad]
    bottlenecks: list[str]  # slot ids (opportunities or templates)
    quarters: list[str]
    teams: list[str]
    heatmap: list[HeatCell]  # planned starts of bottleneck slots by the planner's team and quarter
    skills: list[str] = []
    skill_heatmap: list[SkillHeatCell] = []  # the same starts by each skill the step builds, and quarter
    # Plan demand is only as complete as the plans: how many are counted, how fresh, and who has none.
    bottleneck_rule: str = ""  # the rule in words, as the code applies it
    current_plans: int = 0
    latest_plan_at: dt.datetime | None = None
    targets_without_plan: int = 0  # people with a target role and no current plan: their demand is unknown


class AlternateRoute(BaseModel):
    person_id: str
    person: str
    template_id: str
    template: str
    current_ready_week: int | None
    alternative_ready_week: int | None  # None: not reachable without the slot within the horizon
    extra_weeks: int | None
    steps: list[str]
    explanation: str
    proven_optimal: bool = True  # False: a re-plan reached its limit (ROUTE_STEPS or ROUTE_BUDGET)
    alternative_found: bool = True  # False: no plan without the slot was found within the limits


# Each re-plan of an alternate route (two per person; a page shows 5 people by default, up to 20) stops after
# ROUTE_STEPS search steps (a few tenths of a second); past it, the greedy plan is used and the route says it
# is not proven best. Steps are counted, not timed, so the same data gives the same routes however busy the
# machine is; ROUTE_BUDGET (seconds) is only a safety net.
ROUTE_STEPS = 2_000
ROUTE_BUDGET = 2.0


def _weeks_between(since: dt.datetime, until: dt.datetime) -> float:
    """From one timestamp to the other in weeks of whole (UTC calendar) days; never negative."""
    return max(0, (until.date() - since.date()).days) / 7


def _quarter(day: dt.date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def congestion(db: Database, policy: Policy, *, horizon_weeks: int = 104, limit: int = 25) -> CongestionReport:
    """The org-wide congestion report (HR and admins)."""
    if not policy.sees_organisation():
        policy.deny("view congestion of", "organisation", "all", visible=True)
    if not 1 <= horizon_weeks <= 520:
        raise InvalidValue("the horizon is 1–520 weeks", field="horizon_weeks")
    with db.engine.connect() as conn:
        templates = {
            r.id: r
            for r in conn.execute(
                select(
                    t.move_templates.c.id,
                    t.move_templates.c.title,
                    t.move_templates.c.kind,
                    t.move_templates.c.seats,
                    t.move_templates.c.duration_weeks,
                )
            )
        }
        plan_demand: Counter[str] = Counter()  # template id, or opportunity:ID for an opportunity step
        planned_by: dict[str, set[str]] = defaultdict(set)  # opportunity:ID → people whose plans take it
        waits: dict[str, list[int]] = defaultdict(list)
        starts: list[tuple[str, str, dt.date, tuple[str, ...]]] = []  # step's slot, person, start, skills built
        rows = conn.execute(select(t.plans.c.person_id, t.plans.c.steps).where(t.plans.c.status == "current"))
        current_plans = 0
        for person_id, steps in rows:
            current_plans += 1
            for step in steps or []:
                tid = step.get("template_id")
                if tid in templates or str(tid).startswith(OPPORTUNITY_PREFIX):
                    plan_demand[tid] += 1
                    planned_by[tid].add(person_id)
                    waits[tid].append(int(step.get("start_week", 0)))
                    built = tuple(step.get("gains") or {})
                    starts.append((tid, person_id, dt.date.fromisoformat(step["start"]), built))
        o, a, m, sc = t.opportunities.c, t.applications.c, t.moves.c, t.status_changes.c
        # When each move that started was first made active (a reverted trial had started too).
        activated = (
            select(sc.move_id, func.min(sc.at).label("on"))
            .where(sc.to_status == MoveStatus.ACTIVE.value)
            .group_by(sc.move_id)
            .subquery()
        )
        app_rows = conn.execute(
            select(
                o.template_id,
                o.seats,
                o.id,
                o.title,
                o.kind,
                a.status,
                a.applied_at,
                a.decided_at,
                activated.c.on,
                a.person_id,
            )
            .join(t.applications, a.opportunity_id == o.id, isouter=True)
            .join(activated, activated.c.move_id == a.move_id, isouter=True)
            .where(on_the_market())
        ).all()
        # Moves of a template that a plan scheduled and that started: planned on → first active on.
        to_start: dict[str, list[float]] = defaultdict(list)
        for tid, started_at, planned_at in conn.execute(
            select(m.template_id, activated.c.on, t.plans.c.created_at)
            .join(activated, activated.c.move_id == m.id)
            .join(t.plans, t.plans.c.id == m.plan_id)
            .where(m.template_id.is_not(None))
        ):
            to_start[tid].append(_weeks_between(planned_at, started_at))
        latest_plan_at = conn.scalar(select(func.max(t.plans.c.created_at)).where(t.plans.c.status == "current"))
        targets_without_plan = (
            conn.scalar(
                select(func.count()).where(
                    t.people.c.target_role_id.is_not(None),
                    ~select(t.plans.c.id)
                    .where(t.plans.c.person_id == t.people.c.id, t.plans.c.status == "current")
                    .exists(),
                )
            )
            or 0
        )
        skill_names = dict(conn.execute(select(t.skills.c.id, t.skills.c.name)).all()) if starts else {}
        team_of = (
            dict(
                conn.execute(
                    select(t.people.c.id, t.teams.c.name).join(t.teams, t.teams.c.id == t.people.c.team_id)
                ).all()
            )
            if starts
            else {}
        )
    slots = []
    by_opportunity: dict[str, list[tuple[str, dt.datetime, dt.datetime | None, str]]] = defaultdict(list)
    opportunity_info = {}
    for tid, seats, oid, title, kind, status, applied_at, decided_at, started_at, person_id in app_rows:
        if status is not None:  # an opportunity nobody applied to yet still has its row (outer join)
            by_opportunity[oid].append((status, applied_at, decided_at, person_id))
        if started_at is not None:
            to_start[OPPORTUNITY_PREFIX + oid].append(_weeks_between(applied_at, started_at))
        opportunity_info[oid] = (tid, seats, title, kind)
    live = {s.value for s in LIVE_APPLICATIONS}
    for oid, (tid, seats, title, kind) in opportunity_info.items():
        apps = by_opportunity.get(oid, [])
        step = OPPORTUNITY_PREFIX + oid
        if not apps and not plan_demand[step]:
            continue
        holders = {pid for status, _, _, pid in apps if status == "accepted"}
        applicants = {pid for status, _, _, pid in apps if status in live}
        free = seats - len(holders)
        demand = len(applicants)
        days = [(d - a).total_seconds() / 86_400 for _, a, d, _ in apps if d is not None]
        plans = len(planned_by[step] - holders - applicants)
        slots.append(
            _load(
                "opportunity",
                oid,
                tid,
                title,
                str(kind),
                max(0, free),
                plans,
                demand,
                waits[step] or None,
                days,
                to_start[step],
            )
        )
    for tid in (tid for tid in plan_demand if tid in templates):
        tpl = templates[tid]
        cohorts = max(1, math.floor(horizon_weeks / max(1, tpl.duration_weeks)))
        slots.append(
            _load(
                "template",
                tid,
                tid,
                tpl.title,
                str(tpl.kind),
                tpl.seats * cohorts,
                plan_demand[tid],
                0,
                waits[tid],
                [],
                to_start[tid],
            )
        )
    slots.sort(key=lambda s: (not s.bottleneck, -s.ratio, -s.demand, s.id))
    bottlenecks = [s.id for s in slots if s.bottleneck]
    congested = {s.template_id for s in slots if s.bottleneck and s.slot == "template"}
    congested |= {OPPORTUNITY_PREFIX + s.id for s in slots if s.bottleneck and s.slot == "opportunity"}
    cells: Counter[tuple[str, str]] = Counter(
        (team_of.get(person, "—"), _quarter(start)) for tid, person, start, _ in starts if tid in congested
    )
    by_skill: Counter[tuple[str, str]] = Counter(
        (skill_names.get(skill, skill), _quarter(start))
        for tid, _, start, built in starts
        if tid in congested
        for skill in built
    )
    return CongestionReport(
        horizon_weeks=horizon_weeks,
        slots=slots[:limit],
        bottlenecks=bottlenecks,
        quarters=sorted({q for _, q in cells}),
        teams=sorted({team for team, _ in cells}),
        heatmap=[HeatCell(team=team, quarter=q, count=n) for (team, q), n in sorted(cells.items())],
        skills=sorted({skill for skill, _ in by_skill}),
        skill_heatmap=[SkillHeatCell(skill=k, quarter=q, count=n) for (k, q), n in sorted(by_skill.items())],
        bottleneck_rule=(
            f"at least {BOTTLENECK_RATIO:g} times as much demand as seats (or no seat left), and at least "
            f"{BOTTLENECK_MIN_DEMAND} people wanting it"
        ),
        current_plans=current_plans,
        latest_plan_at=latest_plan_at,
        targets_without_plan=targets_without_plan,
    )


def _load(
    slot: str,
    slot_id: str,
    template_id: str | None,
    title: str,
    kind: str,
    supply: int,
    from_plans: int,
    from_applications: int,
    waits: list[int] | None,
    decision_days: list[float],
    weeks_to_start: list[float],
) -> SlotLoad:
    demand = from_plans + from_applications
    ratio = round(demand / supply, 2) if supply else float(demand)
    return SlotLoad(
        slot=slot,
        id=slot_id,
        template_id=template_id,
        title=title,
        kind=kind,
        supply=supply,
        demand_plans=from_plans,
        demand_applications=from_applications,
        demand=demand,
        ratio=ratio,
        queue=max(0, demand - supply),
        median_wait_weeks=statistics.median(waits) if waits else None,
        median_days_to_decision=round(statistics.median(decision_days), 1) if decision_days else None,
        median_weeks_to_start=round(statistics.median(weeks_to_start), 1) if weeks_to_start else None,
        started=len(weeks_to_start),
        bottleneck=(ratio >= BOTTLENECK_RATIO or supply == 0) and demand >= BOTTLENECK_MIN_DEMAND,
    )


def alternate_route(
    db: Database,
    policy: Policy,
    person_id: str,
    template_id: str,
    *,
    horizon_weeks: int = 104,
    settings: Settings | None = None,
) -> AlternateRoute:
    """Re-plan ``person_id`` towards their target role without ``template_id``: how much longer is it?"""
    policy.require(
        policy.sees_person(person_id), visible=False, action="re-plan", entity_type="person", entity_id=person_id
    )
    settings = settings or get_settings()
    start = next_monday(dt.date.today())
    with db.engine.connect() as conn:
        person = conn.execute(
            select(t.people.c.name, t.people.c.target_role_id).where(t.people.c.id == person_id)
        ).first()
        if person is None:
            raise NotFound(f"unknown person {person_id!r}", field="person_id")
        if person.target_role_id is None:
            raise InvalidValue(f"{person_id} has no target role to plan towards", field="target_role_id")
        title = conn.scalar(select(t.move_templates.c.title).where(t.move_templates.c.id == template_id))
        if title is None:
            raise NotFound(f"unknown move template {template_id!r}", field="template_id")
        people = load_people(conn, [person_id], start=start)
        target = load_targets(conn, [person.target_role_id])[person.target_role_id]
        slot = _slot_options(conn, template_id)
        catalogue = load_catalogue(conn)
        # The congested move is taken out below, after the filter: keep every depth step it would thin out.
        problem = make_problem(
            people[person_id],
            target,
            catalogue,
            start=start,
            horizon=horizon_weeks,
            settings=settings,
            every_depth_step=True,
        )
        stored = _stored_plan(conn, person_id, people[person_id], target, catalogue, start, horizon_weeks, settings)
    # Without the slot: the template, and every open opportunity that runs it (a plan may reach the same move
    # through one; taking only the template out left routes "without it" that still took it).
    without = dataclasses.replace(problem, options=tuple(o for o in problem.options if o.id not in slot))
    try:
        with_it = solve_within(problem, ROUTE_BUDGET, steps=ROUTE_STEPS)
    except PlanningError as exc:
        raise InvalidValue(f"cannot plan: {exc}", field="plan") from None
    except RuntimeError:  # not even the greedy fallback found a plan
        raise InvalidValue("no plan was found within the search limit", field="plan") from None
    used = any(m.option_id in slot for m in with_it.moves)
    if stored is not None and (_ready_sooner(stored, with_it) or (stored.optimal and not with_it.optimal)):
        # The person's current plan solves this very problem and is better (or proven where the bounded
        # search is not): the route starts from it, so the page never contradicts the person's own plan.
        with_it, used = stored, any(m.option_id in slot for m in stored.moves)
    no_it: PlanResult | None = with_it  # the best plan does not use the slot: it stays the best plan without it
    if used:
        try:
            no_it = solve_within(without, ROUTE_BUDGET, steps=ROUTE_STEPS)
        except (PlanningError, RuntimeError):  # nothing found without the slot within the budget
            no_it = None
    # Proven only if both searches finished (a plan without the slot that beats the one found with it means
    # the search with it did not finish: that plan is then the best route found, and it does not use the slot).
    proven = with_it.optimal and no_it is not None and no_it.optimal
    if no_it is not None and _ready_sooner(no_it, with_it):
        with_it, used = no_it, False
    extra = None
    if no_it is not None and with_it.ready_week is not None and no_it.ready_week is not None:
        extra = no_it.ready_week - with_it.ready_week
    if with_it.ready_week is None:
        words = f"the target is out of reach within {horizon_weeks} weeks even with {title}"
    elif not used:
        words = f"{title} is not on the best route, so losing it costs nothing"
    elif no_it is None:
        words = f"no route without {title} was found within the search limit"
    elif no_it.ready_week is None:
        words = f"without {title} the target is out of reach within {horizon_weeks} weeks"
    elif extra == 0:
        words = f"without {title} another route is just as fast (ready at week {no_it.ready_week}), with other moves"
    else:
        words = (
            f"if you cannot get {title}, this route is ready {extra} week(s) later "
            f"(week {no_it.ready_week} instead of {with_it.ready_week})"
        )
    if not proven and no_it is not None:
        words += " (the best plans found within the search limit, not proven optimal)"
    return AlternateRoute(
        person_id=person_id,
        person=person.name,
        template_id=template_id,
        template=title,
        current_ready_week=with_it.ready_week,
        alternative_ready_week=no_it.ready_week if no_it is not None else None,
        alternative_found=no_it is not None,
        extra_weeks=extra if used else 0,
        steps=[m.title for m in no_it.moves] if no_it is not None else [],
        explanation=words,
        proven_optimal=proven,
    )


def _stored_plan(
    conn: Connection,
    person_id: str,
    person: Any,
    target: Any,
    catalogue: Any,
    start: dt.date,
    horizon_weeks: int,
    settings: Settings,
) -> PlanResult | None:
    """The person's current plan as a result, if it solves the planning problem of today exactly (same
    digest: levels, capacity, target, options on offer, start and horizon), else None."""
    row = conn.execute(
        select(
            t.plans.c.problem_digest, t.plans.c.steps, t.plans.c.ready_week, t.plans.c.outcome, t.plans.c.explanation
        )
        .where(t.plans.c.person_id == person_id, t.plans.c.status == PlanStatus.CURRENT)
        .where(t.plans.c.target_role_id == target.role_id, t.plans.c.horizon_weeks == horizon_weeks)
    ).first()
    if row is None or row.problem_digest is None:
        return None
    standard = make_problem(person, target, catalogue, start=start, horizon=horizon_weeks, settings=settings)
    if plan_digest(standard, start, target.role_id) != row.problem_digest:
        return None  # something changed since (or it was planned from another start): re-planned below
    from micromoves.planning import check_plan
    from micromoves.planning._core import build_result

    options = {o.id for o in standard.options}
    starts = {step.get("template_id"): step.get("start_week") for step in row.steps or []}
    if not all(k in options and isinstance(v, int) for k, v in starts.items()) or row.outcome not in (
        "ready",
        "already_ready",
    ):
        return None
    result = build_result(standard, row.outcome, starts, optimal=bool((row.explanation or {}).get("optimal", True)))
    # Only a plan that still holds, with the figures it was stored with, stands in for a fresh search.
    if check_plan(standard, result) or result.ready_week != row.ready_week:
        return None
    return result


def _ready_sooner(a: PlanResult, b: PlanResult) -> bool:
    """Is plan ``a`` ready sooner than ``b`` (a plan that is ready beats one that is not)?"""
    if a.ready_week is None:
        return False
    return b.ready_week is None or a.ready_week < b.ready_week


def _slot_options(conn: Connection, template_id: str) -> set[str]:
    """Option ids of a move template's slot: the template, and every open or filled opportunity running it."""
    o = t.opportunities.c
    running = conn.scalars(select(o.id).where(o.template_id == template_id, o.status.in_(["open", "filled"])))
    return {template_id, *(OPPORTUNITY_PREFIX + oid for oid in running)}


def affected_people(db: Database, template_id: str, *, limit: int | None = 20) -> list[str]:
    """People who want the slot: their plans schedule it (the template, or an opportunity running it), or
    they applied to an opportunity running it."""
    with db.engine.connect() as conn:
        slot = _slot_options(conn, template_id)
        wanted = [
            pid
            for pid, steps in conn.execute(
                select(t.plans.c.person_id, t.plans.c.steps)
                .where(t.plans.c.status == "current")
                .order_by(t.plans.c.person_id)  # the same people compared on every call
            )
            if any(s.get("template_id") in slot for s in steps or [])
        ]
        o, a = t.opportunities.c, t.applications.c
        wanted += list(
            conn.scalars(
                select(a.person_id)
                .join(t.opportunities, o.id == a.opportunity_id)
                .where(o.template_id == template_id, a.status.in_([s.value for s in LIVE_APPLICATIONS]))
                .order_by(a.applied_at)
            )
        )
    return list(dict.fromkeys(wanted))[:limit]


class NotPlanned(BaseModel):
    person_id: str
    person: str  # the person's name
    reason: str


class AlternateRoutes(BaseModel):
    template_id: str
    template_title: str  # what the page names the slot by (its id means nothing to a reader)
    routes: list[AlternateRoute]
    # People who want the slot but could not be planned at all (no target role, a target without skill
    # requirements, broken catalogue data): listed, so that nobody silently drops out of the comparison.
    not_planned: list[NotPlanned] = []
    # Everyone the user may see who wants the slot; each route is a re-plan, so only the first ``limit`` of
    # them (plans first, then applications by date) are compared, and the page says how many were left out.
    wanting: int = 0


def alternate_routes(db: Database, policy: Policy, template_id: str, *, limit: int = 5) -> AlternateRoutes:
    """Alternate routes for the first ``limit`` people who want a congested slot and whom the user may see
    (in ``affected_people``'s order), costliest first; ``wanting`` counts them all."""
    if not 1 <= limit <= 20:
        raise InvalidValue("limit is 1–20", field="limit")
    with db.engine.connect() as conn:
        title = conn.scalar(select(t.move_templates.c.title).where(t.move_templates.c.id == template_id))
    if title is None:
        raise NotFound(f"unknown move template {template_id!r}", field="template_id")
    routes: list[AlternateRoute] = []
    failed: list[tuple[str, str]] = []  # (person, why), named below in one query
    visible = [pid for pid in affected_people(db, template_id, limit=None) if policy.sees_person(pid)]
    for person_id in visible:
        if len(routes) >= limit:
            break
        try:
            routes.append(alternate_route(db, policy, person_id, template_id))
        except (DomainError, PlanningError) as exc:
            # This person has no route to compare; the others still do (one of them failing used to fail
            # the whole page for everyone who could see them).
            failed.append((person_id, str(exc)))
    routes.sort(key=lambda r: (-(r.extra_weeks or 0) if r.alternative_ready_week is not None else -10_000, r.person_id))
    with db.engine.connect() as conn:
        names = names_of(conn, t.people, [pid for pid, _ in failed])
    not_planned = [NotPlanned(person_id=pid, person=names.get(pid, pid), reason=why) for pid, why in failed]
    return AlternateRoutes(
        template_id=template_id, template_title=title, routes=routes, not_planned=not_planned, wanting=len(visible)
    )
