from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from micromoves.domain.model import Rating
from micromoves.services import moves as svc
from micromoves.services import org, roles
from micromoves.storage import tables as t
from micromoves.storage.db import Database

D = dt.date


def audit_count(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(t.audit_events)) or 0)


def last_action(db: Database) -> tuple[str, str, str]:
    with db.engine.connect() as conn:
        row = conn.execute(
            select(t.audit_events.c.action, t.audit_events.c.entity_id, t.audit_events.c.actor)
            .order_by(t.audit_events.c.id.desc())
            .limit(1)
        ).one()
    return (row[0], row[1], row[2])


def test_every_change_is_audited(db: Database) -> None:
    """Each service call that changes something leaves exactly the audit events that describe it."""
    steps = [
        (lambda: org.add_team(db, id="T1", name="Data", actor="hr1"), ("team.created", "T1", "hr1")),
        (
            lambda: org.add_role(
                db,
                id="R1",
                title="Analyst",
                onet_code="15-2051.01",
                level=2,
                team_id="T1",
                requirements={"Programming": 3.0},
                actor="hr1",
            ),
            ("role.created", "R1", "hr1"),
        ),
        (
            lambda: org.add_role(db, id="R2", title="Scientist", onet_code="15-2051.00", level=3, actor="hr1"),
            ("role.created", "R2", "hr1"),
        ),
        (lambda: org.add_person(db, id="M", name="Mo", role_id="R2", actor="hr1"), ("person.created", "M", "hr1")),
        (
            lambda: org.add_person(db, id="E", name="Em", role_id="R1", manager_id="M", actor="hr1"),
            ("person.created", "E", "hr1"),
        ),
        (
            lambda: org.assess_skill(db, person_id="E", skill="Programming", level=2.5, provenance="self", actor="E"),
            ("skill.assessed", "E", "E"),
        ),
    ]
    for call, expected in steps:
        before = audit_count(db)
        call()
        assert audit_count(db) == before + 1
        assert last_action(db) == expected
    move = svc.propose_move(
        db,
        person_id="E",
        kind="rotation",  # a trial of role R2: a review converts it
        title="g",
        start=D(2026, 1, 5),
        end=D(2026, 2, 27),
        percent_time=20,
        actor="E",
        criteria=["done"],
        target_role_id="R2",
    )
    assert last_action(db) == ("move.proposed", move.id, "E")
    for status in ("requested", "approved", "onboarding", "active"):
        svc.transition_move(db, move.id, status, actor="M")
        assert last_action(db) == (f"move.{status}", move.id, "M")
    svc.extend_move(db, move.id, D(2026, 3, 27), actor="M", reason="more")
    assert last_action(db) == ("move.extended", move.id, "M")
    svc.check_in(db, move.id, author_id="E", note="fine")
    assert last_action(db) == ("move.check_in", move.id, "E")
    before = audit_count(db)
    svc.review_move(
        db,
        move.id,
        reviewer_id="M",
        decision="convert",
        ratings=[svc.CriterionRating(1, Rating.MET)],
        gains=[svc.GainInput("Programming", 3.5)],
        on=D(2026, 3, 27),
    )
    with db.engine.connect() as conn:
        actions = list(
            conn.scalars(
                select(t.audit_events.c.action).where(t.audit_events.c.id > before).order_by(t.audit_events.c.id)
            )
        )
    assert actions == ["move.in_review", "move.reviewed", "person.role_changed", "move.completed"]


def test_role_lattice_from_the_organisation(db: Database) -> None:
    org.add_role(db, id="SWE2", title="Engineer II", onet_code="15-1252.00", level=2, actor="hr")
    org.add_role(db, id="SWE3", title="Senior Engineer", onet_code="15-1252.00", level=3, actor="hr")
    org.add_role(db, id="QA2", title="QA Engineer II", onet_code="15-1253.00", level=2, actor="hr")
    org.add_role(db, id="ACC", title="Accountant", onet_code="13-2011.00", level=2, actor="hr")
    found = roles.next_roles(db, "SWE2")
    targets = [n.role.id for n in found]
    assert {n.role.id: n.edge.tier for n in found}["SWE3"] == "promotion"
    assert "QA2" in targets  # O*NET lists QA analysts as related to software developers
    assert "ACC" not in targets
    assert [n.edge.weight for n in found] == sorted(n.edge.weight for n in found)
    # The recommendation format of docs/conventions.md: O*NET codes, best first, reasons in words.
    doc = roles.recommendation_document(db, "SWE2", k=3)
    assert (doc["from"], doc["k"]) == ("15-1252.00", 3)
    recs = doc["recommendations"]
    assert [r["role_id"] for r in recs] == targets[:3] and len(recs) <= 3
    assert [r["score"] for r in recs] == sorted((r["score"] for r in recs), reverse=True)
    assert all(0 < r["score"] <= 1 and r["why"] for r in recs)
    swe3 = next(r for r in recs if r["role_id"] == "SWE3")
    assert (swe3["code"], swe3["title"]) == ("15-1252.00", "Senior Engineer")
    assert swe3["why"][0] == "the next level of the same occupation" and swe3["why"][2] == "1 level up"


def test_a_person_is_added_with_an_address_nobody_else_has(db: Database) -> None:
    from micromoves.domain.errors import InvalidValue

    org.add_person(db, id="A", name="Al", email="al@example.org", actor="hr1")
    org.add_person(db, id="B", name="Bea", actor="hr1")
    org.add_person(db, id="C", name="Cas", actor="hr1")  # no address: any number of people
    with pytest.raises(InvalidValue) as info:
        org.add_person(db, id="D", name="Dee", email="AL@example.org", actor="hr1")
    assert info.value.field == "email" and "A's" in str(info.value)
    with db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.people)) == 3
