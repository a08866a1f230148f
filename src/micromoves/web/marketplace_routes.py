"""Marketplace pages and their /api/v1 twins: opportunities, applications, onboarding, release ledger."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from micromoves.domain.errors import InvalidValue
from micromoves.domain.marketplace import OPPORTUNITY_ACTIONS
from micromoves.domain.model import MoveKind
from micromoves.services import congestion, handoffs
from micromoves.services import marketplace as market
from micromoves.services import marketplace_views as mviews
from micromoves.services.choices import KindField
from micromoves.services.marketplace import MAX_LOCATION_CHARS
from micromoves.services.views import PersonRef
from micromoves.storage import tables as t
from micromoves.web.app import ERROR_RESPONSES, page
from micromoves.web.bodies import CRITERIA_FORM_CHARS, CRITERIA_TEXT_CHARS, Criteria, IsoDate, RequestBody
from micromoves.web.routes import (
    Pages,
    RowId,
    Who,
    _lines,
    _move_url,
    _selection,
    db_of,
    form_bool,
    form_date,
    form_model,
    route,
)

html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["marketplace"], responses=ERROR_RESPONSES)

OPPORTUNITY_ACTION = f"^({'|'.join(OPPORTUNITY_ACTIONS)})$"
APPLICATION_ACTION = "^(offer|waitlist|reject|accept|decline|withdraw)$"


class OpportunityBody(RequestBody):
    title: str = Field(min_length=1, max_length=500)
    kind: KindField
    host_team_id: str = Field(min_length=1, max_length=64)
    start: IsoDate
    end: IsoDate
    percent_time: int = Field(ge=1, le=100)
    seats: int = Field(default=1, ge=1, le=10_000)
    description: str = Field(default="", max_length=10_000)
    required_skills: dict[str, float] = Field(default_factory=dict, max_length=50)
    preferred_skills: dict[str, float] = Field(default_factory=dict, max_length=50)
    builds_skills: dict[str, float] = Field(default_factory=dict, max_length=50)
    expected_outcomes: str = Field(default="", max_length=5000)
    success_criteria: Criteria
    min_role_level: int | None = Field(default=None, ge=1, le=10)
    min_tenure_months: int | None = Field(default=None, ge=0, le=600)
    locations: list[Annotated[str, Field(min_length=1, max_length=MAX_LOCATION_CHARS)]] = Field(
        default_factory=list, max_length=50
    )
    application_deadline: IsoDate | None = None
    template_id: str | None = Field(default=None, max_length=64)


class Created(BaseModel):
    id: str


class ApplicationBody(RequestBody):
    note: str = Field(default="", max_length=2000)


class DecisionBody(RequestBody):
    reason: str = Field(default="", max_length=2000)


class DecisionResult(BaseModel):
    application_id: int
    move_id: str | None = Field(default=None, description="the move an accepted offer created")


class OpportunityForm(BaseModel):
    kinds: list[str]
    teams: list[PersonRef]
    criteria_max_chars: int = Field(
        description="the success criteria as one text, one per line: at most this many characters (line breaks "
        "counted once)"
    )


class OnboardingList(BaseModel):
    items: list[mviews.OnboardingItemView]


def _opportunity_url(opportunity_id: str) -> str:
    return f"/opportunities/{quote(opportunity_id, safe='')}"


def _input(body: OpportunityBody) -> market.OpportunityInput:
    return market.OpportunityInput(**body.model_dump())


@route(html, "GET", "/opportunities", name="opportunities")
def opportunities(request: Request, who: Who, at: Pages) -> Response:
    data = mviews.marketplace(db_of(request), who.policy, at)
    return page(request, "opportunities.html", who, data=data, selection=_selection(at))


@route(api, "GET", "/opportunities", name="api.opportunities", response_model=mviews.Marketplace)
def api_opportunities(request: Request, who: Who, at: Pages) -> mviews.Marketplace:
    return mviews.marketplace(db_of(request), who.policy, at)


def _form(request: Request, who: Who) -> OpportunityForm:
    policy = who.policy
    if not market.may_offer(policy):
        policy.deny(
            "offer opportunities",
            "opportunity",
            "new",
            visible=True,
            message="you may offer opportunities for no team: the team that hosts one offers it (its manager, HR "
            "for it, or an administrator); ask your manager or HR",
        )
    with db_of(request).engine.connect() as conn:
        rows = conn.execute(select(t.teams.c.id, t.teams.c.name).order_by(t.teams.c.name)).all()
    mine = [(i, n) for i, n in rows if who.principal.is_admin or i in policy.hosted_teams or i in policy.hr_units]
    return OpportunityForm(
        kinds=[k.value for k in MoveKind],
        teams=[PersonRef(id=i, name=n) for i, n in mine],
        criteria_max_chars=CRITERIA_TEXT_CHARS,
    )


@route(html, "GET", "/opportunities/new", name="opportunity.new")
def opportunity_new(request: Request, who: Who) -> Response:
    return page(request, "opportunity_new.html", who, form=_form(request, who))


@route(api, "GET", "/opportunities/new", name="api.opportunity.new", response_model=OpportunityForm)
def api_opportunity_new(request: Request, who: Who) -> OpportunityForm:
    return _form(request, who)


def _levels(text: str, field: str) -> dict[str, float]:
    out = {}
    for line in _lines(text):
        skill, _, level = line.rpartition("=")
        try:
            value = float(level)
        except ValueError:
            raise InvalidValue(f"write one 'skill = level' per line, got {line!r}", field=field) from None
        # The same name on two lines kept the last line without a word (the service refuses two names of
        # one skill; the form's dict had already lost one of them).
        if skill.strip() in out:
            raise InvalidValue(f"{skill.strip()} is given on two lines, got {line!r} too", field=field)
        out[skill.strip()] = value
    return out


@route(html, "POST", "/opportunities", name="opportunity.create")
def opportunity_create(
    request: Request,
    who: Who,
    title: Annotated[str, Form(max_length=500)],
    kind: Annotated[str, Form(max_length=32)],  # read by OpportunityBody's parser: any case
    host_team_id: Annotated[str, Form(max_length=64)],
    start: Annotated[IsoDate, Form()],
    end: Annotated[IsoDate, Form()],
    percent_time: Annotated[int, Form(ge=1, le=100)],
    seats: Annotated[int, Form(ge=1, le=10_000)] = 1,
    description: Annotated[str, Form(max_length=10_000)] = "",
    expected_outcomes: Annotated[str, Form(max_length=5000)] = "",
    success_criteria: Annotated[str, Form(max_length=CRITERIA_FORM_CHARS)] = "",
    required_skills: Annotated[str, Form(max_length=5000)] = "",
    preferred_skills: Annotated[str, Form(max_length=5000)] = "",
    builds_skills: Annotated[str, Form(max_length=5000)] = "",
    min_role_level: Annotated[int | None, Form(ge=1, le=10)] = None,
    min_tenure_months: Annotated[int | None, Form(ge=0, le=600)] = None,
    locations: Annotated[str, Form(max_length=2000)] = "",
    application_deadline: Annotated[IsoDate | None, Form()] = None,
) -> Response:
    if not _lines(success_criteria):  # as the move form says it (it read "success_criteria.0: String should…")
        raise InvalidValue("give at least one success criterion (one per line)", field="success_criteria")
    body = form_model(
        OpportunityBody,
        title=title,
        kind=kind,
        host_team_id=host_team_id,
        start=start,
        end=end,
        percent_time=percent_time,
        seats=seats,
        description=description,
        expected_outcomes=expected_outcomes,
        success_criteria=_lines(success_criteria),
        required_skills=_levels(required_skills, "required_skills"),
        preferred_skills=_levels(preferred_skills, "preferred_skills"),
        builds_skills=_levels(builds_skills, "builds_skills"),
        min_role_level=min_role_level,
        min_tenure_months=min_tenure_months,
        locations=[x.strip() for x in locations.split(",") if x.strip()],
        application_deadline=application_deadline,
    )
    opportunity_id = market.create_opportunity(db_of(request), who.policy, _input(body))
    return RedirectResponse(_opportunity_url(opportunity_id), status_code=303)


@route(api, "POST", "/opportunities", name="api.opportunity.create", response_model=Created, status_code=201)
def api_opportunity_create(request: Request, who: Who, body: OpportunityBody) -> Created:
    return Created(id=market.create_opportunity(db_of(request), who.policy, _input(body)))


@route(html, "GET", "/opportunities/{opportunity_id:id}", name="opportunity")
def opportunity(request: Request, who: Who, opportunity_id: str, at: Pages) -> Response:
    """The opportunity; its host side pages through its applicants (?page=, ?page_size=)."""
    data = mviews.opportunity_detail(db_of(request), who.policy, opportunity_id, at)
    return page(request, "opportunity.html", who, o=data, selection=_selection(at))


@route(
    api, "GET", "/opportunities/{opportunity_id:id}", name="api.opportunity", response_model=mviews.OpportunityDetail
)
def api_opportunity(request: Request, who: Who, opportunity_id: str, at: Pages) -> mviews.OpportunityDetail:
    return mviews.opportunity_detail(db_of(request), who.policy, opportunity_id, at)


@route(html, "POST", "/opportunities/{opportunity_id:id}/actions/{action}", name="opportunity.action")
def opportunity_action(
    request: Request,
    who: Who,
    opportunity_id: str,
    action: Annotated[str, Path(pattern=OPPORTUNITY_ACTION)],
    background: BackgroundTasks,
) -> Response:
    market.set_opportunity_status(
        db_of(request), who.policy, opportunity_id, OPPORTUNITY_ACTIONS[action], later=background.add_task
    )
    return RedirectResponse(_opportunity_url(opportunity_id), status_code=303)


@route(
    api,
    "POST",
    "/opportunities/{opportunity_id:id}/actions/{action}",
    name="api.opportunity.action",
    response_model=mviews.OpportunityDetail,
)
def api_opportunity_action(
    request: Request,
    who: Who,
    opportunity_id: str,
    action: Annotated[str, Path(pattern=OPPORTUNITY_ACTION)],
    background: BackgroundTasks,
) -> mviews.OpportunityDetail:
    market.set_opportunity_status(
        db_of(request), who.policy, opportunity_id, OPPORTUNITY_ACTIONS[action], later=background.add_task
    )
    return mviews.opportunity_detail(db_of(request), who.policy, opportunity_id)


@route(html, "POST", "/opportunities/{opportunity_id:id}/apply", name="opportunity.apply")
def opportunity_apply(
    request: Request, who: Who, opportunity_id: str, note: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    market.apply(db_of(request), who.policy, opportunity_id, note=note)
    return RedirectResponse(_opportunity_url(opportunity_id), status_code=303)


@route(
    api,
    "POST",
    "/opportunities/{opportunity_id:id}/applications",
    name="api.opportunity.apply",
    response_model=DecisionResult,
    status_code=201,
)
def api_opportunity_apply(request: Request, who: Who, opportunity_id: str, body: ApplicationBody) -> DecisionResult:
    return DecisionResult(application_id=market.apply(db_of(request), who.policy, opportunity_id, note=body.note))


@route(html, "POST", "/applications/{application_id}/actions/{action}", name="application.action")
def application_action(
    request: Request,
    who: Who,
    application_id: RowId,
    action: Annotated[str, Path(pattern=APPLICATION_ACTION)],
    background: BackgroundTasks,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    move_id = market.decide(
        db_of(request), who.policy, application_id, action, reason=reason, later=background.add_task
    )
    if move_id:
        return RedirectResponse(_move_url(move_id), status_code=303)
    # Back to the opportunity the decision was about (a host deciding on 35 applicants decides one by one).
    with db_of(request).engine.connect() as conn:
        opportunity = conn.scalar(select(t.applications.c.opportunity_id).where(t.applications.c.id == application_id))
    return RedirectResponse(_opportunity_url(opportunity) if opportunity else "/opportunities", status_code=303)


@route(
    api,
    "POST",
    "/applications/{application_id}/actions/{action}",
    name="api.application.action",
    response_model=DecisionResult,
)
def api_application_action(
    request: Request,
    who: Who,
    application_id: RowId,
    action: Annotated[str, Path(pattern=APPLICATION_ACTION)],
    body: DecisionBody,
    background: BackgroundTasks,
) -> DecisionResult:
    move_id = market.decide(
        db_of(request), who.policy, application_id, action, reason=body.reason, later=background.add_task
    )
    return DecisionResult(application_id=application_id, move_id=move_id or None)


@route(api, "GET", "/moves/{move_id:id}/onboarding", name="api.move.onboarding", response_model=OnboardingList)
def api_onboarding(request: Request, who: Who, move_id: str) -> OnboardingList:
    return OnboardingList(items=mviews.onboarding(db_of(request), who.policy, move_id))


@route(html, "POST", "/onboarding/{item_id}", name="onboarding.done")
def onboarding_done(
    request: Request,
    who: Who,
    item_id: RowId,
    move_id: Annotated[str, Form(max_length=64)],
    done: Annotated[str, Form(max_length=20)] = "on",
) -> Response:
    market.complete_onboarding_item(db_of(request), who.policy, item_id, done=form_bool(done, "done"))
    return RedirectResponse(_move_url(move_id), status_code=303)


class OnboardingBody(RequestBody):
    done: bool = True


@route(api, "POST", "/onboarding/{item_id}", name="api.onboarding.done", status_code=204, response_class=Response)
def api_onboarding_done(request: Request, who: Who, item_id: RowId, body: OnboardingBody) -> Response:
    market.complete_onboarding_item(db_of(request), who.policy, item_id, done=body.done)
    return Response(status_code=204)


@route(html, "GET", "/people/{person_id:id}/credit", name="credit")
def credit(request: Request, who: Who, person_id: str) -> Response:
    return page(request, "credit.html", who, c=mviews.manager_credit(db_of(request), who.policy, person_id))


@route(api, "GET", "/people/{person_id:id}/credit", name="api.credit", response_model=mviews.ManagerCredit)
def api_credit(request: Request, who: Who, person_id: str) -> mviews.ManagerCredit:
    return mviews.manager_credit(db_of(request), who.policy, person_id)


class HandoffBody(RequestBody):
    holder_id: str = Field(min_length=1, max_length=64, description="whose responsibilities are handed over")
    responsibilities: str = Field(min_length=1, max_length=5000)
    return_on: IsoDate | None = Field(default=None, description="default: the move's end")
    backfill_id: str | None = Field(default=None, max_length=64, description="who covers the receiver's own work")


def _handoff_form(holder_id: str, responsibilities: str, return_on: str, backfill_id: str) -> HandoffBody:
    return form_model(
        HandoffBody,
        holder_id=holder_id,
        responsibilities=responsibilities,
        return_on=form_date(return_on, "return_on"),
        backfill_id=backfill_id or None,
    )


@route(html, "POST", "/moves/{move_id:id}/handoff", name="move.handoff")
def move_handoff(
    request: Request,
    who: Who,
    move_id: str,
    holder_id: Annotated[str, Form(max_length=64)],
    responsibilities: Annotated[str, Form(max_length=5000)],
    return_on: Annotated[str, Form(max_length=10)] = "",
    backfill_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    body = _handoff_form(holder_id, responsibilities, return_on, backfill_id)
    handoffs.record_handoff(db_of(request), who.policy, move_id, **body.model_dump())
    return RedirectResponse(_move_url(move_id), status_code=303)


@route(html, "POST", "/moves/{move_id:id}/handoff/correct", name="move.handoff.correct")
def move_handoff_correct(
    request: Request,
    who: Who,
    move_id: str,
    holder_id: Annotated[str, Form(max_length=64)],
    responsibilities: Annotated[str, Form(max_length=5000)],
    return_on: Annotated[str, Form(max_length=10)] = "",
    backfill_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    body = _handoff_form(holder_id, responsibilities, return_on, backfill_id)
    handoffs.correct_handoff(db_of(request), who.policy, move_id, **body.model_dump())
    return RedirectResponse(_move_url(move_id), status_code=303)


@route(
    api,
    "POST",
    "/moves/{move_id:id}/handoff",
    name="api.move.handoff",
    response_model=handoffs.HandoffView,
    status_code=201,
)
def api_move_handoff(request: Request, who: Who, move_id: str, body: HandoffBody) -> handoffs.HandoffView:
    handoffs.record_handoff(db_of(request), who.policy, move_id, **body.model_dump())
    view = handoffs.handoff_for_move(db_of(request), move_id)
    assert view is not None
    return view


@route(api, "PUT", "/moves/{move_id:id}/handoff", name="api.move.handoff.correct", response_model=handoffs.HandoffView)
def api_move_handoff_correct(request: Request, who: Who, move_id: str, body: HandoffBody) -> handoffs.HandoffView:
    """Correct the move's handoff: the whole of it, as when it was recorded (a left-out return date is the
    move's end, a left-out backfill none)."""
    handoffs.correct_handoff(db_of(request), who.policy, move_id, **body.model_dump())
    view = handoffs.handoff_for_move(db_of(request), move_id)
    assert view is not None
    return view


class HandoffResult(BaseModel):
    handoff: handoffs.HandoffView | None


@route(api, "GET", "/moves/{move_id:id}/handoff", name="api.move.handoff_view", response_model=HandoffResult)
def api_move_handoff_view(request: Request, who: Who, move_id: str) -> HandoffResult:
    from micromoves.services.views import move_detail

    move_detail(db_of(request), who.policy, move_id)  # the same visibility as the move
    return HandoffResult(handoff=handoffs.handoff_for_move(db_of(request), move_id))


@route(html, "GET", "/congestion", name="congestion")
def congestion_page(request: Request, who: Who, horizon: Annotated[int, Query(ge=1, le=520)] = 104) -> Response:
    report = congestion.congestion(db_of(request), who.policy, horizon_weeks=horizon)
    cells = {(c.team, c.quarter): c.count for c in report.heatmap}
    by_skill = {(c.skill, c.quarter): c.count for c in report.skill_heatmap}
    return page(
        request,
        "congestion.html",
        who,
        r=report,
        cells=cells,
        top=max(cells.values(), default=1),
        skill_cells=by_skill,
        skill_top=max(by_skill.values(), default=1),
    )


@route(api, "GET", "/congestion", name="api.congestion", response_model=congestion.CongestionReport)
def api_congestion(
    request: Request, who: Who, horizon: Annotated[int, Query(ge=1, le=520)] = 104
) -> congestion.CongestionReport:
    return congestion.congestion(db_of(request), who.policy, horizon_weeks=horizon)


# How many people to compare: checked by the service alone (congestion.check_route_limit), so that the page's
# form, the JSON twin and the CLI refuse 0 or 21 in the same words; the bounds here only document it.
RouteLimit = Annotated[
    int,
    Query(
        description=f"people to compare, 1–{congestion.MAX_ROUTES}",
        json_schema_extra={"minimum": 1, "maximum": congestion.MAX_ROUTES},
    ),
]


@route(html, "GET", "/congestion/routes/{template_id:id}", name="congestion.routes")
def routes_page(
    request: Request, who: Who, template_id: str, limit: RouteLimit = congestion.DEFAULT_ROUTES
) -> Response:
    data = congestion.alternate_routes(db_of(request), who.policy, template_id, limit=limit)
    return page(request, "alternate_routes.html", who, data=data, most=congestion.MAX_ROUTES)


@route(
    api,
    "GET",
    "/congestion/routes/{template_id:id}",
    name="api.congestion.routes",
    response_model=congestion.AlternateRoutes,
)
def api_routes(
    request: Request, who: Who, template_id: str, limit: RouteLimit = congestion.DEFAULT_ROUTES
) -> congestion.AlternateRoutes:
    return congestion.alternate_routes(db_of(request), who.policy, template_id, limit=limit)


ReleasePages = Annotated[mviews.ReleasePages, Query()]


@route(html, "GET", "/reports/releases", name="releases")
def releases_page(request: Request, who: Who, at: ReleasePages) -> Response:
    r = mviews.release_report(db_of(request), who.policy, at)
    return page(request, "releases.html", who, r=r, selection=_selection(at))


@route(api, "GET", "/reports/releases", name="api.releases", response_model=mviews.ReleaseReport)
def api_releases(request: Request, who: Who, at: ReleasePages) -> mviews.ReleaseReport:
    return mviews.release_report(db_of(request), who.policy, at)
