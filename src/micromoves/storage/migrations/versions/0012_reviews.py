"""reviews: every earlier review of a move, kept when a later review supersedes it

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 09:00:00

A move has one outcome (``outcomes``, unique per move): a second review (two ``continue`` reviews, then
``end``) overwrote the first one's decision, notes and confidential flag, and the criteria's ratings and the
gains it recorded. The review a later one supersedes is now kept here whole (``services.moves.review_move``);
the move page and its JSON twin list them, confidential notes hidden as the current outcome's are. Existing
moves have no earlier review to keep: what was overwritten before is gone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("move_id", sa.String(length=64), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "continue",
                "extend",
                "convert",
                "revert",
                "end",
                name="outcome_decision",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("reviewer_id", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("gains", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["move_id"], ["moves.id"], name=op.f("fk_reviews_move_id_moves"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    op.create_index(op.f("ix_reviews_move_id"), "reviews", ["move_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_reviews_move_id"), table_name="reviews")
    op.drop_table("reviews")
