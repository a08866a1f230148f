"""How a path holding an id is read (web.paths): an id's '/' is written %2F and always belongs to the id; a raw
'/' separates segments, and spans an id only where no route takes the path segment by segment.

Two defects of the greedy id converter: a wrong method on a route under an id fell through to the page of an
id that swallowed the suffix (GET /api/v1/moves/M/review: 404 "unknown move 'M/review'", not 405), and the
Allow header of a 405 named that page's GET too; and a record whose id ends in a sub-route's name
(person ``E/credit``) was unreachable: /people/E%2Fcredit showed E's credit page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote, unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from micromoves.services import org
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.web.app import create_app
from micromoves.web.routes import all_routes
from tests.web.conftest import PASSWORD, World, add_gig, live_server

PERSON = "E/credit"  # a report of mira's whose id ends in a route under E (who exists)
MOVE = "MV-E/handoff"  # ends in a route under the move MV-E (which exists)
SLASHED = "EMP/0042"


def _q(record_id: str) -> str:
    return quote(record_id, safe="")


def _html(c: TestClient) -> TestClient:
    c.headers["accept"] = "text/html"
    return c


@pytest.fixture
def odd(world: World) -> World:
    """Records whose ids end in a sub-route's name, beside the records those prefixes name."""
    hired = dt.date(2020, 1, 6)
    org.add_person(world.db, id=PERSON, name="Cred Ential", team_id="A", manager_id="M", hire_date=hired, actor="t")
    org.add_person(world.db, id=SLASHED, name="Sol Slash", team_id="A", manager_id="M", hire_date=hired, actor="t")
    add_gig(world, PERSON, MOVE, "Handoff-named gig")
    # Opportunity ids are made by the app; one ending in '/apply' stands for any imported or future scheme.
    with world.db.write_engine.begin() as conn:
        row = conn.execute(select(t.opportunities).where(t.opportunities.c.id == world.opp_open)).mappings().one()
        copy = {k: v for k, v in row.items() if k != "key"}  # the integer surrogate: set by the database
        conn.execute(insert(t.opportunities).values({**copy, "id": f"{world.opp_open}/apply", "title": "Apply-named"}))
    return world


# --------------------------------------------------------------------------------------- 405 and Allow


def _methods_by_path(world: World, ids: dict[str, str]) -> dict[str, set[str]]:
    """Every path of a route with an id, the ids filled in, and the methods the app serves on it."""
    served: dict[str, set[str]] = {}
    for r in all_routes(world.app.routes):  # type: ignore[attr-defined]
        if ":id}" not in r.path:
            continue
        path = re.sub(r"\{(\w+):id\}", lambda m: ids[m.group(1)], r.path)
        path = path.replace("{action}", "submit")
        served.setdefault(path, set()).update(r.methods)
    return served


SQLITE_ONLY = pytest.mark.parametrize("world", ["sqlite"], indirect=True)  # routing: the same on either database


@SQLITE_ONLY
@pytest.mark.parametrize("variant", ["plain", "slash"])
def test_every_wrong_method_under_an_id_is_a_405_naming_the_methods_served(odd: World, variant: str) -> None:
    ids = (
        {"person_id": "E", "move_id": odd.mv_e, "opportunity_id": odd.opp_open, "template_id": "TPL-X"}
        if variant == "plain"
        else {
            "person_id": _q(SLASHED),
            "move_id": _q(MOVE),
            "opportunity_id": _q(f"{odd.opp_open}/apply"),
            "template_id": "TPL%2FY",
        }
    )
    served = _methods_by_path(odd, ids)
    assert len(served) > 20, served
    api, page = odd.client("mira"), _html(odd.client("mira"))
    wrong = []
    for path, methods in served.items():
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - methods):
            c = api if path.startswith("/api/") else page
            r = c.request(method, path)
            allow = set(r.headers.get("allow", "").replace(" ", "").split(","))
            if r.status_code != 405 or allow != methods:
                wrong.append((method, path, r.status_code, r.headers.get("allow"), sorted(methods)))
            elif path.startswith("/api/"):
                assert r.json()["error"]["code"] == "method_not_allowed", r.text
            else:
                assert r.headers["content-type"].startswith("text/html") and "method_not_allowed" in r.text
    assert not wrong, wrong


@SQLITE_ONLY
def test_the_reported_wrong_methods(world: World) -> None:
    api = world.client("mira")
    r = api.get(f"/api/v1/moves/{world.mv_e}/review")  # was 404 "unknown move 'MV-E/review'"
    assert (r.status_code, r.headers["allow"], r.json()["error"]["code"]) == (405, "POST", "method_not_allowed")
    r = api.put(f"/api/v1/moves/{world.mv_e}/review", json={})  # Allow was "GET, POST"
    assert (r.status_code, r.headers["allow"]) == (405, "POST"), r.text
    r = api.delete("/api/v1/people/E")
    assert (r.status_code, r.headers["allow"]) == (405, "GET"), r.text
    r = api.delete("/api/v1/people/E/target-role")
    assert (r.status_code, r.headers["allow"]) == (405, "GET, PUT"), r.text
    r = _html(world.client("mira")).put(f"/moves/{world.mv_e}/review")
    assert (r.status_code, r.headers["allow"]) == (405, "POST")
    assert r.headers["content-type"].startswith("text/html") and "Method Not Allowed" in r.text
    r = _html(world.client("mira")).get("/people/E/plan")  # was a 404 page "unknown person 'E/plan'"
    assert (r.status_code, r.headers["allow"]) == (405, "POST")
    # signed out, the same: the method is wrong whoever asks
    r = world.client().get(f"/api/v1/moves/{world.mv_e}/check-ins")
    assert (r.status_code, r.headers["allow"]) == (405, "POST"), r.text


def test_unknown_addresses_stay_404(odd: World) -> None:
    api = odd.client("mira")
    for method, path in [
        ("GET", "/api/v1/nothing/here"),
        ("DELETE", "/api/v1/nothing/here"),
        ("GET", "/api/v1/people/E/nothing"),  # the person 'E/nothing' (an id written raw), who does not exist
        ("GET", "/api/v1/people/NOPE"),
        ("GET", "/api/v1/people/E%2Fplan"),  # the person 'E/plan': no such person (not a 405 for POST …/plan)
        ("GET", "/api/v1/moves/MV-E%2Freview"),
    ]:
        r = api.request(method, path)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found"), (method, path, r.text)
        assert "allow" not in r.headers
    r = _html(odd.client("mira")).get("/people/E%2Fplan")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


# ------------------------------------------------------------------------- ids ending in a sub-route


def test_a_person_whose_id_ends_in_a_sub_route_has_a_page_and_its_twin(odd: World) -> None:
    api = odd.client("mira")
    r = api.get(f"/api/v1/people/{_q(PERSON)}")  # was E's credit report
    assert r.status_code == 200 and r.json()["id"] == PERSON, r.text
    r = api.get("/api/v1/people/E/credit")  # E's credit report, as before
    assert r.status_code == 200 and "id" not in r.json(), r.text
    r = api.get(f"/api/v1/people/{_q(PERSON)}/credit")  # the credit report of E/credit
    assert r.status_code == 200 and "id" not in r.json(), r.text
    assert api.get(f"/api/v1/people/{_q(PERSON)}/target-role").json().keys() >= {"roles"}
    page = _html(odd.client("mira")).get(f"/people/{_q(PERSON)}")
    assert page.status_code == 200 and "Cred Ential" in page.text and "Eva Employee" not in page.text
    # its forms, posted, come back to it (Location quoted whole)
    assert f'action="/people/{_q(PERSON)}/target-role"' in page.text
    r = _html(odd.client("mira")).post(f"/people/{_q(PERSON)}/target-role", data={"clear": "1"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/people/{_q(PERSON)}#plan"), r.text
    followed = _html(odd.client("mira")).get(r.headers["location"])
    assert followed.status_code == 200 and "Cred Ential" in followed.text
    r = api.put(f"/api/v1/people/{_q(PERSON)}/target-role", json={"role_id": None})
    assert r.status_code == 200 and r.json()["id"] == PERSON, r.text


def test_a_move_whose_id_ends_in_a_sub_route_has_a_page_and_its_twins(odd: World) -> None:
    api = odd.client("mira")
    r = api.get(f"/api/v1/moves/{_q(MOVE)}")  # was MV-E's handoff
    assert r.status_code == 200 and r.json()["id"] == MOVE, r.text
    assert api.get(f"/api/v1/moves/{odd.mv_e}/handoff").json() == {"handoff": None}
    assert api.get(f"/api/v1/moves/{_q(MOVE)}/handoff").json() == {"handoff": None}
    assert api.get(f"/api/v1/moves/{_q(MOVE)}/onboarding").json() == {"items": []}
    page = _html(odd.client("mira")).get(f"/moves/{_q(MOVE)}")
    assert page.status_code == 200 and "Handoff-named gig" in page.text
    # every link to it the app writes reaches it: the person's page, the moves list, the dashboard's chart
    for source in (f"/people/{_q(PERSON)}", "/moves"):
        links = set(re.findall(r'href="(/moves/[^"#?]+)"', _html(odd.client("mira")).get(source).text))
        assert f"/moves/{_q(MOVE)}" in links, (source, links)
        for link in links - {"/moves/new"}:
            r = api.get("/api/v1" + link)
            assert r.status_code == 200 and _q(r.json()["id"]) == link.removeprefix("/moves/"), (link, r.text)
    # a write's redirect comes back to it, and the API's answer names it
    r = _html(odd.client("mira")).post(f"/moves/{_q(MOVE)}/actions/submit", data={"reason": ""}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/moves/{_q(MOVE)}"), r.text
    r = api.post(f"/api/v1/moves/{_q(MOVE)}/actions/withdraw", json={"reason": "later"})
    assert (r.status_code, r.json()["id"], r.json()["status"]) == (200, MOVE, "withdrawn"), r.text
    assert api.get(f"/api/v1/moves/{odd.mv_e}").json()["status"] == "requested"  # MV-E untouched


def test_an_opportunity_whose_id_ends_in_a_sub_route_has_a_page_and_its_twin(odd: World) -> None:
    odd_id = f"{odd.opp_open}/apply"
    hugo = odd.client("hugo")
    r = hugo.get(f"/api/v1/opportunities/{_q(odd_id)}")
    assert r.status_code == 200 and r.json()["card"]["id"] == odd_id, r.text
    assert hugo.get(f"/api/v1/opportunities/{odd.opp_open}").json()["card"]["id"] == odd.opp_open
    page = _html(odd.client("hugo")).get(f"/opportunities/{_q(odd_id)}")
    assert page.status_code == 200 and "Apply-named" in page.text
    listing = _html(odd.client("hugo")).get("/opportunities").text
    assert f'href="/opportunities/{_q(odd_id)}"' in listing
    # the raw form is the route under the older opportunity: a POST there, not a page
    r = _html(odd.client("hugo")).get(f"/opportunities/{odd.opp_open}/apply")
    assert (r.status_code, r.headers["allow"]) == (405, "POST")


def test_an_id_written_with_a_raw_slash_still_reaches_its_record(odd: World) -> None:
    """Where no route takes the path segment by segment, an id spans segments (integrations that wrote
    EMP/0042 raw kept working), the routes under it first."""
    api = odd.client("mira")
    assert api.get(f"/api/v1/people/{SLASHED}").json()["id"] == SLASHED
    assert api.get(f"/api/v1/people/{SLASHED}/target-role").json().keys() >= {"roles"}
    r = api.get(f"/api/v1/people/{SLASHED}/plan")  # POST only: a 405, not the person 'EMP/0042/plan'
    assert (r.status_code, r.headers["allow"]) == (405, "POST"), r.text
    r = api.delete(f"/api/v1/people/{SLASHED}")
    assert (r.status_code, r.headers["allow"]) == (405, "GET"), r.text
    # a %2F in a path otherwise raw stays in the id
    assert api.get("/api/v1/people/EMP/0042%2Fx").json()["error"]["message"] == "unknown person 'EMP/0042/x'"


@pytest.mark.parametrize(("person", "name"), [(PERSON, "Cred Ential"), ("Q?1#2 é", "Quentin Query")])
def test_signing_in_returns_to_the_record_asked_for(odd: World, person: str, name: str) -> None:
    """The login's way back kept the decoded path: /people/E%2Fcredit came back as /people/E/credit, E's
    credit report, and an id holding '?' or '#' as a query or a fragment."""
    if person != PERSON:
        org.add_person(
            odd.db, id=person, name=name, team_id="A", manager_id="M", hire_date=dt.date(2020, 1, 6), actor="t"
        )
    c = _html(odd.client())
    page = c.get(f"/people/{_q(person)}", follow_redirects=True)
    assert page.url.path == "/login" and page.url.params["next"] == f"/people/{_q(person)}", page.url
    data = {
        "username": "mira",
        "password": PASSWORD,
        "csrf_token": c.cookies.get("mm_login_csrf"),
        "next": page.url.params["next"],
    }
    r = c.post("/login", data=data, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/people/{_q(person)}"), r.text
    followed = c.get(r.headers["location"])
    assert followed.status_code == 200 and name in followed.text


@SQLITE_ONLY
def test_a_real_server_passes_the_path_as_sent(odd: World) -> None:
    """The rule reads raw_path, which the ASGI server (uvicorn) sets: not only the test client."""
    import httpx

    with live_server(odd.app) as base, httpx.Client(base_url=base, headers={"accept": "application/json"}) as live:
        session = live.post("/api/v1/session", json={"username": "mira", "password": PASSWORD})
        csrf = session.json()["csrf_token"]
        r = live.get(f"/api/v1/people/{_q(PERSON)}")
        assert r.status_code == 200 and r.json()["id"] == PERSON, r.text
        r = live.get("/api/v1/people/E/credit")
        assert r.status_code == 200 and "id" not in r.json(), r.text
        r = live.get(f"/api/v1/moves/{odd.mv_e}/review")
        assert (r.status_code, r.headers["allow"]) == (405, "POST"), r.text
        r = live.post(f"/api/v1/moves/{_q(MOVE)}/actions/submit", json={}, headers={"x-csrf-token": csrf})
        assert r.status_code == 200 and r.json()["id"] == MOVE, r.text


@SQLITE_ONLY
def test_a_trailing_slash_after_an_encoded_id_redirects_to_that_id(odd: World) -> None:
    """Starlette redirected ``/people/E%2Fcredit/`` to an address rebuilt from the decoded path,
    ``/people/E/credit``: the credit page of E instead of the person ``E/credit``. The redirect now keeps the
    path as sent (and the query); a trailing slash elsewhere is Starlette's as before."""
    mira = odd.client("mira")
    r = mira.get(f"/api/v1/people/{_q(PERSON)}/", params={"x": "1"}, follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == f"/api/v1/people/{_q(PERSON)}?x=1", r.headers
    assert r.headers["x-frame-options"] == "DENY"
    r = mira.get(f"/people/{_q(PERSON)}/", headers={"accept": "text/html"})
    assert r.status_code == 200 and "Cred Ential" in r.text
    r = mira.get(f"/api/v1/people/{_q(PERSON)}/credit/", follow_redirects=False)
    assert r.headers["location"] == f"/api/v1/people/{_q(PERSON)}/credit"
    r = mira.get("/api/v1/people/E/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"].endswith("/api/v1/people/E"), r.headers
    assert mira.get("/api/v1/nothing%2Fhere/").status_code == 404


@SQLITE_ONLY
def test_the_trailing_slash_redirect_stays_on_this_site_and_keeps_what_was_sent(odd: World) -> None:
    """A path the check read one way and the redirect wrote another: ``//%2F/`` was checked as ``/`` and sent
    to ``//%2F``, which a browser reads as another host; a query's non-ASCII bytes were encoded twice
    (``Zoë`` became ``ZoÃ«``); a path a route takes as it is (the static files' mount) was redirected."""
    from micromoves.web.paths import TrailingSlashAsSent

    async def unused(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not called")

    def target(raw: bytes, query: bytes = b"") -> str | None:
        scope = {"type": "http", "method": "GET", "path": unquote(raw.decode()), "raw_path": raw,
                 "query_string": query, "root_path": "", "app": odd.app, "headers": []}  # fmt: skip
        return TrailingSlashAsSent(unused)._target(scope)

    assert target(b"//%2F/") is None and target(b"///%2F%2F/") is None
    assert target(b"/api/v1/people/E%2Fcredit/", "q=Zoë".encode()) == "/api/v1/people/E%2Fcredit?q=Zo%C3%AB"
    assert target(b"/api/v1/people/E%2Fcredit/", b"q=a%20b&x") == "/api/v1/people/E%2Fcredit?q=a%20b&x"
    assert target(b"/static/x%2F/") is None
    r = odd.client("mira").get("//%2F/", follow_redirects=False)
    assert not r.headers.get("location", "/").startswith("//"), r.headers


def test_dependency_overrides_are_refused_as_the_apps_share_their_routes(db: Database) -> None:
    """Every app of a process shares the included routes (routes.register), which cannot see one app's
    dependency overrides: setting one is an error, not an override silently ignored."""
    from micromoves.web.bodies import no_nul

    app = create_app(db)
    with pytest.raises(TypeError, match="share their routes"):
        app.dependency_overrides[no_nul] = lambda: None
    with pytest.raises(TypeError, match="share their routes"):
        app.dependency_overrides.update({no_nul: lambda: None})
    assert not app.dependency_overrides
