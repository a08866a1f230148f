"""Setting a person's target role in the app, and the rule that only a plan towards it is stored as current.

Before: only an HRIS import set ``people.target_role_id`` (the person page answered "has no target role;
give one to plan towards" with no way to give one), and ``micromoves plan P --target OTHER`` stored a plan
towards OTHER as the current one, beside a page "aiming for" the recorded target.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from micromoves.domain.errors import Forbidden, InvalidValue, NotFound
from micromoves.services import accounts, org, planning, secured, views
from micromoves.services.marketplace import plan_fit
from micromoves.services.policy import Policy
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_planning_service import START, add_engineer, insert_open_opportunity, plan_db

__all__ = ["plan_db"]  # the fixture, shared with the planning service's tests


def as_person(db: Database, pid: str) -> Policy:
    return Policy(db, accounts.Principal(0, pid, accounts.Access.EMPLOYEE, pid))


def admin(db: Database) -> Policy:
    return Policy(db, accounts.Principal(0, "root", accounts.Access.ADMIN, None))


def add_lead_role(db: Database) -> None:
    """A role EMP can reach with the course alone (Programming 3.5 → 4.0 within the tolerance)."""
    org.add_role(
        db,
        id="LEAD",
        title="Tech Lead",
        level=3,
        team_id="ENG",
        actor="hr",
        requirements={"Programming": 4.2, "Critical Thinking": 3.0},
    )


def target_events(db: Database, person_id: str) -> list[tuple[str, dict[str, object]]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_events.c.actor, t.audit_events.c.details)
            .where(t.audit_events.c.action == "person.target_role", t.audit_events.c.entity_id == person_id)
            .order_by(t.audit_events.c.id)
        ).all()
    return [(r.actor, r.details) for r in rows]


def recorded_target(db: Database, person_id: str) -> str | None:
    with db.engine.connect() as conn:
        return conn.scalar(select(t.people.c.target_role_id).where(t.people.c.id == person_id))


def test_who_may_set_a_target_role(plan_db: Database) -> None:
    """The person, their managers up the line and admins (HR for their unit: tests/web); a colleague is
    told the person does not exist, and nothing is written. Each change is audited with the old and new
    role; setting the same one again writes nothing."""
    add_lead_role(plan_db)
    org.add_person(plan_db, id="DIR", name="Dora", role_id="SWE3", team_id="ENG", actor="hr")
    org.add_person(plan_db, id="MID", name="Milo", role_id="SWE3", team_id="ENG", manager_id="DIR", actor="hr")
    org.add_person(plan_db, id="IC", name="Ines", role_id="SWE2", team_id="ENG", manager_id="MID", actor="hr")
    add_engineer(plan_db, "EMP2", "Ena")  # EMP's colleague under MGR

    change = secured.set_target_role(plan_db, as_person(plan_db, "EMP"), "EMP", role_id="LEAD")
    assert (change.old_role_id, change.role_id, change.changed) == ("SWE3", "LEAD", True)
    secured.set_target_role(plan_db, as_person(plan_db, "MGR"), "EMP", role_id="SWE3")  # the line manager
    secured.set_target_role(plan_db, as_person(plan_db, "DIR"), "IC", role_id="LEAD")  # two levels up
    secured.set_target_role(plan_db, admin(plan_db), "IC", role_id=None)  # an admin clears it
    for who, whom in (("EMP2", "EMP"), ("EMP", "MGR"), ("IC", "MID")):  # a colleague, one's manager
        with pytest.raises(NotFound, match=f"unknown person '{whom}'"):
            secured.set_target_role(plan_db, as_person(plan_db, who), whom, role_id="LEAD")
    assert (recorded_target(plan_db, "EMP"), recorded_target(plan_db, "IC")) == ("SWE3", None)
    assert recorded_target(plan_db, "MGR") is None
    same = secured.set_target_role(plan_db, as_person(plan_db, "EMP"), "EMP", role_id="SWE3")
    assert not same.changed
    assert target_events(plan_db, "EMP")[1:] == [  # (after the fixture's)
        ("EMP", {"old": "SWE3", "new": "LEAD"}),
        ("MGR", {"old": "LEAD", "new": "SWE3"}),
    ]
    assert target_events(plan_db, "IC") == [
        ("DIR", {"old": None, "new": "LEAD"}),
        ("user:root", {"old": "LEAD", "new": None}),
    ]
    # A read-only token may look, not set.
    reader = Policy(
        plan_db, accounts.Principal(0, "r", accounts.Access.ADMIN, None, scopes=frozenset({accounts.Scope.READ}))
    )
    with pytest.raises(Forbidden):
        secured.set_target_role(plan_db, reader, "EMP", role_id="LEAD")


def test_an_unknown_role_is_an_invalid_role_id(plan_db: Database) -> None:
    with pytest.raises(InvalidValue, match="unknown role 'NOPE'") as caught:
        secured.set_target_role(plan_db, as_person(plan_db, "EMP"), "EMP", role_id="NOPE")
    assert caught.value.field == "role_id"  # a 422 naming the field, not a 404 for the page
    with pytest.raises(NotFound, match="unknown person 'GHOST'"):
        secured.set_target_role(plan_db, admin(plan_db), "GHOST", role_id="SWE3")
    assert recorded_target(plan_db, "EMP") == "SWE3" and len(target_events(plan_db, "EMP")) == 1  # the fixture's


def test_a_new_target_makes_the_plan_out_of_date_and_planning_again_aims_for_it(plan_db: Database) -> None:
    """The plan towards the old target stays as it was (version and steps) but shows as out of date, even
    though its own problem is unchanged; planning again plans towards the new target. Cleared, there is
    nothing to plan towards: out of date, and planning again says why."""
    add_lead_role(plan_db)
    emp = as_person(plan_db, "EMP")
    first = planning.replan(plan_db, emp, "EMP").plan
    view = views.plan_view(plan_db, "EMP", reader_person_id="EMP")
    assert view is not None and (view.out_of_date, view.out_of_date_because) == (False, None)
    assert (view.target_role_id, view.horizon_weeks) == ("SWE3", 104)

    change = secured.set_target_role(plan_db, emp, "EMP", role_id="LEAD")
    assert change.plan_target_role_id == "SWE3" and change.plan_out_of_date
    view = views.plan_view(plan_db, "EMP", reader_person_id="EMP")
    assert view is not None and (view.version, view.target_role) == (first.version, "Senior Engineer")
    assert (view.out_of_date, view.out_of_date_because) == (True, "target_changed")
    assert planning.still_current(plan_db, first)  # its own problem: unchanged; the target is what moved

    again = planning.replan(plan_db, emp, "EMP").plan
    assert (again.version, again.target_role_id) == (first.version + 1, "LEAD")
    view = views.plan_view(plan_db, "EMP", reader_person_id="EMP")
    assert view is not None and (view.target_role, view.out_of_date) == ("Tech Lead", False)

    secured.set_target_role(plan_db, emp, "EMP", role_id=None)
    view = views.plan_view(plan_db, "EMP", reader_person_id="EMP")
    assert view is not None and (view.out_of_date, view.out_of_date_because) == (True, "no_target")
    with pytest.raises(InvalidValue, match="EMP has no target role"):
        planning.replan(plan_db, emp, "EMP")


def test_a_plan_towards_another_role_is_a_what_if_not_the_current_plan(plan_db: Database) -> None:
    """Only a plan towards the recorded target is stored as current, whoever asks (the CLI's --target, the
    service itself): towards another role it is made and shown, with the reason it was not stored."""
    add_lead_role(plan_db)
    current = planning.plan_for_person(plan_db, "EMP", actor="EMP", start=START)
    assert current.stored and current.not_stored_because is None
    other = planning.plan_for_person(plan_db, "EMP", actor="EMP", start=START, target_role_id="LEAD")
    assert (other.stored, other.plan.version, other.plan.target_role_id) == (False, 0, "LEAD")
    assert other.not_stored_because == "LEAD is not EMP's target role (theirs is SWE3)"
    # Named explicitly, the recorded target is stored as ever.
    named = planning.plan_for_person(plan_db, "EMP", actor="EMP", start=START, target_role_id="SWE3")
    assert named.stored and named.kept and named.plan.id == current.plan.id
    # A what-if asked for as one is not "not stored because": nothing to explain.
    asked = planning.plan_for_person(plan_db, "EMP", actor="EMP", target_role_id="LEAD", store=False)
    assert not asked.stored and asked.not_stored_because is None
    # Someone without a target: a plan towards a role is shown, not stored.
    add_engineer(plan_db, "EMP2", "Ena")
    theirs = planning.plan_for_person(plan_db, "EMP2", actor="MGR", start=START, target_role_id="SWE3")
    assert theirs.not_stored_because == "SWE3 is not EMP2's target role (they have none)"
    assert planning.current_plan(plan_db, "EMP2") is None
    assert [p.target_role_id for p in planning.plan_history(plan_db, "EMP")] == ["SWE3"]


def cli(db: Database) -> Callable[..., tuple[int, str, str]]:
    from micromoves.cli.main import app

    url = db.url.render_as_string(hide_password=False)
    runner = CliRunner()

    def mm(*args: str, actor: str = "EMP") -> tuple[int, str, str]:
        r = runner.invoke(app, ["--db", url, "--actor", actor, *args])
        return r.exit_code, r.stdout, r.stderr

    return mm


def test_the_plan_command_stores_only_towards_the_recorded_target(plan_db: Database) -> None:
    """`plan P --target OTHER` (no --what-if) stored OTHER as P's current plan; it now shows it and says
    why it is not stored and how to make OTHER the target. --horizon still stores, and the JSON says
    which horizon the stored plan has."""
    add_lead_role(plan_db)
    mm = cli(plan_db)
    code, out, err = mm("plan", "EMP", "--target", "LEAD")
    assert code == 0, err
    flat = " ".join(out.split())
    said = "not stored: LEAD is not EMP's target role (theirs is SWE3); set it with `micromoves people set-target"
    assert f"{said} EMP LEAD`, then plan again; the current plan stays as it is" in flat
    assert planning.current_plan(plan_db, "EMP") is None
    code, out, _ = mm("plan", "EMP", "--target", "LEAD", "--json")
    shown = json.loads(out)
    assert (shown["stored"], shown["version"], shown["target_role_id"]) == (False, 0, "LEAD")
    assert shown["not_stored_because"].startswith("not stored: LEAD is not EMP's target role")
    code, out, _ = mm("plan", "EMP", "--horizon", "1y", "--json")
    stored = json.loads(out)
    assert (stored["stored"], stored["horizon_weeks"], stored["not_stored_because"]) == (True, 52, None)
    view = views.plan_view(plan_db, "EMP", reader_person_id="EMP")
    assert view is not None and view.horizon_weeks == 52


def test_the_set_target_command(plan_db: Database) -> None:
    """`people set-target P ROLE` / `--clear`, with --actor's rights as in the app."""
    add_lead_role(plan_db)
    mm = cli(plan_db)
    assert mm("plan", "EMP")[0] == 0
    code, out, err = mm("people", "set-target", "EMP", "LEAD")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "EMP's target role is now LEAD; their current plan aims for SWE3, so it is out of date" in flat
    assert "plan again with `micromoves plan EMP`" in flat
    code, out, err = mm("plan", "EMP", "--json")
    assert (json.loads(out)["stored"], json.loads(out)["target_role_id"]) == (True, "LEAD"), err
    code, out, err = mm("people", "set-target", "EMP", "--clear", "--json")
    assert code == 0 and json.loads(out) == {
        "person_id": "EMP",
        "target_role_id": None,
        "previous_target_role_id": "LEAD",
        "changed": True,
        "plan_out_of_date": True,
    }, err
    code, _, err = mm("people", "set-target", "EMP", "NOPE")
    assert (code, err.strip()) == (2, "error: unknown role 'NOPE'")
    code, _, err = mm("people", "set-target", "EMP")
    assert (code, err.strip()) == (2, "error: give a ROLE or --clear (not both)")
    code, _, err = mm("people", "set-target", "EMP", "LEAD", "--clear")
    assert code == 2 and "not both" in err
    add_engineer(plan_db, "EMP2", "Ena")
    code, _, err = mm("people", "set-target", "EMP2", "LEAD")  # a colleague's: not found
    assert (code, err.strip()) == (3, "error: unknown person 'EMP2'")
    code, _, err = mm("people", "set-target", "EMP2", "LEAD", actor="MGR")  # their manager's
    assert code == 0 and recorded_target(plan_db, "EMP2") == "LEAD", err
    code, _, err = mm("people", "set-target", "EMP2", "SWE3", actor="nightly")  # an operator: an admin
    assert code == 0 and recorded_target(plan_db, "EMP2") == "SWE3", err
    # An operator is recorded as secured.propose records one.
    assert [a for a, _ in target_events(plan_db, "EMP2")] == ["MGR", "user:nightly"]


def test_the_marketplace_and_replanning_follow_the_recorded_target(plan_db: Database) -> None:
    """After the target changed, the plan towards the old one no longer ranks a card as "step 1 of your
    plan", and an opportunity closing re-plans its taker towards the new target, not the old one."""
    from micromoves.services import marketplace as market

    add_lead_role(plan_db)
    insert_open_opportunity(plan_db)
    plan = planning.plan_for_person(plan_db, "EMP", actor="EMP").plan
    assert [s["template_id"] for s in plan.steps] == ["opportunity:OPP-LEAD"]
    with plan_db.engine.connect() as conn:
        lead = conn.execute(select(t.opportunities).where(t.opportunities.c.id == "OPP-LEAD")).one()
        assert plan_fit(conn, "EMP", lead)[1].startswith("step 1 of your plan")
    secured.set_target_role(plan_db, as_person(plan_db, "EMP"), "EMP", role_id="LEAD")
    with plan_db.engine.connect() as conn:
        assert plan_fit(conn, "EMP", lead) == (None, "")
    market.set_opportunity_status(plan_db, admin(plan_db), "OPP-LEAD", "closed")
    again = planning.current_plan(plan_db, "EMP")
    assert again is not None and (again.version, again.target_role_id) == (plan.version + 1, "LEAD")


def test_a_revert_after_the_target_changed_replans_towards_the_new_target(plan_db: Database) -> None:
    """Reverting a move re-planned towards the target of the current plan: after a change of target, that
    plan would be a what-if now (not stored) and the stale plan would stay; it re-plans towards the new one."""
    from micromoves.domain.model import MoveStatus
    from micromoves.services import moves as move_svc

    add_lead_role(plan_db)
    planning.plan_for_person(plan_db, "EMP", actor="EMP", start=START)
    move = planning.propose_from_plan(plan_db, "EMP", 1, actor="EMP")
    for status in ("approved", "onboarding", "active"):
        move_svc.transition_move(plan_db, move.id, status, actor="MGR")
    secured.set_target_role(plan_db, as_person(plan_db, "EMP"), "EMP", role_id="LEAD")
    reverted = move_svc.transition_move(plan_db, move.id, "reverted", actor="MGR", reason="not working", on=START)
    assert reverted.status is MoveStatus.REVERTED
    current = planning.current_plan(plan_db, "EMP")
    assert current is not None and (current.version, current.target_role_id) == (2, "LEAD")
    assert current.reason == f"move {move.id} was reverted"


def test_a_step_of_a_plan_towards_a_target_left_behind_is_not_proposed(plan_db: Database) -> None:
    """propose_from_plan proposed a step of the current plan whatever it aimed for: after a new target, a
    move serving the old one ("Step 1 of plan v1 towards SWE3"), from a plan that no longer counts."""
    add_lead_role(plan_db)
    planning.plan_for_person(plan_db, "EMP", actor="EMP", start=START)
    secured.set_target_role(plan_db, as_person(plan_db, "EMP"), "EMP", role_id="LEAD")
    with pytest.raises(InvalidValue, match="aims for SWE3, not EMP's target role LEAD") as info:
        planning.propose_from_plan(plan_db, "EMP", 1, actor="EMP")
    assert info.value.field == "plan"
    with plan_db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.moves)) == 0
