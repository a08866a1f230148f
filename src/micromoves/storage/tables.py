"""Table definitions (SQLAlchemy Core). Alembic migrations are the source of truth for the schema in a
database; this metadata must match them (a test compares the two)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

from micromoves.domain.model import (
    AssignmentReason,
    Decision,
    MoveKind,
    MoveStatus,
    PlanStatus,
    Provenance,
    Rating,
)

# Stable constraint names, so Alembic migrations can alter them on SQLite and PostgreSQL alike.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; micromoves stores UTC timestamps only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as short strings with the enum *values* (what the CSV and API use), not native PG enums:
    # adding a move kind is then a data migration, not a type migration.
    return Enum(cls, name=name, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


ID = String(64)

teams = Table(
    "teams",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("function", String(100), nullable=False, default=""),
    Column("parent_id", ID, ForeignKey("teams.id"), nullable=True),
)

skills = Table(
    "skills",
    metadata,
    Column("id", String(300), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("kind", String(32), nullable=False, default="skill"),
)

roles = Table(
    "roles",
    metadata,
    Column("id", ID, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("onet_code", String(10), nullable=True, index=True),
    Column("level", Integer, nullable=False, default=1),
    Column("team_id", ID, ForeignKey("teams.id"), nullable=True),
    Column("critical", Boolean, nullable=False, default=False),
    # The import file's columns beyond the interchange format (an HRIS's cost centre, grade…), as text by
    # column name, exported back as they came (conventions.md: formats are extended with optional columns,
    # so a file may carry columns this version does not know; they are kept, never dropped). NULL: none.
    Column("extra", JSON(none_as_null=True), nullable=True),
)

role_skills = Table(
    "role_skills",
    metadata,
    Column("role_id", ID, ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", String(300), ForeignKey("skills.id"), primary_key=True),
    Column("level", Float, nullable=False),
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _updated_at() -> Column[dt.datetime]:
    """When the record last changed, for ``changed_since`` (an HRIS pulling what changed since its last
    pull). Set on insert and on every UPDATE through SQLAlchemy; a change to a move's criteria, check-ins,
    review or gains, or to a person's skills or role history, sets it on the parent too (storage.orm), and
    the import and the demo set it on what they write; a rename sets it on what shows the name, a move given
    to another person on both people (storage.changes). NULL: not known (rows written before migration 0014
    got its time), and such a record is always among the changed ones, never silently left out."""
    return Column("updated_at", UTCDateTime, nullable=True, index=True, default=_now, onupdate=_now)


people = Table(
    "people",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(300), nullable=False),
    Column("email", String(300), nullable=False, default=""),
    Column("role_id", ID, ForeignKey("roles.id"), nullable=True, index=True),
    Column("manager_id", ID, ForeignKey("people.id"), nullable=True, index=True),
    Column("team_id", ID, ForeignKey("teams.id"), nullable=True, index=True),
    Column("hire_date", Date, nullable=True),
    Column("location", String(200), nullable=False, default=""),
    Column("capacity_percent", Integer, nullable=False, default=100),
    Column("home_role_min_percent", Integer, nullable=False, default=0),
    Column("target_role_id", ID, ForeignKey("roles.id"), nullable=True),
    Column("extra", JSON(none_as_null=True), nullable=True),  # columns beyond the format, as on roles
    # An integer surrogate of ``id``, filled by the database (migration 0005: a sequence and trigger on
    # PostgreSQL, a trigger on SQLite) whatever path inserts the row. Bulk readers (the org-wide
    # allocation) read millions of references as integers instead of mapping text ids one by one.
    Column("key", BigInteger, nullable=True),
    Index("ux_people_key", "key", unique=True),
    _updated_at(),
)

moves = Table(
    "moves",
    metadata,
    Column("id", ID, primary_key=True),
    Column("person_id", ID, ForeignKey("people.id"), nullable=False, index=True),
    Column("kind", _enum(MoveKind, "move_kind"), nullable=False),
    Column("title", String(500), nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("percent_time", Integer, nullable=False),
    Column("status", _enum(MoveStatus, "move_status"), nullable=False, index=True),
    Column("host_team_id", ID, ForeignKey("teams.id"), nullable=True, index=True),
    Column("target_role_id", ID, ForeignKey("roles.id"), nullable=True),
    Column("released_by_id", ID, ForeignKey("people.id"), nullable=True, index=True),  # the release ledger
    Column("expected_outcomes", Text, nullable=False, default=""),
    Column("skills_targeted", JSON, nullable=False, default=list),
    Column("converted_assignment_id", Integer, nullable=True),
    Column("template_id", ID, ForeignKey("move_templates.id"), nullable=True),
    Column("plan_id", Integer, ForeignKey("plans.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("extra", JSON(none_as_null=True), nullable=True),  # columns beyond the format, as on roles
    _updated_at(),
)

success_criteria = Table(
    "success_criteria",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("statement", Text, nullable=False),
    Column("rating", _enum(Rating, "criterion_rating"), nullable=True),
    Column("evidence", Text, nullable=False, default=""),
    UniqueConstraint("move_id", "position", name="uq_success_criteria_move_position"),
)

check_ins = Table(
    "check_ins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("on", Date, nullable=False),
    Column("author_id", ID, nullable=False),
    Column("note", Text, nullable=False),
    Column("progress", Integer, nullable=True),
)

skill_gains = Table(
    "skill_gains",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("skill_id", String(300), ForeignKey("skills.id"), nullable=False),
    Column("level_before", Float, nullable=False),
    Column("level_after", Float, nullable=False),
)

status_changes = Table(
    "status_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("from_status", _enum(MoveStatus, "move_status"), nullable=True),
    Column("to_status", _enum(MoveStatus, "move_status"), nullable=False),
    Column("actor", ID, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False, default=""),
)

extensions = Table(
    "extensions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("old_end", Date, nullable=False),
    Column("new_end", Date, nullable=False),
    Column("actor", ID, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False, default=""),
)


def _review_columns() -> list[Column[Any]]:
    """What a review decided, by whom and when: the current one (outcomes) and earlier ones (reviews)."""
    return [
        Column("decision", _enum(Decision, "outcome_decision"), nullable=False),
        Column("reviewed_on", Date, nullable=False),
        Column("reviewer_id", ID, nullable=False),
        Column("notes", Text, nullable=False, default=""),
        Column("confidential", Boolean, nullable=False, default=False),
    ]


outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="CASCADE"), nullable=False, unique=True),
    *_review_columns(),
)

# Earlier reviews of a move: a later review (a second ``continue``, then ``end``) replaces the outcome, the
# criteria's ratings and the gains; the review it supersedes is kept here whole (migration 0012).
reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="CASCADE"), nullable=False, index=True),
    *_review_columns(),
    # The ratings as that review left them ({"1": {"rating": "met", "evidence": "…"}}) and its gains
    # ([{"skill_id", "level_before", "level_after"}]).
    Column("ratings", JSON, nullable=False, default=dict),
    Column("gains", JSON, nullable=False, default=list),
)

skill_levels = Table(
    "skill_levels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", ID, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("skill_id", String(300), ForeignKey("skills.id"), nullable=False),
    Column("level", Float, nullable=False),
    Column("provenance", _enum(Provenance, "skill_provenance"), nullable=False),
    Column("assessed_on", Date, nullable=False),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="SET NULL"), nullable=True),
    Index("ix_skill_levels_person_skill", "person_id", "skill_id"),
)

role_assignments = Table(
    "role_assignments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", ID, ForeignKey("people.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("role_id", ID, ForeignKey("roles.id"), nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=True),
    Column("reason", _enum(AssignmentReason, "assignment_reason"), nullable=False),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="SET NULL"), nullable=True),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", ID, nullable=False),
    Column("action", String(64), nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", String(300), nullable=False),
    Column("details", JSON, nullable=False, default=dict),
    Index("ix_audit_events_entity", "entity_type", "entity_id"),
)

availability = Table(
    "availability",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", ID, ForeignKey("people.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("percent_available", Integer, nullable=False),
    Column("reason", Text, nullable=False, default=""),
)

move_templates = Table(
    "move_templates",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", _enum(MoveKind, "move_kind"), nullable=False),
    Column("title", String(500), nullable=False),
    Column("duration_weeks", Integer, nullable=False),
    Column("percent_time", Integer, nullable=False),
    Column("gains", JSON, nullable=False, default=dict),
    Column("gain_cap", Float, nullable=False, default=7.0),
    Column("min_levels", JSON, nullable=False, default=dict),
    Column("requires_kinds", JSON, nullable=False, default=list),
    Column("host_team_id", ID, ForeignKey("teams.id"), nullable=True),
    Column("earliest_start", Date, nullable=True),
    Column("latest_start", Date, nullable=True),
    Column("seats", Integer, nullable=False, default=1),
    Column("active", Boolean, nullable=False, default=True),
)

plans = Table(
    "plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", ID, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("target_role_id", ID, ForeignKey("roles.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("start", Date, nullable=False),
    Column("horizon_weeks", Integer, nullable=False),
    Column("status", _enum(PlanStatus, "plan_status"), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("ready_week", Integer, nullable=True),
    Column("effort", Integer, nullable=False),
    Column("steps", JSON, nullable=False, default=list),
    Column("alternatives", JSON, nullable=False, default=list),
    Column("explanation", JSON, nullable=False, default=dict),
    Column("reason", Text, nullable=False, default=""),
    Column("problem_digest", String(64), nullable=True),
    UniqueConstraint("person_id", "version", name="uq_plans_person_version"),
    Index("ix_plans_person_status", "person_id", "status"),
)

# --- access: accounts, sessions, API tokens, approvals (web app) ---

# Who manages a team: the host manager of moves hosted by it. A table of its own rather than a column on
# ``teams`` so that teams and people do not reference each other in a cycle.
team_managers = Table(
    "team_managers",
    metadata,
    Column("team_id", ID, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ID, ForeignKey("people.id", ondelete="CASCADE"), nullable=False, index=True),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(150), nullable=False, unique=True),
    Column("password_hash", String(300), nullable=False),
    # The person this account belongs to; an account without one (an integrator, an admin) sees only what
    # its access level grants.
    Column("person_id", ID, ForeignKey("people.id", ondelete="CASCADE"), nullable=True, unique=True),
    Column("access", String(16), nullable=False, default="employee"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# The org units (team subtrees) an HR user looks after.
user_org_units = Table(
    "user_org_units",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ID, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    # SHA-256 of the cookie value: a leaked database does not hand out live sessions.
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("scopes", JSON, nullable=False, default=list),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(150), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("success", Boolean, nullable=False),
    # The throttle counts recent failures by username and by address; the pruning of old rows goes by
    # outcome and time (services.accounts: failures kept for an hour, successes for 30 days).
    Index("ix_login_attempts_username_at", "username", "at"),
    Index("ix_login_attempts_ip_at", "ip", "at"),
    Index("ix_login_attempts_success_at", "success", "at"),
)

# Unsafe API requests sent with an ``Idempotency-Key`` header: the first request's response, replayed to a
# retry of the same request by the same user within a day (services/idempotency.py). NULL status: the first
# request is still running.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("status", Integer, nullable=True),
    Column("content_type", String(200), nullable=False, default=""),
    Column("body", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False, index=True),
)

# The two-person rule: a requested move needs the line manager's and the host manager's approval.
move_approvals = Table(
    "move_approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("slot", String(16), nullable=False),
    Column("approver_id", ID, ForeignKey("people.id", ondelete="CASCADE"), nullable=True),
    Column("approver_user_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("decision", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False, default=""),
    UniqueConstraint("move_id", "slot", name="uq_move_approvals_move_slot"),
)

# --- marketplace: opportunities, applications, onboarding, handoffs, allocation runs ---

opportunities = Table(
    "opportunities",
    metadata,
    Column("id", ID, primary_key=True),
    Column("title", String(500), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("kind", _enum(MoveKind, "move_kind"), nullable=False),
    Column("host_team_id", ID, ForeignKey("teams.id"), nullable=False, index=True),
    Column("host_manager_id", ID, ForeignKey("people.id"), nullable=True),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("percent_time", Integer, nullable=False),
    Column("seats", Integer, nullable=False),
    Column("required_skills", JSON, nullable=False, default=dict),
    Column("preferred_skills", JSON, nullable=False, default=dict),
    Column("builds_skills", JSON, nullable=False, default=dict),
    Column("expected_outcomes", Text, nullable=False, default=""),
    Column("criteria_template", JSON, nullable=False, default=list),
    Column("min_role_level", Integer, nullable=True),
    Column("min_tenure_months", Integer, nullable=True),
    Column("locations", JSON, nullable=False, default=list),
    Column("application_deadline", Date, nullable=True),
    Column("status", String(32), nullable=False, index=True),
    Column("template_id", ID, ForeignKey("move_templates.id"), nullable=True, index=True),
    Column("created_by", ID, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("approved_by", ID, nullable=True),
    Column("key", BigInteger, nullable=True),  # integer surrogate of ``id``, as ``people.key``
    Index("ux_opportunities_key", "key", unique=True),
)

applications = Table(
    "applications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("opportunity_id", ID, ForeignKey("opportunities.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", ID, ForeignKey("people.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False, default=""),
    # The latest change of status, by whoever made it (the host, the applicant, the line manager's release).
    Column("decided_at", UTCDateTime, nullable=True),
    Column("decided_by", ID, nullable=True),
    # When the organisation answered: the offer or the rejection (a host's, an allocation's, or a closed or
    # cancelled opportunity's), set once and never by the applicant's own accept, decline or withdrawal,
    # which move ``decided_at`` on. NULL: no answer yet, or one made before migration 0016 whose time no
    # record kept. What the congestion report's days to a decision measure.
    Column("offered_or_rejected_at", UTCDateTime, nullable=True),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="SET NULL"), nullable=True),
    # What the person gains from the seat (weeks to readiness saved, from their plan), when known.
    Column("plan_benefit_weeks", Integer, nullable=True),
    # ``people.key`` and ``opportunities.key`` of person_id and opportunity_id, always set by a database
    # trigger from those ids (never by the application), so they cannot disagree with them.
    Column("person_key", BigInteger, nullable=True),
    Column("opportunity_key", BigInteger, nullable=True),
    UniqueConstraint("opportunity_id", "person_id", name="uq_applications_opportunity_person"),
    # Weeks sooner to readiness; bounded so the allocation can pack it into 10 bits (horizons ≤ 520 weeks).
    CheckConstraint("plan_benefit_weeks BETWEEN 0 AND 1023", name="plan_benefit_weeks"),
    Index("ix_applications_opportunity_status", "opportunity_id", "status"),
    # The few applications that hold or may take a seat, for counting free seats (migration 0007).
    Index(
        "ix_applications_seat_taking",
        "opportunity_id",
        postgresql_where=text("status IN ('accepted', 'offered')"),
        sqlite_where=text("status IN ('accepted', 'offered')"),
    ),
)

onboarding_items = Table(
    "onboarding_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("item", Text, nullable=False),
    Column("done_on", Date, nullable=True),
    Column("done_by", ID, nullable=True),
)

# Acting roles and responsibility handoffs: whose responsibilities go to whom, until when, who backfills.
handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("move_id", ID, ForeignKey("moves.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("holder_id", ID, ForeignKey("people.id"), nullable=False),
    Column("receiver_id", ID, ForeignKey("people.id"), nullable=False),
    Column("responsibilities", Text, nullable=False),
    Column("start", Date, nullable=False),
    Column("return_on", Date, nullable=False),
    Column("backfill_id", ID, ForeignKey("people.id"), nullable=True),
    Column("status", String(16), nullable=False),
    Column("returned_on", Date, nullable=True),
)

allocation_runs = Table(
    "allocation_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("status", String(16), nullable=False),  # proposed / applied / discarded
    Column("equity_weight", Float, nullable=False),
    Column("release_limit", Float, nullable=False),
    Column("objective", Float, nullable=False),
    Column("details", JSON, nullable=False, default=dict),
)

allocation_assignments = Table(
    "allocation_assignments",
    metadata,
    Column("run_id", Integer, ForeignKey("allocation_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("application_id", Integer, ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    Column("score", Float, nullable=False),
    Column("explanation", Text, nullable=False, default=""),
    # An application's runs (the key leads with the run): its deletion's cascade, migration 0016's backfill.
    Index("ix_allocation_assignments_application", "application_id"),
)

# --- O*NET reference data (loaded by `micromoves init`) ---

onet_occupations = Table(
    "onet_occupations",
    metadata,
    Column("code", String(10), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("job_zone", Integer, nullable=True),
)

onet_occupation_elements = Table(
    "onet_occupation_elements",
    metadata,
    Column("code", String(10), ForeignKey("onet_occupations.code"), primary_key=True),
    Column("element_id", String(300), ForeignKey("skills.id"), primary_key=True),
    Column("importance", Float, nullable=False),
    Column("level", Float, nullable=False),
)

onet_related = Table(
    "onet_related",
    metadata,
    Column("code", String(10), ForeignKey("onet_occupations.code"), primary_key=True),
    Column("related_code", String(10), ForeignKey("onet_occupations.code"), primary_key=True),
    Column("tier", String(32), nullable=False),
    Column("rank", Integer, nullable=False),
)

reference_data = Table(
    "reference_data",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", String(32), nullable=False),
    Column("loaded_at", UTCDateTime, nullable=False),
)

# Tables holding reference data rather than organisation data (tests keep them between cases).
REFERENCE_TABLES = ("onet_occupations", "onet_occupation_elements", "onet_related", "reference_data")
