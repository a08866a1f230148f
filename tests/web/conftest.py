"""A small organisation with one account per kind of user, for the web and authorization tests.

    ROOT (director D) ─┬─ team A (manager M): employees E, E2
                       └─ team B (manager H, the host manager): employee O

Move ``mv_e`` is E's, hosted by team B (so H hosts it), requested; ``mv_o`` is O's, hosted by B, active;
``mv_done`` is E's, completed, with confidential review notes. HR user ``hr`` looks after team A only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Integer, create_engine, insert, select, text

from micromoves.domain.model import MoveKind, MoveStatus, Rating
from micromoves.services import accounts, catalogue, org
from micromoves.services import marketplace as market
from micromoves.services import moves as move_svc
from micromoves.services.policy import Policy
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.web.app import create_app
from tests.conftest import KEPT_TABLES

PASSWORD = "correct horse battery"
CONFIDENTIAL_NOTE = "CONFIDENTIAL-NOTE-7731: struggled with stakeholders"
TODAY = dt.date.today()


@dataclass
class World:
    db: Database
    app: object
    users: dict[str, int] = field(default_factory=dict)
    mv_e: str = "MV-E"
    mv_o: str = "MV-O"
    mv_done: str = "MV-DONE"
    opp_open: str = ""
    opp_draft: str = ""
    application: int = 0  # eva's application to opp_open
    onboarding_item: int = 0  # an onboarding item of otto's move

    def policy(self, username: str) -> Policy:
        with self.db.engine.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.username == username)).one()
        principal = accounts.Principal(row.id, row.username, accounts.Access(row.access), row.person_id)
        return Policy(self.db, principal)

    def client(self, username: str | None = None) -> TestClient:
        c = TestClient(self.app, headers={"accept": "application/json"})  # type: ignore[arg-type]
        if username is not None:
            login(c, username)
        return c


def login(c: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the JSON API; returns the session's CSRF token (also set as a default header)."""
    r = c.post("/api/v1/session", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf_token"]
    c.headers["x-csrf-token"] = csrf
    return csrf


def build_world(db: Database) -> World:
    a = "setup"
    org.add_team(db, id="ROOT", name="Company", actor=a)
    org.add_team(db, id="A", name="Team A", parent_id="ROOT", actor=a)
    org.add_team(db, id="B", name="Team B", parent_id="ROOT", actor=a)
    hired = dt.date(2020, 1, 6)
    org.add_person(db, id="D", name="Dana Director", team_id="ROOT", hire_date=hired, actor=a)
    org.add_person(db, id="M", name="Mira Manager", team_id="A", manager_id="D", hire_date=hired, actor=a)
    org.add_person(db, id="H", name="Hugo Host", team_id="B", manager_id="D", hire_date=hired, actor=a)
    org.add_person(db, id="E", name="Eva Employee", team_id="A", manager_id="M", hire_date=hired, actor=a)
    org.add_person(db, id="E2", name="Emil Colleague", team_id="A", manager_id="M", hire_date=hired, actor=a)
    org.add_person(db, id="O", name="Otto Outsider", team_id="B", manager_id="H", hire_date=hired, actor=a)
    with db.write_engine.begin() as conn:
        conn.execute(
            insert(t.team_managers),
            [
                {"team_id": "ROOT", "person_id": "D"},
                {"team_id": "A", "person_id": "M"},
                {"team_id": "B", "person_id": "H"},
            ],
        )
    world = World(db=db, app=create_app(db))
    for username, person, access, units in [
        ("eva", "E", "employee", ()),
        ("emil", "E2", "employee", ()),
        ("mira", "M", "employee", ()),
        ("hugo", "H", "employee", ()),
        ("dana", "D", "employee", ()),
        ("otto", "O", "employee", ()),
        ("hr", None, "hr", ("A",)),
        ("admin", None, "admin", ()),
    ]:
        user = accounts.create_user(
            db, username=username, password=PASSWORD, access=access, person_id=person, org_units=units, actor=a
        )
        world.users[username] = user.id
    start = TODAY + dt.timedelta(days=14)
    common = {"kind": "gig", "percent_time": 20, "actor": a, "host_team_id": "B"}
    move_svc.propose_move(
        db,
        person_id="E",
        title="Data pipeline gig",
        start=start,
        end=start + dt.timedelta(weeks=8),
        criteria=["Ship the nightly load", "Write the runbook"],
        move_id=world.mv_e,
        request=True,
        **common,
    )
    move_svc.propose_move(
        db,
        person_id="O",
        title="Outsider rotation",
        start=TODAY - dt.timedelta(weeks=2),
        end=TODAY + dt.timedelta(weeks=6),
        criteria=["Pair on two incidents"],
        move_id=world.mv_o,
        # Hosted outside otto's own team B (by the directors' team): hugo lends him, and the ledger counts it.
        **{**common, "host_team_id": "ROOT"},
    )
    for s in (MoveStatus.REQUESTED, MoveStatus.APPROVED, MoveStatus.ONBOARDING, MoveStatus.ACTIVE):
        move_svc.transition_move(db, world.mv_o, s, actor=a)
    past = TODAY - dt.timedelta(weeks=20)
    move_svc.propose_move(
        db,
        person_id="E",
        title="Finished stretch",
        start=past,
        end=past + dt.timedelta(weeks=6),
        criteria=["Lead the retro"],
        move_id=world.mv_done,
        **common,
    )
    for s in (MoveStatus.REQUESTED, MoveStatus.APPROVED, MoveStatus.ONBOARDING, MoveStatus.ACTIVE):
        move_svc.transition_move(db, world.mv_done, s, actor=a)
    move_svc.review_move(
        db,
        world.mv_done,
        reviewer_id="M",
        decision="end",
        ratings=[move_svc.CriterionRating(1, Rating.MET)],
        notes=CONFIDENTIAL_NOTE,
        confidential=True,
    )
    # The marketplace: an open opportunity hosted by team B that eva applied for, and hugo's draft.
    hugo = world.policy("hugo")
    offer = market.OpportunityInput(
        title="Incident review rotation",
        kind=MoveKind.ROTATION,
        host_team_id="B",
        start=TODAY + dt.timedelta(weeks=10),
        end=TODAY + dt.timedelta(weeks=16),
        percent_time=20,
        seats=1,
        success_criteria=["Run three incident reviews"],
    )
    world.opp_open = market.create_opportunity(db, hugo, offer)
    # A move template for the congestion pages (an unknown one is a 404); it builds a skill nobody here needs.
    catalogue.add_template(
        db,
        id="TPL-X",
        kind="gig",
        title="Gig X",
        duration_weeks=4,
        percent_time=20,
        gains={"Negotiation": 0.5},
        actor=a,
    )
    market.set_opportunity_status(db, hugo, world.opp_open, "pending_approval")
    market.set_opportunity_status(db, hugo, world.opp_open, "open")
    world.application = market.apply(db, world.policy("eva"), world.opp_open, note="keen")
    world.opp_draft = market.create_opportunity(db, hugo, dataclasses.replace(offer, title="Secret draft opportunity"))
    with db.write_engine.begin() as conn:
        world.onboarding_item = conn.execute(
            insert(t.onboarding_items)
            .values(move_id=world.mv_o, position=1, item="Access granted")
            .returning(t.onboarding_items.c.id)
        ).scalar_one()
    return world


@contextlib.contextmanager
def live_server(app: object) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port from a background thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the kernel picks the port; binding here means no race for it
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))  # type: ignore[arg-type]
    # uvicorn (>= 0.29) installs its SIGINT/SIGTERM handlers only when it runs in the main thread, so
    # in this thread it leaves pytest's signal handling alone; `should_exit` stops it.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started or not thread.is_alive():
            break
        threading.Event().wait(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# The world is built once per backend and cloned for every test: a copied file on SQLite, a database
# created from a template on PostgreSQL. Building it takes seconds; a clone takes a fraction of one.
_WORLD_FIELDS = ("users", "opp_open", "opp_draft", "application", "onboarding_item")


def _fields(world: World) -> dict[str, object]:
    return {name: getattr(world, name) for name in _WORLD_FIELDS}


def _build_with_fast_hashing(db: Database) -> dict[str, object]:
    saved = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        return _fields(build_world(db))
    finally:
        accounts._hasher = saved
        db.dispose()


@pytest.fixture(scope="session")
def sqlite_world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    path = tmp_path_factory.mktemp("world") / "world.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return path, _build_with_fast_hashing(Database(f"sqlite:///{path}"))


def _org_tables() -> list[Any]:
    return [tbl for tbl in t.metadata.sorted_tables if tbl.name not in KEPT_TABLES]


def _reset_postgres(url: str, snapshot: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """Empty the organisation tables (and restore ``snapshot`` into them, sequences included)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            # DELETE, not TRUNCATE: on a few hundred rows it is several times faster (no new files).
            for tbl in reversed(_org_tables()):
                conn.execute(tbl.delete())
            for tbl in _org_tables():
                rows = (snapshot or {}).get(tbl.name)
                if rows:
                    # One multi-row statement: its foreign keys are checked at its end, so rows that refer to
                    # each other (a manager after their report: the snapshot keeps the table's physical
                    # order, which updates change) restore in any order. Row by row, they failed at random.
                    conn.execute(tbl.insert().values(rows))
                if "id" in tbl.c and isinstance(tbl.c.id.type, Integer):
                    top = max((r["id"] for r in rows or ()), default=0)
                    conn.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{tbl.name}', 'id'), :top, :called)"),
                        {"top": max(top, 1), "called": top > 0},
                    )
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_world(pg_url: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, object]]:
    """The world built once in the worker's PostgreSQL database, kept as rows to restore before each test."""
    _reset_postgres(pg_url)
    fields = _build_with_fast_hashing(Database(pg_url))
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        snapshot = {tbl.name: [dict(r._mapping) for r in conn.execute(select(tbl))] for tbl in _org_tables()}
    engine.dispose()
    return snapshot, fields


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "sqlite":
        template, fields = request.getfixturevalue("sqlite_world")
        target = tmp_path / "world.sqlite3"
        shutil.copyfile(template, target)
        db = Database(f"sqlite:///{target}")
    else:
        snapshot, fields = request.getfixturevalue("postgres_world")
        url = request.getfixturevalue("pg_url")
        _reset_postgres(url, snapshot)
        db = Database(url)
    try:
        yield World(db=db, app=create_app(db), **fields)  # type: ignore[arg-type]
    finally:
        db.dispose()


def add_gig(world: World, person_id: str, move_id: str, title: str) -> None:
    """A proposed (not requested) 4-week gig of ``person_id`` at 10%, hosted by team B, from ten days on."""
    start = dt.date.today() + dt.timedelta(days=10)
    move_svc.propose_move(
        world.db,
        person_id=person_id,
        kind="gig",
        title=title,
        start=start,
        end=start + dt.timedelta(weeks=4),
        percent_time=10,
        actor="t",
        criteria=["x"],
        move_id=move_id,
        host_team_id="B",
        request=False,
    )
