"""Login throttling (services.accounts): slows guessers down per username and address, per address and per
username, and never keeps an account's owner out for longer than a short, bounded delay.

Time is the throttle's own clock (``accounts.utcnow``), moved by the tests: nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from micromoves.domain.errors import NotAuthenticated, TooManyAttempts
from micromoves.services import accounts
from micromoves.storage import tables as t
from tests.web.conftest import PASSWORD, World

WRONG = "not the password at all"
PAIR, ADDRESS, USERNAME = accounts.PAIR_THROTTLE, accounts.ADDRESS_THROTTLE, accounts.USERNAME_THROTTLE


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(dt.datetime.now(dt.UTC))
    monkeypatch.setattr(accounts, "utcnow", c)
    return c


def fail(world: World, username: str, address: str) -> None:
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(world.db, username, WRONG, address=address)


def refused(world: World, username: str, address: str, password: str = PASSWORD) -> int:
    """The Retry-After of an attempt the throttle refuses."""
    with pytest.raises(TooManyAttempts) as refusal:
        accounts.authenticate(world.db, username, password, address=address)
    assert refusal.value.retry_after_seconds is not None
    return refusal.value.retry_after_seconds


def logs_in(world: World, username: str, address: str) -> bool:
    return accounts.authenticate(world.db, username, PASSWORD, address=address).username == username


def throttled_audits(world: World, username: str) -> list[dict[str, object]]:
    a = t.audit_events.c
    with world.db.engine.connect() as conn:
        return list(
            conn.scalars(select(a.details).where(a.action == "login.throttled", a.entity_id == username).order_by(a.id))
        )


def test_an_attack_on_one_account_from_many_addresses_never_keeps_its_owner_out(world: World, clock: Clock) -> None:
    """The denial of service this throttle replaces: 100 failures for a username from anywhere locked the
    account for everyone, its owner included, for 15 minutes, again and again."""
    assert logs_in(world, "eva", "203.0.113.10")  # eva's office
    clock.advance(3600)
    # An attacker with a fresh address for every guess, retrying the moment the throttle allows.
    attacked_from, failures, waits = clock.now, 0, []
    while failures < 200:
        try:
            accounts.authenticate(world.db, "eva", WRONG, address=f"10.{failures // 250}.{failures % 250}.1")
        except NotAuthenticated:
            failures += 1
        except TooManyAttempts as exc:
            assert exc.retry_after_seconds is not None
            waits.append(exc.retry_after_seconds)
            clock.advance(exc.retry_after_seconds)
    # Slowed down: past the 20 free failures, at most one guess per 30 s on this account (200 took 1.5 h)...
    assert max(waits) == USERNAME.max_delay.total_seconds()
    assert clock.now - attacked_from >= (failures - USERNAME.free - 4) * USERNAME.max_delay
    # ... but the owner is never held up for more than those 30 s: from a new address, right after the
    # attack's latest guess, the right password waits 30 s at most, then gets in.
    wait = refused(world, "eva", "198.51.100.77")
    assert 0 < wait <= USERNAME.max_delay.total_seconds()
    clock.advance(wait)
    assert logs_in(world, "eva", "198.51.100.77")
    # From her office (an address she logged in from), she is not held up at all, attack or no attack.
    fail(world, "eva", "10.9.9.9")
    assert logs_in(world, "eva", "203.0.113.10")
    # And the audit log says the account came under attack, once (not once per refused attempt).
    assert [x["scope"] for x in throttled_audits(world, "eva")] == ["username"]


def test_one_address_trying_many_usernames_is_throttled(world: World, clock: Clock) -> None:
    """Password spraying: one password tried on many accounts from one address (one failure each, so the
    per-pair count never reaches its limit)."""
    sprayer = "198.51.100.7"
    assert logs_in(world, "emil", sprayer)  # emil works behind the same (shared, NAT) address
    for i in range(ADDRESS.free):
        fail(world, f"user{i}", sprayer)
    first = ADDRESS.first_delay.total_seconds()
    assert refused(world, "someone-else", sprayer, WRONG) == first
    assert refused(world, "mira", sprayer) == first  # the right password is refused unchecked: no oracle
    clock.advance(first - 1)
    assert refused(world, "mira", sprayer) == 1  # refused attempts were not counted
    clock.advance(1)
    fail(world, "user-next", sprayer)
    assert refused(world, "user-after", sprayer, WRONG) == 2 * first  # stepped: doubled per further failure
    # Elsewhere, nobody is slowed; behind the shared address, emil (who logged in from there) is not either.
    assert logs_in(world, "mira", "203.0.113.20")
    assert logs_in(world, "emil", sprayer)
    assert {x["scope"] for x in throttled_audits(world, f"user{ADDRESS.free - 1}")} == {"address"}


def test_failures_for_one_username_at_one_address_step_up_and_a_success_starts_afresh(
    world: World, clock: Clock
) -> None:
    office = "192.0.2.50"
    assert logs_in(world, "hugo", office)  # a known address does not skip this count
    for _ in range(PAIR.free):
        fail(world, "hugo", office)
    delays = []
    for _ in range(8):
        wait = refused(world, "hugo", office)
        delays.append(wait)
        clock.advance(wait)
        fail(world, "hugo", office)
    assert delays == [30, 60, 120, 240, 480, 900, 900, 900]  # 30 s doubling, capped at 15 minutes
    # Only that pair: hugo elsewhere and others at that address are not slowed.
    assert logs_in(world, "hugo", "192.0.2.51")
    assert logs_in(world, "dana", office)
    clock.advance(refused(world, "hugo", office))
    assert logs_in(world, "hugo", office)
    # The success starts the pair's count afresh: typos are free again.
    for _ in range(PAIR.free - 1):
        fail(world, "hugo", office)
    assert logs_in(world, "hugo", office)
    assert [x["scope"] for x in throttled_audits(world, "hugo")] == ["username and address"]


def test_a_burst_of_parallel_guesses_gets_no_more_than_the_free_ones(world: World, clock: Clock) -> None:
    """The counts are read and the attempt recorded in one step: on PostgreSQL parallel requests all read
    the counts before any was recorded, and a burst got through whole."""

    def guess(_: int) -> str:
        try:
            accounts.authenticate(world.db, "otto", WRONG, address="198.51.100.99")
        except NotAuthenticated:
            return "checked"
        except TooManyAttempts:
            return "throttled"
        return "in"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(guess, range(24)))
    assert (outcomes.count("checked"), outcomes.count("throttled")) == (PAIR.free, 24 - PAIR.free)


def test_ipv6_clients_are_counted_by_their_64(world: World, clock: Clock) -> None:
    assert accounts.throttle_address("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert accounts.throttle_address("::ffff:192.0.2.1") == "192.0.2.1"
    assert accounts.throttle_address("192.0.2.1") == "192.0.2.1"
    assert accounts.throttle_address("testclient") == "testclient"
    # A fresh address from the same /64 for every guess is still one client.
    for i in range(PAIR.free):
        fail(world, "eva", f"2001:db8:1:2::{i + 1:x}")
    assert refused(world, "eva", "2001:db8:1:2:ffff::9") == PAIR.first_delay.total_seconds()
    assert logs_in(world, "eva", "2001:db8:1:3::1")


def test_old_attempts_are_forgotten(world: World, clock: Clock) -> None:
    assert logs_in(world, "mira", "192.0.2.7")
    fail(world, "mira", "192.0.2.8")

    def rows() -> int:
        with world.db.engine.connect() as conn:
            return (
                conn.scalar(
                    select(func.count()).select_from(t.login_attempts).where(t.login_attempts.c.username == "mira")
                )
                or 0
            )

    clock.advance(accounts.FAILURE_WINDOW.total_seconds() + 1)
    fail(world, "dana", "192.0.2.9")
    assert rows() == 1  # the failure went, the success stays (it marks a known address)
    clock.advance(accounts.KNOWN_ADDRESS_AGE.total_seconds())
    fail(world, "dana", "192.0.2.9")
    assert rows() == 0


# ------------------------------------------------------------------------------------------ over HTTP


def test_a_throttled_login_says_when_to_retry_in_the_api_and_the_form(world: World, clock: Clock) -> None:
    api = world.client()
    for _ in range(PAIR.free):
        assert api.post("/api/v1/session", json={"username": "emil", "password": WRONG}).status_code == 401
    r = api.post("/api/v1/session", json={"username": "emil", "password": PASSWORD})
    assert (r.status_code, r.json()["error"]["code"], r.headers["retry-after"]) == (429, "too_many_attempts", "30")
    assert "try again in 30 seconds" in r.json()["error"]["message"]

    form = world.client()
    form.headers["accept"] = "text/html"
    form.get("/login")
    data = {"username": "emil", "password": PASSWORD, "csrf_token": form.cookies.get("mm_login_csrf")}
    r = form.post("/login", data=data, follow_redirects=False)
    assert (r.status_code, r.headers["retry-after"]) == (429, "30") and "try again in 30 seconds" in r.text
    clock.advance(30)
    assert api.post("/api/v1/session", json={"username": "emil", "password": PASSWORD}).status_code == 200


def test_a_client_cannot_pick_the_address_it_is_counted_under(world: World, clock: Clock) -> None:
    """The app reads no X-Forwarded-For itself: a guesser sending a new one with every guess is still one
    address (only `micromoves serve`'s uvicorn, for a proxy in MICROMOVES_FORWARDED_ALLOW_IPS, rewrites it)."""
    c = world.client()
    for i in range(PAIR.free):
        r = c.post(
            "/api/v1/session",
            json={"username": "dana", "password": WRONG},
            headers={"x-forwarded-for": f"10.0.0.{i}", "x-real-ip": f"10.0.1.{i}", "forwarded": f"for=10.0.2.{i}"},
        )
        assert r.status_code == 401
    r = c.post(
        "/api/v1/session", json={"username": "dana", "password": PASSWORD}, headers={"x-forwarded-for": "10.9.9.9"}
    )
    assert r.status_code == 429


@pytest.mark.parametrize(
    ("setting", "proxy_headers", "trusted"),
    [(None, True, None), ("", False, None), ("10.0.0.0/8,192.0.2.1", True, "10.0.0.0/8,192.0.2.1")],
)
def test_serve_believes_x_forwarded_for_only_from_the_configured_proxies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, setting: str | None, proxy_headers: bool, trusted: str | None
) -> None:
    """Unset, uvicorn's own default (FORWARDED_ALLOW_IPS, else a proxy on this machine); empty, no proxy."""
    import uvicorn
    from typer.testing import CliRunner

    from micromoves.cli.main import app
    from micromoves.settings import get_settings

    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: ran.update(kwargs))
    monkeypatch.setenv("MICROMOVES_DATABASE_URL", "")  # serve sets it for its server process: restored after
    if setting is None:
        monkeypatch.delenv("MICROMOVES_FORWARDED_ALLOW_IPS", raising=False)
    else:
        monkeypatch.setenv("MICROMOVES_FORWARDED_ALLOW_IPS", setting)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["--db", str(tmp_path / "serve.sqlite3"), "serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (ran["proxy_headers"], ran["forwarded_allow_ips"]) == (proxy_headers, trusted)
