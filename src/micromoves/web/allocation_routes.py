"""Org-wide allocation in the browser: propose, review with explanations, apply as offers or discard.

Admins only: a proposal names people and seats across the whole organisation, beyond any HR unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from micromoves.services import allocation
from micromoves.services.allocation import RunDetail, run_detail
from micromoves.services.paging import Paged, PageQuery, count
from micromoves.services.views import actor_name, names_of
from micromoves.storage import tables as t
from micromoves.web.app import ERROR_RESPONSES, page
from micromoves.web.bodies import RequestBody
from micromoves.web.routes import Pages, RowId, Who, _selection, admin, db_of, route

html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["allocation"], responses=ERROR_RESPONSES)


class RunSummary(BaseModel):
    id: int
    created_at: dt.datetime
    created_by: str  # the actor: a person id, or user:NAME for an account without a person
    created_by_name: str
    status: str
    objective: float
    assignments: int


class RunList(Paged):
    """A page of the runs, newest first."""

    runs: list[RunSummary]


class ProposeBody(RequestBody):
    equity_weight: float = Field(default=2.0, ge=0, le=100)
    release_share: float = Field(default=0.2, ge=0, le=1)
    # What counts as away: moves taking this % or more. Strict: JSON true would otherwise pass as 1.
    away_percent: int = Field(default=50, ge=1, le=100, strict=True)


def _runs(request: Request, at: PageQuery) -> RunList:
    r, a = t.allocation_runs.c, t.allocation_assignments.c
    with db_of(request).engine.connect() as conn:
        total = count(conn, select(r.id))
        rows = conn.execute(at.rows(select(t.allocation_runs).order_by(r.id.desc()))).all()
        shown = [x.id for x in rows]
        counts: dict[int, int] = dict(
            conn.execute(select(a.run_id, func.count()).where(a.run_id.in_(shown)).group_by(a.run_id)).all()
        )
        names = names_of(conn, t.people, [x.created_by for x in rows])
    return RunList(
        runs=[
            RunSummary(
                id=x.id,
                created_at=x.created_at,
                created_by=x.created_by,
                created_by_name=actor_name(names, x.created_by),
                status=x.status,
                objective=x.objective,
                assignments=counts.get(x.id, 0),
            )
            for x in rows
        ],
        **at.answer(total),
    )


@route(html, "GET", "/allocations", name="allocations", access="admin")
def allocations(request: Request, who: Who, at: Pages) -> Response:
    admin(who)
    return page(request, "allocations.html", who, data=_runs(request, at), selection=_selection(at))


@route(api, "GET", "/allocations", name="api.allocations", access="admin", response_model=RunList)
def api_allocations(request: Request, who: Who, at: Pages) -> RunList:
    admin(who)
    return _runs(request, at)


@route(html, "POST", "/allocations", name="allocation.propose", access="admin")
def allocation_propose(
    request: Request,
    who: Who,
    equity_weight: Annotated[float, Form(ge=0, le=100)] = 2.0,
    release_share: Annotated[float, Form(ge=0, le=1)] = 0.2,
    away_percent: Annotated[int, Form(ge=1, le=100)] = 50,
) -> Response:
    admin(who)
    run = allocation.propose_allocation(
        db_of(request),
        actor=who.principal.actor,
        equity_weight=equity_weight,
        release_share=release_share,
        away_percent=away_percent,
    )
    return RedirectResponse(f"/allocations/{run.run_id}", status_code=303)


@route(
    api,
    "POST",
    "/allocations",
    name="api.allocation.propose",
    access="admin",
    response_model=RunDetail,
    status_code=201,
)
def api_allocation_propose(request: Request, who: Who, body: ProposeBody) -> RunDetail:
    admin(who)
    run = allocation.propose_allocation(
        db_of(request),
        actor=who.principal.actor,
        equity_weight=body.equity_weight,
        release_share=body.release_share,
        away_percent=body.away_percent,
    )
    return run_detail(allocation.get_allocation(db_of(request), run.run_id))


@route(html, "GET", "/allocations/{run_id}", name="allocation", access="admin")
def allocation_page(request: Request, who: Who, run_id: RowId) -> Response:
    admin(who)
    return page(request, "allocation.html", who, run=run_detail(allocation.get_allocation(db_of(request), run_id)))


@route(api, "GET", "/allocations/{run_id}", name="api.allocation", access="admin", response_model=RunDetail)
def api_allocation(request: Request, who: Who, run_id: RowId) -> RunDetail:
    admin(who)
    return run_detail(allocation.get_allocation(db_of(request), run_id))


@route(html, "POST", "/allocations/{run_id}/apply", name="allocation.apply", access="admin")
def allocation_apply(request: Request, who: Who, run_id: RowId) -> Response:
    admin(who)
    allocation.apply_allocation(db_of(request), run_id, actor=who.principal.actor)
    return RedirectResponse(f"/allocations/{run_id}", status_code=303)


@route(
    api,
    "POST",
    "/allocations/{run_id}/apply",
    name="api.allocation.apply",
    access="admin",
    response_model=RunDetail,
)
def api_allocation_apply(request: Request, who: Who, run_id: RowId) -> RunDetail:
    admin(who)
    return run_detail(allocation.apply_allocation(db_of(request), run_id, actor=who.principal.actor))


@route(html, "POST", "/allocations/{run_id}/discard", name="allocation.discard", access="admin")
def allocation_discard(request: Request, who: Who, run_id: RowId) -> Response:
    admin(who)
    allocation.discard_allocation(db_of(request), run_id, actor=who.principal.actor)
    return RedirectResponse(f"/allocations/{run_id}", status_code=303)


@route(
    api,
    "POST",
    "/allocations/{run_id}/discard",
    name="api.allocation.discard",
    access="admin",
    response_model=RunDetail,
)
def api_allocation_discard(request: Request, who: Who, run_id: RowId) -> RunDetail:
    admin(who)
    allocation.discard_allocation(db_of(request), run_id, actor=who.principal.actor)
    return run_detail(allocation.get_allocation(db_of(request), run_id))
