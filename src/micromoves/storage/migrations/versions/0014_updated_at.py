"""people and moves: when each last changed (``updated_at``), for an HRIS that pulls only what changed

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 11:00:00

An integration had to pull every person and every move each time to find what changed. ``updated_at`` is
set on every write from now on (``storage.tables._updated_at``); rows that exist already get the time of
this migration, the earliest time at which their last change is known to lie. A plain ADD COLUMN, nullable:
on SQLite a NOT NULL column with a default needs a table rebuild, which would drop the integer-key triggers
of migration 0005 (and readers count NULL as changed, so nothing is ever left out).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("people", "moves")


def upgrade() -> None:
    now = dt.datetime.now(dt.UTC)
    for table in TABLES:
        op.add_column(table, sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        if op.get_bind().dialect.name == "sqlite":
            # As SQLAlchemy's SQLite DateTime stores it (naive UTC text), so that comparisons in SQL hold.
            value: object = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        else:
            value = now
        op.execute(sa.text(f'UPDATE "{table}" SET updated_at = :now').bindparams(now=value))  # noqa: S608 (TABLES)
        op.create_index(f"ix_{table}_updated_at", table, ["updated_at"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_updated_at", table_name=table)
        # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild would lose the integer-key triggers (0005).
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN updated_at')
