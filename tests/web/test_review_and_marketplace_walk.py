"""Walk-through of the web app: review history, convert refusals, re-applying, an admin's dashboard, skills that
share a name, and the opportunity form for someone who may create none. Each case failed before its fix."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from micromoves.services import org
from micromoves.storage import tables as t
from tests.web.conftest import World
from tests.web.test_authz import _changes

TODAY = dt.date.today()
HTML = {"accept": "text/html"}


def _refused(response, field: str | None, status: int = 422) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["details"].get("field") == field, error
    return error  # type: ignore[no-any-return]


def _make_trial(world: World, kind: str = "rotation") -> None:
    """MV-O (otto's, active, reviewed by hugo) becomes a trial of a role otto may be converted into."""
    org.add_role(world.db, id="R-ARCH", title="Data Architect", actor="test")
    with world.db.write_engine.begin() as conn:
        conn.execute(t.moves.update().where(t.moves.c.id == world.mv_o).values(kind=kind, target_role_id="R-ARCH"))


def _otto_role_and_move(world: World) -> tuple[str | None, str]:
    with world.db.engine.connect() as conn:
        role = conn.scalar(select(t.people.c.role_id).where(t.people.c.id == "O"))
        status = conn.scalar(select(t.moves.c.status).where(t.moves.c.id == world.mv_o))
    return role, str(status)


def test_convert_is_refused_when_no_criterion_was_met(world: World) -> None:
    _make_trial(world)
    hugo = world.client("hugo")
    before, role_before = _changes(world), _otto_role_and_move(world)
    not_met = [{"position": 1, "rating": "not_met"}]
    error = _refused(
        hugo.post(f"/api/v1/moves/{world.mv_o}/review", json={"decision": "convert", "ratings": not_met}), "decision"
    )
    assert "met or partly met" in error["message"], error
    # the form takes the same path
    form = {"decision": "convert", "rating_1": "not_met"}
    r = hugo.post(f"/moves/{world.mv_o}/review", data=form, follow_redirects=False)
    _refused(r, "decision")
    assert _changes(world) == before and _otto_role_and_move(world) == role_before == (None, "active")
    # partly met is enough
    partly = [{"position": 1, "rating": "partly_met"}]
    ok = hugo.post(f"/api/v1/moves/{world.mv_o}/review", json={"decision": "convert", "ratings": partly})
    assert ok.status_code == 200, ok.text
    assert _otto_role_and_move(world) == ("R-ARCH", "completed")


def test_a_conversion_shows_in_the_role_history_of_the_person_page_and_its_twin(world: World) -> None:
    """The person page and its JSON showed only the current role; the CLI alone showed hire → conversion."""
    _make_trial(world)
    org.add_role(world.db, id="R-OPS", title="Operations Analyst", actor="test")
    with world.db.write_engine.begin() as conn:
        hired = dt.date(2020, 1, 6)
        conn.execute(t.role_assignments.insert().values(person_id="O", role_id="R-OPS", start=hired, reason="hire"))
        conn.execute(t.people.update().where(t.people.c.id == "O").values(role_id="R-OPS"))
    hugo = world.client("hugo")
    assert "role-history" not in hugo.get("/people/O", headers=HTML).text  # one role: nothing to tell
    partly = [{"position": 1, "rating": "partly_met"}]
    assert hugo.post(f"/api/v1/moves/{world.mv_o}/review", json={"decision": "convert", "ratings": partly}).is_success
    history = hugo.get("/api/v1/people/O").json()["role_history"]
    assert [(r["role"], r["reason"], r["move_id"], r["end"] is None) for r in history] == [
        ("Operations Analyst", "hire", None, False),
        ("Data Architect", "conversion", world.mv_o, True),
    ]
    assert world.client("otto").get("/api/v1/me").json()["role_history"] == history
    page = hugo.get("/people/O", headers=HTML).text
    assert 'id="role-history"' in page and f'href="/moves/{world.mv_o}"' in page
    assert page.index("Data Architect</td>") < page.index("Operations Analyst</td>")  # newest first


def test_convert_is_neither_offered_nor_taken_for_a_move_that_is_not_a_trial_of_a_role(world: World) -> None:
    _make_trial(world, kind="shadowing")
    hugo = world.client("hugo")
    shown = hugo.get(f"/api/v1/moves/{world.mv_o}").json()
    assert shown["decisions"] == ["end", "continue", "extend", "revert"], shown["decisions"]
    assert 'value="convert"' not in hugo.get(f"/moves/{world.mv_o}", headers=HTML).text
    before = _changes(world)
    met = [{"position": 1, "rating": "met"}]
    error = _refused(
        hugo.post(f"/api/v1/moves/{world.mv_o}/review", json={"decision": "convert", "ratings": met}), "decision"
    )
    assert "shadowing is not a trial of a role" in error["message"], error
    assert _changes(world) == before and _otto_role_and_move(world) == (None, "active")
    # a rotation is one: convert is offered
    with world.db.write_engine.begin() as conn:
        conn.execute(t.moves.update().where(t.moves.c.id == world.mv_o).values(kind="rotation"))
    assert "convert" in hugo.get(f"/api/v1/moves/{world.mv_o}").json()["decisions"]


def test_an_account_without_a_person_has_a_dashboard_and_its_json_twin(world: World) -> None:
    """GET /api/v1/me was a 404 for an admin (no linked person) and / redirected elsewhere."""
    admin = world.client("admin")
    me = admin.get("/api/v1/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["account"] == {"id": world.users["admin"], "username": "admin", "access": "admin", "person_id": None}
    assert body["id"] is None and body["name"] is None and body["plan"] is None and body["may_propose"] is False
    for section in ("active_moves", "other_moves", "due_check_ins", "skills", "skill_growth"):
        assert body[section] == [], section
    page = admin.get("/", headers=HTML, follow_redirects=False)
    assert page.status_code == 200, page.status_code
    assert 'id="account-name">admin<' in page.text and "not linked to a person" in page.text
    assert 'href="/admin/users"' in page.text
    hr = world.client("hr").get("/", headers=HTML, follow_redirects=False)
    assert hr.status_code == 200 and "not linked to a person" in hr.text and 'href="/admin/users"' not in hr.text
    # an account with a person: the same document, its account and its person's page
    eva = world.client("eva").get("/api/v1/me").json()
    assert eva["account"]["person_id"] == "E" and eva["id"] == "E" and eva["name"] == "Eva Employee"
    assert eva["skills"] == world.client("eva").get("/api/v1/people/E").json()["skills"]


def test_the_opportunity_form_is_refused_to_someone_who_may_offer_for_no_team(world: World) -> None:
    """An employee opened /opportunities/new, got an empty team list, and a 403 only on submitting."""
    eva = world.client("eva")
    error = _refused(eva.get("/api/v1/opportunities/new"), None, status=403)
    assert error["code"] == "forbidden" and "no team" in error["message"], error
    page = eva.get("/opportunities/new", headers=HTML)
    assert page.status_code == 403 and "no team" in page.text and "<form" not in page.text.split("<main>")[1]
    assert eva.get("/api/v1/opportunities").json()["may_offer"] is False
    assert 'href="/opportunities/new"' not in eva.get("/opportunities", headers=HTML).text
    e = t.audit_events.c
    with world.db.engine.connect() as conn:
        denials = conn.scalar(
            select(func.count()).where(
                e.action == "access.denied", e.entity_type == "opportunity", e.entity_id == "new"
            )
        )
    assert denials == 2  # the page and its twin, each audited as every refusal is
    # the host manager has the form, its team and the link
    hugo = world.client("hugo")
    assert [x["id"] for x in hugo.get("/api/v1/opportunities/new").json()["teams"]] == ["B"]
    assert hugo.get("/api/v1/opportunities").json()["may_offer"] is True
    assert 'href="/opportunities/new"' in hugo.get("/opportunities", headers=HTML).text


def _application(world: World, application_id: int) -> dict:  # type: ignore[type-arg]
    with world.db.engine.connect() as conn:
        row = conn.execute(select(t.applications).where(t.applications.c.id == application_id)).one()
    return dict(row._mapping)


def test_a_withdrawn_or_declined_application_can_be_made_again_a_rejected_one_cannot(world: World) -> None:
    """Re-applying after one's own withdrawal was a 409 'you already applied (application N, withdrawn)'."""
    eva, hugo = world.client("eva"), world.client("hugo")
    opp, app_id = world.opp_open, world.application
    actions = f"/api/v1/applications/{app_id}/actions"
    assert eva.post(f"{actions}/withdraw", json={}).status_code == 200
    assert "apply" in eva.get(f"/api/v1/opportunities/{opp}").json()["actions"]
    assert f'action="/opportunities/{opp}/apply"' in eva.get(f"/opportunities/{opp}", headers=HTML).text
    again = eva.post(f"/api/v1/opportunities/{opp}/applications", json={"note": "still keen"})
    assert again.status_code == 201, again.text
    assert again.json()["application_id"] == app_id  # the same row, renewed
    row = _application(world, app_id)
    assert (row["status"], row["note"], row["decided_at"], row["decided_by"]) == ("applied", "still keen", None, None)
    e = t.audit_events.c
    with world.db.engine.connect() as conn:
        details = conn.scalar(select(e.details).where(e.action == "application.reapplied", e.entity_id == str(app_id)))
    assert details["previous"]["status"] == "withdrawn" and details["previous"]["note"] == "keen", details
    assert "apply" not in eva.get(f"/api/v1/opportunities/{opp}").json()["actions"]  # applied: not twice
    _refused(eva.post(f"/api/v1/opportunities/{opp}/applications", json={}), "opportunity_id", 409)
    # an offer declined: may apply again (by the form this time)
    assert hugo.post(f"{actions}/offer", json={}).status_code == 200
    assert eva.post(f"{actions}/decline", json={}).status_code == 200
    r = eva.post(f"/opportunities/{opp}/apply", data={"note": "third time"}, headers=HTML, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert _application(world, app_id)["status"] == "applied"
    # rejected by the host: final
    assert hugo.post(f"{actions}/reject", json={}).status_code == 200
    assert "apply" not in eva.get(f"/api/v1/opportunities/{opp}").json()["actions"]
    error = _refused(eva.post(f"/api/v1/opportunities/{opp}/applications", json={}), "opportunity_id", 409)
    assert f"application {app_id}, rejected" in error["message"], error
    assert _application(world, app_id)["status"] == "rejected"


def test_applying_again_waits_for_an_open_opportunity_before_its_deadline(world: World) -> None:
    eva = world.client("eva")
    opp = world.opp_open
    assert eva.post(f"/api/v1/applications/{world.application}/actions/withdraw", json={}).status_code == 200
    with world.db.write_engine.begin() as conn:
        conn.execute(
            t.opportunities.update()
            .where(t.opportunities.c.id == opp)
            .values(application_deadline=TODAY - dt.timedelta(days=1))
        )
    assert "apply" not in eva.get(f"/api/v1/opportunities/{opp}").json()["actions"]
    _refused(eva.post(f"/api/v1/opportunities/{opp}/applications", json={}), "application_deadline", 409)
    assert _application(world, world.application)["status"] == "withdrawn"


def test_skills_that_share_a_name_are_told_apart_and_a_review_can_name_either(world: World) -> None:
    """The dashboard listed 'Mathematics 6.6' and 'Mathematics 4.0' (an O*NET skill and a knowledge area), and
    a gain 'Mathematics = 5' was refused as ambiguous citing ids the page never showed."""
    for skill_id, level in (("2.A.1.e", 6.6), ("2.C.4.a", 4.0), ("2.A.1.a", 3.0)):
        org.assess_skill(world.db, person_id="O", skill=skill_id, level=level, provenance="manager", actor="H")
    otto, hugo = world.client("otto"), world.client("hugo")
    for client, path in ((otto, "/api/v1/me"), (hugo, "/api/v1/people/O")):
        skills = {s["skill_id"]: s for s in client.get(path).json()["skills"]}
        assert skills["2.A.1.e"]["label"] == "Mathematics (skill 2.A.1.e)", skills["2.A.1.e"]
        assert (skills["2.C.4.a"]["label"], skills["2.C.4.a"]["kind"]) == (
            "Mathematics (knowledge 2.C.4.a)",
            "knowledge",
        )
        assert skills["2.A.1.a"]["label"] == skills["2.A.1.a"]["name"] == "Reading Comprehension"  # not shared
    for client, path in ((otto, "/"), (hugo, "/people/O")):
        page = client.get(path, headers=HTML).text
        assert "<td>Mathematics (skill 2.A.1.e)</td><td>6.6</td>" in page
        assert "<td>Mathematics (knowledge 2.C.4.a)</td><td>4.0</td>" in page
    # Plans, marketplace reasons and the congestion heatmap name them so too (they said "Mathematics" twice).
    from micromoves.services.planning import load_catalogue

    with world.db.engine.connect() as conn:
        names = load_catalogue(conn).skill_names
    assert (names["2.C.4.a"], names["2.A.1.e"], names["2.A.1.a"]) == (
        "Mathematics (knowledge 2.C.4.a)",
        "Mathematics (skill 2.A.1.e)",
        "Reading Comprehension",
    )
    # the refusal names them as the page does, and the page's words are accepted
    review = {"decision": "continue", "ratings": [{"position": 1, "rating": "met"}]}
    error = _refused(
        hugo.post(
            f"/api/v1/moves/{world.mv_o}/review", json={**review, "gains": [{"skill": "Mathematics", "level_after": 5}]}
        ),
        "gains",
    )
    assert "Mathematics (skill 2.A.1.e), Mathematics (knowledge 2.C.4.a)" in error["message"], error
    form = {"decision": "continue", "rating_1": "met", "gains": "Mathematics (knowledge 2.C.4.a) = 5"}
    # A level off the scale is refused naming the line it was typed on (it named only "level_after").
    too_high = {**form, "gains": "Mathematics (knowledge 2.C.4.a) = 7.5"}
    error = _refused(hugo.post(f"/moves/{world.mv_o}/review", data=too_high), "gains")
    assert error["message"] == "gains: levels are 0–7 (the O*NET scale), got 'Mathematics (knowledge 2.C.4.a) = 7.5'"
    assert hugo.post(f"/moves/{world.mv_o}/review", data=form, follow_redirects=False).status_code == 303
    moved = hugo.get(f"/api/v1/moves/{world.mv_o}").json()
    assert [(g["skill"], g["level_after"]) for g in moved["skill_gains"]] == [("Mathematics (knowledge 2.C.4.a)", 5)]


def test_the_review_form_asks_for_the_level_after_of_each_skill_the_move_builds(world: World) -> None:
    """The form had one free-text box: a reviewer had to know the skills' exact names and the levels before."""
    org.assess_skill(world.db, person_id="O", skill="2.A.1.a", level=3.0, provenance="manager", actor="H")
    with world.db.write_engine.begin() as conn:
        builds = ["2.A.1.a", "2.C.4.a"]  # Reading Comprehension (assessed), Mathematics knowledge (never)
        conn.execute(t.moves.update().where(t.moves.c.id == world.mv_o).values(skills_targeted=builds))
    hugo, otto = world.client("hugo"), world.client("otto")
    detail = hugo.get(f"/api/v1/moves/{world.mv_o}").json()
    assert [(g["skill_id"], g["skill"], g["level_now"]) for g in detail["gain_suggestions"]] == [
        ("2.A.1.a", "Reading Comprehension", 3.0),
        ("2.C.4.a", "Mathematics (knowledge 2.C.4.a)", None),
    ]
    page = hugo.get(f"/moves/{world.mv_o}", headers=HTML).text
    assert 'name="gain_level_1"' in page and 'value="2.A.1.a"' in page and "now 3.0" in page
    assert "not assessed" in page and "Other skills gained" in page
    assert otto.get(f"/api/v1/moves/{world.mv_o}").json()["gain_suggestions"] == []  # he does not review it
    form = {"decision": "continue", "rating_1": "met", "gain_skill_1": "2.A.1.a", "gain_skill_2": "2.C.4.a"}
    error = _refused(hugo.post(f"/moves/{world.mv_o}/review", data={**form, "gain_level_1": "9"}), "gain_level_1")
    assert error["message"] == "gains: levels are 0–7 (the O*NET scale), got '9'"
    error = _refused(hugo.post(f"/moves/{world.mv_o}/review", data={**form, "gain_level_2": "high"}), "gain_level_2")
    assert error["message"] == "gains: the level after is a number, got 'high'"
    done = {**form, "gain_level_1": "3.6", "gain_level_2": "", "gains": "Mathematics (skill 2.A.1.e) = 2"}
    assert hugo.post(f"/moves/{world.mv_o}/review", data=done, follow_redirects=False).status_code == 303
    moved = hugo.get(f"/api/v1/moves/{world.mv_o}").json()
    assert [(g["skill"], g["level_before"], g["level_after"]) for g in moved["skill_gains"]] == [
        ("Reading Comprehension", 3.0, 3.6),
        ("Mathematics (skill 2.A.1.e)", 0.0, 2.0),
    ]


def test_every_review_is_kept_with_confidential_notes_hidden_as_the_outcomes(world: World) -> None:
    """A second review (two 'continue' reviews) overwrote the first one's notes, confidential flag and decision."""
    hugo = world.client("hugo")  # otto's manager reviews his move; otto may not read confidential notes
    review = f"/api/v1/moves/{world.mv_o}/review"
    first = {
        "decision": "continue",
        "ratings": [{"position": 1, "rating": "not_met", "evidence": "one incident so far"}],
        "gains": [{"skill": "2.A.1.a", "level_after": 3}],
        "notes": "SECRET-FIRST: needs more pairing",
        "confidential": True,
    }
    assert hugo.post(review, json=first).status_code == 200
    second = {"decision": "continue", "ratings": [{"position": 1, "rating": "partly_met"}], "notes": "open second"}
    assert hugo.post(review, json=second).status_code == 200
    with world.db.engine.connect() as conn:
        kept = conn.execute(select(t.reviews).where(t.reviews.c.move_id == world.mv_o).order_by(t.reviews.c.id)).all()
        outcome = conn.execute(select(t.outcomes).where(t.outcomes.c.move_id == world.mv_o)).one()
    assert [(r.decision, r.notes, r.confidential, r.reviewer_id) for r in kept] == [
        ("continue", "SECRET-FIRST: needs more pairing", True, "H")
    ]
    assert kept[0].ratings == {
        "1": {"rating": "not_met", "evidence": "one incident so far", "statement": "Pair on two incidents"}
    }
    assert kept[0].gains == [{"skill_id": "2.A.1.a", "level_before": 0.0, "level_after": 3.0}]
    assert (outcome.notes, outcome.confidential) == ("open second", False)
    # the manager reads both; the person sees the earlier review without its confidential notes
    mine = hugo.get(f"/api/v1/moves/{world.mv_o}").json()
    [earlier] = mine["earlier_reviews"]
    assert (earlier["decision"], earlier["notes"], earlier["confidential"]) == (
        "continue",
        "SECRET-FIRST: needs more pairing",
        True,
    )
    assert earlier["criteria"] == [
        {"position": 1, "statement": "Pair on two incidents", "rating": "not_met", "evidence": "one incident so far"}
    ]
    assert earlier["skill_gains"] == [{"skill": "Reading Comprehension", "level_before": 0.0, "level_after": 3.0}]
    assert "SECRET-FIRST" in hugo.get(f"/moves/{world.mv_o}", headers=HTML).text
    otto = world.client("otto")
    his = otto.get(f"/api/v1/moves/{world.mv_o}").json()
    assert his["earlier_reviews"][0]["notes"] is None and his["earlier_reviews"][0]["confidential"] is True
    assert his["outcome"]["notes"] == "open second"
    page = otto.get(f"/moves/{world.mv_o}", headers=HTML).text
    assert "SECRET-FIRST" not in page and 'id="earlier-reviews"' in page and "Review notes are confidential." in page
    # the third review keeps the second
    third = {"decision": "end", "ratings": [{"position": 1, "rating": "met"}]}
    assert hugo.post(review, json=third).status_code == 200
    done = hugo.get(f"/api/v1/moves/{world.mv_o}").json()
    assert [e["notes"] for e in done["earlier_reviews"]] == ["SECRET-FIRST: needs more pairing", "open second"]
    assert done["outcome"]["decision"] == "end"


def test_a_request_says_whose_approval_it_waits_for(world: World) -> None:
    """The request page said only "No decisions yet": not that the line manager and the host team's manager
    were to decide, nor who stands in where a team has no manager."""
    eva = world.client("eva")
    page = eva.get(f"/api/v1/moves/{world.mv_e}").json()
    assert page["waiting_for"] == ["line manager: Mira Manager", "host team's manager: Hugo Host"]
    assert world.client("mira").post(f"/api/v1/moves/{world.mv_e}/actions/approve", json={}).status_code == 200
    assert eva.get(f"/api/v1/moves/{world.mv_e}").json()["waiting_for"] == ["host team's manager: Hugo Host"]
    html = eva.get(f"/moves/{world.mv_e}", headers={"accept": "text/html"}).text
    assert "Waiting for: host team&#39;s manager: Hugo Host." in html
    assert world.client("hugo").post(f"/api/v1/moves/{world.mv_e}/actions/approve", json={}).status_code == 200
    assert eva.get(f"/api/v1/moves/{world.mv_e}").json()["waiting_for"] == []
    # No host team: someone stands in for its manager.
    soon = dt.date.today() + dt.timedelta(weeks=3)
    body = {
        "kind": "course",
        "title": "Course",
        "start": soon.isoformat(),
        "end": (soon + dt.timedelta(weeks=2)).isoformat(),
    }
    made = eva.post("/api/v1/moves", json={**body, "percent_time": 10, "success_criteria": ["Pass it"]}).json()
    assert made["waiting_for"] == [
        "line manager: Mira Manager",
        "host team's manager: a manager further up or HR (standing in for the host team's manager)",
    ]


def test_a_host_manager_reviewing_is_not_shown_the_persons_profile_levels(world: World) -> None:
    """Hugo hosts eva's move and may review it, but may not open her page: the review form showed him her
    profile's levels anyway."""
    org.assess_skill(world.db, person_id="E", skill="2.A.1.a", level=3.0, provenance="manager", actor="M")
    with world.db.write_engine.begin() as conn:
        conn.execute(
            t.moves.update().where(t.moves.c.id == world.mv_e).values(status="active", skills_targeted=["2.A.1.a"])
        )
    hugo = world.client("hugo")
    assert hugo.get("/api/v1/people/E").status_code == 404
    detail = hugo.get(f"/api/v1/moves/{world.mv_e}").json()
    assert "review" in detail["actions"]
    assert [(g["skill_id"], g["level_now"], g["level_shown"]) for g in detail["gain_suggestions"]] == [
        ("2.A.1.a", None, False)
    ]
    assert "level now not shown" in hugo.get(f"/moves/{world.mv_e}", headers=HTML).text
    mira = world.client("mira").get(f"/api/v1/moves/{world.mv_e}").json()  # her line manager sees it
    assert [(g["level_now"], g["level_shown"]) for g in mira["gain_suggestions"]] == [(3.0, True)]
