"""Engines for SQLite (default) and PostgreSQL, and schema migration with Alembic."""

from __future__ import annotations

import sqlite3
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

from micromoves.storage.orm import start_mappers

if TYPE_CHECKING:  # Alembic is imported when a schema is checked or migrated, not by every command
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# How long a SQLite connection waits for another writer's lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000


class CommitWatch:
    """Counts the transactions committed while serving one request.

    The idempotency middleware sets one in :data:`COMMITS` around an unsafe API request: when the request
    then fails with a server error, a commit means its change was written, so the key must keep that answer
    (a retry would write again) instead of being released. A count, not the connection's say-so: the commit
    event fires before COMMIT is sent, so a commit that fails there counts too (the safe side: the retry is
    told about the error instead of running again).
    """

    def __init__(self) -> None:
        self.commits = 0


# Worker threads of the request (Starlette's threadpool) run in a copy of its context: they share the object.
COMMITS: ContextVar[CommitWatch | None] = ContextVar("micromoves_commits", default=None)


def _count_commit(_conn: Any) -> None:
    watch = COMMITS.get()
    if watch is not None:
        watch.commits += 1


class Database:
    """One database: an engine for reads, a variant that takes the write lock up front, and migrations."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        start_mappers()
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # The SQLite file, or None (PostgreSQL, an in-memory database). Created by ``migrate`` only: a command
        # that found no database at a mistyped path left the directories and an empty file behind.
        self.sqlite_path = (
            Path(self.url.database)
            if self.is_sqlite and self.url.database not in (None, "", ":memory:") and not self.url.query.get("uri")
            else None
        )
        self.engine = _make_engine(url, echo=echo)
        event.listen(self.engine, "commit", _count_commit)
        # Writers on SQLite start with BEGIN IMMEDIATE: they take the write lock before reading, so two
        # writers never both read-then-write and deadlock (SQLITE_BUSY mid-transaction).
        self.write_engine = self.engine.execution_options(micromoves_write=True)

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    def alembic_config(self) -> Config:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("sqlalchemy.url", self.url.render_as_string(hide_password=False))
        return cfg

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (default: the newest; creates it on an empty database).

        SQLite cannot alter a table in place, so migrations rebuild it (Alembic batch mode); with foreign
        keys on, dropping the old table would cascade-delete its children. As Alembic and SQLite advise,
        foreign keys are switched off for the migration and checked in full before it commits.
        """
        from alembic import command

        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        cfg = self.alembic_config()
        with self.write_engine.connect() as conn:
            raw = conn.connection.driver_connection if self.is_sqlite else None
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, where it takes effect
            try:
                with conn.begin():
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, revision)
                    if raw is not None:
                        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if broken:
                            raise RuntimeError(f"migration would break foreign keys: {broken[:5]}")
            finally:
                if raw is not None:
                    raw.execute("PRAGMA foreign_keys=ON")

    def is_current(self) -> bool:
        """True when the schema is at the newest migration (an older one is upgraded by ``migrate``)."""
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() == head

    def is_initialised(self) -> bool:
        if self.sqlite_path is not None and not self.sqlite_path.exists():
            return False  # connecting would create an empty file
        return inspect(self.engine).has_table("alembic_version")

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str, *, echo: bool) -> Engine:
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        # JIT compilation pays off for long analytical queries; for the app's short ones it only adds
        # 50–150 ms whenever the planner's cost estimate crosses jit_above_cost. Off for our sessions.
        return create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"options": "-c jit=off"})
    engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own implicit BEGIN is deferred
        # and skipped for some statements); see the SQLAlchemy docs on serializable isolation in SQLite.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if u.database and u.database != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # 64 MiB page cache (default 2 MiB): bulk imports touch many index pages; also speeds up reads.
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("micromoves_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine
