"""Defects found by the accounts review (acc): each test failed before its fix."""

from __future__ import annotations

import pytest

from micromoves.domain.errors import InvalidValue
from micromoves.services import accounts, org
from micromoves.storage.db import Database
from micromoves.storage.uow import UnitOfWork

# 68 characters, as the username pattern allows (up to 150): an e-mail address as a login name.
LONG = "hris-integration.service-account@subsidiary.example-corporation.com"
PASSWORD = "a long test password"


def test_an_account_without_a_person_gets_no_username_too_long_for_the_audit_trail(db: Database) -> None:
    """An account without a person acts as "user:<username>", and the actor columns (the audit trail, a move's
    history, its reviewer) hold 64 characters while a username may have 150: on PostgreSQL such an account was
    created, then could not log in at all (its login's audit record failed: value too long for type character
    varying(64), a 500), nor change anything. Refused when the account is created, naming the username; an
    account of a person (recorded by the person's id) may keep a long one."""
    with pytest.raises(InvalidValue) as caught:
        accounts.create_user(db, username=LONG, password=PASSWORD, access="admin", actor="t")
    assert caught.value.field == "username" and "59" in caught.value.message
    assert accounts.list_users(db) == ([], 0)

    fits = LONG[: 64 - len("user:")]
    accounts.create_user(db, username=fits, password=PASSWORD, access="admin", actor="t")
    assert len(accounts.authenticate(db, fits, PASSWORD).actor) == 64

    org.add_person(db, id="P1", name="Ada", actor="t")
    user = accounts.create_user(db, username=LONG, password=PASSWORD, person_id="P1", actor="t")
    principal = accounts.authenticate(db, LONG, PASSWORD, address="10.0.0.1")
    session = accounts.start_session(db, principal)
    assert accounts.session_principal(db, session.cookie) is not None
    with UnitOfWork(db, write=False) as uow:
        assert [e.actor for e in uow.audit_log.list(entity_id=str(user.id)) if e.action == "user.login"] == ["P1"]
