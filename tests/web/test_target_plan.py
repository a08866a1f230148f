"""What the person page's plan section says about the plan.

Before: an unreachable plan without steps read "No steps needed."
"""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from micromoves.services import accounts, catalogue, org, planning
from micromoves.storage.db import Database
from micromoves.web.app import create_app
from tests.services.test_planning_service import plan_db

__all__ = ["plan_db"]  # the fixture, shared with the planning service's tests

HTML = {"accept": "text/html"}


@pytest.fixture
def eli(plan_db: Database, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """EMP's browser, signed in (EMP aims for Senior Engineer)."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    accounts.create_user(plan_db, username="eli", password="correct horse 42", person_id="EMP", actor="hr")
    c = TestClient(create_app(plan_db), headers=HTML)
    csrf = c.post("/api/v1/session", json={"username": "eli", "password": "correct horse 42"}).json()["csrf_token"]
    c.headers["x-csrf-token"] = csrf
    return c


def plan_section(page: str) -> str:
    return page.split('id="plan"', 1)[1].split("</section>", 1)[0]


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
