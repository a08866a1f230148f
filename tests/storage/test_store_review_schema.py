"""What Alembic's comparison of the migrated schema with tables.py does not look at: CHECK constraints,
server defaults and what a foreign key does on delete. The migrated database is compared with one that
tables.py creates directly, as the database reflects both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from micromoves.storage import tables
from micromoves.storage.db import Database
from tests.conftest import scratch_postgres


@pytest.fixture
def declared_url(empty_db_url: str, tmp_path: Any) -> Iterator[str]:
    """A second empty database of the same backend, for tables.py's own ``create_all``."""
    if empty_db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'declared.sqlite3'}"
        return
    with scratch_postgres(make_url(empty_db_url).database + "_declared") as url:
        yield url


def _beyond_alembic(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return {
            name: {
                "checks": sorted((c["name"], c["sqltext"]) for c in found.get_check_constraints(name)),
                "defaults": {c["name"]: c.get("default") for c in found.get_columns(name)},
                "foreign keys": sorted(
                    (f["name"], tuple(f["constrained_columns"]), sorted((f.get("options") or {}).items()))
                    for f in found.get_foreign_keys(name)
                ),
            }
            for name in found.get_table_names()
            if name != "alembic_version"
        }
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrations_give_the_declared_checks_defaults_and_delete_rules(empty_db_url: str, declared_url: str) -> None:
    migrated = Database(empty_db_url)
    migrated.migrate()
    migrated.dispose()
    declared = create_engine(declared_url)
    tables.metadata.create_all(declared)
    declared.dispose()
    assert _beyond_alembic(empty_db_url) == _beyond_alembic(declared_url)
