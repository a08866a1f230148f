"""The FastAPI application: server-rendered pages, their JSON twins under ``/api/v1``, one error shape.

Every request is authenticated by a session cookie (browsers) or a bearer API token (integrators); every
unsafe request made with a cookie must carry the session's CSRF token. Authorization is not decided here:
the routes call services that ask :mod:`micromoves.services.policy`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from micromoves.domain.errors import DomainError, NotAuthenticated, TooManyAttempts
from micromoves.services import accounts, idempotency
from micromoves.services.accounts import Principal
from micromoves.services.importing import ImportRejected
from micromoves.services.policy import Policy
from micromoves.settings import Settings, get_settings
from micromoves.storage.db import Database
from micromoves.web.bodies import BodyLimitMiddleware
from micromoves.web.idempotency import IdempotencyMiddleware
from micromoves.web.paths import TrailingSlashAsSent, path_as_sent

HERE = Path(__file__).parent
log = logging.getLogger("micromoves.web")
SESSION_COOKIE = "mm_session"
LOGIN_CSRF_COOKIE = "mm_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"

# HTTP status per error code; any other DomainError is an invalid request (422).
REPORTED_ISSUES = 1000  # problems of a rejected import listed in an API error (all are counted)
STATUS_BY_CODE = {
    "not_found": 404,
    "not_authenticated": 401,
    "forbidden": 403,
    "conflict": 409,
    "illegal_transition": 409,
    "capacity_exceeded": 409,
    "full_time_overlap": 409,
    "too_many_attempts": 429,
    "unsupported_media_type": 415,
    "payload_too_large": 413,
    "length_required": 411,
    "out_of_time": 503,
}

# The labels of the forms' fields, per route, for the error page of a form a browser sent: it read
# "percent_time: Input should be greater than or equal to 1" where the form says "Share of time (%)". The API
# (and the error's details, for scripts) keeps the field names.
_MOVE_FIELDS = {
    "title": "Title",
    "kind": "Kind",
    "start": "Start",
    "end": "End",
    "percent_time": "Share of time (%)",
    "host_team_id": "Host team",
    "expected_outcomes": "Expected outcomes",
    "success_criteria": "Success criteria",
    "skills_targeted": "Skills it builds",
}
_HANDOFF_FIELDS = {
    "holder_id": "Whose responsibilities",
    "responsibilities": "Responsibilities",
    "return_on": "They come back on",
    "backfill_id": "Backfill",
}
FORM_LABELS: dict[str, dict[str, str]] = {
    "move.create": {**_MOVE_FIELDS, "person_id": "Person"},
    "move.action": {"reason": "Reason"},
    "move.check_in": {"note": "Note", "progress": "Progress %"},
    "move.review": {
        "rating": "Rating",
        "evidence": "Evidence",
        "gains": "Skills gained",
        "notes": "Notes",
        "confidential": "Notes are confidential",
        "decision": "Decision",
        "new_end": "New end",
    },
    "move.handoff": _HANDOFF_FIELDS,
    "move.handoff.correct": _HANDOFF_FIELDS,
    "opportunity.create": {
        **_MOVE_FIELDS,
        "seats": "Seats",
        "description": "Description",
        "required_skills": "Required skills",
        "preferred_skills": "Preferred skills",
        "builds_skills": "Builds",
        "min_role_level": "Lowest role level",
        "min_tenure_months": "Months with the organisation",
        "locations": "Locations",
        "application_deadline": "Last day to apply",
    },
    "opportunity.apply": {"note": "Why you"},
    "allocation.propose": {
        "equity_weight": "Equity weight",
        "release_share": "Team release limit",
        "away_percent": "Counts as away from … % of their time",
    },
    "admin.user.create": {
        "username": "Username",
        "password": "Password",
        "access": "Access",
        "person_id": "Person id",
        "org_units": "HR org units",
    },
    "admin.user.update": {"access": "Access", "active": "Active", "org_units": "HR org units"},
    "admin.user.password": {"password": "New password", "confirm_password": "Again"},
    "token.create": {"name": "Name", "write": "May change data"},
    "password.change": {
        "current_password": "Current password",
        "new_password": "New password",
        "confirm_password": "New password again",
    },
}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


class HeadAsGet:
    """Answer HEAD as GET without the body (HTTP requires HEAD wherever GET is served: monitors and link
    checkers send it). The routes declare GET only, and FastAPI does not add HEAD as Starlette does: every
    HEAD, ``/api/v1/health`` included, was a 405. The headers are the GET's, Content-Length included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, headers_only)


@dataclass(frozen=True)
class Caller:
    """Who is asking, with the policy that answers for them and the session's CSRF token (None when the
    request came with an API token, which carries no ambient authority and needs none)."""

    principal: Principal
    policy: Policy
    csrf_token: str | None


def nav_for(caller: Caller | None) -> dict[str, bool]:
    """Which of the pages not everyone uses the navigation offers: *Approvals* to whoever may ever be asked
    to approve a move, *My team* to a manager (an employee saw both, always empty)."""
    if caller is None:
        return {}
    try:
        return {"approvals": caller.policy.may_approve(), "team": caller.policy.has_reports}
    except SQLAlchemyError:  # the error page of a database that failed: every link, not a second error
        return {"approvals": True, "team": caller.principal.person_id is not None}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def wants_page(request: Request) -> bool:
    """Is an error answered with a page (a browser's navigation), not the JSON error?"""
    # An htmx request gets the JSON error too: static/app.js shows its message (an error page would be
    # swapped into a table row, or, as htmx does by default on an error, nothing at all shown).
    return not (is_api(request) or is_htmx(request) or "text/html" not in request.headers.get("accept", ""))


def _login_url(target: str) -> str:
    return f"/login?next={quote(target, safe='/')}"


def _page_of(request: Request, header: str) -> str:
    """The page a request was made from, as ``header`` names it (HX-Current-URL, Referer): path and query;
    "/" when it names none or another site's."""
    current = urlsplit(request.headers.get(header, ""))
    if current.netloc != request.url.netloc:
        return "/"
    path = current.path if current.path.startswith("/") and not current.path.startswith("//") else "/"
    return path + (f"?{current.query}" if current.query else "")


class ErrorInfo(BaseModel):
    code: str = Field(description="machine-readable, e.g. not_found, forbidden, invalid_request, conflict")
    message: str = Field(description="one human-readable sentence")
    details: dict[str, Any] = Field(
        description="what the request got wrong, when it names a field: problems, a list of {field, message} "
        "(and field, the first one's, when there is one); empty otherwise"
    )


class ErrorBody(BaseModel):
    """The one shape of every error the API returns."""

    error: ErrorInfo


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# Documented on every /api/v1 operation, so that clients (and schemathesis) can rely on the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _documented("not signed in: no or an invalid session cookie or API token"),
    403: _documented("signed in but not allowed (or a missing CSRF token on a cookie-authenticated write)"),
    404: _documented("no such object, or one the caller may not know exists"),
    409: _documented("the request conflicts with the object's state (e.g. an illegal lifecycle step)"),
    422: _documented("invalid request: the body, path or query failed validation or a business rule"),
}


def field_details(field: str | None, message: str) -> dict[str, Any]:
    """The details of an error that names one field: ``field``, and ``problems`` as a validation error lists
    them (a business rule's 422 had only ``field``: an integration reading the problems found none)."""
    if not field:
        return {}
    return {"field": field, "problems": [{"field": field, "message": message}]}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


@functools.cache
def _templates() -> Jinja2Templates:
    """The pages' templates, one environment per process: Jinja compiles a template once per environment, and
    every app made in a process (one per test) would compile each page it renders again."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["csrf_field"] = CSRF_FIELD
    templates.env.globals["nav_for"] = nav_for
    # Read at each render (a server runs for days): pages mark moves under way whose dates say otherwise.
    templates.env.globals["today"] = dt.date.today
    # An id in a link's path, quoted whole: '/' too (an HRIS id like EMP/0042; Jinja's urlencode keeps '/',
    # and a browser resolves a "." or ".." segment of an id to another page), '#', '?' and '&'.
    templates.env.filters["path_id"] = lambda value: quote(str(value), safe="")
    return templates


def create_app(db: Database | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = db or Database(settings.resolved_database_url())
    app = FastAPI(
        title="micromoves",
        version="1",
        description=(
            "Micro-career moves: map, plan and run short, reversible steps towards a target role. "
            "Unsafe requests may carry an `Idempotency-Key` header (1–255 visible ASCII characters): for a "
            "day, a retry of the same request by the same user gets the first response back "
            "(`Idempotent-Replayed: true`) instead of running again."
        ),
        docs_url=None,  # served below from vendored Swagger UI: FastAPI's page needs a CDN and an inline script
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.db = db
    app.state.settings = settings
    app.state.templates = _templates()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # Added before the security headers, so that a replayed response gets them too (the last added runs first).
    app.add_middleware(IdempotencyMiddleware)
    # Before Starlette's own trailing-slash redirect, which decodes %2F; its redirect gets the headers too.
    app.add_middleware(TrailingSlashAsSent)
    # Before the idempotency key's middleware, which reads the whole body of a keyed request.
    app.add_middleware(BodyLimitMiddleware)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # Outermost: every layer beneath answers a HEAD as the GET it stands for.
    app.add_middleware(HeadAsGet)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        status = STATUS_BY_CODE.get(exc.code, 422)
        details = field_details(exc.field, exc.message)
        if isinstance(exc, NotAuthenticated) and not is_api(request):
            if is_htmx(request):
                # An XMLHttpRequest follows a redirect: the login page was swapped into the approvals
                # table's row. The JSON error (static/app.js) and HX-Redirect, which htmx obeys before it
                # swaps anything: the browser goes to the login page, and back to the page it was on.
                response = render_error(request, 401, exc.code, exc.message, {})
                response.headers["HX-Redirect"] = _login_url(_page_of(request, "hx-current-url"))
                return response
            # Back to the same page after signing in, query included (a filtered list stays filtered); from
            # a form's post, to the page the form was on (the action's URL takes no GET).
            if request.method in ("GET", "HEAD"):
                # As sent: an id's '/' stays %2F (/people/X%2Fcredit is not /people/X/credit; web.paths).
                target = path_as_sent(request.scope) + (f"?{request.url.query}" if request.url.query else "")
            else:
                target = _page_of(request, "referer")
            return RedirectResponse(_login_url(target), status_code=303)
        message = exc.message
        if isinstance(exc, ImportRejected):
            # One sentence, and the problems as data an integration can show or act on (every one of them up
            # to REPORTED_ISSUES: a file with a wrong column gives one problem per row).
            message = message.splitlines()[0]
            details["issues"] = [dataclasses.asdict(i) for i in exc.issues[:REPORTED_ISSUES]]
            details["issues_total"] = len(exc.issues)
        response = await error_response(request, status, exc.code, message, details)
        if isinstance(exc, TooManyAttempts) and exc.retry_after_seconds:
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {
                # A body that is not JSON at all fails at ("body", position), a missing one at ("body",):
                # the field is the body (it was '', and the message read ": Field required").
                "field": "body"
                if e.get("type") == "json_invalid"
                else ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path", "form")) or "body",
                "message": e.get("msg", ""),
            }
            for e in exc.errors()
        ]
        labels = FORM_LABELS.get(getattr(request.scope.get("route"), "name", ""), {}) if wants_page(request) else {}
        message = "; ".join(f"{_label(p['field'], labels)}: {p['message']}" for p in problems) or "invalid request"
        return await error_response(request, 422, "invalid_request", message, {"problems": problems})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}.get(
            exc.status_code, "http_error"
        )
        if exc.status_code == 400 and is_api(request):
            # FastAPI's answer to a body it cannot decode (not UTF-8): the same as to malformed JSON.
            message = "body: the body is not valid JSON in UTF-8"
            return render_error(
                request, 422, "invalid_request", message, {"problems": [{"field": "body", "message": message[6:]}]}
            )
        response = await error_response(request, exc.status_code, code, str(exc.detail), {})
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            # HTTP requires a 405 to name the methods the resource takes; Starlette's Allow names only those
            # of the first route on the path, and each of our routes takes one method.
            response.headers["allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # The user sees one sentence; the operator gets the traceback in the server log.
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        message = "something went wrong on our side; it has been logged"
        return await error_response(request, 500, "server_error", message, {})

    from micromoves.web import routes

    routes.register(app)
    _document_security(app)
    return app


def _document_security(app: FastAPI) -> None:
    """Tell generated clients how the API authenticates (they knew nothing of the tokens): a bearer token
    from ``micromoves tokens`` or the users page, or the browser's session cookie with its CSRF header."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API token, from the API tokens page: scope read for GET requests, write "
                    "for the others (one or both; write alone reads nothing)",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "the web app's session; unsafe requests also send the X-CSRF-Token header",
                },
            }
            schema["security"] = [{"bearerToken": []}, {"sessionCookie": []}]
            _document_body_refusals(schema)
            _document_idempotency(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_body_refusals(schema: dict[str, Any]) -> None:
    """Every write may be refused for its body's size (413, bodies.BodyLimitMiddleware) and, but a DELETE,
    for its format (415, bodies.json_body): documented on each, as the import documents its own."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    refusals = {
        "413": {"description": "the body is larger than the API takes", "content": error},
        "415": {"description": "a body not sent as JSON (Content-Type: application/json)", "content": error},
    }
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if method in ("post", "put", "patch", "delete"):
                codes = ("413",) if method == "delete" else ("413", "415")
                for code in codes:
                    operation.setdefault("responses", {}).setdefault(code, refusals[code])


def _document_idempotency(schema: dict[str, Any]) -> None:
    """The Idempotency-Key header on each write that keeps its answer (web.idempotency.keeps_answer), and the
    Idempotent-Replayed header of a replayed answer: the introduction alone told a generated client nothing."""
    from micromoves.web.idempotency import keeps_answer

    header = {
        "name": idempotency.HEADER,
        "in": "header",
        "required": False,
        "description": "a key of your choosing (a UUID, say): for a day, a retry of the same request (method, "
        "path, query and body, byte for byte) gets the first answer back instead of running again; the key with "
        "a different request is refused (422), a retry while the first still runs gets 409",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": f"^{idempotency.VALID_KEY.pattern}$"},
    }
    replayed = {
        "Idempotent-Replayed": {
            "description": "true when this is the stored answer to an earlier request with the same Idempotency-Key",
            "schema": {"type": "string", "enum": ["true"]},
        }
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not keeps_answer(method.upper(), path):
                continue
            operation.setdefault("parameters", []).append(header)
            for code, response in operation.get("responses", {}).items():
                if code.startswith("2"):
                    response.setdefault("headers", {}).update(replayed)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app takes on this request's path."""
    methods: set[str] = set()
    for route in leaf_routes(request.app.routes):
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def leaf_routes(routes: list[Any]) -> Iterator[Any]:
    """Every route of an app or router, those of included routers in their place."""
    for r in routes:
        inner = getattr(r, "original_router", None)  # FastAPI ≥ 0.120 includes routers lazily
        if inner is not None:
            yield from leaf_routes(list(inner.routes))
        else:
            yield r


def _label(field: str, labels: dict[str, str]) -> str:
    """A field as its form labels it: ``percent_time`` → ``Share of time (%)``; ``ratings.0.evidence`` by its
    last part; a field the form does not label keeps its name."""
    return labels.get(field) or labels.get(field.rsplit(".", 1)[-1]) or field


async def error_response(request: Request, status: int, code: str, message: str, details: dict[str, Any]) -> Response:
    """The error, as a page in the normal layout (the navigation, the account) when the caller is known."""
    caller = None
    if wants_page(request):
        caller = getattr(request.state, "caller", None)
        if caller is None and request.cookies.get(SESSION_COOKIE) and _bearer(request) is None:
            # Not identified before the error (an unknown path, a refused query): best effort, off the event loop.
            import anyio

            caller = await anyio.to_thread.run_sync(_caller_if_any, request)
    return render_error(request, status, code, message, details, caller=caller)


def _caller_if_any(request: Request) -> Caller | None:
    try:
        return identify(request)
    except Exception:  # not signed in, or the database is what failed: the bare layout
        return None


def render_error(
    request: Request, status: int, code: str, message: str, details: dict[str, Any], *, caller: Caller | None = None
) -> Response:
    if not wants_page(request):
        return JSONResponse(error_body(code, message, details), status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": status,
            "code": code,
            "message": message,
            "caller": caller,
            # A form the user can correct and send again (static/app.js brings back what they typed).
            "form_refused": request.method == "POST" and status in (409, 422),
        },
        status_code=status,
    )


# ----------------------------------------------------------------------------------- authentication


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def identify(request: Request) -> Caller:
    """The caller of this request, or NotAuthenticated. Kept on the request: an error page that follows
    shows the navigation of the signed-in user."""
    who = _identify(request)
    request.state.caller = who
    return who


def _identify(request: Request) -> Caller:
    db: Database = request.app.state.db
    token = _bearer(request)
    if token is not None:
        principal = accounts.token_principal(db, token)
        if principal is None:
            raise NotAuthenticated("invalid or revoked API token")
        return Caller(principal, Policy(db, principal), None)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = accounts.session_principal(db, cookie)
        if found is not None:
            principal, csrf = found
            return Caller(principal, Policy(db, principal), csrf)
    raise NotAuthenticated("log in first (session cookie or `Authorization: Bearer <token>`)")


async def check_csrf(request: Request, caller: Caller) -> None:
    """Unsafe requests authenticated by cookie must echo the session's CSRF token (form field or header)."""
    if caller.csrf_token is None or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        # No files: no form but the import's takes any (it reads its own, after the admin check), and an
        # unlimited parse here spooled any signed-in user's upload to disk before the route could refuse it.
        form = await request.form(max_files=0)
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    require_csrf(sent, caller)


def require_csrf(sent: str | None, caller: Caller) -> None:
    """The token a cookie-authenticated write echoed (header or form field) must be its session's."""
    if caller.csrf_token is None:
        return
    # As bytes: compare_digest refuses a str holding characters beyond ASCII (a 500, not a wrong token).
    if not sent or not secrets.compare_digest(sent.encode(), caller.csrf_token.encode()):
        from micromoves.domain.errors import Forbidden

        raise Forbidden("missing or wrong CSRF token; reload the page and try again")


def set_session_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def page(
    request: Request, template: str, caller: Caller | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, {"caller": caller, **context}, status_code=status_code)
