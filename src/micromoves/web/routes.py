"""Routes: each page and its JSON twin call the same service function; handlers stay thin.

``ACCESS`` names, for every route, who may call it at all (``public``, ``user``: any signed-in account,
``admin``); finer rules (own record, reports, hosted moves, HR units) are the policy's, inside the
services. The authorization matrix test walks the app's routes and fails on a route missing here.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError

from micromoves.domain import rules, vocabulary
from micromoves.domain.errors import Forbidden, InvalidValue, NotAuthenticated, TooManyAttempts
from micromoves.domain.marketplace import CHECKLIST_OWNER_WORDS
from micromoves.domain.model import MoveKind, MoveStatus, Rating
from micromoves.services import accounts, planning, secured, views
from micromoves.services.accounts import Access, Scope
from micromoves.services.choices import DecisionField, KindField, RatingField
from micromoves.services.exporting import safe_cell
from micromoves.services.moves import CriterionRating, GainInput
from micromoves.services.paging import Paged, PageQuery
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.web import charts
from micromoves.web.app import (
    ERROR_RESPONSES,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Caller,
    ErrorBody,
    check_csrf,
    identify,
    is_htmx,
    leaf_routes,
    page,
    set_session_cookie,
)
from micromoves.web.bodies import (
    CRITERIA_FORM_CHARS,
    CRITERIA_TEXT_CHARS,
    Criteria,
    IsoDate,
    RequestBody,
    json_body,
    known_query,
    no_nul,
    no_undeclared_body,
)
from micromoves.web.paths import IdRoute

ACCESS: dict[str, str] = {}


html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["micromoves"], responses=ERROR_RESPONSES)

# Per router, the routes whose path ends in an id: included after every router's other routes (register), so
# that a literal path beside an id's page (/moves/new) is not taken for an id. How a path holding an id is
# read (an id's '/' written %2F; routes under an id before the page of a longer id): web.paths.
_LAST: dict[int, APIRouter] = {}


def _last_of(router: APIRouter) -> APIRouter:
    if id(router) not in _LAST:
        _LAST[id(router)] = APIRouter(
            prefix=router.prefix,
            tags=list(router.tags),
            responses=dict(router.responses),
            include_in_schema=router.include_in_schema,
        )
    return _LAST[id(router)]


F = TypeVar("F", bound=Callable[..., Any])


def route(router: APIRouter, method: str, path: str, *, name: str, access: str = "user", **kw: Any) -> Callable[[F], F]:
    ACCESS[name] = access
    target = _last_of(router) if path.endswith(":id}") else router
    if ":id}" not in path:
        return target.api_route(path, methods=[method], name=name, **kw)

    def add(endpoint: F) -> F:  # an id in the path: matched by web.paths' rule
        target.add_api_route(path, endpoint, methods=[method], name=name, route_class_override=IdRoute, **kw)
        return endpoint

    return add


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def caller(request: Request) -> Caller:
    who = identify(request)
    await check_csrf(request, who)
    # A token's scopes are two separate rights, as issued: ``read`` for safe requests, ``write`` for unsafe
    # ones (a token may hold either or both). Checked here, whatever the route, so a route whose service
    # forgets its own scope check (admin, allocation, tokens did) cannot be a hole. Every unsafe request
    # writes; every safe one reads (a write-only token read every page and list: a product walk found it).
    who.policy.require_scope(Scope.READ if request.method in SAFE_METHODS else Scope.WRITE)
    return who


def admin(who: Caller) -> None:
    who.policy.require_admin()


Who = Annotated[Caller, Depends(caller)]
# Row ids in paths: bounded to the database's integer range (PostgreSQL rejects larger values with an error).
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
# ?page= and ?page_size= of a list (services/paging.py): every list pages so.
Pages = Annotated[PageQuery, Query()]


# ------------------------------------------------------------------------------------------- bodies


class ProposeMoveBody(RequestBody):
    person_id: str | None = Field(default=None, max_length=64, description="default: your own person")
    kind: KindField
    title: str = Field(min_length=1, max_length=500)
    start: IsoDate
    end: IsoDate
    percent_time: int = Field(ge=1, le=100)
    success_criteria: Criteria
    expected_outcomes: str = Field(default="", max_length=5000)
    host_team_id: str | None = Field(default=None, max_length=64)
    skills: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list,
        max_length=20,
        description="the skills the move builds: O*NET names or ids, or the label the pages show",
    )
    target_role_id: str | None = Field(
        default=None, max_length=64, description="the long-term role it serves (default: the person's target role)"
    )
    submit: bool = True


class TargetRoleBody(RequestBody):
    # Required, null to clear: an empty body must not clear a target by default.
    role_id: str | None = Field(
        min_length=1,
        max_length=64,
        description="the role to plan towards (GET …/target-role lists them); null clears it",
    )


class ActionBody(RequestBody):
    reason: str = Field(default="", max_length=2000)


class CheckInBody(RequestBody):
    note: str = Field(min_length=1, max_length=5000)
    progress: int | None = Field(default=None, ge=0, le=100)


class RatingBody(RequestBody):
    position: int = Field(ge=1, le=100)
    rating: RatingField
    evidence: str = Field(default="", max_length=2000)


class GainBody(RequestBody):
    skill: str = Field(min_length=1, max_length=300)
    level_after: float = Field(ge=0, le=7)


class ReviewBody(RequestBody):
    decision: DecisionField
    ratings: list[RatingBody] = Field(default_factory=list, max_length=100)
    gains: list[GainBody] = Field(default_factory=list, max_length=100)
    notes: str = Field(default="", max_length=5000)
    confidential: bool = False
    new_end: IsoDate | None = None


class LoginBody(RequestBody):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1000)


class SessionInfo(BaseModel):
    username: str
    access: Access
    person_id: str | None
    csrf_token: str | None = None


class NewUserBody(RequestBody):
    username: str = Field(min_length=2, max_length=150)
    password: str = Field(min_length=10, max_length=1000)
    access: Access = Access.EMPLOYEE
    person_id: str | None = Field(default=None, max_length=64)
    org_units: list[str] = Field(default_factory=list, max_length=100)


class UserPatch(RequestBody):
    access: Access | None = None
    active: bool | None = None
    org_units: list[str] | None = Field(default=None, max_length=100)


class PasswordChangeBody(RequestBody):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=1, max_length=1000, description="the rules: GET /api/v1/account/password")


class PasswordRules(BaseModel):
    min_length: int
    min_distinct_characters: int
    may_contain_username: bool = False


class PasswordSetBody(RequestBody):
    password: str = Field(min_length=1, max_length=1000)
    revoke_tokens: bool = Field(
        default=False, description="also revoke the account's API tokens (after a suspected compromise)"
    )


class UserView(BaseModel):
    id: int
    username: str
    access: Access
    person_id: str | None
    person_name: str | None = None
    active: bool
    org_units: list[str]


class UserList(Paged):
    """A page of the accounts, by username."""

    users: list[UserView]


class PasswordSetView(BaseModel):
    user: UserView
    sessions_ended: int
    tokens_revoked: int


class TokenBody(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(
        default_factory=lambda: [Scope.READ],
        min_length=1,
        max_length=2,
        description="what the token may do, each separately: 'read' (GET requests) and 'write' (POST, PUT, PATCH, "
        "DELETE); a write-only token reads nothing but the answers to its own writes",
    )


class TokenView(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenList(Paged):
    """A page of your API tokens, oldest first."""

    tokens: list[TokenView]


class NewToken(BaseModel):
    token: str = Field(description="shown once; store it now")
    info: TokenView


class MoveForm(BaseModel):
    person: views.PersonRef
    kinds: list[str]
    teams: list[views.PersonRef]
    criteria_max_chars: int = Field(
        description="the success criteria as one text, one per line: at most this many characters (line breaks "
        "counted once)"
    )


class Health(BaseModel):
    status: str


# -------------------------------------------------------------------------------------------- pages


def _user_view(u: accounts.User) -> UserView:
    return UserView(
        id=u.id,
        username=u.username,
        access=u.access,
        person_id=u.person_id,
        person_name=u.person_name,
        active=u.active,
        org_units=list(u.org_units),
    )


def _token_view(x: accounts.ApiToken) -> TokenView:
    return TokenView(
        id=x.id,
        name=x.name,
        prefix=x.prefix,
        scopes=list(x.scopes),
        created_at=x.created_at,
        revoked_at=x.revoked_at,
        last_used_at=x.last_used_at,
    )


@route(html, "GET", "/api/docs", name="api_docs", access="public")
def api_docs(request: Request) -> Response:
    """The API reference: vendored Swagger UI on the OpenAPI document (see static/NOTICE.md)."""
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(request, "api_docs.html", {"openapi_url": request.app.openapi_url})
    return response


@route(api, "GET", "/health", name="api.health", access="public", response_model=Health)
def health() -> Health:
    return Health(status="ok")


@route(html, "GET", "/", name="dashboard")
def dashboard(request: Request, who: Who) -> Response:
    if who.principal.person_id is None:
        # An account without a person (an admin, HR) has no moves, skills or plan: its account and where to go.
        me = views.me_page(db_of(request), who.policy)
        return page(request, "account_home.html", who, data=me, sees_organisation=who.policy.sees_organisation())
    return _person_page(request, who, who.principal.person_id)


@route(api, "GET", "/me", name="api.me", response_model=views.MePage)
def api_me(request: Request, who: Who) -> views.MePage:
    return views.me_page(db_of(request), who.policy)


def _person_page(request: Request, who: Caller, person_id: str) -> Response:
    data = views.person_page(db_of(request), who.policy, person_id)
    own = who.principal.person_id == person_id
    # The target role form's choices (its JSON twin: GET /api/v1/people/ID/target-role).
    form = views.target_role_form(db_of(request), who.policy, person_id) if data.may_set_target else None
    return page(request, "person.html", who, data=data, charts=charts.person_charts(data), own=own, target_form=form)


def _person_url(who: Caller, person_id: str) -> str:
    return "/" if who.principal.person_id == person_id else f"/people/{quote(person_id, safe='')}"


def _move_url(move_id: str) -> str:
    """The move page's path: an id holding '#' or '?' (ids come from an HRIS as written) led to another."""
    return f"/moves/{quote(move_id, safe='')}"


@route(html, "GET", "/people/{person_id:id}", name="person")
def person(request: Request, who: Who, person_id: str) -> Response:
    return _person_page(request, who, person_id)


@route(api, "GET", "/people/{person_id:id}", name="api.person", response_model=views.PersonPage)
def api_person(request: Request, who: Who, person_id: str) -> views.PersonPage:
    return views.person_page(db_of(request), who.policy, person_id)


@route(html, "POST", "/people/{person_id:id}/plan", name="person.replan")
def person_replan(request: Request, who: Who, person_id: str) -> Response:
    planning.replan(db_of(request), who.policy, person_id, settings=request.app.state.settings)
    return RedirectResponse(f"{_person_url(who, person_id)}#plan", status_code=303)


@route(
    api,
    "POST",
    "/people/{person_id:id}/plan",
    name="api.person.replan",
    response_model=views.PlanView,
    status_code=201,
    responses={
        503: {
            "model": ErrorBody,
            "description": "out_of_time: no plan found within MICROMOVES_PLAN_BUDGET_SECONDS; the current plan is "
            "kept (try again later)",
        }
    },
)
def api_person_replan(request: Request, who: Who, person_id: str) -> views.PlanView | None:
    """Plan again towards the person's target role (within MICROMOVES_PLAN_BUDGET_SECONDS) and answer the
    current plan, as the person's page shows it; the same plan as before is kept, not stored again."""
    planning.replan(db_of(request), who.policy, person_id, settings=request.app.state.settings)
    return views.plan_view(db_of(request), person_id, reader_person_id=who.principal.person_id)


@route(html, "POST", "/people/{person_id:id}/target-role", name="person.set_target_role")
def person_set_target_role(
    request: Request,
    who: Who,
    person_id: str,
    role_id: Annotated[str, Form(max_length=64)] = "",
    clear: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """The person page's target role form: a role from the list, or its Clear button. A post with neither
    is refused rather than taken as clearing it."""
    if not clear and not role_id:
        raise InvalidValue("choose a target role (or clear it with Clear)", field="role_id")
    secured.set_target_role(db_of(request), who.policy, person_id, role_id=None if clear else role_id)
    return RedirectResponse(f"{_person_url(who, person_id)}#plan", status_code=303)


@route(
    api, "GET", "/people/{person_id:id}/target-role", name="api.person.target_role", response_model=views.TargetRoleForm
)
def api_person_target_role(request: Request, who: Who, person_id: str) -> views.TargetRoleForm:
    return views.target_role_form(db_of(request), who.policy, person_id)


@route(
    api,
    "PUT",
    "/people/{person_id:id}/target-role",
    name="api.person.set_target_role",
    response_model=views.PersonPage | views.TargetRoleSet,
)
def api_person_set_target_role(
    request: Request, who: Who, person_id: str, body: TargetRoleBody
) -> views.PersonPage | views.TargetRoleSet:
    """Set the person's target role ({"role_id": null} clears it) and answer their page: a current plan
    towards another role shows as out of date (POST …/plan plans towards the new one). A token that may not
    read is answered the change only (TargetRoleSet), not the page."""
    change = secured.set_target_role(db_of(request), who.policy, person_id, role_id=body.role_id)
    if Scope.READ not in who.principal.scopes:
        return views.TargetRoleSet(
            person_id=person_id,
            old_role_id=change.old_role_id,
            role_id=change.role_id,
            plan_out_of_date=change.plan_out_of_date,
        )
    return views.person_page(db_of(request), who.policy, person_id)


@route(html, "GET", "/people", name="directory")
def directory(request: Request, who: Who, f: Annotated[views.PeopleFilter, Query()]) -> Response:
    data = views.directory(db_of(request), who.policy, f)
    return page(request, "people.html", who, data=data, f=f, selection=_selection(f), filters=_filters(f))


def _filter_values(f: BaseModel) -> dict[str, str]:
    """A list page's filters that are set, as query parameters (no page, no page size)."""
    given = f.model_dump(exclude={"page", "page_size"}, mode="json")
    return {k: str(v) for k, v in given.items() if v}


def _filters(f: BaseModel) -> str:
    """A list page's filters alone as a query string: for its CSV export, which has no pages, and to say
    whether any is set ("2 moves you can see with these filters" of ?page_size=10)."""
    return urlencode(_filter_values(f))


def _selection(f: BaseModel) -> str:
    """A list page's filters, then its page size when not the default, as a query string (its page left
    out), for its other pages."""
    given = _filter_values(f)
    size = getattr(f, "page_size", None)
    if size is not None and size != type(f).model_fields["page_size"].default:
        given["page_size"] = str(size)
    return urlencode(given)


@route(api, "GET", "/people", name="api.directory", response_model=views.Directory)
def api_directory(request: Request, who: Who, f: Annotated[views.PeopleFilter, Query()]) -> views.Directory:
    return views.directory(db_of(request), who.policy, f)


@route(html, "GET", "/people.csv", name="people.csv")
def people_csv(request: Request, who: Who, f: Annotated[views.PeopleSelection, Query()], bom: Bom = None) -> Response:
    return csv_response(views.people_rows(db_of(request), who.policy, f), "people.csv", bom=bom is not False)


@route(
    api,
    "GET",
    "/people.csv",
    name="api.people.csv",
    response_class=StreamingResponse,
    responses={
        200: {"description": "the people as CSV, header first", "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
def api_people_csv(
    request: Request, who: Who, f: Annotated[views.PeopleSelection, Query()], bom: Bom = None
) -> Response:
    return csv_response(views.people_rows(db_of(request), who.policy, f), "people.csv", bom=bom is True)


@route(html, "GET", "/moves", name="moves")
def moves_page(request: Request, who: Who, f: Annotated[views.MoveFilter, Query()]) -> Response:
    data = views.move_list(db_of(request), who.policy, f)
    return page(
        request,
        "moves.html",
        who,
        data=data,
        f=f,
        # The filters as a query string, for the other pages and the export (both dropped some of them).
        selection=_selection(f),
        filters=_filters(f),
        kinds=[k.value for k in MoveKind],
        statuses=[s.value for s in MoveStatus],
    )


@route(api, "GET", "/moves", name="api.moves", response_model=views.MoveList)
def api_moves(request: Request, who: Who, f: Annotated[views.MoveFilter, Query()]) -> views.MoveList:
    return views.move_list(db_of(request), who.policy, f)


@route(html, "GET", "/moves.csv", name="moves.csv")
def moves_csv(request: Request, who: Who, f: Annotated[views.MoveSelection, Query()], bom: Bom = None) -> Response:
    return csv_response(views.move_rows(db_of(request), who.policy, f), "moves.csv", bom=bom is not False)


@route(
    api,
    "GET",
    "/moves.csv",
    name="api.moves.csv",
    response_class=StreamingResponse,
    responses={
        200: {"description": "the moves as CSV, header first", "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
def api_moves_csv(request: Request, who: Who, f: Annotated[views.MoveSelection, Query()], bom: Bom = None) -> Response:
    return csv_response(views.move_rows(db_of(request), who.policy, f), "moves.csv", bom=bom is True)


# Excel opens a UTF-8 CSV without a byte order mark in the local code page, so "Zoë Müller" arrives as
# "ZoÃ« MÃ¼ller". The list pages' Export CSV buttons are for people opening a spreadsheet: their files start
# with one. The API's CSVs and the interchange export are for programs (and the import, which skips a mark):
# theirs start with none. Either way ?bom= decides.
Bom = Annotated[
    bool | None,
    Query(
        description="start the file with a UTF-8 byte order mark, which Excel needs to read non-ASCII text "
        "(default: yes on the list pages' downloads, no in the API and the interchange export)"
    ),
]


def csv_response(
    rows: Iterator[list[str]], filename: str, *, guarded: bool = False, bom: bool = False
) -> StreamingResponse:
    """A CSV download streamed from ``rows``; each cell is guarded against formulas unless ``guarded``
    says the rows already are (the interchange export: guarding twice would change what imports back).
    ``bom``: the file starts with a UTF-8 byte order mark (see :data:`Bom`)."""
    import csv
    import io

    def lines() -> Iterator[str]:
        if bom:
            yield "\ufeff"
        for row in rows:
            buf = io.StringIO()
            csv.writer(buf).writerow(row if guarded else [safe_cell(v) for v in row])
            yield buf.getvalue()

    return StreamingResponse(
        lines(), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _move_form(request: Request, who: Who, person_id: str | None) -> MoveForm:
    pid = person_id or views.principal_person(who.principal, "person")
    data = views.person_page(db_of(request), who.policy, pid)
    with db_of(request).engine.connect() as conn:
        from sqlalchemy import select

        teams = conn.execute(select(t.teams.c.id, t.teams.c.name).order_by(t.teams.c.name)).all()
    return MoveForm(
        person=views.PersonRef(id=data.id, name=data.name),
        kinds=[k.value for k in MoveKind],
        teams=[views.PersonRef(id=i, name=n) for i, n in teams],
        criteria_max_chars=CRITERIA_TEXT_CHARS,
    )


@route(html, "GET", "/moves/new", name="move.new")
def move_new(request: Request, who: Who, person: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    return page(request, "move_new.html", who, form=_move_form(request, who, person), error=None)


@route(api, "GET", "/moves/new", name="api.move.new", response_model=MoveForm)
def api_move_new(request: Request, who: Who, person: Annotated[str | None, Query(max_length=64)] = None) -> MoveForm:
    return _move_form(request, who, person)


def _lines(text: str) -> list[str]:
    return [x.strip() for x in text.splitlines() if x.strip()]


M = TypeVar("M", bound=BaseModel)


def form_model(model: type[M], **values: Any) -> M:
    """A JSON body model built from an HTML form's fields: what fails its validation is answered as a bad
    JSON body is (422, naming each field), not as a server error."""
    try:
        return model(**values)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


def form_int(text: str, field: str) -> int | None:
    """An optional whole number typed into a form field (empty: none). Only ASCII digits: '²' is a digit
    to str.isdigit() but not to int()."""
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise InvalidValue(f"write a whole number, got {text[:20]!r}", field=field)
    return int(text)


FORM_TRUE, FORM_FALSE = frozenset({"on", "true", "1"}), frozenset({"off", "false", "0"})


def form_bool(text: str, field: str) -> bool:
    """A yes/no a form sends as a value (not a checkbox, whose absence is no): on/true/1 or off/false/0, in
    any case. Anything else is refused naming the field; it was read as no (``done=yes`` reopened an item)."""
    word = text.strip().lower()
    if word in FORM_TRUE or word in FORM_FALSE:
        return word in FORM_TRUE
    raise InvalidValue(f"write on, true or 1 (yes) or off, false or 0 (no), got {text[:20]!r}", field=field)


def form_date(text: str, field: str) -> dt.date | None:
    """An optional ISO date typed into a form field (empty: none)."""
    try:
        day = dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise InvalidValue(f"write a date as YYYY-MM-DD, got {text[:20]!r}", field=field) from None
    if day is not None:
        rules.check_calendar(day, field)
    return day


@route(html, "POST", "/moves", name="move.create")
def move_create(
    request: Request,
    who: Who,
    person_id: Annotated[str, Form(max_length=64)],
    kind: Annotated[str, Form(max_length=32)],
    title: Annotated[str, Form(max_length=500)],
    start: Annotated[IsoDate, Form()],
    end: Annotated[IsoDate, Form()],
    percent_time: Annotated[int, Form(ge=1, le=100)],
    # room for MAX_CRITERIA criteria of MAX_CRITERION_CHARS, one per line (the service checks each)
    success_criteria: Annotated[str, Form(max_length=CRITERIA_FORM_CHARS)] = "",
    expected_outcomes: Annotated[str, Form(max_length=5000)] = "",
    host_team_id: Annotated[str, Form(max_length=64)] = "",
    # the skills it builds, one per line: O*NET names, or the labels the pages show
    skills_targeted: Annotated[str, Form(max_length=20 * 301)] = "",
) -> Response:
    criteria = _lines(success_criteria)
    if not criteria:
        raise InvalidValue("give at least one success criterion (one per line)", field="success_criteria")
    skills = _lines(skills_targeted)
    if len(skills) > 20:
        raise InvalidValue(f"at most 20 skills, got {len(skills)}", field="skills_targeted")
    move = secured.propose(
        db_of(request),
        who.policy,
        person_id=person_id,
        kind=kind,
        title=title,
        start=start,
        end=end,
        percent_time=percent_time,
        criteria=criteria,
        expected_outcomes=expected_outcomes,
        host_team_id=host_team_id or None,
        skills_targeted=skills,
    )
    return RedirectResponse(_move_url(move.id), status_code=303)


@route(api, "POST", "/moves", name="api.move.create", response_model=views.MoveDetail, status_code=201)
def api_move_create(request: Request, who: Who, body: ProposeMoveBody) -> views.MoveDetail:
    if not body.success_criteria:
        raise InvalidValue("give at least one success criterion", field="success_criteria")
    move = secured.propose(
        db_of(request),
        who.policy,
        person_id=body.person_id or views.principal_person(who.principal, "person_id"),
        kind=body.kind.value,
        title=body.title,
        start=body.start,
        end=body.end,
        percent_time=body.percent_time,
        criteria=body.success_criteria,
        expected_outcomes=body.expected_outcomes,
        host_team_id=body.host_team_id,
        skills_targeted=body.skills,
        target_role_id=body.target_role_id,
        submit=body.submit,
    )
    return views.move_detail(db_of(request), who.policy, move.id)


@route(html, "GET", "/moves/{move_id:id}", name="move")
def move(request: Request, who: Who, move_id: str) -> Response:
    data = views.move_detail(db_of(request), who.policy, move_id)
    from micromoves.services import handoffs, marketplace_views

    handoff = handoffs.handoff_for_move(db_of(request), move_id)
    may_handoff = handoff is None and "handoff" in data.actions
    may_correct_handoff = handoff is not None and "correct_handoff" in data.actions
    # The onboarding checklist of an accepted opportunity's move (its JSON twin: /api/v1/moves/ID/onboarding).
    onboarding = marketplace_views.onboarding(db_of(request), who.policy, move_id)
    return page(
        request,
        "move.html",
        who,
        m=data,
        ratings=[r.value for r in Rating],
        handoff=handoff,
        may_handoff=may_handoff,
        may_correct_handoff=may_correct_handoff,
        onboarding=onboarding,
        owner_words=CHECKLIST_OWNER_WORDS,
    )


@route(api, "GET", "/moves/{move_id:id}", name="api.move", response_model=views.MoveDetail)
def api_move(request: Request, who: Who, move_id: str) -> views.MoveDetail:
    return views.move_detail(db_of(request), who.policy, move_id)


ACTION_PATTERN = "^(submit|withdraw|approve|decline|start_onboarding|activate)$"


@route(html, "POST", "/moves/{move_id:id}/actions/{action}", name="move.action")
def move_action(
    request: Request,
    who: Who,
    move_id: str,
    action: Annotated[str, Path(pattern=ACTION_PATTERN)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    moved = secured.step(db_of(request), who.policy, move_id, action, reason=reason)
    if is_htmx(request) and action in ("approve", "decline"):
        # From the approvals queue: replace the row with the outcome (the first approval only records).
        return page(
            request, "_decided.html", who, move_id=move_id, title=moved.title, action=action, status=moved.status.value
        )
    return RedirectResponse(_move_url(move_id), status_code=303)


@route(api, "POST", "/moves/{move_id:id}/actions/{action}", name="api.move.action", response_model=views.MoveDetail)
def api_move_action(
    request: Request, who: Who, move_id: str, action: Annotated[str, Path(pattern=ACTION_PATTERN)], body: ActionBody
) -> views.MoveDetail:
    secured.step(db_of(request), who.policy, move_id, action, reason=body.reason)
    return views.move_detail(db_of(request), who.policy, move_id)


@route(html, "POST", "/moves/{move_id:id}/check-ins", name="move.check_in")
def move_check_in(
    request: Request,
    who: Who,
    move_id: str,
    note: Annotated[str, Form(min_length=1, max_length=5000)],
    progress: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    value = form_int(progress, "progress")
    secured.check_in(db_of(request), who.policy, move_id, note=note, progress=value)
    return RedirectResponse(_move_url(move_id), status_code=303)


@route(
    api,
    "POST",
    "/moves/{move_id:id}/check-ins",
    name="api.move.check_in",
    response_model=views.MoveDetail,
    status_code=201,
)
def api_move_check_in(request: Request, who: Who, move_id: str, body: CheckInBody) -> views.MoveDetail:
    secured.check_in(db_of(request), who.policy, move_id, note=body.note, progress=body.progress)
    return views.move_detail(db_of(request), who.policy, move_id)


@route(html, "POST", "/moves/{move_id:id}/review", name="move.review")
async def move_review(request: Request, who: Who, move_id: str) -> Response:
    form = await request.form()
    text = {k: v for k, v in form.items() if isinstance(v, str)}
    ratings = []
    for key, value in text.items():
        if key.startswith("rating_") and value:
            position = key.removeprefix("rating_")
            if not (position.isascii() and position.isdigit()):
                _bad(f"rating_{position}")
            rating = vocabulary.parse(Rating, value, field=f"rating_{position}")  # refused naming its field
            evidence = text.get(f"evidence_{position}", "")
            ratings.append(form_model(RatingBody, position=int(position), rating=rating, evidence=evidence))
    body = form_model(
        ReviewBody,
        decision=text.get("decision", ""),
        ratings=ratings,
        gains=_form_gains(text),
        notes=text.get("notes", ""),
        # The box sends "on" when ticked and nothing when not; another yes (true, 1) is a yes too, and
        # anything else is refused: read as no, it showed the notes to the person on the move.
        confidential="confidential" in text and form_bool(text["confidential"], "confidential"),
        new_end=form_date(text.get("new_end", ""), "new_end"),
    )
    import anyio

    await anyio.to_thread.run_sync(lambda: _review(request, who, move_id, body))
    return RedirectResponse(_move_url(move_id), status_code=303)


def _form_gains(text: dict[str, str]) -> list[GainBody]:
    """The review form's gains: a level typed next to a skill the move builds (``gain_level_N`` beside the
    hidden ``gain_skill_N``), then one ``skill = level`` per line of the free-text box."""
    gains = []
    for key, value in text.items():
        if key.startswith("gain_level_") and value.strip():
            skill = text.get("gain_skill_" + key.removeprefix("gain_level_"), "")
            level = _gain_level(value, key, f"the level after is a number, got {value!r}")
            gains.append(form_model(GainBody, skill=skill, level_after=level))
    for line in _lines(text.get("gains", "")):
        skill, _, value = line.rpartition("=")
        level = _gain_level(value, "gains", f"write one 'skill = level' per line, got {line!r}", line)
        gains.append(form_model(GainBody, skill=skill.strip(), level_after=level))
    return gains


def _gain_level(value: str, field: str, how: str, shown: str | None = None) -> float:
    try:
        after = float(value)
    except ValueError:
        raise InvalidValue(f"gains: {how}", field=field) from None
    if not 0 <= after <= 7:  # GainBody would refuse it too, naming only level_after: say which line or box
        raise InvalidValue(f"gains: levels are 0–7 (the O*NET scale), got {shown or value!r}", field=field)
    return after


def _bad(field: str) -> NoReturn:
    raise InvalidValue("a rating field is rating_N, N the number of a success criterion", field=field)


def _review(request: Request, who: Caller, move_id: str, body: ReviewBody) -> None:
    secured.review(
        db_of(request),
        who.policy,
        move_id,
        decision=body.decision,
        ratings=[CriterionRating(r.position, r.rating, r.evidence) for r in body.ratings],
        gains=[GainInput(g.skill, g.level_after) for g in body.gains],
        notes=body.notes,
        confidential=body.confidential,
        new_end=body.new_end,
    )


@route(api, "POST", "/moves/{move_id:id}/review", name="api.move.review", response_model=views.MoveDetail)
def api_move_review(request: Request, who: Who, move_id: str, body: ReviewBody) -> views.MoveDetail:
    _review(request, who, move_id, body)
    return views.move_detail(db_of(request), who.policy, move_id)


@route(html, "GET", "/approvals", name="approvals")
def approvals(request: Request, who: Who, at: Pages) -> Response:
    data = views.approval_queue(db_of(request), who.policy, at)
    return page(request, "approvals.html", who, data=data, selection=_selection(at))


@route(api, "GET", "/approvals", name="api.approvals", response_model=views.ApprovalQueue)
def api_approvals(request: Request, who: Who, at: Pages) -> views.ApprovalQueue:
    return views.approval_queue(db_of(request), who.policy, at)


@route(html, "GET", "/team", name="team")
def team(request: Request, who: Who, at: Pages) -> Response:
    data = views.team_page(db_of(request), who.policy, at)
    return page(request, "team.html", who, data=data, selection=_selection(at))


@route(api, "GET", "/team", name="api.team", response_model=views.TeamPage)
def api_team(request: Request, who: Who, at: Pages) -> views.TeamPage:
    return views.team_page(db_of(request), who.policy, at)


# -------------------------------------------------------------------------------------- admin: users


@route(html, "GET", "/admin/users", name="admin.users", access="admin")
def admin_users(request: Request, who: Who, at: Annotated[UsersPageQuery, Query()]) -> Response:
    admin(who)
    data = _users(request, at)
    # the notice after a reset (its name, also when the account is on another page)
    reset = accounts.username_of(db_of(request), at.password_set) if at.password_set else None
    return page(
        request,
        "admin_users.html",
        who,
        data=data,
        users=data.users,
        accesses=[a.value for a in Access],
        reset=reset,
        selection=_selection(at.model_copy(update={"password_set": None})),
    )


class UsersPageQuery(PageQuery):
    password_set: int | None = Field(default=None, ge=1, le=2_147_483_647)


def _users(request: Request, at: PageQuery) -> UserList:
    users, total = accounts.list_users(db_of(request), at)
    return UserList(users=[_user_view(u) for u in users], **at.answer(total))


@route(api, "GET", "/admin/users", name="api.admin.users", access="admin", response_model=UserList)
def api_admin_users(request: Request, who: Who, at: Pages) -> UserList:
    admin(who)
    return _users(request, at)


@route(html, "POST", "/admin/users", name="admin.user.create", access="admin")
def admin_user_create(
    request: Request,
    who: Who,
    username: Annotated[str, Form(max_length=150)],
    password: Annotated[str, Form(max_length=1000)],
    access: Annotated[Access, Form()] = Access.EMPLOYEE,
    person_id: Annotated[str, Form(max_length=64)] = "",
    org_units: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    admin(who)
    accounts.create_user(
        db_of(request),
        username=username,
        password=password,
        access=access,
        person_id=person_id or None,
        org_units=[u.strip() for u in org_units.split(",") if u.strip()],
        actor=who.principal.actor,
    )
    return RedirectResponse("/admin/users", status_code=303)


@route(
    api, "POST", "/admin/users", name="api.admin.user.create", access="admin", response_model=UserView, status_code=201
)
def api_admin_user_create(request: Request, who: Who, body: NewUserBody) -> UserView:
    admin(who)
    user = accounts.create_user(
        db_of(request),
        username=body.username,
        password=body.password,
        access=body.access,
        person_id=body.person_id,
        org_units=body.org_units,
        actor=who.principal.actor,
    )
    return _user_view(user)


@route(html, "POST", "/admin/users/{user_id}", name="admin.user.update", access="admin")
def admin_user_update(
    request: Request,
    who: Who,
    user_id: RowId,
    access: Annotated[Access, Form()],
    active: Annotated[str, Form(max_length=5)] = "",
    org_units: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    admin(who)
    accounts.update_user(
        db_of(request),
        user_id,
        access=access,
        active=active == "on",
        org_units=[u.strip() for u in org_units.split(",") if u.strip()],
        actor=who.principal,
    )
    return RedirectResponse("/admin/users", status_code=303)


@route(api, "PATCH", "/admin/users/{user_id}", name="api.admin.user.update", access="admin", response_model=UserView)
def api_admin_user_update(request: Request, who: Who, user_id: RowId, body: UserPatch) -> UserView:
    admin(who)
    user = accounts.update_user(
        db_of(request), user_id, access=body.access, active=body.active, org_units=body.org_units, actor=who.principal
    )
    return _user_view(user)


def _confirmed(password: str, confirmation: str) -> str:
    """A form's new password and its confirmation (typed twice, unseen): they must agree."""
    if password != confirmation:
        raise InvalidValue("the password and its confirmation differ", field="confirm_password")
    return password


@route(html, "POST", "/admin/users/{user_id}/password", name="admin.user.password", access="admin")
def admin_user_password(
    request: Request,
    who: Who,
    user_id: RowId,
    password: Annotated[str, Form(max_length=1000)],
    confirm_password: Annotated[str, Form(max_length=1000)],
    revoke_tokens: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    admin(who)
    accounts.set_password(
        db_of(request),
        user_id,
        password=_confirmed(password, confirm_password),
        revoke_tokens=revoke_tokens == "on",
        actor=who.principal,
    )
    return RedirectResponse(f"/admin/users?password_set={user_id}", status_code=303)


@route(
    api,
    "POST",
    "/admin/users/{user_id}/password",
    name="api.admin.user.password",
    access="admin",
    response_model=PasswordSetView,
)
def api_admin_user_password(request: Request, who: Who, user_id: RowId, body: PasswordSetBody) -> PasswordSetView:
    """Set another account's password (a reset): its sessions end; its API tokens too with `revoke_tokens`.
    Not your own: change that with `POST /api/v1/account/password`."""
    admin(who)
    done = accounts.set_password(
        db_of(request), user_id, password=body.password, revoke_tokens=body.revoke_tokens, actor=who.principal
    )
    return PasswordSetView(
        user=_user_view(done.user), sessions_ended=done.sessions_ended, tokens_revoked=done.tokens_revoked
    )


# -------------------------------------------------------------------------------- own password


def _password_rules() -> PasswordRules:
    return PasswordRules(
        min_length=accounts.MIN_PASSWORD_LENGTH, min_distinct_characters=accounts.MIN_PASSWORD_DISTINCT
    )


@route(html, "GET", "/account/password", name="password")
def password_page(request: Request, who: Who, changed: Annotated[str, Query(max_length=5)] = "") -> Response:
    return page(request, "password.html", who, rules=_password_rules(), changed=changed == "1")


@route(api, "GET", "/account/password", name="api.password", response_model=PasswordRules)
def api_password(who: Who) -> PasswordRules:
    """The rules a new password meets."""
    return _password_rules()


@route(html, "POST", "/account/password", name="password.change")
def password_change(
    request: Request,
    who: Who,
    current_password: Annotated[str, Form(max_length=1000)],
    new_password: Annotated[str, Form(max_length=1000)],
    confirm_password: Annotated[str, Form(max_length=1000)],
) -> Response:
    new = accounts.change_password(
        db_of(request),
        who.principal,
        current_password=current_password,
        new_password=_confirmed(new_password, confirm_password),
        address=_address(request),
    )
    response = RedirectResponse("/account/password?changed=1", status_code=303)
    set_session_cookie(request, response, new.cookie)
    return response


@route(
    api,
    "POST",
    "/account/password",
    name="api.password.change",
    response_model=SessionInfo,
    responses={429: {"model": ErrorBody, "description": "too many wrong passwords; try again later"}},
)
def api_password_change(request: Request, who: Who, body: PasswordChangeBody) -> Response:
    """Change your own password (a session's, not an API token's). Every session of the account ends,
    this one included: the answer sets a new session cookie and carries its CSRF token. API tokens stay.
    A wrong `current_password` (422) counts as a failed login, and is throttled as logins are (429)."""
    new = accounts.change_password(
        db_of(request),
        who.principal,
        current_password=body.current_password,
        new_password=body.new_password,
        address=_address(request),
    )
    p = new.principal
    info = SessionInfo(username=p.username, access=p.access, person_id=p.person_id, csrf_token=new.csrf_token)
    response = JSONResponse(info.model_dump(mode="json"))
    set_session_cookie(request, response, new.cookie)
    return response


# ------------------------------------------------------------------------------------- API tokens


@route(html, "GET", "/account/tokens", name="tokens")
def tokens(request: Request, who: Who, at: Pages) -> Response:
    data = _tokens(request, who, at)
    return page(request, "tokens.html", who, data=data, tokens=data.tokens, new_token=None, selection=_selection(at))


def _tokens(request: Request, who: Caller, at: PageQuery) -> TokenList:
    tokens, total = accounts.list_tokens(db_of(request), who.principal, at)
    return TokenList(tokens=[_token_view(x) for x in tokens], **at.answer(total))


@route(api, "GET", "/tokens", name="api.tokens", response_model=TokenList)
def api_tokens(request: Request, who: Who, at: Pages) -> TokenList:
    return _tokens(request, who, at)


@route(html, "POST", "/account/tokens", name="token.create")
def token_create(
    request: Request,
    who: Who,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    write: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    scopes = ["read", "write"] if write == "on" else ["read"]
    secret, _ = accounts.create_token(db_of(request), who.principal, name=name, scopes=scopes)
    # the first page, as the list opens (the new token, the newest, is on the last: its secret is above)
    data = _tokens(request, who, PageQuery())
    return page(request, "tokens.html", who, data=data, tokens=data.tokens, new_token=secret, selection="")


@route(api, "POST", "/tokens", name="api.token.create", response_model=NewToken, status_code=201)
def api_token_create(request: Request, who: Who, body: TokenBody) -> NewToken:
    secret, info = accounts.create_token(
        db_of(request), who.principal, name=body.name, scopes=[s.value for s in body.scopes]
    )
    return NewToken(token=secret, info=_token_view(info))


@route(html, "POST", "/account/tokens/{token_id}/revoke", name="token.revoke")
def token_revoke(request: Request, who: Who, token_id: RowId) -> Response:
    accounts.revoke_token(db_of(request), who.principal, token_id)
    return RedirectResponse("/account/tokens", status_code=303)


@route(api, "DELETE", "/tokens/{token_id}", name="api.token.revoke", status_code=204, response_class=Response)
def api_token_revoke(request: Request, who: Who, token_id: RowId) -> Response:
    accounts.revoke_token(db_of(request), who.principal, token_id)
    return Response(status_code=204)


# ----------------------------------------------------------------------------------- login / logout


def _address(request: Request) -> str:
    """The client's address, which login throttling counts failures under: the connection's peer. The app
    reads no X-Forwarded-For itself (any client can send one, and would pick the address it is counted
    under); behind a reverse proxy, ``micromoves serve`` has uvicorn put the address the proxy names in
    the peer's place, and only for a proxy listed in MICROMOVES_FORWARDED_ALLOW_IPS (unset: one on this machine)."""
    return request.client.host if request.client else ""


@route(html, "GET", "/login", name="login", access="public")
def login_form(request: Request, next: Annotated[str, Query(max_length=500)] = "/") -> Response:
    return _login_page(request, next)


def _login_page(
    request: Request, next: str, *, error: str | None = None, username: str = "", status: int = 200
) -> Response:
    """The login form (again, after a failed attempt: with the reason, the username typed and where the
    person was going), with a fresh login CSRF token."""
    import secrets

    token = secrets.token_urlsafe(24)
    response = page(
        request, "login.html", None, status, login_csrf=token, next=_safe_next(next), error=error, username=username
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect would let a phishing link bounce through the login page.
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@route(html, "POST", "/login", name="login.submit", access="public")
def login_submit(
    request: Request,
    username: Annotated[str, Form(max_length=150)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    import secrets

    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):  # bytes: see require_csrf
        raise Forbidden("missing or wrong CSRF token; reload the login page and try again")
    db = db_of(request)
    try:
        principal = accounts.authenticate(db, username, password, address=_address(request))
    except (NotAuthenticated, TooManyAttempts) as exc:
        # The form again, saying why: the generic handler would send a page to /login?next=/login, which
        # showed nothing and then sent the next, successful, login back to the login page.
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        response = _login_page(request, next, error=exc.message, username=username, status=status)
        if isinstance(exc, TooManyAttempts) and exc.retry_after_seconds:
            response.headers["Retry-After"] = str(exc.retry_after_seconds)  # as the API's 429 says it
        return response
    new = accounts.start_session(db, principal, replaces=request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(request, response, new.cookie)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@route(
    api,
    "POST",
    "/session",
    name="api.session.create",
    access="public",
    response_model=SessionInfo,
    responses={429: {"model": ErrorBody, "description": "too many failed logins; try again later"}},
)
def api_login(request: Request, body: LoginBody) -> Response:
    db = db_of(request)
    principal = accounts.authenticate(db, body.username, body.password, address=_address(request))
    new = accounts.start_session(db, principal, replaces=request.cookies.get(SESSION_COOKIE))
    info = SessionInfo(
        username=principal.username, access=principal.access, person_id=principal.person_id, csrf_token=new.csrf_token
    )
    response = JSONResponse(info.model_dump(mode="json"))
    set_session_cookie(request, response, new.cookie)
    return response


@route(api, "GET", "/session", name="api.session", response_model=SessionInfo)
def api_session(who: Who) -> SessionInfo:
    p = who.principal
    return SessionInfo(username=p.username, access=p.access, person_id=p.person_id, csrf_token=who.csrf_token)


@route(html, "POST", "/logout", name="logout")
def logout(request: Request, who: Who) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.end_session(db_of(request), cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@route(api, "DELETE", "/session", name="api.session.delete", status_code=204, response_class=Response)
def api_logout(request: Request, who: Who) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.end_session(db_of(request), cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    return response


def all_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every endpoint of an app or router, including those of included routers."""
    return (r for r in leaf_routes(routes) if isinstance(r, APIRoute))


def register(app: FastAPI) -> None:
    """Add every route to ``app``. The routes are included once per process and shared by every app made in it:
    FastAPI derives each included route's models and dependencies on the first request an app matches, about
    30 ms for the first request and more for later routers, paid again by every new app (the tests make one
    per test, hundreds in a run). An app's own router adds nothing to an included route but its dependency
    overrides, which micromoves does not use: the shared routes cannot see one app's, so setting one is
    refused rather than silently ignored (as would be arguments to ``FastAPI()`` that reach included routes,
    such as ``dependencies``: put them on the routers below)."""
    app.router.routes.extend(_included_routes())
    app.dependency_overrides = _NoDependencyOverrides()


class _NoDependencyOverrides(dict[Callable[..., Any], Callable[..., Any]]):
    MESSAGE = (
        "micromoves' apps share their routes (web.routes.register): FastAPI's dependency overrides would be "
        "ignored; patch the dependency itself"
    )

    def __setitem__(self, key: Callable[..., Any], value: Callable[..., Any]) -> None:
        raise TypeError(self.MESSAGE)

    def update(self, *args: Any, **kw: Any) -> None:
        raise TypeError(self.MESSAGE)

    def setdefault(self, key: Callable[..., Any], default: Any = None) -> Any:
        raise TypeError(self.MESSAGE)


@functools.cache
def _included_routes() -> tuple[Any, ...]:
    from micromoves.web import allocation_routes, import_routes, marketplace_routes

    site = APIRouter()  # the same defaults as a FastAPI app's own router

    # The JSON API refuses query parameters it does not read, bodies that are not JSON, and a body where it
    # reads none; the pages ignore unknown parameters (a link with a tracking parameter still opens).
    # Every route, page or API, refuses a NUL character in what it is sent (bodies.no_nul).
    strict = [Depends(no_nul), Depends(known_query), Depends(json_body), Depends(no_undeclared_body)]
    pages = [Depends(no_nul)]
    routers: list[tuple[APIRouter, list[Any]]] = [
        (api, strict),
        (marketplace_routes.api, strict),
        (allocation_routes.api, strict),
        (import_routes.api, [Depends(no_nul), Depends(known_query)]),  # its body: import_routes
        (html, pages),
        (marketplace_routes.html, pages),
        (allocation_routes.html, pages),
        (import_routes.html, pages),
    ]
    for router, dependencies in routers:
        site.include_router(router, dependencies=dependencies)
    # Then the routes ending in an id, which would take a literal path beside them (/moves/new; web.paths).
    for router, dependencies in routers:
        if id(router) in _LAST:
            site.include_router(_LAST[id(router)], dependencies=dependencies)
    return tuple(site.routes)
