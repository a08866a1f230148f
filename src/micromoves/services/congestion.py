"""Congestion: where demand for short moves outruns the seats, and what it costs to route around it.

Demand for a move template comes from the current plans that schedule it within the horizon and from live
applications to the opportunities that run it; supply is its seats over the horizon (a template can run again once a
cohort ends). A **bottleneck** is a slot on which many plans or applicants converge with too few seats.
An opportunity that nobody wants and whose dates are past (it has started, or its apply-by date has passed)
is not listed.
An **alternate route** re-plans a person without the congested option: "if Ada Lovelace cannot get X,
this route is ready N week(s) later". HR and managers read the routes of other people: a route speaks of its
person as its reader knows them (planning.explain's :class:`Subject`), "you" to the person alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Collection
from typing import Any, cast, get_args

from pydantic import BaseModel
from sqlalchemy import Connection, func, select

from micromoves.domain.errors import DomainError, InvalidValue, NotFound
from micromoves.domain.marketplace import LIVE_APPLICATIONS
from micromoves.planning import PlanningError, PlanProblem, PlanResult, check_plan
from micromoves.planning._core import build_result
from micromoves.planning.explain import THEY, Subject, subject_for
from micromoves.planning.model import Status
from micromoves.services.marketplace import first_activations, on_the_market
from micromoves.services.planning import (
    OPPORTUNITY_PREFIX,
    Catalogue,
    OptionCache,
    PersonContext,
    TargetContext,
    load_catalogue,
    load_people,
    load_targets,
    make_problem,
    next_monday,
    plan_benefit,
    plan_digest,
    plan_in_force,
    solve_within,
)
from micromoves.services.policy import Policy
from micromoves.services.views import names_of
from micromoves.settings import Settings, get_settings
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.repositories import all_skill_labels

# A slot is a bottleneck when demand is at least this many times its supply, and at least this many
# people want it (a single person queueing for a one-seat course is not congestion).
BOTTLENECK_RATIO = 2.0
BOTTLENECK_MIN_DEMAND = 5

# Which opportunities the report lists, in words (the page, the JSON and the CLI say it as the code applies it).
SLOT_RULE = (
    "an opportunity nobody wants (no live application, no current plan that takes it) is left out once its "
    "start or its apply-by date has passed; one that someone wants, or that has yet to start and still takes "
    "applications, is listed"
)

# What an opportunity's days to a decision measure, in words (the page, the JSON and the CLI say it so).
DECISION_RULE = (
    "days from an application to the organisation's answer: the offer or the rejection (a host's, an applied "
    "allocation's, or the rejection of every live application when an opportunity is closed or cancelled); "
    "waitlisting is not an answer, nor is anything the applicant does (accepting or declining an offer, "
    "withdrawing), and applications still waiting for an answer are not counted"
)


class SlotLoad(BaseModel):
    """Demand and supply of one slot: an open opportunity (its free seats against its live applications)
    or a catalogue move template (its seats over the horizon against the current plans that schedule it
    to start within the horizon)."""

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
    # Applications: applied → offered / rejected (applications.offered_or_rejected_at), DECISION_RULE; over
    # ``decided`` applications.
    median_days_to_decision: float | None
    decided: int = 0  # how many answered applications that median is over
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
    bottleneck_rule: str = ""  # the rule in words, as the code applies it
    # Opportunities left out as past and unwanted (SLOT_RULE): counted, so that the report says what it dropped.
    slot_rule: str = SLOT_RULE
    decision_rule: str = DECISION_RULE  # what median_days_to_decision measures
    left_out: int = 0
    # Plan demand is only as complete as the plans: how many are counted, how fresh, and who has none. It counts
    # only current plans towards the person's recorded target role (planning.plan_in_force).
    current_plans: int = 0
    latest_plan_at: dt.datetime | None = None
    # People with a target role and no current plan towards it (none, or one towards their previous target):
    # their demand is unknown.
    targets_without_plan: int = 0
    # Current plans towards a target role their person no longer has (changed or cleared), not counted.
    plans_out_of_date: int = 0


class AlternateRoute(BaseModel):
    person_id: str
    person: str
    template_id: str
    template: str
    current_ready_week: int | None
    alternative_ready_week: int | None  # None: not reachable without the slot within the horizon
    extra_weeks: int | None  # alternative_ready_week - current_ready_week (None if either is out of reach)
    steps: list[str]  # the route without the slot (none when the target is out of reach even with it, proven)
    explanation: str  # speaking of the person as the reader knows them: "you" to the person only (_subject)
    # False: a plan compared is only the best found within a search limit (a route's: ROUTE_STEPS or
    # ROUTE_BUDGET; or that of the planning that made the person's current plan)
    proven_optimal: bool = True
    alternative_found: bool = True  # False: no plan without the slot was found within the limits


# Each search of an alternate route (at most two per person, one for a person with a current plan; a page
# shows 5 people by default, up to 20) stops after ROUTE_STEPS search steps (a few tenths of a second); past
# it, the greedy plan is used and the route says it is not proven best. Steps are counted, not timed, so the
# same data gives the same routes however busy the machine is; ROUTE_BUDGET (seconds) is only a safety net.
ROUTE_STEPS = 2_000
ROUTE_BUDGET = 2.0
# How many people a page of alternate routes compares: 5 unless asked, at most 20 (each is a re-plan).
DEFAULT_ROUTES = 5
MAX_ROUTES = 20


def _weeks_between(since: dt.datetime, until: dt.datetime) -> float:
    """From one timestamp to the other in weeks of whole (UTC calendar) days; never negative."""
    return max(0, (until.date() - since.date()).days) / 7


def _quarter(day: dt.date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def _over(start: dt.date, end: dt.date, apply_by: dt.date | None, today: dt.date) -> bool:
    """Are an opportunity's dates past: has it started (or ended), or stopped taking applications (what
    marketplace._check_application refuses after its apply-by date)? Such a one with no demand is noise in
    the report (SLOT_RULE). The start counts as well as the apply-by date: applications close by the start
    (domain.marketplace), and a filled opportunity that is already running, with nobody waiting for it, is
    taken, not congested (the demo's report listed such rows, with 0 seats and 0 demand)."""
    return start < today or end < today or (apply_by is not None and apply_by < today)


def congestion(db: Database, policy: Policy, *, horizon_weeks: int = 104, limit: int = 25) -> CongestionReport:
    """The org-wide congestion report (HR and admins). Every slot with demand is listed; an opportunity
    without any whose start or apply-by date has passed is left out and counted (SLOT_RULE): open ones whose
    dates were over, with only rejected or withdrawn applications, crowded the report out."""
    if not policy.sees_organisation():
        policy.deny("view congestion of", "organisation", "all", visible=True)
    if not 1 <= horizon_weeks <= 520:
        raise InvalidValue("the horizon is 1–520 weeks", field="horizon_weeks")
    today = dt.date.today()
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
        # Only plans towards the person's recorded target (plan_in_force): one made before their target changed,
        # or was cleared, wants nothing they are after now.
        rows = conn.execute(select(t.plans.c.person_id, t.plans.c.steps).where(plan_in_force()))
        # A template's supply is its seats over the horizon, so its demand is the steps that start within it:
        # every step however far ahead was counted, and plans fitted one after another to a one-seat move (weeks
        # 0, 12, 24) showed a queue over the next 12 weeks. An opportunity's seats are for its own dates.
        horizon_end = today + dt.timedelta(weeks=horizon_weeks)
        current_plans = 0
        for person_id, steps in rows:
            current_plans += 1
            for step in steps or []:
                tid = step.get("template_id")
                if tid in templates and dt.date.fromisoformat(step["start"]) >= horizon_end:
                    continue
                if tid in templates or str(tid).startswith(OPPORTUNITY_PREFIX):
                    plan_demand[tid] += 1
                    planned_by[tid].add(person_id)
                    waits[tid].append(int(step.get("start_week", 0)))
                    built = tuple(step.get("gains") or {})
                    starts.append((tid, person_id, dt.date.fromisoformat(step["start"]), built))
        o, a, m = t.opportunities.c, t.applications.c, t.moves.c
        activated = first_activations()
        app_rows = conn.execute(
            select(
                o.template_id,
                o.seats,
                o.id,
                o.title,
                o.kind,
                o.start,
                o.end,
                o.application_deadline,
                a.status,
                a.applied_at,
                # The organisation's answer, not decided_at: that moves on with the applicant's acceptance.
                a.offered_or_rejected_at,
                activated.c.on,
                a.person_id,
            )
            .join(t.applications, a.opportunity_id == o.id, isouter=True)
            .join(activated, activated.c.move_id == a.move_id, isouter=True)
            .where(on_the_market(today))
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
        latest_plan_at = conn.scalar(select(func.max(t.plans.c.created_at)).where(plan_in_force()))
        # A person whose current plan aims at the target they had before has none towards theirs: unknown demand.
        targets_without_plan = (
            conn.scalar(
                select(func.count()).where(
                    t.people.c.target_role_id.is_not(None),
                    ~select(t.plans.c.id).where(t.plans.c.person_id == t.people.c.id, plan_in_force()).exists(),
                )
            )
            or 0
        )
        # Current plans left uncounted so (their target changed, or was cleared): said, not silently dropped.
        plans_out_of_date = (
            conn.scalar(
                select(func.count()).select_from(t.plans).where(t.plans.c.status == "current", ~plan_in_force())
            )
            or 0
        )
        skill_names = all_skill_labels(conn) if starts else {}
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
    for row in app_rows:
        tid, seats, oid, title, kind, start, end, apply_by, status, applied_at, answered_at, started_at, person_id = row
        if status is not None:  # an opportunity nobody applied to yet still has its row (outer join)
            by_opportunity[oid].append((status, applied_at, answered_at, person_id))
        if started_at is not None:
            to_start[OPPORTUNITY_PREFIX + oid].append(_weeks_between(applied_at, started_at))
        opportunity_info[oid] = (tid, seats, title, kind, _over(start, end, apply_by, today))
    live = {s.value for s in LIVE_APPLICATIONS}
    left_out = 0
    for oid, (tid, seats, title, kind, over) in opportunity_info.items():
        apps = by_opportunity.get(oid, [])
        step = OPPORTUNITY_PREFIX + oid
        # No application at all is no different from only decided ones: SLOT_RULE lists it until its dates are
        # past, then counts it as left out (skipped here, a new opportunity was missing and left_out fell short).
        holders = {pid for status, _, _, pid in apps if status == "accepted"}
        applicants = {pid for status, _, _, pid in apps if status in live}
        free = seats - len(holders)
        demand = len(applicants)
        days = [(d - a).total_seconds() / 86_400 for _, a, d, _ in apps if d is not None]
        plans = len(planned_by[step] - holders - applicants)
        if over and not demand and not plans:
            left_out += 1
            continue
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
        left_out=left_out,
        current_plans=current_plans,
        latest_plan_at=latest_plan_at,
        targets_without_plan=targets_without_plan,
        plans_out_of_date=plans_out_of_date,
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
        decided=len(decision_days),
        median_weeks_to_start=round(statistics.median(weeks_to_start), 1) if weeks_to_start else None,
        started=len(weeks_to_start),
        bottleneck=(ratio >= BOTTLENECK_RATIO or supply == 0) and demand >= BOTTLENECK_MIN_DEMAND,
    )


@dataclasses.dataclass
class _Slot:
    """What every route around one slot shares, loaded once per page: each route used to load the catalogue
    (with the open opportunities) and its target again and build every option anew."""

    template_id: str
    title: str
    option_ids: frozenset[str]  # the template, and every open or filled opportunity running it
    catalogue: Catalogue
    start: dt.date
    horizon: int
    settings: Settings
    # Options built from the catalogue, shared by everyone's problems: each is built once, and so is its part
    # of the problem digest that tells whether a stored plan still answers today's problem.
    built: OptionCache = dataclasses.field(default_factory=dict)
    targets: dict[str, TargetContext | DomainError] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class _CurrentPlan:
    """What a route reads of a person's current plan (towards their target, over the route's horizon)."""

    problem_digest: str | None
    outcome: str
    ready_week: int | None
    steps: list[dict[str, Any]]
    explanation: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class _Wanting:
    """One person to route around the slot, loaded together with the others of the page."""

    person_id: str
    name: str
    context: PersonContext
    target: TargetContext
    current: _CurrentPlan | None


def _load_slot(
    conn: Connection, template_id: str, *, horizon: int, settings: Settings, start: dt.date | None = None
) -> _Slot:
    """The slot as routes around it need it, planned from ``start`` (default: next Monday)."""
    title = conn.scalar(select(t.move_templates.c.title).where(t.move_templates.c.id == template_id))
    if title is None:
        raise NotFound(f"unknown move template {template_id!r}", field="template_id")
    return _Slot(
        template_id,
        title,
        frozenset(_slot_options(conn, template_id)),
        load_catalogue(conn),
        start or next_monday(dt.date.today()),
        horizon,
        settings,
    )


def _load_wanting(conn: Connection, slot: _Slot, person_ids: list[str]) -> dict[str, _Wanting | DomainError]:
    """These people as their routes need them, in a handful of queries; or why one cannot be routed."""
    p, pl = t.people.c, t.plans.c
    rows = {r.id: r for r in conn.execute(select(p.id, p.name, p.target_role_id).where(p.id.in_(person_ids)))}
    out: dict[str, _Wanting | DomainError] = {}
    targets: dict[str, TargetContext] = {}
    for pid in person_ids:
        row = rows.get(pid)
        if row is None:
            out[pid] = NotFound(f"unknown person {pid!r}", field="person_id")
        elif row.target_role_id is None:
            out[pid] = InvalidValue(f"{pid} has no target role to plan towards", field="target_role_id")
        elif isinstance(target := _target(conn, slot, row.target_role_id), DomainError):
            out[pid] = target
        else:
            targets[pid] = target
    contexts = load_people(conn, list(targets), start=slot.start) if targets else {}
    current = {
        r.person_id: _CurrentPlan(r.problem_digest, r.outcome, r.ready_week, r.steps or [], r.explanation or {})
        for r in conn.execute(
            select(
                pl.person_id,
                pl.target_role_id,
                pl.problem_digest,
                pl.outcome,
                pl.ready_week,
                pl.steps,
                pl.explanation,
            ).where(pl.person_id.in_(targets), plan_in_force(), pl.horizon_weeks == slot.horizon)
        )
        # Towards the target loaded above: not one set by a change committed between the two reads.
        if r.target_role_id == targets[r.person_id].role_id
    }
    for pid, target in targets.items():
        out[pid] = _Wanting(pid, rows[pid].name, contexts[pid], target, current.get(pid))
    return out


def _target(conn: Connection, slot: _Slot, role_id: str) -> TargetContext | DomainError:
    """A target role's requirements, loaded once per page; or why it cannot be planned towards (a role
    without requirements, say), in load_targets's words."""
    if role_id not in slot.targets:
        try:
            slot.targets[role_id] = load_targets(conn, [role_id])[role_id]
        except DomainError as exc:
            slot.targets[role_id] = exc
    return slot.targets[role_id]


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
    with db.engine.connect() as conn:
        slot = _load_slot(conn, template_id, horizon=horizon_weeks, settings=settings or get_settings())
        who = _load_wanting(conn, slot, [person_id])[person_id]
    if isinstance(who, DomainError):
        raise who
    return _route(slot, who, _subject(policy, who))


def _subject(policy: Policy, who: _Wanting) -> Subject:
    """How a route speaks of its person to the policy's reader: "you" to the person themself, else their name
    to a reader who may see them (every route a page lists is of such a person), "they" to anyone else."""
    if not policy.sees_person(who.person_id):
        return THEY
    return subject_for(policy.principal.person_id, who.person_id, who.name)


def _cannot_get(subject: Subject, title: str) -> str:
    """The condition a costlier route answers, of its person: "if you cannot get X", "if Ada Lovelace …"."""
    return f"if {subject.name} cannot get {title}"


def _route(slot: _Slot, who: _Wanting, subject: Subject, *, budget: float | None = None) -> AlternateRoute:
    """The route of one person without the slot (no database access: searches run outside any transaction),
    worded for a reader who knows the person as ``subject``. ``budget``: seconds per search (default
    ROUTE_BUDGET; 0: none, the counted ROUTE_STEPS alone)."""
    budget = ROUTE_BUDGET if budget is None else budget
    # The problem searched, built once if at all. The congested move is taken out below, after the catalogue
    # filter: keep every depth step it would thin out.
    problem = functools.cache(functools.partial(_problem, slot, who, every_depth_step=True))
    # The person's current plan, when it answers today's problem, is their plan with the slot: the route
    # compares with what the person sees. It is proven best, or the best their own planning found within a
    # larger budget than a route's (plan_all_budget_seconds, then CP-SAT), where a route's bounded search
    # with the slot is not expected to do better (and searching anyway took half the page's time). Only a
    # person without a current plan gets a search with the slot.
    current = _current_plan(slot, who)
    with_it = current if current is not None else _solve(problem(), budget)
    used = any(m.option_id in slot.option_ids for m in with_it.moves)
    # Out of reach even with the slot, proven: out of reach without it too (fewer options never make a plan
    # ready), so there is no route to search for.
    hopeless = with_it.status == "unreachable" and with_it.optimal and not with_it.ready_plan_may_exist
    no_it: PlanResult | None = with_it  # the best plan does not use the slot: it stays the best plan without it
    if used and not hopeless:
        # Without the slot: the template, and every open opportunity that runs it (a plan may reach the same
        # move through one; taking only the template out left routes "without it" that still took it).
        options = tuple(o for o in problem().options if o.id not in slot.option_ids)
        without = dataclasses.replace(problem(), options=options)
        try:
            no_it = solve_within(without, budget, steps=ROUTE_STEPS)
        except (PlanningError, RuntimeError):  # nothing found without the slot within the budget
            no_it = None
    # Proven only if both plans are (a plan without the slot that beats the one with it means the latter is not
    # the best: the plan without it is then the best route found, and it does not use the slot).
    proven = with_it.optimal and no_it is not None and no_it.optimal
    if no_it is not None and _ready_sooner(no_it, with_it):
        with_it, used = no_it, False
    extra = plan_benefit(with_it.ready_week, no_it.ready_week if no_it is not None else None)
    title = slot.title
    hedged = not proven  # the plans compared are the best found within the search limit
    if with_it.ready_week is None:
        words = f"the target is out of reach within {slot.horizon} weeks even with {title}"
    elif not used:
        words = f"{title} is not on the best route, so losing it costs nothing"
    elif no_it is None:
        words = f"no route without {title} was found within the search limit"
        hedged = False  # it says so already
    elif no_it.ready_week is None:
        words = f"without {title} the target is out of reach within {slot.horizon} weeks"
    elif extra == 0:
        words = f"without {title} another route is just as fast (ready at week {no_it.ready_week}), with other moves"
    else:
        words = (
            f"{_cannot_get(subject, title)}, this route is ready {extra} week(s) later "
            f"(week {no_it.ready_week} instead of {with_it.ready_week})"
        )
    if hedged:  # also "out of reach even with it", when that is only the nearest plan found
        words += " (the best plans found within the search limit, not proven optimal)"
    return AlternateRoute(
        person_id=who.person_id,
        person=who.name,
        template_id=slot.template_id,
        template=title,
        current_ready_week=with_it.ready_week,
        alternative_ready_week=no_it.ready_week if no_it is not None else None,
        alternative_found=no_it is not None,
        # Out of reach with the slot: no weeks to count, with or without it.
        extra_weeks=None if with_it.ready_week is None else extra if used else 0,
        steps=[m.title for m in no_it.moves] if no_it is not None and not hopeless else [],
        explanation=words,
        proven_optimal=proven,
    )


def _solve(problem: PlanProblem, budget: float) -> PlanResult:
    """The best plan found within the route's limits (ROUTE_STEPS, ``budget`` seconds)."""
    try:
        return solve_within(problem, budget, steps=ROUTE_STEPS)
    except PlanningError as exc:
        raise InvalidValue(f"cannot plan: {exc}", field="plan") from None
    except RuntimeError:  # not even the greedy fallback found a plan
        raise InvalidValue("no plan was found within the search limit", field="plan") from None


def routes_around(
    conn: Connection,
    template_id: str,
    person_ids: list[str],
    *,
    start: dt.date,
    settings: Settings,
    horizon_weeks: int = 104,
) -> dict[str, AlternateRoute]:
    """The alternate route around a slot of each of these people, as the alternate-routes page computes it,
    planned from ``start``; people who cannot be routed are left out. Inside the caller's transaction: the
    demo seeds what its bottleneck is worth to its applicants with it (see :func:`application_benefit`). The
    searches are bounded by their counted steps alone, not by the clock, so the same data gives the same
    routes on any machine (a route not proven best may differ from the page's, which also tries to improve
    its greedy plan within the time it has; a proven one is the page's)."""
    slot = _load_slot(conn, template_id, horizon=horizon_weeks, settings=settings, start=start)
    routes = {}
    for pid, who in _load_wanting(conn, slot, person_ids).items():
        if not isinstance(who, DomainError):
            try:
                # Read by no one (the demo weighs its seeded applications by them): spoken of by name.
                routes[pid] = _route(slot, who, subject_for(None, pid, who.name), budget=0)
            except (DomainError, PlanningError):
                continue
    return routes


def application_benefit(route: AlternateRoute) -> int | None:
    """The plan benefit an application for the slot records for this person, by the rule of applying
    (:func:`marketplace.plan_fit` with its :class:`WhatIf`): the weeks later the person is ready without it,
    claimed only when both plans compared are proven best and it saves some (None otherwise, and when the
    target is out of reach without it or with it: no weeks to count)."""
    return route.extra_weeks if route.proven_optimal and route.extra_weeks else None


def _problem(slot: _Slot, who: _Wanting, *, every_depth_step: bool = False) -> PlanProblem:
    """The person's planning problem towards their target (``every_depth_step``: see relevant_templates)."""
    return make_problem(
        who.context,
        who.target,
        slot.catalogue,
        start=slot.start,
        horizon=slot.horizon,
        settings=slot.settings,
        cache=slot.built,
        every_depth_step=every_depth_step,
    )


def _current_plan(slot: _Slot, who: _Wanting) -> PlanResult | None:
    """The person's current plan as a result, if it solves the planning problem of today exactly (same
    digest: levels, capacity, target, options on offer, start and horizon) and still holds, else None."""
    plan = who.current
    if plan is None or plan.problem_digest is None:
        return None
    standard = _problem(slot, who)  # the problem a plan is made for
    if plan_digest(standard, slot.start, who.target.role_id) != plan.problem_digest:
        return None  # something changed since (or it was planned from another start): searched afresh
    options = {o.id for o in standard.options}
    starts: dict[str, int] = {}
    for step in plan.steps:
        option, week = step.get("template_id"), step.get("start_week")
        if option not in options or not isinstance(week, int):
            return None  # a step no longer on offer (or not as stored)
        starts[option] = week
    if plan.outcome not in get_args(Status):
        return None
    optimal = bool(plan.explanation.get("optimal", True))
    result = build_result(standard, cast(Status, plan.outcome), starts, optimal=optimal)
    result = dataclasses.replace(result, ready_plan_may_exist=bool(plan.explanation.get("ready_plan_may_exist")))
    # Only a plan that still holds, with the figures it was stored with, stands in for a search.
    stored_as = (plan.ready_week, plan.explanation.get("gap"))
    if check_plan(standard, result) or (result.ready_week, result.gap) != stored_as:
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
        return _wanting(conn, template_id, _slot_options(conn, template_id))[:limit]


def _wanting(conn: Connection, template_id: str, slot: Collection[str]) -> list[str]:
    wanted = [
        pid
        for pid, steps in conn.execute(
            select(t.plans.c.person_id, t.plans.c.steps)
            .where(plan_in_force())  # a plan towards a target the person left wants nothing of theirs
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
    return list(dict.fromkeys(wanted))


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
    # Everyone in the organisation who wants it (a count only), for those who read the congestion report (HR,
    # admins): HR's page said "each person who wants this slot" over 2 people in their unit while the report
    # counted 35. Null for anyone else (an employee sees only themself; the org-wide count is not theirs).
    wanting_everywhere: int | None = None
    limit: int = DEFAULT_ROUTES  # how many were asked for (the page's form shows it)


def check_route_limit(limit: int) -> None:
    """The one check of how many people to compare, for the service, the page's form, its JSON twin and the CLI."""
    if not 1 <= limit <= MAX_ROUTES:
        raise InvalidValue(f"limit is 1–{MAX_ROUTES} (people to compare), not {limit}", field="limit")


def alternate_routes(db: Database, policy: Policy, template_id: str, *, limit: int = DEFAULT_ROUTES) -> AlternateRoutes:
    """Alternate routes for the first ``limit`` people who want a congested slot and whom the user may see
    (in ``affected_people``'s order), costliest first; ``wanting`` counts them all. The web page, its JSON
    twin and the CLI all show this."""
    check_route_limit(limit)
    routes: list[AlternateRoute] = []
    failed: list[tuple[str, str]] = []  # (person, why), named below in one query
    with db.engine.connect() as conn:
        slot = _load_slot(conn, template_id, horizon=104, settings=get_settings())
        everyone = _wanting(conn, template_id, slot.option_ids)
        visible = [pid for pid in everyone if policy.sees_person(pid)]
    queue = iter(visible)
    # In batches of as many people as routes are still missing: loaded together, then searched one by one
    # outside any transaction; one who cannot be routed makes room for the next.
    while batch := list(itertools.islice(queue, limit - len(routes))):
        with db.engine.connect() as conn:
            loaded = _load_wanting(conn, slot, batch)
        for person_id in batch:
            who = loaded[person_id]
            if isinstance(who, DomainError):  # no target role, say: listed with the reason
                failed.append((person_id, str(who)))
                continue
            try:
                routes.append(_route(slot, who, _subject(policy, who)))
            except (DomainError, PlanningError) as exc:
                # This person has no route to compare; the others still do (one of them failing used to fail
                # the whole page for everyone who could see them).
                failed.append((person_id, str(exc)))
    routes.sort(key=lambda r: (-(r.extra_weeks or 0) if r.alternative_ready_week is not None else -10_000, r.person_id))
    with db.engine.connect() as conn:
        names = names_of(conn, t.people, [pid for pid, _ in failed])
    not_planned = [NotPlanned(person_id=pid, person=names.get(pid, pid), reason=why) for pid, why in failed]
    return AlternateRoutes(
        template_id=template_id,
        template_title=slot.title,
        routes=routes,
        not_planned=not_planned,
        wanting=len(visible),
        wanting_everywhere=len(everyone) if policy.sees_organisation() else None,
        limit=limit,
    )
