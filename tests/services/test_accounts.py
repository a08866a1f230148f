"""API tokens: when a token was last used is recorded, sparingly and without ever holding up a request."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from micromoves.services import accounts
from micromoves.storage import tables as t
from micromoves.storage.db import Database


def _last_used(db: Database) -> dt.datetime | None:
    with db.engine.connect() as conn:
        return conn.scalar(select(t.api_tokens.c.last_used_at))


def _set_last_used(db: Database, when: dt.datetime) -> None:
    with db.write_engine.begin() as conn:
        conn.execute(update(t.api_tokens).values(last_used_at=when))


def test_a_tokens_use_is_recorded_at_most_every_five_minutes_and_never_waits_for_a_lock(db: Database) -> None:
    user = accounts.create_user(db, username="hris", password="a long test password", access="admin", actor="t")
    principal = accounts.Principal(user.id, "hris", accounts.Access.ADMIN, None)
    secret, _info = accounts.create_token(db, principal, name="sync", scopes=["read"])
    assert _last_used(db) is None
    assert accounts.token_principal(db, secret) is not None
    first = _last_used(db)
    assert first is not None
    # Used again within the five minutes: nothing written.
    recent = first - dt.timedelta(minutes=1)
    _set_last_used(db, recent)
    accounts.token_principal(db, secret)
    assert _last_used(db) == recent
    # Past them: written again.
    stale = first - dt.timedelta(minutes=10)
    _set_last_used(db, stale)
    accounts.token_principal(db, secret)
    assert _last_used(db) > stale
    if db.is_sqlite:
        # Another writer holds SQLite's lock (an import, say): the call authenticates at once and skips the
        # touch (it waited up to 30 s on the lock, on the web app's event loop, then failed).
        _set_last_used(db, stale)
        with db.write_engine.begin() as holder:
            holder.execute(update(t.api_tokens).values(name="sync"))
            assert accounts.token_principal(db, secret) is not None
        assert _last_used(db) == stale


def test_an_org_unit_named_twice_is_kept_once_and_an_update_audits_only_what_changed(db: Database) -> None:
    """A team named twice failed on the unique key (a 500 in the web app, a raw IntegrityError in the CLI);
    an update that left the units alone was audited as 'org_units=[]', which reads as if they were cleared."""
    from micromoves.services import org

    org.add_team(db, id="DATA", name="Data", actor="test")
    hr = accounts.create_user(
        db, username="hr1", password="a long password", access="hr", org_units=["DATA", "DATA"], actor="test"
    )
    assert hr.org_units == ("DATA",)
    admin = accounts.Principal(0, "root", accounts.Access.ADMIN, None)
    assert accounts.update_user(db, hr.id, org_units=["DATA", "DATA"], actor=admin).org_units == ("DATA",)
    accounts.update_user(db, hr.id, active=True, actor=admin)
    with db.engine.connect() as conn:
        last = conn.execute(
            select(t.audit_events.c.details)
            .where(t.audit_events.c.action == "user.updated")
            .order_by(t.audit_events.c.id.desc())
        ).first()
    assert last is not None and "org_units" not in last.details and last.details["active"] is True


def test_accounts_refuse_lookalike_names_weak_passwords_and_units_that_do_nothing(db: Database) -> None:
    """From an admin's walk-through: 'Admin' beside 'admin', 'aaaaaaaaaa' as a password, an HR account
    with no unit (it saw nothing) and an employee with units (stored, doing nothing) were all accepted."""
    from micromoves.domain.errors import Conflict, InvalidValue
    from micromoves.services import org

    org.add_team(db, id="DATA", name="Data", actor="test")
    pw = "a long password"
    accounts.create_user(db, username="admin", password=pw, access="admin", actor="test")
    refused = [
        ({"username": "Admin", "password": pw, "access": "admin"}, Conflict, "username"),
        ({"username": "bo", "password": "aaaaaaaaaa"}, InvalidValue, "password"),
        ({"username": "carla", "password": "carla-carla-1"}, InvalidValue, "password"),
        ({"username": "hr2", "password": pw, "access": "hr"}, InvalidValue, "org_units"),
        ({"username": "emp", "password": pw, "org_units": ["DATA"]}, InvalidValue, "org_units"),
    ]
    for kwargs, error, field in refused:
        try:
            accounts.create_user(db, actor="test", **kwargs)  # type: ignore[arg-type]
        except error as exc:
            assert exc.field == field, (kwargs, exc)
        else:
            raise AssertionError(f"accepted: {kwargs}")
    hr = accounts.create_user(db, username="hr2", password=pw, access="hr", org_units=["DATA"], actor="test")
    admin = accounts.Principal(0, "root", accounts.Access.ADMIN, None)
    # leaving HR takes the units with it; becoming HR again needs them
    assert accounts.update_user(db, hr.id, access="employee", actor=admin).org_units == ()
    try:
        accounts.update_user(db, hr.id, access="hr", actor=admin)
    except InvalidValue as exc:
        assert exc.field == "org_units"
    else:
        raise AssertionError("an HR account without units was accepted")
    assert accounts.update_user(db, hr.id, access="hr", org_units=["DATA"], actor=admin).org_units == ("DATA",)


def test_the_users_page_can_still_save_accounts_its_form_sends_units_for(db: Database) -> None:
    """The users page sends its prefilled units with every save: an HR account switched to employee with
    the field still filled, and an older HR account with no unit being deactivated, were both refused."""
    from micromoves.services import org

    org.add_team(db, id="DATA", name="Data", actor="test")
    admin = accounts.Principal(0, "root", accounts.Access.ADMIN, None)
    pw = "a long password"
    hr = accounts.create_user(db, username="hr3", password=pw, access="hr", org_units=["DATA"], actor="test")
    assert accounts.update_user(db, hr.id, access="employee", org_units=["DATA"], actor=admin).org_units == ()
    legacy = accounts.create_user(db, username="hr4", password=pw, access="hr", org_units=["DATA"], actor="test")
    with db.write_engine.begin() as conn:  # as accounts made before units were required
        conn.execute(t.user_org_units.delete().where(t.user_org_units.c.user_id == legacy.id))
    saved = accounts.update_user(db, legacy.id, access="hr", active=False, org_units=[], actor=admin)
    assert (saved.active, saved.org_units) == (False, ())


def test_passwords_are_hashed_at_argon2s_recommended_cost_outside_the_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test hashes at the smallest cost (tests/conftest.py); the app itself keeps argon2-cffi's defaults,
    RFC 9106's second recommended profile: argon2id, 3 passes over 64 MiB with 4 lanes."""
    monkeypatch.undo()  # the app's own hasher, as the module made it
    hashed = accounts._hasher.hash("a long test password")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts._hasher.verify(hashed, "a long test password")
