"""Imports over the API (multipart, for an HRIS integration) and on the admin page: one code path with the
CLI's import (services.imports), all or nothing, admins only."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from micromoves.storage import tables as t
from tests.web.conftest import World

PEOPLE = (
    "person_id,name,email,role_id,manager_id,team,hire_date,location\n"
    "P-NEW,Nia Newcomer,nia@example.org,,M,A,2026-01-05,Lisbon\n"
)
MOVES = (
    "move_id,person_id,kind,title,host_team,start,end,percent_time,status,target_role_id,success_criteria,"
    "outcome,skills_gained\n"
    "MV-NEW,P-NEW,gig,Data clean-up gig,B,2026-02-02,2026-03-27,20,completed,,Cleaned the CRM export,end,\n"
)


def _counts(world: World) -> tuple[int, int, int]:
    with world.db.engine.connect() as conn:
        return (
            int(conn.scalar(select(func.count()).select_from(t.people)) or 0),
            int(conn.scalar(select(func.count()).select_from(t.moves)) or 0),
            int(conn.scalar(select(func.count()).where(t.audit_events.c.action.like("%import%"))) or 0),
        )


def _files(**named: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, text.encode(), "text/csv")) for name, text in named.items()]


def test_an_admin_imports_people_and_moves_over_the_api(world: World) -> None:
    c = world.client("admin")
    before = _counts(world)
    r = c.post("/api/v1/imports", files=_files(**{"people.csv": PEOPLE, "moves.csv": MOVES}))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"]["people"], body["created"]["moves"]) == (1, 1)
    assert body["teams_created"] == []
    with world.db.engine.connect() as conn:
        person = conn.execute(select(t.people.c.name, t.people.c.manager_id).where(t.people.c.id == "P-NEW")).one()
        move = conn.execute(select(t.moves.c.status, t.moves.c.host_team_id).where(t.moves.c.id == "MV-NEW")).one()
        actors = set(conn.scalars(select(t.audit_events.c.actor).where(t.audit_events.c.action.like("%import%"))))
    assert tuple(person) == ("Nia Newcomer", "M")
    assert (move.status.value if hasattr(move.status, "value") else move.status, move.host_team_id) == (
        "completed",
        "B",
    )
    assert actors == {"user:admin"}  # the account that sent the files, as the web records every change
    assert _counts(world)[:2] == (before[0] + 1, before[1] + 1)
    # The same files again: records are matched by id, nothing changes, and the answer says so.
    again = c.post("/api/v1/imports", files=_files(**{"people.csv": PEOPLE, "moves.csv": MOVES})).json()
    assert (again["created"]["people"], again["unchanged"]["people"], again["unchanged"]["moves"]) == (0, 1, 1)


def test_a_rejected_import_lists_every_problem_and_writes_nothing(world: World) -> None:
    c = world.client("admin")
    bad_moves = MOVES.replace(",20,completed,", ",250,finished,")
    before = _counts(world)
    r = c.post("/api/v1/imports", files=_files(**{"people.csv": PEOPLE, "moves.csv": bad_moves}))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "import_rejected"
    assert "\n" not in error["message"] and "2 problem" in error["message"]
    issues = {(i["file"], i["row"], i["column"]) for i in error["details"]["issues"]}
    assert issues == {("moves.csv", 2, "percent_time"), ("moves.csv", 2, "status")}
    assert error["details"]["issues_total"] == 2
    # people.csv was fine, but an import is all or nothing
    assert _counts(world)[:2] == before[:2]


def test_only_admins_import(world: World) -> None:
    before = _counts(world)
    for user in ("hr", "mira", "eva"):
        r = world.client(user).post("/api/v1/imports", files=_files(**{"people.csv": PEOPLE}))
        assert (r.status_code, r.json()["error"]["message"]) == (403, "only administrators may import data")
    assert world.client().post("/api/v1/imports", files=_files(**{"people.csv": PEOPLE})).status_code == 401
    assert _counts(world)[:2] == before[:2]
    with world.db.engine.connect() as conn:
        denied = conn.scalars(
            select(t.audit_events.c.details).where(
                t.audit_events.c.action == "access.denied", t.audit_events.c.entity_type == "admin_area"
            )
        ).all()
    assert sorted(d["user"] for d in denied if d["attempted"] == "import data") == ["eva", "hr", "mira"]


def test_the_api_wants_files_with_safe_names(world: World) -> None:
    c = world.client("admin")
    json_body = c.post("/api/v1/imports", json={"files": PEOPLE})
    assert (json_body.status_code, json_body.json()["error"]["code"]) == (415, "unsupported_media_type")
    for name, why in [("people.exe", "named like"), (".people.csv", "named like"), ("peo<ple>.csv", "named like")]:
        r = c.post("/api/v1/imports", files=_files(**{name: PEOPLE}))
        assert r.status_code == 422 and why in r.json()["error"]["message"], (name, r.text)
        assert r.json()["error"]["details"]["field"] == "files"
    twice = c.post("/api/v1/imports", files=[*_files(**{"people.csv": PEOPLE}), *_files(**{"PEOPLE.csv": PEOPLE})])
    assert twice.status_code == 422 and "sent twice" in twice.json()["error"]["message"]
    kind = c.post("/api/v1/imports", files=_files(**{"hris.csv": PEOPLE}), data={"kind": "payroll"})
    assert (kind.status_code, kind.json()["error"]["details"]["field"]) == (422, "kind")
    # A client that sends a path: its base name is used (and named in problems); the path chooses nothing.
    r = c.post("/api/v1/imports", files=_files(**{"C:\\exports\\hris.csv": PEOPLE}), data={"kind": "people"})
    assert r.status_code == 200 and r.json()["created"]["people"] == 1, r.text
    bad = c.post(
        "/api/v1/imports",
        files=_files(**{"../../x/hris.csv": PEOPLE.replace("2026-01-05", "soon")}),
        data={"kind": "people"},
    )
    assert [i["file"] for i in bad.json()["error"]["details"]["issues"]] == ["hris.csv"]


def test_uploads_past_the_limit_are_refused_before_anything_is_written(world: World) -> None:
    app_settings = world.app.state.settings  # type: ignore[attr-defined]
    limit = len(PEOPLE) + 10
    world.app.state.settings = app_settings.model_copy(update={"import_upload_max_bytes": limit})  # type: ignore[attr-defined]
    before = _counts(world)
    # Within the framing allowance of the Content-Length check, past the limit once the files are counted.
    r = world.client("admin").post("/api/v1/imports", files=_files(**{"people.csv": PEOPLE, "moves.csv": MOVES}))
    assert r.status_code == 413 and "larger than the" in r.json()["error"]["message"], r.text
    # Far past it: refused on the Content-Length alone, before the caller is even identified.
    big = _files(**{"people.csv": PEOPLE + "#" * 100_000})
    for client in (world.client("admin"), world.client()):
        r = client.post("/api/v1/imports", files=big)
        assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large"), r.text
    # A body of unknown length (chunked) is not read at all.
    chunked = world.client("admin").post(
        "/api/v1/imports",
        content=iter([b"--x\r\n"]),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert (chunked.status_code, chunked.json()["error"]["code"]) == (411, "length_required")
    assert _counts(world)[:2] == before[:2]


def test_the_form_is_read_strictly(world: World) -> None:
    c = world.client("admin")
    before = _counts(world)
    typo = c.post("/api/v1/imports", files=_files(**{"people.csv": PEOPLE}), data={"known_team": "true"})
    assert (typo.status_code, typo.json()["error"]["details"]["field"]) == (422, "known_team")
    flag = c.post("/api/v1/imports", files=_files(**{"people.csv": PEOPLE}), data={"known_teams": "maybe"})
    assert (flag.status_code, flag.json()["error"]["details"]["field"]) == (422, "known_teams")
    text = c.post("/api/v1/imports", files=[("files", (None, b"person_id,name"))])
    assert text.status_code == 422 and text.json()["error"]["details"]["field"] == "files"
    keyed = c.post("/api/v1/imports", files=_files(**{"people.csv": PEOPLE}), headers={"Idempotency-Key": "import-1"})
    assert keyed.status_code == 422 and keyed.json()["error"]["details"]["field"] == "Idempotency-Key"
    json_kind = c.post(
        "/api/v1/imports",
        files=[("files", ("org.json", b'{"people": []}', "application/json"))],
        data={"kind": "people"},
    )
    assert (json_kind.status_code, json_kind.json()["error"]["details"]["field"]) == (422, "kind")
    garbage = c.post(
        "/api/v1/imports", content=b"garbage", headers={"content-type": "multipart/form-data; boundary=xyz"}
    )
    assert garbage.status_code == 422, garbage.text
    too_many = c.post(
        "/api/v1/imports", files=[("files", (f"p{i}.csv", PEOPLE.encode(), "text/csv")) for i in range(21)]
    )
    assert too_many.status_code == 422 and "20" in too_many.json()["error"]["message"], too_many.text
    assert _counts(world)[:2] == before[:2]


def test_the_import_page(world: World) -> None:
    c = world.client("admin")
    c.headers["accept"] = "text/html"
    form = c.get("/admin/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    csrf = c.headers["x-csrf-token"]
    del c.headers["x-csrf-token"]  # a browser sends the form field, not the header
    evil = PEOPLE.replace("2026-01-05", "<script>x</script>")
    rejected = c.post("/admin/import", files=_files(**{"people.csv": evil}), data={"csrf_token": csrf})
    assert rejected.status_code == 422
    assert "Import rejected, nothing written: 1 problem" in rejected.text
    assert "<script>x</script>" not in rejected.text and html.escape("<script>") in rejected.text
    done = c.post("/admin/import", files=_files(**{"people.csv": PEOPLE}), data={"csrf_token": csrf})
    assert done.status_code == 200 and 'id="import-result"' in done.text
    assert "<td>people</td><td>1</td><td>0</td><td>0</td>" in done.text
    refused = world.client("hr").get("/admin/import")
    assert refused.status_code == 403


def test_the_interchange_export_imports_back_unchanged_over_the_api(world: World) -> None:
    admin = world.client("admin")
    admin.post(
        "/api/v1/imports",
        files=_files(**{"people.csv": PEOPLE.replace("Nia Newcomer", "=HYPERLINK(1)"), "moves.csv": MOVES}),
    )
    exported = {}
    for kind in ("roles", "role_skills", "people", "moves"):
        r = admin.get(f"/api/v1/export/{kind}.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
        exported[f"{kind}.csv"] = r.text
    # Guarded once: the import takes exactly one apostrophe off.
    assert ",'=HYPERLINK(1)," in exported["people.csv"]
    back = admin.post("/api/v1/imports", files=_files(**exported))
    assert back.status_code == 200, back.text
    body = back.json()
    assert sum(body["created"].values()) == 0 and sum(body["updated"].values()) == 0, body
    assert body["unchanged"]["people"] == 7 and body["unchanged"]["moves"] == 4
    with world.db.engine.connect() as conn:
        assert conn.scalar(select(t.people.c.name).where(t.people.c.id == "P-NEW")) == "=HYPERLINK(1)"
    # teams.csv too (names, parents, functions, managers: what rebuilds the organisation elsewhere).
    teams = admin.get("/api/v1/export/teams.csv")
    assert teams.status_code == 200 and teams.text.splitlines()[0] == "team_id,name,parent_id,function,manager_id"
    assert admin.get("/api/v1/export/nope.csv").status_code == 422
    refused = world.client("hr").get("/api/v1/export/people.csv")
    assert (refused.status_code, refused.json()["error"]["message"]) == (403, "only administrators may export data")


def test_a_non_admin_browser_session_is_refused_before_its_upload_is_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CSRF check read a form posted with the token as a field (a browser's) whole, files spooled to
    disk, before the route refused a non-admin; and its cached parse skipped the import's own limits."""
    from starlette.requests import Request

    reads: list[dict[str, object]] = []
    real_form = Request.form

    def counting_form(self: Request, **limits: object):  # type: ignore[no-untyped-def]
        reads.append(limits)
        return real_form(self, **limits)  # type: ignore[arg-type]

    monkeypatch.setattr(Request, "form", counting_form)
    eva = world.client("eva")
    csrf = eva.headers.pop("x-csrf-token")
    many = [("files", (f"p{i}.csv", PEOPLE.encode(), "text/csv")) for i in range(50)]
    for path in ("/admin/import", "/api/v1/imports"):
        r = eva.post(path, files=many, data={"csrf_token": csrf})
        assert r.status_code == 403, r.text
    assert reads == []
    # An admin's browser session: the form is read once, with the import's limits, and its token checked.
    admin = world.client("admin")
    token = admin.headers.pop("x-csrf-token")
    assert (
        admin.post("/admin/import", files=_files(**{"people.csv": PEOPLE}), data={"csrf_token": "forged"}).status_code
        == 403
    )
    done = admin.post("/admin/import", files=_files(**{"people.csv": PEOPLE}), data={"csrf_token": token})
    assert done.status_code == 200, done.text
    assert reads[-1]["max_files"] == 20


def test_text_fields_sent_as_files_are_refused(world: World) -> None:
    c = world.client("admin")
    r = c.post(
        "/api/v1/imports", files=[*_files(**{"people.csv": PEOPLE}), ("known_teams", ("x", b"true", "text/plain"))]
    )
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "known_teams")
