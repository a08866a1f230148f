"""idempotency keys: an API client's retry of an unsafe request gets the first response instead of a repeat

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 05:00:00

An integration that posts a move, an application or an allocation and loses the answer (a timeout, a
dropped connection) cannot tell whether it happened; retrying created it twice. With an ``Idempotency-Key``
header the first response is kept for a day per user and key, and a retry gets it back
(``services/idempotency.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import micromoves.storage.tables

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", micromoves.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
