"""Security behaviour of the web app: CSRF, sessions, tokens, throttling, approvals rules, escaping."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from micromoves.domain.errors import Conflict
from micromoves.services import accounts
from micromoves.storage import tables as t
from tests.web.conftest import PASSWORD, World

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _form_login(world: World, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    c = world.client()
    c.headers["accept"] = "text/html"
    c.get("/login")
    token = c.cookies.get("mm_login_csrf")
    r = c.post("/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False)
    return c, r


# ------------------------------------------------------------------------------------------- CSRF


def test_unsafe_requests_with_a_session_need_the_csrf_token(world: World) -> None:
    c = world.client("eva")
    good = c.headers.pop("x-csrf-token")
    body = {"note": "did a thing"}
    assert c.post("/api/v1/moves/MV-O/check-ins", json=body).status_code == 403  # no token (and not hers anyway)
    r = c.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    r = c.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}, headers={"x-csrf-token": "wrong"})
    assert r.status_code == 403
    # A form post without the hidden field is refused too.
    r = c.post("/account/tokens", data={"name": "x"}, follow_redirects=False)
    assert r.status_code == 403
    with world.db.engine.connect() as conn:
        assert conn.scalar(select(t.api_tokens.c.id)) is None
    r = c.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}, headers={"x-csrf-token": good})
    assert r.status_code == 201


def test_a_csrf_token_with_characters_beyond_ascii_is_wrong_not_an_error(world: World) -> None:
    """secrets.compare_digest refuses str holding characters beyond ASCII: a token "é" was a 500, not a 403."""
    c = world.client("eva")
    c.headers.pop("x-csrf-token")
    r = c.post("/account/tokens", data={"name": "x", "csrf_token": "é"}, follow_redirects=False)
    assert r.status_code == 403
    r = c.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}, headers={"x-csrf-token": "é".encode()})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    login = world.client()
    login.get("/login")
    r = login.post("/login", data={"username": "eva", "password": PASSWORD, "csrf_token": "ü"}, follow_redirects=False)
    assert r.status_code == 403 and "mm_session" not in login.cookies


def test_login_form_needs_its_csrf_token(world: World) -> None:
    c = world.client()
    r = c.post("/login", data={"username": "eva", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert "mm_session" not in c.cookies


def test_api_tokens_need_no_csrf_token(world: World) -> None:
    secret = world.client("mira").post("/api/v1/tokens", json={"name": "sync", "scopes": ["read", "write"]})
    c = world.client()
    c.headers["authorization"] = f"Bearer {secret.json()['token']}"
    r = c.post("/api/v1/moves/MV-E/actions/approve", json={})
    assert r.status_code == 200, r.text


# --------------------------------------------------------------------------------------- sessions


def test_login_issues_a_new_session_and_discards_a_planted_one(world: World) -> None:
    # An attacker who knows a live session id of their own plants it in the victim's browser.
    attacker, _ = _form_login(world, "otto")
    planted = attacker.cookies.get("mm_session")
    victim = world.client()
    victim.cookies.set("mm_session", planted)
    victim.headers["accept"] = "text/html"
    victim.get("/login")
    token = victim.cookies.get("mm_login_csrf")
    r = victim.post(
        "/login", data={"username": "eva", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    issued = r.cookies.get("mm_session")
    assert issued and issued != planted
    # The planted id is gone: the attacker is not logged in as anyone any more, and never as eva.
    assert attacker.get("/api/v1/session").status_code == 401
    assert accounts.session_principal(world.db, planted) is None
    assert accounts.session_principal(world.db, issued)[0].username == "eva"  # type: ignore[index]


def test_session_cookie_flags(world: World) -> None:
    _, r = _form_login(world, "eva")
    header = r.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header
    c = world.client()
    c.base_url = c.base_url.copy_with(scheme="https")  # type: ignore[assignment]
    r = c.post("/api/v1/session", json={"username": "eva", "password": PASSWORD})
    assert "secure" in r.headers["set-cookie"].lower()


def test_sessions_are_stored_hashed(world: World) -> None:
    c, _ = _form_login(world, "eva")
    cookie = c.cookies.get("mm_session")
    with world.db.engine.connect() as conn:
        stored = list(conn.scalars(select(t.web_sessions.c.id)))
    assert cookie not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_logout_ends_the_session_on_the_server(world: World) -> None:
    c = world.client("eva")
    cookie = c.cookies.get("mm_session")
    assert c.delete("/api/v1/session").status_code == 204
    replay = world.client()
    replay.cookies.set("mm_session", cookie)
    assert replay.get("/api/v1/me").status_code == 401


def test_failed_logins_are_throttled(world: World) -> None:
    """The outline (tests/web/test_login_throttle.py has the details): a few failures for one username at
    one address slow that pair down; others, and that username elsewhere, are not slowed."""
    c = world.client()
    for _ in range(accounts.PAIR_THROTTLE.free):
        r = c.post("/api/v1/session", json={"username": "eva", "password": "not it at all"})
        assert (r.status_code, r.json()["error"]["code"]) == (401, "not_authenticated")
    r = c.post("/api/v1/session", json={"username": "eva", "password": PASSWORD})
    assert (r.status_code, r.json()["error"]["code"]) == (429, "too_many_attempts")
    assert 0 < int(r.headers["retry-after"]) <= accounts.PAIR_THROTTLE.first_delay.total_seconds()
    # Other users are not locked out by eva's failures, nor is eva at another address: anyone could
    # otherwise keep any account locked, an admin's included.
    assert c.post("/api/v1/session", json={"username": "mira", "password": PASSWORD}).status_code == 200
    assert accounts.authenticate(world.db, "eva", PASSWORD, address="203.0.113.9").username == "eva"


def test_unknown_user_and_wrong_password_look_the_same(world: World) -> None:
    c = world.client()
    a = c.post("/api/v1/session", json={"username": "nobody", "password": "whatever1234"})
    b = c.post("/api/v1/session", json={"username": "eva", "password": "whatever1234"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_passwords_are_hashed_with_argon2id(world: World) -> None:
    with world.db.engine.connect() as conn:
        hashes = list(conn.scalars(select(t.users.c.password_hash)))
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


# --------------------------------------------------------------------------------------- passwords

NEW_PASSWORD = "purple otter kettle"


def _audited(world: World, action: str) -> list[dict[str, object]]:
    with world.db.engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_events.c.details).where(t.audit_events.c.action == action).order_by(t.audit_events.c.id)
        ).all()
    return [r.details for r in rows]


def _logs_in(world: World, username: str, password: str) -> bool:
    r = world.client().post("/api/v1/session", json={"username": username, "password": password})
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


def test_changing_the_own_password_ends_the_other_sessions_and_keeps_the_tokens(world: World) -> None:
    here, elsewhere = world.client("eva"), world.client("eva")
    old_cookie = here.cookies.get("mm_session")
    token = here.post("/api/v1/tokens", json={"name": "sync", "scopes": ["read"]}).json()["token"]
    r = here.post("/api/v1/account/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["username"] == "eva"
    # This session is re-issued: a new cookie and CSRF token; the old cookie, wherever a copy went, is dead.
    new_cookie, new_csrf = here.cookies.get("mm_session"), r.json()["csrf_token"]
    assert new_cookie and new_cookie != old_cookie and new_csrf != here.headers["x-csrf-token"]
    assert "httponly" in r.headers["set-cookie"].lower()
    assert here.get("/api/v1/me").json()["id"] == "E"
    here.headers["x-csrf-token"] = new_csrf
    assert here.post("/api/v1/tokens", json={"name": "after", "scopes": ["read"]}).status_code == 201
    replay = world.client()
    replay.cookies.set("mm_session", old_cookie)
    assert replay.get("/api/v1/me").status_code == 401
    # Every other session has ended.
    assert elsewhere.get("/api/v1/me").status_code == 401
    # The API token is a separate credential: it stays.
    api = world.client()
    api.headers["authorization"] = f"Bearer {token}"
    assert api.get("/api/v1/me").status_code == 200
    assert not _logs_in(world, "eva", PASSWORD) and _logs_in(world, "eva", NEW_PASSWORD)
    [details] = _audited(world, "user.password_changed")
    assert details == {"sessions_ended": 2}  # this one (re-issued) and the other
    with world.db.engine.connect() as conn:
        audit = str(conn.execute(select(t.audit_events.c.details)).all())
    assert NEW_PASSWORD not in audit and PASSWORD not in audit


def test_a_wrong_current_password_is_refused_and_throttled_as_a_failed_login(world: World) -> None:
    """Someone holding eva's session (a browser left open) must not be able to guess her password here: a
    wrong current password counts as a failed login, with the login form's count at this address."""
    c = world.client("eva")
    guess = {"current_password": "not her password", "new_password": NEW_PASSWORD}
    for _ in range(accounts.PAIR_THROTTLE.free):
        r = c.post("/api/v1/account/password", json=guess)
        assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "current_password"), r.text
        assert r.json()["error"]["message"] == "the current password is wrong"
    # Throttled now, the right password too (checking it would tell the guesser it was right).
    right = {**guess, "current_password": PASSWORD}
    r = c.post("/api/v1/account/password", json=right)
    assert (r.status_code, r.json()["error"]["code"]) == (429, "too_many_attempts")
    assert 0 < int(r.headers["retry-after"]) <= accounts.PAIR_THROTTLE.first_delay.total_seconds()
    assert "too many wrong passwords" in r.json()["error"]["message"]
    # One budget with the login form: the guesses here count there too, for eva at this address.
    r = world.client().post("/api/v1/session", json={"username": "eva", "password": PASSWORD})
    assert r.status_code == 429
    # Nothing changed: the session still works, the password is the old one (eva elsewhere logs in with it).
    assert c.get("/api/v1/me").status_code == 200
    assert accounts.authenticate(world.db, "eva", PASSWORD, address="203.0.113.9").username == "eva"
    assert _audited(world, "user.password_changed") == []
    [throttled] = _audited(world, "login.throttled")
    assert throttled["scope"] == "username and address"


def test_a_new_password_must_meet_the_rules_and_a_refusal_costs_no_attempt(world: World) -> None:
    c = world.client("eva")
    for new, message in [
        ("short1", f"at least {accounts.MIN_PASSWORD_LENGTH} characters"),
        ("abababababab", f"at least {accounts.MIN_PASSWORD_DISTINCT} different characters"),
        ("I am eva, really", "cannot contain the username"),
        (PASSWORD, "the same as the current one"),
    ]:
        # Sent more often than the throttle lets failures through: the rules are checked before the current
        # password, so these cost no login attempt.
        for _ in range(2):
            r = c.post("/api/v1/account/password", json={"current_password": PASSWORD, "new_password": new})
            assert r.status_code == 422 and message in r.json()["error"]["message"], r.text
            assert r.json()["error"]["details"]["field"] == "new_password"
    rules = c.get("/api/v1/account/password").json()
    assert rules == {
        "min_length": accounts.MIN_PASSWORD_LENGTH,
        "min_distinct_characters": accounts.MIN_PASSWORD_DISTINCT,
        "may_contain_username": False,
    }
    r = c.post("/api/v1/account/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    assert _logs_in(world, "eva", NEW_PASSWORD)


def test_an_api_token_cannot_change_the_password(world: World) -> None:
    made = world.client("eva").post("/api/v1/tokens", json={"name": "rw", "scopes": ["read", "write"]}).json()
    api = world.client()
    api.headers["authorization"] = f"Bearer {made['token']}"
    r = api.post("/api/v1/account/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert (r.status_code, r.json()["error"]["message"]) == (403, "an API token cannot change the password; log in")
    assert _logs_in(world, "eva", PASSWORD)


def test_the_password_form_needs_its_csrf_token_and_the_same_new_password_twice(world: World) -> None:
    c = world.client("eva")
    csrf = c.headers.pop("x-csrf-token")
    c.headers["accept"] = "text/html"
    page = c.get("/account/password")
    assert page.status_code == 200 and 'action="/account/password"' in page.text
    assert 'href="/account/password"' in page.text  # in the navigation
    assert f'value="{csrf}"' in page.text
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    r = c.post("/account/password", data=form, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    r = c.post("/account/password", data={**form, "csrf_token": "wrong"}, follow_redirects=False)
    assert r.status_code == 403
    r = c.post(
        "/account/password",
        data={**form, "confirm_password": NEW_PASSWORD + "!", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 422 and "confirmation differ" in r.text
    assert _logs_in(world, "eva", PASSWORD)  # none of those changed it
    old_cookie = c.cookies.get("mm_session")
    r = c.post("/account/password", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/account/password?changed=1")
    assert c.cookies.get("mm_session") != old_cookie
    done = c.get(r.headers["location"])
    assert done.status_code == 200 and 'id="password-changed"' in done.text
    assert f'value="{csrf}"' not in done.text  # the new session's CSRF token
    assert not _logs_in(world, "eva", PASSWORD) and _logs_in(world, "eva", NEW_PASSWORD)


def test_an_admin_resets_a_password_ending_the_sessions_and_on_request_the_tokens(world: World) -> None:
    eva, admin = world.client("eva"), world.client("admin")
    token = eva.post("/api/v1/tokens", json={"name": "sync", "scopes": ["read"]}).json()["token"]
    api = world.client()
    api.headers["authorization"] = f"Bearer {token}"
    url = f"/api/v1/admin/users/{world.users['eva']}/password"
    r = admin.post(url, json={"password": "short"})
    assert r.status_code == 422 and "at least 10 characters" in r.json()["error"]["message"]
    r = admin.post(url, json={"password": "Eva, reset 2024"})
    assert r.status_code == 422 and "cannot contain the username" in r.json()["error"]["message"]
    # Not for another user to do.
    r = world.client("mira").post(url, json={"password": NEW_PASSWORD})
    assert (r.status_code, r.json()["error"]["message"]) == (403, "only administrators may do this")
    assert eva.get("/api/v1/me").status_code == 200 and _logs_in(world, "eva", PASSWORD)
    r = admin.post(url, json={"password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "user": {**r.json()["user"], "username": "eva", "person_name": "Eva Employee"},
        "sessions_ended": 2,  # the one above, and the one _logs_in just made
        "tokens_revoked": 0,
    }
    assert eva.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/me").status_code == 200  # tokens stay by default
    assert not _logs_in(world, "eva", PASSWORD) and _logs_in(world, "eva", NEW_PASSWORD)
    # After a suspected compromise: the tokens go too.
    r = admin.post(url, json={"password": "another fine secret", "revoke_tokens": True})
    assert (r.json()["sessions_ended"], r.json()["tokens_revoked"]) == (1, 1)
    assert api.get("/api/v1/me").status_code == 401
    assert _logs_in(world, "eva", "another fine secret")
    audit = _audited(world, "user.password_set")
    assert [(a["sessions_ended"], a["tokens_revoked"]) for a in audit] == [(2, 0), (1, 1)]
    assert NEW_PASSWORD not in str(audit) and "another fine secret" not in str(audit)
    r = admin.post("/api/v1/admin/users/99999/password", json={"password": NEW_PASSWORD})
    assert r.status_code == 404


def test_an_admin_changes_their_own_password_only_with_the_current_one(world: World) -> None:
    """A reset asks for no current password: an admin's session left open would take the account for good."""
    admin = world.client("admin")
    r = admin.post(f"/api/v1/admin/users/{world.users['admin']}/password", json={"password": NEW_PASSWORD})
    assert r.status_code == 403 and "your current password" in r.json()["error"]["message"]
    assert admin.get("/api/v1/me").status_code == 200 and _logs_in(world, "admin", PASSWORD)
    r = admin.post("/api/v1/account/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 200
    assert _logs_in(world, "admin", NEW_PASSWORD)


def test_the_users_page_sets_a_password_with_its_csrf_token_and_a_confirmation(world: World) -> None:
    admin = world.client("admin")
    csrf = admin.headers.pop("x-csrf-token")
    admin.headers["accept"] = "text/html"
    page = admin.get("/admin/users").text
    eva_id, admin_id = world.users["eva"], world.users["admin"]
    assert f'action="/admin/users/{eva_id}/password"' in page
    assert f'action="/admin/users/{admin_id}/password"' not in page  # their own: the Password page
    form = {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert admin.post(f"/admin/users/{eva_id}/password", data=form, follow_redirects=False).status_code == 403
    r = admin.post(
        f"/admin/users/{eva_id}/password",
        data={**form, "confirm_password": "something else", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 422 and "confirmation differ" in r.text
    assert _logs_in(world, "eva", PASSWORD)
    r = admin.post(f"/admin/users/{eva_id}/password", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/admin/users?password_set={eva_id}")
    shown = admin.get(r.headers["location"]).text
    assert 'id="password-set"' in shown and "New password set for eva" in shown
    assert _logs_in(world, "eva", NEW_PASSWORD)


def test_a_request_carrying_a_password_is_not_kept_for_an_idempotency_replay(world: World) -> None:
    """The key's record holds a SHA-256 of the body: for a password, a fast unsalted hash kept for a day."""
    eva, admin = world.client("eva"), world.client("admin")
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    r = eva.post("/api/v1/account/password", json=change, headers={"Idempotency-Key": "pw-1"})
    assert r.status_code == 200 and "idempotent-replayed" not in r.headers
    admin.post(
        f"/api/v1/admin/users/{world.users['mira']}/password/",  # a trailing slash changes nothing
        json={"password": NEW_PASSWORD},
        headers={"Idempotency-Key": "pw-2"},
    )
    r = admin.post(
        f"/api/v1/admin/users/{world.users['mira']}/password",
        json={"password": NEW_PASSWORD},
        headers={"Idempotency-Key": "pw-2"},
    )
    assert r.status_code == 200
    new_account = {"username": "nina", "password": "first Pass 2026", "access": "employee"}
    r = admin.post("/api/v1/admin/users", json=new_account, headers={"Idempotency-Key": "pw-3"})
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    with world.db.engine.connect() as conn:
        assert conn.scalar(select(t.idempotency_keys.c.key)) is None


def test_a_change_that_crosses_a_reset_is_refused_not_lost(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The current password is checked outside the write (argon2 is slow): an admin's reset landing in
    between wins, and the change says so instead of silently replacing it."""
    admin = world.policy("admin").principal
    eva = world.policy("eva").principal
    verify = accounts._verify

    def reset_meanwhile(hashed: str, password: str) -> bool:
        ok = verify(hashed, password)
        accounts.set_password(world.db, eva.user_id, password="set by the admin", actor=admin)
        return ok

    monkeypatch.setattr(accounts, "_verify", reset_meanwhile)
    with pytest.raises(Conflict):
        accounts.change_password(world.db, eva, current_password=PASSWORD, new_password=NEW_PASSWORD)
    monkeypatch.undo()
    assert _logs_in(world, "eva", "set by the admin")


# ------------------------------------------------------------------------------------------ tokens


def test_token_revocation(world: World) -> None:
    owner = world.client("eva")
    made = owner.post("/api/v1/tokens", json={"name": "hris", "scopes": ["read"]}).json()
    c = world.client()
    c.headers["authorization"] = f"Bearer {made['token']}"
    assert made["info"]["last_used_at"] is None
    assert c.get("/api/v1/me").json()["id"] == "E"
    # Its owner sees when it was last used (it stayed empty however much the token was used).
    [listed] = [x for x in owner.get("/api/v1/tokens").json()["tokens"] if x["id"] == made["info"]["id"]]
    assert listed["last_used_at"] is not None
    # Read scope only: no changes.
    r = c.post("/api/v1/moves/MV-E/actions/withdraw", json={})
    assert r.status_code == 403
    # A token cannot mint tokens.
    assert c.post("/api/v1/tokens", json={"name": "more", "scopes": ["read"]}).status_code == 403
    # Another user cannot revoke it (and cannot learn it exists).
    assert world.client("mira").delete(f"/api/v1/tokens/{made['info']['id']}").status_code == 404
    assert c.get("/api/v1/me").status_code == 200
    assert owner.delete(f"/api/v1/tokens/{made['info']['id']}").status_code == 204
    r = c.get("/api/v1/me")
    assert (r.status_code, r.json()["error"]["code"]) == (401, "not_authenticated")
    with world.db.engine.connect() as conn:
        stored = conn.scalar(select(t.api_tokens.c.token_hash))
    assert stored != made["token"] and made["token"] not in str(stored)


def test_a_write_only_token_writes_but_is_refused_every_read(world: World) -> None:
    """Scopes are separate rights: ``write`` alone does not read (it read every page, list and export)."""
    made = world.client("mira").post("/api/v1/tokens", json={"name": "push", "scopes": ["write"]})
    assert made.status_code == 201 and made.json()["info"]["scopes"] == ["write"]
    c = world.client()
    c.headers["authorization"] = f"Bearer {made.json()['token']}"
    refused = {
        "code": "forbidden",
        "message": "this API token may not read: it was issued for write only",
        "details": {},
    }
    for path in ("/api/v1/me", "/api/v1/moves/MV-E", "/api/v1/people", "/api/v1/moves.csv", "/api/v1/tokens"):
        r = c.get(path)
        assert (path, r.status_code, r.json()) == (path, 403, {"error": refused})
    page = c.get("/moves/MV-E", headers={"accept": "text/html"})
    assert page.status_code == 403 and "MV-E" not in page.text
    with world.db.engine.connect() as conn:
        denied = conn.scalars(select(t.audit_events.c.details).where(t.audit_events.c.action == "access.denied")).all()
    assert denied and {(d["attempted"], d["status"]) for d in denied} == {("scope:read", 403)}
    # What it was issued for, it does: Mira (Eva's line manager) approves Eva's request.
    r = c.post("/api/v1/moves/MV-E/actions/approve", json={})
    assert r.status_code == 200, r.text
    # Setting a target answered Eva's whole page (skills, moves, plan, e-mail): a write-only token is told the
    # change only; Mira herself, who may read, still gets the page.
    r = c.put("/api/v1/people/E/target-role", json={"role_id": None})
    assert (r.status_code, r.json()) == (
        200,
        {"person_id": "E", "old_role_id": None, "role_id": None, "plan_out_of_date": False},
    )
    r = world.client("mira").put("/api/v1/people/E/target-role", json={"role_id": None})
    assert r.status_code == 200 and r.json()["id"] == "E" and "email" in r.json()
    # A read-only token is refused the other way, in the same words.
    ro = world.client("mira").post("/api/v1/tokens", json={"name": "pull", "scopes": ["read"]}).json()["token"]
    r = world.client().post("/api/v1/moves/MV-E/actions/approve", json={}, headers={"authorization": f"Bearer {ro}"})
    assert (r.status_code, r.json()["error"]["message"]) == (
        403,
        "this API token may not write: it was issued for read only",
    )


def test_a_deactivated_user_loses_sessions_and_tokens(world: World) -> None:
    eva = world.client("eva")
    token = eva.post("/api/v1/tokens", json={"name": "t", "scopes": ["read"]}).json()["token"]
    admin = world.client("admin")
    r = admin.patch(f"/api/v1/admin/users/{world.users['eva']}", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert r.json()["person_name"] == "Eva Employee"  # as the list shows it (it said null)
    assert eva.get("/api/v1/me").status_code == 401
    api = world.client()
    api.headers["authorization"] = f"Bearer {token}"
    assert api.get("/api/v1/me").status_code == 401
    # Reactivated, she logs in again, but the old token stays revoked (it came back to life).
    assert admin.patch(f"/api/v1/admin/users/{world.users['eva']}", json={"active": True}).json()["active"] is True
    assert world.client("eva").get("/api/v1/me").status_code == 200
    assert api.get("/api/v1/me").status_code == 401


def test_admin_cannot_remove_own_admin_access(world: World) -> None:
    r = world.client("admin").patch(f"/api/v1/admin/users/{world.users['admin']}", json={"access": "employee"})
    assert r.status_code == 403


# --------------------------------------------------------------------------------------- approvals


def _status(world: World, move_id: str) -> str:
    return world.client("admin").get(f"/api/v1/moves/{move_id}").json()["status"]


def test_self_approval_is_refused(world: World) -> None:
    r = world.client("eva").post("/api/v1/moves/MV-E/actions/approve", json={})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    assert r.json()["error"]["message"] == "nobody approves their own move; your managers do"
    assert _status(world, "MV-E") == "requested"


def test_a_manager_cannot_approve_for_someone_not_reporting_to_them(world: World) -> None:
    otto = world.client("otto")
    r = otto.post(
        "/api/v1/moves",
        json={
            "kind": "gig",
            "title": "Otto's gig",
            "start": "2031-03-03",
            "end": "2031-04-25",
            "percent_time": 10,
            "success_criteria": ["done"],
            "host_team_id": "B",
        },
    )
    assert r.status_code == 201, r.text
    move_id = r.json()["id"]
    r = world.client("mira").post(f"/api/v1/moves/{move_id}/actions/approve", json={})
    assert r.status_code == 404  # mira may not even know the move exists
    assert _status(world, move_id) == "requested"


def test_two_different_people_must_approve(world: World) -> None:
    mira = world.client("mira")
    r = mira.post("/api/v1/moves/MV-E/actions/approve", json={"reason": "good fit"})
    assert r.status_code == 200 and r.json()["status"] == "requested"
    assert [a["slot"] for a in r.json()["approvals"]] == ["manager"]
    r = mira.post("/api/v1/moves/MV-E/actions/approve", json={})
    assert r.status_code == 403  # the same person cannot give the second approval
    assert "MV-E" not in mira.get("/api/v1/approvals").text
    assert "MV-E" in world.client("hugo").get("/api/v1/approvals").text
    r = world.client("hugo").post("/api/v1/moves/MV-E/actions/approve", json={})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert [(a["slot"], a["approver"]) for a in r.json()["approvals"]] == [
        ("manager", "Mira Manager"),
        ("host", "Hugo Host"),
    ]
    # Every timestamp of the move is written one way, UTC with a Z (the approvals said +00:00, on SQLite
    # nothing at all), and the decisions are in the order they were taken.
    stamps = [a["at"] for a in r.json()["approvals"]] + [h["at"] for h in r.json()["history"]]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", s) for s in stamps), stamps
    assert r.json()["approvals"][0]["at"] <= r.json()["approvals"][1]["at"]
    r = world.client("admin").post("/api/v1/moves/MV-E/actions/approve", json={})
    assert r.status_code == 409


def test_a_move_hosted_by_the_own_team_needs_a_second_manager(world: World) -> None:
    mira = world.client("mira")
    r = mira.post(
        "/api/v1/moves",
        json={
            "person_id": "E2",
            "kind": "temporary_lead",
            "title": "Lead the stand-ups",
            "start": "2031-03-03",
            "end": "2031-04-25",
            "percent_time": 10,
            "success_criteria": ["Run 20 stand-ups"],
            "host_team_id": "A",
        },
    )
    move_id = r.json()["id"]
    assert mira.post(f"/api/v1/moves/{move_id}/actions/approve", json={}).status_code == 200
    assert mira.post(f"/api/v1/moves/{move_id}/actions/approve", json={}).status_code == 403
    assert world.client("hugo").post(f"/api/v1/moves/{move_id}/actions/approve", json={}).status_code == 404
    r = world.client("dana").post(f"/api/v1/moves/{move_id}/actions/approve", json={})  # the skip-level manager
    assert r.status_code == 200 and r.json()["status"] == "approved"


def test_a_decline_in_either_slot_declines(world: World) -> None:
    r = world.client("hugo").post("/api/v1/moves/MV-E/actions/decline", json={"reason": "no capacity"})
    assert r.status_code == 200 and r.json()["status"] == "declined"


# ---------------------------------------------------------------------------------------- escaping


def test_stored_xss_in_every_free_text_field_is_inert(world: World) -> None:
    eva = world.client("eva")
    r = eva.post(
        "/api/v1/moves",
        json={
            "kind": "gig",
            "title": XSS,
            # It starts today: the API starts (activates) a move on the day of the request.
            "start": dt.date.today().isoformat(),
            "end": (dt.date.today() + dt.timedelta(weeks=7)).isoformat(),
            "percent_time": 10,
            "success_criteria": [XSS],
            "expected_outcomes": XSS,
            "host_team_id": "B",
        },
    )
    move_id = r.json()["id"]
    mira, hugo = world.client("mira"), world.client("hugo")
    mira.post(f"/api/v1/moves/{move_id}/actions/approve", json={"reason": XSS})
    hugo.post(f"/api/v1/moves/{move_id}/actions/approve", json={"reason": XSS})
    mira.post(f"/api/v1/moves/{move_id}/actions/start_onboarding", json={"reason": XSS})
    mira.post(f"/api/v1/moves/{move_id}/actions/activate", json={})
    eva.post(f"/api/v1/moves/{move_id}/check-ins", json={"note": XSS})
    r = mira.post(
        f"/api/v1/moves/{move_id}/review",
        json={"decision": "continue", "ratings": [{"position": 1, "rating": "met", "evidence": XSS}], "notes": XSS},
    )
    assert r.status_code == 200, r.text
    eva.post("/api/v1/tokens", json={"name": XSS, "scopes": ["read"]})
    pages = [f"/moves/{move_id}", "/", "/moves", "/account/tokens"]
    for who, client in (("eva", eva), ("mira", mira)):
        client.headers["accept"] = "text/html"
        for path in pages + (["/approvals", "/team", "/people/E"] if who == "mira" else []):
            html = client.get(path).text
            assert "<script>alert" not in html and "<img src=x" not in html, (who, path)
    html = mira.get(f"/moves/{move_id}").text
    assert html.count("&lt;script&gt;alert(") >= 4  # title, criterion, outcomes, check-in, notes, evidence, reason


def test_csv_export_guards_against_formula_injection(world: World) -> None:
    eva = world.client("eva")
    eva.post(
        "/api/v1/moves",
        json={
            "kind": "gig",
            "title": '=HYPERLINK("http://evil.example","x")',
            "start": "2031-03-03",
            "end": "2031-04-25",
            "percent_time": 10,
            "success_criteria": ["x"],
        },
    )
    text = eva.get("/moves.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    titles = [r[4] for r in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example","x")' in titles
    assert not any(x.startswith(("=", "+", "-", "@")) for r in rows for x in r)


def test_the_moves_csv_export_streams_every_visible_move_once_in_chunks(world: World) -> None:
    """The export pages by id (keyset), not by OFFSET: small chunks give every move the user may see exactly
    once, the same rows as one chunk and as the moves list, whatever the filter."""
    from micromoves.services import views

    with world.db.write_engine.begin() as conn:  # a few more moves, as copies of eva's with other ids and kinds
        base = dict(conn.execute(t.moves.select().where(t.moves.c.id == "MV-E")).mappings().one())
        base.pop("key", None)
        conn.execute(
            t.moves.insert(),
            [{**base, "id": f"MV-X{i}", "kind": ("gig", "course", "rotation")[i % 3]} for i in range(7)],
        )
    hr = world.client("hr")
    listed = hr.get("/api/v1/moves", params={"page": 1}).json()
    whole = list(csv.reader(io.StringIO(hr.get("/moves.csv").content.decode("utf-8-sig"))))
    chunked = list(views.move_rows(world.db, world.policy("hr"), views.MoveFilter(), chunk=2))
    ids = [r[0] for r in chunked[1:]]
    assert len(ids) > 4 and ids == sorted(ids) and len(set(ids)) == len(ids)
    assert chunked == whole
    assert len(ids) == listed["total"]
    # With a filter: the chunks hold exactly the filtered moves (and a user's view stays theirs).
    gigs = list(views.move_rows(world.db, world.policy("hr"), views.MoveFilter(kind="gig"), chunk=1))
    assert [r[0] for r in gigs[1:]] == [r[0] for r in whole[1:] if r[3] == "gig"]
    eva = list(views.move_rows(world.db, world.policy("eva"), views.MoveFilter(), chunk=1))
    assert [r[0] for r in eva[1:]] == [
        r[0] for r in csv.reader(io.StringIO(world.client("eva").get("/moves.csv").content.decode("utf-8-sig")))
    ][1:]


def test_the_moves_csv_export_names_the_host_team_by_id_and_name(world: World) -> None:
    """The host team's id is in its own column beside its name (people.csv has team_id beside team), so the
    export can be joined to the teams and matches the interchange moves.csv, whose host_team is the id."""
    rows = list(csv.DictReader(io.StringIO(world.client("hr").get("/moves.csv").content.decode("utf-8-sig"))))
    with world.db.engine.connect() as conn:
        stored = dict(conn.execute(select(t.moves.c.id, t.moves.c.host_team_id)).all())
        names = dict(conn.execute(select(t.teams.c.id, t.teams.c.name)).all())
    hosted = [r for r in rows if stored[r["id"]]]
    assert hosted  # the world has moves hosted by another team
    for r in rows:
        assert r["host_team_id"] == (stored[r["id"]] or "")
        assert r["host_team"] == names.get(stored[r["id"]] or "", "")


def test_security_headers(world: World) -> None:
    r = world.client().get("/login")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_login_redirect_target_stays_on_this_site(world: World) -> None:
    _, r = _form_login(world, "eva")
    assert r.headers["location"] == "/"
    c = world.client()
    c.get("/login")
    token = c.cookies.get("mm_login_csrf")
    r = c.post(
        "/login",
        data={"username": "mira", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_an_unexpected_error_is_one_sentence_for_the_user_and_a_traceback_in_the_log(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    app = world.app

    @app.get("/api/v1/test-boom")  # type: ignore[attr-defined, untyped-decorator]
    def boom() -> None:
        raise RuntimeError("secret internals")

    from fastapi.testclient import TestClient

    with caplog.at_level("ERROR", logger="micromoves.web"):
        r = TestClient(app, raise_server_exceptions=False).get("/api/v1/test-boom")  # type: ignore[arg-type]
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "server_error" and "secret internals" not in r.text
    assert "secret internals" in caplog.text


# ------------------------------------------------------------------------------------- bad form input


def test_bad_form_input_is_a_422_naming_the_field_not_a_server_error(world: World) -> None:
    """HTML forms are validated as their JSON twins are: a wrong choice, an impossible date or a list too
    long is a 422 naming the field (each was a 500 once), and nothing is written."""
    from tests.web.test_authz import OPPORTUNITY_FORM, _changes

    hugo, mira = world.client("hugo"), world.client("mira")
    before = _changes(world)
    cases = [
        (hugo, "/moves/MV-O/review", {"decision": "bogus", "rating_1": "met"}, "decision"),
        (hugo, "/moves/MV-O/review", {"decision": "end", "rating_1": "met", "new_end": "2024-13-40"}, "new_end"),
        (hugo, "/moves/MV-O/review", {"decision": "end", "rating_0": "met"}, "position"),
        (mira, "/moves/MV-E/handoff", {"holder_id": "M", "responsibilities": "x", "return_on": "nope"}, "return_on"),
        (
            hugo,
            "/opportunities",
            {**OPPORTUNITY_FORM, "success_criteria": "\n".join(f"criterion {i}" for i in range(25))},
            "success_criteria",
        ),
    ]
    for client, path, form, field in cases:
        r = client.post(path, data=form, follow_redirects=False)
        assert r.status_code == 422, (path, form, r.text)
        error = r.json()["error"]
        assert field in error["message"] or field == error["details"].get("field"), (path, error)
    assert _changes(world) == before


def test_a_refused_form_page_offers_the_way_back_to_the_form_and_other_errors_do_not(world: World) -> None:
    """The error page of a refused form (422, 409) carries the marker static/app.js restores the typed input
    by (a browser test drives it); an error page for a page that is not there has nothing to go back to."""
    hugo = world.client("hugo")
    hugo.headers["accept"] = "text/html"
    refused = hugo.post("/moves/MV-O/review", data={"decision": "bogus", "rating_1": "met"})
    assert refused.status_code == 422 and "data-form-refused" in refused.text and 'id="back-to-form"' in refused.text
    missing = hugo.get("/moves/NO-SUCH-MOVE")
    assert missing.status_code == 404 and "data-form-refused" not in missing.text


def test_a_step_that_does_not_fit_the_moves_state_is_a_409_conflict(world: World) -> None:
    """A check-in on a move not yet running and a review of a completed move are state conflicts, answered
    as an illegal transition is (409), not as bad input (they were 422 domain_error)."""
    eva, mira = world.client("eva"), world.client("mira")
    r = eva.post(f"/api/v1/moves/{world.mv_e}/check-ins", json={"note": "too early"})  # MV-E is requested
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict"), r.text
    review = {"decision": "end", "ratings": [{"position": 1, "rating": "met"}]}
    r = mira.post(f"/api/v1/moves/{world.mv_done}/review", json=review)  # reviewed and completed already
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict"), r.text
    r = mira.post(f"/api/v1/moves/{world.mv_done}/actions/activate", json={})
    assert r.status_code == 409


def test_a_failed_form_login_shows_the_form_again_with_the_reason_and_keeps_the_way_back(world: World) -> None:
    """Sent to /login from a move page, a wrong password shows the form again: the reason, the username
    typed, the page the person was going to (it redirected to /login?next=/login with no message, and the
    next, successful login then landed on the login page)."""
    import html as html_module
    import re

    c = world.client()
    c.headers["accept"] = "text/html"
    page = c.get(f"/moves/{world.mv_e}", follow_redirects=True)
    assert page.url.path == "/login" and page.url.params["next"] == f"/moves/{world.mv_e}"
    token = c.cookies.get("mm_login_csrf")
    data = {"username": "eva", "password": "not it", "csrf_token": token, "next": f"/moves/{world.mv_e}"}
    r = c.post("/login", data=data, follow_redirects=False)
    assert r.status_code == 401 and "wrong username or password" in r.text
    assert 'value="eva"' in r.text
    assert f'name="next" value="{html_module.escape(f"/moves/{world.mv_e}")}"' in r.text
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert fresh is not None and fresh.group(1) == c.cookies.get("mm_login_csrf") != token
    r = c.post("/login", data={**data, "password": PASSWORD, "csrf_token": fresh.group(1)}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/moves/{world.mv_e}")


def test_the_approvals_queue_says_when_more_requests_wait_than_it_shows(world: World) -> None:
    """The queue shows a page of requests, soonest first; when more wait it says so (the admin's queue
    showed 200 of 239 and said nothing): it pages, as every list (tests/web/test_paging.py)."""
    from micromoves.services import views
    from micromoves.services.paging import PageQuery

    admin = world.policy("admin")
    full = views.approval_queue(world.db, admin)
    assert [i.move.id for i in full.items] == [world.mv_e] and (full.total, full.pages) == (1, 1)
    past = views.approval_queue(world.db, admin, PageQuery(page=2))
    assert past.items == [] and (past.total, past.pages) == (1, 1)


def test_a_name_links_to_a_person_page_only_for_those_who_may_open_it(world: World) -> None:
    """Eva's dashboard names her manager, hugo's moves list the person on a move his team hosts: as plain
    text, since neither may open that page (the links answered 404). Mira's list links her report."""

    def html(user: str, path: str) -> str:
        c = world.client(user)
        r = c.get(path, headers={"accept": "text/html"})
        assert r.status_code == 200, r.text
        return r.text

    dashboard = html("eva", "/")
    assert "Mira Manager" in dashboard and 'href="/people/M"' not in dashboard
    hosted = html("hugo", "/moves")
    assert "Eva Employee" in hosted and 'href="/people/E"' not in hosted
    assert 'href="/people/O"' in hosted  # his own report
    assert 'href="/people/E">Eva Employee</a>' in html("mira", "/moves")


def test_an_account_without_a_person_is_named_by_its_username_on_a_move(world: World) -> None:
    """The admin account has no person: its approval read "user #N" and its history entries "user:admin"
    on the move page and in the JSON twin; both now read its username."""
    r = world.client("admin").post("/api/v1/moves/MV-E/actions/approve", json={})
    assert r.status_code == 200, r.text
    move = r.json()
    assert [a["approver"] for a in move["approvals"]] == ["admin"]
    assert not any(a["approver"].startswith("user") for a in move["approvals"])
    assert all(not h["actor"].startswith("user:") for h in move["history"])


def test_the_users_page_names_each_account_s_person(world: World) -> None:
    """The admin's list of accounts showed each linked person by id (E, M …); it shows their names, and the
    JSON twin carries both."""
    admin = world.client("admin")
    users = {u["username"]: u for u in admin.get("/api/v1/admin/users").json()["users"]}
    assert (users["eva"]["person_id"], users["eva"]["person_name"]) == ("E", "Eva Employee")
    assert (users["hr"]["person_id"], users["hr"]["person_name"]) == (None, None)
    page = admin.get("/admin/users", headers={"accept": "text/html"}).text
    assert '<a href="/people/E">Eva Employee</a>' in page and '<a href="/people/M">Mira Manager</a>' in page


def test_an_approval_from_the_queue_names_the_move_by_its_title(world: World) -> None:
    """The approvals queue replaces a decided row with its outcome (htmx): it named the move by its id."""
    mira = world.client("mira")
    r = mira.post("/moves/MV-E/actions/approve", headers={"hx-request": "true", "accept": "text/html"})
    assert r.status_code == 200, r.text
    assert '<a href="/moves/MV-E">Data pipeline gig</a>' in r.text
    assert "waits for the second approver" in r.text  # the host team's manager approves next


def test_released_by_is_shown_once_the_move_is_approved(world: World) -> None:
    """A move waiting for approval showed "released by Mira Manager" before Mira had released anyone."""
    eva = world.client("eva")
    assert eva.get("/api/v1/moves/MV-E").json()["status"] == "requested"
    assert eva.get("/api/v1/moves/MV-E").json()["released_by"] is None
    assert "released by" not in eva.get("/moves/MV-E", headers={"accept": "text/html"}).text
    for approver in ("mira", "hugo"):  # the line manager's release, then the host's approval
        assert world.client(approver).post("/api/v1/moves/MV-E/actions/approve", json={}).status_code == 200
    move = eva.get("/api/v1/moves/MV-E").json()
    assert (move["status"], move["released_by"]["name"]) == ("approved", "Mira Manager")


def test_the_dashboard_lists_every_skill(world: World) -> None:
    """The dashboard showed the first 20 skills and said nothing of the rest (its JSON twin had all)."""
    from micromoves.services import org

    with world.db.engine.connect() as conn:
        ids = list(conn.scalars(select(t.skills.c.id).order_by(t.skills.c.id).limit(25)))
    for skill_id in ids:
        org.assess_skill(world.db, person_id="E", skill=skill_id, level=2.5, provenance="self", actor="E")
    eva = world.client("eva")
    listed = eva.get("/api/v1/me").json()["skills"]
    page = eva.get("/", headers={"accept": "text/html"}).text
    assert len(listed) >= 25 and all(f"<tr><td>{html.escape(s['label'])}</td>" in page for s in listed)


def test_a_percent_or_underscore_in_a_search_is_a_character_not_a_wildcard(world: World) -> None:
    """Searching the directory for "%" or "_" listed everyone (they went into LIKE as wildcards)."""
    admin = world.client("admin")
    everyone = admin.get("/api/v1/people").json()
    assert len(everyone["people"]) > 3
    for text in ("%", "_"):
        r = admin.get("/api/v1/people", params={"q": text})
        assert r.status_code == 200 and r.json()["people"] == [], (text, r.text[:200])
    # A plain search still finds by name, case-insensitive.
    assert [p["id"] for p in admin.get("/api/v1/people", params={"q": "EVA"}).json()["people"]] == ["E"]


def test_the_people_csv_export_holds_whom_the_user_may_see_filtered_and_defused(world: World) -> None:
    """HR's People page promised a CSV export that did not exist (/people.csv was a 404). It holds exactly
    the directory's people for the same filters, every visible one (not a page of them), formulas defused."""
    with world.db.write_engine.begin() as conn:
        conn.execute(t.people.update().where(t.people.c.id == "E2").values(name="=cmd|' /C calc'!A0"))
    hr = world.client("hr")
    rows = list(csv.DictReader(io.StringIO(hr.get("/people.csv").content.decode("utf-8-sig"))))
    directory = hr.get("/api/v1/people").json()
    assert sorted(r["id"] for r in rows) == sorted(p["id"] for p in directory["people"])
    assert len(rows) == directory["total"]
    assert "'=cmd|' /C calc'!A0" in {r["name"] for r in rows}
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    # Streamed in chunks, paged by id: small chunks give the same rows as one.
    from micromoves.services import views

    chunked = list(views.people_rows(world.db, world.policy("hr"), chunk=2))
    assert [r[0] for r in chunked[1:]] == sorted(r["id"] for r in rows) and len(chunked) > 3
    only = list(csv.DictReader(io.StringIO(hr.get("/api/v1/people.csv", params={"q": "eva"}).text)))
    assert [r["id"] for r in only] == ["E"]
    page = hr.get("/people", headers={"accept": "text/html"}).text
    assert 'href="/people.csv"' in page
    page = hr.get("/people", params={"q": "eva", "team": "A"}, headers={"accept": "text/html"}).text
    assert 'href="/people.csv?q=eva&amp;team=A"' in page


def test_an_unknown_reference_in_a_request_body_is_invalid_not_missing(world: World) -> None:
    """A team, role or skill a body names that does not exist answered 404 not_found, which says the page
    (the URL) is missing; it is a 422 naming the body's field."""
    from tests.web.test_authz import OPPORTUNITY
    from tests.web.test_idempotency import GIG

    cases = [
        ("hugo", "/api/v1/opportunities", {**OPPORTUNITY, "host_team_id": "NOPE"}, "host_team_id"),
        ("eva", "/api/v1/moves", {**GIG, "host_team_id": "NOPE"}, "host_team_id"),
    ]
    for user, path, body, field in cases:
        r = world.client(user).post(path, json=body)
        assert r.status_code == 422, (path, field, r.text)
        assert (r.json()["error"]["code"], r.json()["error"]["details"].get("field")) == ("invalid_value", field), (
            r.text
        )
    admin = world.client("admin")
    r = admin.patch(f"/api/v1/admin/users/{world.users['hr']}", json={"org_units": ["NOPE"]})
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "org_units")


def test_api_dates_are_written_one_way(world: World) -> None:
    """A number was read as a Unix time (1817251200: 2027-08-03) and 20270802 as a date; both are refused
    naming the field, as the CSV and JSON imports refuse them."""
    from tests.web.test_idempotency import GIG

    eva = world.client("eva")
    for start in (1817251200, "20270802", "2027-8-2"):
        r = eva.post("/api/v1/moves", json={**GIG, "start": start})
        assert r.status_code == 422, r.text
        [problem] = r.json()["error"]["details"]["problems"]
        assert problem["field"] == "start" and "YYYY-MM-DD" in problem["message"]
    # Years at the calendar's edges: a move of 0001 made the person's page fail (500) for everyone who
    # opened it, and one ending 9999-12-31 failed on creation; both are refused, on the form too.
    for start, end in (("0001-01-01", "0001-01-10"), ("9999-12-20", "9999-12-31")):
        r = eva.post("/api/v1/moves", json={**GIG, "start": start, "end": end})
        assert r.status_code == 422, r.text
        assert {p["field"] for p in r.json()["error"]["details"]["problems"]} == {"start", "end"}
        assert "outside the years 1900–2199" in r.text
    form = {**GIG, "person_id": "E", "start": "0001-01-01", "end": "0001-01-10", "success_criteria": "x"}
    r = eva.post("/moves", data=form)
    assert r.status_code == 422 and "outside the years" in r.text, r.text
    assert eva.post("/api/v1/moves", json=GIG).status_code == 201


def test_the_api_refuses_a_query_parameter_it_does_not_read(world: World) -> None:
    """``?limit=2`` on a list that pages with ``page`` returned every row, and a misspelt filter
    (``?stauts=active``) every status, as if applied; the API refuses both naming the parameter and what
    the endpoint takes, as it refuses an unknown body key. Known parameters still work, and a page (HTML)
    ignores what it does not read, so a link with a tracking parameter still opens."""
    hr = world.client("hr")
    r = hr.get("/api/v1/people", params={"limit": 2})
    assert r.status_code == 422, r.text
    [problem] = r.json()["error"]["details"]["problems"]
    assert problem["field"] == "limit" and "page, page_size, q, team" in problem["message"]
    r = hr.get("/api/v1/moves", params={"stauts": "active", "kind": "gig"})
    assert (r.status_code, [p["field"] for p in r.json()["error"]["details"]["problems"]]) == (422, ["stauts"])
    assert hr.get("/api/v1/moves", params={"status": "active", "kind": "gig"}).status_code == 200
    assert hr.get("/api/v1/me", params={"x": "1"}).status_code == 422
    assert hr.get("/api/v1/opportunities", params={"limit": 1}).status_code == 422  # it pages with page
    assert hr.get("/people", params={"utm_source": "mail"}).status_code == 200
    # one value per parameter: ?status=active&status=completed was read as completed only
    r = hr.get("/api/v1/moves", params=[("status", "active"), ("status", "completed")])
    assert (r.status_code, [p["field"] for p in r.json()["error"]["details"]["problems"]]) == (422, ["status"])
    # the CSV exports have no pages: ?page=2 returned every row, as if it were page 2
    for path in ("/api/v1/moves.csv", "/api/v1/people.csv"):
        r = hr.get(path, params={"page": 2})
        assert (r.status_code, r.json()["error"]["details"]["problems"][0]["field"]) == (422, "page"), path
        assert hr.get(path, params={"team": "A"}).status_code == 200


def test_an_endpoint_without_a_body_refuses_one(world: World) -> None:
    """Endpoints that read no body accepted any JSON body and ignored it, answering success: a plan "towards
    R-SWE-3" planned towards the old target, a cancel lost its reason, a discard its note. A body is refused
    as an unknown key is where there is a body model (422 in the one error shape, naming each key) and
    nothing is done; no body, {} and null still work, and so do the pages' form posts."""
    admin, hugo = world.client("admin"), world.client("hugo")

    def refused(r: Any, fields: list[str]) -> None:
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "invalid_request" and [p["field"] for p in error["details"]["problems"]] == fields
        assert all("takes no body" in p["message"] for p in error["details"]["problems"]), r.text

    opportunity = f"/api/v1/opportunities/{world.opp_open}"
    refused(admin.post(f"{opportunity}/actions/cancel", json={"reason": "typo"}), ["reason"])
    refused(admin.post(f"{opportunity}/actions/cancel", json={"reason": "typo", "notify": False}), ["reason", "notify"])
    for body in ([1], "cancel", 0):  # not an object: the body itself
        refused(admin.post(f"{opportunity}/actions/cancel", json=body), ["body"])
    refused(
        admin.post(f"{opportunity}/actions/cancel", content=b"{typo", headers={"content-type": "application/json"}),
        ["body"],
    )
    assert admin.get(opportunity).json()["card"]["status"] == "open"
    with world.db.engine.connect() as conn:
        plans = conn.execute(select(t.plans.c.id)).all()
    refused(admin.post("/api/v1/people/E/plan", json={"target": "R-SWE-3"}), ["target"])
    with world.db.engine.connect() as conn:
        assert conn.execute(select(t.plans.c.id)).all() == plans
    run = admin.post("/api/v1/allocations", json={}).json()["id"]
    refused(admin.post(f"/api/v1/allocations/{run}/discard", json={"reason": "x"}), ["reason"])
    refused(admin.request("DELETE", "/api/v1/session", json={"everywhere": True}), ["everywhere"])
    assert admin.get(f"/api/v1/allocations/{run}").json()["status"] == "proposed"
    assert admin.get("/api/v1/me").status_code == 200  # the session was not ended
    # Nothing, {} and null say nothing: accepted.
    assert admin.post(f"/api/v1/allocations/{run}/discard", json={}).json()["status"] == "discarded"
    r = admin.post(f"{opportunity}/actions/close", content=b"null", headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["card"]["status"]) == (200, "closed"), r.text
    r = hugo.post(f"/api/v1/opportunities/{world.opp_draft}/actions/submit")
    assert (r.status_code, r.json()["card"]["status"]) == (200, "pending_approval"), r.text
    # A page's form post sends its fields as a form: the pages are not the JSON API.
    r = admin.post(f"/opportunities/{world.opp_draft}/actions/publish", data={"note": "x"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert hugo.get(f"/api/v1/opportunities/{world.opp_draft}").json()["card"]["status"] == "open"


def test_a_method_not_allowed_says_which_are(world: World) -> None:
    """HTTP requires a 405 to name the methods the resource takes (Allow); the error handler dropped it."""
    r = world.client("hr").put("/api/v1/moves", json={})
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    assert set(r.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_api_errors_an_http_client_can_act_on(world: World) -> None:
    """From an integrator's walk-through: a throttled login says when to retry; a body that is not JSON is
    a 415 naming the format (it was 422 'valid dictionary'); a body that is not UTF-8 is the 422 of malformed
    JSON (it was 400 http_error); the OpenAPI document names the two ways to authenticate."""
    eva = world.client("eva")
    r = eva.post("/api/v1/moves", content=b"kind=gig", headers={"content-type": "text/plain"})
    assert (r.status_code, r.json()["error"]["code"]) == (415, "unsupported_media_type"), r.text
    # a 415 is not kept against an Idempotency-Key: the same bytes sent as JSON then run
    soon = dt.date.today() + dt.timedelta(weeks=2)
    body = (
        f'{{"kind": "gig", "title": "Dashboards", "start": "{soon}", "end": "{soon + dt.timedelta(weeks=4)}", '
        '"percent_time": 10, "success_criteria": ["x"]}'
    ).encode()
    key = {"idempotency-key": "content-type-retry"}
    assert eva.post("/api/v1/moves", content=body, headers={**key, "content-type": "text/plain"}).status_code == 415
    r = eva.post("/api/v1/moves", content=body, headers={**key, "content-type": "application/json"})
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers, (r.status_code, r.text)
    r = eva.post("/api/v1/moves", content=b'{"title": "\xff"}', headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request"), r.text
    assert eva.post(f"/api/v1/moves/{world.mv_e}/actions/withdraw", json={}).status_code == 200
    schemes = eva.get("/api/v1/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["bearerToken"]["scheme"] == "bearer" and schemes["sessionCookie"]["in"] == "cookie"
    anonymous = world.client()
    for _ in range(10):
        r = anonymous.post("/api/v1/session", json={"username": "eva", "password": "wrong"})
        if r.status_code == 429:
            break
    first = accounts.PAIR_THROTTLE.first_delay.total_seconds()
    assert r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= first, (r.status_code, r.headers)


def test_the_moves_page_keeps_every_filter_in_its_next_page_and_export_links(world: World) -> None:
    """'Next page' kept status and kind but dropped the team (page 2 listed every move), and a person filter
    was dropped by both the export link (which exported everything) and the page's own summary."""

    hr = world.client("hr")
    hr.headers["accept"] = "text/html"
    page = hr.get("/moves", params={"team": "B", "person": "E", "kind": "gig"}).text
    assert 'href="/moves.csv?kind=gig&amp;team=B&amp;person=E"' in page, page
    assert "with these filters (person E)" in page
    page = hr.get("/moves", params={"team": "B", "person": "E", "page_size": 1}).text
    assert 'href="/moves?team=B&amp;person=E&amp;page_size=1&amp;page=2"' in page, page


def test_a_request_that_no_longer_fits_says_so_in_the_queue_and_its_first_approval_is_refused(world: World) -> None:
    """The queue offered Approve on a move that no longer fitted beside the person's other moves: the first
    approval went through unchecked, and the second failed with a 409."""
    start = dt.date.today() + dt.timedelta(days=14)
    with world.db.write_engine.begin() as conn:  # eva has since been given a full-time move over MV-E's dates
        conn.execute(
            t.moves.insert().values(
                id="MV-FULL",
                person_id="E",
                kind="rotation",
                title="Full-time rotation",
                start=start,
                end=start + dt.timedelta(weeks=4),
                percent_time=100,
                status="approved",
                expected_outcomes="",
                skills_targeted=[],
            )
        )
    mira = world.client("mira")
    [item] = [i for i in mira.get("/api/v1/approvals").json()["items"] if i["move"]["id"] == world.mv_e]
    assert item["blocked"], item
    page = mira.get("/approvals", headers={"accept": "text/html"}).text
    row = page[page.index(f'id="approval-{world.mv_e}"') :].split("</tr>")[0]
    assert "Cannot be approved now" in row and "actions/approve" not in row
    assert "approve" not in mira.get(f"/api/v1/moves/{world.mv_e}").json()["actions"]  # the move page agrees
    r = mira.post(f"/api/v1/moves/{world.mv_e}/actions/approve", json={})
    assert r.status_code == 409, r.text
    with world.db.engine.connect() as conn:
        assert conn.scalar(select(t.move_approvals.c.id).where(t.move_approvals.c.move_id == world.mv_e)) is None


def test_a_blocked_request_names_only_the_moves_its_approver_may_see(world: World) -> None:
    """Hugo hosts eva's requested MV-E; his queue read "move MV-E (20%) together with MV-SECRET would use
    110%…" while MV-SECRET (eva's, in her own team) is a 404 to him: its id leaked, as it did in the 409 of
    his approval. He reads "another move of theirs" with its share and dates; mira, eva's manager, who may
    open it, still reads its id."""
    start = dt.date.today() + dt.timedelta(days=14)
    end = start + dt.timedelta(weeks=4)
    with world.db.write_engine.begin() as conn:
        conn.execute(
            t.moves.insert().values(
                id="MV-SECRET",
                person_id="E",
                kind="stretch_assignment",
                title="Secret transfer",
                start=start,
                end=end,
                percent_time=90,
                status="approved",
                host_team_id="A",
                expected_outcomes="",
                skills_targeted=[],
            )
        )
    hugo, mira = world.client("hugo"), world.client("mira")
    assert hugo.get("/api/v1/moves/MV-SECRET").status_code == 404  # he may not see it
    hidden = f"together with another move of theirs (90%, {start.isoformat()} to {end.isoformat()}) would use 110%"
    [item] = [i for i in hugo.get("/api/v1/approvals").json()["items"] if i["move"]["id"] == world.mv_e]
    assert item["slot"] == "host" and hidden in item["blocked"], item
    assert "MV-SECRET" not in item["blocked"] and "Secret" not in item["blocked"]
    page = hugo.get("/approvals", headers={"accept": "text/html"}).text
    row = page[page.index(f'id="approval-{world.mv_e}"') :].split("</tr>")[0]
    assert "Cannot be approved now" in row and hidden in row and "MV-SECRET" not in page
    r = hugo.post(f"/api/v1/moves/{world.mv_e}/actions/approve", json={})
    assert r.status_code == 409 and hidden in r.text and "MV-SECRET" not in r.text, r.text
    [item] = [i for i in mira.get("/api/v1/approvals").json()["items"] if i["move"]["id"] == world.mv_e]
    assert "together with MV-SECRET would use 110%" in item["blocked"], item
    r = mira.post(f"/api/v1/moves/{world.mv_e}/actions/approve", json={})
    assert r.status_code == 409 and "together with MV-SECRET would use 110%" in r.text, r.text


def test_links_and_forms_quote_the_ids_they_carry(world: World) -> None:
    """Ids come from an HRIS as written. A move id with a '#' or '?' made the move page's buttons post to
    another path (/moves/MV-O#2/actions/activate is /moves/MV-O: otto's move, not this one), and the pages
    linked to another move or person; the redirect after a form did the same."""
    from micromoves.services import moves as move_svc

    odd = "MV-O#2?x&y"
    move_svc.propose_move(
        world.db,
        person_id="E",
        kind="gig",
        title="Odd id",
        start=dt.date.today() + dt.timedelta(days=7),
        end=dt.date.today() + dt.timedelta(days=30),
        percent_time=10,
        actor="test",
        criteria=["x"],
        move_id=odd,
    )
    eva = world.client("eva")
    eva.headers["accept"] = "text/html"
    quoted = "MV-O%232%3Fx%26y"
    page = eva.get(f"/moves/{quoted}")
    assert page.status_code == 200 and "Odd id" in page.text, page.text
    actions = re.findall(r'action="(/moves/[^"]*)"', page.text)
    assert actions and all(a.startswith(f"/moves/{quoted}/") for a in actions), actions
    dashboard = eva.get("/").text
    assert f'href="/moves/{quoted}"' in dashboard
    assert "/moves/MV-O#2" not in dashboard  # the timeline chart's bars link to the move too
    r = eva.post(f"/moves/{quoted}/actions/submit", data={"reason": ""}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/moves/{quoted}", r.headers
    mira = world.client("mira")
    mira.headers["accept"] = "text/html"
    assert f'href="/moves/{quoted}"' in mira.get("/approvals").text


@pytest.mark.parametrize("value", ["true", "1", "ON"])
def test_the_review_form_reads_confidential_as_the_api_does(world: World, value: str) -> None:
    """The review form's box is sent as confidential=on; any other yes (true, 1, as a script posting the
    form or the API's JSON writes it) was read as no, and the notes went to the person on the move."""
    hugo = world.client("hugo")  # otto's manager
    form = {"decision": "continue", "notes": "SECRET-REVIEW-NOTE", "confidential": value}
    r = hugo.post(f"/moves/{world.mv_o}/review", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    outcome = world.client("otto").get(f"/api/v1/moves/{world.mv_o}").json()["outcome"]
    assert outcome["confidential"] is True and outcome["notes"] is None, outcome
    bad = {**form, "confidential": "yes please"}
    r = hugo.post(f"/moves/{world.mv_o}/review", data=bad, follow_redirects=False)
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "confidential", r.text


def test_the_list_downloads_carry_a_byte_order_mark_for_excel_and_the_api_none(world: World) -> None:
    """Excel reads a UTF-8 CSV without a byte order mark in the local code page ("Zoë" became "ZoÃ«"): the
    list pages' downloads, opened in spreadsheets, start with one; the API's and the interchange export, read
    by programs, do not; ``?bom=`` decides either way."""
    with world.db.write_engine.begin() as conn:
        conn.execute(t.people.update().where(t.people.c.id == "E2").values(name="Zoë Müller"))
    hr, admin = world.client("hr"), world.client("admin")
    bom = "\ufeff".encode()
    for path in ("/people.csv", "/moves.csv"):
        body = hr.get(path).content
        assert body.startswith(bom) and not body[3:].startswith(bom), path
        assert not hr.get(path, params={"bom": "false"}).content.startswith(bom), path
        api = hr.get("/api/v1" + path)
        assert api.status_code == 200 and not api.content.startswith(bom), path
        assert hr.get("/api/v1" + path, params={"bom": "true"}).content.startswith(bom), path
    assert hr.get("/people.csv").headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(hr.get("/people.csv").content.decode("utf-8-sig"))))
    assert "Zoë Müller" in {r["name"] for r in rows}
    for path in ("/admin/export/people.csv", "/api/v1/export/people.csv"):
        assert not admin.get(path).content.startswith(bom), path
        marked = admin.get(path, params={"bom": "1"}).content
        assert marked.startswith(bom) and "Zoë Müller" in marked.decode("utf-8-sig"), path
    r = hr.get("/api/v1/people.csv", params={"bom": "perhaps"})
    assert r.status_code == 422 and [p["field"] for p in r.json()["error"]["details"]["problems"]] == ["bom"], r.text
