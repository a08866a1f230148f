"""The target role on the person page and its JSON twin, and what the plan section says about the plan.

Before: nothing in the app set a target role (only an HRIS import did), a plan towards a former target
showed as up to date, and an unreachable plan without steps read "No steps needed."
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from micromoves.services import accounts, catalogue, org, planning
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.web.app import create_app
from tests.services.test_planning_service import plan_db
from tests.web.conftest import World

__all__ = ["plan_db"]  # the fixture, shared with the planning service's tests

HTML = {"accept": "text/html"}


def add_roles(db: Database) -> None:
    org.add_role(db, id="R-AN", title="Analyst", level=2, team_id="A", actor="setup")
    org.add_role(db, id="R-LEAD", title="Team Lead", level=3, team_id="A", actor="setup")


def target_of(db: Database, person_id: str) -> str | None:
    with db.engine.connect() as conn:
        return conn.scalar(select(t.people.c.target_role_id).where(t.people.c.id == person_id))


def test_the_person_page_has_a_target_role_form(world: World) -> None:
    """A select of the roles with the current target chosen, Set and Clear; back to the plan after."""
    add_roles(world.db)
    eva = world.client("eva")
    page = eva.get("/", headers=HTML).text
    form = page.split('id="target-role-form"', 1)[1].split("</form>", 1)[0]
    assert '<option value="" selected>Choose a role…</option>' in form and "Clear target" not in form
    assert '<option value="R-AN">Analyst (R-AN)</option>' in form and "Team Lead (R-LEAD)" in form
    r = eva.post("/people/E/target-role", data={"role_id": "R-AN"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/#plan")
    page = eva.get("/", headers=HTML).text
    form = page.split('id="target-role-form"', 1)[1].split("</form>", 1)[0]
    assert "aiming for <strong>Analyst</strong>" in page
    assert '<option value="R-AN" selected>Analyst (R-AN)</option>' in form and "Choose a role" not in form
    assert '<button type="submit" name="clear" value="1">Clear target</button>' in form
    # The manager, from the person's page: back to that page.
    r = world.client("mira").post("/people/E/target-role", data={"role_id": "R-LEAD"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/people/E#plan")
    assert target_of(world.db, "E") == "R-LEAD"
    # Neither a role nor Clear is refused, not taken as clearing it.
    r = eva.post("/people/E/target-role", data={"role_id": ""}, follow_redirects=False)
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "role_id"
    r = eva.post("/people/E/target-role", data={"role_id": "R-LEAD", "clear": "1"}, follow_redirects=False)
    assert r.status_code == 303 and target_of(world.db, "E") is None
    # HR for eva's unit is offered the form too (who may not set it does not see the page: test_authz).
    assert 'id="target-role-form"' in world.client("hr").get("/people/E", headers=HTML).text


def test_the_target_role_api(world: World) -> None:
    """GET lists the choices, PUT sets ({"role_id": null} clears) and answers the person's page; an unknown
    role is a 422 naming role_id; an empty body is refused rather than clearing the target."""
    add_roles(world.db)
    hr = world.client("hr")
    form = hr.get("/api/v1/people/E/target-role").json()
    assert form["person"] == {"id": "E", "name": "Eva Employee"} and form["target_role_id"] is None
    assert {"id": "R-AN", "title": "Analyst", "level": 2} in form["roles"] and form["may_set_target"]
    r = hr.put("/api/v1/people/E/target-role", json={"role_id": "R-AN"})
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["target_role_id"], r.json()["target_role"]) == ("E", "R-AN", "Analyst")
    assert r.json()["may_set_target"] is True
    assert world.client("eva").get("/api/v1/me").json()["target_role_id"] == "R-AN"
    # The director, two levels above eva, may too; HR for team A may not for otto (team B): not found.
    assert world.client("dana").put("/api/v1/people/E/target-role", json={"role_id": "R-LEAD"}).status_code == 200
    r = hr.put("/api/v1/people/O/target-role", json={"role_id": "R-AN"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = hr.put("/api/v1/people/E/target-role", json={"role_id": "NOPE"})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "role_id"
    assert r.json()["error"]["message"] == "unknown role 'NOPE'"
    for body in ({}, {"role_id": ""}, {"role": "R-AN"}):
        r = hr.put("/api/v1/people/E/target-role", json=body)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request", body
    assert target_of(world.db, "E") == "R-LEAD"
    r = hr.put("/api/v1/people/E/target-role", json={"role_id": None})
    assert (r.status_code, r.json()["target_role_id"], r.json()["target_role"]) == (200, None, None)
    with world.db.engine.connect() as conn:
        audited = conn.execute(
            select(t.audit_events.c.actor, t.audit_events.c.details)
            .where(t.audit_events.c.action == "person.target_role")
            .order_by(t.audit_events.c.id)
        ).all()
    assert [(a, d["new"]) for a, d in audited] == [("user:hr", "R-AN"), ("D", "R-LEAD"), ("user:hr", None)]


@pytest.fixture
def eli(plan_db: Database) -> TestClient:
    """EMP's browser, signed in (EMP aims for Senior Engineer)."""
    accounts.create_user(plan_db, username="eli", password="correct horse 42", person_id="EMP", actor="hr")
    c = TestClient(create_app(plan_db), headers=HTML)
    csrf = c.post("/api/v1/session", json={"username": "eli", "password": "correct horse 42"}).json()["csrf_token"]
    c.headers["x-csrf-token"] = csrf
    return c


def plan_section(page: str) -> str:
    return page.split('id="plan"', 1)[1].split("</section>", 1)[0]


def test_a_new_target_shows_the_plan_out_of_date_and_plan_again_aims_for_it(plan_db: Database, eli: TestClient) -> None:
    org.add_role(
        plan_db, id="LEAD", title="Tech Lead", level=3, team_id="ENG", actor="hr", requirements={"Programming": 4.2}
    )
    assert eli.post("/people/EMP/plan", follow_redirects=False).status_code == 303
    assert "plan-out-of-date" not in eli.get("/").text
    assert eli.post("/people/EMP/target-role", data={"role_id": "LEAD"}, follow_redirects=False).status_code == 303
    page = eli.get("/").text
    assert "aiming for <strong>Tech Lead</strong>" in page
    section = plan_section(page)
    assert "Plan towards Senior Engineer" in section
    notice = re.sub(r"\s+", " ", section.split('id="plan-out-of-date">', 1)[1].split("</p>", 1)[0])
    assert notice.startswith("Out of date: this plan aims for Senior Engineer; the target role is now Tech Lead.")
    assert "Plan again" in notice
    twin = eli.get("/api/v1/me", headers={"accept": "application/json"}).json()["plan"]
    assert (twin["out_of_date"], twin["out_of_date_because"], twin["target_role_id"]) == (
        True,
        "target_changed",
        "SWE3",
    )
    assert twin["horizon_weeks"] == 104
    eli.post("/people/EMP/plan")
    section = plan_section(eli.get("/").text)
    assert "Plan towards Tech Lead" in section and "plan-out-of-date" not in section
    # Cleared: the plan is out of date and there is nothing to plan again towards.
    eli.post("/people/EMP/target-role", data={"clear": "1"})
    section = plan_section(eli.get("/").text)
    assert "Tech Lead is no longer the target role. Set one to plan towards it." in section
    assert "Plan again" not in section


def test_an_unreachable_plan_without_steps_does_not_say_none_are_needed(plan_db: Database, eli: TestClient) -> None:
    """The person page read "No steps needed." for a plan that reaches nothing (no move builds the skill)."""
    org.add_role(
        plan_db, id="NEGO", title="Negotiator", level=3, team_id="ENG", actor="hr", requirements={"Negotiation": 5.0}
    )
    catalogue.set_target_role(plan_db, person_id="EMP", role_id="NEGO", actor="hr")
    eli.post("/people/EMP/plan")
    plan = planning.current_plan(plan_db, "EMP")
    assert plan is not None and (plan.outcome, plan.steps) == ("unreachable", [])
    section = plan_section(eli.get("/").text)
    empty = re.sub(r"\s+", " ", section.split('id="plan-no-steps">', 1)[1].split("</li>", 1)[0]).strip()
    assert empty == "No plan reaches Negotiator within the horizon of 104 weeks; see why below."
    assert "No steps needed" not in section
    assert "<details open><summary>Why the target is out of reach</summary>" in section
    # Already ready: no steps, and none needed.
    org.add_role(
        plan_db, id="EASY", title="Programmer", level=2, team_id="ENG", actor="hr", requirements={"Programming": 3.0}
    )
    catalogue.set_target_role(plan_db, person_id="EMP", role_id="EASY", actor="hr")
    eli.post("/people/EMP/plan")
    section = plan_section(eli.get("/").text)
    assert "No steps needed: ready for Programmer already." in section


def test_the_plan_explains_itself_to_whoever_reads_it(plan_db: Database, eli: TestClient) -> None:
    """Eli's plan has a depth step on a skill he holds at 3.0 or more. His page says "you already hold" to him;
    his manager Mara and an admin read "Eli already holds" on the page and its JSON twin (they read "you")."""
    assert eli.post("/people/EMP/plan", follow_redirects=False).status_code == 303
    held = "it is a depth step: {} Critical Thinking at 3.0 when it starts"
    own = plan_section(eli.get("/").text)
    assert held.format("you already hold") in own
    assert held.format("you already hold") in " ".join(
        eli.get("/api/v1/me", headers={"accept": "application/json"}).json()["plan"]["explanation"]
    )
    accounts.create_user(plan_db, username="mara", password="correct horse 42", person_id="MGR", actor="hr")
    accounts.create_user(plan_db, username="root", password="correct horse 42", access="admin", actor="hr")
    for username in ("mara", "root"):
        c = TestClient(create_app(plan_db), headers=HTML)
        assert c.post("/api/v1/session", json={"username": username, "password": "correct horse 42"}).status_code == 200
        section = plan_section(c.get("/people/EMP").text)
        assert held.format("Eli already holds") in section, username
        assert "you already hold" not in section, username
        lines = c.get("/api/v1/people/EMP", headers={"accept": "application/json"}).json()["plan"]["explanation"]
        assert any(held.format("Eli already holds") in line for line in lines), (username, lines)
        assert not any("you " in line for line in lines), (username, lines)
    # The stored plan keeps speaking to Eli: it is turned for the reader when shown, never rewritten.
    stored = planning.current_plan(plan_db, "EMP")
    assert stored is not None and any(held.format("you already hold") in x for x in stored.explanation["lines"])
