"""From a UI review of the pages: team filters by name, pages with Previous/Next and a count, labelled
controls, the success criteria's length, the review's decisions, error pages with the navigation, and a
navigation without the pages that are empty for the account."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

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
    # eva's request, hosted by B, is his to see: her team is offered as the person's
    assert options(page, "person_team") == [("", "any team", False), ("A", "Team A", False), ("B", "Team B", False)]
    assert options(html(world, "eva").get("/moves").text, "person_team") == [
        ("", "any team", False),
        ("A", "Team A", False),
    ]
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


def test_the_lists_page_back_and_forth_and_say_when_a_page_is_past_the_last(world: World) -> None:
    admin = html(world, "admin")
    one = {"page_size": 1}
    page = admin.get("/moves", params={"kind": "gig", **one}).text  # three moves, one a page
    assert "page 1 of 3" in page
    assert 'href="/moves?kind=gig&amp;page_size=1&amp;page=2" rel="next"' in page and 'rel="prev"' not in page
    page = admin.get("/moves", params={"kind": "gig", "page": 2, **one}).text
    assert 'href="/moves?kind=gig&amp;page_size=1&amp;page=1" rel="prev"' in page and "page 2 of 3" in page
    assert 'href="/moves?kind=gig&amp;page_size=1&amp;page=3" rel="next"' in page
    page = admin.get("/moves", params={"kind": "gig", "page": 3, **one}).text
    assert 'rel="prev"' in page and 'rel="next"' not in page
    page = admin.get("/moves", params={"kind": "gig", "page": 999, **one}).text
    assert "Page 999 is past the last page (3)" in page
    assert 'href="/moves?kind=gig&amp;page_size=1&amp;page=3">go to page 3</a>' in page
    assert 'id="pager"' not in page
    people = admin.get("/people", params={"team": "A", "page": 2, **one}).text
    assert "page 2 of 3" in people and 'href="/people?team=A&amp;page_size=1&amp;page=1" rel="prev"' in people
    assert 'href="/people?team=A&amp;page_size=1&amp;page=3" rel="next"' in people
    people = admin.get("/people", params={"page": 50, **one}).text
    assert "Page 50 is past the last page (6)" in people and 'href="/people?page_size=1&amp;page=6"' in people
    # the JSON twin: a page past the last is an empty list with the totals, as the README says
    r = world.client("admin").get("/api/v1/moves", params={"kind": "gig", "page": 999, **one})
    assert r.status_code == 200 and r.json()["moves"] == []
    assert (r.json()["total"], r.json()["page"], r.json()["pages"]) == (3, 999, 3)
    r = world.client("admin").get("/api/v1/people", params={"page": 2, **one})
    assert r.status_code == 200 and (len(r.json()["people"]), r.json()["pages"]) == (1, 6)


def test_one_page_has_no_pager(world: World) -> None:
    page = html(world, "eva").get("/moves").text
    assert 'id="pager"' not in page and "past the last" not in page
    r = world.client("eva").get("/api/v1/people")
    assert (r.json()["total"], r.json()["pages"]) == (1, 1)
    r = world.client("eva").get("/api/v1/people", params={"page": 2})
    assert (r.status_code, r.json()["people"], r.json()["pages"]) == (200, [], 1)


def labelled(page: str, control: str) -> bool:
    """Has the control (its opening tag, as written) a label: an aria-label, a <label for> its id, or a
    <label> around it?"""
    at = page.index(control)
    tag = page[at : page.index(">", at) + 1]
    if "aria-label=" in tag:
        return True
    found = re.search(r'id="([^"]+)"', tag)
    if found and f'<label for="{found.group(1)}"' in page:
        return True
    opened, closed = page.rfind("<label", 0, at), page.rfind("</label>", 0, at)
    return opened > closed


def test_every_listed_control_has_a_label(world: World) -> None:
    mira = html(world, "mira")
    page = mira.get(f"/moves/{world.mv_e}").text  # a request mira may decline
    assert '<label for="reason-decline" class="visually-hidden">' in page and labelled(page, '<input name="reason"')
    page = html(world, "eva").get(f"/moves/{world.mv_e}").text  # hers to withdraw
    assert '<label for="reason-withdraw"' in page and labelled(page, '<input name="reason"')
    page = html(world, "hugo").get(f"/moves/{world.mv_o}").text  # active: hugo reviews it
    assert labelled(page, '<select name="rating_1"') and labelled(page, '<input name="evidence_1"')
    assert '<label>Rating <select name="rating_1"' in page and '<label>Evidence <input name="evidence_1"' in page
    page = html(world, "emil").get(f"/opportunities/{world.opp_open}").text  # emil may apply
    assert '<label for="apply-note" class="visually-hidden">Why you (optional)</label>' in page
    assert labelled(page, '<input name="note"')
    page = html(world, "hr").get("/people").text
    assert labelled(page, '<input name="q"') and labelled(page, '<select name="team"')
    assert '<label for="filter-q">Name or email</label>' in page and '<label for="filter-team">Team</label>' in page
    page = html(world, "hr").get("/moves").text
    for name in ("status", "kind", "team", "person_team"):
        assert labelled(page, f'<select name="{name}"'), name
    page = html(world, "admin").get("/admin/users").text
    for control in ('<select name="access"', '<input name="org_units"', '<input type="checkbox" name="active"'):
        assert labelled(page, control), control
    assert 'aria-label="Access of eva"' in page and 'aria-label="eva is active"' in page
    assert ".visually-hidden" in world.client().get("/static/app.css").text


def test_the_criteria_textarea_holds_the_most_criteria_the_rules_allow(world: World) -> None:
    from micromoves.domain import rules

    most = rules.MAX_CRITERIA * rules.MAX_CRITERION_CHARS + rules.MAX_CRITERIA - 1  # 20,019
    page = html(world, "eva").get("/moves/new").text
    assert f'<textarea name="success_criteria" required maxlength="{most}">' in page
    assert world.client("eva").get("/api/v1/moves/new").json()["criteria_max_chars"] == most
    page = html(world, "hugo").get("/opportunities/new").text
    assert f'<textarea name="success_criteria" required maxlength="{most}">' in page
    # as a browser sends it, each line break as CR LF, the server takes it (20 criteria of 1,000 characters)
    import datetime as dt

    soon = dt.date.today() + dt.timedelta(weeks=2)
    criteria = "\r\n".join(f"{i:02d}" + "x" * (rules.MAX_CRITERION_CHARS - 2) for i in range(rules.MAX_CRITERIA))
    form = {
        "person_id": "E",
        "kind": "gig",
        "title": "Long criteria",
        "start": soon.isoformat(),
        "end": (soon + dt.timedelta(weeks=4)).isoformat(),
        "percent_time": "10",
        "success_criteria": criteria,
    }
    r = world.client("eva").post("/moves", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    move = world.client("eva").get(r.headers["location"].replace("/moves/", "/api/v1/moves/")).json()
    assert len(move["criteria"]) == rules.MAX_CRITERIA and move["criteria"][-1]["statement"].startswith("19x")
    # one character more than that is refused, naming the field
    r = world.client("eva").post("/moves", data={**form, "success_criteria": criteria + "xyz" * 20})
    assert r.status_code == 422 and "success_criteria" in r.text


def test_the_review_offers_the_decisions_by_their_names_and_says_why_convert_is_missing(world: World) -> None:
    page = html(world, "hugo").get(f"/moves/{world.mv_o}").text  # a gig: never converted
    assert options(page, "decision") == [
        ("end", "end — complete the move (every criterion rated)", False),
        ("continue", "continue — keep going as planned; review again later", False),
        ("extend", "extend — keep going until the new end date given below", False),
        ("revert", "revert — stop the move early; their time goes back to the home role", False),
    ]
    assert "complete</option>" not in page
    assert 'aria-describedby="no-convert"' in page
    assert "No “convert”: a gig is not a trial of a role; it cannot be converted into one." in page
    move = world.client("hugo").get(f"/api/v1/moves/{world.mv_o}").json()
    assert "convert" not in move["decisions"] and move["no_convert"].startswith("a gig is not a trial of a role")
    # a move nobody may review says nothing of converting
    assert world.client("hugo").get(f"/api/v1/moves/{world.mv_done}").json()["no_convert"] is None


def test_a_rotation_without_a_target_role_says_so(world: World) -> None:
    from micromoves.storage import tables as t

    with world.db.write_engine.begin() as conn:
        conn.execute(t.moves.update().where(t.moves.c.id == world.mv_o).values(kind="rotation"))
    move = world.client("hugo").get(f"/api/v1/moves/{world.mv_o}").json()
    assert move["no_convert"] == "the move has no target role to convert into"
    assert "convert" not in move["decisions"]


def test_a_refused_form_shows_its_error_in_the_normal_layout_with_its_labels(world: World) -> None:
    eva = html(world, "eva")
    form = {"person_id": "E", "kind": "gig", "title": "No criteria", "start": "2031-01-06", "end": "2031-02-06"}
    r = eva.post("/moves", data={**form, "percent_time": "20"})
    assert r.status_code == 422
    assert "give at least one success criterion" in r.text
    assert '<a href="/opportunities">Opportunities</a>' in r.text and "eva (employee)" in r.text, r.text
    assert "data-form-refused" in r.text  # the way back to the form is still offered
    r = eva.post("/moves", data={**form, "percent_time": "0", "success_criteria": "x"})
    assert r.status_code == 422
    assert "Share of time (%): Input should be greater than or equal to 1" in r.text
    assert "<nav>" in r.text
    # the API keeps the field's name
    r = world.client("eva").post("/moves", data={**form, "percent_time": "0", "success_criteria": "x"})
    assert r.json()["error"]["message"].startswith("percent_time: ")
    # an error before any route identified the caller: best effort from the session
    r = eva.get("/no/such/page")
    assert r.status_code == 404 and "<nav>" in r.text and "eva (employee)" in r.text
    r = eva.get(f"/moves/{world.mv_o}")  # not hers: 404 within the layout
    assert r.status_code == 404 and "<nav>" in r.text
    # not signed in: the bare layout
    anonymous = world.client()
    anonymous.headers["accept"] = "text/html"
    r = anonymous.get("/no/such/page")
    assert r.status_code == 404 and "<nav>" not in r.text and "Not found" in r.text
    # a form sent without its CSRF token: refused, in the layout
    r = html(world, "eva").post("/moves", data=form, headers={"x-csrf-token": ""})
    assert r.status_code == 403 and "<nav>" in r.text


def test_the_navigation_leaves_out_what_is_empty_for_the_account(world: World) -> None:
    def nav(username: str) -> str:
        page = html(world, username).get("/opportunities").text
        return page[page.index("<nav>") : page.index("</nav>")]

    for username in ("eva", "emil", "otto"):  # approve nothing, manage nobody
        links = nav(username)
        assert 'href="/approvals"' not in links and 'href="/team"' not in links, username
        assert 'href="/people"' in links and 'href="/moves"' in links
    for username in ("mira", "hugo", "dana"):  # managers (and host managers)
        links = nav(username)
        assert 'href="/approvals"' in links and 'href="/team"' in links, username
    for username in ("hr", "admin"):  # approve, and have no reports of their own
        links = nav(username)
        assert 'href="/approvals"' in links and 'href="/team"' not in links, username
    # still reachable, and empty, when typed in
    assert html(world, "eva").get("/approvals").status_code == 200


def test_a_move_page_shows_no_empty_actions_box(world: World) -> None:
    """Hugo may only check in on and review otto's active move, which have their own forms: the page showed
    an empty actions box above them. Mira's requested move has buttons, so its box stays."""
    hugo = world.client("hugo")
    assert hugo.get(f"/api/v1/moves/{world.mv_o}").json()["actions"] == ["check_in", "review"]
    page = hugo.get(f"/moves/{world.mv_o}", headers={"accept": "text/html"}).text
    assert 'class="card actions"' not in page and 'id="review-form"' in page
    page = world.client("mira").get(f"/moves/{world.mv_e}", headers={"accept": "text/html"}).text
    assert 'class="card actions"' in page and 'id="action-approve"' in page


def test_the_move_timeline_has_a_legend_for_the_colours_it_uses(world: World) -> None:
    """Eva's timeline holds a requested and a completed move: the legend names those two colours (and the
    today line), not the ones the chart does not use."""
    page = world.client("eva").get("/people/E", headers={"accept": "text/html"}).text
    legend = page[page.index('<ul class="legend"') :].split("</ul>")[0]
    words = re.findall(r"</svg> ([^<]+)</li>", legend)
    assert words == ["planned", "completed", "today"], legend
    assert 'class="bar status-proposed"' in legend and 'class="bar status-completed"' in legend


def test_moves_under_way_whose_dates_say_otherwise_are_marked(world: World) -> None:
    """The dashboard listed an imported 'active' move that had ended long ago, and an onboarding move
    starting months ahead, as active moves without a word, while the team page counted neither as away."""
    import datetime as dt

    from micromoves.storage import tables as t

    page = html(world, "hugo").get("/people/O").text  # mv_o: active, within its dates
    assert "Moves under way" in page and "past its end" not in page and "starts " not in page
    today = dt.date.today()
    moves = t.moves.c
    with world.db.write_engine.begin() as conn:
        ended = {"start": today - dt.timedelta(weeks=30), "end": today - dt.timedelta(weeks=20)}
        conn.execute(t.moves.update().where(moves.id == world.mv_o).values(**ended))
    assert "past its end: due for review" in html(world, "hugo").get("/people/O").text
    ahead = today + dt.timedelta(weeks=20)
    with world.db.write_engine.begin() as conn:
        conn.execute(
            t.moves.update()
            .where(moves.id == world.mv_o)
            .values(status="onboarding", start=ahead, end=ahead + dt.timedelta(weeks=8))
        )
    page = html(world, "hugo").get("/people/O").text
    assert f"starts {ahead}" in page and "past its end" not in page
