"""Shared benchmark helpers: databases to measure on, and the result table."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from micromoves.services.taxonomy import load_taxonomy
from micromoves.storage.db import Database

PG_ADMIN = os.environ.get("MICROMOVES_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
console = Console(width=170)


@dataclass
class Row:
    benchmark: str
    backend: str
    size: str
    seconds: float
    rate: str
    reference: str
    ref_seconds: float | None
    target: str

    @property
    def ratio(self) -> str:
        return f"{self.seconds / self.ref_seconds:.2f}×" if self.ref_seconds else "-"


def print_rows(rows: list[Row]) -> None:
    table = Table(title="micromoves benchmarks", title_justify="left", header_style="bold")
    for col in ("benchmark", "backend", "size", "seconds", "rate", "reference (same run)", "ref s", "ratio", "target"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.benchmark,
            r.backend,
            r.size,
            f"{r.seconds:.1f}",
            r.rate,
            r.reference,
            f"{r.ref_seconds:.1f}" if r.ref_seconds else "-",
            r.ratio,
            r.target,
        )
    console.print(table)
    console.print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)


def fresh_database(backend: str, name: str, tmp: str) -> Database:
    """An empty, migrated database with the O*NET taxonomy loaded."""
    if backend == "sqlite":
        path = f"{tmp}/{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        db = Database(f"sqlite:///{path}")
    else:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        db = Database(make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False))
    db.migrate()
    load_taxonomy(db)
    return db
