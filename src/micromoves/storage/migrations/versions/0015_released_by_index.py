"""moves: an index on who released the person (``released_by_id``)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 15:00:00

A manager's release ledger selects the moves they released, and HR's release report groups every lent move
by its releaser: without an index each ledger read every move (the session's review measured a 300,000-move
organisation).
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_moves_released_by_id", "moves", ["released_by_id"])


def downgrade() -> None:
    op.drop_index("ix_moves_released_by_id", table_name="moves")
