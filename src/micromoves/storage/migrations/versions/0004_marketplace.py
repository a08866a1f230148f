"""marketplace: opportunities, applications, onboarding checklists, handoffs, allocation runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 00:13:44.949845
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import micromoves.storage.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "allocation_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", micromoves.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("equity_weight", sa.Float(), nullable=False),
        sa.Column("release_limit", sa.Float(), nullable=False),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_runs")),
    )
    op.create_table(
        "opportunities",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "stretch_assignment",
                "rotation",
                "lateral_swap",
                "temporary_lead",
                "gig",
                "acting_role",
                "responsibility_handoff",
                "shadowing",
                "mentoring",
                "course",
                name="move_kind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("host_team_id", sa.String(length=64), nullable=False),
        sa.Column("host_manager_id", sa.String(length=64), nullable=True),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("percent_time", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("required_skills", sa.JSON(), nullable=False),
        sa.Column("preferred_skills", sa.JSON(), nullable=False),
        sa.Column("builds_skills", sa.JSON(), nullable=False),
        sa.Column("expected_outcomes", sa.Text(), nullable=False),
        sa.Column("criteria_template", sa.JSON(), nullable=False),
        sa.Column("min_role_level", sa.Integer(), nullable=True),
        sa.Column("min_tenure_months", sa.Integer(), nullable=True),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.Column("application_deadline", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", micromoves.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_manager_id"], ["people.id"], name=op.f("fk_opportunities_host_manager_id_people")
        ),
        sa.ForeignKeyConstraint(["host_team_id"], ["teams.id"], name=op.f("fk_opportunities_host_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["template_id"], ["move_templates.id"], name=op.f("fk_opportunities_template_id_move_templates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
    )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opportunities_host_team_id"), ["host_team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunities_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunities_template_id"), ["template_id"], unique=False)

    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("opportunity_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("applied_at", micromoves.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_at", micromoves.storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("move_id", sa.String(length=64), nullable=True),
        sa.Column("plan_benefit_weeks", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["move_id"], ["moves.id"], name=op.f("fk_applications_move_id_moves"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_applications_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_applications_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("opportunity_id", "person_id", name="uq_applications_opportunity_person"),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index("ix_applications_opportunity_status", ["opportunity_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_person_id"), ["person_id"], unique=False)

    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("move_id", sa.String(length=64), nullable=False),
        sa.Column("holder_id", sa.String(length=64), nullable=False),
        sa.Column("receiver_id", sa.String(length=64), nullable=False),
        sa.Column("responsibilities", sa.Text(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("return_on", sa.Date(), nullable=False),
        sa.Column("backfill_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["backfill_id"], ["people.id"], name=op.f("fk_handoffs_backfill_id_people")),
        sa.ForeignKeyConstraint(["holder_id"], ["people.id"], name=op.f("fk_handoffs_holder_id_people")),
        sa.ForeignKeyConstraint(["move_id"], ["moves.id"], name=op.f("fk_handoffs_move_id_moves"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["receiver_id"], ["people.id"], name=op.f("fk_handoffs_receiver_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
        sa.UniqueConstraint("move_id", name=op.f("uq_handoffs_move_id")),
    )
    op.create_table(
        "onboarding_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("move_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["move_id"], ["moves.id"], name=op.f("fk_onboarding_items_move_id_moves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onboarding_items")),
    )
    with op.batch_alter_table("onboarding_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_onboarding_items_move_id"), ["move_id"], unique=False)

    op.create_table(
        "allocation_assignments",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_allocation_assignments_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["allocation_runs.id"],
            name=op.f("fk_allocation_assignments_run_id_allocation_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "application_id", name=op.f("pk_allocation_assignments")),
    )


def downgrade() -> None:

    op.drop_table("allocation_assignments")
    with op.batch_alter_table("onboarding_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_onboarding_items_move_id"))

    op.drop_table("onboarding_items")
    op.drop_table("handoffs")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_person_id"))
        batch_op.drop_index("ix_applications_opportunity_status")

    op.drop_table("applications")
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunities_template_id"))
        batch_op.drop_index(batch_op.f("ix_opportunities_status"))
        batch_op.drop_index(batch_op.f("ix_opportunities_host_team_id"))

    op.drop_table("opportunities")
    op.drop_table("allocation_runs")
