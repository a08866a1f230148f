"""Idempotency-Key on unsafe API requests: a retry gets the first response and writes nothing again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from micromoves.services import idempotency
from micromoves.storage import tables as t
from tests.web.conftest import World

GIG = {
    "kind": "gig",
    "title": "Data quality gig",
    "start": "2031-03-03",
    "end": "2031-04-25",
    "percent_time": 10,
    "success_criteria": ["checks in CI"],
    "host_team_id": "B",
}


def moves_titled(world: World, title: str) -> int:
    with world.db.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).where(t.moves.c.title == title)) or 0)


def keys(world: World) -> list[tuple[Any, ...]]:
    k = t.idempotency_keys.c
    with world.db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(k.user_id, k.key, k.status).order_by(k.user_id, k.key))]


def test_a_retry_with_the_same_key_gets_the_first_response_and_writes_nothing(world: World) -> None:
    eva = world.client("eva")
    first = eva.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "gig-1"})
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = eva.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "gig-1"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["x-content-type-options"] == "nosniff"  # replays get the security headers too
    assert moves_titled(world, GIG["title"]) == 1
    # Without a key, the same request is a new move, as before.
    assert eva.post("/api/v1/moves", json=GIG).status_code == 201
    assert moves_titled(world, GIG["title"]) == 2
    # A new key is a new request.
    assert eva.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "gig-2"}).status_code == 201
    assert moves_titled(world, GIG["title"]) == 3
    assert keys(world) == [(world.users["eva"], "gig-1", 201), (world.users["eva"], "gig-2", 201)]


def test_the_same_key_for_a_different_request_is_refused(world: World) -> None:
    eva = world.client("eva")
    assert eva.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "k"}).status_code == 201
    other = eva.post("/api/v1/moves", json={**GIG, "title": "Another"}, headers={"Idempotency-Key": "k"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "invalid_value"
    assert "different request" in other.json()["error"]["message"]
    assert moves_titled(world, "Another") == 0
    # Another path with the same key and body is a different request too.
    elsewhere = eva.post("/api/v1/moves/MV-E/actions/withdraw", json={}, headers={"Idempotency-Key": "k"})
    assert elsewhere.status_code == 422


def test_keys_belong_to_their_user(world: World) -> None:
    """Two users may pick the same key: each runs their own request (and cannot read the other's answer)."""
    for name in ("eva", "emil"):
        r = world.client(name).post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "shared"})
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert moves_titled(world, GIG["title"]) == 2


def test_a_failed_request_is_kept_but_a_server_error_is_not(world: World, monkeypatch: Any) -> None:
    eva = world.client("eva")
    bad = {**GIG, "percent_time": 150}
    r = eva.post("/api/v1/moves", json=bad, headers={"Idempotency-Key": "bad"})
    assert r.status_code == 422
    again = eva.post("/api/v1/moves", json=bad, headers={"Idempotency-Key": "bad"})
    assert (again.status_code, again.headers["idempotent-replayed"]) == (422, "true")
    assert again.json() == r.json()

    from micromoves.services import secured

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(secured, "propose", crash)
    client = TestClient(world.app, headers={"accept": "application/json"}, raise_server_exceptions=False)  # type: ignore[arg-type]
    from tests.web.conftest import login

    login(client, "eva")
    assert client.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "boom"}).status_code == 500
    assert (world.users["eva"], "boom", None) not in keys(world) and "boom" not in [k[1] for k in keys(world)]
    monkeypatch.undo()
    # The retry runs again, and this time it works.
    r = client.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "boom"})
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers


def test_a_server_error_after_the_change_was_committed_keeps_the_key(world: World, monkeypatch: Any) -> None:
    """The move is written, then the request crashes: a retry with the key must not write it again (the
    key used to be released on any 5xx). It gets the error back, saying the change was saved."""
    from micromoves.services import secured
    from tests.web.conftest import login

    written = secured.propose

    def write_then_crash(*args: Any, **kwargs: Any) -> None:
        written(*args, **kwargs)
        raise RuntimeError("the answer got lost")

    monkeypatch.setattr(secured, "propose", write_then_crash)
    client = TestClient(world.app, headers={"accept": "application/json"}, raise_server_exceptions=False)  # type: ignore[arg-type]
    login(client, "eva")
    first = client.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "lost"})
    assert first.status_code == 500 and moves_titled(world, GIG["title"]) == 1
    monkeypatch.undo()
    again = client.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "lost"})
    assert (again.status_code, again.headers["idempotent-replayed"]) == (500, "true")
    assert again.json()["error"]["code"] == "server_error" and "change was saved" in again.json()["error"]["message"]
    assert moves_titled(world, GIG["title"]) == 1
    assert (world.users["eva"], "lost", 500) in keys(world)


def test_a_retry_while_the_first_request_runs_is_told_to_wait(world: World) -> None:
    eva_id = world.users["eva"]
    digest = idempotency.request_digest("POST", "/api/v1/moves", "", b"{}")
    assert idempotency.claim(world.db, eva_id, "slow", digest) is None  # the first request, still running
    r = world.client("eva").post(
        "/api/v1/moves", content=b"{}", headers={"Idempotency-Key": "slow", "content-type": "application/json"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict")
    assert "still running" in r.json()["error"]["message"]


def test_keys_expire_after_a_day_and_must_look_like_keys(world: World) -> None:
    eva = world.client("eva")
    assert eva.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "old"}).status_code == 201
    with world.db.write_engine.begin() as conn:
        conn.execute(
            update(t.idempotency_keys).values(
                created_at=dt.datetime.now(dt.UTC) - idempotency.KEPT_FOR - dt.timedelta(minutes=1)
            )
        )
    r = eva.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "old"})
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert moves_titled(world, GIG["title"]) == 2
    for bad in (b"with space", b"x" * 256, b"caf\xe9"):  # the last: a latin-1 byte, not ASCII
        r = eva.post("/api/v1/moves", json=GIG, headers={b"Idempotency-Key": bad})
        assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "Idempotency-Key", bad
    assert moves_titled(world, GIG["title"]) == 2


def test_bearer_tokens_and_unauthenticated_requests(world: World) -> None:
    token = world.client("eva").post("/api/v1/tokens", json={"name": "sync", "scopes": ["read", "write"]}).json()
    api = TestClient(world.app, headers={"authorization": f"Bearer {token['token']}"})  # type: ignore[arg-type]
    first = api.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "t-1"})
    again = api.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "t-1"})
    assert (first.status_code, again.status_code, again.headers["idempotent-replayed"]) == (201, 201, "true")
    assert moves_titled(world, GIG["title"]) == 1
    # Who is not logged in gets the usual 401, and nothing is stored for them.
    anon = TestClient(world.app).post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "t-1"})  # type: ignore[arg-type]
    assert (anon.status_code, anon.json()["error"]["code"]) == (401, "not_authenticated")
    assert [k[1] for k in keys(world)] == ["t-1"]


def test_refusals_are_not_kept_and_a_read_only_token_gets_no_stored_answer(world: World) -> None:
    """The caller is checked before a key is claimed or replayed: a read-only token cannot fetch what a
    write request stored, and a refusal (no CSRF token) is not replayed to the corrected request."""
    eva = world.client("eva")
    created = eva.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "w"})
    assert created.status_code == 201
    token = eva.post("/api/v1/tokens", json={"name": "ro", "scopes": ["read"]}).json()["token"]
    ro = TestClient(world.app, headers={"authorization": f"Bearer {token}"})  # type: ignore[arg-type]
    r = ro.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "w"})
    assert r.status_code == 403 and "idempotent-replayed" not in r.headers and created.json()["id"] not in r.text
    # Without its CSRF header eva's cookie request is refused; with it, the same key runs the request.
    csrf = eva.headers.pop("x-csrf-token")
    assert eva.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "c"}).status_code == 403
    eva.headers["x-csrf-token"] = csrf
    r = eva.post("/api/v1/moves", json=GIG, headers={"Idempotency-Key": "c"})
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    # A new token's secret is never stored: token and session answers are not kept at all.
    eva.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}, headers={"Idempotency-Key": "tok"})
    assert "tok" not in [k[1] for k in keys(world)]


def test_an_abandoned_key_is_taken_over_and_a_cut_off_body_claims_nothing(world: World) -> None:
    import asyncio

    eva_id = world.users["eva"]
    digest = idempotency.request_digest("POST", "/api/v1/moves", "", b"{}")
    long_ago = dt.datetime.now(dt.UTC) - idempotency.ABANDONED_AFTER - dt.timedelta(seconds=1)
    assert idempotency.claim(world.db, eva_id, "dead", digest, now=long_ago) is None  # its process died
    assert idempotency.claim(world.db, eva_id, "dead", digest) is None  # taken over, not "still running"

    # A client that disconnects halfway through its body: nothing is claimed.
    from micromoves.web.idempotency import IdempotencyMiddleware

    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(await receive())
        seen.append(await receive())

    class State:
        db = world.db

    class App:
        state = State()

    eva = world.client("eva")
    cookie = "; ".join(f"{k}={v}" for k, v in eva.cookies.items())
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/moves",
        "query_string": b"",
        "app": App(),
        "headers": [(b"idempotency-key", b"cut"), (b"cookie", cookie.encode())],
    }
    messages = [{"type": "http.request", "body": b'{"kind":', "more_body": True}, {"type": "http.disconnect"}]

    async def receive() -> Any:
        return messages.pop(0)

    async def send(message: Any) -> None:
        pass

    asyncio.run(IdempotencyMiddleware(app)(scope, receive, send))
    assert seen[0]["more_body"] is True and seen[1]["type"] == "http.disconnect"
    assert "cut" not in [k[1] for k in keys(world)]
