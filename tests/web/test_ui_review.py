"""From a UI review of the pages: team filters by name, pages with Previous/Next and a count, labelled
controls, the success criteria's length, the review's decisions, error pages with the navigation, and a
navigation without the pages that are empty for the account."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from micromoves.services import views
from tests.web.conftest import World


def html(world: World, username: str) -> TestClient:
    c = world.client(username)
    c.headers["accept"] = "text/html"
    return c


def options(page: str, name: str) -> list[tuple[str, str, bool]]:
    """(value, text, selected) of the options of the select named ``name``."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {name}"
    return [
        (m.group(1), m.group(3).strip(), bool(m.group(2)))
        for m in re.finditer(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))
    ]


@pytest.fixture
def small_pages() -> Iterator[None]:
    old = views.PAGE_SIZE
    views.PAGE_SIZE = 1
    try:
        yield
    finally:
        views.PAGE_SIZE = old


def test_the_directory_filters_by_a_team_chosen_by_name(world: World) -> None:
    hr = html(world, "hr")
    page = hr.get("/people").text
    # HR looks after team A only: A is offered, by name, with its id as the value; B is not
    assert options(page, "team") == [("", "any team", False), ("A", "Team A", False)], page
    page = hr.get("/people", params={"team": "A"}).text
    assert ("A", "Team A", True) in options(page, "team")
    assert "3 people you can see with these filters" in page, page
    admin = html(world, "admin").get("/people", params={"team": "B"}).text
    assert [o[1] for o in options(admin, "team")] == ["any team", "Company", "Team A", "Team B"]
    assert "Hugo Host" in admin and "Otto Outsider" in admin and "Eva Employee" not in admin
    # the JSON twin takes the id, and lists the same teams
    r = world.client("hr").get("/api/v1/people", params={"team": "A"})
    assert r.status_code == 200 and r.json()["total"] == 3
    assert r.json()["teams"] == [{"id": "A", "name": "Team A", "label": "Team A"}]


def test_the_moves_page_filters_by_host_team_and_by_the_persons_team(world: World) -> None:
    hugo = html(world, "hugo")
    page = hugo.get("/moves").text
    # hugo sees otto's move (hosted by the directors' team) and the moves his team B hosts
    assert options(page, "team") == [("", "any host team", False), ("ROOT", "Company", False), ("B", "Team B", False)]
    assert options(page, "person_team") == [("", "any team", False), ("B", "Team B", False)]
    admin = html(world, "admin")
    page = admin.get("/moves", params={"person_team": "A"}).text
    assert ("A", "Team A", True) in options(page, "person_team")
    assert world.mv_e in page and world.mv_done in page and world.mv_o not in page
    assert 'href="/moves.csv?person_team=A"' in page  # the export follows
    page = admin.get("/moves", params={"team": "ROOT"}).text
    assert ("ROOT", "Company", True) in options(page, "team")
    assert world.mv_o in page and world.mv_e not in page
    # the JSON twin and the CSV take the ids
    api = world.client("admin")
    r = api.get("/api/v1/moves", params={"person_team": "A", "team": "B"})
    assert r.status_code == 200, r.text
    assert sorted(m["id"] for m in r.json()["moves"]) == sorted([world.mv_e, world.mv_done])
    assert [t["id"] for t in r.json()["host_teams"]] == ["ROOT", "A", "B"]  # admins: every team, by name
    csv = api.get("/api/v1/moves.csv", params={"person_team": "B"}).text.splitlines()
    assert len(csv) == 2 and csv[1].startswith(world.mv_o + ",")
    # an id from a link that is in no list is kept, and says so
    page = admin.get("/moves", params={"person_team": "NOPE"}).text
    assert ("NOPE", "team id NOPE (not in this list)", True) in options(page, "person_team")
    assert "0 moves you can see with these filters" in page


def test_the_lists_page_back_and_forth_and_say_when_a_page_is_past_the_last(world: World, small_pages: None) -> None:
    admin = html(world, "admin")
    page = admin.get("/moves", params={"kind": "gig"}).text  # three moves, one a page
    assert "page 1 of 3" in page
    assert 'href="/moves?kind=gig&amp;page=2" rel="next"' in page and 'rel="prev"' not in page
    page = admin.get("/moves", params={"kind": "gig", "page": 2}).text
    assert 'href="/moves?kind=gig&amp;page=1" rel="prev"' in page and "page 2 of 3" in page
    assert 'href="/moves?kind=gig&amp;page=3" rel="next"' in page
    page = admin.get("/moves", params={"kind": "gig", "page": 3}).text
    assert 'rel="prev"' in page and 'rel="next"' not in page
    page = admin.get("/moves", params={"kind": "gig", "page": 999}).text
    assert "Page 999 is past the last page (3)" in page
    assert 'href="/moves?kind=gig&amp;page=3">go to page 3</a>' in page
    assert 'id="pager"' not in page
    people = admin.get("/people", params={"team": "A", "page": 2}).text
    assert "page 2 of 3" in people and 'href="/people?team=A&amp;page=1" rel="prev"' in people
    assert 'href="/people?team=A&amp;page=3" rel="next"' in people
    people = admin.get("/people", params={"page": 50}).text
    assert "Page 50 is past the last page (6)" in people and 'href="/people?page=6"' in people
    # the JSON twin: a page past the last is an empty list with the totals, as the README says
    r = world.client("admin").get("/api/v1/moves", params={"kind": "gig", "page": 999})
    assert r.status_code == 200 and r.json()["moves"] == []
    assert (r.json()["total"], r.json()["page"], r.json()["pages"]) == (3, 999, 3)
    r = world.client("admin").get("/api/v1/people", params={"page": 2})
    assert r.status_code == 200 and (len(r.json()["people"]), r.json()["pages"]) == (1, 6)


def test_one_page_has_no_pager(world: World) -> None:
    page = html(world, "eva").get("/moves").text
    assert 'id="pager"' not in page and "past the last" not in page
    r = world.client("eva").get("/api/v1/people")
    assert (r.json()["total"], r.json()["pages"]) == (1, 1)
    r = world.client("eva").get("/api/v1/people", params={"page": 2})
    assert (r.status_code, r.json()["people"], r.json()["pages"]) == (200, [], 1)
