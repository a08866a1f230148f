"""Accounts, sessions and API tokens: who is asking.

Passwords are hashed with argon2id (argon2-cffi's defaults). Session cookies and API tokens are random
values the server only keeps as SHA-256 hashes, so a copy of the database hands out no live credentials.
A login always starts a new session (the id a browser presented before is discarded: no session
fixation); failed logins are throttled (see "Login throttling" below).

Passwords change two ways: the owner changes their own (:func:`change_password`, the current password
required, through the login throttle) and an admin sets another account's (:func:`set_password`, the
forgotten-password and first-password case). Either ends the account's other sessions; API tokens are
separate credentials and stay, unless the admin revokes them with the reset.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import ipaddress
import math
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, false, func, insert, select, true, update
from sqlalchemy.exc import OperationalError

from micromoves.domain.errors import (
    Conflict,
    Forbidden,
    InvalidValue,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from micromoves.services.paging import PageQuery, count
from micromoves.storage import tables as t
from micromoves.storage.db import SQLITE_BUSY_TIMEOUT_MS, Database
from micromoves.storage.uow import record_audit, utcnow

SESSION_LIFETIME = dt.timedelta(hours=12)
MIN_PASSWORD_DISTINCT = 5
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "mmt_"  # noqa: S105 (a public prefix that marks micromoves tokens, not a secret)
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,149}$")
ACTOR_CHARS = 64  # the audit trail's actor (and a move's history's, a review's reviewer): Principal.actor

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a login takes as long whether or not the user
    exists. Made on first use: an argon2 hash costs a tenth of a second that every import would pay."""
    return _hasher.hash("micromoves-no-such-user")


class Access(enum.StrEnum):
    """What an account may see beyond the org chart. Manager rights are not an access level: they follow
    from the org chart (a person's managers, a team's manager)."""

    EMPLOYEE = "employee"
    HR = "hr"
    ADMIN = "admin"


class Scope(enum.StrEnum):
    """What an API token may do, each right on its own (a token holds one or both): ``read`` the safe
    requests (GET, HEAD), ``write`` the unsafe ones (POST, PUT, PATCH, DELETE). Write does not include
    read: a write-only token (an HRIS that only pushes) is refused every read. A session holds both."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Principal:
    """The authenticated user of one request."""

    user_id: int
    username: str
    access: Access
    person_id: str | None
    scopes: frozenset[Scope] = frozenset({Scope.READ, Scope.WRITE})
    via_token: bool = False

    @property
    def actor(self) -> str:
        """The identity written to status changes and the audit log."""
        return self.person_id or f"user:{self.username}"

    @property
    def is_admin(self) -> bool:
        return self.access is Access.ADMIN

    @property
    def is_hr(self) -> bool:
        return self.access is Access.HR


@dataclass(frozen=True)
class User:
    id: int
    username: str
    access: Access
    person_id: str | None
    active: bool
    created_at: dt.datetime
    org_units: tuple[str, ...] = ()
    person_name: str | None = None  # the linked person's name, for lists (None: no person, or not looked up)


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


@dataclass(frozen=True)
class NewSession:
    cookie: str  # the value for the browser; the database only has its hash
    csrf_token: str
    principal: Principal


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _access(value: str) -> Access:
    try:
        return Access(value)
    except ValueError:
        raise InvalidValue(f"unknown access level {value!r}; one of: employee, hr, admin", field="access") from None


def check_password_strength(password: str, username: str = "", *, field: str = "password") -> None:
    """The rules every new password meets (a new account's, a changed or a reset one); ``field`` names the
    request field refused."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field=field)
    # Length alone let "aaaaaaaaaa" through; a long password made of a few characters or of the username is
    # the first thing a guesser tries.
    if len(set(password)) < MIN_PASSWORD_DISTINCT:
        raise InvalidValue(f"a password needs at least {MIN_PASSWORD_DISTINCT} different characters", field=field)
    if username and username.lower() in password.lower():
        raise InvalidValue("a password cannot contain the username", field=field)


def _check_units_fit(level: Access, org_units: Sequence[str]) -> None:
    """HR looks after org units (an HR account with none saw nothing at all); nobody else has any (an
    employee's units were stored and did nothing)."""
    if level is Access.HR and not org_units:
        raise InvalidValue("an HR account looks after at least one org unit (a team)", field="org_units")
    if level is not Access.HR and org_units:
        raise InvalidValue(f"only HR accounts have org units, not {level.value} accounts", field="org_units")


def _distinct(org_units: Sequence[str]) -> list[str]:
    """Each team once, in the order given (a team named twice failed on the unique key: a 500)."""
    return list(dict.fromkeys(org_units))


def create_user(
    db: Database,
    *,
    username: str,
    password: str,
    access: Access | str = Access.EMPLOYEE,
    person_id: str | None = None,
    org_units: Sequence[str] = (),
    actor: str,
) -> User:
    if not USERNAME.match(username):
        raise InvalidValue(
            "a username is 2–150 letters, digits or . _ @ - and starts with a letter or digit", field="username"
        )
    if person_id is None and len(f"user:{username}") > ACTOR_CHARS:
        # Such an account acts as "user:<username>" (Principal.actor): longer than the columns that record
        # who acted, its login and every change it made failed on PostgreSQL (a 500), after it was created.
        raise InvalidValue(
            "an account without a person is recorded as 'user:<username>' in the audit trail, so its username "
            f"has at most {ACTOR_CHARS - len('user:')} characters (got {len(username)}); choose a shorter one, "
            "or link the account to its person",
            field="username",
        )
    check_password_strength(password, username)
    level = _access(access)
    org_units = _distinct(org_units)
    _check_units_fit(level, org_units)
    now = utcnow()
    with db.write_engine.begin() as conn:
        # Ignoring case: "Admin" beside "admin" is an impersonation waiting to happen (usernames are ASCII,
        # so SQL lower() folds them the same on SQLite and PostgreSQL).
        taken = conn.scalar(select(t.users.c.username).where(func.lower(t.users.c.username) == username.lower()))
        if taken is not None:
            raise Conflict(
                f"username {username!r} is taken" + (f" (as {taken!r})" if taken != username else ""), field="username"
            )
        if person_id is not None:
            if conn.scalar(select(t.people.c.id).where(t.people.c.id == person_id)) is None:
                raise NotFound(f"unknown person {person_id!r}", field="person_id")
            if conn.scalar(select(t.users.c.id).where(t.users.c.person_id == person_id)) is not None:
                raise Conflict(f"person {person_id} already has an account", field="person_id")
        _check_teams(conn, org_units)
        user_id = conn.execute(
            insert(t.users)
            .values(
                username=username,
                password_hash=_hasher.hash(password),
                person_id=person_id,
                access=level.value,
                active=True,
                created_at=now,
            )
            .returning(t.users.c.id)
        ).scalar_one()
        if org_units:
            conn.execute(insert(t.user_org_units), [{"user_id": user_id, "team_id": u} for u in org_units])
        record_audit(
            conn,
            actor,
            "user.created",
            "user",
            str(user_id),
            username=username,
            access=level.value,
            person_id=person_id,
        )
    return User(user_id, username, level, person_id, True, now, tuple(org_units))


def _check_teams(conn: Any, team_ids: Sequence[str]) -> None:
    if not team_ids:
        return
    known = set(conn.scalars(select(t.teams.c.id).where(t.teams.c.id.in_(list(team_ids)))))
    unknown = [x for x in team_ids if x not in known]
    if unknown:
        raise InvalidValue(f"unknown team {unknown[0]!r}", field="org_units")


def list_users(db: Database, page: PageQuery | None = None) -> tuple[list[User], int]:
    """The accounts by username (unique), a ``page`` of them (None: all, for the command line), and how
    many there are in all."""
    u, ou = t.users.c, t.user_org_units.c
    q = (
        select(t.users, t.people.c.name.label("person_name"))
        .outerjoin(t.people, t.people.c.id == u.person_id)
        .order_by(u.username, u.id)
    )
    with db.engine.connect() as conn:
        total = count(conn, select(u.id))
        rows = conn.execute(q if page is None else page.rows(q)).all()
        units: dict[int, list[str]] = {}
        shown = select(ou.user_id, ou.team_id)
        if page is not None:
            shown = shown.where(ou.user_id.in_([r.id for r in rows]))
        for uid, team in conn.execute(shown):
            units.setdefault(uid, []).append(team)
        return [_user(r, units.get(r.id, []), r.person_name) for r in rows], total


def _user(r: Any, units: Sequence[str], person_name: str | None = None) -> User:
    return User(
        r.id, r.username, Access(r.access), r.person_id, r.active, r.created_at, tuple(sorted(units)), person_name
    )


def update_user(
    db: Database,
    user_id: int,
    *,
    access: Access | str | None = None,
    active: bool | None = None,
    org_units: Sequence[str] | None = None,
    actor: Principal,
) -> User:
    """Change an account's access level, active flag or HR org units (admins only, checked by the caller's
    policy). An admin cannot lock themself out."""
    org_units = None if org_units is None else _distinct(org_units)
    with db.write_engine.begin() as conn:
        row = conn.execute(select(t.users).where(t.users.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"unknown user {user_id}", field="user_id")
        values: dict[str, Any] = {}
        if access is not None:
            values["access"] = _access(access).value
        if active is not None:
            values["active"] = active
        if user_id == actor.user_id and (values.get("active") is False or values.get("access", "admin") != "admin"):
            raise Forbidden("you cannot remove your own admin access", field="access")
        level, was = Access(values.get("access", row.access)), Access(row.access)
        held = list(conn.scalars(select(t.user_org_units.c.team_id).where(t.user_org_units.c.user_id == user_id)))
        if level is not Access.HR:
            if org_units and was is not Access.HR and not held:
                _check_units_fit(level, org_units)  # units given to a non-HR account: refused
            # Leaving HR the units go (the users page sends its prefilled units field with every save), and
            # the audit record below says so.
            org_units = [] if held or org_units else None
        else:
            if org_units is None and level is not was:
                org_units = held  # becoming HR: the units held, if any (checked below)
            if org_units is not None and not org_units and (level is not was or held):
                # An HR account without units sees nothing; one that has none already may still be saved
                # (deactivated, say) without being given some.
                _check_units_fit(level, org_units)
        if values:
            conn.execute(update(t.users).where(t.users.c.id == user_id).values(**values))
        if values.get("active") is False:
            conn.execute(delete(t.web_sessions).where(t.web_sessions.c.user_id == user_id))
            # Revoked, not only blocked while inactive: reactivating the account must not bring back every
            # token it had (a leaked one among them); the user makes new ones.
            tc = t.api_tokens.c
            conn.execute(
                update(t.api_tokens).where(tc.user_id == user_id, tc.revoked_at.is_(None)).values(revoked_at=utcnow())
            )
        if org_units is not None:
            _check_teams(conn, org_units)
            conn.execute(delete(t.user_org_units).where(t.user_org_units.c.user_id == user_id))
            if org_units:
                conn.execute(insert(t.user_org_units), [{"user_id": user_id, "team_id": u} for u in org_units])
        # Only what changed: an update that left the units alone was audited as "org_units=[]", as if cleared.
        changed = values if org_units is None else {**values, "org_units": list(org_units)}
        record_audit(conn, actor.actor, "user.updated", "user", str(user_id), **changed)
        return _user_row(conn, user_id)


def _user_row(conn: Connection, user_id: int) -> User:
    """One account as list_users shows it (with the linked person's name: update_user's answer lacked it)."""
    new = conn.execute(
        select(t.users, t.people.c.name.label("person_name"))
        .outerjoin(t.people, t.people.c.id == t.users.c.person_id)
        .where(t.users.c.id == user_id)
    ).one()
    units = list(conn.scalars(select(t.user_org_units.c.team_id).where(t.user_org_units.c.user_id == user_id)))
    return _user(new, units, new.person_name)


# --------------------------------------------------------------------------------------------- login


# Login throttling. Every failed login is counted three ways over the last FAILURE_WINDOW, and each count
# makes the next attempt wait (a 429 with Retry-After) a stepped delay after the latest failure it counted:
#
# - per username *and* address (PAIR_THROTTLE): one guesser slowed down on one account; 5 failures free (an
#   owner's typos), then 30 s, doubling up to 15 minutes. A successful login there starts it afresh.
# - per address over every username (ADDRESS_THROTTLE): password spraying, one password tried on many
#   accounts from one address; 30 free, then the same steps. A success does not reset it, or a sprayer with
#   an account of their own would log in now and then to spray on.
# - per username over every address (USERNAME_THROTTLE): one account guessed from many addresses. This one
#   must never become a lockout: anyone can fail logins for any username from addresses of their own, and
#   the former hard limit (100 failures from anywhere locked the account for 15 minutes) let them keep the
#   real owner out for as long as they liked. It only slows down: 20 free, then 2 s doubling up to 30 s.
#   That still holds a guesser with unlimited addresses to about 120 guesses an hour on one account (the
#   former limit allowed 400), and the owner arriving from a new address waits half a minute at most.
#
# The address and username counts are waived for an address the username logged in from successfully
# within KNOWN_ADDRESS_AGE (the owner's office or home): an attacker elsewhere cannot earn that, so an attack
# spread over many addresses does not slow the owner there at all, nor does a colleague spraying from the
# office's shared address. The per-pair count is never waived (a guesser behind that same shared address).
#
# A throttled attempt is refused before the password is looked at, and is not counted: checking it would
# tell the guesser whether the guess was right (a throttle that lets the right password through throttles
# nothing), and counting it would let a flood of refused attempts push the delay on for ever.
FAILURE_WINDOW = dt.timedelta(hours=1)  # well past the longest delay, so the steps are not forgotten mid-attack
KNOWN_ADDRESS_AGE = dt.timedelta(days=30)


@dataclass(frozen=True)
class Throttle:
    """A stepped delay for failures counted one way: ``free`` failures cost nothing; from the ``free``-th
    on, the next attempt waits ``first_delay`` after the latest failure, doubled for each further failure up
    to ``max_delay``."""

    scope: str  # what is counted, for the audit log
    free: int
    first_delay: dt.timedelta
    max_delay: dt.timedelta

    def delay(self, failures: int) -> dt.timedelta:
        if failures < self.free:
            return dt.timedelta(0)
        # The exponent is capped first: a long attack would overflow timedelta.
        return min(self.max_delay, self.first_delay * (1 << min(failures - self.free, 32)))


PAIR_THROTTLE = Throttle("username and address", 5, dt.timedelta(seconds=30), dt.timedelta(minutes=15))
ADDRESS_THROTTLE = Throttle("address", 30, dt.timedelta(seconds=30), dt.timedelta(minutes=15))
USERNAME_THROTTLE = Throttle("username", 20, dt.timedelta(seconds=2), dt.timedelta(seconds=30))


@dataclass(frozen=True)
class _Failures:
    count: int
    latest: dt.datetime | None


@dataclass(frozen=True)
class _LoginRecord:
    """What the recent attempts say about one username at one address."""

    pair: _Failures
    address: _Failures
    username: _Failures
    known_address: bool  # the username logged in from this address within KNOWN_ADDRESS_AGE

    def counted(self) -> list[tuple[Throttle, _Failures]]:
        if self.known_address:
            return [(PAIR_THROTTLE, self.pair)]
        return [(PAIR_THROTTLE, self.pair), (ADDRESS_THROTTLE, self.address), (USERNAME_THROTTLE, self.username)]

    def retry_after(self, now: dt.datetime) -> int:
        """Seconds until an attempt is let through (0: now)."""
        until = max(
            (f.latest + th.delay(f.count) for th, f in self.counted() if f.latest is not None and f.count >= th.free),
            default=now,
        )
        return max(0, math.ceil((until - now).total_seconds()))


def throttle_address(address: str) -> str:
    """The address failures are counted under. An IPv6 client is counted by its /64 network: a host is
    usually handed a whole /64 and could take a fresh address in it for every guess. Anything that is not an
    IP address (a test client's name, '' when the server does not know the peer) is counted as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _lock_login_keys(conn: Connection, db: Database, *keys: str) -> None:
    """Serialise the check-then-record of attempts on the same username or from the same address. SQLite's
    BEGIN IMMEDIATE does it already; on PostgreSQL two parallel guesses would both read the counts before
    either is recorded, and a burst of a thousand would all get through. Transaction-level advisory locks,
    taken in one global order so that two logins never wait for each other in a cycle."""
    if db.is_sqlite:
        return
    for key in sorted({int.from_bytes(hashlib.sha256(k.encode()).digest()[:8], "big", signed=True) for k in keys}):
        conn.execute(select(func.pg_advisory_xact_lock(key)))


def _login_record(conn: Connection, username: str, address: str, now: dt.datetime) -> _LoginRecord:
    c = t.login_attempts.c
    pair = (c.username == username, c.ip == address)
    last_success = conn.scalar(
        select(func.max(c.id)).where(*pair, c.success == true(), c.at >= now - KNOWN_ADDRESS_AGE)
    )
    # The pair's own count restarts at its latest success (ids, not times: two attempts may share a time).
    pair_since = c.id > (last_success or 0)
    recent = (c.success == false(), c.at >= now - FAILURE_WINDOW)
    counts = conn.execute(
        select(
            func.count().filter(*pair, pair_since),
            func.max(c.at).filter(*pair, pair_since),
            func.count().filter(c.ip == address),
            func.max(c.at).filter(c.ip == address),
            func.count().filter(c.username == username),
            func.max(c.at).filter(c.username == username),
        ).where(*recent, (c.username == username) | (c.ip == address))
    ).one()
    return _LoginRecord(
        _Failures(counts[0] or 0, counts[1]),
        _Failures(counts[2] or 0, counts[3]),
        _Failures(counts[4] or 0, counts[5]),
        known_address=last_success is not None,
    )


def _prune_attempts(conn: Connection, db: Database, now: dt.datetime) -> None:
    """Forget failures past the window and successes past KNOWN_ADDRESS_AGE: nothing reads them, and an attack
    from many addresses would otherwise grow the table without end. One pruner at a time on PostgreSQL (the
    others skip it): two deleting the same rows could deadlock each other."""
    if not db.is_sqlite and not conn.scalar(select(func.pg_try_advisory_xact_lock(_PRUNE_LOCK))):
        return
    c = t.login_attempts.c
    conn.execute(delete(t.login_attempts).where(c.success == false(), c.at < now - FAILURE_WINDOW))
    conn.execute(delete(t.login_attempts).where(c.success == true(), c.at < now - KNOWN_ADDRESS_AGE))


_PRUNE_LOCK = int.from_bytes(hashlib.sha256(b"micromoves login_attempts prune").digest()[:8], "big", signed=True)


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def _begin_attempt(db: Database, username: str, address: str, now: dt.datetime, *, what: str) -> _Attempt:
    """The throttle's check for one password attempt, and the attempt recorded as a failure until the
    password proves right (before it is checked: parallel guesses each see the ones before them). Raises
    :class:`TooManyAttempts` when the caller must wait; ``what`` names the attempts in its message."""
    # Counted by the username as typed, known or not: the throttle's answer must not tell which exist.
    user_key, address_key = username[:150], throttle_address(address)
    with db.write_engine.begin() as conn:
        _lock_login_keys(conn, db, f"login user {user_key}", f"login address {address_key}")
        record = _login_record(conn, user_key, address_key, now)
        wait = record.retry_after(now)
        if wait:
            raise TooManyAttempts(f"too many {what}; try again in {_wait_text(wait)}", retry_after_seconds=wait)
        attempt_id = conn.execute(
            insert(t.login_attempts)
            .values(username=user_key, ip=address_key, at=now, success=False)
            .returning(t.login_attempts.c.id)
        ).scalar_one()
        _prune_attempts(conn, db, now)
    return _Attempt(attempt_id, record, user_key, address)


@dataclass(frozen=True)
class _Attempt:
    id: int
    before: _LoginRecord  # the counts before this attempt
    username: str
    address: str

    def succeeded(self, conn: Connection) -> None:
        conn.execute(update(t.login_attempts).where(t.login_attempts.c.id == self.id).values(success=True))

    def failed(self, db: Database) -> None:
        _audit_throttling(db, self.before, self.username, self.address)


def authenticate(db: Database, username: str, password: str, *, address: str = "") -> Principal:
    """Check a username and password; raise :class:`NotAuthenticated` (one message for every failure, so
    it does not tell which usernames exist) or :class:`TooManyAttempts` (with the seconds to wait) when
    throttled. ``address`` is the client's address (see ``web.routes._address`` on proxies)."""
    attempt = _begin_attempt(db, username, address, utcnow(), what="failed logins")
    # Checked outside the write transaction: argon2 is slow on purpose, and for that long SQLite's write lock
    # would hold up every other writer (it did: the check ran inside the transaction).
    with db.engine.connect() as conn:
        row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
    ok = _verify(row.password_hash if row is not None else _dummy_hash(), password)
    ok = ok and row is not None and row.active
    if ok and row is not None:
        with db.write_engine.begin() as conn:
            attempt.succeeded(conn)
            if _hasher.check_needs_rehash(row.password_hash):
                conn.execute(update(t.users).where(t.users.c.id == row.id).values(password_hash=_hasher.hash(password)))
        return Principal(row.id, row.username, Access(row.access), row.person_id)
    attempt.failed(db)
    raise NotAuthenticated("wrong username or password")


def _audit_throttling(db: Database, before: _LoginRecord, username: str, address: str) -> None:
    """An audit record when this failure starts a count's delays (once per count reaching its limit, not per
    refused attempt: a flood of those would flood the log too)."""
    # Only the counts that apply (a known address waives two): the log must not say "throttled" for an
    # attempt that was not slowed.
    tripped = [(th, f.count + 1) for th, f in before.counted() if f.count + 1 == th.free]
    if not tripped:
        return
    with db.write_engine.begin() as conn:
        for th, failures in tripped:
            record_audit(
                conn,
                "anonymous",
                "login.throttled",
                "login",
                username,
                scope=th.scope,
                address=address,
                failures=failures,
                window_minutes=int(FAILURE_WINDOW.total_seconds() // 60),
                retry_after_seconds=int(th.delay(failures).total_seconds()),
            )


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def start_session(db: Database, principal: Principal, *, replaces: str | None = None) -> NewSession:
    """A fresh session for a successful login. ``replaces`` (the cookie the browser sent, if any) is
    deleted, so an id planted before login never becomes an authenticated session."""
    now = utcnow()
    cookie, csrf, session = _new_session_row(principal.user_id, now)
    with db.write_engine.begin() as conn:
        if replaces:
            conn.execute(delete(t.web_sessions).where(t.web_sessions.c.id == _digest(replaces)))
        conn.execute(delete(t.web_sessions).where(t.web_sessions.c.expires_at < now))
        conn.execute(insert(t.web_sessions).values(**session))
        record_audit(conn, principal.actor, "user.login", "user", str(principal.user_id))
    return NewSession(cookie, csrf, principal)


def session_principal(db: Database, cookie: str) -> tuple[Principal, str] | None:
    """The user and CSRF token of a live session, or None."""
    s, u = t.web_sessions.c, t.users.c
    with db.engine.connect() as conn:
        row = conn.execute(
            select(u.id, u.username, u.access, u.person_id, s.csrf_token, s.expires_at)
            .join_from(t.web_sessions, t.users, s.user_id == u.id)
            .where(s.id == _digest(cookie), u.active)
        ).first()
    if row is None or row.expires_at <= utcnow():
        return None
    return Principal(row.id, row.username, Access(row.access), row.person_id), row.csrf_token


def end_session(db: Database, cookie: str) -> None:
    with db.write_engine.begin() as conn:
        conn.execute(delete(t.web_sessions).where(t.web_sessions.c.id == _digest(cookie)))


# ------------------------------------------------------------------------------------------- passwords


@dataclass(frozen=True)
class PasswordSet:
    """What an admin's reset did."""

    user: User
    sessions_ended: int
    tokens_revoked: int


def _new_session_row(user_id: int, now: dt.datetime) -> tuple[str, str, dict[str, Any]]:
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    row = {
        "id": _digest(cookie),
        "user_id": user_id,
        "csrf_token": csrf,
        "created_at": now,
        "expires_at": now + SESSION_LIFETIME,
    }
    return cookie, csrf, row


def change_password(
    db: Database, principal: Principal, *, current_password: str, new_password: str, address: str = ""
) -> NewSession:
    """The signed-in owner changes their own password, proving the current one. Every session of the account
    ends and the caller gets a new one back (the session they came with is re-issued, not kept: a copy of
    its cookie, wherever it went, is as dead as the others); API tokens stay.

    A wrong current password is a failed login: it goes through the login throttle, counted under the
    account's username and the caller's address, and shares its budget with the login form. Anyone holding a
    session (a browser left open, a stolen cookie) could otherwise use this form as an unthrottled oracle to
    learn the password, which outlives the session and opens every other place it is used. Counted as a
    login failure, not separately, so that the two doors give a guesser one allowance, not two."""
    if principal.via_token:
        # Tokens cannot mint tokens either: a leaked token must not lead to the account's own credentials.
        raise Forbidden("an API token cannot change the password; log in", field="current_password")
    # Checked before the current password, so that these refusals cost no argon2 check and no attempt (and
    # tell nothing of the current password: the same-password check compares the two values sent).
    check_password_strength(new_password, principal.username, field="new_password")
    if new_password == current_password:
        raise InvalidValue("the new password is the same as the current one", field="new_password")
    now = utcnow()
    attempt = _begin_attempt(db, principal.username, address, now, what="wrong passwords")
    with db.engine.connect() as conn:
        row = conn.execute(select(t.users).where(t.users.c.id == principal.user_id)).first()
    if row is None or not row.active:
        raise NotAuthenticated("log in first")  # deactivated meanwhile: its sessions are gone already
    if not _verify(row.password_hash, current_password):
        attempt.failed(db)
        raise InvalidValue("the current password is wrong", field="current_password")
    hashed = _hasher.hash(new_password)  # before the transaction: argon2 would hold SQLite's write lock
    cookie, csrf, session = _new_session_row(row.id, now)
    with db.write_engine.begin() as conn:
        attempt.succeeded(conn)
        u = t.users.c
        # Only over the hash just verified: a change or reset that landed in between wins, and this one is
        # refused rather than silently replacing it.
        changed = conn.execute(
            update(t.users).where(u.id == row.id, u.password_hash == row.password_hash).values(password_hash=hashed)
        )
        if changed.rowcount != 1:
            raise Conflict("the password was changed meanwhile; log in with the new one", field="current_password")
        ended = conn.execute(delete(t.web_sessions).where(t.web_sessions.c.user_id == row.id)).rowcount
        conn.execute(insert(t.web_sessions).values(**session))
        # Not the password, nor its hash.
        record_audit(conn, principal.actor, "user.password_changed", "user", str(row.id), sessions_ended=ended)
    return NewSession(cookie, csrf, principal)


def set_password(
    db: Database, user_id: int, *, password: str, revoke_tokens: bool = False, actor: Principal
) -> PasswordSet:
    """An admin sets another account's password (a forgotten one, or the first one handed out): the same
    rules as any new password, and every session of the account ends. Its API tokens stay unless
    ``revoke_tokens``: they are separate credentials an integration may run on, and a forgotten password
    compromises none of them; after a suspected compromise, revoke them too (or deactivate the account).

    Not for the admin's own account: this path asks for no current password, so a session of theirs left
    open would be enough to take the account over for good; they change theirs with
    :func:`change_password`. (The CLI's operator, who has the database anyway, is no account: that is the
    way back in for an admin who forgot theirs.)"""
    if not actor.is_admin:
        raise Forbidden("only administrators may set passwords")
    if user_id == actor.user_id:
        raise Forbidden("change your own password with your current password (Password page)", field="user_id")
    with db.engine.connect() as conn:
        row = conn.execute(select(t.users.c.username).where(t.users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"unknown user {user_id}", field="user_id")
    check_password_strength(password, row.username)
    hashed = _hasher.hash(password)
    with db.write_engine.begin() as conn:
        conn.execute(update(t.users).where(t.users.c.id == user_id).values(password_hash=hashed))
        ended = conn.execute(delete(t.web_sessions).where(t.web_sessions.c.user_id == user_id)).rowcount
        revoked = 0
        if revoke_tokens:
            tc = t.api_tokens.c
            revoked = conn.execute(
                update(t.api_tokens).where(tc.user_id == user_id, tc.revoked_at.is_(None)).values(revoked_at=utcnow())
            ).rowcount
        record_audit(
            conn,
            actor.actor,
            "user.password_set",
            "user",
            str(user_id),
            username=row.username,
            sessions_ended=ended,
            tokens_revoked=revoked,
        )
        user = _user_row(conn, user_id)
    return PasswordSet(user, ended, revoked)


def username_of(db: Database, user_id: int) -> str | None:
    """The username of this account (None: no such account)."""
    with db.engine.connect() as conn:
        name: str | None = conn.scalar(select(t.users.c.username).where(t.users.c.id == user_id))
        return name


def user_named(db: Database, username: str) -> User:
    """The account with this username (exactly as written: usernames are unique ignoring case, but a login
    takes them as written)."""
    with db.engine.connect() as conn:
        user_id = conn.scalar(select(t.users.c.id).where(t.users.c.username == username))
        if user_id is None:
            raise NotFound(f"unknown user {username!r}", field="username")
        return _user_row(conn, user_id)


# ------------------------------------------------------------------------------------------ API tokens


def create_token(db: Database, principal: Principal, *, name: str, scopes: Sequence[str]) -> tuple[str, ApiToken]:
    """A new API token for the principal's own account. The secret is returned once and never stored."""
    if not name.strip():
        raise InvalidValue("give the token a name", field="name")
    try:
        wanted = sorted({Scope(s) for s in scopes})
    except ValueError:
        raise InvalidValue("scopes are 'read' and/or 'write'", field="scopes") from None
    if not wanted:
        raise InvalidValue("a token needs at least one scope", field="scopes")
    if principal.via_token:
        raise Forbidden("an API token cannot create tokens; log in", field="scopes")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with db.write_engine.begin() as conn:
        token_id = conn.execute(
            insert(t.api_tokens)
            .values(
                user_id=principal.user_id,
                name=name.strip()[:200],
                token_hash=_digest(secret),
                prefix=secret[: len(TOKEN_PREFIX) + 4],
                scopes=[s.value for s in wanted],
                created_at=now,
            )
            .returning(t.api_tokens.c.id)
        ).scalar_one()
        record_audit(conn, principal.actor, "token.created", "api_token", str(token_id), scopes=wanted)
    return secret, ApiToken(token_id, name.strip(), secret[:8], tuple(s.value for s in wanted), now, None, None)


def list_tokens(db: Database, principal: Principal, page: PageQuery) -> tuple[list[ApiToken], int]:
    """A page of the principal's own API tokens, oldest first, and how many they have in all."""
    c = t.api_tokens.c
    mine = select(t.api_tokens).where(c.user_id == principal.user_id)
    with db.engine.connect() as conn:
        total = count(conn, mine)
        rows = conn.execute(page.rows(mine.order_by(c.id))).all()
    tokens = [
        ApiToken(r.id, r.name, r.prefix, tuple(r.scopes), r.created_at, r.revoked_at, r.last_used_at) for r in rows
    ]
    return tokens, total


def revoke_token(db: Database, principal: Principal, token_id: int) -> None:
    if Scope.WRITE not in principal.scopes:
        raise Forbidden("a read-only API token cannot revoke tokens", field="scopes")
    c = t.api_tokens.c
    with db.write_engine.begin() as conn:
        owner = conn.scalar(select(c.user_id).where(c.id == token_id))
        if owner is None or (owner != principal.user_id and not principal.is_admin):
            raise NotFound(f"unknown token {token_id}", field="token_id")
        conn.execute(update(t.api_tokens).where(c.id == token_id, c.revoked_at.is_(None)).values(revoked_at=utcnow()))
        record_audit(conn, principal.actor, "token.revoked", "api_token", str(token_id))


TOKEN_TOUCH = dt.timedelta(minutes=5)  # how stale "last used" may get: one write per token per 5 minutes


def _touch(db: Database, token_id: int, last_used_at: dt.datetime | None) -> None:
    """Record when a token was last used (the tokens page shows it, so that an unused one can be revoked),
    at most every TOKEN_TOUCH: a write on every API call would queue the callers behind SQLite's lock."""
    now = utcnow()
    if last_used_at is not None and now - last_used_at < TOKEN_TOUCH:
        return
    # Best effort, never waiting: authentication runs on the web app's event loop, and on SQLite another
    # writer (an import, plan-all) may hold the lock for minutes. Then the touch is skipped, not queued
    # (busy_timeout 0 for this one statement); the next call after the lock is gone records it.
    with db.write_engine.connect() as conn:
        # On the driver's connection: through SQLAlchemy, the pragma would begin the transaction itself.
        raw = conn.connection.driver_connection if db.is_sqlite else None
        if raw is not None:
            raw.execute("PRAGMA busy_timeout=0")
        try:
            with conn.begin():
                conn.execute(
                    update(t.api_tokens)
                    .where(t.api_tokens.c.id == token_id)
                    .where((t.api_tokens.c.last_used_at.is_(None)) | (t.api_tokens.c.last_used_at < now - TOKEN_TOUCH))
                    .values(last_used_at=now)
                )
        except OperationalError:
            return  # locked (SQLite): skipped
        finally:
            if raw is not None:
                raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def token_principal(db: Database, secret: str) -> Principal | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    c, u = t.api_tokens.c, t.users.c
    with db.engine.connect() as conn:
        row = conn.execute(
            select(
                u.id, u.username, u.access, u.person_id, c.scopes, c.revoked_at, c.id.label("token_id"), c.last_used_at
            )
            .join_from(t.api_tokens, t.users, c.user_id == u.id)
            .where(c.token_hash == _digest(secret), u.active)
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    _touch(db, row.token_id, row.last_used_at)
    return Principal(
        row.id,
        row.username,
        Access(row.access),
        row.person_id,
        scopes=frozenset(Scope(s) for s in row.scopes),
        via_token=True,
    )
