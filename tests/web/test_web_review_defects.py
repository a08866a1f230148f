"""Defects found by the web review (each test failed before its fix)."""

from __future__ import annotations

import datetime as dt

from micromoves.services import views
from micromoves.services.paging import PageQuery
from tests.web.conftest import World

SOON = dt.date.today() + dt.timedelta(weeks=2)
PROPOSAL = {
    "kind": "gig",
    "title": "Dashboards",
    "start": SOON.isoformat(),
    "end": (SOON + dt.timedelta(weeks=4)).isoformat(),
    "percent_time": 10,
    "success_criteria": ["x"],
}


def test_a_move_proposed_without_a_person_by_an_account_without_one_names_the_field(world: World) -> None:
    """person_id defaults to one's own person; an admin or HR account has none. It was a 404 not_found
    ("this account is not linked to a person"), which reads as a missing object, with no field named: it
    is a missing field of the request (422 naming person_id; the form's query names person)."""
    for user in ("admin", "hr"):
        c = world.client(user)
        r = c.post("/api/v1/moves", json=PROPOSAL)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["field"] == "person_id", r.text
        assert "person_id" in r.json()["error"]["message"]
        r = c.get("/api/v1/moves/new")
        assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "person"), r.text
        page = c.get("/moves/new", headers={"accept": "text/html"})
        assert page.status_code == 422 and "not linked to a person" in page.text
    # Naming the person works as before, and a person's own account still needs no person_id.
    r = world.client("admin").post("/api/v1/moves", json={**PROPOSAL, "person_id": "E"})
    assert r.status_code == 201, r.text
    r = world.client("eva").post("/api/v1/moves", json=PROPOSAL)
    assert (r.status_code, r.json()["person"]["id"]) == (201, "E"), r.text


def test_the_team_page_says_when_more_reports_exist_than_it_shows(world: World) -> None:
    """The team page lists a page of direct reports (500): a manager with more saw the first 500 and
    nothing said that others were left out. It pages, as every list (tests/web/test_paging.py)."""
    mira = world.policy("mira")
    full = views.team_page(world.db, mira)
    assert [m.person.id for m in full.members] == ["E", "E2"] and (full.total, full.pages) == (2, 1)
    cut = views.team_page(world.db, mira, PageQuery(page_size=1))
    assert [m.person.id for m in cut.members] == ["E"] and (cut.total, cut.pages) == (2, 2)
    assert world.client("mira").get("/api/v1/team").json()["pages"] == 1
    assert 'id="pager"' not in world.client("mira").get("/team", headers={"accept": "text/html"}).text
    assert world.client("mira").get("/api/v1/team", params={"page_size": 1}).json()["pages"] == 2
    page = world.client("mira").get("/team", params={"page_size": 1}, headers={"accept": "text/html"}).text
    assert 'href="/team?page_size=1&amp;page=2" rel="next"' in page and "Emil Colleague" not in page


def test_an_htmx_action_after_the_session_ended_sends_the_browser_to_log_in(world: World) -> None:
    """The approvals queue's buttons post with htmx. With the session ended, the answer was a 303 to the
    login page, which the XMLHttpRequest followed: the whole login page was swapped into the table row, and
    signing in there led back to the action's URL (a POST route). htmx requests get the JSON error (as every
    other htmx error) and HX-Redirect to the login page, back to the page the person was on."""
    c = world.client()
    c.cookies.set("mm_session", "ended-or-forged")
    headers = {"hx-request": "true", "hx-current-url": "http://testserver/approvals?x=1", "accept": "*/*"}
    r = c.post(f"/moves/{world.mv_e}/actions/approve", headers=headers, follow_redirects=False)
    assert r.status_code == 401, (r.status_code, r.headers)
    assert r.json()["error"]["code"] == "not_authenticated"
    assert r.headers["hx-redirect"] == "/login?next=/approvals%3Fx%3D1"
    # A current URL of another site is not a way back.
    headers["hx-current-url"] = "https://elsewhere.example/phish"
    r = c.post(f"/moves/{world.mv_e}/actions/approve", headers=headers, follow_redirects=False)
    assert (r.status_code, r.headers["hx-redirect"]) == (401, "/login?next=/")
    # A page (no htmx) is still sent to the login page, as before.
    r = c.get(f"/moves/{world.mv_e}", headers={"accept": "text/html"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/login?next=/moves/{world.mv_e}")


def test_a_form_posted_after_the_session_ended_comes_back_to_its_page_after_signing_in(world: World) -> None:
    """A form posted with the session ended was sent to /login?next=<the form's action>: after signing in,
    the browser opened the action's URL with GET, an error page (the route takes POST only). Back to the page
    the form was on (its Referer, this site's only), where static/app.js gives back what was typed."""
    c = world.client()
    c.cookies.set("mm_session", "ended-or-forged")
    headers = {"accept": "text/html", "referer": f"http://testserver/moves/{world.mv_e}"}
    r = c.post(f"/moves/{world.mv_e}/check-ins", data={"note": "hi"}, headers=headers, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/login?next=/moves/{world.mv_e}")
    headers["referer"] = "https://elsewhere.example/x"
    r = c.post(f"/moves/{world.mv_e}/check-ins", data={"note": "hi"}, headers=headers, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=/")
    del headers["referer"]
    r = c.post(f"/moves/{world.mv_e}/check-ins", data={"note": "hi"}, headers=headers, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=/")


def test_the_allocation_runs_page_says_when_older_runs_are_left_out(world: World) -> None:
    """The allocations page lists the newest runs (50); older ones were left out without a word. It
    pages, as every list (tests/web/test_paging.py)."""
    admin = world.client("admin")
    run = admin.post("/api/v1/allocations", json={}).json()["id"]
    listed = admin.get("/api/v1/allocations").json()
    assert ([r["id"] for r in listed["runs"]], listed["total"], listed["pages"]) == ([run], 1, 1)
    listed = admin.get("/api/v1/allocations", params={"page": 2}).json()
    assert (listed["runs"], listed["total"], listed["pages"]) == ([], 1, 1)
    page = admin.get("/allocations", params={"page": 2}, headers={"accept": "text/html"}).text
    assert 'id="past-end"' in page


def test_a_nul_character_in_a_request_is_a_422_naming_the_field(world: World) -> None:
    """PostgreSQL stores no NUL character: an id, a filter, a form field or a JSON value holding one
    ('E%00', {"note": "a\\u0000b"}) ended in a 500 server error with a driver's traceback in the log, from
    any signed-in user. It is refused as invalid input, naming the field, on both databases."""
    admin = world.client("admin")
    cases = [
        ("GET", "/api/v1/people/E%00", None, "person_id"),
        ("GET", "/api/v1/moves/MV%00X/handoff", None, "move_id"),
        ("GET", "/api/v1/people?q=a%00", None, "q"),
        ("POST", f"/api/v1/moves/{world.mv_o}/check-ins", {"note": "a\u0000b"}, "note"),
        ("PUT", "/api/v1/people/E/target-role", {"role_id": "R\u0000"}, "role_id"),
    ]
    for method, path, body, field in cases:
        r = admin.request(method, path, json=body)
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert [p["field"] for p in r.json()["error"]["details"]["problems"]] == [field], r.text
    skills = {**_OPPORTUNITY, "required_skills": {"Neg\u0000otiation": 2.0}}
    r = admin.post("/api/v1/opportunities", json=skills)
    assert r.status_code == 422 and r.json()["error"]["details"]["problems"][0]["field"].startswith("required_skills")
    page = admin.post(f"/moves/{world.mv_o}/check-ins", data={"note": "a\x00b"}, headers={"accept": "text/html"})
    assert page.status_code == 422 and "Note" in page.text
    r = world.client().post("/api/v1/session", json={"username": "eva\u0000", "password": "x"})
    assert r.status_code == 422, r.text
    # Text without one is taken as before.
    assert admin.post(f"/api/v1/moves/{world.mv_o}/check-ins", json={"note": "fine"}).status_code == 201


_OPPORTUNITY = {
    "title": "Negotiation gig",
    "kind": "gig",
    "host_team_id": "B",
    "start": "2031-03-03",
    "end": "2031-04-25",
    "percent_time": 10,
    "success_criteria": ["x"],
}


def test_a_deeply_nested_json_body_is_refused_not_an_error(world: World) -> None:
    """A body nested a thousand levels deep is valid JSON, and one nested deeper overflows the JSON decoder's
    stack: both are refused in the common error shape, naming the body (the NUL check walks it without
    recursion, see bodies._nul_in)."""
    admin = world.client("admin")
    for depth in (990, 100_000):
        body = "[" * depth + '"a\\u0000b"' + "]" * depth
        r = admin.post(
            f"/api/v1/moves/{world.mv_o}/check-ins", content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 422, (depth, r.status_code, r.text[:200])
        assert r.json()["error"]["details"]["problems"] == [
            {"field": "body", "message": "the body is not valid JSON in UTF-8"}
        ]
