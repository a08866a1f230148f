"""Imports in the browser and over the API: an administrator (or an HRIS integration's admin token) sends
people.csv, roles.csv, role_skills.csv, moves.csv or an export .json; all of it is imported or nothing.

The API takes ``multipart/form-data`` (``curl -F files=@people.csv -F files=@moves.csv``), the format made
for files, so it sits on its own router: every other endpoint reads JSON bodies only.

The routes read the form themselves instead of declaring ``File()`` parameters: FastAPI reads declared form
fields before any dependency runs, so an unauthenticated caller could make the server spool hundreds of
megabytes to disk before the 401, and a form it could not read came back as "not valid JSON". Here the
size is checked first (``Content-Length``, before a byte is read), then who is asking, then the form.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from micromoves.domain.errors import InvalidValue, LengthRequired, UnsupportedMediaType
from micromoves.services import exporting, importing, imports, views
from micromoves.services.accounts import Scope
from micromoves.services.idempotency import HEADER as IDEMPOTENCY_HEADER
from micromoves.web.app import CSRF_FIELD, CSRF_HEADER, ERROR_RESPONSES, Caller, ErrorBody, identify, page, require_csrf
from micromoves.web.routes import Bom, Who, admin, csv_response, db_of, route

html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["imports"], responses=ERROR_RESPONSES)

SHOWN_ISSUES = 500  # on the page (the API lists up to app.REPORTED_ISSUES)
FIELDS = ("files", "kind", "known_teams")
# Room for the multipart framing around the files (boundaries, part headers, the other fields).
FRAMING_BYTES = 64 * 1024
TRUE, FALSE = {"true", "on", "yes", "1"}, {"false", "off", "no", "0", ""}


class ImportResult(BaseModel):
    """What an import wrote, per kind of record (roles, role_skills, people, moves)."""

    created: dict[str, int]
    updated: dict[str, int] = Field(description="records that existed and differed from the files")
    unchanged: dict[str, int] = Field(description="records that existed exactly as the files have them")
    teams_created: list[str]
    extra_columns: dict[str, list[str]] = Field(description="columns beyond the format, kept per kind")
    seconds: float


class ImportForm(BaseModel):
    files: list[Any]  # UploadFile
    kind: str | None
    known_teams: bool
    csrf_token: str | None  # a browser's form sends the session's CSRF token as a field


def import_body(request: Request) -> None:
    """Before anything is read: a multipart body of a known length within the import's limit."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        raise UnsupportedMediaType(
            f"send the files as multipart/form-data (curl -F files=@moves.csv), got {media or 'no Content-Type'!r}",
            field="content-type",
        )
    length = request.headers.get("content-length")
    if length is None or not length.isascii() or not length.isdigit():
        raise LengthRequired("send the files with a Content-Length (not chunked)", field="content-length")
    settings = request.app.state.settings
    if int(length) > settings.import_upload_max_bytes + FRAMING_BYTES:
        raise imports.too_large(settings)


async def read_form(request: Request) -> ImportForm:
    """The import's fields, each checked: a field the import does not know is refused (a typo such as
    ``known_team`` would otherwise run with the default), as the JSON API refuses an unknown key."""
    if request.headers.get(IDEMPOTENCY_HEADER) is not None and request.url.path.startswith("/api/"):
        # Not silently ignored: an import is not kept by key (it can be hundreds of megabytes). Sending the
        # same files again changes nothing, but an import re-sent after other changes is applied again.
        raise InvalidValue(
            "imports do not take an Idempotency-Key: the same files sent again change nothing (records are "
            "matched by id); send the request without it",
            field=IDEMPOTENCY_HEADER,
        )
    try:
        form = await request.form(max_files=imports.MAX_UPLOADS, max_fields=len(FIELDS) + 1)
    except StarletteHTTPException as exc:  # Starlette's 400 for a body it cannot parse, or past the limits
        raise InvalidValue(f"the multipart body could not be read: {exc.detail}", field="body") from None
    for name in form:
        if name not in (*FIELDS, CSRF_FIELD):
            raise InvalidValue(f"unknown form field {name!r}; the fields are {', '.join(FIELDS)}", field=name)
    files = form.getlist("files")
    if any(not isinstance(f, UploadFile) for f in files):
        raise InvalidValue("files must be files (curl -F files=@moves.csv), not text", field="files")
    for name in ("kind", "known_teams", CSRF_FIELD):
        if any(not isinstance(v, str) for v in form.getlist(name)):
            # A file part named kind was dropped, and the import ran with the default.
            raise InvalidValue(f"{name} is a text field, not a file", field=name)
    kinds = [v for v in form.getlist("kind") if isinstance(v, str)]
    flags = [v.strip().lower() for v in form.getlist("known_teams") if isinstance(v, str)]
    tokens = [v for v in form.getlist(CSRF_FIELD) if isinstance(v, str)]
    if len(kinds) > 1 or len(flags) > 1:
        raise InvalidValue("kind and known_teams are given once", field="kind" if len(kinds) > 1 else "known_teams")
    if flags and flags[0] not in TRUE | FALSE:
        raise InvalidValue(f"known_teams is true or false, got {flags[0]!r}", field="known_teams")
    return ImportForm(
        csrf_token=tokens[0] if tokens else None,
        files=files,
        kind=(kinds[0].strip() if kinds else "") or None,
        known_teams=bool(flags) and flags[0] in TRUE,
    )


async def import_request(request: Request) -> tuple[Caller, ImportForm]:
    """Who sends the import, checked before the form is read, then the form and (a browser session) its
    CSRF token from it. Not the ``Who`` dependency: its CSRF check reads the form first, whoever asks."""
    who = identify(request)
    who.policy.require_scope(Scope.WRITE)
    who.policy.require_admin("import data")  # the service checks it again: it may be called alone
    form = await read_form(request)
    require_csrf(request.headers.get(CSRF_HEADER) or form.csrf_token, who)
    return who, form


ImportRequest = Annotated[tuple[Caller, ImportForm], Depends(import_request)]


def _run(request: Request, who: Caller, form: ImportForm) -> ImportResult:
    uploads = [imports.Upload(f.filename or "", f.file) for f in form.files]
    summary = imports.import_uploads(
        db_of(request),
        who.policy,
        uploads,
        kind=form.kind,
        known_teams=form.known_teams,
        settings=request.app.state.settings,
    )
    return ImportResult.model_validate(summary, from_attributes=True)


@route(html, "GET", "/admin/import", name="admin.import", access="admin")
def import_page(request: Request, who: Who) -> Response:
    admin(who)
    return page(request, "import.html", who, kinds=importing.KINDS, result=None, rejected=None)


@route(html, "POST", "/admin/import", name="admin.import.submit", access="admin", dependencies=[Depends(import_body)])
async def import_submit(request: Request, sent: ImportRequest) -> Response:
    who, form = sent
    try:
        result = await run_in_threadpool(_run, request, who, form)
    except importing.ImportRejected as exc:
        # The page lists the problems under the form, as the CLI prints them: the sender fixes the files
        # and sends them again (nothing was written).
        return page(
            request,
            "import.html",
            who,
            status_code=422,
            kinds=importing.KINDS,
            result=None,
            rejected=exc.issues[:SHOWN_ISSUES],
            rejected_total=len(exc.issues),
        )
    return page(request, "import.html", who, kinds=importing.KINDS, result=result, rejected=None)


_FORM_SCHEMA = {
    "type": "object",
    "required": ["files"],
    "properties": {
        "files": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "maxItems": imports.MAX_UPLOADS,
            "description": "people.csv, roles.csv, role_skills.csv, moves.csv or an export .json",
        },
        "kind": {
            "type": "string",
            "enum": list(importing.KINDS),
            "description": "what every CSV file holds, if their names do not say",
        },
        "known_teams": {"type": "boolean", "description": "refuse a team that does not exist instead of creating it"},
    },
    "additionalProperties": False,
}


@route(
    api,
    "POST",
    "/imports",
    name="api.imports",
    access="admin",
    response_model=ImportResult,
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _FORM_SCHEMA}}}},
    responses={
        411: {"model": ErrorBody, "description": "no Content-Length (a chunked body)"},
        413: {"model": ErrorBody, "description": "the files are larger than MICROMOVES_IMPORT_UPLOAD_MAX_BYTES"},
        415: {"model": ErrorBody, "description": "the body is not multipart/form-data"},
    },
    dependencies=[Depends(import_body)],
)
async def api_import(request: Request, sent: ImportRequest) -> ImportResult:
    """Import files all or nothing; a rejected import answers 422 with its problems in
    ``error.details.issues`` (file, row, column, message; the first 1,000, and ``issues_total``)."""
    return await run_in_threadpool(_run, request, *sent)


# The interchange files (conventions.md), as `micromoves export` writes them and the import reads them back:
# the JSON API's people.csv and moves.csv are views of the directory and the moves list, with names.
ExportKind = Literal["teams", "people", "roles", "role_skills", "moves"]
EXPORT_CHANGED_SINCE = (
    views.CHANGED_SINCE + " (people and moves; teams, roles and role skills keep no change time and come whole, "
    "as `micromoves export --changed-since` writes them)"
)
ExportSince = Annotated[views.ChangedSince | None, Query(description=EXPORT_CHANGED_SINCE)]


@route(html, "GET", "/admin/export/{kind}.csv", name="admin.export", access="admin")
def export_page(
    request: Request, who: Who, kind: ExportKind, changed_since: ExportSince = None, bom: Bom = None
) -> Response:
    # The browser twin of /api/v1/export/{kind}.csv: the same file, the same filter, no byte order mark unless
    # asked (an interchange file, for the import or an HRIS).
    return _export(request, who, kind, changed_since, bom is True)


def _export(request: Request, who: Who, kind: str, changed_since: dt.datetime | None, bom: bool) -> Response:
    rows = exporting.export_rows(db_of(request), who.policy, kind, changed_since)
    return csv_response(rows, f"{kind}.csv", guarded=True, bom=bom)


@route(
    api,
    "GET",
    "/export/{kind}.csv",
    name="api.export",
    access="admin",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the interchange CSV, header first",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def api_export(
    request: Request, who: Who, kind: ExportKind, changed_since: ExportSince = None, bom: Bom = None
) -> Response:
    """One interchange CSV file (teams, people, roles, role_skills or moves), as the import reads it back."""
    return _export(request, who, kind, changed_since, bom is True)
