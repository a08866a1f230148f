"""applications: when the organisation answered (``offered_or_rejected_at``), apart from the applicant's answer

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 03:00:00

The congestion report's "days to a decision" measured ``applied_at → decided_at``, but ``decided_at`` is the
time of the application's latest change of status by anyone: an applicant accepting an offer a week later
moved it, so the figure measured applied → accepted (or declined, or withdrawn, which is no decision of the
organisation at all). ``offered_or_rejected_at`` records the organisation's answer alone — the offer (a host's,
or an applied allocation's) or the rejection (a host's, or a closed or cancelled opportunity's) — and the
applicant's own actions never touch it. (Not named ``offered_at``: a rejection is an answer too; nor
``decided_at``, which exists with the meaning above and which the API, the audit trail and the acceptance's
two-person rule read.) Waitlisting is not an answer: a waitlisted application still waits for one.

Backfill, where the data says it:

- ``offered`` rows: their ``decided_at``. Offered is reached only from applied or waitlisted, and nothing but
  the applicant moves an offered row on, so the latest change is the offer itself.
- ``rejected`` rows: the offer of this round from the audit trail if there was one (closing or cancelling an
  opportunity rejects an offer nobody accepted too, and the organisation had answered when it offered), else
  their ``decided_at`` (the rejection, final).
- ``accepted``, ``declined`` and ``withdrawn`` rows that had an offer: the time of that offer from the audit
  trail — an ``application.offered`` event of the application, or the ``allocation.applied`` event of an
  applied allocation run that assigned it — the earliest at or after ``applied_at`` (a renewed application,
  re-applied after the person's own withdrawal or decline, starts again at its new ``applied_at``; an offer
  of the earlier round is not this round's answer).
- Everything else stays NULL, and the report leaves it out rather than guess: rows still awaiting an answer
  (applied, waitlisted), rows withdrawn before any offer, and rows whose offer left no audit record (rows
  written in bulk, such as a demo built before this migration, or an audit trail trimmed since).
  ``applied_at`` would invent a zero-day answer and ``decided_at`` is the applicant's answer, not the host's.

A plain ADD COLUMN, nullable (as migration 0014): on SQLite a table rebuild would drop the integer-key
triggers of migration 0005. An index on ``allocation_assignments.application_id`` first: the backfill looks up
each application's runs (without it, a scan of the assignments per application: minutes on a long history,
with the applications table locked), and deleting an application cascades to its assignments by that column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMN = "offered_or_rejected_at"
AFTER_AN_OFFER = "('accepted', 'declined', 'withdrawn')"  # statuses the applicant moved an offer on to

# The offer of this round of the application, from the audit trail: the host's (marketplace.decide records
# ``application.offered`` in the offer's transaction) or an applied allocation's (apply_allocation records
# ``allocation.applied`` for its run in the transaction that makes the offers).
OFFER_EVENTS = """
    SELECT min(offered.at) FROM (
        SELECT e.at AS at FROM audit_events e
        WHERE e.entity_type = 'application' AND e.action = 'application.offered'
          AND e.entity_id = CAST(applications.id AS VARCHAR(300))
        UNION ALL
        SELECT e.at AS at FROM allocation_assignments aa
        JOIN allocation_runs r ON r.id = aa.run_id AND r.status = 'applied'
        JOIN audit_events e ON e.entity_type = 'allocation_run' AND e.action = 'allocation.applied'
          AND e.entity_id = CAST(aa.run_id AS VARCHAR(300))
        WHERE aa.application_id = applications.id
    ) offered
    WHERE offered.at >= applications.applied_at
"""


INDEX = "ix_allocation_assignments_application"


def upgrade() -> None:
    op.create_index(INDEX, "allocation_assignments", ["application_id"])
    op.add_column("applications", sa.Column(COLUMN, sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE applications SET {COLUMN} = decided_at WHERE status = 'offered'")  # noqa: S608
    op.execute(
        f"UPDATE applications SET {COLUMN} = coalesce(({OFFER_EVENTS}), decided_at) "  # noqa: S608
        "WHERE status = 'rejected'"
    )
    op.execute(
        f"UPDATE applications SET {COLUMN} = ({OFFER_EVENTS}) WHERE status IN {AFTER_AN_OFFER}"  # noqa: S608
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild would lose the integer-key triggers (0005).
    op.execute(f"ALTER TABLE applications DROP COLUMN {COLUMN}")
    op.drop_index(INDEX, "allocation_assignments")
