"""The micromoves domain: plain dataclasses in the users' vocabulary (see ``shared/conventions.md``).

These classes carry no I/O. The storage layer maps them onto tables imperatively (cosmicpython style),
so services work with these very objects and the rules in :mod:`micromoves.domain.rules` and
:mod:`micromoves.domain.lifecycle` apply unchanged whatever the database.

Dataclasses use ``eq=False``: entities are compared by identity (as the ORM's identity map does), and
identity hashing lets them live in sets and dict keys.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any


class MoveKind(enum.StrEnum):
    STRETCH_ASSIGNMENT = "stretch_assignment"
    ROTATION = "rotation"
    LATERAL_SWAP = "lateral_swap"
    TEMPORARY_LEAD = "temporary_lead"
    GIG = "gig"
    ACTING_ROLE = "acting_role"
    RESPONSIBILITY_HANDOFF = "responsibility_handoff"
    SHADOWING = "shadowing"
    MENTORING = "mentoring"
    COURSE = "course"


class MoveStatus(enum.StrEnum):
    PROPOSED = "proposed"
    REQUESTED = "requested"
    APPROVED = "approved"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    IN_REVIEW = "in_review"
    COMPLETED = "completed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    REVERTED = "reverted"


class Rating(enum.StrEnum):
    MET = "met"
    PARTLY_MET = "partly_met"
    NOT_MET = "not_met"


class Decision(enum.StrEnum):
    CONTINUE = "continue"
    EXTEND = "extend"
    CONVERT = "convert"
    REVERT = "revert"
    END = "end"


class Provenance(enum.StrEnum):
    """Where a skill level comes from; later evidence does not erase earlier assessments."""

    SELF = "self"
    MANAGER = "manager"
    MOVE_EVIDENCE = "move_evidence"
    IMPORT = "import"


class AssignmentReason(enum.StrEnum):
    """Why a person holds a role from a date on — analytics mine the moves preceding each change."""

    HIRE = "hire"
    PROMOTION = "promotion"
    TRANSFER = "transfer"
    CONVERSION = "conversion"
    REVERT = "revert"


@dataclass(eq=False)
class Team:
    id: str
    name: str
    function: str = ""
    parent_id: str | None = None


@dataclass(eq=False)
class Role:
    id: str
    title: str
    onet_code: str | None = None
    level: int = 1
    team_id: str | None = None
    critical: bool = False


@dataclass(eq=False)
class Skill:
    """An O*NET skill/knowledge element (id = element id, e.g. ``2.A.3.c``) or an ESCO skill (id = URI)."""

    id: str
    name: str
    kind: str = "skill"


@dataclass(eq=False)
class RoleSkill:
    """A role's required level (O*NET 0–7 level scale) for one skill."""

    role_id: str
    skill_id: str
    level: float


@dataclass(eq=False)
class SkillLevel:
    """One assessment of a person's level in a skill. A profile is the latest assessment per skill."""

    person_id: str
    skill_id: str
    level: float
    provenance: Provenance
    assessed_on: dt.date
    move_id: str | None = None
    id: int | None = None


@dataclass(eq=False)
class RoleAssignment:
    person_id: str
    role_id: str
    start: dt.date
    reason: AssignmentReason
    end: dt.date | None = None
    move_id: str | None = None
    id: int | None = None


@dataclass(eq=False)
class Person:
    id: str
    name: str
    email: str = ""
    role_id: str | None = None
    manager_id: str | None = None
    team_id: str | None = None
    hire_date: dt.date | None = None
    location: str = ""
    # Total share of working time this person has (100 = one full-time job) ...
    capacity_percent: int = 100
    # ... of which at least this much stays with the home role while on moves.
    home_role_min_percent: int = 0
    # The long-term role this person is growing towards (the planner's default target).
    target_role_id: str | None = None

    @property
    def move_capacity_percent(self) -> int:
        """The share of time concurrent moves may use together."""
        return self.capacity_percent - self.home_role_min_percent


@dataclass(eq=False)
class SuccessCriterion:
    move_id: str
    position: int
    statement: str
    rating: Rating | None = None
    evidence: str = ""
    id: int | None = None


@dataclass(eq=False)
class CheckIn:
    move_id: str
    on: dt.date
    author_id: str
    note: str
    progress: int | None = None  # self-assessed % towards the criteria, optional
    id: int | None = None


@dataclass(eq=False)
class SkillGain:
    move_id: str
    skill_id: str
    level_before: float
    level_after: float
    id: int | None = None


@dataclass(eq=False)
class StatusChange:
    """One lifecycle step of a move: who moved it from which status to which, when and why."""

    move_id: str
    from_status: MoveStatus | None
    to_status: MoveStatus
    actor: str
    at: dt.datetime
    reason: str = ""
    id: int | None = None


@dataclass(eq=False)
class Extension:
    move_id: str
    old_end: dt.date
    new_end: dt.date
    actor: str
    at: dt.datetime
    reason: str = ""
    id: int | None = None


@dataclass(eq=False)
class Outcome:
    move_id: str
    decision: Decision
    reviewed_on: dt.date
    reviewer_id: str
    notes: str = ""
    confidential: bool = False
    id: int | None = None


@dataclass(eq=False)
class Move:
    id: str
    person_id: str
    kind: MoveKind
    title: str
    start: dt.date
    end: dt.date
    percent_time: int
    status: MoveStatus = MoveStatus.PROPOSED
    host_team_id: str | None = None
    target_role_id: str | None = None
    # The manager who released the person for this move (credited later in the marketplace).
    released_by_id: str | None = None
    expected_outcomes: str = ""
    # Skills the move is meant to build (skill ids); gains are recorded at review.
    skills_targeted: list[str] = field(default_factory=list)
    criteria: list[SuccessCriterion] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    skill_gains: list[SkillGain] = field(default_factory=list)
    history: list[StatusChange] = field(default_factory=list)
    extensions: list[Extension] = field(default_factory=list)
    outcome: Outcome | None = None
    # Set when the move's review converted it into a role; a later revert undoes that assignment.
    converted_assignment_id: int | None = None
    # Where the move came from: a template of the catalogue, and the plan whose step it carries out.
    template_id: str | None = None
    plan_id: int | None = None

    @property
    def weeks(self) -> float:
        return ((self.end - self.start).days + 1) / 7

    @property
    def is_full_time(self) -> bool:
        return self.percent_time >= 100


@dataclass(eq=False)
class Availability:
    """A stretch in which a person has less time for moves: leave (0%), a phased return (e.g. 50%)."""

    person_id: str
    start: dt.date
    end: dt.date
    percent_available: int
    reason: str = ""
    id: int | None = None


@dataclass(eq=False)
class MoveTemplate:
    """A kind of move the organisation offers repeatedly, as the planner sees it: how long, how much
    time, which skills it raises (level deltas, capped) and what it needs first."""

    id: str
    kind: MoveKind
    title: str
    duration_weeks: int
    percent_time: int
    gains: dict[str, float] = field(default_factory=dict)  # skill id -> +levels
    gain_cap: float = 7.0
    min_levels: dict[str, float] = field(default_factory=dict)  # prerequisite levels at the start
    requires_kinds: list[str] = field(default_factory=list)  # move kinds that must have ended before
    host_team_id: str | None = None
    earliest_start: dt.date | None = None
    latest_start: dt.date | None = None
    seats: int = 1
    active: bool = True


class PlanStatus(enum.StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"


@dataclass(eq=False)
class Plan:
    """A stored plan: the optimal sequence of moves from the person's role to a target role, with the
    alternatives and explanations the planner gave. Versioned: re-planning supersedes, never edits."""

    person_id: str
    target_role_id: str
    version: int
    created_at: dt.datetime
    created_by: str
    start: dt.date
    horizon_weeks: int
    status: PlanStatus
    outcome: str  # ready / already_ready / unreachable
    ready_week: int | None
    effort: int
    # JSON documents: the planner's output in dates and 0–7 levels (see services.planning.plan_record).
    steps: list[dict[str, Any]] = field(default_factory=list)
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    explanation: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    # SHA-256 of the planning problem it solves (planning.problem_digest): plan-all --changed-only keeps a
    # plan whose problem has not changed. None for plans stored before it was recorded.
    problem_digest: str | None = None
    id: int | None = None


@dataclass(eq=False)
class AuditEvent:
    actor: str
    action: str
    entity_type: str
    entity_id: str
    at: dt.datetime
    details: dict[str, object] = field(default_factory=dict)
    id: int | None = None
