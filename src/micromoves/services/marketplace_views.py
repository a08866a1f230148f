"""Read models of the marketplace for pages and API: matching, opportunity detail, the release ledger."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Date, and_, case, cast, func, select

from micromoves.domain import rules
from micromoves.domain.errors import NotFound
from micromoves.domain.lifecycle import COMMITTED_STATUSES, OCCUPYING_STATUSES, STARTED_STATUSES
from micromoves.domain.marketplace import (
    ONBOARDING_OPEN,
    Candidate,
    ChecklistOwner,
    OpportunityStatus,
    ineligibility,
    may_apply_again,
    onboarding_owner,
    skill_fit,
    skill_fit_words,
)
from micromoves.domain.model import AssignmentReason, MoveStatus
from micromoves.services.marketplace import (
    _may_run,
    eligibility_of,
    first_activations,
    fit_in_plan,
    host_is_managed,
    may_offer,
    on_the_market,
    plan_in_force_of,
    profile,
    profiles,
    seats_taken,
    seats_taken_of,
    sees_opportunity,
)
from micromoves.services.paging import FIRST_PAGE, MAX_PAGE_SIZE, Paged, PageQuery, count
from micromoves.services.planning import WhatIf, to_hundredths
from micromoves.services.policy import Policy
from micromoves.services.views import PersonRef, actor_name, names_of
from micromoves.settings import get_settings
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.repositories import skill_labels

OS = OpportunityStatus


class OpportunityCard(BaseModel):
    id: str
    title: str
    kind: str
    host_team: str
    start: dt.date
    end: dt.date
    percent_time: int
    seats: int
    seats_left: int
    status: str
    skill_fit: float | None  # 0–1 for the viewer (None: the viewer is not a person)
    # Whether it names any required or preferred skill: a fit of 1.0 with nothing asked is no match to show
    # ("skills 100%" read as a perfect match).
    asks_skills: bool = True
    plan_fit: str  # "step 2 of your plan; …", or what target skills it builds, or ""
    eligible: bool | None
    reasons: list[str]  # why not eligible
    # Why it is ranked where it is, in one readable sentence: plan fit, then skill fit (viewers only).
    why: str = ""
    my_application: str | None  # the viewer's application status, if any


class Marketplace(Paged):
    """A page of the opportunities: open ones, then filled ones, then drafts and pending ones; for a person
    ranked for them across the market, else each group soonest to start first (see :func:`marketplace`)."""

    opportunities: list[OpportunityCard]
    may_offer: bool = False  # the principal may draft opportunities for some team (GET /opportunities/new)


class ApplicationRow(BaseModel):
    id: int
    person: PersonRef
    status: str
    applied_at: dt.datetime
    note: str
    skill_fit: float
    plan_benefit_weeks: int | None
    move_id: str | None


class OnboardingItemView(BaseModel):
    id: int
    item: str
    owner: ChecklistOwner | None = Field(
        description="who ticks it off: the person, the host team's manager or the person's line manager (HR of "
        "the person's unit and admins may too); null: an item no checklist knows, for either side"
    )
    done_on: dt.date | None
    done_by: str | None = Field(description="who ticked it off (a name; an account without a person: its username)")
    may_tick: bool = Field(description="may you tick it off or reopen it now (its party, and the move open)")


class OpportunityDetail(BaseModel):
    card: OpportunityCard
    description: str
    expected_outcomes: str
    success_criteria: list[str]
    required_skills: dict[str, float]
    preferred_skills: dict[str, float]
    builds_skills: dict[str, float]
    eligibility: list[str]
    application_deadline: dt.date | None
    host_manager: PersonRef | None
    applications: list[ApplicationRow]  # for the host side only: a page of them, first applied first
    # The page of the applications shown, and how many there are (?page=, ?page_size=); null: not host side.
    applications_paging: Paged | None = None
    my_application_id: int | None
    actions: list[str]


# The ledger's figures as the API documents them (person_weeks_lent meant the whole span of every move until
# 2026-11: an integrator reading it saw the figure fall to what was given so far).
LENT = (
    "person-weeks given so far: of moves that have started, the days from their (actual, if late) start to "
    "today or their end, × share of time"
)
COMMITTED = "person-weeks still to come: the days after today to the end of running and approved moves"


class ReleasedMove(BaseModel):
    move_id: str
    person: PersonRef
    title: str
    status: str
    start: dt.date
    end: dt.date
    person_weeks: float = Field(description="the whole move: days from start to end × share of time, in weeks")
    person_weeks_lent: float = Field(description=LENT)


MAX_LEDGER_MOVES = 200  # the most recent, listed one by one; the totals count them all
RELEASE_PAGE_SIZE = 100  # managers per page of HR's release report


class ManagerCredit(BaseModel):
    """What a manager has lent: people released into moves, and what came of it."""

    manager: PersonRef
    people_released: int
    person_weeks_lent: float = Field(description=LENT)
    # Still to come: the rest of active moves and approved moves not yet started. Credit is for time given,
    # so a release approved today for next quarter shows here, not as lent (a move cancelled before it
    # starts never lent anyone).
    person_weeks_committed: float = Field(description=COMMITTED)
    moves_completed: int
    later_role_changes: int
    moves: list[ReleasedMove]  # the most recent MAX_LEDGER_MOVES
    more_moves: int = 0  # older moves not listed (counted in the totals)


class _Viewer:
    """The viewing person's facts, loaded once, for eligibility and fit on many opportunities."""

    def __init__(self, conn: Connection, person_id: str) -> None:
        p = conn.execute(select(t.people).where(t.people.c.id == person_id)).one()
        self.person_id = person_id
        self.row = p
        self.what_if = WhatIf(conn, person_id)  # re-plans lazily, once per page at most for the baseline
        self.level = conn.scalar(select(t.roles.c.level).where(t.roles.c.id == p.role_id)) if p.role_id else None
        self.skills = profile(conn, person_id)
        m = t.moves.c
        self.committed = [
            rules.Interval(r.id, r.start, r.end, r.percent_time)
            for r in conn.execute(
                select(m.id, m.start, m.end, m.percent_time).where(
                    m.person_id == person_id,
                    m.status.in_([s.value for s in COMMITTED_STATUSES]),
                )
            )
        ]
        target = p.target_role_id
        self.target_gaps: dict[str, float] = {}
        self.target_levels = 0  # how many skill levels the target role asks for
        if target:
            # A gap as the planner sees one (the level less the plan tolerance, in its hundredths): the cards
            # said "builds X, which your target role needs" of a skill the plan took as met.
            tolerance = to_hundredths(get_settings().plan_tolerance)
            for skill, level in conn.execute(
                select(t.role_skills.c.skill_id, t.role_skills.c.level).where(t.role_skills.c.role_id == target)
            ):
                self.target_levels += 1
                if to_hundredths(self.skills.get(skill, 0.0)) < to_hundredths(level) - tolerance:
                    self.target_gaps[skill] = level
        self.plan = plan_in_force_of(conn, person_id)  # read once: every card asks it
        self.applications = dict(
            conn.execute(
                select(t.applications.c.opportunity_id, t.applications.c.status).where(
                    t.applications.c.person_id == person_id
                )
            ).all()
        )

    def candidate(self, start: dt.date, end: dt.date) -> Candidate:
        p = self.row
        free = p.capacity_percent - p.home_role_min_percent - rules.peak_load(self.committed, start, end)
        return Candidate(self.person_id, self.level, p.hire_date, p.location, self.skills, max(0, free))


class _Assessment(NamedTuple):
    """What a card says of an opportunity for its viewer, without the words that explain it."""

    fit: float | None
    plan_words: str
    reasons: list[str]
    eligible: bool | None


def _assess(opp: Any, viewer: _Viewer | None, skill_names: dict[str, str], *, replan: bool) -> _Assessment:
    """Skill fit, plan fit and eligibility of ``opp`` for ``viewer`` (None: no person, nothing to say); only a
    what-if re-plan may still read the database, and only with ``replan``."""
    if viewer is None:
        return _Assessment(None, "", [], None)
    fit = skill_fit(opp.required_skills or {}, opp.preferred_skills or {}, viewer.skills)
    # What-if re-plans only for what the viewer could take and that builds a skill their target needs.
    open_to_me = opp.status == OS.OPEN.value and viewer.applications.get(opp.id) is None
    builds_gap = any(s in viewer.target_gaps for s in opp.builds_skills or {})
    _, plan_words = fit_in_plan(viewer.plan, opp, viewer.what_if if replan and open_to_me and builds_gap else None)
    if not plan_words:
        helps = sorted(skill_names.get(s, s) for s in (opp.builds_skills or {}) if s in viewer.target_gaps)
        plan_words = f"builds {', '.join(helps)}, which your target role needs" if helps else ""
    today = dt.date.today()
    reasons = ineligibility(
        eligibility_of(opp),
        opp.percent_time,
        viewer.candidate(opp.start, opp.end),
        start=opp.start,
        today=today,
        names=skill_names,
    )
    # What apply refuses of an open opportunity, which nothing closes when its dates pass (and the
    # marketplace keeps listing): the card said "eligible", and its page had no Apply button nor a reason.
    if opp.status == OS.OPEN.value and opp.end < today:
        reasons.insert(0, f"it ended on {opp.end.isoformat()}")
    elif opp.status == OS.OPEN.value and opp.application_deadline is not None and today > opp.application_deadline:
        reasons.insert(0, f"applications closed on {opp.application_deadline.isoformat()}")
    return _Assessment(fit, plan_words, reasons, not reasons)


def _card(
    opp: Any,
    team: str,
    viewer: _Viewer | None,
    skill_names: dict[str, str],
    taken: int,
    assessed: _Assessment | None = None,
) -> OpportunityCard:
    """One opportunity's card for ``viewer``, from facts read beforehand: the viewer's (:class:`_Viewer`) and
    ``taken``, its seats taken (:func:`seats_taken`); ``assessed``: what :func:`_assess` says of it (default:
    asked now, a what-if re-plan included)."""
    a = assessed or _assess(opp, viewer, skill_names, replan=True)
    return OpportunityCard(
        id=opp.id,
        title=opp.title,
        kind=str(opp.kind),
        host_team=team,
        start=opp.start,
        end=opp.end,
        percent_time=opp.percent_time,
        seats=opp.seats,
        seats_left=max(0, opp.seats - taken),
        status=opp.status,
        skill_fit=a.fit,
        asks_skills=bool(opp.required_skills or opp.preferred_skills),
        plan_fit=a.plan_words,
        eligible=a.eligible,
        reasons=a.reasons,
        why=_why(opp, viewer, a.plan_words, skill_names) if viewer is not None else "",
        my_application=viewer.applications.get(opp.id) if viewer is not None else None,
    )


def _why(opp: Any, viewer: _Viewer, plan_words: str, skill_names: dict[str, str]) -> str:
    """Every match gets a reason, also when it does nothing for the viewer's plan: what it does for the
    plan (or why it does nothing), then how their skills fit what it asks for."""
    if plan_words:
        plan = plan_words
    elif viewer.row.target_role_id is None:
        plan = "you have no target role yet, so it is matched on skills alone"
    elif not viewer.target_levels:
        plan = "your target role names no skill levels yet, so it is matched on skills alone"
    elif not viewer.target_gaps:
        plan = "you already hold every level your target role asks for (within the plan's tolerance)"
    else:
        plan = "it builds none of the skills your target role still needs"
    skills = skill_fit_words(opp.required_skills or {}, opp.preferred_skills or {}, viewer.skills, skill_names)
    return f"{plan}; {skills}"


def _plan_rank(words: str) -> int:
    """Steps of the person's plan first, then what would shorten it, then what builds a skill their target
    role needs (it ranked with what builds none of them), then the rest."""
    if words.startswith("step"):
        return 0
    return 1 if words.startswith("not in your plan") else 2 if words.startswith("builds") else 3


def _order(
    status: str, eligible: bool | None, plan_fit: str, fit: float | None, start: Any, oid: str
) -> tuple[Any, ...]:
    # What the viewer may take before what they may not (a card saying "needs 100% of your time; you have
    # 50% free" ranked third), then by what it does for their plan and how their skills fit.
    return (status != OS.OPEN.value, eligible is False, _plan_rank(plan_fit), -(fit or 0), start, oid)


def _rank(c: OpportunityCard) -> tuple[Any, ...]:
    return _order(c.status, c.eligible, c.plan_fit, c.skill_fit, c.start, c.id)


def _replanned(opp: Any, assessed: _Assessment, viewer: _Viewer) -> bool:
    """Whether a what-if re-plan could say more of an opportunity than its first assessment did: an open one
    the viewer has not applied to that builds a skill their target needs and is not a step of their plan."""
    return (
        opp.status == OS.OPEN.value
        and viewer.applications.get(opp.id) is None
        and assessed.plan_words.startswith("builds")
    )


def marketplace(
    db: Database, policy: Policy, page: PageQuery = FIRST_PAGE, *, include_own_drafts: bool = True
) -> Marketplace:
    """A page of the opportunities on the market: open ones, then filled ones until they end (taken, not
    gone), then drafts and pending ones the viewer hosts.

    For a person, ranked across the whole market before it is cut into pages: those they may take first;
    among them steps of their plan, then those building a skill their target needs (a what-if re-plan on
    the page says which would get them ready sooner, and they come first within it), then by skill fit.
    The ranking is the viewer's own, so the listed opportunities are read whole (hundreds, not the people
    or moves lists' many thousands) and cut in Python; the costly part, the re-plans, runs for the page's
    cards only, best ranked first, within the page's budget. (Cut by the database, soonest first, and ranked
    within each page, the best match could be on page five.)

    For an account without a person nothing is ranked: each group soonest to start first (then by id), cut
    by the database. Either way a card's place depends only on the data, so pages never repeat or skip one."""
    p = policy.principal
    o = t.opportunities.c
    listed: Any = on_the_market()
    if include_own_drafts:
        drafts: Any = o.status.in_([OS.DRAFT.value, OS.PENDING_APPROVAL.value])
        if not p.is_admin:
            drafts = drafts & (
                o.host_team_id.in_(sorted(policy.hosted_teams | policy.hr_units)) | (o.created_by == p.actor)
            )
        listed = listed | drafts
    group = case((o.status == OS.OPEN.value, 0), (o.status == OS.FILLED.value, 1), else_=2)
    q = select(t.opportunities).where(listed).order_by(group, o.start, o.id)
    with db.engine.connect() as conn:
        viewer = _Viewer(conn, p.person_id) if p.person_id else None
        if viewer is None:
            total = count(conn, q)
            rows = list(conn.execute(page.rows(q)))
        else:
            rows = list(conn.execute(q))
            total = len(rows)
        teams = names_of(conn, t.teams, {r.host_team_id for r in rows})
        skills = skill_labels(
            conn,
            {
                s
                for r in rows
                for s in (*(r.builds_skills or {}), *(r.required_skills or {}), *(r.preferred_skills or {}))
            },
        )
        taken = seats_taken_of(conn, [r.id for r in rows])

        def card(r: Any, assessed: _Assessment | None = None) -> OpportunityCard:
            return _card(r, teams.get(r.host_team_id, r.host_team_id), viewer, skills, taken.get(r.id, 0), assessed)

        if viewer is None:
            cards = [card(r) for r in rows]  # nothing to assess without a person
        else:
            # Every listed opportunity ranked by cheap facts, without the cards' words; cards for the page only.
            assessed = [(r, _assess(r, viewer, skills, replan=False)) for r in rows]
            assessed.sort(
                key=lambda ra: _order(ra[0].status, ra[1].eligible, ra[1].plan_words, ra[1].fit, ra[0].start, ra[0].id)
            )
            shown = assessed[page.offset : page.offset + page.page_size]
            viewer.what_if.restart_clock()  # the ranking above must not use up the page's searching time
            # Re-planned, a card may move up within its page ("with it you could be ready N weeks sooner").
            cards = sorted((card(r) if _replanned(r, a, viewer) else card(r, a) for r, a in shown), key=_rank)
    return Marketplace(opportunities=cards, may_offer=may_offer(policy), **page.answer(total))


def opportunity_detail(
    db: Database, policy: Policy, opportunity_id: str, page: PageQuery = FIRST_PAGE
) -> OpportunityDetail:
    """The opportunity as the viewer may see it; for its host side, a ``page`` of its applications."""
    p = policy.principal
    with db.engine.connect() as conn:
        opp = conn.execute(select(t.opportunities).where(t.opportunities.c.id == opportunity_id)).first()
        host_side = opp is not None and _may_run(policy, opp)
        visible = opp is not None and sees_opportunity(policy, opp)
        policy.require(visible, visible=False, action="view", entity_type="opportunity", entity_id=opportunity_id)
        assert opp is not None
        skill_ids = {*opp.required_skills, *opp.preferred_skills, *opp.builds_skills}
        skills = skill_labels(conn, skill_ids)  # "Mathematics (knowledge 2.C.4.a)": O*NET has two Mathematics
        team = names_of(conn, t.teams, {opp.host_team_id}).get(opp.host_team_id, opp.host_team_id)
        viewer = _Viewer(conn, p.person_id) if p.person_id else None
        card = _card(opp, team, viewer, skills, seats_taken(conn, opp.id))
        apps: list[ApplicationRow] = []
        paging = None
        if host_side:
            a = t.applications.c
            applied = select(t.applications).where(a.opportunity_id == opportunity_id)
            paging = Paged(**page.answer(count(conn, applied)))
            rows = conn.execute(page.rows(applied.order_by(a.applied_at, a.id))).all()
            names = names_of(conn, t.people, {r.person_id for r in rows})
            levels = profiles(conn, [r.person_id for r in rows])  # one query for the page, not one per row
            apps = [
                ApplicationRow(
                    id=r.id,
                    person=PersonRef(id=r.person_id, name=names.get(r.person_id, r.person_id)),
                    status=r.status,
                    applied_at=r.applied_at,
                    note=r.note,
                    skill_fit=skill_fit(opp.required_skills or {}, opp.preferred_skills or {}, levels[r.person_id]),
                    plan_benefit_weeks=r.plan_benefit_weeks,
                    move_id=r.move_id,
                )
                for r in rows
            ]
        mine = None
        applied_again = True  # no application yet, or one the person may renew (may_apply_again)
        if p.person_id:
            a = t.applications.c
            own = conn.execute(
                select(a.id, a.status, a.decided_by).where(
                    a.opportunity_id == opportunity_id, a.person_id == p.person_id
                )
            ).first()
            if own is not None:
                mine = own.id
                applied_again = may_apply_again(own.status, own.decided_by, p.person_id)
        host = names_of(conn, t.people, {opp.host_manager_id} if opp.host_manager_id else set())
    rules_words = []
    if opp.min_role_level:
        rules_words.append(f"role level {opp.min_role_level}+")
    if opp.min_tenure_months:
        rules_words.append(f"{opp.min_tenure_months}+ months with the organisation")
    if opp.locations:
        rules_words.append("in " + ", ".join(opp.locations))
    # Read by HR, admins and hosts as well as by applicants: not "your time".
    rules_words.append(f"{opp.percent_time}% of their time free from {opp.start} to {opp.end}")
    actions = []
    if host_side:
        # What set_opportunity_status allows: a filled one can be closed; one with an accepted seat is not
        # cancelled (its seat's move is in the tracker).
        accepted = opp.seats - card.seats_left
        actions += {
            "draft": ["submit", "cancel"],
            "pending_approval": ["publish", "cancel"],
            "open": ["close"] if accepted else ["close", "cancel"],
            "filled": ["close"],
        }.get(opp.status, [])
        if opp.status == "pending_approval" and (
            not (p.is_admin or policy.hosts(opp.host_team_id)) or opp.end < dt.date.today()  # ended: not published
        ):
            actions.remove("publish")
    elif opp.status == "draft" and opp.created_by == p.actor:
        actions.append("submit")
    deadline = opp.application_deadline
    if (
        card.status == "open"
        and p.person_id
        and applied_again
        and card.eligible
        and opp.host_manager_id != p.person_id
        and (deadline is None or dt.date.today() <= deadline)  # what _check_application refuses
        and dt.date.today() <= opp.end
    ):
        actions.append("apply")
    return OpportunityDetail(
        card=card,
        description=opp.description,
        expected_outcomes=opp.expected_outcomes,
        success_criteria=list(opp.criteria_template),
        required_skills={skills.get(k, k): v for k, v in opp.required_skills.items()},
        preferred_skills={skills.get(k, k): v for k, v in opp.preferred_skills.items()},
        builds_skills={skills.get(k, k): v for k, v in opp.builds_skills.items()},
        eligibility=rules_words,
        application_deadline=opp.application_deadline,
        host_manager=PersonRef(id=opp.host_manager_id, name=host[opp.host_manager_id])
        if opp.host_manager_id in host
        else None,
        applications=apps,
        applications_paging=paging,
        my_application_id=mine,
        actions=actions,
    )


def onboarding(db: Database, policy: Policy, move_id: str) -> list[OnboardingItemView]:
    """The move's onboarding checklist, each item with its party, who ticked it off and whether the viewer
    may tick it now (the page offers the button only then: market.complete_onboarding_item's rules)."""
    m = t.moves.c
    with db.engine.connect() as conn:
        move = conn.execute(select(m.person_id, m.host_team_id, m.status).where(m.id == move_id)).first()
        policy.require(
            move is not None and policy.sees_move(move.person_id, move.host_team_id),
            visible=False,
            action="view",
            entity_type="move",
            entity_id=move_id,
        )
        assert move is not None
        rows = conn.execute(
            select(t.onboarding_items)
            .where(t.onboarding_items.c.move_id == move_id)
            .order_by(t.onboarding_items.c.position)
        ).all()
        names = names_of(conn, t.people, [r.done_by for r in rows if r.done_by])
        host_managed = bool(rows) and host_is_managed(conn, move.host_team_id, move.person_id)
    is_open = MoveStatus(move.status) in ONBOARDING_OPEN
    return [
        OnboardingItemView(
            id=r.id,
            item=r.item,
            owner=onboarding_owner(r.item),
            done_on=r.done_on,
            done_by=actor_name(names, r.done_by) if r.done_by else None,
            may_tick=is_open
            and policy.ticks_onboarding(
                onboarding_owner(r.item), move.person_id, move.host_team_id, host_managed=host_managed
            ),
        )
        for r in rows
    ]


def person_weeks(share_days: int) -> float:
    """Person-weeks, to one decimal and half up, from days × percent of time (700 of them make one): in
    integers, so that the same moves give the same figure on every page (floating-point sums of 113.95
    rounded to 114.0 in the report and 113.9 on the ledger)."""
    return (share_days * 10 + 350) // 700 / 10


def _runs() -> Any:
    """Every (team, manager) pair where the manager runs the team or one of its ancestors. UNION, not UNION
    ALL: a cycle of parents (which the importer refuses) would still end."""
    tm, teams = t.team_managers.c, t.teams.c
    runs = select(tm.team_id.label("team_id"), tm.person_id.label("manager_id")).cte("runs", recursive=True)
    return runs.union(select(teams.id, runs.c.manager_id).where(teams.parent_id == runs.c.team_id))


_RUNS = _runs()  # one CTE object: a statement may use _lent() more than once (one name, one definition)


def _lent() -> Any:
    """The moves that count as talent lent, for the ledger and HR's release report alike: released by a
    manager other than the person, holding (or having held, or about to hold) the person's time, and hosted
    outside the teams the releasing manager runs and every team under them — a move inside their own part
    of the organisation (covering a colleague, a course one of their teams runs, a stint in a sub-team)
    lends nobody: a function head whose people move between the function's teams gives no one away (and a
    skip-level manager standing in for the line manager, releasing someone between two teams under them,
    is credited with nothing either: the time stayed in their organisation).
    Judged by who released whom, not by the person's team today: someone who later joins the host team
    (the best outcome of a stretch) still counts for the manager who let them go. A move with no host team
    (a course, an external programme) takes the person away from their work."""
    m = t.moves.c
    return and_(
        m.released_by_id.is_not(None),
        m.released_by_id != m.person_id,
        m.status.in_([s.value for s in OCCUPYING_STATUSES]),
        ~select(_RUNS.c.team_id)
        .where(_RUNS.c.team_id == m.host_team_id, _RUNS.c.manager_id == m.released_by_id)
        .exists(),
    )


# When each move was first made active: a move started late lent its time from then, not from its planned
# start. (A move with no such record, imported as it stands, counts from its planned start.)
_ACTIVATED = first_activations()


def _credit_days(db: Database, today: dt.date) -> tuple[Any, Any, Any]:
    """SQL for a move's days, as the ledger and HR's report both count them (join ``_ACTIVATED`` outer):

    * whole: start to end, both included;
    * lent: for a move that has started, from when it did (its first activation, if that fell after the
      planned start and by the end; else the planned start) to the end or today, whichever comes first;
    * committed: the days after today up to the end. Days of a move not started yet whose start has passed
      are neither: nobody gave them, and a move is not started after its end (secured.transition)."""
    m, a = t.moves.c, _ACTIVATED.c
    started = m.status.in_([s.value for s in STARTED_STATUSES])
    tomorrow = today + dt.timedelta(days=1)
    # Only an activation inside the move's dates is a late start: one recorded after the end is a move
    # entered afterwards (stepped through its statuses on the day it was recorded), which ran as planned.
    on: Any = func.date(a.on) if db.is_sqlite else cast(func.timezone("UTC", a.on), Date)
    began = case((and_(on > m.start, on <= m.end), on), else_=m.start)
    whole: Any
    committed: Any
    if db.is_sqlite:  # julianday differences are floats (rounded by the callers)
        jd = func.julianday
        whole = jd(m.end) - jd(m.start) + 1
        lent = case((started, func.max(0, func.min(jd(m.end), jd(today)) - jd(began) + 1)), else_=0)
        committed = func.max(0, jd(m.end) - func.max(jd(m.start), jd(tomorrow)) + 1)
    else:
        whole = m.end - m.start + 1
        lent = case((started, func.greatest(0, func.least(m.end, today) - began + 1)), else_=0)
        committed = func.greatest(0, m.end - func.greatest(m.start, tomorrow) + 1)
    return whole, lent, committed


def manager_credit(db: Database, policy: Policy, manager_id: str) -> ManagerCredit:
    """The release ledger of one manager: moves of people they released, person-weeks lent, moves
    completed and later role changes of those people. Visible to the manager, their managers, HR, admins."""
    policy.require(
        policy.sees_person(manager_id), visible=False, action="view", entity_type="person", entity_id=manager_id
    )
    m = t.moves.c
    with db.engine.connect() as conn:
        name = conn.scalar(select(t.people.c.name).where(t.people.c.id == manager_id))
        if name is None:
            raise NotFound(f"unknown person {manager_id!r}", field="person_id")
        whole, lent, committed = _credit_days(db, dt.date.today())
        rows = conn.execute(
            select(
                m.id,
                m.person_id,
                m.title,
                m.status,
                m.start,
                m.end,
                # days × percent: exact, so the ledger and HR's report round the same
                (whole * m.percent_time).label("whole"),
                (lent * m.percent_time).label("lent"),
                (committed * m.percent_time).label("committed"),
            )
            .select_from(t.moves.outerjoin(_ACTIVATED, _ACTIVATED.c.move_id == m.id))
            .where(m.released_by_id == manager_id, _lent())
            .order_by(m.start.desc(), m.id)
        ).all()
        people = names_of(conn, t.people, {r.person_id for r in rows})
        changes = _later_role_changes(conn, [manager_id]).get(manager_id, 0)

    # The manager's own ledger names everyone they released; anyone else (their managers, HR, admins) sees
    # the moves of people they may not see only as weeks: HR of one unit read the names and move titles of
    # people since gone to other units, whose pages answer 404 to them. The totals count every move.
    own = policy.is_self(manager_id)
    moves = [
        ReleasedMove(
            move_id=r.id,
            person=PersonRef(id=r.person_id, name=people.get(r.person_id, r.person_id)),
            title=r.title,
            status=str(r.status),
            start=r.start,
            end=r.end,
            person_weeks=person_weeks(round(r.whole)),
            person_weeks_lent=person_weeks(round(r.lent)),
        )
        if own or policy.sees_person(r.person_id)
        else ReleasedMove(
            move_id="",
            person=PersonRef(id="", name="someone outside your view"),
            title="",
            status=str(r.status),
            start=r.start,
            end=r.end,
            person_weeks=person_weeks(round(r.whole)),
            person_weeks_lent=person_weeks(round(r.lent)),
        )
        for r in rows
    ]
    return ManagerCredit(
        manager=PersonRef(id=manager_id, name=name),
        people_released=len({r.person_id for r in rows}),
        # The exact sum, rounded once, as HR's release report does: the rounded parts may not add up to it.
        person_weeks_lent=person_weeks(sum(round(r.lent) for r in rows)),
        person_weeks_committed=person_weeks(sum(round(r.committed) for r in rows)),
        moves_completed=sum(1 for x in moves if x.status == MoveStatus.COMPLETED.value),
        later_role_changes=changes,
        moves=moves[:MAX_LEDGER_MOVES],
        more_moves=max(0, len(moves) - MAX_LEDGER_MOVES),
    )


class ReleaseRow(BaseModel):
    manager: PersonRef
    people_released: int
    person_weeks_lent: float = Field(description=LENT)
    person_weeks_committed: float = Field(description=COMMITTED)
    moves_completed: int
    later_role_changes: int = 0  # of the people released, since (promotion, conversion, transfer)


class ReleaseReport(Paged):
    """HR's view of the release ledger: who lends their people to moves elsewhere, and how much."""

    # Managers who released anyone: ``total`` in all, a page of them, most weeks first (it stopped at 100 with
    # nothing to say that 229 qualified; then it said no ``pages``, and a client paging by it stopped here).
    managers: list[ReleaseRow]


class ReleasePages(PageQuery):
    """The release report's pages: as every list's, a hundred managers to a page unless asked otherwise."""

    page_size: int = Field(
        default=RELEASE_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"rows per page (at most {MAX_PAGE_SIZE})"
    )


def release_report(db: Database, policy: Policy, page: PageQuery | None = None) -> ReleaseReport:
    page = page or ReleasePages()
    if not policy.sees_organisation():
        policy.deny("view the release ledger of", "organisation", "all", visible=True)
    m = t.moves.c
    _, lent_days, committed_days = _credit_days(db, dt.date.today())
    lent = func.sum(lent_days * m.percent_time)  # days × percent, exact; person_weeks rounds it
    committed = func.sum(committed_days * m.percent_time)
    visible = policy.people_filter()
    q = (
        select(
            m.released_by_id,
            func.count(func.distinct(m.person_id)),
            lent,
            committed,
            func.sum(case((m.status == MoveStatus.COMPLETED.value, 1), else_=0)),
        )
        .select_from(t.moves.outerjoin(_ACTIVATED, _ACTIVATED.c.move_id == m.id))
        .where(_lent())
        .group_by(m.released_by_id)
        .order_by(lent.desc(), committed.desc(), m.released_by_id)
    )
    counted = select(func.count(func.distinct(m.released_by_id))).where(_lent())
    if visible is not None:
        q = q.where(m.released_by_id.in_(select(t.people.c.id).where(visible)))
        counted = counted.where(m.released_by_id.in_(select(t.people.c.id).where(visible)))
    with db.engine.connect() as conn:
        total = conn.scalar(counted) or 0
        rows = conn.execute(page.rows(q)).all()
        names = names_of(conn, t.people, {r[0] for r in rows})
        changes = _later_role_changes(conn, [r[0] for r in rows])
    return ReleaseReport(
        managers=[
            ReleaseRow(
                manager=PersonRef(id=pid, name=names.get(pid, pid)),
                people_released=int(n),
                person_weeks_lent=person_weeks(round(w or 0)),
                person_weeks_committed=person_weeks(round(later or 0)),
                moves_completed=int(c or 0),
                later_role_changes=changes.get(pid, 0),
            )
            for pid, n, w, later, c in rows
        ],
        **page.answer(total),
    )


def _later_role_changes(conn: Connection, managers: list[str]) -> dict[str, int]:
    """Per manager: role changes (promotion, conversion, transfer) of the people they released, on or after
    their first release by that manager, counted as on the manager's own page."""
    if not managers:
        return {}
    m, ra = t.moves.c, t.role_assignments.c
    first = conn.execute(
        select(m.released_by_id, m.person_id, func.min(m.start))
        .where(m.released_by_id.in_(managers), _lent())
        .group_by(m.released_by_id, m.person_id)
    ).all()
    people = sorted({person for _, person, _ in first})
    changed: dict[str, list[dt.date]] = {}
    # A conversion whose trial was reverted gave the role back: it is no role change to credit.
    undone = select(m.id).where(m.status == MoveStatus.REVERTED.value)
    for person, start in conn.execute(
        select(ra.person_id, ra.start).where(
            ra.person_id.in_(people),
            ra.reason.in_(
                [AssignmentReason.PROMOTION.value, AssignmentReason.CONVERSION.value, AssignmentReason.TRANSFER.value]
            ),
            ~((ra.reason == AssignmentReason.CONVERSION.value) & ra.move_id.is_not(None) & ra.move_id.in_(undone)),
        )
    ):
        changed.setdefault(person, []).append(start)
    out: dict[str, int] = {}
    for manager, person, released in first:
        later = sum(1 for day in changed.get(person, []) if day >= released)
        if later:
            out[manager] = out.get(manager, 0) + later
    return out
