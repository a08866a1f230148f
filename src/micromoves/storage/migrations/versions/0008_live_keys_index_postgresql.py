"""PostgreSQL: a covering partial index of the live applications' integer keys, for the allocation scan

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 08:30:00

The org-wide allocation reads the person key, opportunity key and plan benefit of every live application.
From the table, PostgreSQL walks each wide row (text ids, timestamps, a note) up to those last columns and
tests its status; from this index (live applications only, the three values stored in it) an index-only
scan reads narrow entries and tests nothing: about a third less server time at 2,000,000 applications.
It only pays while the visibility map is fresh (after a VACUUM, which autovacuum runs), so the service
asks for it only then (``services.allocation._index_only``). SQLite has its own index (migration 0006).

Not in ``tables.metadata`` (it exists on one backend only); the schema test leaves it out of the comparison.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAME = "ix_applications_live_keys"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON applications (id) "
            "INCLUDE (person_key, opportunity_key, plan_benefit_weeks) WHERE status IN ('applied', 'waitlisted')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {NAME}")
