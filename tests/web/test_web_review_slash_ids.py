"""Ids holding '/' (an HRIS person id like EMP/0042, which the import accepts) reach their pages and their
JSON twins. Starlette decodes %2F before routing, so /people/EMP%2F0042 was a 404: the id routes take ids of
several segments, and the routes under an id (…/plan, …/credit, …/onboarding) still win."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from micromoves.services import catalogue, org
from tests.web.conftest import World, add_gig

PERSON = "EMP/0042"
MOVE = "MV/2026/7"
Q_PERSON = "EMP%2F0042"
Q_MOVE = "MV%2F2026%2F7"


@pytest.fixture
def slashed(world: World) -> World:
    """A report of mira's whose id holds a '/', with a draft move whose id holds two."""
    org.add_person(
        world.db, id=PERSON, name="Sol Slash", team_id="A", manager_id="M", hire_date=dt.date(2020, 1, 6), actor="t"
    )
    add_gig(world, PERSON, MOVE, "Slashed gig")
    return world


def _html(c: TestClient) -> TestClient:
    c.headers["accept"] = "text/html"
    return c


@pytest.mark.parametrize("person", [Q_PERSON, PERSON])
def test_a_person_whose_id_holds_a_slash_has_a_page_and_its_twin(slashed: World, person: str) -> None:
    mira = slashed.client("mira")
    r = mira.get(f"/api/v1/people/{person}")
    assert r.status_code == 200 and r.json()["id"] == PERSON, r.text
    r = mira.get(f"/api/v1/people/{person}/target-role")
    assert r.status_code == 200 and "roles" in r.json() and "name" not in r.json(), r.text
    r = mira.get(f"/api/v1/people/{person}/credit")
    assert r.status_code == 200, r.text
    page = _html(slashed.client("mira")).get(f"/people/{person}")
    assert page.status_code == 200 and "Sol Slash" in page.text, page.text[:300]
    # its forms post to its own routes, the id quoted whole
    assert f'action="/people/{Q_PERSON}/target-role"' in page.text
    assert _html(slashed.client("mira")).get(f"/people/{person}/credit").status_code == 200


def test_a_move_whose_id_holds_slashes_has_a_page_and_its_twins(slashed: World) -> None:
    mira = slashed.client("mira")
    r = mira.get(f"/api/v1/moves/{Q_MOVE}")
    assert r.status_code == 200 and r.json()["id"] == MOVE, r.text
    assert mira.get(f"/api/v1/moves/{Q_MOVE}/onboarding").json() == {"items": []}
    assert mira.get(f"/api/v1/moves/{Q_MOVE}/handoff").json() == {"handoff": None}
    page = _html(slashed.client("mira")).get(f"/moves/{Q_MOVE}")
    assert page.status_code == 200 and "Slashed gig" in page.text
    assert f'action="/moves/{Q_MOVE}/actions/submit"' in page.text
    # linked from the person's page and the moves list, quoted whole
    assert f'href="/moves/{Q_MOVE}"' in _html(slashed.client("mira")).get(f"/people/{Q_PERSON}").text
    assert f'href="/moves/{Q_MOVE}"' in _html(slashed.client("mira")).get("/moves").text


def test_writes_reach_an_id_holding_a_slash(slashed: World) -> None:
    mira = _html(slashed.client("mira"))
    r = mira.post(f"/people/{Q_PERSON}/target-role", data={"clear": "1"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/people/{Q_PERSON}#plan"), r.text
    r = mira.post(f"/moves/{Q_MOVE}/actions/submit", data={"reason": ""}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/moves/{Q_MOVE}"), r.text
    api = slashed.client("mira")
    assert api.get(f"/api/v1/moves/{Q_MOVE}").json()["status"] == "requested"
    r = api.post(f"/api/v1/moves/{Q_MOVE}/actions/withdraw", json={"reason": "later"})
    assert (r.status_code, r.json()["status"]) == (200, "withdrawn"), r.text
    r = api.put(f"/api/v1/people/{Q_PERSON}/target-role", json={"role_id": None})
    assert r.status_code == 200 and r.json()["id"] == PERSON, r.text


def test_ownership_holds_for_an_id_holding_a_slash(slashed: World) -> None:
    """eva is not Sol's manager: not told Sol or Sol's move exist, page or twin, read or write."""
    eva = slashed.client("eva")
    for path in (f"/api/v1/people/{Q_PERSON}", f"/api/v1/moves/{Q_MOVE}", f"/api/v1/people/{Q_PERSON}/credit"):
        r = eva.get(path)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found"), (path, r.text)
    r = eva.post(f"/api/v1/moves/{Q_MOVE}/actions/submit", json={})
    assert r.status_code == 404, r.text
    assert _html(slashed.client("eva")).get(f"/people/{Q_PERSON}").status_code == 404


def test_ordinary_ids_and_the_routes_under_them_still_resolve(world: World) -> None:
    mira, hugo = world.client("mira"), world.client("hugo")
    assert mira.get("/api/v1/moves/new").json()["person"]["id"] == "M"  # the form, not a move called "new"
    assert "teams" in hugo.get("/api/v1/opportunities/new").json()
    assert mira.get("/api/v1/people/E/target-role").json().keys() >= {"roles"}
    assert mira.get(f"/api/v1/moves/{world.mv_e}/onboarding").json() == {"items": []}
    assert mira.get(f"/api/v1/moves/{world.mv_e}/handoff").json() == {"handoff": None}
    assert mira.get("/api/v1/people/M/credit").status_code == 200
    assert hugo.get(f"/api/v1/opportunities/{world.opp_open}").json()["card"]["id"] == world.opp_open
    assert _html(world.client("mira")).get("/moves/new").status_code == 200
    assert _html(world.client("mira")).get("/people/M/credit").status_code == 200
    # a trailing slash is still the same page, not a person called "E/"
    r = mira.get("/api/v1/people/E/", follow_redirects=False)
    assert r.status_code in (307, 308) and r.headers["location"].endswith("/api/v1/people/E"), r.headers
    # the lists are not taken for an id
    assert mira.get("/api/v1/people.csv").status_code == 200


def test_a_template_whose_id_holds_a_slash_has_its_routes_page(world: World) -> None:
    catalogue.add_template(
        world.db, id="TPL/Y", kind="gig", title="Gig Y", duration_weeks=4, percent_time=20, gains={}, actor="t"
    )
    r = world.client("hr").get("/api/v1/congestion/routes/TPL%2FY")
    assert r.status_code == 200, r.text
