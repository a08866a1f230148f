"""Many clients against a running server: the last seat and a move's approval are never double-booked.

The server is real (uvicorn on loopback, its thread pool running requests in parallel) and so are the
databases: SQLite serialises writers with BEGIN IMMEDIATE, PostgreSQL locks the opportunity's row.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid

import httpx
import pytest
from sqlalchemy import func, insert, select

from micromoves.services import accounts
from micromoves.storage import tables as t
from tests.web.conftest import World, live_server

APPLICANTS = 200


def _people_with_offers(world: World, n: int) -> list[str]:
    """``n`` people in team A, each with an API token and an offer for ``world.opp_open`` (1 seat).

    Written in bulk: what is under test is the race to accept, not how the offers came about (the
    marketplace tests cover that).
    """
    now = dt.datetime.now(dt.UTC)
    secrets_ = [f"{accounts.TOKEN_PREFIX}race-{i}-{uuid.uuid4().hex}" for i in range(n)]
    with world.db.write_engine.begin() as conn:
        conn.execute(
            insert(t.people),
            [{"id": f"C{i:03d}", "name": f"Candidate {i}", "team_id": "A", "manager_id": "M"} for i in range(n)],
        )
        conn.execute(
            insert(t.users),
            [
                {
                    "username": f"c{i:03d}",
                    "password_hash": "x",
                    "person_id": f"C{i:03d}",
                    "access": "employee",
                    "active": True,
                    "created_at": now,
                }
                for i in range(n)
            ],
        )
        users = dict(conn.execute(select(t.users.c.person_id, t.users.c.id).where(t.users.c.username.like("c%"))).all())
        conn.execute(
            insert(t.api_tokens),
            [
                {
                    "user_id": users[f"C{i:03d}"],
                    "name": "race",
                    "token_hash": hashlib.sha256(secret.encode()).hexdigest(),
                    "prefix": secret[:8],
                    "scopes": ["read", "write"],
                    "created_at": now,
                }
                for i, secret in enumerate(secrets_)
            ],
        )
        conn.execute(
            insert(t.applications),
            [
                {
                    "opportunity_id": world.opp_open,
                    "person_id": f"C{i:03d}",
                    "status": "offered",
                    "applied_at": now,
                    "note": "",
                    "decided_at": now,
                    "decided_by": "H",
                }
                for i in range(n)
            ],
        )
    return secrets_


async def _storm(base: str, requests: list[tuple[str, str]]) -> list[int]:
    """Send every (token, path) POST at once; return the status codes."""
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        start = asyncio.Event()

        async def one(token: str, path: str) -> int:
            await start.wait()
            r = await client.post(path, json={}, headers={"authorization": f"Bearer {token}"})
            return r.status_code

        tasks = [asyncio.create_task(one(token, path)) for token, path in requests]
        await asyncio.sleep(0.05)
        start.set()
        return list(await asyncio.gather(*tasks))


@pytest.mark.heavy
def test_200_clients_race_for_the_last_seat(world: World) -> None:
    tokens = _people_with_offers(world, APPLICANTS)
    with world.db.engine.connect() as conn:
        ids = dict(
            conn.execute(
                select(t.applications.c.person_id, t.applications.c.id).where(
                    t.applications.c.opportunity_id == world.opp_open
                )
            ).all()
        )
    requests = [(tok, f"/api/v1/applications/{ids[f'C{i:03d}']}/actions/accept") for i, tok in enumerate(tokens)]
    with live_server(world.app) as base:
        codes = asyncio.run(_storm(base, requests))
    assert sorted(set(codes)) == [200, 409], codes
    assert codes.count(200) == 1
    with world.db.engine.connect() as conn:
        accepted = conn.scalar(
            select(func.count()).where(
                t.applications.c.opportunity_id == world.opp_open, t.applications.c.status == "accepted"
            )
        )
        moves = conn.scalar(select(func.count()).where(t.moves.c.title == "Incident review rotation"))
        status = conn.scalar(select(t.opportunities.c.status).where(t.opportunities.c.id == world.opp_open))
        offered = conn.scalar(
            select(func.count()).where(
                t.applications.c.opportunity_id == world.opp_open, t.applications.c.status == "offered"
            )
        )
    assert (accepted, moves, status, offered) == (1, 1, "filled", APPLICANTS - 1)


def test_concurrent_approvals_of_one_request_fill_each_slot_once(world: World) -> None:
    # Mira, Dana (both in E's management chain) and Hugo (the host) approve MV-E at the same moment,
    # several times each: each slot is filled exactly once and the move is approved once.
    db = world.db
    tokens = {}
    for name in ("mira", "dana", "hugo"):
        principal = world.policy(name).principal
        tokens[name], _ = accounts.create_token(db, principal, name="t", scopes=["read", "write"])
    requests = [(tokens[n], "/api/v1/moves/MV-E/actions/approve") for n in ("mira", "dana", "hugo") * 10]
    with live_server(world.app) as base:
        codes = asyncio.run(_storm(base, requests))
    assert codes.count(200) == 2, codes  # two slots, two approvals
    assert set(codes) <= {200, 403, 409}
    with db.engine.connect() as conn:
        slots = conn.execute(
            select(t.move_approvals.c.slot, t.move_approvals.c.approver_id).where(t.move_approvals.c.move_id == "MV-E")
        ).all()
        approved = conn.scalar(
            select(func.count()).where(t.status_changes.c.move_id == "MV-E", t.status_changes.c.to_status == "approved")
        )
    assert sorted(s for s, _ in slots) == ["host", "manager"]
    assert len({a for _, a in slots}) == 2  # two different people
    assert approved == 1
