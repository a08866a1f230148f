"""A move's kind and status, a review's decision and a criterion's rating are read in any case on every way in
(JSON bodies, query strings, web forms), as the import and the CLI read them: one parser
(domain.vocabulary). The import took 'Active' while the API refused it. What is stored and answered is the
canonical value; anything else is a 422 naming the field and every accepted value."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from micromoves.storage import tables as t
from tests.web.conftest import World
from tests.web.test_authz import OPPORTUNITY, OPPORTUNITY_FORM, PROPOSAL, _changes

STATUSES = "proposed, requested, approved, onboarding, active, in_review, completed, declined, withdrawn, reverted"
KINDS = "stretch_assignment, rotation, lateral_swap, temporary_lead, gig, acting_role, responsibility_handoff, "
KINDS += "shadowing, mentoring, course"


def _refused(response: Any, field: str, message: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    # A request's field (pydantic: "field: message") or the service's (the field in details)
    named = f"{field}: {message}" in error["message"]
    assert named or (error["details"].get("field") == field and message in error["message"]), error


def _stored(world: World, move_id: str) -> tuple[Any, ...]:
    with world.db.engine.connect() as conn:
        move = conn.execute(select(t.moves.c.kind, t.moves.c.status).where(t.moves.c.id == move_id)).one()
        decision = conn.scalar(select(t.outcomes.c.decision).where(t.outcomes.c.move_id == move_id))
        ratings = conn.scalars(select(t.success_criteria.c.rating).where(t.success_criteria.c.move_id == move_id))
        return (*move, decision, list(ratings))


def test_api_bodies_and_query_strings_read_every_vocabulary_in_any_case(world: World) -> None:
    eva, hugo, admin = world.client("eva"), world.client("hugo"), world.client("admin")
    r = eva.post("/api/v1/moves", json={**PROPOSAL, "kind": "Gig", "success_criteria": ["x"]})
    assert r.status_code == 201 and r.json()["kind"] == "gig", r.text
    assert _stored(world, r.json()["id"])[:2] == ("gig", "requested")
    r = admin.get("/api/v1/moves", params={"status": "Active", "kind": " GIG "})
    assert r.status_code == 200 and [m["id"] for m in r.json()["moves"]] == [world.mv_o], r.text
    assert admin.get("/api/v1/moves.csv", params={"status": "ACTIVE"}).text.count(world.mv_o) == 1
    review = {"decision": "Continue", "ratings": [{"position": 1, "rating": "Partly_Met"}]}
    r = hugo.post(f"/api/v1/moves/{world.mv_o}/review", json=review)
    assert r.status_code == 200 and r.json()["outcome"]["decision"] == "continue", r.text
    assert _stored(world, world.mv_o) == ("gig", "active", "continue", ["partly_met"])
    r = hugo.post("/api/v1/opportunities", json={**OPPORTUNITY, "kind": "Acting_Role"})
    assert r.status_code == 201, r.text
    with world.db.engine.connect() as conn:
        assert (
            conn.scalar(select(t.opportunities.c.kind).where(t.opportunities.c.id == r.json()["id"])) == "acting_role"
        )
    # The OpenAPI document still lists the canonical values, which every answer carries.
    schema = admin.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert schema["MoveStatus"]["enum"] == STATUSES.split(", ")
    assert schema["ProposeMoveBody"]["properties"]["kind"] == {"$ref": "#/components/schemas/MoveKind"}


def test_api_refusals_name_the_field_and_every_accepted_value(world: World) -> None:
    eva, hugo, admin = world.client("eva"), world.client("hugo"), world.client("admin")
    before = _changes(world)
    bad = {**PROPOSAL, "kind": "Sabbatical", "success_criteria": ["x"]}
    _refused(eva.post("/api/v1/moves", json=bad), "kind", f"unknown move kind 'Sabbatical'; one of: {KINDS}")
    _refused(admin.get("/api/v1/moves?status=finished"), "status", f"unknown status 'finished'; one of: {STATUSES}")
    _refused(admin.get("/api/v1/moves.csv?kind=sabbatical"), "kind", "unknown move kind 'sabbatical'; one of: ")
    review = f"/api/v1/moves/{world.mv_o}/review"
    decisions = "continue, extend, convert, revert, end"
    _refused(
        hugo.post(review, json={"decision": "Ended"}), "decision", f"unknown decision 'Ended'; one of: {decisions}"
    )
    rating = {"decision": "end", "ratings": [{"position": 1, "rating": "maybe"}]}
    _refused(
        hugo.post(review, json=rating), "ratings.0.rating", "unknown rating 'maybe'; one of: met, partly_met, not_met"
    )
    # not a text at all: the enum's own check, which lists the values too
    _refused(hugo.post(review, json={"decision": 3}), "decision", "Input should be 'continue', 'extend'")
    _refused(hugo.post("/api/v1/opportunities", json={**OPPORTUNITY, "kind": "job"}), "kind", "unknown move kind")
    assert _changes(world) == before


def test_forms_read_every_vocabulary_in_any_case_and_refuse_others_naming_the_values(world: World) -> None:
    eva, hugo = world.client("eva"), world.client("hugo")
    before = _changes(world)
    form = {**{k: str(v) for k, v in PROPOSAL.items()}, "person_id": "E", "success_criteria": "x"}
    _refused(eva.post("/moves", data={**form, "kind": "job"}), "kind", f"unknown move kind 'job'; one of: {KINDS}")
    review = f"/moves/{world.mv_o}/review"
    _refused(
        hugo.post(review, data={"decision": "End", "rating_1": "maybe"}),
        "rating_1",
        "unknown rating 'maybe'; one of: met, partly_met, not_met",
    )
    _refused(hugo.post(review, data={"decision": "Ended", "rating_1": "met"}), "decision", "unknown decision 'Ended'")
    _refused(hugo.post("/opportunities", data={**OPPORTUNITY_FORM, "kind": "job"}), "kind", "unknown move kind 'job'")
    assert _changes(world) == before
    r = eva.post("/moves", data={**form, "kind": "Gig"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert _stored(world, r.headers["location"].rsplit("/", 1)[1])[0] == "gig"
    r = hugo.post(review, data={"decision": "CONTINUE", "rating_1": "Met"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert _stored(world, world.mv_o) == ("gig", "active", "continue", ["met"])
    r = hugo.post("/opportunities", data={**OPPORTUNITY_FORM, "kind": "Rotation"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = hugo.get("/moves", params={"status": "Active"}, headers={"accept": "text/html"})
    assert page.status_code == 200 and world.mv_o in page.text
