"""Imports in the browser and over the API: an administrator (or an HRIS integration's admin token) sends
people.csv, roles.csv, role_skills.csv, moves.csv or an export .json; all of it is imported or nothing.

The API takes ``multipart/form-data`` (``curl -F files=@people.csv -F files=@moves.csv``), the format made
for files, so it sits on its own router: every other endpoint reads JSON bodies only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from micromoves.domain.errors import UnsupportedMediaType
from micromoves.services import importing, imports
from micromoves.web.app import ERROR_RESPONSES, page
from micromoves.web.routes import Who, admin, db_of, route

html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["imports"], responses=ERROR_RESPONSES)

SHOWN_ISSUES = 500  # on the page (the API lists up to app.REPORTED_ISSUES)


class ImportResult(BaseModel):
    """What an import wrote, per kind of record (roles, role_skills, people, moves)."""

    created: dict[str, int]
    updated: dict[str, int] = Field(description="records that existed and differed from the files")
    unchanged: dict[str, int] = Field(description="records that existed exactly as the files have them")
    teams_created: list[str]
    extra_columns: dict[str, list[str]] = Field(description="columns beyond the format, kept per kind")
    seconds: float


def _result(summary: importing.ImportSummary) -> ImportResult:
    return ImportResult.model_validate(summary, from_attributes=True)


def _run(request: Request, who: Who, files: list[UploadFile], kind: str, known_teams: bool) -> ImportResult:
    uploads = [imports.Upload(f.filename or "", f.file) for f in files]
    settings = request.app.state.settings
    summary = imports.import_uploads(
        db_of(request), who.policy, uploads, kind=kind or None, known_teams=known_teams, settings=settings
    )
    return _result(summary)


@route(html, "GET", "/admin/import", name="admin.import", access="admin")
def import_page(request: Request, who: Who) -> Response:
    admin(who)
    return page(request, "import.html", who, kinds=importing.KINDS, result=None, rejected=None)


@route(html, "POST", "/admin/import", name="admin.import.submit", access="admin")
def import_submit(
    request: Request,
    who: Who,
    files: Annotated[list[UploadFile], File()],
    kind: Annotated[str, Form(max_length=20)] = "",
    known_teams: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    try:
        result = _run(request, who, files, kind, known_teams == "on")
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


def multipart_body(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        raise UnsupportedMediaType(
            f"send the files as multipart/form-data (curl -F files=@moves.csv), got {media or 'no Content-Type'!r}",
            field="content-type",
        )


@route(api, "POST", "/imports", name="api.imports", access="admin", response_model=ImportResult)
def api_import(
    request: Request,
    who: Who,
    files: Annotated[list[UploadFile], File(description="people.csv, roles.csv, role_skills.csv, moves.csv or .json")],
    kind: Annotated[str, Form(max_length=20, description="what every file holds, if their names do not say")] = "",
    known_teams: Annotated[bool, Form(description="refuse a team that does not exist instead of creating it")] = False,
) -> ImportResult:
    """Import files all or nothing; a rejected import answers 422 with every problem in
    ``error.details.issues`` (file, row, column, message)."""
    return _run(request, who, files, kind, known_teams)
