"""changed_since: an HRIS integration pulls only the people and moves that changed since its last pull, on
the JSON lists and the CSV exports alike; changes to what belongs to a record (check-ins, reviews, skills
written back) change the record."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import update

from micromoves.domain.model import MoveStatus, Rating
from micromoves.services import moves as move_svc
from micromoves.storage import tables as t
from tests.web.conftest import World


def _since(c, what: str, since: dt.datetime) -> list[str]:  # type: ignore[no-untyped-def]
    r = c.get(f"/api/v1/{what}", params={"changed_since": since.isoformat()})
    assert r.status_code == 200, r.text
    return sorted(x["id"] for x in r.json()[what if what == "moves" else "people"])


def _csv_ids(c, path: str, since: dt.datetime) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = c.get(path, params={"changed_since": since.isoformat()})
    assert r.status_code == 200, r.text
    return {row["id"]: row["updated_at"] for row in csv.DictReader(io.StringIO(r.text))}


def test_only_what_changed_since_is_listed(world: World) -> None:
    admin = world.client("admin")
    t0 = dt.datetime.now(dt.UTC)
    assert _since(admin, "moves", t0) == [] and _since(admin, "people", t0) == []
    everyone = admin.get("/api/v1/people").json()["people"]
    assert all(p["updated_at"] is not None for p in everyone)  # set when the world was built

    # A check-in writes no column of the move, but it is a change of the move.
    otto = world.client("otto")
    assert otto.post(f"/api/v1/moves/{world.mv_o}/check-ins", json={"note": "Paired on an incident"}).status_code == 201
    assert _since(admin, "moves", t0) == [world.mv_o]
    listed = admin.get("/api/v1/moves", params={"changed_since": t0.isoformat()}).json()["moves"]
    assert dt.datetime.fromisoformat(listed[0]["updated_at"]) >= t0
    assert _since(admin, "people", t0) == []

    # A status change, and a review that ends a move and writes its skills back to the person: the person
    # changed too.
    t1 = dt.datetime.now(dt.UTC)
    assert world.client("eva").post(f"/api/v1/moves/{world.mv_e}/actions/withdraw", json={}).status_code == 200
    ended = move_svc.review_move(
        world.db,
        world.mv_o,
        reviewer_id="H",
        decision="end",
        ratings=[move_svc.CriterionRating(1, Rating.MET)],
        gains=[move_svc.GainInput("Negotiation", 4.0, 3.0)],
    )
    assert _since(admin, "moves", t1) == sorted([world.mv_e, world.mv_o])
    assert ended.status is MoveStatus.COMPLETED
    assert _since(admin, "people", t1) == ["O"]
    assert set(_csv_ids(admin, "/api/v1/moves.csv", t1)) == {world.mv_e, world.mv_o}
    assert set(_csv_ids(admin, "/api/v1/people.csv", t1)) == {"O"}
    # Everyone still sees only whom they may: eva is not told about otto's move.
    assert _since(world.client("eva"), "moves", t1) == [world.mv_e]


def test_a_record_whose_last_change_is_unknown_is_always_listed(world: World) -> None:
    with world.db.write_engine.begin() as conn:
        conn.execute(update(t.people).where(t.people.c.id == "E2").values(updated_at=None))
    admin = world.client("admin")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert _since(admin, "people", later) == ["E2"]
    assert _csv_ids(admin, "/api/v1/people.csv", later) == {"E2": ""}
    # A CSV's time is written as the JSON's (Z), so it can be passed back as it is.
    stamps = _csv_ids(admin, "/api/v1/people.csv", dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert all(v.endswith("Z") for k, v in stamps.items() if k != "E2"), stamps


def test_changed_since_needs_a_time_zone(world: World) -> None:
    admin = world.client("admin")
    for path in ("/api/v1/moves", "/api/v1/people", "/api/v1/moves.csv", "/api/v1/people.csv"):
        r = admin.get(path, params={"changed_since": "2026-11-27T08:00:00"})
        assert r.status_code == 422, (path, r.text)
        assert "changed_since" in r.text
    for extreme in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        r = admin.get("/api/v1/people", params={"changed_since": extreme})
        assert r.status_code == 422 and "changed_since" in r.text, r.text
    # The status filter and changed_since together
    t0 = dt.datetime.now(dt.UTC)
    r = admin.get("/api/v1/moves", params={"changed_since": t0.isoformat(), "status": MoveStatus.ACTIVE.value})
    assert r.status_code == 200 and r.json()["moves"] == []


def test_an_import_changes_what_it_changes(world: World) -> None:
    """A nightly import of the same export changes nothing; a changed cell changes that record only."""
    admin = world.client("admin")
    export = admin.get("/api/v1/people.csv").text
    people = [r for r in csv.DictReader(io.StringIO(export))]
    header = "person_id,name,email,role_id,manager_id,team,hire_date,location\n"

    def as_file(rows: list[dict[str, str]]) -> str:
        lines = [
            f"{r['id']},{r['name']},{r['email']},{r['role_id']},{r['manager_id']},{r['team_id']},,{r['location']}"
            for r in rows
        ]
        return header + "\n".join(lines) + "\n"

    files = [("files", ("people.csv", as_file(people).encode(), "text/csv"))]
    first = admin.post("/api/v1/imports", files=files)
    assert first.status_code == 200, first.text
    t0 = dt.datetime.now(dt.UTC)
    again = admin.post("/api/v1/imports", files=files).json()
    assert again["unchanged"]["people"] == len(people)
    assert _since(admin, "people", t0) == []
    moved = [{**r, "location": "Lisbon"} if r["id"] == "E2" else r for r in people]
    files = [("files", ("people.csv", as_file(moved).encode(), "text/csv"))]
    assert admin.post("/api/v1/imports", files=files).json()["updated"]["people"] == 1
    assert _since(admin, "people", t0) == ["E2"]
    fresh = header + "P-NEW,Nia Newcomer,nia@example.org,,M,A,,Porto\n"
    t1 = dt.datetime.now(dt.UTC)
    assert (
        admin.post("/api/v1/imports", files=[("files", ("people.csv", fresh.encode(), "text/csv"))]).status_code == 200
    )
    assert _since(admin, "people", t1) == ["P-NEW"]


def test_the_interchange_export_takes_changed_since(world: World) -> None:
    """/api/v1/export/{kind}.csv (what `micromoves export` writes) filters people and moves as the lists do;
    teams, roles and role skills keep no change time and come whole."""
    admin = world.client("admin")
    t0 = dt.datetime.now(dt.UTC)

    def ids(kind: str, since: str) -> list[str]:
        r = admin.get(f"/api/v1/export/{kind}.csv", params={"changed_since": since})
        assert r.status_code == 200, r.text
        key = {"people": "person_id", "moves": "move_id", "teams": "team_id"}[kind]
        return sorted(row[key] for row in csv.DictReader(io.StringIO(r.text)))

    assert ids("people", t0.isoformat()) == [] and ids("moves", t0.isoformat()) == []
    assert (
        world.client("otto").post(f"/api/v1/moves/{world.mv_o}/check-ins", json={"note": "Paired"}).status_code == 201
    )
    assert ids("moves", t0.isoformat()) == [world.mv_o]
    assert ids("teams", t0.isoformat()) == ["A", "B", "ROOT"]
    r = admin.get("/api/v1/export/moves.csv", params={"changed_since": "2026-11-27T08:00:00"})
    assert r.status_code == 422 and "changed_since" in r.text
    # The admin page's download (its browser twin) takes the same filter and gives the same file.
    page = admin.get("/admin/export/moves.csv", params={"changed_since": t0.isoformat()})
    assert (
        page.status_code == 200
        and page.text == admin.get("/api/v1/export/moves.csv", params={"changed_since": t0.isoformat()}).text
    )
    assert [row["move_id"] for row in csv.DictReader(io.StringIO(page.text))] == [world.mv_o]


def test_a_renamed_team_changes_the_people_and_moves_showing_its_name(world: World) -> None:
    """The directory shows each person's team by name, the moves list each move's host team: a team renamed
    by an import of teams.csv changes them for an integration, and only them."""
    admin = world.client("admin")
    people = admin.get("/api/v1/people").json()["people"]
    moves = admin.get("/api/v1/moves").json()["moves"]
    in_b = sorted(p["id"] for p in people if p["team"] == "Team B")
    hosted_by_b = sorted(m["id"] for m in moves if m["host_team"] == "Team B")
    assert in_b == ["H", "O"] and world.mv_e in hosted_by_b
    t0 = dt.datetime.now(dt.UTC)
    teams = "team_id,name,parent_id,function,manager_id\nB,Platform,ROOT,,H\n"
    r = admin.post("/api/v1/imports", files=[("files", ("teams.csv", teams.encode(), "text/csv"))])
    assert r.status_code == 200 and r.json()["updated"]["teams"] == 1, r.text
    assert _since(admin, "people", t0) == in_b
    assert _since(admin, "moves", t0) == hosted_by_b
    listed = admin.get("/api/v1/people.csv", params={"changed_since": t0.isoformat()}).text
    assert {row["team"] for row in csv.DictReader(io.StringIO(listed))} == {"Platform"}
