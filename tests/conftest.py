"""Test fixtures. Every test that takes ``db`` runs twice: on SQLite and on PostgreSQL (the PostgreSQL case is
marked ``postgres``: a plain ``pytest`` leaves it out, ``make test`` and CI run it).

PostgreSQL is found at ``MICROMOVES_TEST_POSTGRES_URL`` (default: the local server, trust auth). Without a
server those cases are skipped with the reason shown — unless ``MICROMOVES_REQUIRE_POSTGRES=1`` (CI), where
a missing server is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from micromoves.storage import tables
from micromoves.storage.db import Database

PG_URL = os.environ.get("MICROMOVES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("MICROMOVES_REQUIRE_POSTGRES") == "1"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
# Kept between tests: loading O*NET once per session keeps the suite fast.
KEPT_TABLES = {*tables.REFERENCE_TABLES, "skills", "alembic_version"}


def _prepare(db: Database) -> None:
    from micromoves.services.taxonomy import load_taxonomy

    db.migrate()
    load_taxonomy(db)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    _prepare(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> Iterator[str]:
    admin_url = make_url(PG_URL)
    name = f"micromoves_test_{worker_id}_{os.getpid()}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            # A throwaway database: commits need not wait for the disk (a crash loses only test data).
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except Exception as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required but not reachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    _prepare(db)
    db.dispose()
    yield url
    if url in _EMPTYING:
        _EMPTYING.pop(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# One statement list, sent in one round trip: DELETE rather than TRUNCATE (a test leaves few rows behind, and
# TRUNCATE's new files and checkpoints cost far more than deleting them), children before parents, then the
# id sequences back to 1.
EMPTY_SQL = "; ".join(
    [
        *(
            f'DELETE FROM "{tbl.name}"'
            for tbl in reversed(tables.metadata.sorted_tables)
            if tbl.name not in KEPT_TABLES
        ),
        "SELECT setval(s.oid, 1, false) FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace "
        "WHERE s.relkind = 'S' AND n.nspname = current_schema()",
    ]
)
_EMPTYING: dict[str, Engine] = {}  # one engine per test database, kept for the session (connecting costs)


def empty_postgres(url: str) -> None:
    """Empty the organisation tables and restart their id sequences."""
    engine = _EMPTYING.get(url)
    if engine is None:
        engine = _EMPTYING[url] = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(EMPTY_SQL)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    url = request.getfixturevalue("pg_url")
    empty_postgres(url)
    yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    request.getfixturevalue("pg_url")  # skips (or fails in CI) without a server
    with scratch_postgres(f"micromoves_empty_{os.getpid()}") as url:
        yield url


@contextmanager
def scratch_postgres(name: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database ``name`` on the test server, dropped afterwards."""
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session", autouse=True)
def _cli_command_built_once() -> Iterator[None]:
    """Typer's CliRunner.invoke builds the click command from the app on every call (every command's signature
    and type hints, about 30 ms); the app does not change during a run, so it is built once per app."""
    import functools

    import typer.main
    import typer.testing

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command))
        yield


@pytest.fixture(autouse=True)
def _quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the smallest cost: the defaults spend a tenth of a second per hash or check, on purpose,
    and many tests make accounts, sign in or change passwords (test_accounts checks the production cost)."""
    from argon2 import PasswordHasher

    from micromoves.services import accounts

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(autouse=True)
def _forget_what_ifs() -> None:
    """What-if answers are cached per database URL and audit watermark; test databases reuse both."""
    from micromoves.services import planning

    planning._what_if_cache.clear()


# Tests that run for seconds (a Ray cluster, a browser, a 200-client race, whole-API sweeps). Scheduled
# first, so that the two xdist workers end together instead of one waiting for the last long test.
LONG_TESTS = (
    "test_plan_all_on_ray_local",
    "test_a_move_from_request_to_skill_on_the_dashboard",
    "test_matrix",
    "test_api_conforms_to_its_schema",
    "test_200_clients_race_for_the_last_seat",
    "test_kill_9_during_import_changes_nothing",
)


BACKEND_FIXTURES = ("db_url", "empty_db_url", "world")


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: getattr(item, "originalname", item.name) not in LONG_TESTS)  # stable
    # The PostgreSQL case of every database test is marked: a plain `pytest` (the quick loop while working)
    # runs the SQLite cases, `make test` and CI run both (-m 'not slow').
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if any(params.get(name) == "postgresql" for name in BACKEND_FIXTURES):
            item.add_marker(pytest.mark.postgres)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly how many database tests ran on each backend (CI must show both)."""
    counts: dict[str, dict[str, int]] = {"sqlite": {}, "postgresql": {}}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            for backend, by_outcome in counts.items():
                if f"[{backend}" in nodeid or f"-{backend}]" in nodeid:
                    by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
    for backend, by_outcome in counts.items():
        if by_outcome:
            parts = ", ".join(f"{n} {o}" for o, n in sorted(by_outcome.items()))
            terminalreporter.write_line(f"database tests on {backend}: {parts}")
