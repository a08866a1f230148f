"""Typed, frozen inputs and outputs of the planner, and input validation.

Everything is an integer: weeks from the plan's start, skill levels in hundredths of O*NET's 0–7 scale
(0..700), shares and capacities in percent of a working week. See :mod:`micromoves.planning` for the
precise problem statement.

Construction validates: a bad :class:`MoveOption` or :class:`PlanProblem` raises :class:`PlanningError`
(a ``ValueError``) whose ``field`` names the offending field, e.g. ``options[3].share``.
"""

from __future__ import annotations

import hashlib
import json
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from functools import cached_property
from typing import Literal

MAX_LEVEL = 700
"""Top of the level scale (O*NET 7.00, in hundredths)."""
MAX_CAPACITY = 100
"""A week's capacity and a move's share are percentages of a working week."""
RELAXATIONS = ("horizon", "capacity", "prerequisites", "depth_rule", "max_concurrent")
"""Names of the single relaxations tried to find the binding constraint of an unreachable target."""

Status = Literal["ready", "already_ready", "unreachable"]


class PlanningError(ValueError):
    """Invalid planning input. ``field`` names the offending field (``horizon``, ``options[2].share`` …)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _hashable(value: object) -> object:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, tuple | list | frozenset | set):
        items = [_hashable(v) for v in value]
        return frozenset(items) if isinstance(value, frozenset | set) else tuple(items)
    return value


def _frozen_hash(obj: object) -> int:
    """Hash of a frozen dataclass whose fields hold read-only mappings (which are not hashable themselves)."""
    return hash((type(obj).__name__, *(_hashable(getattr(obj, f.name)) for f in fields(obj))))  # type: ignore[arg-type]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(value: object, name: str, lo: int | None = None, hi: int | None = None, where: str = "") -> None:
    prefix = f"{where}: " if where else ""
    if not _is_int(value):
        raise PlanningError(name, f"{prefix}must be an integer, got {value!r}")
    assert isinstance(value, int)
    if lo is not None and value < lo:
        message = f"must be at least {lo}, got {value}" if hi is None else _range(lo, hi, value)
        raise PlanningError(name, prefix + message)
    if hi is not None and value > hi:
        message = f"must be at most {hi}, got {value}" if lo is None else _range(lo, hi, value)
        raise PlanningError(name, prefix + message)


def _range(lo: int, hi: int, value: int) -> str:
    return f"must be between {lo} and {hi}, got {value}"


def _frozen_levels(value: object, name: str, lo: int, hi: int, where: str = "") -> Mapping[str, int]:
    prefix = f"{where}: " if where else ""
    if not isinstance(value, Mapping):
        raise PlanningError(name, f"{prefix}must be a mapping of skill to integer, got {type(value).__name__}")
    out: dict[str, int] = {}
    for key, level in value.items():
        if not isinstance(key, str) or not key:
            raise PlanningError(name, f"{prefix}skill keys must be non-empty strings, got {key!r}")
        _check_int(level, f"{name}[{key!r}]", lo, hi, where)
        out[key] = level
    return types.MappingProxyType(out)


@dataclass(frozen=True)
class MoveOption:
    """One move a person could take: a stretch assignment, rotation, gig, course …

    ``gains`` apply when the move ends; a gain never raises a level above ``min(gain_cap, 700)``.
    ``min_levels`` must hold at the move's start; for each kind in ``requires_kinds`` another move of that
    kind must have ended at or before the start. ``latest_start`` None means ``horizon - duration``.
    Only options with ``seats >= 1`` are usable.
    """

    id: str
    kind: str
    duration: int
    share: int
    gains: Mapping[str, int]
    gain_cap: int = MAX_LEVEL
    min_levels: Mapping[str, int] = field(default_factory=dict)
    requires_kinds: frozenset[str] = frozenset()
    earliest_start: int = 0
    latest_start: int | None = None
    seats: int = 1
    title: str = ""

    __hash__ = _frozen_hash

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise PlanningError("id", f"must be a non-empty string, got {self.id!r}")
        where = f"option {self.id!r}"
        if not isinstance(self.kind, str) or not self.kind:
            raise PlanningError("kind", f"{where}: must be a non-empty string, got {self.kind!r}")
        _check_int(self.duration, "duration", 1, where=where)
        _check_int(self.share, "share", 1, MAX_CAPACITY, where=where)
        object.__setattr__(self, "gains", _frozen_levels(self.gains, "gains", 0, MAX_LEVEL, where))
        _check_int(self.gain_cap, "gain_cap", 0, MAX_LEVEL, where=where)
        object.__setattr__(self, "min_levels", _frozen_levels(self.min_levels, "min_levels", 0, MAX_LEVEL, where))
        kinds = self.requires_kinds
        if isinstance(kinds, str) or not isinstance(kinds, Iterable):
            raise PlanningError("requires_kinds", f"{where}: must be a set of kinds (strings)")
        frozen = frozenset(kinds)
        if not all(isinstance(k, str) and k for k in frozen):
            raise PlanningError("requires_kinds", f"{where}: kinds must be non-empty strings")
        object.__setattr__(self, "requires_kinds", frozen)
        _check_int(self.earliest_start, "earliest_start", 0, where=where)
        if self.latest_start is not None:
            _check_int(self.latest_start, "latest_start", self.earliest_start, where=where)
        _check_int(self.seats, "seats", 0, where=where)
        if not isinstance(self.title, str):
            raise PlanningError("title", f"{where}: must be a string")

    @property
    def effort(self) -> int:
        """Percent-weeks: ``duration × share``."""
        return self.duration * self.share

    @property
    def cap(self) -> int:
        """The effective cap of this option's gains: ``min(gain_cap, 700)``."""
        return min(self.gain_cap, MAX_LEVEL)

    def label(self) -> str:
        return self.title or self.id

    @cached_property
    def canonical_json(self) -> bytes:
        """This option as canonical JSON (for :func:`problem_digest`), computed once per option object:
        plan-all builds each option once and shares it between everyone's problems."""
        return _json(_canonical(self))


@dataclass(frozen=True, kw_only=True)
class PlanProblem:
    """A person, a target role and the moves on offer. See the package docstring for the semantics.

    ``capacity`` has one entry per week (percent of the week free for new moves); empty means 100% every
    week. ``weights`` default to 1 for required skills without one. ``depth_rule`` False switches the depth
    rule off (used by the binding-constraint analysis). ``skill_names`` only feeds explanations.
    ``lanes_busy`` has one entry per week: moves already under way that week, which count against
    ``max_concurrent`` (their time share is already out of ``capacity``); empty means none.
    """

    levels: Mapping[str, int]
    requirements: Mapping[str, int]
    options: Sequence[MoveOption]
    horizon: int = 104
    capacity: Sequence[int] = ()
    weights: Mapping[str, int] = field(default_factory=dict)
    tolerance: int = 0
    max_concurrent: int = 2
    max_move_weeks: int = 26
    depth_level: int = 300
    depth_rule: bool = True
    skill_names: Mapping[str, str] = field(default_factory=dict)
    lanes_busy: Sequence[int] = ()

    __hash__ = _frozen_hash

    def __post_init__(self) -> None:
        _check_int(self.horizon, "horizon", 1, 100_000)
        capacity = self.capacity
        if isinstance(capacity, str | bytes) or not isinstance(capacity, Sequence):
            raise PlanningError("capacity", "must be a sequence of integers, one per week")
        if len(capacity) == 0:
            capacity = (MAX_CAPACITY,) * self.horizon
        if len(capacity) != self.horizon:
            raise PlanningError(
                "capacity", f"must have one entry per week (horizon {self.horizon}), got {len(capacity)}"
            )
        for week, value in enumerate(capacity):
            _check_int(value, f"capacity[{week}]", 0, MAX_CAPACITY)
        object.__setattr__(self, "capacity", tuple(capacity))
        object.__setattr__(self, "levels", _frozen_levels(self.levels, "levels", 0, MAX_LEVEL))
        object.__setattr__(self, "requirements", _frozen_levels(self.requirements, "requirements", 0, MAX_LEVEL))
        object.__setattr__(self, "weights", _frozen_levels(self.weights, "weights", 1, 1_000_000))
        _check_int(self.tolerance, "tolerance", 0, MAX_LEVEL)
        _check_int(self.max_concurrent, "max_concurrent", 1)
        busy = self.lanes_busy
        if isinstance(busy, str | bytes) or not isinstance(busy, Sequence):
            raise PlanningError("lanes_busy", "must be a sequence of integers, one per week")
        if len(busy) == 0:
            busy = (0,) * self.horizon
        if len(busy) != self.horizon:
            raise PlanningError("lanes_busy", f"must have one entry per week (horizon {self.horizon}), got {len(busy)}")
        for week, value in enumerate(busy):
            _check_int(value, f"lanes_busy[{week}]", 0, self.max_concurrent)
        object.__setattr__(self, "lanes_busy", tuple(busy))
        _check_int(self.max_move_weeks, "max_move_weeks", 1)
        _check_int(self.depth_level, "depth_level", 0, MAX_LEVEL)
        if not isinstance(self.depth_rule, bool):
            raise PlanningError("depth_rule", "must be a bool")
        if not isinstance(self.skill_names, Mapping):
            raise PlanningError("skill_names", "must be a mapping of skill to name")
        object.__setattr__(self, "skill_names", types.MappingProxyType(dict(self.skill_names)))
        options = self.options
        if isinstance(options, str | bytes) or not isinstance(options, Sequence):
            raise PlanningError("options", "must be a sequence of MoveOption")
        seen: set[str] = set()
        for i, option in enumerate(options):
            if not isinstance(option, MoveOption):
                raise PlanningError(f"options[{i}]", f"must be a MoveOption, got {type(option).__name__}")
            if option.id in seen:
                raise PlanningError(f"options[{i}].id", f"duplicate option id {option.id!r}")
            seen.add(option.id)
            if option.duration > self.max_move_weeks:
                raise PlanningError(
                    f"options[{i}].duration",
                    f"option {option.id!r} lasts {option.duration} weeks, more than max_move_weeks "
                    f"({self.max_move_weeks})",
                )
        object.__setattr__(self, "options", tuple(options))
        _check_kind_cycles(self.options)

    def weight(self, skill: str) -> int:
        return self.weights.get(skill, 1)

    def level(self, skill: str) -> int:
        return self.levels.get(skill, 0)

    def target(self, skill: str) -> int:
        """The level a required skill must reach: ``requirement - tolerance`` (at least 0)."""
        return max(0, self.requirements.get(skill, 0) - self.tolerance)

    def skill_name(self, skill: str) -> str:
        return self.skill_names.get(skill, skill)


def _canonical(value: object) -> object:
    """``value`` as plain JSON data in one fixed order: mappings by key, sets sorted, dataclasses as their type
    name and fields."""
    if is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, *(_canonical(getattr(value, f.name)) for f in fields(value))]
    if isinstance(value, Mapping):
        return [[k, _canonical(v)] for k, v in sorted(value.items())]
    if isinstance(value, frozenset | set):
        return sorted(_canonical(v) for v in value)  # type: ignore[type-var]
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    return value


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def problem_digest(problem: PlanProblem, *context: str) -> str:
    """SHA-256 (hex) of the problem and ``context`` (say the start date and the target role's id): the same
    digest, the same plan. Unlike ``hash()`` (salted per process for strings) it is the same in every process
    and every run, so it can be stored with a plan and compared later (``plan-all --changed-only``).

    The canonical JSON of the problem without its options, then each option's (a NUL before each: JSON text
    never holds one, so no two problems give the same bytes)."""
    digest = hashlib.sha256(
        _json(
            [
                type(problem).__name__,
                [_canonical(getattr(problem, f.name)) for f in fields(problem) if f.name != "options"],
                list(context),
            ]
        )
    )
    for option in problem.options:
        digest.update(b"\0" + option.canonical_json)
    return digest.hexdigest()


def _check_kind_cycles(options: Sequence[MoveOption]) -> None:
    """Prerequisite kinds that can never be satisfied because they depend on each other are an error
    (see :func:`kind_cycle`)."""
    found = kind_cycle([(o.kind, o.requires_kinds) for o in options])
    if found is not None:
        cycle, index = found
        raise PlanningError(
            f"options[{index}].requires_kinds",
            "prerequisites form a cycle: " + " → ".join(cycle) + " (no option of these kinds can ever start)",
        )


def groundable_kinds(moves: Sequence[tuple[str, Iterable[str]]]) -> set[str]:
    """The kinds some move of which can start: one whose required kinds are all groundable (to a fixpoint)."""
    needs = [(kind, frozenset(required)) for kind, required in moves]
    grounded: set[str] = set()
    changed = True
    while changed:
        changed = False
        for kind, required in needs:
            if kind not in grounded and required <= grounded:
                grounded.add(kind)
                changed = True
    return grounded


def kind_cycle(moves: Sequence[tuple[str, Iterable[str]]]) -> tuple[list[str], int] | None:
    """A cycle of prerequisite kinds among moves given as (kind, kinds required first) that no move can
    ever break, and the index of a move on it; None if there is none.

    A kind is *groundable* when some move of that kind has only groundable required kinds. Among the kinds
    that have moves but are not groundable, a cycle of requirements (kind A needs B, B needs A …) means no
    move of those kinds can ever start. A kind nobody offers only makes the moves requiring it unusable (not
    a cycle). The catalogue refuses a template that would close such a cycle; the planner refuses options
    that hold one.
    """
    needs = [(kind, frozenset(required)) for kind, required in moves]
    by_kind: dict[str, list[frozenset[str]]] = {}
    for kind, required in needs:
        by_kind.setdefault(kind, []).append(required)
    grounded = groundable_kinds(needs)
    stuck = {k for k in by_kind if k not in grounded}
    if not stuck:
        return None
    edges = {k: sorted({r for req in by_kind[k] for r in req if r in stuck}) for k in sorted(stuck)}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(kind: str) -> list[str] | None:
        state[kind] = 1
        path.append(kind)
        for nxt in edges[kind]:
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[kind] = 2
        return None

    for kind in edges:
        if kind not in state:
            cycle = visit(kind)
            if cycle:
                return cycle, next(i for i, (k, r) in enumerate(needs) if k == cycle[0] and cycle[1] in r)
    return None


def validate_problem(problem: PlanProblem) -> PlanProblem:
    """Re-run every check (construction already does; useful after ``object.__setattr__`` tricks)."""
    if not isinstance(problem, PlanProblem):
        raise PlanningError("problem", f"must be a PlanProblem, got {type(problem).__name__}")
    for option in problem.options:
        MoveOption.__post_init__(option)
    PlanProblem.__post_init__(problem)
    return problem


@dataclass(frozen=True)
class PlannedMove:
    """A chosen option and its start week; it runs in weeks ``[start, end)`` and its gains apply at ``end``.

    ``gains_applied`` maps each skill the move raised to ``(before, after)``: the level from every move that
    ends earlier in (end week, option id) order, then with this move added.
    ``depth_step``: the move raises a core skill already held at the depth level when it starts (the level
    then is below the move's cap; see the package docs).
    """

    option_id: str
    kind: str
    start: int
    end: int
    share: int
    gains_applied: Mapping[str, tuple[int, int]]
    depth_step: bool = False
    title: str = ""

    __hash__ = _frozen_hash

    @property
    def duration(self) -> int:
        return self.end - self.start

    @property
    def effort(self) -> int:
        return (self.end - self.start) * self.share


@dataclass(frozen=True)
class PlanResult:
    """The optimal plan (and, in ``alternatives``, the next best ones).

    ``status``: ``already_ready`` (empty plan, ready at week 0), ``ready`` (``ready_week`` is when the last
    move ends and every requirement is met) or ``unreachable`` (no plan gets ready within the horizon: this
    is the plan with the smallest weighted remaining ``gap`` at the horizon; ``unreachable_skills`` could not
    be reached even with every option, ``binding`` names the single relaxations that would make the target
    reachable). ``gap`` is the weighted remaining gap at ``ready_week`` (0) or at the horizon.
    ``final_levels`` holds the required skills' levels at that week. ``optimal`` is False only for a
    reference (CP-SAT) result whose solve hit its time limit, or a greedy one (``solve_greedy``,
    ``solve_nearest``). ``ready_plan_may_exist``: an ``unreachable`` result that is only the nearest plan
    found when every search ran out of time (``solve_nearest``); a ready plan was not proven impossible.
    """

    status: Status
    ready_week: int | None
    effort: int
    moves: tuple[PlannedMove, ...]
    gap: int
    final_levels: Mapping[str, int]
    unreachable_skills: tuple[str, ...] = ()
    binding: tuple[str, ...] = ()
    alternatives: tuple[PlanResult, ...] = ()
    explanation: tuple[str, ...] = ()
    optimal: bool = True
    ready_plan_may_exist: bool = False

    __hash__ = _frozen_hash

    @property
    def objective(self) -> tuple[int, int, int, int]:
        """What is minimised, lexicographically: (0, ready week, effort, moves) for a ready plan,
        (1, weighted gap, effort, moves) for a fallback plan."""
        if self.status == "unreachable":
            return (1, self.gap, self.effort, len(self.moves))
        return (0, self.ready_week or 0, self.effort, len(self.moves))

    @property
    def option_ids(self) -> frozenset[str]:
        return frozenset(m.option_id for m in self.moves)

    def plans(self) -> tuple[PlanResult, ...]:
        """This plan followed by its alternatives, best first."""
        return (self, *self.alternatives)
