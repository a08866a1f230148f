"""Generate a realistic, deterministic demo organisation with three years of micro-move history.

``generate_demo(db, people=2000, seed=42)`` builds teams in seven functions, a manager hierarchy, ~70 roles
on real O*NET 29.3 occupations (requirements from O*NET levels scaled by seniority), people with skill
profiles, and moves of all ten kinds with criteria, check-ins, lifecycle histories, reviews, skill gains,
extensions, conversions into roles and reverted trials. Everything obeys the domain rules: lifecycle paths
follow :data:`lifecycle.LEGAL_TRANSITIONS`, moves are at most 26 weeks, and a person's occupying moves never
exceed their move capacity nor overlap full-time.

Same ``seed`` and ``as_of`` give identical rows (one ``random.Random(seed)``; no sets are iterated). The
data is written in one transaction through :class:`BulkWriter`, people by people in chunks so memory stays
flat at 100,000 people.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select

from micromoves.domain import lifecycle, rules
from micromoves.domain.errors import DomainError, InvalidValue
from micromoves.domain.marketplace import ONBOARDING_CHECKLIST, ONBOARDING_ITEMS, ChecklistOwner
from micromoves.domain.model import AssignmentReason, Decision, Move, MoveKind, MoveStatus, Provenance, Rating
from micromoves.planning import PlanningError, PlanProblem, PlanResult
from micromoves.planning.solver import NoPlanFound, solve_greedy
from micromoves.services import approvals
from micromoves.services import demo_catalogue as cat
from micromoves.services.taxonomy import taxonomy_version
from micromoves.storage import tables as t
from micromoves.storage.bulk import BulkWriter
from micromoves.storage.db import Database
from micromoves.storage.uow import utcnow
from micromoves.taxonomy.onet import OnetData, load_onet

__all__ = ["DemoCatalogueError", "DemoSummary", "OrganisationExists", "generate_demo"]

Progress = Callable[[str, int, int], None]
S = MoveStatus
K = MoveKind
DAY = dt.timedelta(days=1)
MAX_WEEKS = rules.DEFAULT_MAX_MOVE_WEEKS
MIN_PEOPLE = 30
# The README's walkthrough ("Now take a person through a move yourself") proposes, for the tour's person, a
# move of 40% of their time from today for 11 weeks and reviews it with Programming (2.B.3.e) gained at 5.5:
# the tour's person is one who has that time and is below that level, whenever the demo has one.
WALKTHROUGH_PERCENT, WALKTHROUGH_WEEKS, WALKTHROUGH_SKILL, WALKTHROUGH_LEVEL = 40, 11, "2.B.3.e", 5.5
CHUNK_PEOPLE = 1_000  # people simulated and written per batch (and per progress report)
ACTOR = "demo"
# Tables the demo never touches: reference data, the skills catalogue and the audit log.
KEPT_TABLES = frozenset({*t.REFERENCE_TABLES, "skills", "audit_events"})
# Tables written with explicit integer ids (PostgreSQL sequences are moved past them afterwards).
ID_TABLES = (
    t.success_criteria,
    t.check_ins,
    t.status_changes,
    t.extensions,
    t.outcomes,
    t.skill_gains,
    t.skill_levels,
    t.role_assignments,
    t.move_approvals,
    t.handoffs,
    t.onboarding_items,
)


class OrganisationExists(DomainError):
    code = "organisation_exists"


class DemoCatalogueError(DomainError):
    code = "demo_catalogue"


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    as_of: dt.date
    teams: int
    roles: int
    people: int
    moves: int
    criteria: int
    check_ins: int
    status_changes: int
    extensions: int
    outcomes: int
    skill_gains: int
    skill_levels: int
    role_assignments: int
    handoffs: int
    past_opportunities: int  # filled by moves that came through the marketplace (with accepted applications)
    onboarding_items: int
    moves_by_kind: Mapping[str, int]
    moves_by_status: Mapping[str, int]
    tour_person_id: str  # a person with a rich history: ≥3 moves incl. a completed one with skill gains
    reverted_move_id: str | None  # a reverted trial
    converted_move_id: str | None  # a move converted into a role (still standing)
    elapsed_seconds: float
    handoff_move_id: str | None = None  # an acting role or lead under way, with its handoff and backfill


# --------------------------------------------------------------------------------------------- catalogue


@dataclass
class _Role:
    id: str
    title: str
    level: int
    function: str
    ladder: str
    manages: bool
    weight: float
    profile: list[tuple[str, float]]  # every rated element, most important first, level scaled
    requirements: dict[str, float]  # importance >= 3, level scaled: the role_skills rows
    up: str | None = None  # next level on the ladder (managers: their function head)
    related: tuple[str, ...] = ()  # adjacent roles by O*NET relatedness or shared occupation


def _compile_roles(onet: OnetData) -> dict[str, _Role]:
    roles: dict[str, _Role] = {}
    for spec in cat.ROLES:
        for code in (spec.onet_code, spec.skills_from):
            if code is not None and code not in onet.occupations:
                raise DemoCatalogueError(
                    f"demo role {spec.id} ({spec.title}) uses O*NET-SOC code {code}, which is not in the "
                    "loaded O*NET taxonomy"
                )
        source = spec.skills_from or spec.onet_code
        factor = 0.8 + 0.1 * spec.level
        ratings = onet.profiles.get(source, {})
        # Like a competency framework, a demo role lists its ten most important O*NET elements (importance
        # ≥ 3) as requirements, not every element O*NET rates.
        rated = onet.requirements(source)
        top = sorted(rated, key=lambda eid: (-ratings[eid].importance, eid))[:REQUIREMENTS_PER_ROLE]
        requirements = {eid: rated[eid] for eid in top}
        if not requirements:
            raise DemoCatalogueError(
                f"demo role {spec.id}: O*NET occupation {source} has no skill/knowledge ratings; "
                "set skills_from to a rated occupation"
            )
        ordered = sorted(ratings.items(), key=lambda kv: (-kv[1].importance, kv[0]))
        roles[spec.id] = _Role(
            id=spec.id,
            title=spec.title,
            level=spec.level,
            function=spec.function,
            ladder=spec.ladder,
            manages=spec.manages,
            weight=spec.weight,
            profile=[(eid, min(7.0, round(r.level * factor, 2))) for eid, r in ordered],
            requirements={eid: min(7.0, round(lv * factor, 2)) for eid, lv in requirements.items()},
        )
    by_ladder = {(r.ladder, r.level): r.id for r in roles.values()}
    heads = {f.key: f.head_role for f in cat.FUNCTIONS}
    managers = {f.manager_role for f in cat.FUNCTIONS}
    for spec in cat.ROLES:
        role = roles[spec.id]
        role.up = by_ladder.get((role.ladder, role.level + 1))
        if role.up is None and spec.id in managers:
            role.up = heads[role.function]
        near = {r.code for r in onet.related.get(spec.onet_code, [])} | {spec.onet_code}
        role.related = tuple(
            other.id
            for other in cat.ROLES
            if other.ladder != spec.ladder
            and not other.manages
            and other.onet_code in near
            and abs(other.level - spec.level) <= 1
        )
    return roles


# --------------------------------------------------------------------------------------------- helpers


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _monday_on_or_after(d: dt.date) -> dt.date:
    return d + dt.timedelta(days=(7 - d.weekday()) % 7)


def _at(d: dt.date, step: int, jitter: int) -> dt.datetime:
    """A timestamp on ``d``: steps of one move on the same day stay in order (40 min apart, < 30 jitter)."""
    return dt.datetime(d.year, d.month, d.day, 8, tzinfo=dt.UTC) + dt.timedelta(minutes=40 * step + jitter)


def _weighted(rng: random.Random, items: Sequence[Any], cum: Sequence[float]) -> Any:
    return rng.choices(items, cum_weights=cum, k=1)[0]


def _cumulative(weights: Sequence[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


# --------------------------------------------------------------------------------------------- model


class _Person:
    __slots__ = (
        "cap",
        "email",
        "events",
        "function",
        "hire",
        "home",
        "id",
        "leader",
        "location",
        "manager",
        "moves",
        "name",
        "profile",
        "role",
        "team",
    )

    def __init__(
        self,
        pid: str,
        name: str,
        email: str,
        role: str,
        team: str,
        manager: str | None,
        function: str,
        hire: dt.date,
        location: str,
        cap: int,
        home: int,
        leader: bool,
    ) -> None:
        self.id, self.name, self.email, self.role, self.team, self.manager = pid, name, email, role, team, manager
        self.function, self.hire, self.location, self.cap, self.home = function, hire, location, cap, home
        self.leader = leader
        # Role changes after hire: (date, role, team, manager, reason, move id).
        self.events: list[tuple[dt.date, str, str, str | None, AssignmentReason, str | None]] = []
        self.profile: dict[str, float] = {}
        self.moves: list[_Move] = []

    def state_at(self, d: dt.date) -> tuple[str, str, str | None]:
        for ev in reversed(self.events):
            if ev[0] <= d:
                return ev[1], ev[2], ev[3]
        return self.role, self.team, self.manager

    def last_change(self) -> dt.date:
        return self.events[-1][0] if self.events else self.hire


@dataclass(slots=True, eq=False)
class _Move:
    kind: MoveKind
    title: str
    s: dt.date
    e: dt.date  # the final end: extended, or cut short by a revert
    pct: int
    status: MoveStatus
    host: str | None
    target: str | None
    released_by: str | None
    expected: str
    skills: list[str]
    topic: str = ""  # the piece of work its texts name ({topic}): what a responsibility handoff hands over
    id: str = ""
    converted: int | None = None  # -1 until the conversion's role assignment has its id
    review_on: dt.date | None = None
    ext: tuple[dt.date, dt.date, dt.date, str] | None = None  # (old end, new end, on, actor)
    outcome: tuple[Decision, dt.date, str, str, bool] | None = None  # decision, on, reviewer, notes, confid.
    check_ins: list[tuple[dt.date, str, str, int]] = field(default_factory=list)
    criteria: list[tuple[str, Rating | None, str]] = field(default_factory=list)
    steps: list[tuple[MoveStatus, dt.date, str, str]] = field(default_factory=list)


@dataclass
class _Rows:
    people: list[tuple[Any, ...]]
    moves: list[tuple[Any, ...]]
    criteria: list[tuple[Any, ...]]
    check_ins: list[tuple[Any, ...]]
    status_changes: list[tuple[Any, ...]]
    extensions: list[tuple[Any, ...]]
    outcomes: list[tuple[Any, ...]]
    skill_gains: list[tuple[Any, ...]]
    skill_levels: list[tuple[Any, ...]]
    role_assignments: list[tuple[Any, ...]]

    @classmethod
    def empty(cls) -> _Rows:
        return cls([], [], [], [], [], [], [], [], [], [])


# Written in this order so every foreign key points at a row already written.
_COLUMNS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    (
        "people",
        t.people,
        (
            "id",
            "name",
            "email",
            "role_id",
            "manager_id",
            "team_id",
            "hire_date",
            "location",
            "capacity_percent",
            "home_role_min_percent",
            "target_role_id",
            "updated_at",
        ),
    ),
    (
        "moves",
        t.moves,
        (
            "id",
            "person_id",
            "kind",
            "title",
            "start",
            "end",
            "percent_time",
            "status",
            "host_team_id",
            "target_role_id",
            "released_by_id",
            "expected_outcomes",
            "skills_targeted",
            "converted_assignment_id",
            "updated_at",
        ),
    ),
    ("criteria", t.success_criteria, ("id", "move_id", "position", "statement", "rating", "evidence")),
    ("check_ins", t.check_ins, ("id", "move_id", "on", "author_id", "note", "progress")),
    ("status_changes", t.status_changes, ("id", "move_id", "from_status", "to_status", "actor", "at", "reason")),
    ("extensions", t.extensions, ("id", "move_id", "old_end", "new_end", "actor", "at", "reason")),
    ("outcomes", t.outcomes, ("id", "move_id", "decision", "reviewed_on", "reviewer_id", "notes", "confidential")),
    ("skill_gains", t.skill_gains, ("id", "move_id", "skill_id", "level_before", "level_after")),
    ("skill_levels", t.skill_levels, ("id", "person_id", "skill_id", "level", "provenance", "assessed_on", "move_id")),
    ("role_assignments", t.role_assignments, ("id", "person_id", "role_id", "start", "end", "reason", "move_id")),
)
APPROVAL_COLUMNS = ("id", "move_id", "slot", "approver_id", "decision", "at", "note")
HANDOFF_COLUMNS = (
    "id",
    "move_id",
    "holder_id",
    "receiver_id",
    "responsibilities",
    "start",
    "return_on",
    "backfill_id",
    "status",
    "returned_on",
)
# What the person takes over on an acting role, a temporary lead or a handoff (from the team's manager); a
# handoff hands over the piece of work its title names ("Own the satisfaction survey during handover").
_HANDED_OVER = {
    K.ACTING_ROLE: "The team lead's duties: planning, 1:1s, hiring decisions and the budget sign-off",
    K.TEMPORARY_LEAD: "Day-to-day lead of the team: stand-ups, priorities and escalations",
    K.RESPONSIBILITY_HANDOFF: "{Topic}: its deadlines, its runbook and the stakeholders' questions",
}
# A handoff follows its move (services.handoffs.sync_with_move): planned once approved, active while it runs,
# returned when it ends.
_HANDOFF_STATUS = {
    S.APPROVED: "planned",
    S.ONBOARDING: "active",
    S.ACTIVE: "active",
    S.IN_REVIEW: "active",
    S.COMPLETED: "returned",
    S.REVERTED: "returned",
}

_KIND_LIST = list(cat.KINDS)
_LOCATION_NAMES = [name for name, _ in cat.LOCATIONS]
_LOCATION_CUM = _cumulative([w for _, w in cat.LOCATIONS])
_KIND_CUM = _cumulative([cat.KINDS[k].weight for k in _KIND_LIST])
# Managers keep their team: no rotations, swaps or temporary leads (they already lead).
_LEADER_KINDS = [k for k in _KIND_LIST if k not in (K.ROTATION, K.LATERAL_SWAP, K.TEMPORARY_LEAD)]
_LEADER_CUM = _cumulative([cat.KINDS[k].weight for k in _LEADER_KINDS])
_NEEDS_TARGET = frozenset({K.ACTING_ROLE, K.ROTATION, K.LATERAL_SWAP, K.SHADOWING})
# Probability that a completed move with a target role is converted into that role.
_CONVERT_P = {
    K.ACTING_ROLE: 0.35,
    K.LATERAL_SWAP: 0.45,
    K.ROTATION: 0.3,
    K.STRETCH_ASSIGNMENT: 0.12,
    K.RESPONSIBILITY_HANDOFF: 0.1,
}
_PROMOTE_AFTER = frozenset({K.STRETCH_ASSIGNMENT, K.RESPONSIBILITY_HANDOFF, K.TEMPORARY_LEAD})
_RATING_WEIGHTS: dict[str, tuple[float, float, float]] = {  # met, partly met, not met
    "convert": (0.85, 0.15, 0.0),
    "end": (0.6, 0.3, 0.1),
    "extend": (0.3, 0.6, 0.1),
    "revert": (0.1, 0.4, 0.5),
}
_RATINGS = (Rating.MET, Rating.PARTLY_MET, Rating.NOT_MET)
_RATING_SCORE: dict[Rating | None, float] = {Rating.MET: 1.0, Rating.PARTLY_MET: 0.5}
# Enum members as plain strings for the rows: the writer then has nothing to convert (100k people = 10M values).
_V: dict[Any, str] = {
    member: member.value
    for enum_type in (MoveKind, MoveStatus, Rating, Decision, Provenance, AssignmentReason)
    for member in enum_type
}
_V[None] = None  # type: ignore[assignment]


# --------------------------------------------------------------------------------------------- generator


class _Generator:
    def __init__(self, onet: OnetData, *, people: int, seed: int, as_of: dt.date, years: int) -> None:
        self.rng = random.Random(seed)
        self.n_people = people
        self.today = as_of
        # Every record was last changed when the demo wrote it (changed_since: storage.tables._updated_at).
        self.written_at = dt.datetime.now(dt.UTC)
        self.window_start = as_of - dt.timedelta(days=round(365.25 * years))
        self.roles = _compile_roles(onet)
        self.skill_names = {eid: e.name for eid, e in onet.elements.items()}
        self.move_seq = 0
        self.ids = dict.fromkeys(
            (
                "criteria",
                "check_ins",
                "status_changes",
                "extensions",
                "outcomes",
                "skill_gains",
                "skill_levels",
                "role_assignments",
                "approvals",
                "handoffs",
                "onboarding_items",
            ),
            0,
        )
        self.by_kind: Counter[str] = Counter()
        self.approvals: list[tuple[Any, ...]] = []  # rows of move_approvals (APPROVAL_COLUMNS)
        self.handoffs: list[tuple[Any, ...]] = []  # rows of handoffs (HANDOFF_COLUMNS), written after everyone
        # Its own stream: the handoffs' choices leave every other draw (and so the rest of the demo) unchanged.
        self.handoff_rng = random.Random(seed * 7_919 + 11)
        self.team_members: dict[str, list[str]] | None = None
        self.leader_manager: dict[str, str | None] | None = None  # see _chain
        self.handoff_move: str | None = None  # an acting role or lead that runs now, for the tour
        # Moves that came through the marketplace: their (filled) opportunities, accepted applications and
        # onboarding checklists, written after everyone (PAST_OPPORTUNITY_COLUMNS and the rest).
        self.past_opportunities: list[tuple[Any, ...]] = []
        self.past_applications: list[tuple[Any, ...]] = []
        self.onboarding: list[tuple[Any, ...]] = []
        self.by_status: Counter[str] = Counter()
        self.tour: tuple[tuple[int, ...], str] | None = None
        self.reverted_move: str | None = None
        self.reverted_move_reviewed: str | None = None
        self.converted_move: str | None = None
        self.email_seen: Counter[str] = Counter()
        self.ic_roles: dict[str, tuple[list[str], list[float]]] = {}
        for f in cat.FUNCTIONS:
            staffed = [r for r in self.roles.values() if r.function == f.key and r.weight > 0]
            self.ic_roles[f.key] = ([r.id for r in staffed], _cumulative([r.weight for r in staffed]))

    def _next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    # ----------------------------------------------------------------------------------- organisation

    def build_org(self) -> None:
        rng = self.rng
        n = self.n_people
        rest = n - 1 - len(cat.FUNCTIONS)
        raw = [f.share * rest for f in cat.FUNCTIONS]
        sizes = [int(x) for x in raw]
        for i in sorted(range(len(raw)), key=lambda i: (sizes[i] - raw[i], i))[: rest - sum(sizes)]:
            sizes[i] += 1
        self.teams: list[tuple[str, str, str, str | None]] = [(cat.EXEC_TEAM, "Executive Office", cat.EXECUTIVE, None)]
        self.team_name: dict[str, str] = {cat.EXEC_TEAM: "Executive Office"}
        self.team_function: dict[str, str] = {cat.EXEC_TEAM: cat.EXECUTIVE}
        self.teams_by_function: dict[str, list[str]] = {}
        self.team_manager: dict[str, str] = {}
        self.seekers: dict[str, frozenset[str]] = {}  # person with a target role → skills still short of it
        self.team_location: dict[str, str] = {}
        team_members: list[tuple[str, int]] = []  # (team, member count excluding the manager)
        for f, size in zip(cat.FUNCTIONS, sizes, strict=True):
            dept = f"T-{f.code}"
            self.teams.append((dept, f.name, f.key, cat.EXEC_TEAM))
            self.team_name[dept], self.team_function[dept] = f.name, f.key
            n_teams = max(1, min(size // 4, round(size / 9)))
            per, extra = divmod(size, n_teams)
            counts = [per + (1 if i < extra else 0) for i in range(n_teams)]
            rng.shuffle(counts)
            ids = []
            for i in range(n_teams):
                tid = f"T-{f.code}-{i + 1}"
                base = f.team_names[i % len(f.team_names)]
                name = base if i < len(f.team_names) else f"{base} {i // len(f.team_names) + 1}"
                self.teams.append((tid, name, f.key, dept))
                self.team_name[tid], self.team_function[tid] = name, f.key
                self.team_location[tid] = _weighted(rng, _LOCATION_NAMES, _LOCATION_CUM)
                ids.append(tid)
                team_members.append((tid, counts[i] - 1))
            self.teams_by_function[f.key] = ids

        width = max(6, len(str(n)))
        pid = iter(f"P-{i:0{width}d}" for i in range(1, n + 1))
        self.leaders: list[_Person] = []
        self.members_plan: list[tuple[str, str]] = []  # (person id, team) for members, generated lazily

        ceo = self._new_person(next(pid), cat.CEO_ROLE, cat.EXEC_TEAM, None, cat.EXECUTIVE, leader=True)
        self.team_manager[cat.EXEC_TEAM] = ceo.id
        self.leaders.append(ceo)
        heads = {}
        for f in cat.FUNCTIONS:
            head = self._new_person(next(pid), f.head_role, f"T-{f.code}", ceo.id, f.key, leader=True)
            heads[f.key] = head.id
            self.team_manager[f"T-{f.code}"] = head.id
            self.leaders.append(head)
        for f in cat.FUNCTIONS:
            for tid in self.teams_by_function[f.key]:
                mgr = self._new_person(next(pid), f.manager_role, tid, heads[f.key], f.key, leader=True)
                self.team_manager[tid] = mgr.id
                self.leaders.append(mgr)
        for tid, count in team_members:
            for _ in range(count):
                self.members_plan.append((next(pid), tid))

    def _new_person(
        self, pid: str, role: str, team: str, manager: str | None, function: str, *, leader: bool
    ) -> _Person:
        rng = self.rng
        first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES)
        local = f"{first}.{last}".lower()
        self.email_seen[local] += 1
        if self.email_seen[local] > 1:
            local = f"{local}{self.email_seen[local]}"
        if leader:
            tenure = rng.randint(3 * 365, 15 * 365) if role != cat.CEO_ROLE else rng.randint(6 * 365, 12 * 365)
            cap, home = 100, (0 if role == cat.CEO_ROLE else rng.choice((40, 50, 60)))
        else:
            tenure = min(20 * 365, 30 + int(rng.expovariate(1 / (3.5 * 365))) + 150 * self.roles[role].level)
            r = rng.random()
            if r < 0.07:
                cap, home = 80, rng.choice((0, 0, 20))
            elif r < 0.17:
                cap, home = 100, rng.choice((20, 30, 40, 50))
            else:
                cap, home = 100, 0
        team_loc = self.team_location.get(team)
        if team_loc is not None and rng.random() < 0.75:
            location = team_loc
        else:
            location = _weighted(rng, _LOCATION_NAMES, _LOCATION_CUM)
        person = _Person(
            pid,
            f"{first} {last}",
            f"{local}@{cat.EMAIL_DOMAIN}",
            role,
            team,
            manager,
            function,
            self.today - dt.timedelta(days=tenure),
            location,
            cap,
            home,
            leader,
        )
        # Skill profile: every skill the role requires, at the role's level plus noise (a senior engineer
        # does hold Programming), and a few of the role's less important elements, a little lower.
        # O*NET rates every occupation on all 68 elements, so a person holds some level in each element
        # their role uses (level ≥ 1), noisier for the less important ones.
        role_def = self.roles[role]
        for eid, level in sorted(role_def.profile):
            if eid in role_def.requirements:
                person.profile[eid] = round(min(7.0, max(0.0, level + rng.gauss(0.0, 0.4))), 2)
            elif level >= 1.0:
                person.profile[eid] = round(min(7.0, max(0.0, level + rng.gauss(-0.2, 0.5))), 2)
        return person

    # ----------------------------------------------------------------------------------- people

    def member(self, pid: str, team: str) -> _Person:
        function = self.team_function[team]
        ids, cum = self.ic_roles[function]
        role = _weighted(self.rng, ids, cum)
        return self._new_person(pid, role, team, self.team_manager[team], function, leader=False)

    def _approvals(self, person_id: str, m: _Move, status: MoveStatus, actor: str, at: dt.datetime, why: str) -> None:
        """The approval records behind a move's approval or decline (the move page lists who decided), as the
        approval service requires them (see :mod:`micromoves.services.approvals`): an approval has both slots,
        from two people. The manager slot is the line manager's (the actor of the approval); the host slot the
        host team's manager's, unless they cannot give it (:func:`approvals.host_absent`: no host team, the
        person's own, or one the line manager runs, who approved already): then the next manager up the chain
        stands in (:func:`approvals.stand_in_manager`), or, with nobody left above (a function head, under the
        CEO), HR: the manager of the People Partners team. A decline names the manager alone (one decline
        declines the move). Kept until everyone is written: an approver may be a manager written in a later
        batch."""
        if status not in (MoveStatus.APPROVED, MoveStatus.DECLINED) or actor == person_id:
            return
        verdict = "approved" if status is MoveStatus.APPROVED else "declined"
        note = "" if verdict == "approved" else why
        self.approvals.append((self._next_id("approvals"), m.id, "manager", actor, verdict, at, note))
        if verdict != "approved":
            return
        host = self.team_manager.get(m.host) if m.host else None
        # The approval service's own statement of when the host team's manager cannot approve, asked about the
        # move as it was when the line manager had approved it.
        requested = Move(m.id, person_id, m.kind, m.title, m.s, m.e, m.pct, S.REQUESTED, m.host)
        line = approvals.ApprovalRecord(approvals.Slot.MANAGER, actor, None, approvals.Verdict.APPROVED, at, "")
        absent = approvals.host_absent(requested, host, [line])
        note = ""
        if absent is not None:
            host = approvals.stand_in_manager(self._chain(actor), person_id, actor)
            note = f"standing in: {absent}"
            if host is None:
                host = next(x for x in self._hr() if x not in (person_id, actor))
                note = f"standing in as HR: {absent}, and nobody further up the chain"
        self.approvals.append((self._next_id("approvals"), m.id, "host", host, verdict, at, note))

    def _chain(self, manager: str) -> list[str]:
        """``manager`` and the managers above them, nearest first (the management chain of their reports).
        Managers are leaders, whose own managers never change in the demo."""
        if self.leader_manager is None:
            self.leader_manager = {x.id: x.manager for x in self.leaders}
        chain: list[str] = []
        up: str | None = manager
        while up is not None and up not in chain:
            chain.append(up)
            up = self.leader_manager.get(up)
        return chain

    def _hr(self) -> list[str]:
        """Who stands in as HR, in order: the managers of the HR teams (People Partners first), then the head of
        HR."""
        teams = self.teams_by_function[cat.HR]
        return [*(self.team_manager[tid] for tid in teams), self.team_manager[f"T-{cat.FUNCTIONS_BY_KEY[cat.HR].code}"]]

    def _handoff(self, p: _Person, m: _Move, last_step_on: dt.date) -> None:
        """The handoff an acting role, a temporary lead or a responsibility handoff carries, as its managers
        record it: the host team's manager (or, at home, the person's manager) hands responsibilities to the
        person until the move ends, and a colleague of the person's home team backfills their own work."""
        status = _HANDOFF_STATUS.get(m.status)
        if m.status is S.WITHDRAWN and any(step[0] is S.ONBOARDING for step in m.steps):
            status = "returned"  # withdrawn once handed over: the service hands the responsibilities back
        elif m.status is S.WITHDRAWN and any(step[0] is S.APPROVED for step in m.steps):
            status = "cancelled"  # withdrawn before that: nothing was handed over
        if m.kind not in _HANDED_OVER or status is None:
            return
        _role, team, manager = p.state_at(m.s)
        holder = self.team_manager.get(m.host) if m.host else None
        if holder in (None, p.id):
            holder = manager
        if holder is None or holder == p.id:
            return
        if self.team_members is None:
            self.team_members = defaultdict(list)
            for pid, tid in [*((x.id, x.team) for x in self.leaders), *self.members_plan]:
                self.team_members[tid].append(pid)
        # Colleagues by the team they are in today: close enough for who covers for a few weeks.
        colleagues = [x for x in self.team_members.get(team, []) if x not in (p.id, holder)]
        backfill = self.handoff_rng.choice(colleagues) if colleagues else None
        # Handed back on the day the move ended in the tracker (completed, reverted or withdrawn).
        returned_on = last_step_on if status == "returned" else None
        self.handoffs.append(
            (
                self._next_id("handoffs"),
                m.id,
                holder,
                p.id,
                _HANDED_OVER[m.kind].format(Topic=m.topic[:1].upper() + m.topic[1:]),
                m.s,
                m.e,
                backfill,
                status,
                returned_on,
            )
        )
        if status == "active" and backfill is not None and self.handoff_move is None:
            self.handoff_move = m.id

    def _from_marketplace(self, p: _Person, m: _Move, days: dict[MoveStatus, dt.datetime]) -> None:
        """Some moves hosted by another team came through the marketplace, as the product records them: the
        host team's opportunity (filled), the person's accepted application linked to the move, and the
        kind's onboarding checklist, ticked off between onboarding and the start (part of it while a move is
        still onboarding). Drawn from the handoffs' stream, so the rest of the demo is unchanged."""
        team = p.state_at(m.s)[1]
        if m.host is None or m.host == team or m.kind not in MARKET_KINDS or S.ONBOARDING not in days:
            return
        host = self.team_manager.get(m.host)
        if host in (None, p.id, m.released_by):
            # The offer fills the host slot: a line manager who also runs the host team could not give the
            # release as well (the two approvers differ), so such a move was not taken through the market.
            return
        rng = self.handoff_rng
        if rng.random() >= PAST_MARKET_SHARE:
            return
        requested = days.get(S.REQUESTED) or days.get(S.APPROVED) or days[S.ONBOARDING]
        applied = requested - dt.timedelta(days=rng.randint(3, 12), hours=rng.randint(0, 6))
        planned_end = m.ext[0] if m.ext is not None else m.e
        oid = f"OPP-PAST-{len(self.past_opportunities) + 1:05d}"
        self.past_opportunities.append(
            (
                oid,
                m.title,
                f"{self.team_name[m.host]} runs this {m.kind.value.replace('_', ' ')} for people from other teams.",
                _V[m.kind],
                m.host,
                host,
                m.s,
                planned_end,
                m.pct,
                1,
                {},
                {},
                {eid: round(rng.uniform(0.5, 1.2), 1) for eid in m.skills},
                m.expected,
                [statement for statement, _, _ in m.criteria],
                [],
                "filled",
                None,
                host,
                applied - dt.timedelta(days=rng.randint(7, 21)),
                host,
            )
        )
        # The host offered two thirds of the way from the application to the request the acceptance made (no
        # draw: the handoffs' stream stays as it was); the acceptance is the applicant's, not the decision.
        offered = applied + (requested - applied) * 2 / 3
        self.past_applications.append((oid, p.id, "accepted", applied, "", requested, p.id, offered, m.id))
        onboarding = days[S.ONBOARDING].date()
        started = days[S.ACTIVE].date() if S.ACTIVE in days else None
        items = ONBOARDING_CHECKLIST[m.kind]
        for position, item in enumerate(items, 1):
            if started is not None:
                done: dt.date | None = onboarding + (started - onboarding) * position // len(items)
            else:  # still onboarding: the first half is done so far
                done = onboarding if position <= len(items) // 2 else None
            # Ticked by the party each item is for (the person's own, their line manager's, the host's).
            party = {ChecklistOwner.PERSON: p.id, ChecklistOwner.LINE_MANAGER: m.released_by}
            who = (party.get(ONBOARDING_ITEMS[item]) or host) if done is not None else None
            self.onboarding.append((self._next_id("onboarding_items"), m.id, position, item, done, who))

    def simulate(self, person: _Person, rows: _Rows) -> None:
        if person.role != cat.CEO_ROLE:
            self._moves_for(person)
        self._emit(person, rows)

    def _moves_for(self, p: _Person) -> None:
        rng = self.rng
        today = self.today
        earliest = _monday_on_or_after(max(self.window_start, p.hire + dt.timedelta(days=60)))
        latest = today + dt.timedelta(days=120)
        span = (latest - earliest).days
        if span <= 0:
            return
        propensity = rng.choice((0.0, 0.5, 1.0, 1.0, 1.5, 2.2))
        lam = 1.3 * span / 365 * propensity * (0.6 if p.leader else 1.0)
        n = min(_poisson(rng, lam), 12)
        starts = sorted(_monday_on_or_after(earliest + dt.timedelta(days=rng.randrange(span))) for _ in range(n))
        committed: list[rules.Interval] = []
        capacity = p.cap - p.home
        for s in starts:
            move = self._candidate(p, s)
            if move is None:
                continue
            try:
                rules.check_short(move.s, move.e, MAX_WEEKS)
            except DomainError:
                continue
            # Committed moves fit together, so any overload or full-time overlap involves the candidate.
            iv = rules.Interval("candidate", move.s, move.e, move.pct)
            others = [c for c in committed if c.start <= iv.end and iv.start <= c.end]
            group = [iv, *others]
            if rules.full_time_overlaps(group) or rules.overloads(group, capacity):
                continue
            self._commit(p, move)
            if move.status in lifecycle.OCCUPYING_STATUSES:
                committed.append(rules.Interval(move.id, move.s, move.e, move.pct))

    def _pick_team(self, function: str, exclude: str | None) -> str:
        teams = self.teams_by_function[function]
        if len(teams) > 1 and exclude in teams:
            i = self.rng.randrange(len(teams) - 1)
            return teams[i] if teams[i] != exclude else teams[-1]
        return self.rng.choice(teams)

    def _candidate(self, p: _Person, s: dt.date) -> _Move | None:
        rng = self.rng
        today = self.today
        kind: MoveKind = (
            _weighted(rng, _LEADER_KINDS, _LEADER_CUM) if p.leader else _weighted(rng, _KIND_LIST, _KIND_CUM)
        )
        spec = cat.KINDS[kind]
        role_id, team, manager = p.state_at(s)
        role = self.roles[role_id]
        function = self.team_function[team]
        fspec = cat.FUNCTIONS_BY_KEY.get(function)

        # Target role along a plausible path: next level, an O*NET-related role, or a lead role.
        target: str | None = None
        if spec.target == "next":
            target = role.up if (role.up and rng.random() < 0.8) else None
        elif spec.target == "related":
            target = rng.choice(role.related) if role.related else role.up
        elif spec.target == "lead":
            lead = fspec.manager_role if fspec else None
            if p.leader:
                target = role.up
            elif kind is K.TEMPORARY_LEAD:
                target = lead if role.level >= 2 else None
            elif role.level >= 3 and rng.random() < 0.5:
                target = lead
            else:
                target = role.up
        if target is not None and self.roles[target].function == cat.EXECUTIVE:
            target = None
        if kind in _NEEDS_TARGET and target is None:
            return None
        target_role = self.roles[target] if target else None

        # Host team: own team, a team of the same or an adjacent function, or the target role's function.
        host: str | None
        policy = spec.host
        if policy == "target" and target_role is not None and target_role.function != function:
            host = self._pick_team(target_role.function, team)
        elif policy == "target":
            host = self._pick_team(function, team) if function in self.teams_by_function else team
        elif policy == "adjacent" and fspec is not None:
            if rng.random() < 0.65:
                host = self._pick_team(rng.choice(fspec.adjacent), None)
            else:
                host = self._pick_team(function, team)
        elif policy == "function" and function in self.teams_by_function:
            host = self._pick_team(function, None)
        elif policy == "none":
            host = None
        else:
            host = team

        # Skills the move builds: the biggest gaps against the target role, the host's work or the next level.
        host_function = self.team_function[host] if host else function
        if target_role is not None:
            source = target_role
        elif host_function != function and host_function in self.ic_roles:
            source = self.roles[_weighted(rng, *self.ic_roles[host_function])]
        else:
            source = self.roles[role.up] if role.up else role
        want = rng.randint(2, 4)
        gaps = sorted(((lv - p.profile.get(eid, 0.0), eid) for eid, lv in source.requirements.items()), reverse=True)
        pool = [eid for gap, eid in gaps[: want + 2] if gap > 0]
        skills = rng.sample(pool, min(want, len(pool)))
        for _, eid in gaps:
            if len(skills) >= want:
                break
            if eid not in skills:
                skills.append(eid)

        weeks = rng.randint(*spec.weeks)
        pct = rng.choice(spec.percents)
        planned_end = s + dt.timedelta(days=7 * weeks - 3)  # Monday .. Friday of the last week
        host_manager = self.team_manager.get(host, manager) if host else manager
        reviewer = manager or p.id

        words = {
            "host": self.team_name[host] if host else self.team_name[team],
            "topic": rng.choice(
                (
                    cat.FUNCTIONS_BY_KEY[host_function] if host_function in cat.FUNCTIONS_BY_KEY else cat.FUNCTIONS[0]
                ).topics
            ),
            "skill": self.skill_names[skills[0]],
            "target": target_role.title if target_role else (self.roles[role.up].title if role.up else role.title),
        }
        words["a_target"] = cat.with_article(words["target"])
        titles, criteria, expected = spec.titles, spec.criteria, cat.EXPECTED_OUTCOMES[kind]
        if target_role is None and role.up is None:  # nothing to grow towards: no "{target}" texts
            titles = tuple(x for x in titles if "target}" not in x)  # {target} and {a_target}
            criteria = tuple(x for x in criteria if "target}" not in x)
            expected = expected if "target}" not in expected else cat.GENERIC_OUTCOME
        title = rng.choice(titles).format(**words)
        expected = expected.format(**words)
        statements = [x.format(**words) for x in rng.sample(criteria, rng.randint(2, min(4, len(criteria))))]

        # An extension (+2..6 weeks, still at most 26) agreed shortly before the planned end.
        ext_weeks = 0
        ext_on: dt.date | None = None
        ext_by_review = False
        if rng.random() < 0.1 and weeks <= MAX_WEEKS - 2:
            ext_weeks = rng.randint(2, min(6, MAX_WEEKS - weeks))
            ext_on = planned_end - dt.timedelta(days=rng.randint(3, 10))
            ext_by_review = rng.random() < 0.5
            if ext_on > today or ext_on <= s + dt.timedelta(days=14):
                ext_weeks, ext_on = 0, None
        end = planned_end + dt.timedelta(days=7 * ext_weeks)

        # The fate of the move follows its dates relative to as_of.
        r = rng.random()
        if s > today:
            fate = S.PROPOSED if r < 0.35 else S.REQUESTED if r < 0.65 else S.APPROVED
            if fate is S.APPROVED and (s - today).days <= 7 and rng.random() < 0.5:
                fate = S.ONBOARDING
        elif end >= today:
            fate = S.ONBOARDING if (today - s).days < 5 and r < 0.4 else S.ACTIVE
        elif (today - end).days <= 21:
            fate = S.IN_REVIEW if r < 0.55 else S.COMPLETED
        else:
            fate = S.COMPLETED if r < 0.72 else S.REVERTED if r < 0.8 else S.WITHDRAWN if r < 0.9 else S.DECLINED
        if fate is S.REVERTED and weeks < 6:
            fate = S.COMPLETED
        if fate in (S.REVERTED, S.WITHDRAWN, S.DECLINED) or ext_on is None:
            ext_weeks, ext_on, end = 0, None, planned_end
        final_end = end

        # Lifecycle dates before the start.
        proposed = max(s - dt.timedelta(days=rng.randint(14, 56)), p.hire)
        if proposed > today:
            proposed = max(today - dt.timedelta(days=rng.randint(0, 10)), p.hire)
        requested = proposed + dt.timedelta(days=rng.randint(0, 5))
        approved = min(requested + dt.timedelta(days=rng.randint(1, 10)), s - DAY)
        onboarding = max(approved, s - dt.timedelta(days=rng.randint(1, 5)))
        steps: list[tuple[MoveStatus, dt.date, str, str]] = [(S.PROPOSED, proposed, p.id, "created")]
        mgr = manager or p.id
        pre = [
            (S.REQUESTED, requested, p.id, "submitted for approval"),
            (S.APPROVED, approved, mgr, "approved; released by the manager"),
            (S.ONBOARDING, onboarding, host_manager or mgr, "onboarding with the host team"),
        ]
        decision: Decision | None = None
        review_on: dt.date | None = None
        if fate is S.DECLINED:
            if rng.random() < 0.6:
                steps.append(pre[0])
            steps.append(
                (
                    S.DECLINED,
                    steps[-1][1] + dt.timedelta(days=rng.randint(1, 7)),
                    mgr,
                    rng.choice(
                        (
                            "no capacity in the team this quarter",
                            "timing clashes with a release",
                            "not the right move now",
                        )
                    ),
                )
            )
        elif fate is S.WITHDRAWN:
            stage = rng.randint(0, 3)
            steps.extend(pre[:stage])
            steps.append(
                (
                    S.WITHDRAWN,
                    steps[-1][1] + dt.timedelta(days=rng.randint(0, 5)),
                    p.id,
                    rng.choice(
                        ("personal circumstances", "home team priorities changed", "host team cancelled the work")
                    ),
                )
            )
        elif fate in (S.PROPOSED, S.REQUESTED, S.APPROVED, S.ONBOARDING):
            order = (S.PROPOSED, S.REQUESTED, S.APPROVED, S.ONBOARDING)
            steps.extend(pre[: order.index(fate)])
        else:
            steps.extend(pre)
            steps.append((S.ACTIVE, s, mgr, "started"))
            if ext_on is not None and ext_by_review:
                steps.append((S.IN_REVIEW, ext_on, reviewer, "review"))
                steps.append((S.ACTIVE, ext_on, reviewer, "review: extend"))
                decision, review_on = Decision.EXTEND, ext_on
            if fate is S.REVERTED:
                revert_on = s + dt.timedelta(days=7 * rng.randint(4, weeks - 1) - 3)
                final_end = revert_on
                if rng.random() < 0.6:
                    steps.append((S.IN_REVIEW, revert_on, reviewer, "review"))
                    steps.append((S.REVERTED, revert_on, reviewer, "review: revert"))
                    decision, review_on = Decision.REVERT, revert_on
                else:
                    steps.append((S.REVERTED, revert_on, mgr, "trial ended early"))
            elif fate in (S.IN_REVIEW, S.COMPLETED):
                reviewed = min(end + dt.timedelta(days=rng.randint(0, 10)), today)
                in_review = min(end + dt.timedelta(days=rng.randint(0, 3)), reviewed)
                steps.append((S.IN_REVIEW, in_review, reviewer, "review"))
                if fate is S.COMPLETED:
                    steps.append((S.COMPLETED, reviewed, reviewer, "review: end"))
                    decision, review_on = Decision.END, reviewed
        m = _Move(kind, title, s, final_end, pct, fate, host, target, manager, expected, skills, words["topic"])
        m.steps = steps
        m.review_on = review_on
        if ext_on is not None:
            m.ext = (planned_end, end, ext_on, reviewer)

        # Criteria are rated at a review; the decision may still turn into "convert" in _commit.
        m.criteria = [(x, None, "") for x in statements]
        if decision is not None and review_on is not None:
            m.outcome = (
                decision,
                review_on,
                reviewer,
                cat.REVIEW_NOTES[decision],
                decision is Decision.REVERT and rng.random() < 0.2,
            )
        # Check-ins every 2-4 weeks while the move runs.
        if fate in lifecycle.STARTED_STATUSES:
            last = min(m.e, today)
            d = s + dt.timedelta(days=rng.randint(7, 14))
            span_days = max(1, (m.e - s).days)
            while d <= last:
                progress = min(100, max(0, round((d - s).days / span_days * 20 + rng.randint(-1, 1)) * 5))
                note = next(text for threshold, text in reversed(cat.CHECK_IN_NOTES) if progress >= threshold)
                r2 = rng.random()
                author = p.id if r2 < 0.7 else (mgr if r2 < 0.9 else (host_manager or mgr))
                m.check_ins.append((d, author, note, progress))
                d += dt.timedelta(days=rng.randint(14, 28))
        return m

    def _commit(self, p: _Person, m: _Move) -> None:
        """Accept a candidate: give it an id and, for completed moves, maybe a conversion or promotion."""
        rng = self.rng
        self.move_seq += 1
        m.id = f"M-{self.move_seq:07d}"
        today = self.today
        if m.status is S.COMPLETED and m.review_on is not None and not p.leader:
            c = m.review_on
            eligible = p.last_change() < m.s and (c - p.last_change()).days > 60 and c < today
            target = self.roles[m.target] if m.target else None
            if eligible and target is not None and not target.manages and rng.random() < _CONVERT_P.get(m.kind, 0.0):
                role_before, team_before, manager_before = p.state_at(c)
                new_team = (
                    m.host
                    if (m.host and self.team_function.get(m.host) == target.function and m.host in self.team_manager)
                    else team_before
                )
                if self.team_function[new_team] == target.function:
                    p.events.append(
                        (c, target.id, new_team, self.team_manager[new_team], AssignmentReason.CONVERSION, m.id)
                    )
                    m.outcome = (
                        Decision.CONVERT,
                        c,
                        m.outcome[2] if m.outcome else p.id,
                        cat.REVIEW_NOTES["convert"],
                        False,
                    )
                    m.steps[-1] = (S.COMPLETED, c, m.steps[-1][2], "review: convert")
                    m.converted = -1  # the assignment id is known once the history is written
                    back = c + dt.timedelta(days=rng.randint(30, 120))
                    if rng.random() < 0.18 and back < today:
                        p.events.append((back, role_before, team_before, manager_before, AssignmentReason.REVERT, m.id))
                        m.steps.append(
                            (
                                S.REVERTED,
                                back,
                                manager_before or p.id,
                                "conversion reverted: returning to the prior role",
                            )
                        )
                        m.status = S.REVERTED
            elif eligible and m.kind in _PROMOTE_AFTER and rng.random() < 0.2:
                role_now, team_now, manager_now = p.state_at(c)
                up = self.roles[role_now].up
                when = c + dt.timedelta(days=rng.randint(30, 180))
                if up is not None and not self.roles[up].manages and when < today:
                    p.events.append((when, up, team_now, manager_now, AssignmentReason.PROMOTION, None))
        # Ratings for every reviewed move (completed, reverted by review, extended by review).
        if m.outcome is not None:
            weights = _RATING_WEIGHTS[m.outcome[0]]
            rated: list[tuple[str, Rating | None, str]] = []
            for statement, _, _ in m.criteria:
                rating = rng.choices(_RATINGS, weights=weights, k=1)[0]
                rated.append((statement, rating, rng.choice(cat.EVIDENCE[rating])))
            m.criteria = rated
        p.moves.append(m)

    # ----------------------------------------------------------------------------------- rows

    def _fits_walkthrough(self, p: _Person, profile: Mapping[str, float]) -> bool:
        """Whether the README's walkthrough can take ``p`` through a new move (see WALKTHROUGH): the tour's
        person was the one with the richest history, often on a full-time move today, and the README's first
        command then failed for want of time."""
        end = self.today + dt.timedelta(weeks=WALKTHROUGH_WEEKS)
        held = sum(
            m.pct for m in p.moves if m.status not in lifecycle.NEVER_RAN_STATUSES and m.s <= end and m.e >= self.today
        )
        return (
            held + WALKTHROUGH_PERCENT <= p.cap - p.home
            and p.hire <= self.today
            and profile.get(WALKTHROUGH_SKILL, 0.0) <= WALKTHROUGH_LEVEL
        )

    def _emit(self, p: _Person, rows: _Rows) -> None:
        rng = self.rng
        nid = self._next_id
        # Role history: hire, then conversions, promotions and reverts; each closes the previous one.
        history = [(p.hire, p.role, p.team, p.manager, AssignmentReason.HIRE, None), *p.events]
        assignment_of_move: dict[str, int] = {}
        for i, (start, role, _team, _mgr, reason, move_id) in enumerate(history):
            end = history[i + 1][0] if i + 1 < len(history) else None
            aid = nid("role_assignments")
            rows.role_assignments.append((aid, p.id, role, start, end, _V[reason], move_id))
            if reason is AssignmentReason.CONVERSION and move_id is not None:
                assignment_of_move[move_id] = aid
        _, final_role, final_team, final_manager, _, _ = history[-1]
        # About 40% of people have said which role they grow towards: the next rung or an adjacent role.
        target = None
        if not p.leader and rng.random() < TARGET_SHARE:
            up, related = self.roles[final_role].up, self.roles[final_role].related
            # Mostly the next rung of the ladder; sometimes an adjacent role.
            if up and (not related or rng.random() < 0.9):
                target = up
            elif related:
                target = rng.choice(related)
        rows.people.append(
            (
                p.id,
                p.name,
                p.email,
                final_role,
                final_manager,
                final_team,
                p.hire,
                p.location,
                p.cap,
                p.home,
                target,
                self.written_at,
            )
        )
        if target is not None:
            # What they still lack for the target: the marketplace seeds its crowded slot from these.
            need = self.roles[target].requirements
            self.seekers[p.id] = frozenset(e for e, lvl in need.items() if p.profile.get(e, 0.0) < lvl)
        imported_on = max(p.hire, self.window_start)
        imported, from_move = _V[Provenance.IMPORT], _V[Provenance.MOVE_EVIDENCE]
        for eid, level in p.profile.items():
            rows.skill_levels.append((nid("skill_levels"), p.id, eid, level, imported, imported_on, None))

        statuses = set()
        kinds = set()
        gains_total = 0
        converted = False
        current = dict(p.profile)
        for m in p.moves:
            if m.converted is not None:
                m.converted = assignment_of_move[m.id]
                converted = True
                if self.converted_move is None and m.status is S.COMPLETED:
                    self.converted_move = m.id
            rows.moves.append(
                (
                    m.id,
                    p.id,
                    _V[m.kind],
                    m.title,
                    m.s,
                    m.e,
                    m.pct,
                    _V[m.status],
                    m.host,
                    m.target,
                    m.released_by,
                    m.expected,
                    m.skills,
                    m.converted,
                    self.written_at,
                )
            )
            self.by_kind[_V[m.kind]] += 1
            self.by_status[_V[m.status]] += 1
            statuses.add(m.status)
            kinds.add(m.kind)
            for pos, (statement, rating, evidence) in enumerate(m.criteria, 1):
                rows.criteria.append((nid("criteria"), m.id, pos, statement, _V[rating], evidence))
            for on, author, note, progress in m.check_ins:
                rows.check_ins.append((nid("check_ins"), m.id, on, author, note, progress))
            prev: MoveStatus | None = None
            prev_day = m.steps[0][1]
            first_at: dict[MoveStatus, dt.datetime] = {}
            for i, (status, on, actor, why) in enumerate(m.steps):
                on = min(max(on, prev_day), self.today)
                prev_day = on
                at = _at(on, i, rng.randrange(30))
                first_at.setdefault(status, at)
                rows.status_changes.append((nid("status_changes"), m.id, _V[prev], _V[status], actor, at, why))
                self._approvals(p.id, m, status, actor, at, why)
                prev = status
            if m.ext is not None:
                old_end, new_end, on, actor = m.ext
                rows.extensions.append(
                    (
                        nid("extensions"),
                        m.id,
                        old_end,
                        new_end,
                        actor,
                        _at(on, 9, rng.randrange(30)),
                        "more time to finish the criteria",
                    )
                )
            self._handoff(p, m, prev_day)  # the day of its last status change, as recorded
            self._from_marketplace(p, m, first_at)
            if m.outcome is not None:
                decision, on, reviewer, notes, confidential = m.outcome
                rows.outcomes.append((nid("outcomes"), m.id, _V[decision], on, reviewer, notes, confidential))
            if m.status is S.REVERTED and m.converted is None:
                if m.outcome is not None and self.reverted_move_reviewed is None:
                    self.reverted_move_reviewed = m.id
                if self.reverted_move is None:
                    self.reverted_move = m.id
        # Skill gains in review order: the level before is the profile level at that review.
        completed = sorted(
            (m for m in p.moves if any(step[0] is S.COMPLETED for step in m.steps)),
            key=lambda m: (m.steps[[x[0] for x in m.steps].index(S.COMPLETED)][1], m.id),
        )
        for m in completed:
            on = m.steps[[x[0] for x in m.steps].index(S.COMPLETED)][1]
            quality = sum(_RATING_SCORE.get(r, 0.0) for _, r, _ in m.criteria) / max(1, len(m.criteria))
            for eid in m.skills:
                before = current.get(eid, 0.0)
                after = round(min(7.0, before + rng.uniform(0.3, 0.3 + 1.2 * max(quality, 0.1))), 2)
                if after <= before:
                    continue
                current[eid] = after
                rows.skill_gains.append((nid("skill_gains"), m.id, eid, before, after))
                rows.skill_levels.append((nid("skill_levels"), p.id, eid, after, from_move, on, m.id))
                gains_total += 1
        if len(p.moves) >= 3 and gains_total and not p.leader:
            score = (self._fits_walkthrough(p, current), len(kinds) + len(statuses) + 3 * converted, len(p.moves))
            if self.tour is None or score > self.tour[0]:
                self.tour = (score, p.id)


# --------------------------------------------------------------------------------------------- templates

TARGET_SHARE = 0.4
REQUIREMENTS_PER_ROLE = 10
TEMPLATE_COLUMNS = (
    "id",
    "kind",
    "title",
    "duration_weeks",
    "percent_time",
    "gains",
    "gain_cap",
    "min_levels",
    "requires_kinds",
    "host_team_id",
    "seats",
    "active",
)
# Skills a temporary lead or acting role builds whatever the function: leading people and work.
_LEAD_SKILLS = ("2.B.5.d", "2.B.1.b", "2.B.2.i", "2.B.4.e")  # personnel resources, coordination,
# complex problem solving, judgment and decision making


def move_templates(roles: dict[str, _Role], *, skill_names: dict[str, str], seed: int) -> list[tuple[Any, ...]]:
    """The organisation's catalogue of repeatable moves, derived from its roles' O*NET requirements.

    Courses build one skill to an intermediate level; shadowing and mentoring a little; gigs and stretch
    assignments a role's core skills; rotations and acting roles the most, but they need a level first
    (an acting role also needs an earlier temporary lead). Deterministic for a seed.
    """
    rng = random.Random(seed * 7919 + 17)
    rows: list[tuple[Any, ...]] = []
    courses: set[str] = set()
    for role in sorted(roles.values(), key=lambda r: r.id):
        core = sorted(role.requirements.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
        if not core:
            continue
        names = [skill_names[eid] for eid, _ in core]
        host = f"T-{cat.FUNCTIONS_BY_KEY[role.function].code}" if role.function in cat.FUNCTIONS_BY_KEY else None
        top = core[0]

        def gains(n: int, low: float, high: float, core: list[tuple[str, float]] = core) -> dict[str, float]:
            picked = core[:n] if n <= 2 else [core[0], *rng.sample(core[1:], min(n - 1, len(core) - 1))]
            return {eid: round(rng.uniform(low, high), 2) for eid, _ in picked}

        # A course for every skill any role requires, so no requirement is out of reach of the catalogue.
        for eid in sorted(role.requirements):
            if eid not in courses:
                courses.add(eid)
                rows.append(
                    (
                        f"TPL-COURSE-{eid}",
                        MoveKind.COURSE,
                        f"Course: {skill_names[eid]}",
                        rng.choice((4, 6, 8)),
                        10,
                        {eid: round(rng.uniform(0.4, 0.7), 2)},
                        4.0,
                        {},
                        [],
                        None,
                        30,
                    )
                )
        rows.append(
            (
                f"TPL-SHADOW-{role.id}",
                MoveKind.SHADOWING,
                f"Shadow {cat.with_article(role.title)}",
                4,
                10,
                gains(2, 0.2, 0.4),
                7.0,
                {},
                [],
                host,
                3,
            )
        )
        rows.append(
            (
                f"TPL-GIG-{role.id}",
                MoveKind.GIG,
                f"Gig: {names[0]} work with the {cat.plural(role.title)}",
                rng.choice((6, 8, 10)),
                20,
                gains(2, 0.4, 0.7),
                7.0,
                {},
                [],
                host,
                2,
            )
        )
        # Drawn in the order the catalogue always drew them (same seed, same catalogue); the title names a
        # skill the stretch builds (it named the role's second core skill, which the draw may leave out).
        weeks, share, built = rng.choice((10, 12, 16)), rng.choice((30, 40, 50)), gains(3, 0.6, 1.1)
        named = list(built)[1] if len(built) > 1 else next(iter(built))
        rows.append(
            (
                f"TPL-STRETCH-{role.id}",
                MoveKind.STRETCH_ASSIGNMENT,
                f"Stretch: take on {role.title} work in {skill_names[named]}",
                weeks,
                share,
                built,
                7.0,
                {top[0]: round(0.6 * top[1], 2)},
                [],
                host,
                2,
            )
        )
        if role.level >= 2 and not role.manages:
            rows.append(
                (
                    f"TPL-ROTATION-{role.id}",
                    MoveKind.ROTATION,
                    f"Rotation into the {role.title} role",
                    12,
                    100,
                    gains(4, 0.7, 1.3),
                    7.0,
                    {top[0]: round(0.7 * top[1], 2)},
                    [],
                    host,
                    1,
                )
            )
        if role.manages or role.level >= 3:
            lead = {eid: round(rng.uniform(0.5, 0.9), 2) for eid in _LEAD_SKILLS if eid in role.requirements}
            rows.append(
                (
                    f"TPL-LEAD-{role.id}",
                    MoveKind.TEMPORARY_LEAD,
                    f"Temporary lead: cover {cat.with_article(role.title)}",
                    12,
                    50,
                    lead or gains(2, 0.5, 0.9),
                    7.0,
                    {},
                    [],
                    host,
                    1,
                )
            )
            rows.append(
                (
                    f"TPL-ACTING-{role.id}",
                    MoveKind.ACTING_ROLE,
                    f"Acting {role.title}",
                    16,
                    100,
                    gains(4, 0.9, 1.5),
                    7.0,
                    {top[0]: round(0.8 * top[1], 2)},
                    [MoveKind.TEMPORARY_LEAD.value],
                    host,
                    1,
                )
            )
        rows.append(
            (
                f"TPL-MENTOR-{role.id}",
                MoveKind.MENTORING,
                f"Mentoring by {cat.with_article(role.title)}",
                24,
                5,
                gains(2, 0.3, 0.5),
                7.0,
                {},
                [],
                host,
                4,
            )
        )
    return [(*row, True) for row in rows]


# ------------------------------------------------------------------------------------------ marketplace

OPPORTUNITY_COLUMNS = (
    "id",
    "title",
    "description",
    "kind",
    "host_team_id",
    "host_manager_id",
    "start",
    "end",
    "percent_time",
    "seats",
    "required_skills",
    "preferred_skills",
    "builds_skills",
    "expected_outcomes",
    "criteria_template",
    "locations",
    "status",
    "template_id",
    "created_by",
    "created_at",
    "approved_by",
)
APPLICATION_COLUMNS = ("opportunity_id", "person_id", "status", "applied_at", "note")
PAST_APPLICATION_COLUMNS = (*APPLICATION_COLUMNS, "decided_at", "decided_by", "offered_or_rejected_at", "move_id")
# plan_benefit_weeks last: seeded_benefits fills it in.
OPEN_APPLICATION_COLUMNS = (
    *APPLICATION_COLUMNS,
    "decided_at",
    "decided_by",
    "offered_or_rejected_at",
    "plan_benefit_weeks",
)
# An open opportunity with this many applicants or more has had its first answered (a rejection).
ANSWERED_FROM = 3
# The level an open opportunity prefers in each skill it builds: a working level (at 2.0, 87% of the demo's
# people matched every card 100%; at 3.0 about 60% of person-opportunity pairs do).
PREFERRED_GROUNDING = 3.0
ONBOARDING_COLUMNS = ("id", "move_id", "position", "item", "done_on", "done_by")
# Of the moves hosted by another team (of the marketplace's kinds), the share that came through the marketplace.
PAST_MARKET_SHARE = 0.3
OPEN_OPPORTUNITIES = 14
# The seeded bottleneck: one seat that a crowd applies for (the congestion monitor should find it).
BOTTLENECK_ID = "OPP-DEMO-01"
MARKET_KINDS = (MoveKind.GIG, MoveKind.STRETCH_ASSIGNMENT, MoveKind.ROTATION, MoveKind.TEMPORARY_LEAD)
# How many people with a target role the demo plans (greedily) to find the move plans reach for most.
ROUTE_SAMPLE = 60
ROUTE_CANDIDATES = 5  # the moves the sample's plans use most, each re-planned without


def market_pool(gen: _Generator, templates: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The catalogue moves a team can host as an opportunity."""
    by_column = [dict(zip(TEMPLATE_COLUMNS, row, strict=True)) for row in templates]
    return [x for x in by_column if x["kind"] in MARKET_KINDS and x["host_team_id"] in gen.team_manager]


@dataclass(frozen=True)
class Bottleneck:
    """The move the demo's one-seat opportunity runs, and who needs it."""

    template_id: str
    weeks: int  # weeks the sampled plans lose without it (greedy estimates)
    people: list[str]  # whose sampled plans use it, costliest first
    # person → weeks their plan loses without it, to choose the bottleneck by (greedy estimates; an unreachable
    # target counts horizon + 1 − week). Not what their applications record: see seeded_benefits.
    cost: dict[str, int] = field(default_factory=dict)


def planned_bottleneck(conn: Connection, gen: _Generator, candidates: Sequence[str], *, seed: int) -> Bottleneck | None:
    """The market move whose loss costs a sample of plans the most weeks, and those people, costliest first.

    A deterministic sample of people with a target role is planned by the fast greedy planner (a valid plan,
    near the optimum); the moves their plans use most are tried, each re-planned without it. A move many
    people merely *could* use is replaced at no cost by another one, and every alternate route around it
    would cost nothing: the seeded bottleneck should be one that plans really need."""
    from micromoves.services.planning import load_catalogue, load_people, load_targets, make_problem
    from micromoves.settings import Settings

    rng = random.Random(seed * 7_481 + 11)
    sample = sorted(rng.sample(sorted(gen.seekers), min(ROUTE_SAMPLE, len(gen.seekers))))
    target_of: dict[str, str] = dict(
        conn.execute(select(t.people.c.id, t.people.c.target_role_id).where(t.people.c.id.in_(sample))).all()
    )
    start = _monday_on_or_after(gen.today)
    people = load_people(conn, sample, start=start)
    targets = load_targets(conn, set(target_of.values()))
    catalogue = load_catalogue(conn)
    settings = Settings.model_construct()  # the defaults: the same seed picks the same bottleneck everywhere

    def greedy(problem: PlanProblem) -> PlanResult | None:
        try:
            return solve_greedy(problem, explain=False)
        except (PlanningError, NoPlanFound):
            return None  # the dive found no ready plan: this person tells us nothing

    wanted = set(candidates)
    users: dict[str, list[tuple[str, PlanProblem, int]]] = {}
    options: dict[Any, Any] = {}  # shared by the sample's problems
    for pid in sample:
        problem = make_problem(
            people[pid], targets[target_of[pid]], catalogue, start=start, horizon=104, settings=settings, cache=options
        )
        plan = greedy(problem)
        if plan is None or plan.ready_week is None:
            continue
        for move in plan.moves:
            if move.option_id in wanted:
                users.setdefault(move.option_id, []).append((pid, problem, plan.ready_week))
    best: Bottleneck | None = None
    for tpl in sorted(users, key=lambda x: (-len(users[x]), x))[:ROUTE_CANDIDATES]:
        cost: dict[str, int] = {}
        for pid, problem, week in users[tpl]:
            without = greedy(dataclasses.replace(problem, options=tuple(o for o in problem.options if o.id != tpl)))
            ready = without.ready_week if without is not None else None
            cost[pid] = problem.horizon + 1 - week if ready is None else max(0, ready - week)
        found = Bottleneck(tpl, sum(cost.values()), sorted(cost, key=lambda p: (-cost[p], p)), cost)
        if best is None or (found.weeks, len(found.people)) > (best.weeks, len(best.people)):
            best = found
    return best


def seeded_benefits(
    conn: Connection, gen: _Generator, bottleneck: Bottleneck, applications: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """The applications, with what the bottleneck's seat is worth to the plans of those who need it, as the
    product records it when they apply (:func:`congestion.application_benefit`) and the alternate-routes page
    shows it: the weeks later they are ready without it, from the same route searches (counted steps: the same
    demo on any machine); none when the target is out of reach without it, or the plans are not proven best.
    (The greedy estimates that chose the bottleneck counted an unreachable target as horizon + 1 − week: the
    allocation said "59 weeks sooner" where the routes page said "out of reach".) Unknown for the rest, as
    for anyone without a plan. Run once the opportunities are written: plans see them."""
    from micromoves.services.congestion import application_benefit, routes_around
    from micromoves.settings import Settings

    crowd = {pid for oid, pid, *_ in applications if oid == BOTTLENECK_ID}
    needing = [pid for pid in bottleneck.people if pid in crowd]
    routes = routes_around(
        conn,
        bottleneck.template_id,
        needing,
        start=_monday_on_or_after(gen.today),
        settings=Settings.model_construct(),  # the defaults, as planned_bottleneck: the same demo everywhere
    )
    worth = {pid: application_benefit(route) for pid, route in routes.items()}
    return [
        (*row[:-1], worth.get(row[1])) if row[0] == BOTTLENECK_ID else row  # plan_benefit_weeks: the last column
        for row in applications
    ]


def marketplace_rows(
    gen: _Generator,
    templates: Sequence[tuple[Any, ...]],
    *,
    seed: int,
    bottleneck: Bottleneck | None = None,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Open opportunities run from catalogue templates by department heads, with applications; the first
    is the seeded bottleneck (one seat, a crowd of applicants).

    ``bottleneck`` (see :func:`planned_bottleneck`): the move plans need, and the people who need it most
    applied first; without it, a short gig building what most people still lack."""
    rng = random.Random(seed * 104_729 + 3)
    pool = market_pool(gen, templates)
    if not pool:
        return [], []

    def wanted_by(tpl: dict[str, Any]) -> list[str]:
        return sorted(pid for pid, gaps in gen.seekers.items() if gaps & set(tpl["gains"]))

    if bottleneck is not None:
        crowded = next(x for x in pool if x["id"] == bottleneck.template_id)
    else:
        # A short gig with no prerequisites: the kind of step optimal plans reach for first.
        quick = [
            x for x in pool if x["kind"] is MoveKind.GIG and not x["min_levels"] and not x["requires_kinds"]
        ] or pool
        crowded = max(quick, key=lambda x: (len(wanted_by(x)), x["id"]))
    rest = [x for x in pool if x["id"] != crowded["id"]]
    picked = [crowded, *rng.sample(rest, min(OPEN_OPPORTUNITIES - 1, len(rest)))]
    members = [pid for pid, _team in gen.members_plan]
    host_of_crowded = gen.team_manager[crowded["host_team_id"]]
    needing = [pid for pid in (bottleneck.people if bottleneck else ()) if pid != host_of_crowded]
    needed = set(needing)
    seekers = [pid for pid in wanted_by(crowded) if pid != host_of_crowded and pid not in needed]
    monday = _monday_on_or_after(gen.today)
    now = dt.datetime.combine(gen.today, dt.time(9), tzinfo=dt.UTC)
    opportunities: list[tuple[Any, ...]] = []
    applications: list[tuple[Any, ...]] = []
    for i, tpl in enumerate(picked, 1):
        oid = f"OPP-DEMO-{i:02d}"
        start = monday + dt.timedelta(weeks=rng.randint(3, 10))
        host = gen.team_manager[tpl["host_team_id"]]
        seats = 1 if oid == BOTTLENECK_ID else rng.choice((1, 2, 2, 3))
        opportunities.append(
            (
                oid,
                tpl["title"],
                f"{gen.team_name[tpl['host_team_id']]} runs this {tpl['kind'].value.replace('_', ' ')} for people "
                "from other teams.",
                tpl["kind"],
                tpl["host_team_id"],
                host,
                start,
                start + dt.timedelta(weeks=tpl["duration_weeks"], days=-3),
                tpl["percent_time"],
                seats,
                {},
                # A working level in what it builds is welcome (not required: anyone may apply), so skill fit
                # tells applicants apart (with nothing asked every card matched "100%").
                {eid: PREFERRED_GROUNDING for eid in sorted(tpl["gains"])},
                dict(tpl["gains"]),
                "A piece of work the host team needs, and the skills it builds.",
                [
                    "Agree the goal with the host manager in the first week",
                    "Deliver the agreed result by the end date",
                    "Share what you learned with your home team",
                ],
                [],
                "open",
                tpl["id"],
                host,
                now - dt.timedelta(days=rng.randint(7, 30)),
                host,
            )
        )
        if oid == BOTTLENECK_ID:
            crowd = max(25, len(members) // 50)
            # Whose plans need the move applied first (the queue is served, and re-planned, in that order).
            first = needing[:crowd]
            others = (
                seekers
                if len(seekers) >= crowd - len(first)
                else [p for p in members if p not in needed and p != host_of_crowded]
            )
            applicants = first + rng.sample(others, min(crowd - len(first), len(others)))
        else:
            applicants = rng.sample(members, min(rng.randint(0, 4), len(members)))
        ages = sorted(
            (dt.timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 8)) for _ in applicants), reverse=True
        )
        for n, (pid, age) in enumerate(zip(applicants, ages, strict=True)):
            status = "waitlisted" if oid == BOTTLENECK_ID and rng.random() < 0.3 else "applied"
            answered: dt.datetime | None = None
            if oid != BOTTLENECK_ID and n == 0 and len(applicants) >= ANSWERED_FROM:
                # The host has answered the first of a busy opportunity's applicants (no), halfway through
                # its wait so far, so that the congestion report has days to a decision to show (no draw:
                # the other rows stay as they were).
                status, answered = "rejected", now - age / 2
            # What the seat is worth to the applicant's plan is filled in once the opportunities are written
            # (seeded_benefits): unknown for now, as for anyone without a plan.
            host_of = host if answered is not None else None
            applications.append((oid, pid, status, now - age, "", answered, host_of, answered, None))
    return opportunities, applications


# --------------------------------------------------------------------------------------------- database


def _org_tables() -> list[Any]:
    return [tbl for tbl in t.metadata.sorted_tables if tbl.name not in KEPT_TABLES]


def not_a_demo(conn: Connection) -> str | None:
    """Why ``replace`` must not delete the organisation in the database: it was not generated by the demo,
    or files were imported into it since (the audit log tells; None: it is a demo, safe to replace)."""
    a = t.audit_events.c
    generated = conn.scalar(select(func.max(a.id)).where(a.action == "demo.generated"))
    if generated is None:
        return "it was not generated by `micromoves demo`"
    if conn.scalar(select(func.max(a.id)).where(a.action == "import.file", a.id > generated)) is not None:
        return "files were imported into it after the demo was generated"
    return None


def _existing(conn: Connection) -> dict[str, int]:
    return {
        name: conn.scalar(select(func.count()).select_from(tbl)) or 0
        for name, tbl in (("people", t.people), ("teams", t.teams), ("roles", t.roles))
    }


def _delete_org(conn: Connection) -> None:
    tables = _org_tables()
    if conn.dialect.name == "postgresql":
        # RESTART IDENTITY: rows written without explicit ids (applications) number from 1 again, as on SQLite.
        conn.exec_driver_sql(f"TRUNCATE {', '.join(_quote(tbl.name) for tbl in tables)} RESTART IDENTITY")
        return
    for tbl in reversed(tables):
        conn.execute(tbl.delete())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fix_sequences(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return  # SQLite continues after the highest rowid by itself
    for tbl in ID_TABLES:
        top = func.max(tbl.c.id)
        sequence = func.pg_get_serial_sequence(tbl.name, "id")
        conn.execute(select(func.setval(sequence, func.coalesce(top, 1), top.is_not(None))))


def _analyze(conn: Connection) -> None:
    """Planner statistics for the freshly loaded tables. PostgreSQL has none until autovacuum comes round
    (minutes later), and without them it guesses: the web pages' child-table lookups by move id became
    sequential scans (25 ms instead of 1 ms on the 10,000-person demo). SQLite plans well without them."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE")


def generate_demo(
    db: Database,
    *,
    people: int = 2000,
    seed: int = 42,
    as_of: dt.date | None = None,
    years: int = 3,
    progress: Progress | None = None,
    replace: bool = False,
    plan_bottleneck: bool = True,
) -> DemoSummary:
    """Generate a demo organisation into ``db`` in one transaction and return what was written.

    Refuses (:class:`OrganisationExists`) if the database already has people, teams or roles, unless
    ``replace``: then all organisation data is deleted first (O*NET reference tables, skills and the audit
    log stay). The O*NET taxonomy must be loaded (``micromoves init``). ``progress(stage, done, total)`` is
    called for the stages ``organisation``, ``people`` and ``finalising``. ``plan_bottleneck``: choose the
    seeded bottleneck by planning a sample of people (:func:`planned_bottleneck`, about a second); False
    picks it by skill demand alone (for tests that only compare organisations).
    """
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    if people < MIN_PEOPLE:
        raise InvalidValue(f"a demo organisation needs at least {MIN_PEOPLE} people, got {people}", field="people")
    if not 1 <= years <= 20:
        raise InvalidValue(f"years must be between 1 and 20, got {years}", field="years")
    as_of = as_of or dt.date.today()
    if taxonomy_version(db) is None:
        raise DomainError("the O*NET taxonomy is not loaded; run `micromoves init` first")
    onet = load_onet()
    gen = _Generator(onet, people=people, seed=seed, as_of=as_of, years=years)

    with db.write_engine.begin() as conn:
        existing = _existing(conn)
        if any(existing.values()):
            held = ", ".join(f"{n} {name}" for name, n in existing.items())
            # `make demo` replaces whatever the default database holds: never a real organisation.
            reason = not_a_demo(conn)
            if not replace and reason is None:
                raise OrganisationExists(
                    f"the database already holds a demo organisation ({held}); `micromoves demo --replace` "
                    "deletes it and generates a new one"
                )
            if reason is not None:
                raise OrganisationExists(
                    f"the database holds an organisation ({held}) and {reason}: the demo replaces only a demo "
                    "organisation; build it in another database (--db demo.sqlite3) or delete this one yourself"
                )
            _delete_org(conn)
        known_skills = set(conn.scalars(select(t.skills.c.id)))
        missing = sorted({eid for r in gen.roles.values() for eid, _ in r.profile} - known_skills)
        if missing:
            raise DomainError(f"skills missing from the database: {', '.join(missing[:5])}; run `micromoves init`")

        writer = BulkWriter(conn)
        gen.build_org()
        n_org = 3
        report("organisation", 0, n_org)
        writer.insert(t.teams, ("id", "name", "function", "parent_id"), gen.teams)
        report("organisation", 1, n_org)
        writer.insert(
            t.roles,
            ("id", "title", "onet_code", "level", "team_id", "critical"),
            [
                (
                    s.id,
                    s.title,
                    s.onet_code,
                    s.level,
                    cat.EXEC_TEAM if s.function == cat.EXECUTIVE else f"T-{cat.FUNCTIONS_BY_KEY[s.function].code}",
                    s.critical,
                )
                for s in cat.ROLES
            ],
        )
        report("organisation", 2, n_org)
        writer.insert(
            t.role_skills,
            ("role_id", "skill_id", "level"),
            [(r.id, eid, lv) for r in gen.roles.values() for eid, lv in sorted(r.requirements.items())],
        )
        templates = move_templates(gen.roles, skill_names=gen.skill_names, seed=seed)
        writer.insert(t.move_templates, TEMPLATE_COLUMNS, templates)
        report("organisation", 3, n_org)

        totals: Counter[str] = Counter()

        def flush(rows: _Rows) -> None:
            for attr, tbl, cols in _COLUMNS:
                data = getattr(rows, attr)
                if data:
                    totals[attr] += writer.insert(tbl, cols, data)

        # Leaders first (CEO, heads, team managers: everyone's manager is written before them), then members.
        report("people", 0, people)
        done = 0
        everyone = itertools.chain(gen.leaders, (gen.member(pid, team) for pid, team in gen.members_plan))
        while batch := list(itertools.islice(everyone, CHUNK_PEOPLE)):
            rows = _Rows.empty()
            for person in batch:
                gen.simulate(person, rows)
            flush(rows)
            done += len(batch)
            report("people", done, people)

        report("finalising", 0, 1)
        writer.insert(t.team_managers, ("team_id", "person_id"), sorted(gen.team_manager.items()))
        writer.insert(t.move_approvals, APPROVAL_COLUMNS, gen.approvals)
        writer.insert(t.handoffs, HANDOFF_COLUMNS, gen.handoffs)
        candidates = [x["id"] for x in market_pool(gen, templates)]
        bottleneck = planned_bottleneck(conn, gen, candidates, seed=seed) if candidates and plan_bottleneck else None
        opportunities, applications = marketplace_rows(gen, templates, seed=seed, bottleneck=bottleneck)
        writer.insert(t.opportunities, OPPORTUNITY_COLUMNS, opportunities)
        if bottleneck is not None:
            applications = seeded_benefits(conn, gen, bottleneck, applications)
        writer.insert(t.applications, OPEN_APPLICATION_COLUMNS, applications)
        writer.insert(t.opportunities, OPPORTUNITY_COLUMNS, gen.past_opportunities)
        writer.insert(t.applications, PAST_APPLICATION_COLUMNS, gen.past_applications)
        writer.insert(t.onboarding_items, ONBOARDING_COLUMNS, gen.onboarding)
        _fix_sequences(conn)
        _analyze(conn)
        tour = gen.tour[1] if gen.tour else gen.leaders[0].id
        reverted = gen.reverted_move_reviewed or gen.reverted_move
        counts = {
            "teams": len(gen.teams),
            "roles": len(cat.ROLES),
            "people": totals["people"],
            "moves": totals["moves"],
            "criteria": totals["criteria"],
            "check_ins": totals["check_ins"],
            "status_changes": totals["status_changes"],
            "extensions": totals["extensions"],
            "outcomes": totals["outcomes"],
            "skill_gains": totals["skill_gains"],
            "skill_levels": totals["skill_levels"],
            "role_assignments": totals["role_assignments"],
            "handoffs": len(gen.handoffs),
            "past_opportunities": len(gen.past_opportunities),
            "onboarding_items": len(gen.onboarding),
        }
        by_kind = {k.value: gen.by_kind[k.value] for k in MoveKind}
        by_status = {s.value: gen.by_status[s.value] for s in MoveStatus}
        conn.execute(
            insert(t.audit_events).values(
                at=utcnow(),
                actor=ACTOR,
                action="demo.generated",
                entity_type="organisation",
                entity_id="demo",
                details={
                    "people": people,
                    "seed": seed,
                    "as_of": as_of.isoformat(),
                    "years": years,
                    "replaced": bool(replace and any(existing.values())),
                    "counts": counts,
                    "moves_by_kind": by_kind,
                    "moves_by_status": by_status,
                },
            )
        )
    report("finalising", 1, 1)  # after the commit, which takes a few seconds at 100,000 people

    return DemoSummary(
        seed=seed,
        as_of=as_of,
        **counts,
        moves_by_kind=by_kind,
        moves_by_status=by_status,
        tour_person_id=tour,
        reverted_move_id=reverted,
        converted_move_id=gen.converted_move,
        elapsed_seconds=round(time.perf_counter() - started, 3),
        handoff_move_id=gen.handoff_move,
    )
