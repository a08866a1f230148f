"""plans remember the digest of the problem they solve

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 12:00:00

``plans.problem_digest`` is the SHA-256 of the planning problem a plan solves (the person's levels and
capacity, the target's requirements, the options on offer, the start date; ``planning.problem_digest``).
``plan-all --changed-only`` compares it with the problem of today and keeps the plans whose problem is the
same instead of solving them again. Plans stored before this revision have none and are planned again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("plans", sa.Column("problem_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("problem_digest")
