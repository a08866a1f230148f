"""Every list pages the same way (services/paging.py): ``?page=`` and ``?page_size=``, ``total``, ``page``,
``page_size`` and ``pages`` in the JSON, previous/next links on the page, a 422 naming a bad parameter, and
consecutive pages that neither repeat nor skip a row nor show one the caller may not see.

The opportunities, the approvals queue, the team, the users, the API tokens, the allocation runs and an
opportunity's applicants listed every row (or the first few hundred) on one page."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from micromoves.domain.model import MoveKind
from micromoves.services import accounts, approvals, org, views
from micromoves.services import marketplace as market
from micromoves.services import moves as move_svc
from micromoves.services.paging import MAX_PAGE_SIZE, PAGE_SIZE
from micromoves.storage import tables as t
from micromoves.storage.uow import utcnow
from tests.web.conftest import PASSWORD, TODAY, World

HTML = {"accept": "text/html"}
# The pages on SQLite; the SQL that selects what a caller may see (the approvals queue's) on both databases.
SQLITE = pytest.mark.parametrize("world", ["sqlite"], indirect=True)


def walk(c: TestClient, path: str, rows: str, key: str = "id", size: int = 2) -> list[list[Any]]:
    """The keys of the rows of every page of ``path`` (``rows``: the list's field), ``size`` a page, checking
    the metadata of each and that the page after the last is empty; and that they are the whole list."""
    first = c.get(path, params={"page_size": size})
    assert first.status_code == 200, first.text
    total, pages = first.json()["total"], first.json()["pages"]
    assert pages == max(1, -(-total // size)), first.json()
    found = []
    for n in range(1, pages + 2):
        r = c.get(path, params={"page": n, "page_size": size})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["total"], body["page"], body["page_size"], body["pages"]) == (total, n, size, pages)
        found.append([_at(row, key) for row in body[rows]])
    assert found[-1] == [], "the page after the last is empty"
    found = found[:-1]
    assert all(len(p) == size for p in found[:-1]) and 0 < len(found[-1]) <= size, found
    flat = [k for p in found for k in p]
    assert len(flat) == len(set(flat)) == total, f"pages repeat or skip rows: {found}"
    whole = c.get(path, params={"page_size": MAX_PAGE_SIZE}).json()[rows]
    assert flat == [_at(row, key) for row in whole], "the pages, one after the other, are the list in its order"
    return found


def _at(row: dict[str, Any], key: str) -> Any:
    """``row``'s value at ``key`` (``move.id``: the id of its move)."""
    for part in key.split("."):
        row = row[part]
    return row


def pager_links(c: TestClient, path: str, pages: int, size: int = 2) -> None:
    """The HTML page: Next but no Previous on the first, both in between, Previous but no Next on the last."""
    c.headers.update(HTML)
    try:
        for n in range(1, pages + 1):
            page = c.get(path, params={"page": n, "page_size": size}).text
            assert f"page {n} of {pages}" in page, page
            assert ('rel="prev"' in page) == (n > 1), n
            assert ('rel="next"' in page) == (n < pages), n
            if n < pages:
                assert f'href="{path}?page_size={size}&amp;page={n + 1}" rel="next"' in page
    finally:
        c.headers["accept"] = "application/json"


BAD = [
    ({"page": 0}, "page"),
    ({"page": 100_001}, "page"),
    ({"page": "two"}, "page"),
    ({"page_size": 0}, "page_size"),
    ({"page_size": MAX_PAGE_SIZE + 1}, "page_size"),
    ({"page_size": "all"}, "page_size"),
]


def refuses_bad_pages(c: TestClient, path: str) -> None:
    for params, field in BAD:
        r = c.get(path, params=params)
        assert r.status_code == 422, (path, params, r.text)
        assert [p["field"] for p in r.json()["error"]["details"]["problems"]] == [field], (path, r.text)
        page = c.get(path, params=params, headers=HTML)
        assert page.status_code == 422 and field in page.text, (path, params)


# ------------------------------------------------------------------------------------ opportunities


def _open_opportunities(world: World, n: int) -> list[str]:
    """``n`` open opportunities hosted by hugo's team, all starting the same day (only ids tell them apart)."""
    hugo = world.policy("hugo")
    offer = market.OpportunityInput(
        title="Paged rotation",
        kind=MoveKind.ROTATION,
        host_team_id="B",
        start=TODAY + dt.timedelta(weeks=20),
        end=TODAY + dt.timedelta(weeks=24),
        percent_time=10,
        seats=1,
        success_criteria=["Do it"],
    )
    made = []
    for i in range(n):
        opp = market.create_opportunity(world.db, hugo, dataclasses.replace(offer, title=f"Paged rotation {i}"))
        market.set_opportunity_status(world.db, hugo, opp, "pending_approval")
        market.set_opportunity_status(world.db, hugo, opp, "open")
        made.append(opp)
    return made


@SQLITE
def test_the_opportunities_page(world: World) -> None:
    made = _open_opportunities(world, 4)
    eva = world.client("eva")
    pages = walk(eva, "/api/v1/opportunities", "opportunities")
    seen = {o for p in pages for o in p}
    assert set(made) | {world.opp_open} == seen  # five open ones: three pages of two
    assert world.opp_draft not in seen  # hugo's draft is his, on no page of eva's
    assert len(pages) == 3
    pager_links(eva, "/opportunities", 3)
    refuses_bad_pages(eva, "/api/v1/opportunities")
    # hugo, who hosts it, finds his draft after the open ones (on his last page)
    hugo = walk(world.client("hugo"), "/api/v1/opportunities", "opportunities")
    assert hugo[-1][-1] == world.opp_draft


@SQLITE
def test_an_opportunitys_applicants_page(world: World) -> None:
    # Four more applicants, applied at the same instant as each other: the id keeps their order.
    at = utcnow()
    with world.db.write_engine.begin() as conn:
        for person in ("E2", "M", "D", "O"):
            conn.execute(
                insert(t.applications).values(
                    opportunity_id=world.opp_open, person_id=person, status="applied", applied_at=at
                )
            )
    hugo = world.client("hugo")
    path = f"/api/v1/opportunities/{world.opp_open}"
    first = hugo.get(path, params={"page_size": 2}).json()
    assert first["applications_paging"] == {"total": 5, "page": 1, "page_size": 2, "pages": 3}
    ids = []
    for n in (1, 2, 3, 4):
        body = hugo.get(path, params={"page": n, "page_size": 2}).json()
        assert body["applications_paging"]["page"] == n
        ids.append([a["id"] for a in body["applications"]])
    assert [len(p) for p in ids] == [2, 2, 1, 0]
    flat = [i for p in ids for i in p]
    assert flat[0] == world.application and len(set(flat)) == 5 and flat[1:] == sorted(flat[1:])
    # the page: previous and next through the applicants
    page = hugo.get(f"/opportunities/{world.opp_open}", params={"page": 2, "page_size": 2}, headers=HTML).text
    assert 'rel="prev"' in page and "page 2 of 3" in page
    assert f'href="/opportunities/{world.opp_open}?page_size=2&amp;page=3" rel="next"' in page
    last = hugo.get(f"/opportunities/{world.opp_open}", params={"page": 3, "page_size": 2}, headers=HTML).text
    assert 'rel="next"' not in last and "page 3 of 3" in last
    refuses_bad_pages(hugo, path)
    # an applicant sees no applications on any page, nor their count
    eva = world.client("eva").get(path, params={"page": 2, "page_size": 1}).json()
    assert (eva["applications"], eva["applications_paging"]) == ([], None)


# ---------------------------------------------------------------------------------------- approvals


def _requests(world: World) -> dict[str, str]:
    """Requested moves of mira's two reports (E, E2) and of hugo's report O, on dates far enough apart
    to fit; by id."""
    made = {}
    for i, (person, host) in enumerate(
        [("E", "B"), ("E2", "B"), ("E2", None), ("E", "A"), ("E2", "ROOT"), ("O", "A"), ("O", "ROOT")]
    ):
        made[_request(world, i, person, host)] = person
    return made


def _request(world: World, i: int, person: str, host: str | None) -> str:
    """Request ``MV-P{i}``: a 4-week gig of ``person`` hosted by ``host``, 30 + 10·i weeks from today."""
    start = TODAY + dt.timedelta(weeks=30 + 10 * i)
    move_svc.propose_move(
        world.db,
        person_id=person,
        title=f"Request {i}",
        kind="gig",
        percent_time=10,
        start=start,
        end=start + dt.timedelta(weeks=4),
        criteria=["Do it"],
        host_team_id=host,
        move_id=f"MV-P{i}",
        request=True,
        actor="setup",
    )
    return f"MV-P{i}"


def test_the_approvals_page_holds_only_the_callers_requests_on_every_page(world: World) -> None:
    made = _requests(world)
    mira = world.client("mira")
    pages = walk(mira, "/api/v1/approvals", "items", key="move.id")
    ids = [m for p in pages for m in p]
    # mira's queue: her reports' requests and otto's hosted by her team A (MV-P5), soonest first (MV-E starts
    # in two weeks); never otto's hosted elsewhere (MV-P6), on no page
    assert ids == [world.mv_e, "MV-P0", "MV-P1", "MV-P2", "MV-P3", "MV-P4", "MV-P5"]
    assert "MV-P6" in made and len(pages) == 4
    pager_links(mira, "/approvals", 4)
    refuses_bad_pages(mira, "/api/v1/approvals")
    # hugo: otto's (he manages him) and those his team B hosts, nothing else, on every page
    hugo = [m for p in walk(world.client("hugo"), "/api/v1/approvals", "items", key="move.id") for m in p]
    assert hugo == [world.mv_e, "MV-P0", "MV-P1", "MV-P5", "MV-P6"]
    # eva may decide none (her own are not hers to approve): one empty page
    eva = world.client("eva").get("/api/v1/approvals", params={"page": 2}).json()
    assert (eva["items"], eva["total"], eva["pages"]) == ([], 0, 1)


@SQLITE
def test_a_decided_request_leaves_the_deciders_pages_and_the_count(world: World) -> None:
    _requests(world)
    before = world.client("mira").get("/api/v1/approvals").json()["total"]
    approvals.decide(world.db, world.policy("mira"), "MV-P1", verdict="approved")
    after = world.client("mira").get("/api/v1/approvals", params={"page_size": 1})
    assert after.json()["total"] == before - 1 and after.json()["pages"] == before - 1
    assert "MV-P1" not in [m["move"]["id"] for m in world.client("mira").get("/api/v1/approvals").json()["items"]]
    # hugo, the host team's manager, still has its host slot to fill
    assert "MV-P1" in [m["move"]["id"] for m in world.client("hugo").get("/api/v1/approvals").json()["items"]]


def test_the_queue_in_sql_is_every_request_with_a_slot_the_caller_may_fill(world: World) -> None:
    """approvals.decidable (SQL, for the pages) against approvals.open_slots (Python, for the decision),
    for every kind of caller and every stand-in case: no host team, a host team without a manager, the
    host manager being the person, the line manager having approved as the host manager, no line manager."""
    org.add_team(world.db, id="C", name="Team C", parent_id="ROOT", actor="setup")
    org.add_person(world.db, id="N", name="No Manager", team_id="A", hire_date=dt.date(2020, 1, 6), actor="setup")
    accounts.create_user(world.db, username="nina", password=PASSWORD, access="employee", person_id="N", actor="t")
    made = _requests(world)
    for i, (person, host) in enumerate([("N", "B"), ("E", "C"), ("M", "A"), ("N", None)], start=len(made)):
        _request(world, i, person, host)
    users = ["eva", "emil", "mira", "hugo", "dana", "otto", "hr", "admin", "nina"]

    def agree() -> None:
        with world.db.engine.connect() as conn:
            requested = list(conn.scalars(select(t.moves.c.id).where(t.moves.c.status == "requested")))
            done = approvals.records_for(conn, requested)
        moves = [move_svc.get_move(world.db, m) for m in requested]
        for name in users:
            policy = world.policy(name)
            query = approvals.decidable(policy)
            with world.db.engine.connect() as conn:
                in_sql = set() if query is None else {r.id for r in conn.execute(query)}
            by_python = {m.id for m in moves if approvals.open_slots(policy, m, done[m.id])}
            assert in_sql == by_python, name
            shown = views.approval_queue(world.db, policy)
            assert {i.move.id for i in shown.items} == by_python and shown.total == len(by_python), name

    agree()
    # line managers approve some (mira as host manager of A too: MV-P3 is E's, hosted by mira's A), so that
    # the host slots' stand-ins change
    for who, move in [("mira", "MV-P3"), ("mira", "MV-P0"), ("hugo", "MV-P5"), ("dana", "MV-P9"), ("hr", "MV-P10")]:
        approvals.decide(world.db, world.policy(who), move, verdict="approved")
    agree()


# ---------------------------------------------------------------------------------- team, users, tokens


@SQLITE
def test_the_team_page(world: World) -> None:
    with world.db.write_engine.begin() as conn:
        conn.execute(t.people.update().where(t.people.c.id.in_(["O", "H"])).values(manager_id="M"))
    mira = world.client("mira")
    pages = walk(mira, "/api/v1/team", "members", key="person.id")
    assert pages == [["E", "E2"], ["H", "O"]]
    pager_links(mira, "/team", 2)
    refuses_bad_pages(mira, "/api/v1/team")
    # dana manages mira and hugo directly no more: her team is mira alone, on one page, with nobody below
    dana = world.client("dana").get("/api/v1/team", params={"page": 2, "page_size": 1}).json()
    assert (dana["members"], dana["total"], dana["pages"]) == ([], 1, 1)


@SQLITE
def test_the_users_page(world: World) -> None:
    admin = world.client("admin")
    pages = walk(admin, "/api/v1/admin/users", "users", key="username", size=3)
    assert [u for p in pages for u in p] == sorted(world.users)  # by username
    pager_links(admin, "/admin/users", len(pages), size=3)
    refuses_bad_pages(admin, "/api/v1/admin/users")
    assert world.client("mira").get("/api/v1/admin/users", params={"page": 2}).status_code == 403
    # the notice after a password reset names the account also when it is on another page
    page = admin.get("/admin/users", params={"password_set": world.users["otto"]}, headers=HTML).text
    assert 'id="password-set"' in page and "New password set for otto" in page


@SQLITE
def test_the_tokens_page_holds_only_ones_own_tokens(world: World) -> None:
    eva = world.client("eva")
    for i in range(5):
        r = eva.post("/api/v1/tokens", json={"name": f"eva {i}"})
        assert r.status_code == 201, r.text
    emil = world.client("emil")
    emils = emil.post("/api/v1/tokens", json={"name": "emil's"}).json()["info"]["id"]
    pages = walk(eva, "/api/v1/tokens", "tokens", key="name")
    assert [n for p in pages for n in p] == [f"eva {i}" for i in range(5)]
    assert emils not in [x["id"] for x in eva.get("/api/v1/tokens", params={"page_size": 200}).json()["tokens"]]
    pager_links(eva, "/account/tokens", 3)
    refuses_bad_pages(eva, "/api/v1/tokens")
    assert emil.get("/api/v1/tokens", params={"page": 2}).json() == {
        "total": 1,
        "page": 2,
        "page_size": PAGE_SIZE,
        "pages": 1,
        "tokens": [],
    }


@SQLITE
def test_the_allocation_runs_page(world: World) -> None:
    with world.db.write_engine.begin() as conn:
        for _ in range(5):
            conn.execute(
                insert(t.allocation_runs).values(
                    created_at=utcnow(),
                    created_by="user:admin",
                    status="discarded",
                    equity_weight=2.0,
                    release_limit=0.2,
                    objective=0.0,
                    details={},
                )
            )
    admin = world.client("admin")
    pages = walk(admin, "/api/v1/allocations", "runs")
    flat = [r for p in pages for r in p]
    assert flat == sorted(flat, reverse=True)  # newest first
    pager_links(admin, "/allocations", 3)
    refuses_bad_pages(admin, "/api/v1/allocations")
    assert world.client("hr").get("/api/v1/allocations", params={"page": 2}).status_code == 403


# ---------------------------------------------------------------------------------- one shape for all


PAGED = [
    "/api/v1/people",
    "/api/v1/moves",
    "/api/v1/reports/releases",
    "/api/v1/opportunities",
    "/api/v1/approvals",
    "/api/v1/team",
    "/api/v1/admin/users",
    "/api/v1/tokens",
    "/api/v1/allocations",
]


@SQLITE
def test_every_paged_list_documents_the_same_parameters_and_answer(world: World) -> None:
    schema = world.app.openapi()  # type: ignore[attr-defined]
    for path in [*PAGED, "/api/v1/opportunities/{opportunity_id}"]:
        operation = schema["paths"][path]["get"]
        params = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        assert {"page", "page_size"} <= set(params), path
        assert params["page"]["schema"]["minimum"] == 1, path
        assert params["page_size"]["schema"]["maximum"] == MAX_PAGE_SIZE, path
    for name in ("Directory", "MoveList", "ReleaseReport", "Marketplace", "ApprovalQueue", "TeamPage"):
        assert {"total", "page", "page_size", "pages"} <= set(schema["components"]["schemas"][name]["required"])
    for name in ("UserList", "TokenList", "RunList"):
        assert {"total", "page", "page_size", "pages"} <= set(schema["components"]["schemas"][name]["required"])
    admin = world.client("admin")
    for path in PAGED:
        body = admin.get(path).json()
        assert body["page"] == 1 and body["pages"] >= 1 and body["page_size"] in (PAGE_SIZE, 100), path


@SQLITE
def test_a_page_size_is_no_filter(world: World) -> None:
    """``?page_size=10`` alone made the moves and people pages say "you can see with these filters", and their
    CSV export link carried the page size; the export has no pages."""
    hr = world.client("hr")
    for path, kind in (("/moves", "moves"), ("/people", "people")):
        page = hr.get(path, params={"page_size": 10}, headers=HTML).text
        assert "with these filters" not in page and f'href="/{kind}.csv"' in page, path
        page = hr.get(path, params={"page_size": 10, "team": "A"}, headers=HTML).text
        assert "with these filters" in page and f'href="/{kind}.csv?team=A"' in page, path


@SQLITE
def test_an_applicants_page_reads_their_skills_in_one_query(world: World) -> None:
    """Each applicant's skill fit read their profile with a query of its own (200 on a full page)."""
    from sqlalchemy import event

    from micromoves.services import marketplace_views as mviews
    from micromoves.services.paging import PageQuery

    with world.db.write_engine.begin() as conn:
        skill = conn.scalar(select(t.skills.c.id).limit(1))
        for person in ("E2", "M", "D", "O"):
            conn.execute(
                insert(t.applications).values(
                    opportunity_id=world.opp_open, person_id=person, status="applied", applied_at=utcnow()
                )
            )
            conn.execute(
                insert(t.skill_levels).values(
                    person_id=person, skill_id=skill, level=3.0, provenance="self", assessed_on=TODAY
                )
            )
    seen: list[str] = []

    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        seen.append(sql)

    hugo = world.policy("hugo")
    counts = []
    for size in (1, 5):
        seen.clear()
        event.listen(world.db.engine, "before_cursor_execute", statement)
        try:
            detail = mviews.opportunity_detail(world.db, hugo, world.opp_open, PageQuery(page_size=size))
        finally:
            event.remove(world.db.engine, "before_cursor_execute", statement)
        assert len(detail.applications) == size
        counts.append(sum("skill_levels" in sql for sql in seen))
    assert counts[0] == counts[1], counts
