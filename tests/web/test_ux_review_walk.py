"""From a walk through the demo as each kind of user: what the pages showed that a customer would call
broken (machine words on the page, a form the browser would not send, buttons that need JavaScript)."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient

from micromoves.domain.model import MoveStatus
from micromoves.services import moves as move_svc
from tests.web.conftest import World


def html(world: World, username: str) -> TestClient:
    c = world.client(username)
    c.headers["accept"] = "text/html"
    return c


def in_review(world: World) -> None:
    """Otto's rotation, past its running: in review (the status with an underscore in its value)."""
    move_svc.transition_move(world.db, world.mv_o, MoveStatus.IN_REVIEW, actor="setup")


def test_a_move_in_review_reads_in_words_in_its_history_the_timeline_and_the_release_ledger(world: World) -> None:
    in_review(world)
    admin = html(world, "admin")
    page = admin.get(f"/moves/{world.mv_o}").text
    assert "active → in review" in page and "in_review" not in page.split('id="move-status"')[1], page
    # the timeline's tooltip (its <title>) names the kind and the status in words too
    r = world.client("eva").post(
        "/api/v1/moves",
        json={
            "kind": "stretch_assignment",
            "title": "Stretch on the roadmap",
            "start": (dt.date.today() + dt.timedelta(weeks=3)).isoformat(),
            "end": (dt.date.today() + dt.timedelta(weeks=9)).isoformat(),
            "percent_time": 20,
            "success_criteria": ["Present the roadmap"],
        },
    )
    assert r.status_code == 201, r.text
    titles = re.findall(r"<title>([^<]*)</title>", html(world, "eva").get("/").text)
    assert any("(stretch assignment, 20%)" in x for x in titles), titles
    titles = re.findall(r"<title>([^<]*)</title>", admin.get("/people/O").text)
    assert any(x.endswith(", in review") for x in titles), titles
    assert not any("_" in x for x in titles), titles
    # hugo released otto: his ledger lists the move by its status in words
    page = admin.get("/people/H/credit").text
    assert "<td>in review</td>" in page and "in_review" not in page, page
    # the JSON twins keep the values of the vocabulary
    assert world.client("admin").get(f"/api/v1/moves/{world.mv_o}").json()["history"][-1]["to_status"] == "in_review"
    moves = world.client("admin").get("/api/v1/people/H/credit").json()["moves"]
    assert [m["status"] for m in moves if m["move_id"] == world.mv_o] == ["in_review"]


def test_the_approvals_queue_approves_and_declines_without_javascript(world: World) -> None:
    """Approve and Decline were bare htmx buttons: without JavaScript (or before htmx loaded) they did
    nothing. Each is a form now, that htmx takes over when it runs."""
    mira = html(world, "mira")
    page = mira.get("/approvals").text
    row = page[page.index(f'id="approval-{world.mv_e}"') :]
    row = row[: row.index("</tr>")]
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', row, re.S)
    actions = [a for a, _ in forms]
    assert actions == [f"/moves/{world.mv_e}/actions/approve", f"/moves/{world.mv_e}/actions/decline"], row
    for _, body in forms:
        assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]+">', body), body
        assert re.search(r'<button type="submit"[^>]*>(Approve|Decline)</button>', body), body
    # the browser posts the form (no htmx header): the approval is recorded and the move's page shown
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', forms[0][1]).group(1)  # type: ignore[union-attr]
    del mira.headers["x-csrf-token"]  # the form's field carries the token, as a browser sends it
    r = mira.post(actions[0], data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/moves/{world.mv_e}", r.text
    approvals = world.client("mira").get(f"/api/v1/moves/{world.mv_e}").json()["approvals"]
    assert [a["decision"] for a in approvals] == ["approved"]
    # with htmx, the row is still replaced by the outcome
    r = html(world, "hugo").post(f"/moves/{world.mv_e}/actions/approve", headers={"hx-request": "true"})
    assert r.status_code == 200 and f'<tr id="approval-{world.mv_e}">' in r.text and "approved" in r.text


def test_a_review_that_continues_the_move_needs_no_ratings(world: World) -> None:
    """Every rating was a required field: the browser would not send a mid-move review (continue, extend)
    or a revert until every criterion was rated, though only end and convert need them (the server says
    which are missing)."""
    hugo = html(world, "hugo")
    page = hugo.get(f"/moves/{world.mv_o}").text
    select = re.search(r'<select name="rating_1"[^>]*>', page)
    assert select and "required" not in select.group(0), select
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": csrf, "rating_1": "", "evidence_1": "", "decision": "end", "notes": ""}
    r = hugo.post(f"/moves/{world.mv_o}/review", data=data)
    assert r.status_code == 422 and "not rated (Pair on two incidents)" in r.text, r.text
    r = hugo.post(f"/moves/{world.mv_o}/review", data={**data, "decision": "continue"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    move = world.client("hugo").get(f"/api/v1/moves/{world.mv_o}").json()
    assert (move["status"], move["outcome"]["decision"], move["criteria"][0]["rating"]) == ("active", "continue", None)


def test_an_account_without_a_person_sees_no_empty_fit_column_on_the_opportunities(world: World) -> None:
    """HR and admin accounts (no person of their own) saw a "Fit for you" column blank on every row, under
    a line promising "best fit for you first"."""
    for username in ("hr", "admin"):
        page = html(world, username).get("/opportunities").text
        assert "Fit for you" not in page and "best fit for you" not in page, page
        assert "Incident review rotation" in page
        head = re.search(r"<thead><tr>(.*?)</tr></thead>", page).group(1)  # type: ignore[union-attr]
        row = page[page.index("Incident review rotation") :]
        row = row[: row.index("</tr>")]
        assert head.count("<th>") == row.count("<td") + 1 == 6, (head, row)  # the title's own <td> opens the row
    page = html(world, "emil").get("/opportunities").text
    assert "<th>Fit for you</th>" in page and "best fit for you first" in page


def test_times_of_day_on_the_pages_say_their_time_zone(world: World) -> None:
    """A move's history and the allocation runs showed times of day ("2026-11-28 00:20") with no zone: they
    are UTC, an hour or more off the clock of most readers."""
    page = html(world, "admin").get(f"/moves/{world.mv_o}").text
    history = page[page.index("<h2>History</h2>") :]
    assert "<th>When (UTC)</th>" in history
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d</td>", history)
    assert "<th>When (UTC)</th>" in html(world, "admin").get("/allocations").text


def test_skill_levels_say_their_scale(world: World) -> None:
    """Skill levels read "5.4" in a column headed "Level", and the review asked for "the level after" with
    no scale: O*NET's levels run from 0 to 7, so a 5.4 is high, not middling."""
    page = html(world, "eva").get("/").text
    assert "<th>Level (0–7)</th>" in page
    page = html(world, "hugo").get(f"/moves/{world.mv_o}").text
    assert 'Skills gained (one "skill = level" per line), on the 0–7 scale' in page, page


def _step_admits(tag: str, value: float) -> bool:
    """Whether a browser takes ``value`` in the number input ``tag`` (its step from its min, HTML's rule)."""
    step = re.search(r'step="([^"]+)"', tag)
    if step is None or step.group(1) == "any":
        return step is not None or value == int(value)  # no step attribute: whole numbers only
    low = re.search(r'min="([^"]+)"', tag)
    units = (value - float(low.group(1) if low else 0)) / float(step.group(1))
    return abs(units - round(units)) < 1e-9


def test_number_inputs_take_every_value_the_server_takes(world: World) -> None:
    """The browser refused an equity weight of 1.25 (step 0.5) and a release limit of 0.33 (step 0.05), which
    the server takes."""
    page = html(world, "admin").get("/allocations").text
    for name, value in (("equity_weight", 1.25), ("release_share", 0.33)):
        tag = re.search(rf'<input type="number" name="{name}"[^>]*>', page)
        assert tag and _step_admits(tag.group(0), value), (name, tag)


def test_form_errors_on_the_admin_and_account_pages_name_the_form_labels(world: World) -> None:
    """The allocation, user, token and password forms had no labels for their errors: the page said
    "equity_weight: …" (the form's field name), not "Equity weight: …" as the other forms do."""
    admin = html(world, "admin")
    page = admin.get("/allocations").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = admin.post("/allocations", data={"csrf_token": csrf, "equity_weight": "1000"})
    assert r.status_code == 422 and "Equity weight:" in r.text and "equity_weight:" not in r.text
    r = admin.post("/admin/users", data={"csrf_token": csrf, "username": "x" * 151, "password": "p" * 12})
    assert r.status_code == 422 and "Username:" in r.text, r.text[-2000:]
    # The JSON twin names the field as the API knows it.
    api = world.client("admin").post("/api/v1/allocations", json={"equity_weight": 1000})
    assert api.status_code == 422 and api.json()["error"]["details"]["problems"][0]["field"] == "equity_weight"


def test_the_users_table_has_no_form_wrapped_around_its_cells(world: World) -> None:
    """Each row was <tr><form>…cells…</form>: invalid HTML that browsers repair each their own way. The
    row's form sits in its first cell, and its fields name it (a browser test saves a row)."""
    page = html(world, "admin").get("/admin/users").text
    table = page.split('<table class="data" id="users">')[1].split("</table>")[0]
    assert not re.search(r"<tr>\s*<form", table) and not re.search(r"</form>\s*<td", table)
    forms = re.findall(r'<form method="post" action="/admin/users/(\d+)" id="user-(\d+)">', table)
    assert forms and all(a == b for a, b in forms)
    for _, uid in forms:
        assert (
            f'<select name="access" form="user-{uid}"' in table and f'<button type="submit" form="user-{uid}"' in table
        )
