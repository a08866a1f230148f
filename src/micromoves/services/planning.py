"""Use cases of the planner: build a person's planning problem from the tracker, solve it, store the plan.

The pure solver (:mod:`micromoves.planning`) sees integers only; this module translates: levels to
hundredths, dates to weeks from the plan's start, the person's time into a weekly capacity profile
(capacity minus the home-role share, minus moves already running, limited by availability windows), and
the catalogue of move templates into options. Plans are stored versioned: re-planning supersedes the
current plan and never edits it.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import threading
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Text, and_, cast, func, literal_column, or_, select, update

from micromoves.domain.errors import Conflict, DomainError, InvalidValue, NotFound, OutOfTime
from micromoves.domain.lifecycle import OCCUPYING_STATUSES
from micromoves.domain.model import MoveStatus, Plan, PlanStatus
from micromoves.planning import (
    MoveOption,
    PlanningError,
    PlanProblem,
    PlanResult,
    check_plan,
    groundable_kinds,
    kind_cycle,
    problem_digest,
    solve,
)
from micromoves.planning import solver as _solver_module
from micromoves.planning._core import fmt_level, unreachable_skills
from micromoves.planning.explain import under_way_note
from micromoves.planning.restrict import as_plan_of, restricted
from micromoves.planning.solver import NoPlanFound, SearchTimeout, solve_greedy, solve_nearest, source_digest
from micromoves.services.accounts import Scope
from micromoves.services.policy import Policy, teams_under
from micromoves.settings import Settings, get_settings
from micromoves.storage import tables as t
from micromoves.storage.bulk import CHUNK, among, code_point_order
from micromoves.storage.db import Database
from micromoves.storage.repositories import all_skill_labels
from micromoves.storage.uow import UnitOfWork, utcnow
from micromoves.taxonomy.onet import load_onet

WEEK = dt.timedelta(weeks=1)


def parse_horizon(text: str | int) -> int:
    """A horizon in weeks from ``104``, ``104w``, ``18m`` (months) or ``2y``."""
    shown = repr(text if not isinstance(text, str) or len(text) <= 20 else text[:20] + "…")
    if isinstance(text, int):
        weeks = text
    else:
        m = re.fullmatch(r"\s*([-+]?)\s*(\d+)\s*([wmy]?)\s*", text.lower())
        if not m:
            raise InvalidValue(f"horizon {shown}: use weeks (104 or 104w), months (18m) or years (2y)", field="horizon")
        # A sign is read so that "-5" is refused as not positive; more than 6 digits is over 10 years in any
        # unit (and int() refuses thousands of digits with a ValueError of its own).
        digits = m.group(2).lstrip("0") or "0"
        n = int(digits) if len(digits) <= 6 else 10**6
        n, unit = (-n if m.group(1) == "-" else n), m.group(3)
        weeks = {"": n, "w": n, "m": round(n * 52 / 12), "y": n * 52}[unit]
    if weeks <= 0:
        raise InvalidValue(f"horizon must be positive, got {shown}", field="horizon")
    if weeks > 520:
        raise InvalidValue(f"horizon {shown} is over 10 years; plans are for the next steps", field="horizon")
    return weeks


def to_hundredths(level: float) -> int:
    return max(0, min(700, round(level * 100)))


@dataclass
class PersonContext:
    """What the planner needs to know about one person, loaded in bulk or one at a time."""

    person_id: str
    role_id: str | None
    move_capacity: int
    levels: dict[str, float] = field(default_factory=dict)
    running: list[tuple[dt.date, dt.date, int]] = field(default_factory=list)  # moves holding time
    availability: list[tuple[dt.date, dt.date, int]] = field(default_factory=list)
    kinds_done: set[str] = field(default_factory=set)  # kinds of moves already completed
    # Kinds of moves approved or under way (or awaiting review), with the last day of the first to end: from
    # then on the kind may count as done for the prerequisites of later moves (see :func:`kinds_credited`).
    kinds_under_way: dict[str, dt.date] = field(default_factory=dict)
    # templates of moves approved or under way, and opportunities accepted (as option ids): not offered again
    in_progress: set[str] = field(default_factory=set)
    # A pre-hire's first day (a hire date after the plan's start): no move starts before it.
    hire_date: dt.date | None = None


@dataclass
class TargetContext:
    role_id: str
    requirements: dict[str, float]
    weights: dict[str, int]


@dataclass(frozen=True)
class OpenOpportunity:
    """An open opportunity with a free seat, as the planner offers it: on its own dates (see
    :func:`opportunity_option`)."""

    id: str
    title: str
    kind: str
    start: dt.date
    end: dt.date
    percent_time: int
    builds_skills: dict[str, float]
    required_skills: dict[str, float]
    seats_free: int

    @property
    def option_id(self) -> str:
        return OPPORTUNITY_PREFIX + self.id

    @classmethod
    def of(cls, row: Any, seats_free: int) -> OpenOpportunity:
        """From an ``opportunities`` row (or anything with its columns as attributes)."""
        return cls(
            row.id,
            row.title,
            getattr(row.kind, "value", str(row.kind)),
            row.start,
            row.end,
            row.percent_time,
            dict(row.builds_skills or {}),
            dict(row.required_skills or {}),
            seats_free,
        )


OPPORTUNITY_PREFIX = "opportunity:"  # option ids (and plan steps' template_id) of open opportunities


@dataclass
class Catalogue:
    templates: list[dict[str, Any]]
    skill_names: dict[str, str]
    opportunities: list[OpenOpportunity] = field(default_factory=list)

    @functools.cached_property
    def ids_of_kind(self) -> dict[str, set[str]]:
        """Option ids (templates, and open opportunities as ``opportunity:ID``) of each kind."""
        out: dict[str, set[str]] = {}
        for tpl in self.templates:
            out.setdefault(tpl["kind"], set()).add(tpl["id"])
        for opp in self.opportunities:
            out.setdefault(opp.kind, set()).add(opp.option_id)
        return out

    @functools.cached_property
    def kind_cycle(self) -> tuple[list[str], str] | None:
        """A cycle of prerequisite kinds no template breaks, and a template on it (None: none). The catalogue
        refuses such templates; one can only come from data written behind its back."""
        found = kind_cycle([(tpl["kind"], tpl["requires_kinds"]) for tpl in self.templates])
        return None if found is None else (found[0], self.templates[found[1]]["id"])


def weekly_capacity(person: PersonContext, start: dt.date, horizon: int) -> list[int]:
    """Percent of each week free for new moves. None before a pre-hire's first day: a move starts on its
    week's first day, and no move may start before the hire date (rules.check_after_hire), so a plan that
    started one there could not be proposed."""
    capacity = []
    for w in range(horizon):
        first, last = start + w * WEEK, start + w * WEEK + dt.timedelta(days=6)
        if person.hire_date is not None and first < person.hire_date:
            capacity.append(0)
            continue
        free = person.move_capacity
        for a_start, a_end, percent in person.availability:
            if a_start <= last and first <= a_end:
                # On leave or a phased return the person has percent% of their time, moves included.
                free = min(free, person.move_capacity * percent // 100)
        busy = sum(share for share in _under_way(person, first, last))
        capacity.append(max(0, min(100, free - busy)))
    return capacity


def lanes_under_way(person: PersonContext, start: dt.date, horizon: int, most: int) -> list[int]:
    """Moves already under way in each week (at most ``most``): they count against the concurrent moves."""
    return [
        min(most, len(_under_way(person, start + w * WEEK, start + w * WEEK + dt.timedelta(days=6))))
        for w in range(horizon)
    ]


def _under_way(person: PersonContext, first: dt.date, last: dt.date) -> list[int]:
    """Time shares of the person's moves under way on some day of ``first``..``last``."""
    return [share for m_start, m_end, share in person.running if m_start <= last and first <= m_end]


def _week_after(last_day: dt.date, start: dt.date) -> int:
    """The first plan week (from ``start``) that begins after ``last_day``."""
    return max(0, (last_day - start).days // 7 + 1)


def _week_of(day: dt.date | None, start: dt.date) -> int | None:
    if day is None:
        return None
    return max(0, math.ceil((day - start).days / 7))


def relevant_templates(
    person: PersonContext,
    target: TargetContext,
    catalogue: Catalogue,
    settings: Settings,
    *,
    every_depth_step: bool = False,
) -> list[dict[str, Any]]:
    """The part of the catalogue that can be in an optimal plan for this person and target.

    Kept, to a fixpoint: moves that raise a required skill still short of its target, or a required skill
    below the depth level (moves raising it may bring it to that level for a later depth step); moves that
    raise a skill a kept move requires at a level the person does not hold; and moves of the kinds kept moves
    need first (unless the person has done that kind, or is doing it: see :func:`make_problem`). Any other
    move raises no skill a plan needs, no level a kept move waits for, and is of no kind one needs: taking it
    out of a plan keeps the plan valid (levels only drop, and none below the depth level: every depth step
    stays one), as early and with less effort, so no optimal plan holds it. The one exception is the plan's
    depth step: with a move raising a required skill the person already holds at the depth level, with a cap
    above that level and above the person's, a plan has a depth step whatever its schedule
    (:mod:`micromoves.planning`: the earliest-starting such move is one). Of those, only the ones no other
    such move beats on every count that matters to a schedule are kept (:func:`_depth_front`). Every move the
    person is already doing is left out. ``every_depth_step`` keeps them all (the k best plans may differ in
    just that move).

    The solver is exact on the result; which of the kept moves are worth trying is its own reduction.
    """
    # In hundredths, as the planner compares them (a level of 4.996 is 5.00 to it).
    levels = {s: to_hundredths(v) for s, v in person.levels.items()}
    tolerance = to_hundredths(settings.plan_tolerance)
    depth = to_hundredths(settings.plan_depth_level)
    required = {s for s, v in target.requirements.items() if to_hundredths(v) > 0}
    wanted = {s for s in required if levels.get(s, 0) < max(to_hundredths(target.requirements[s]) - tolerance, depth)}
    deep = {s for s in required if levels.get(s, 0) >= depth}
    kinds: set[str] = set()
    taken: set[str] = set()
    credited = kinds_credited(person, catalogue)
    # Open opportunities take part like templates (they have no kind prerequisites); they are never left out
    # for another depth step (their weeks are fixed dates, not a window to compare).
    offered = [
        tpl
        for tpl in [*catalogue.templates, *(_as_template(opp) for opp in catalogue.opportunities)]
        if tpl["id"] not in person.in_progress
    ]

    def grow(pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Keep what the kept moves need, to a fixpoint; return the rest."""
        while True:
            rest = []
            for tpl in pending:
                if tpl["id"] in taken or wanted.intersection(tpl["gains"]) or tpl["kind"] in kinds:
                    if tpl["id"] not in taken:
                        taken.add(tpl["id"])
                        wanted.update(s for s, v in tpl["min_levels"].items() if levels.get(s, 0) < to_hundredths(v))
                        kinds.update(k for k in tpl["requires_kinds"] if k not in person.kinds_done | credited)
                else:
                    rest.append(tpl)
            if len(rest) == len(pending):
                return rest
            pending = rest

    rest = grow(offered)
    steps = [
        tpl
        for tpl in rest
        if any(
            to_hundredths(d) > 0 and s in deep and to_hundredths(tpl["gain_cap"]) > max(depth, levels.get(s, 0))
            for s, d in tpl["gains"].items()
        )
    ]
    if steps:
        fixed = [tpl for tpl in steps if "opportunity" in tpl]
        steps = [tpl for tpl in steps if "opportunity" not in tpl]
        front = fixed + (steps if every_depth_step else _depth_front(steps, person) if steps else [])
        taken.update(tpl["id"] for tpl in front)
        for tpl in front:
            wanted.update(s for s, v in tpl["min_levels"].items() if levels.get(s, 0) < to_hundredths(v))
            kinds.update(k for k in tpl["requires_kinds"] if k not in person.kinds_done | credited)
        grow(rest)
    # In catalogue order: the solver's tie-breaks do not depend on the fixpoint's rounds.
    return [tpl for tpl in offered if tpl["id"] in taken]


def kinds_credited(person: PersonContext, catalogue: Catalogue) -> set[str]:
    """Kinds whose prerequisite a move the person is doing meets once it ends: kinds not done yet that no
    move on offer to the person has (no template or open opportunity of that kind, apart from the ones the
    person is already doing).

    Only then: with a move of that kind on offer a plan could also meet the prerequisite sooner with a new
    move, and a template offered only after the move under way ends would rule that route out. Without one,
    the move under way is the only route, so offering the templates that need the kind from the week after
    it ends (:func:`make_problem`) is exact — where before they could never start and were dropped.
    """
    return {
        k
        for k in person.kinds_under_way
        if k not in person.kinds_done and not (catalogue.ids_of_kind.get(k, set()) - person.in_progress)
    }


def _groundable(options: list[MoveOption]) -> list[MoveOption]:
    """The options whose required kinds some chain of options can provide (the others can never start)."""
    grounded = groundable_kinds([(o.kind, o.requires_kinds) for o in options])
    return [o for o in options if o.requires_kinds <= grounded]


def _as_template(opp: OpenOpportunity) -> dict[str, Any]:
    """What the catalogue filter reads of an opportunity (its option is :func:`opportunity_option`'s)."""
    return {
        "id": opp.option_id,
        "kind": opp.kind,
        "gains": opp.builds_skills,
        "gain_cap": 7.0,
        "min_levels": opp.required_skills,
        "requires_kinds": [],
        "opportunity": opp,
    }


def _depth_front(steps: list[dict[str, Any]], person: PersonContext) -> list[dict[str, Any]]:
    """The depth-step-only moves (they raise nothing else a plan needs) that no other one beats.

    Such a move ``a`` beats ``b`` if it has a seat, is no longer, takes no larger share, can start whenever
    ``b`` can, and waits for nothing ``b`` does not wait for (levels the person lacks, kinds not done), with
    ties broken by id. In an optimal plan holding ``b``: if ``a`` is in it too, dropping ``b`` keeps a depth
    step (a plan holding ``a`` has one whatever its schedule) with less effort, so that cannot be; otherwise
    ``a`` in ``b``'s place and weeks keeps every rule, readiness (neither raises a skill short of its target)
    and the ready week, with no more effort. So some optimal plan holds only moves of the front.
    """

    def key(tpl: dict[str, Any]) -> tuple[int, int, dt.date, dt.date, dict[str, float], frozenset[str]]:
        waits = {
            s: v for s, v in tpl["min_levels"].items() if to_hundredths(person.levels.get(s, 0.0)) < to_hundredths(v)
        }
        kinds = frozenset(k for k in tpl["requires_kinds"] if k not in person.kinds_done)
        return (
            tpl["duration_weeks"],
            tpl["percent_time"],
            tpl["earliest_start"] or dt.date.min,
            tpl["latest_start"] or dt.date.max,
            waits,
            kinds,
        )

    keys = [key(tpl) for tpl in steps]

    def beats(i: int, j: int) -> bool:
        (d1, p1, e1, l1, w1, k1), (d2, p2, e2, l2, w2, k2) = keys[i], keys[j]
        if steps[i]["seats"] < 1 or d1 > d2 or p1 > p2 or e1 > e2 or l1 < l2 or not k1 <= k2:
            return False
        if any(s not in w2 or v > w2[s] for s, v in w1.items()):
            return False
        # strictly better somewhere, or equal on every count and first by id
        return (d1, p1, e1, l1, w1, k1) != (d2, p2, e2, l2, w2, k2) or steps[i]["id"] < steps[j]["id"]

    # Shortest, smallest first: a move can only be beaten by one that sorts no later.
    order = sorted(range(len(steps)), key=lambda i: (keys[i][0] * keys[i][1], keys[i][0], steps[i]["id"]))
    front: list[int] = []
    for j in order:
        if not any(beats(i, j) for i in front):
            front.append(j)
    return [steps[j] for j in sorted(front)]


OptionCache = dict[tuple[str, frozenset[str], tuple[tuple[str, int], ...]], MoveOption | None]
"""Move options built from templates, keyed by template id, the kinds the person has already done, and the
kinds a move under way will have done with the week it ends (None: the template is no option).

An option depends on nothing else about the person (the plan start and horizon are fixed for a batch), so a
batch builds each one once and shares the immutable result between people."""


def _option(
    tpl: dict[str, Any],
    kinds_done: frozenset[str],
    kinds_ending: tuple[tuple[str, int], ...] = (),
    *,
    start: dt.date,
    horizon: int,
    settings: Settings,
) -> MoveOption | None:
    """The template as an option: ``kinds_done`` are prerequisites already met; ``kinds_ending`` are (kind,
    week) of prerequisites met by a move under way from that week on (the option starts no earlier)."""
    gains = {s: to_hundredths(d) for s, d in tpl["gains"].items() if d > 0}
    earliest = max([_week_of(tpl["earliest_start"], start) or 0, *(week for _, week in kinds_ending)])
    latest = _week_of(tpl["latest_start"], start)
    if latest is not None and (latest < earliest or latest + tpl["duration_weeks"] > horizon):
        latest = min(latest, horizon - tpl["duration_weeks"])
        if latest < earliest:
            return None
    if earliest + tpl["duration_weeks"] > horizon or tpl["duration_weeks"] > settings.max_move_weeks:
        return None
    return MoveOption(
        id=tpl["id"],
        kind=tpl["kind"],
        duration=tpl["duration_weeks"],
        share=tpl["percent_time"],
        gains=gains,
        gain_cap=to_hundredths(tpl["gain_cap"]),
        min_levels={s: to_hundredths(v) for s, v in tpl["min_levels"].items()},
        # Kinds the person has already done count as done, and those under way once they end.
        requires_kinds=frozenset(tpl["requires_kinds"]) - kinds_done - {k for k, _ in kinds_ending},
        earliest_start=earliest,
        latest_start=latest,
        seats=tpl["seats"],
        title=tpl["title"],
    )


def make_problem(
    person: PersonContext,
    target: TargetContext,
    catalogue: Catalogue,
    *,
    start: dt.date,
    horizon: int,
    settings: Settings,
    cache: OptionCache | None = None,
    every_depth_step: bool = False,
) -> PlanProblem:
    """The planning problem of one person towards one role (pure: no database access). ``cache`` shares
    options between the people of a batch with the same ``start``, ``horizon`` and ``settings``;
    ``every_depth_step``: see :func:`relevant_templates` (for alternatives)."""
    required = {s: to_hundredths(v) for s, v in target.requirements.items() if v > 0}
    options = []
    cache = {} if cache is None else cache
    # A move under way of a kind a template requires, when nothing else on offer is of that kind, meets that
    # prerequisite once it ends: the template is offered from then on (see :func:`kinds_credited`).
    ending = {k: _week_after(person.kinds_under_way[k], start) for k in kinds_credited(person, catalogue)}
    for tpl in relevant_templates(person, target, catalogue, settings, every_depth_step=every_depth_step):
        done = frozenset(k for k in tpl["requires_kinds"] if k in person.kinds_done)
        kinds_ending = tuple(sorted((k, ending[k]) for k in set(tpl["requires_kinds"]) - done if k in ending))
        key = (tpl["id"], done, kinds_ending)
        if key in cache:
            option = cache[key]
        elif "opportunity" in tpl:
            option = cache[key] = opportunity_option(
                tpl["opportunity"], start=start, horizon=horizon, settings=settings
            )
        else:
            option = cache[key] = _option(tpl, done, kinds_ending, start=start, horizon=horizon, settings=settings)
        if option is not None:
            options.append(option)
    if catalogue.kind_cycle is not None:
        cycle, template = catalogue.kind_cycle
        raise PlanningError(
            f"template {template}.requires_kinds",
            "prerequisites form a cycle: " + " → ".join(cycle) + " (no option of these kinds can ever start)",
        )
    # Leaving out moves in progress can leave a kind no option of this person can ground (a rotation needs a
    # gig, the only gig without prerequisites is the one under way): such options can never start. Drop them.
    options = _groundable(options)
    try:
        return PlanProblem(
            levels={s: to_hundredths(v) for s, v in person.levels.items()},
            requirements=required,
            options=options,
            horizon=horizon,
            capacity=weekly_capacity(person, start, horizon),
            weights={s: max(1, target.weights.get(s, 1)) for s in required},
            tolerance=to_hundredths(settings.plan_tolerance),
            max_concurrent=settings.plan_max_concurrent,
            lanes_busy=lanes_under_way(person, start, horizon, settings.plan_max_concurrent),
            max_move_weeks=settings.max_move_weeks,
            depth_level=to_hundredths(settings.plan_depth_level),
            skill_names={
                s: catalogue.skill_names.get(s, s) for s in set(required) | {g for o in options for g in o.gains}
            },
        )
    except PlanningError as exc:
        # The options are the catalogue's templates: name the template, not its place in this person's list.
        place = re.match(r"options\[(\d+)\](.*)", exc.field)
        if place is None:
            raise
        raise PlanningError(f"template {options[int(place.group(1))].id}{place.group(2)}", exc.message) from None


def noted_record(
    result: PlanResult,
    problem: PlanProblem,
    person: PersonContext,
    target: TargetContext,
    catalogue: Catalogue,
    *,
    start: dt.date,
    settings: Settings,
    actor: str,
    reason: str,
    digest: str | None = None,
) -> dict[str, Any]:
    """The stored form of ``result`` (:func:`plan_record`) with the notes every stored plan gets
    (:func:`add_notes`): the one way each use case (plan, plan-all, re-plans, seat fitting) makes a record."""
    record = plan_record(
        result,
        problem,
        person_id=person.person_id,
        target_role_id=target.role_id,
        start=start,
        actor=actor,
        reason=reason,
        digest=digest,
    )
    add_notes(record, result, person, target, catalogue, start=start, horizon=problem.horizon, settings=settings)
    return record


def add_notes(
    record: dict[str, Any],
    result: PlanResult,
    person: PersonContext,
    target: TargetContext,
    catalogue: Catalogue,
    *,
    start: dt.date,
    horizon: int,
    settings: Settings,
) -> None:
    """What the stored plan says beyond the planner's own explanation: which steps wait for a move under
    way (:func:`_note_kinds_under_way`), and whether the horizon keeps a skill out of reach."""
    _note_kinds_under_way(record, person, catalogue)
    _note_horizon(record, result, person, target, catalogue, start=start, horizon=horizon, settings=settings)


def _note_kinds_under_way(record: dict[str, Any], person: PersonContext, catalogue: Catalogue) -> None:
    """Name the move under way that meets a step's kind prerequisite (the step starts once it ends)."""
    credited = kinds_credited(person, catalogue)
    if not credited:  # nearly everyone: plan-all calls this once per person, so skip the catalogue map
        return
    requires = {tpl["id"]: tpl["requires_kinds"] for tpl in catalogue.templates}
    for step in record["steps"]:
        for kind in sorted(requires.get(step["template_id"], ())):
            if kind in credited:
                # Written to the person, as the plan's own lines are (explain.readdress turns it for others).
                ends_on = person.kinds_under_way[kind].isoformat()
                record["explanation"]["lines"].append(under_way_note(step["title"], kind, ends_on))


def _note_horizon(
    record: dict[str, Any],
    result: PlanResult,
    person: PersonContext,
    target: TargetContext,
    catalogue: Catalogue,
    *,
    start: dt.date,
    horizon: int,
    settings: Settings,
) -> None:
    """Say so in a stored plan when the horizon, not the catalogue, is why a skill cannot reach its target.

    The moves that would raise it may not fit in the horizon (they last longer than what is left, or start
    too late): they are not options then, and the planner alone would say that nothing on offer raises the
    skill. With a longer horizon (twice as long, at least a year more, at most ten years) they are on offer;
    the skills they make reachable are named, and ``horizon`` is added to the binding constraints."""
    if result.status != "unreachable" or not result.unreachable_skills:
        return
    longer = min(520, max(2 * horizon, horizon + 52))
    if longer <= horizon:
        return
    try:
        wider = make_problem(person, target, catalogue, start=start, horizon=longer, settings=settings)
    except PlanningError:
        return  # nothing to say that the plan's own problem did not say
    freed = [s for s in result.unreachable_skills if s not in set(unreachable_skills(wider))]
    if not freed:
        return
    names = ", ".join(wider.skill_name(s) for s in freed)
    # The week by which a move raising each freed skill could first end (its window and length; the person's
    # time may push it later): the line said "with 55 weeks they are on offer", the probe's horizon, of moves
    # that could end by week 16.
    first_end = max(
        min((o.earliest_start + o.duration for o in wider.options if o.gains.get(s, 0) > 0), default=longer)
        for s in freed
    )
    explanation = record["explanation"]
    explanation["lines"].append(
        f"The horizon of {horizon} weeks is what keeps {names} out of reach: the moves that raise "
        f"{'it' if len(freed) == 1 else 'them'} do not fit in it; the first of them could end by week "
        f"{first_end}, so a horizon of at least {first_end} weeks is needed."
    )
    explanation["binding"] = sorted({*explanation["binding"], "horizon"})
    explanation["horizon_bound_skills"] = freed


# ------------------------------------------------------------------------------------------ loading


def load_catalogue(conn: Connection) -> Catalogue:
    c = t.move_templates.c
    templates = [
        {
            "id": r.id,
            "kind": r.kind.value,
            "title": r.title,
            "duration_weeks": r.duration_weeks,
            "percent_time": r.percent_time,
            "gains": r.gains or {},
            "gain_cap": r.gain_cap,
            "min_levels": r.min_levels or {},
            "requires_kinds": list(r.requires_kinds or []),
            "earliest_start": r.earliest_start,
            "latest_start": r.latest_start,
            "seats": r.seats,
        }
        for r in conn.execute(select(t.move_templates).where(c.active.is_(True), c.seats > 0).order_by(c.id))
    ]
    # Labels, not bare names: O*NET rates "Mathematics" both as a skill and as knowledge (see skill_labels).
    names = all_skill_labels(conn)
    return Catalogue(templates, names, open_opportunities(conn))


def open_opportunities(conn: Connection, today: dt.date | None = None) -> list[OpenOpportunity]:
    """Open opportunities one can still apply to (no deadline, or not past it) with a seat not taken by an
    accepted application, and something they build: planning options on their own dates."""
    o, a = t.opportunities.c, t.applications.c
    today = today or dt.date.today()
    taken = (
        select(func.count())
        .where(a.opportunity_id == o.id, a.status == "accepted")
        .correlate(t.opportunities)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(t.opportunities, taken.label("taken"))
        .where(o.status == "open", or_(o.application_deadline.is_(None), o.application_deadline >= today))
        .order_by(o.id)
    )
    return [OpenOpportunity.of(r, r.seats - r.taken) for r in rows if r.builds_skills and r.seats > r.taken]


def load_targets(
    conn: Connection, role_ids: Iterable[str], *, errors: dict[str, str] | None = None
) -> dict[str, TargetContext]:
    """Requirements of each role: its role_skills, else its O*NET occupation's (importance ≥ 3);
    weights from O*NET importance where known. A role that cannot be planned towards (unknown, or without
    requirements) raises, or with ``errors`` is left out and its error recorded there (a batch plans
    everyone else)."""
    wanted = sorted(set(role_ids))
    roles = {r.id: r for r in conn.execute(select(t.roles).where(t.roles.c.id.in_(wanted)))}
    reqs: dict[str, dict[str, float]] = defaultdict(dict)
    for role_id, skill_id, level in conn.execute(
        select(t.role_skills.c.role_id, t.role_skills.c.skill_id, t.role_skills.c.level).where(
            t.role_skills.c.role_id.in_(wanted)
        )
    ):
        reqs[role_id][skill_id] = level
    onet = load_onet()
    out = {}
    for role_id in wanted:
        role = roles.get(role_id)
        problem: DomainError | None = None
        if role is None:
            problem = NotFound(f"unknown role {role_id!r}", field="target_role_id")
        else:
            profile = onet.profiles.get(role.onet_code or "", {})
            requirements = reqs.get(role_id) or (onet.requirements(role.onet_code) if profile else {})
            if not requirements:
                problem = DomainError(
                    f"role {role_id} has no skill requirements (role_skills) and no rated O*NET "
                    "occupation; add requirements before planning towards it",
                    field="target_role_id",
                )
        if problem is not None:
            if errors is None:
                raise problem
            errors[role_id] = f"{type(problem).__name__}: {problem}"
            continue
        weights = {s: round(profile[s].importance) if s in profile else 1 for s in requirements}
        out[role_id] = TargetContext(role_id, dict(requirements), weights)
    return out


def load_people(conn: Connection, person_ids: Sequence[str], *, start: dt.date) -> dict[str, PersonContext]:
    """Everything about these people the planner needs, in a handful of queries (also for 100,000)."""
    p, sl, m, av = t.people.c, t.skill_levels.c, t.moves.c, t.availability.c
    out: dict[str, PersonContext] = {}
    for i in range(0, len(person_ids), 5_000):
        chunk = list(person_ids[i : i + 5_000])
        for pid, role_id, cap, home, hired in conn.execute(
            select(p.id, p.role_id, p.capacity_percent, p.home_role_min_percent, p.hire_date).where(p.id.in_(chunk))
        ):
            out[pid] = PersonContext(pid, role_id, cap - home, hire_date=hired if hired and hired > start else None)
        # Latest assessment per skill: rows in date order, later ones overwrite earlier ones.
        for pid, sid, level in conn.execute(
            select(sl.person_id, sl.skill_id, sl.level)
            .where(sl.person_id.in_(chunk))
            .order_by(sl.person_id, sl.assessed_on, sl.id)
        ):
            out[pid].levels[sid] = level
        occupying = [s.value for s in OCCUPYING_STATUSES if s not in (MoveStatus.COMPLETED, MoveStatus.REVERTED)]
        for pid, kind, status, m_start, m_end, share, template in conn.execute(
            select(m.person_id, m.kind, m.status, m.start, m.end, m.percent_time, m.template_id).where(
                m.person_id.in_(chunk)
            )
        ):
            if status.value in occupying:
                if m_end >= start:
                    out[pid].running.append((m_start, m_end, share))
                    if template:
                        out[pid].in_progress.add(template)
                # Also a move past its end awaiting review: it has done its kind (from week 0 of the plan).
                ending = out[pid].kinds_under_way
                ending[kind.value] = min(m_end, ending.get(kind.value, m_end))
            if status is MoveStatus.COMPLETED:
                out[pid].kinds_done.add(kind.value)
        for pid, a_start, a_end, pct in conn.execute(
            select(av.person_id, av.start, av.end, av.percent_available).where(av.person_id.in_(chunk))
        ):
            out[pid].availability.append((a_start, a_end, pct))
        ap = t.applications.c
        for pid, opportunity in conn.execute(
            select(ap.person_id, ap.opportunity_id).where(ap.person_id.in_(chunk), ap.status == "accepted")
        ):
            out[pid].in_progress.add(OPPORTUNITY_PREFIX + opportunity)
    missing = [pid for pid in person_ids if pid not in out]
    if missing:
        raise NotFound(f"unknown person {missing[0]!r}", field="person_id")
    return out


# ------------------------------------------------------------------------------------------ storing


def plan_record(
    result: PlanResult,
    problem: PlanProblem,
    *,
    person_id: str,
    target_role_id: str,
    start: dt.date,
    actor: str,
    reason: str,
    digest: str | None = None,
) -> dict[str, Any]:
    """The stored form of a solver result: dates instead of weeks, levels on the 0–7 scale. ``digest``: the
    problem's :func:`plan_digest` if the caller has it already."""

    def steps(r: PlanResult) -> list[dict[str, Any]]:
        return [
            {
                "template_id": mv.option_id,
                "kind": mv.kind,
                "title": mv.title,
                "start_week": mv.start,
                "end_week": mv.end,
                "start": (start + mv.start * WEEK).isoformat(),
                "end": (start + mv.end * WEEK - dt.timedelta(days=3)).isoformat(),
                "percent_time": mv.share,
                "depth_step": mv.depth_step,
                "gains": {s: [b / 100, a / 100] for s, (b, a) in sorted(mv.gains_applied.items())},
            }
            for mv in r.moves
        ]

    return {
        "person_id": person_id,
        "target_role_id": target_role_id,
        "created_by": actor,
        "start": start,
        "horizon_weeks": problem.horizon,
        "outcome": result.status,
        "ready_week": result.ready_week,
        "effort": result.effort,
        "steps": steps(result),
        "reason": reason,
        "problem_digest": digest or plan_digest(problem, start, target_role_id),
        "alternatives": [
            {
                "outcome": alt.status,
                "ready_week": alt.ready_week,
                "effort": alt.effort,
                "gap": alt.gap,
                "steps": steps(alt),
                "explanation": list(alt.explanation),
            }
            for alt in result.alternatives
        ],
        "explanation": {
            "lines": list(result.explanation),
            "gap": result.gap,
            "unreachable_skills": list(result.unreachable_skills),
            "binding": list(result.binding),
            "ready_plan_may_exist": result.ready_plan_may_exist,
            # False for a plan from a fallback past a time budget (see solve_within)
            "optimal": result.optimal,
            "final_levels": {s: v / 100 for s, v in sorted(result.final_levels.items())},
            "requirements": {s: v / 100 for s, v in sorted(problem.requirements.items())},
            "skill_names": dict(problem.skill_names),
        },
    }


def plan_digest(problem: PlanProblem, start: dt.date, target_role_id: str) -> str:
    """What a stored plan was computed from: the problem, the start date and the target role (a plan for
    another target or start differs even where the problem does not), and the planner's sources (a plan
    made by another version of the planner is made again)."""
    return problem_digest(problem, start.isoformat(), target_role_id, _planner_version())


@functools.cache
def _planner_version() -> str:
    return source_digest(Path(_solver_module.__file__).parent)


def store_plans(
    conn: Connection, records: Sequence[dict[str, Any]], *, actor: str, read_at: dt.datetime | None = None
) -> list[int]:
    """Supersede each person's current plan and insert the new versions (one transaction, the caller's).

    ``read_at``: when the data the plans were computed from was read, their ``created_at`` (default: now). The
    person's page takes a plan as up to date while nothing of the person or their moves changed after it was
    made: stamped when stored, a skill or move written during the search (seconds; plan-all's minutes) was
    older than a plan computed without it."""
    if not records:  # e.g. plan-all --changed-only when nothing changed
        return []
    persons = [r["person_id"] for r in records]
    versions: dict[str, int] = defaultdict(int)
    for i in range(0, len(persons), 5_000):
        chunk = persons[i : i + 5_000]
        for pid, version in conn.execute(
            select(t.plans.c.person_id, t.plans.c.version).where(t.plans.c.person_id.in_(chunk))
        ):
            versions[pid] = max(versions[pid], version)
        conn.execute(
            update(t.plans)
            .where(t.plans.c.person_id.in_(chunk), t.plans.c.status == PlanStatus.CURRENT)
            .values(status=PlanStatus.SUPERSEDED)
        )
    now = utcnow()
    made = read_at or now
    rows = [
        {**r, "version": versions[r["person_id"]] + 1, "created_at": made, "status": PlanStatus.CURRENT}
        for r in records
    ]
    ids: list[int] = []
    for i in range(0, len(rows), 1_000):
        result = conn.execute(t.plans.insert().returning(t.plans.c.id), rows[i : i + 1_000])
        ids.extend(result.scalars())
    conn.execute(
        t.audit_events.insert(),
        [
            {
                "at": now,
                "actor": actor,
                "action": "plan.created",
                "entity_type": "person",
                "entity_id": r["person_id"],
                "details": {
                    "version": r["version"],
                    "target_role_id": r["target_role_id"],
                    "outcome": r["outcome"],
                    "ready_week": r["ready_week"],
                    "reason": r["reason"],
                },
            }
            for r in rows
        ],
    )
    return ids


# ------------------------------------------------------------------------------------------ use cases


@dataclass(frozen=True)
class PlanOutcome:
    plan: Plan
    result: PlanResult
    problem: PlanProblem
    kept: bool = False  # the current plan already answered this very problem: no new version was stored
    stored: bool = True  # False for a what-if (store=False): the plan was made and shown, nothing written
    # Why a plan asked to be stored was not: it aims for another role than the person's recorded target.
    not_stored_because: str | None = None


def plan_for_person(
    db: Database,
    person_id: str,
    *,
    actor: str,
    target_role_id: str | None = None,
    horizon: int | str = 104,
    k: int = 1,
    start: dt.date | None = None,
    reason: str = "requested",
    settings: Settings | None = None,
    budget: float | None = None,
    store: bool = True,
) -> PlanOutcome:
    """Plan the best sequence of moves from the person's current role to ``target_role_id`` (default: the
    target recorded on the person), store it as the person's new current plan and return it. With
    ``store=False`` (a what-if: another target, a shorter horizon) nothing is written; the plan returned has
    no id and version 0.

    A plan is stored as current only towards the person's recorded target: the pages, the marketplace's
    "step N of your plan" and the congestion report read the current plan as the way to that target, so a
    plan towards another role beside it said "aiming for A" over "Plan towards B". Towards another role it
    is a what-if whatever ``store`` says, and ``not_stored_because`` says why (set the target first).

    ``budget`` (seconds; default ``MICROMOVES_PLAN_BUDGET_SECONDS``) bounds the search: the best plan is made
    as plan-all makes it (:func:`solve_within`, marked not proven optimal when the search ran out of time),
    and with ``k`` > 1 the alternatives get what is left of it, or are left out (:func:`_solve_bounded`).
    The search runs outside any transaction: only the store takes the write lock (on SQLite, a long search
    held it and every other writer failed with "database is locked")."""
    settings = settings or get_settings()
    weeks = parse_horizon(horizon)
    if not 1 <= k <= 10:
        raise InvalidValue(f"k must be between 1 and 10, got {k}", field="k")
    budget = settings.plan_budget_seconds if budget is None else budget
    start = start or next_monday(dt.date.today())
    read_at = utcnow()  # the plan's created_at (see store_plans)
    with db.engine.connect() as conn:
        person = conn.execute(
            select(t.people.c.id, t.people.c.target_role_id).where(t.people.c.id == person_id)
        ).first()
        if person is None:
            raise NotFound(f"unknown person {person_id!r}", field="person_id")
        target_id = target_role_id or person.target_role_id
        if not target_id:
            raise InvalidValue(f"{person_id} has no target role; give one to plan towards", field="target_role_id")
        not_stored_because = None
        if store and target_id != person.target_role_id:
            store = False
            theirs = f"theirs is {person.target_role_id}" if person.target_role_id else "they have none"
            not_stored_because = f"{target_id} is not {person_id}'s target role ({theirs})"
        try:
            context, target, catalogue, problem = _problem_of(
                conn, person_id, target_id, start=start, weeks=weeks, settings=settings, every_depth_step=k > 1
            )
            # Recorded as the digest of the problem as everything else builds it (still_current, plan-all
            # --changed-only, alternate routes): the one searched for alternatives keeps every depth step, and its
            # digest showed the plan out of date as soon as it was made. The best plan is the same for both.
            digest = None
            if k > 1:
                standard = make_problem(context, target, catalogue, start=start, horizon=weeks, settings=settings)
                digest = plan_digest(standard, start, target_id)
        except PlanningError as exc:
            raise InvalidValue(f"cannot plan: {exc}", field=exc.field) from None
    try:
        result = _solve_bounded(problem, k, budget)
    except PlanningError as exc:
        raise InvalidValue(f"cannot plan: {exc}", field=exc.field) from None
    except RuntimeError:  # NoPlanFound or CP-SAT's ReferenceTimeout: every fallback ran out of time
        raise OutOfTime(
            f"no plan found within the time budget of {budget:g} s (MICROMOVES_PLAN_BUDGET_SECONDS); "
            "the current plan is kept",
            field="budget",
        ) from None
    record = noted_record(
        result,
        problem,
        context,
        target,
        catalogue,
        start=start,
        settings=settings,
        actor=actor,
        reason=reason,
        digest=digest,
    )
    if not store:
        fields = {f for f in Plan.__dataclass_fields__ if f not in ("version", "created_at", "status", "id")}
        what_if = Plan(
            **{k: v for k, v in record.items() if k in fields},
            version=0,
            created_at=utcnow(),
            status=PlanStatus.CURRENT,
        )
        return PlanOutcome(what_if, result, problem, stored=False, not_stored_because=not_stored_because)
    with db.write_engine.begin() as conn:
        # Locked as setting a target locks it (catalogue.set_target_role): on PostgreSQL a target set and
        # committed between this check and the commit below left a plan towards the old one current.
        now_aims = conn.execute(
            select(t.people.c.target_role_id).where(t.people.c.id == person_id).with_for_update(key_share=True)
        ).first()
        if now_aims is None:
            raise NotFound(f"person {person_id!r} was deleted while the plan was made", field="person_id")
        # Checked again where it is written: a target set while the search ran (seconds) left a plan towards
        # the old one current.
        if now_aims.target_role_id != record["target_role_id"]:
            raise Conflict(
                f"{person_id}'s target role changed to {now_aims.target_role_id!r} while the plan was made; plan again",
                field="target_role_id",
            )
        plan_id = _same_as_current(conn, record)
        kept = plan_id is not None
        if plan_id is None:
            # A plan stored while this one was searched for, from data read after this one's (another request,
            # the app's re-plan): it is the better answer, and this one superseded it with older data.
            newer = conn.execute(
                select(t.plans.c.version).where(
                    t.plans.c.person_id == person_id,
                    t.plans.c.status == PlanStatus.CURRENT,
                    t.plans.c.created_at > read_at,
                )
            ).scalar()
            if newer is not None:
                raise Conflict(
                    f"a plan for {person_id} made from newer data (version {newer}) was stored while this one was "
                    "made; it stays current",
                    field="person_id",
                )
            (plan_id,) = store_plans(conn, [record], actor=actor, read_at=read_at)
    with UnitOfWork(db, write=False) as uow:
        plan = uow.session.get(Plan, plan_id)
        assert plan is not None
    return PlanOutcome(plan, result, problem, kept)


def _problem_of(
    conn: Connection,
    person_id: str,
    target_id: str,
    *,
    start: dt.date,
    weeks: int,
    settings: Settings,
    every_depth_step: bool = False,
) -> tuple[PersonContext, TargetContext, Catalogue, PlanProblem]:
    """One person's planning problem as stored now, with what it was built from (plan and its check)."""
    people = load_people(conn, [person_id], start=start)
    if person_id not in people:
        raise NotFound(f"unknown person {person_id!r}", field="person_id")
    target = load_targets(conn, [target_id])[target_id]
    catalogue = load_catalogue(conn)
    problem = make_problem(
        people[person_id],
        target,
        catalogue,
        start=start,
        horizon=weeks,
        settings=settings,
        every_depth_step=every_depth_step,
    )
    return people[person_id], target, catalogue, problem


def still_current(db: Database, plan: Plan, *, settings: Settings | None = None) -> bool:
    """Does ``plan`` still answer the person's planning problem as it is now (levels, capacity, moves under
    way, the options on offer), for its own start and target? Compared by digest, as plan-all
    --changed-only compares: a check-in or a renamed move changes nothing the planner reads, an approved
    move or skills written back do. A plan stored before digests were recorded is taken as current."""
    if plan.problem_digest is None:
        return True
    settings = settings or get_settings()
    try:
        with db.engine.connect() as conn:
            *_, problem = _problem_of(
                conn, plan.person_id, plan.target_role_id, start=plan.start, weeks=plan.horizon_weeks, settings=settings
            )
    except (PlanningError, DomainError):  # the target or the person can no longer be planned as it was
        return False
    return plan_digest(problem, plan.start, plan.target_role_id) == plan.problem_digest


def replan(db: Database, policy: Policy, person_id: str, *, settings: Settings | None = None) -> PlanOutcome:
    """Plan again for the person towards their target role, from the app (the plan on their page is out of
    date, or they have none): who may propose moves for them may ask (themself, their managers, HR,
    admins). Within ``MICROMOVES_PLAN_BUDGET_SECONDS``; the plan is stored as their current plan unless it
    is the same as the current one."""
    policy.require(
        policy.may_act_for(person_id),
        visible=policy.sees_person(person_id),
        action="plan",
        entity_type="person",
        entity_id=person_id,
    )
    policy.require_scope(Scope.WRITE)
    return plan_for_person(
        db, person_id, actor=policy.principal.actor, reason="re-planned in the app", settings=settings
    )


def _same_as_current(conn: Connection, record: dict[str, Any]) -> int | None:
    """The id of the person's current plan when it answers the same problem (digest: levels, capacity,
    target, options, start, planner version) with the same result: asking again stored a new version
    each time (v1 to v17 with nothing changed), burying the versions that say what did change."""
    p = t.plans.c
    current = conn.execute(
        select(p.id, p.problem_digest, p.ready_week, p.effort, p.outcome, p.alternatives, p.explanation).where(
            p.person_id == record["person_id"], p.status == PlanStatus.CURRENT
        )
    ).first()
    same = (
        current is not None
        and current.problem_digest == record["problem_digest"]
        and (current.ready_week, current.effort, current.outcome)
        == (record["ready_week"], record["effort"], str(record["outcome"]))
        and len(current.alternatives or []) == len(record["alternatives"])
        # A plan proven optimal is not the same as one found within a time budget, whatever their figures.
        and (current.explanation or {}).get("optimal") == record["explanation"].get("optimal")
    )
    return int(current.id) if same and current is not None else None


def _solve_bounded(problem: PlanProblem, k: int, budget: float) -> PlanResult:
    """The k best plans if the exact search proves them within ``budget`` seconds; else one plan within the
    budget as plan-all makes it (the alternatives are left out rather than guessed).

    The best plan comes first, alone: it is the one plan-all would make (the alternatives' search makes the same
    first plan, see planning.solver), and when only the alternatives run out of time it is kept rather than
    searched for again (a call took up to twice the budget)."""
    began = time.monotonic()
    best = solve_within(problem, budget)
    left = budget - (time.monotonic() - began)
    if k == 1 or not best.optimal or left <= 0:
        return best
    try:
        return solve(problem, k=k, time_limit=left, best=best)
    except SearchTimeout:
        return best


def next_monday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


# --------------------------------------------------------------------------- which current plans count
#
# A person's current plan is stored towards the target role recorded at the time (plan_for_person stores no
# other). When the target changes (the app, the API, the CLI, an import) or is cleared, the plan stays current
# and shows as out of date on the person's page until they plan again; it is not superseded, so that the page
# can say why, and a target set back makes it count again. Meanwhile it is a plan towards a role the person no
# longer aims for: nothing that reads plans as demand (congestion, who wants a slot, alternate routes, the
# seat fitter, plan fit in the marketplace) may count it. One rule, in Python and in SQL:

TargetOutOfDate = Literal["target_changed", "no_target"]


def target_out_of_date(plan_target_role_id: str, recorded_target_role_id: str | None) -> TargetOutOfDate | None:
    """Why a current plan no longer counts, judged by its target alone: ``"no_target"`` (the person's target
    role was cleared), ``"target_changed"`` (it is another role now); None while it aims at the recorded target.
    :func:`plan_in_force` is the same rule in SQL."""
    if recorded_target_role_id is None:
        return "no_target"
    if recorded_target_role_id != plan_target_role_id:
        return "target_changed"
    return None


_RECORDED = t.people.alias("recorded_target")


def plan_in_force() -> ColumnElement[bool]:
    """A condition on ``plans``: the row is its person's current plan and aims at the target role recorded for
    them now (:func:`target_out_of_date` is None), the plans that count as demand. Self-contained (a correlated
    EXISTS on an alias of ``people``), so it fits any query of ``plans``, also one that joins ``people``."""
    pl, rec = t.plans.c, _RECORDED.c
    recorded = (
        select(rec.id)
        .where(rec.id == pl.person_id, rec.target_role_id == pl.target_role_id)
        .correlate(t.plans)
        .exists()
    )
    return and_(pl.status == PlanStatus.CURRENT, recorded)


def current_plan(db: Database, person_id: str) -> Plan | None:
    with UnitOfWork(db, write=False) as uow:
        uow.people.get(person_id)
        return uow.session.scalars(
            select(Plan).where(t.plans.c.person_id == person_id, t.plans.c.status == PlanStatus.CURRENT)
        ).first()


def plan_history(db: Database, person_id: str) -> list[Plan]:
    with UnitOfWork(db, write=False) as uow:
        uow.people.get(person_id)
        return list(
            uow.session.scalars(select(Plan).where(t.plans.c.person_id == person_id).order_by(t.plans.c.version.desc()))
        )


# ------------------------------------------------------------------------------------------ plan-all


@dataclass(frozen=True)
class PlanAllSummary:
    people: int
    ready: int
    already_ready: int
    unreachable: int
    failed: list[tuple[str, str]]  # person, error
    seconds: float
    backend: str
    workers: int
    not_proven_optimal: int = 0  # plans from the time-bounded fallback that could not prove optimality
    # Of those, plans that leave a gap although a ready plan may exist (every search ran out of time); they are
    # not counted as unreachable.
    not_found: int = 0
    # --changed-only: people whose problem was unchanged and who kept their current plan (not counted above).
    unchanged: int = 0


_WORKER: dict[str, Any] = {}


def _init_worker(
    catalogue: Catalogue, targets: dict[str, TargetContext], start: dt.date, horizon: int, settings: Settings
) -> None:
    # Everything shared by all people is sent to each worker once, not with every person.
    _WORKER.update(catalogue=catalogue, targets=targets, start=start, horizon=horizon, settings=settings, options={})


class _OverBudget(Exception):
    pass


def solve_within(problem: PlanProblem, budget: float, *, steps: int | None = None) -> PlanResult:
    """The exact plan if the search proves it within ``budget`` seconds; otherwise a plan marked
    ``optimal=False``: the greedy dive's (checked by the independent validator), or when it finds none, the
    best plan CP-SAT finds in ``budget`` seconds more, or when CP-SAT finds none either, the nearest plan
    the greedy dive finds (one more dive; see :func:`_fallback`).

    Batch planning must not stall on one pathological instance. The search reads the clock every few search
    steps, schedule checks included; on the main thread a POSIX interval timer also interrupts whatever
    else runs past the budget.

    With ``steps``, each search also stops after that many search steps and there is no CP-SAT fallback (a
    time-bound solve, whose answer depends on the machine's load): as long as the time budget is only a
    safety net, the same problem then gets the same answer every time. :class:`NoPlanFound` if the greedy
    dive finds none.
    """
    import signal
    import threading

    cp_sat = budget if steps is None and budget > 0 else None
    if budget <= 0:
        try:
            return solve(problem, k=1, step_limit=steps)
        except SearchTimeout:
            return _fallback(problem, cp_sat, budget, steps)
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        try:
            return solve(problem, k=1, time_limit=budget, step_limit=steps)
        except SearchTimeout:
            return _fallback(problem, cp_sat, budget, steps)
    armed = [True]

    def over_budget(signum: int, frame: Any) -> None:
        # The search may stop on its own clock just as the timer fires: once disarmed, a late signal is
        # ignored instead of escaping from the clean-up below.
        if armed[0]:
            raise _OverBudget

    previous = signal.signal(signal.SIGALRM, over_budget)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        try:
            # The search reads the clock too: compiled code (planning.solver's mypyc build) only lets a
            # signal handler run when it calls back into interpreted code, so the timer alone may come late.
            return solve(problem, k=1, time_limit=budget, step_limit=steps)
        finally:
            armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
    except (_OverBudget, SearchTimeout):
        pass
    finally:
        signal.signal(signal.SIGALRM, previous)
    return _fallback(problem, cp_sat, budget, steps)


RESTRICTED_SHARE = 0.25  # of the budget (and of the step limit), for the exact search around the greedy plan
# Raisers kept per skill in the catalogues around the greedy plan (planning.restrict), smallest first, each
# around the best plan so far. The smallest is solved in milliseconds and often finds a far earlier plan; a
# larger one, when it is solved in time, may find a better one still; each holds the plans found before it.
# On the 34 people of the 2,000-person demo (seed 3) whose search ran out of plan-all's 2 s, with the same
# quarter of it as before: ready 1,626 weeks after the start in all instead of 1,742 with the largest
# catalogue alone (often not solved in time: the greedy plan stayed); 12 people sooner (by 2 to 22 weeks),
# 2 later (by 2 and 4 weeks: the largest catalogue around another plan was not solved in time).
NEIGHBOURHOODS = (1, 2, 3)


def _fallback(problem: PlanProblem, cp_sat: float | None, budget: float = 0.0, steps: int | None = None) -> PlanResult:
    """The greedy dive's plan if the validator accepts it — or, better, the best plan the exact search proves
    on restricted problems around it (:func:`_improved`, :mod:`micromoves.planning.restrict`) within a
    quarter of ``budget`` (and of ``steps``); else CP-SAT's best in ``cp_sat`` seconds; and when CP-SAT finds
    nothing in that time either, the nearest plan the greedy dive finds (see
    :func:`~micromoves.planning.solver.solve_nearest`), so that a batch leaves nobody without a plan only
    because a search ran out of time. :class:`NoPlanFound` when there is no CP-SAT budget (None); CP-SAT's
    :class:`ReferenceTimeout` when the nearest plan fails the validator or has no moves at all (a person's
    current plan is better kept than replaced by an empty one)."""
    try:
        result = solve_greedy(problem)
        if not check_plan(problem, result):
            return _improved(problem, result, budget, steps)
        missed = NoPlanFound("the greedy plan did not pass the validator")
    except NoPlanFound as exc:
        missed = exc
    if cp_sat is None:
        raise missed
    from micromoves.planning.reference import ReferenceTimeout, solve_reference

    try:
        return solve_reference(problem, k=1, time_limit=cp_sat)
    except ReferenceTimeout as exc:
        nearest = solve_nearest(problem)
        if check_plan(problem, nearest) or not nearest.moves:
            raise exc from None
        return nearest


def _improved(problem: PlanProblem, greedy: PlanResult, budget: float, steps: int | None) -> PlanResult:
    """The best plan the exact search proves on small catalogues around a ready ``greedy`` plan, within a
    quarter of the budget (and of the step limit): one per entry of :data:`NEIGHBOURHOODS`, each around the
    best plan so far, kept when better than it and accepted by the validator; else ``greedy``."""
    if greedy.status != "ready" or budget <= 0:
        return greedy
    best = greedy
    seen = [m.option_id for m in greedy.moves]  # every plan's options so far: a later catalogue holds the earlier
    deadline = time.monotonic() + RESTRICTED_SHARE * budget
    per_stage = None if steps is None else max(1, int(RESTRICTED_SHARE * steps) // len(NEIGHBOURHOODS))
    for per_skill in NEIGHBOURHOODS:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        around = restricted(problem, seen, per_skill)
        try:
            found = solve(around, k=1, explain=False, time_limit=left, step_limit=per_stage)
        except SearchTimeout:
            break  # a larger catalogue around the same plan would not be solved in time either
        if found.status == "ready" and found.objective < best.objective:
            better = as_plan_of(problem, found)
            if not check_plan(problem, better):
                best = better
                seen += [m.option_id for m in better.moves]
    return best


@dataclass(frozen=True)
class _Unchanged:
    """plan-all --changed-only: the person's problem is the one their current plan solves."""

    person_id: str


# A person to plan for, their target role, and (--changed-only) the digest of their current plan's problem.
PlanItem = tuple[PersonContext, str, str | None]
PlanOutput = dict[str, Any] | tuple[str, str] | _Unchanged  # a plan record, (person, error), or unchanged


def _plan_one(item: PlanItem, actor: str = "plan-all") -> PlanOutput:
    person, target_id, current = item
    w = _WORKER
    try:
        problem = make_problem(
            person,
            w["targets"][target_id],
            w["catalogue"],
            start=w["start"],
            horizon=w["horizon"],
            settings=w["settings"],
            cache=w["options"],
        )
        digest = plan_digest(problem, w["start"], target_id)
        if digest == current:
            return _Unchanged(person.person_id)
        result = solve_within(problem, w["settings"].plan_all_budget_seconds)
    except (PlanningError, DomainError, RuntimeError) as exc:  # RuntimeError: CP-SAT found nothing in time
        return (person.person_id, f"{type(exc).__name__}: {exc}")
    return noted_record(
        result,
        problem,
        person,
        w["targets"][target_id],
        w["catalogue"],
        start=w["start"],
        settings=w["settings"],
        actor=actor,
        reason="plan-all",
        digest=digest,
    )


def _solve_chunk(chunk: list[PlanItem]) -> list[PlanOutput]:
    return [_plan_one(item) for item in chunk]


def plan_all(
    db: Database,
    *,
    actor: str,
    horizon: int | str = 104,
    workers: int | None = None,
    backend: str = "process",
    start: dt.date | None = None,
    progress: Any = None,
    settings: Settings | None = None,
    chunk_size: int = 64,
    changed_only: bool = False,
    team: str | None = None,
) -> PlanAllSummary:
    """Plan for everyone who has a target role, using every core (or a Ray cluster), and store the plans
    in one transaction: either everyone gets a new current plan or nobody does.

    ``changed_only``: keep the current plan of everyone whose planning problem is still the one it solves
    (same levels, capacity, target requirements, options on offer and start date: :func:`plan_digest`),
    and plan only the others. A nightly run then solves only what changed since the last one.

    ``team``: only the people in that team and the teams under it (an HR unit re-planned on its own)."""
    import os

    settings = settings or get_settings()
    weeks = parse_horizon(horizon)
    start = start or next_monday(dt.date.today())
    report = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    read_at = utcnow()  # the plans' created_at (see store_plans)
    with db.engine.connect() as conn:
        wanted = select(t.people.c.id, t.people.c.target_role_id).where(t.people.c.target_role_id.is_not(None))
        if team is not None:
            # An unknown team is an error, not a plan-all that silently plans nobody.
            if conn.scalar(select(t.teams.c.id).where(t.teams.c.id == team)) is None:
                raise NotFound(f"unknown team {team!r}", field="team")
            unit = teams_under(select(t.teams.c.id).where(t.teams.c.id == team))
            wanted = wanted.where(t.people.c.team_id.in_(select(unit.c.id)))
        pairs = conn.execute(wanted.order_by(t.people.c.id)).all()
        report("load", 0, len(pairs))
        people = load_people(conn, [pid for pid, _ in pairs], start=start)
        unplannable: dict[str, str] = {}
        targets = load_targets(conn, {tid for _, tid in pairs}, errors=unplannable)
        catalogue = load_catalogue(conn)
        current = _current_digests(conn) if changed_only else {}
        plans_read = _current_plan_ids(conn, [pid for pid, _ in pairs])
    report("load", len(pairs), len(pairs))
    # People whose target role cannot be planned towards fail alone, with the reason; everyone else is planned.
    items: list[PlanItem] = [(people[pid], tid, current.get(pid)) for pid, tid in pairs if tid in targets]
    failed_targets = [(pid, unplannable[tid]) for pid, tid in pairs if tid not in targets]
    if workers is not None and workers < 1:
        raise InvalidValue(f"workers must be at least 1, got {workers}", field="workers")
    workers = workers or os.cpu_count() or 1
    # A few slow instances dominate: small chunks (at least ~16 per worker) keep the workers evenly busy.
    chunk_size = max(1, min(chunk_size, len(items) // (16 * workers)))
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    # No more processes than chunks: `--workers 500` for a small team forked 500 (a mistyped huge number forked
    # until the machine gave out).
    workers = max(1, min(workers, len(chunks)))
    results: list[PlanOutput] = []
    report("plan", 0, len(items))
    if backend == "ray":
        results = _plan_with_ray(chunks, (catalogue, targets, start, weeks, settings), report, len(items))
    elif backend == "process" and workers > 1 and len(chunks) > 1:
        import multiprocessing

        ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
        # Workers are replaced after a number of chunks: a pathological instance cannot leave one bloated.
        with ctx.Pool(
            workers,
            initializer=_init_worker,
            initargs=(catalogue, targets, start, weeks, settings),
            maxtasksperchild=64,
        ) as pool:
            for out in pool.imap_unordered(_solve_chunk, chunks):
                results.extend(out)
                report("plan", len(results), len(items))
    elif backend in ("process", "serial"):
        _init_worker(catalogue, targets, start, weeks, settings)
        for chunk in chunks:
            results.extend(_solve_chunk(chunk))
            report("plan", len(results), len(items))
    else:
        raise InvalidValue(f"unknown backend {backend!r}; use process, serial or ray", field="backend")
    records = [r for r in results if isinstance(r, dict)]
    unchanged = sum(1 for r in results if isinstance(r, _Unchanged))
    for r in records:
        r["created_by"] = actor
    report("store", 0, len(records))
    with db.write_engine.begin() as conn:
        # Not over what changed while the batch searched (minutes): a target set since, or a plan stored since
        # (made in the app, or on a revert, from newer data), stays as it is; the person is named as failed.
        changed = changed_while_planning(conn, records, plans_read, during="plan-all ran")
        records = [r for r in records if r["person_id"] not in changed]
        store_plans(conn, records, actor=actor, read_at=read_at)
    report("store", len(records), len(records))
    failed = sorted([*failed_targets, *(r for r in results if isinstance(r, tuple)), *changed.items()])
    outcomes = [r["outcome"] for r in records]
    not_found = sum(1 for r in records if r["explanation"]["ready_plan_may_exist"])
    return PlanAllSummary(
        len(pairs),
        outcomes.count("ready"),
        outcomes.count("already_ready"),
        outcomes.count("unreachable") - not_found,
        failed,
        time.perf_counter() - started,
        backend,
        1 if backend == "serial" else workers,
        sum(1 for r in records if not r["explanation"].get("optimal", True)),
        not_found,
        unchanged,
    )


def replan_without(
    db: Database,
    option_id: str,
    *,
    actor: str,
    reason: str,
    settings: Settings | None = None,
    keep: Collection[str] = (),
) -> int:
    """Re-plan everyone whose current plan takes ``option_id`` (an opportunity that was closed, cancelled
    or filled), except the people in ``keep``, each within the batch planner's time budget, and store the
    new plans together; returns how many."""
    settings = settings or get_settings()
    p = t.plans.c
    needle = f'%"{option_id}"%'
    read_at = utcnow()  # the plans' created_at (see store_plans)
    with db.engine.connect() as conn:
        # Towards the person's recorded target, as every stored plan (plan_for_person): a plan made before
        # the target changed is replaced by one towards the new target; without a target it stays as it is.
        rows = [
            r
            for r in conn.execute(
                select(p.id, p.person_id, t.people.c.target_role_id, p.horizon_weeks, p.steps)
                .join(t.people, t.people.c.id == p.person_id)
                .where(p.status == PlanStatus.CURRENT, cast(p.steps, Text).like(needle))
            )
            if r.person_id not in keep
            and r.target_role_id is not None
            and any(step.get("template_id") == option_id for step in r.steps or [])
        ]
        if not rows:
            return 0
        start = next_monday(dt.date.today())
        people = load_people(conn, [r.person_id for r in rows], start=start)
        targets = load_targets(conn, {r.target_role_id for r in rows}, errors={})
        catalogue = load_catalogue(conn)
    records = []
    for r in rows:
        if r.target_role_id not in targets:
            continue  # cannot be planned towards: the old plan stays (plan-all reports the person as failed)
        person, target = people[r.person_id], targets[r.target_role_id]
        try:
            problem = make_problem(person, target, catalogue, start=start, horizon=r.horizon_weeks, settings=settings)
            result = solve_within(problem, settings.plan_all_budget_seconds)
        except (PlanningError, DomainError, RuntimeError):
            continue  # the old plan stays; the next plan-all --changed-only tries again (its problem changed)
        records.append(
            noted_record(
                result, problem, person, target, catalogue, start=start, settings=settings, actor=actor, reason=reason
            )
        )
    with db.write_engine.begin() as conn:
        # A target or a plan changed while these were searched keeps what it is (as a failed re-plan does).
        changed = changed_while_planning(conn, records, {r.person_id: r.id for r in rows}, during="the re-plan ran")
        records = [r for r in records if r["person_id"] not in changed]
        store_plans(conn, records, actor=actor, read_at=read_at)
    return len(records)


def _current_plan_ids(conn: Connection, person_ids: Sequence[str]) -> dict[str, int]:
    """Person → the id of their current plan (people without one are left out)."""
    p = t.plans.c
    out: dict[str, int] = {}
    for i in range(0, len(person_ids), CHUNK):
        chunk = list(person_ids[i : i + CHUNK])
        rows = conn.execute(
            select(p.person_id, p.id).where(among(conn, p.person_id, chunk), p.status == PlanStatus.CURRENT)
        )
        out.update({pid: int(plan_id) for pid, plan_id in rows})
    return out


def changed_while_planning(
    conn: Connection, records: Sequence[dict[str, Any]], plans_read: dict[str, int], *, during: str
) -> dict[str, str]:
    """Person → why their new plan must not be stored, in the storing transaction: their target role is no
    longer the record's, or their current plan is no longer the one read before the search (``plans_read``;
    absent: none), as the write found them. Their rows are locked (on PostgreSQL; SQLite's writer holds the
    database) as :func:`catalogue.set_target_role` locks them, so no change slips in before the commit."""
    aims: dict[str, str | None] = {}
    persons = sorted(r["person_id"] for r in records)
    for i in range(0, len(persons), CHUNK):
        chunk = persons[i : i + CHUNK]
        aims.update(
            conn.execute(
                select(t.people.c.id, t.people.c.target_role_id)
                .where(among(conn, t.people.c.id, chunk))
                .order_by(code_point_order(conn, t.people.c.id))
                # FOR NO KEY UPDATE: it conflicts with setting a target (FOR UPDATE), which is what must wait,
                # but not with the foreign-key checks of rows naming a person (an approval locks its mover,
                # then inserts its approver): FOR UPDATE deadlocked with those, aborting the whole store.
                .with_for_update(key_share=True)
            ).all()
        )
    plans_now = _current_plan_ids(conn, persons)
    out = {}
    for r in records:
        pid = r["person_id"]
        if pid not in aims:
            out[pid] = f"NotFound: person {pid!r} was deleted while {during}"
        elif aims[pid] != r["target_role_id"]:
            now = f"changed to {aims[pid]!r}" if aims[pid] else "cleared"
            out[pid] = f"Conflict: {pid}'s target role {now} while {during}; plan again"
        elif plans_now.get(pid) != plans_read.get(pid):
            out[pid] = f"Conflict: a plan for {pid} was stored while {during}; it stays current"
    return out


def _current_digests(conn: Connection) -> dict[str, str]:
    """Person → the problem digest of their current plan (plans stored before digests were kept have none)."""
    rows = conn.execute(
        select(t.plans.c.person_id, t.plans.c.problem_digest).where(
            t.plans.c.status == PlanStatus.CURRENT, t.plans.c.problem_digest.is_not(None)
        )
    )
    return {pid: digest for pid, digest in rows}


def _plan_with_ray(chunks: list[list[PlanItem]], shared: tuple[Any, ...], report: Any, total: int) -> list[PlanOutput]:
    """The same work on a Ray cluster (``pip install micromoves[ray]``); shared data goes to the object
    store once. ``ray.init()`` joins the cluster named by RAY_ADDRESS, else starts a local one."""
    try:
        import ray
    except ImportError:
        raise InvalidValue("the ray backend needs Ray: pip install 'micromoves[ray]'", field="backend") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(include_dashboard=False, log_to_driver=False)
    try:
        shared_ref = ray.put(shared)

        @ray.remote
        def solve_chunk(chunk: list[PlanItem], shared: tuple[Any, ...]) -> list[Any]:
            _init_worker(*shared)
            return _solve_chunk(chunk)

        pending = [solve_chunk.remote(chunk, shared_ref) for chunk in chunks]
        results: list[PlanOutput] = []
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            results.extend(ray.get(done[0]))
            report("plan", len(results), total)
        return results
    finally:
        if started_here:
            ray.shutdown()


WHAT_IF_BUDGET = 0.3  # seconds per search when a page asks what an opportunity would do to someone's plan
WHAT_IF_TOTAL = 1.0  # seconds of searching for all of one page's questions: beyond, effects stay unknown
WHAT_IF_HORIZON = 104  # weeks, as a plan asked for without a horizon
MAX_PLAN_BENEFIT = 1023  # weeks: the most applications.plan_benefit_weeks holds


def plan_benefit(ready_with: int | None, ready_without: int | None) -> int | None:
    """Weeks of readiness a move is worth to a plan: how much later the best plan without it is ready than the
    plan with it (at least 0, at most what an application records). None when either is out of reach: a
    target the person cannot reach without the move saves no countable weeks (the alternate-routes page shows
    "—", not "horizon + 1 − week"), nor does one they cannot reach with it. Applications (:func:`plan_fit`,
    :class:`WhatIf`), the alternate routes and the demo's seeded applications all count it so."""
    if ready_with is None or ready_without is None:
        return None
    return min(max(ready_without - ready_with, 0), MAX_PLAN_BENEFIT)


def opportunity_option(opp: Any, *, start: dt.date, horizon: int, settings: Settings) -> MoveOption | None:
    """An opportunity as a planning option: on its own dates (from the week its start date falls in to the
    week its end date falls in, weeks counted from ``start``), with the skills it builds as gains and its
    required skill levels as prerequisites. None when it starts before ``start``, does not fit the horizon,
    is longer than a short move may be or builds nothing."""
    if opp.start < start:
        return None
    week = (opp.start - start).days // 7
    duration = (opp.end - start).days // 7 - week + 1
    gains = {s: to_hundredths(d) for s, d in (opp.builds_skills or {}).items() if d > 0}
    if not gains or duration < 1 or week + duration > horizon or duration > settings.max_move_weeks:
        return None
    return MoveOption(
        id=OPPORTUNITY_PREFIX + opp.id,
        kind=getattr(opp.kind, "value", str(opp.kind)),
        duration=duration,
        share=opp.percent_time,
        gains=gains,
        min_levels={s: to_hundredths(v) for s, v in (opp.required_skills or {}).items()},
        earliest_start=week,
        latest_start=week,
        seats=max(0, getattr(opp, "seats_free", 1)),
        title=opp.title,
    )


WHAT_IF_TTL = 300.0  # seconds an answer is reused while nothing was written (the audit log did not grow)
_what_if_cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
_what_if_lock = threading.Lock()


class WhatIf:
    """What opportunities would do to one person's time to readiness (matching, applications).

    :meth:`weeks_saved` compares the person's best plan from next Monday with everything on offer (the
    templates and every open opportunity, as their own plan is made) with the best plan that does without
    the opportunity. An opportunity that the best plan does not take saves nothing: with the rest on offer
    the person is ready as soon without it. (Each opportunity was once weighed against the templates alone,
    so a card could promise weeks that the person's plan, with another opportunity, already beat.) A saving
    is claimed only when the plan without it is proven optimal and the plan with it does use it, so the
    figure never overstates the true saving (a plan found when the search runs out of time is valid,
    perhaps not the best). Each search gets :data:`WHAT_IF_BUDGET` seconds, a page
    :data:`WHAT_IF_TOTAL` in all (a timed-out search's greedy fallback may add a little). Unknown → None.

    Answers are kept for :data:`WHAT_IF_TTL` seconds, per database and person, as long as the newest audit
    event is the same (and, on PostgreSQL, the snapshot: see :meth:`_scope`): every change the
    services make is audited, so a write anywhere starts afresh.

    ``target_role_id`` pins the target planned towards (default: the one recorded for the person when the
    problem is loaded). :func:`marketplace.apply` pins the target it read, and stores the figure only if that
    is still the person's target when it writes: on PostgreSQL each statement reads afresh, so unpinned, a
    target changed and set back meanwhile could leave a figure towards the one in between.
    """

    def __init__(
        self,
        conn: Connection,
        person_id: str,
        *,
        settings: Settings | None = None,
        target_role_id: str | None = None,
    ) -> None:
        self.conn, self.person_id = conn, person_id
        self.target_role_id = target_role_id
        self.settings = settings or get_settings()
        self.start = next_monday(dt.date.today())
        self.restart_clock()
        self._problem: PlanProblem | None = None
        self._parts: tuple[PersonContext, TargetContext, Catalogue] | None = None
        self._base: PlanResult | None = None
        self._loaded = self._solved = False
        self._scope_key: tuple[Any, ...] | None = None

    def _scope(self) -> tuple[Any, ...]:
        """Database, person, pinned target, start and the newest audit event: asked once, and only if a page
        asks at all.

        On PostgreSQL also the snapshot itself (``xmin:xmax:running``), read in the same statement: a
        transaction holding a lower audit id than the newest may commit later, and the newest id alone would
        then not change. Any transaction that commits after the snapshot was either running in it (the list
        changes) or has an xid at or above its ``xmax`` (which its commit raises); the running list alone
        missed a writer whose xid is above every completed one. The price: any commit in the cluster starts
        the cache afresh. SQLite commits one writer at a time, in id order."""
        if self._scope_key is None:
            newest: Any = select(func.max(t.audit_events.c.id)).scalar_subquery()
            if self.conn.dialect.name == "postgresql":
                snapshot: ColumnElement[Any] = literal_column("pg_current_snapshot()::text")
                newest = tuple(self.conn.execute(select(newest, snapshot)).one())
            else:
                newest = self.conn.scalar(select(newest))
            self._scope_key = (
                id(self.conn.engine),
                str(self.conn.engine.url),
                self.person_id,
                self.target_role_id,
                self.start,
                newest,
            )
        return self._scope_key

    def restart_clock(self) -> None:
        """The page's :data:`WHAT_IF_TOTAL` from now: work before the first question (the marketplace ranks
        every listed opportunity first) must not use up the searching time."""
        self.deadline = time.monotonic() + WHAT_IF_TOTAL

    def _budget(self) -> float | None:
        """Seconds for the next search, or None when the page's time is used up."""
        left = self.deadline - time.monotonic()
        return min(WHAT_IF_BUDGET, left) if left > 0.01 else None

    def _remembered(self, key: tuple[Any, ...]) -> tuple[bool, Any]:
        with _what_if_lock:
            hit = _what_if_cache.get((*self._scope(), *key))
        if hit is not None and time.monotonic() - hit[0] < WHAT_IF_TTL:
            return True, hit[1]
        return False, None

    def _remember(self, key: tuple[Any, ...], value: Any) -> None:
        with _what_if_lock:
            if len(_what_if_cache) >= 20_000:
                _what_if_cache.clear()
            _what_if_cache[(*self._scope(), *key)] = (time.monotonic(), value)

    def problem(self) -> PlanProblem | None:
        """The person's planning problem now (None: no target role, or it cannot be planned towards)."""
        if not self._loaded:
            self._loaded = True
            target_id = self.target_role_id or self.conn.scalar(
                select(t.people.c.target_role_id).where(t.people.c.id == self.person_id)
            )
            if target_id:
                try:
                    person = load_people(self.conn, [self.person_id], start=self.start)[self.person_id]
                    target = load_targets(self.conn, [target_id])[target_id]
                    catalogue = load_catalogue(self.conn)
                    self._parts = (person, target, catalogue)
                    self._problem = make_problem(
                        person, target, catalogue, start=self.start, horizon=WHAT_IF_HORIZON, settings=self.settings
                    )
                except (DomainError, PlanningError):
                    self._problem = None
        return self._problem

    def baseline(self) -> PlanResult | None:
        """The optimal plan now (None: no problem, not ready, not proven within the budget)."""
        if self._solved:
            return self._base
        known, value = self._remembered(("baseline",))
        if known:
            self._solved, self._base = True, value
            return self._base
        if (problem := self.problem()) is not None and (budget := self._budget()) is not None:
            self._solved = True
            try:
                result = solve_within(problem, budget)
            except (PlanningError, RuntimeError):  # RuntimeError: no plan at all within the budget
                result = None
            if result is not None and result.status == "ready" and result.optimal and result.ready_week is not None:
                self._base = result
            self._remember(("baseline",), self._base)
        return self._base

    def weeks_saved(self, opp: Any) -> int | None:
        """Weeks sooner the person could be ready by taking ``opp`` (None: no saving shown, or unknown)."""
        key = (
            "opportunity",
            opp.id,
            opp.start,
            opp.end,
            opp.percent_time,
            tuple(sorted((opp.builds_skills or {}).items())),
            tuple(sorted((opp.required_skills or {}).items())),
        )
        known, value = self._remembered(key)
        if known:
            return value  # type: ignore[no-any-return]
        problem = self.problem()
        if problem is None:
            return None
        option = opportunity_option(opp, start=self.start, horizon=WHAT_IF_HORIZON, settings=self.settings)
        if option is None or not set(option.gains) & set(problem.requirements):
            return None  # cheap refusals first: no search for what cannot help
        base = self.baseline()
        budget = self._budget()
        if base is None or base.ready_week is None or budget is None:
            return None  # not remembered: with more time on another page it may be known
        assert self._parts is not None  # set with the problem
        person, target, catalogue = self._parts
        saved = None
        if any(o.id == option.id for o in problem.options):
            # On offer already: worth something only if the best plan takes it, and then what doing without
            # it costs.
            if any(m.option_id == option.id for m in base.moves):
                without = replace(problem, options=tuple(o for o in problem.options if o.id != option.id))
                found = self._solve(without, budget)
                if found is not None and found.optimal:
                    saved = plan_benefit(base.ready_week, found.ready_week)
        else:
            # Not among the person's options (e.g. its last seat is offered, or the filter left it out): the
            # best plan that may also take it, through the same filter (the moves raising what it waits for
            # are kept too).
            others = [o for o in catalogue.opportunities if o.id != opp.id]
            try:
                with_it = make_problem(
                    person,
                    target,
                    replace(catalogue, opportunities=[*others, OpenOpportunity.of(opp, 1)]),
                    start=self.start,
                    horizon=WHAT_IF_HORIZON,
                    settings=self.settings,
                )
            except PlanningError:
                return None
            better = self._solve(with_it, budget)
            if better is not None and any(m.option_id == option.id for m in better.moves):
                saved = plan_benefit(better.ready_week, base.ready_week) or None  # no sooner: no saving
        self._remember(key, saved)
        return saved

    @staticmethod
    def _solve(problem: PlanProblem, budget: float) -> PlanResult | None:
        """A ready plan within ``budget`` seconds (None: not ready, or none found)."""
        try:
            found = solve_within(problem, budget)
        except (PlanningError, RuntimeError):
            return None
        return found if found.status == "ready" else None


def propose_from_plan(db: Database, person_id: str, step: int, *, actor: str, request: bool = True) -> Any:
    """Turn step ``step`` (1-based) of the person's current plan into a proposed move, with success criteria
    taken from the levels the step is meant to reach; the move remembers its plan and template."""
    from micromoves.services.moves import propose_move

    plan = current_plan(db, person_id)
    if plan is None:
        raise NotFound(f"{person_id} has no current plan; run `micromoves plan {person_id}` first", field="plan")
    with db.engine.connect() as conn:
        recorded = conn.scalar(select(t.people.c.target_role_id).where(t.people.c.id == person_id))
    if target_out_of_date(plan.target_role_id, recorded) is not None:
        # A plan towards a target the person left wants nothing (plan_in_force): its step would be a move
        # serving the old target.
        theirs = f"not {person_id}'s target role {recorded}" if recorded else f"and {person_id} has no target role"
        raise InvalidValue(
            f"the current plan aims for {plan.target_role_id}, {theirs}; plan again (`micromoves plan "
            f"{person_id}`) before proposing its steps",
            field="plan",
        )
    if not 1 <= step <= len(plan.steps):
        raise InvalidValue(f"the plan has {len(plan.steps)} steps; there is no step {step}", field="step")
    s = plan.steps[step - 1]
    if str(s["template_id"]).startswith(OPPORTUNITY_PREFIX):
        opportunity = str(s["template_id"]).removeprefix(OPPORTUNITY_PREFIX)
        raise InvalidValue(
            f"step {step} is the open opportunity {opportunity}: apply for it "
            f"(micromoves --actor {person_id} opportunities apply {opportunity}); its host makes the offer",
            field="step",
        )
    _check_still_offered(db, person_id, step, s)
    names: dict[str, str] = plan.explanation.get("skill_names", {})
    gains: dict[str, list[float]] = s["gains"]
    criteria = [
        # In the plan's own hundredths: rounded to one decimal, 3.46 → 4.46 asked the reviewer for 4.5.
        f"{names.get(skill, skill)} reaches {fmt_level(to_hundredths(after))} "
        f"(from {fmt_level(to_hundredths(before))}), confirmed at review"
        for skill, (before, after) in gains.items()
    ] or [f"{s['title']} completed as agreed"]
    return propose_move(
        db,
        person_id=person_id,
        kind=str(s["kind"]),
        title=str(s["title"]),
        start=dt.date.fromisoformat(str(s["start"])),
        end=dt.date.fromisoformat(str(s["end"])),
        percent_time=int(s["percent_time"]),
        actor=actor,
        criteria=criteria,
        target_role_id=plan.target_role_id,
        expected_outcomes=f"Step {step} of plan v{plan.version} towards {plan.target_role_id}",
        skills_targeted=list(gains),
        request=request,
        template_id=str(s["template_id"]),
        plan_id=plan.id,
    )


def _check_still_offered(db: Database, person_id: str, number: int, step: dict[str, Any]) -> None:
    """A plan's step is proposed only while its template may still start: a template retired since the plan
    was made, or whose latest start has passed, made a move the catalogue no longer offers on any date (the
    plan is out of date: planning again plans without it)."""
    c = t.move_templates.c
    with db.engine.connect() as conn:
        template = conn.execute(
            select(c.active, c.seats, c.latest_start).where(c.id == str(step["template_id"]))
        ).first()
    again = f"plan again (`micromoves plan {person_id}`)"
    if template is None or not template.active or template.seats < 1:
        raise InvalidValue(
            f"step {number} ('{step['title']}') is no longer offered: its template {step['template_id']} was "
            f"retired since the plan was made; {again}",
            field="step",
        )
    if template.latest_start is not None and template.latest_start < dt.date.today():
        raise InvalidValue(
            f"step {number} ('{step['title']}') can no longer start: the latest start of its template, "
            f"{template.latest_start.isoformat()}, has passed; {again}",
            field="step",
        )
