"""roles, people and moves keep the import file's columns beyond the interchange format

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 04:00:00

conventions.md extends its formats with optional columns, and an HRIS export carries its own (cost centre,
grade, …). An import used to refuse a file with any column it did not know, so a newer format version or a
plain HRIS export was rejected whole. Such columns are now kept per record in ``extra`` (a JSON object of
text by column name; NULL when there are none) and written back by the export.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("roles", "people", "moves")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("extra", sa.JSON(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild would lose the integer-key triggers (0005).
    for table in TABLES:
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN extra')
