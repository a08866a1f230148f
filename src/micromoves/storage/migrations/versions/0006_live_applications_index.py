"""SQLite: a partial index of the live applications that holds each one's packed allocation value

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 06:00:00

The org-wide allocation reads every live application as one 64-bit value: person key, opportunity key and
plan benefit weeks packed together (``services.allocation.PACKED``, which must stay identical to the
expression below: a test checks that SQLite uses this index for the scan). On SQLite a scan of this index
(row id and that value, live applications only) costs about half a scan of the table, whose rows carry
text ids, dates and notes. PostgreSQL reads the table in one sequential scan and cannot answer the value
from an index, so there the index would only slow down writes: it is not created.

The index is on an expression, which SQLAlchemy does not reflect: it is not in ``tables.metadata``, and a
later migration that rebuilds ``applications`` in SQLite batch mode must create it again (:func:`create`).
The allocation names it in an ``INDEXED BY`` hint (SQLite with statistics would rather not use it), so
without it the allocation on SQLite fails with "no such index" instead of slowing down unnoticed.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NAME = "ix_applications_live_packed"
PACKED = "(person_key << 34) | (opportunity_key << 10) | coalesce(plan_benefit_weeks, 0)"
LIVE = "status IN ('applied', 'waitlisted')"


def create() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON applications (id, ({PACKED})) WHERE {LIVE}")


def upgrade() -> None:
    create()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP INDEX IF EXISTS {NAME}")
