"""login throttle: failed logins counted by address as well as by username, and old attempts pruned

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 09:00:00

The login throttle (``services.accounts``) counts recent failures per username and address, per address and
per username, and lets an address the username logged in from before skip the last two. Counting by address
scanned the table (only ``username, at`` was indexed), and nothing ever deleted a row, so an attack from many
addresses grew the table, and every login's count with it, without end. Logins now prune failures older
than an hour and successes older than 30 days; the index on ``success, at`` serves that, and the first
prune happens here rather than in whichever login comes first after the upgrade.

IPv6 clients are now counted by their /64 network (``throttle_address``), so rows written before under a
full IPv6 address no longer match their client: at most an hour of failures is forgotten, and such a
client's earlier successes no longer mark its address as known; both refill with use.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_login_attempts_ip_at", "login_attempts", ["ip", "at"], unique=False)
    op.create_index("ix_login_attempts_success_at", "login_attempts", ["success", "at"], unique=False)
    attempts = sa.table(
        "login_attempts", sa.column("at", sa.DateTime(timezone=True)), sa.column("success", sa.Boolean())
    )
    now = dt.datetime.now(dt.UTC)
    # The same bounds as services.accounts.FAILURE_WINDOW and KNOWN_ADDRESS_AGE (a migration does not import
    # the code it migrates for: that code changes later, the migration must not).
    op.execute(attempts.delete().where(attempts.c.success == sa.false(), attempts.c.at < now - dt.timedelta(hours=1)))
    op.execute(attempts.delete().where(attempts.c.success == sa.true(), attempts.c.at < now - dt.timedelta(days=30)))


def downgrade() -> None:
    op.drop_index("ix_login_attempts_success_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_ip_at", table_name="login_attempts")
