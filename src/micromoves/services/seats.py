"""Congestion-aware batch planning: make everyone's current plans fit the seats there are.

Each person's plan is optimal for them alone; together, many may schedule the same one-seat gig in the
same weeks. ``respect_seats`` walks the current plans towards each person's recorded target role
(:func:`planning.plan_in_force`: one towards a target changed or cleared since takes no seat) in priority
order (soonest ready first, then person id) and keeps each plan whose moves still find a free seat in their
weeks. A plan that does not fit is re-planned with every congested move allowed to start only once its
seats are never all taken again, so the re-planned steps cannot overbook either. The result — plans that
together never exceed any seat — is a greedy, first-come schedule, not a joint optimum; the summary says how
many plans it changed.

Each re-plan is bounded by the batch planner's time budget (``MICROMOVES_PLAN_ALL_BUDGET_SECONDS``, with its
fallbacks: such a plan is marked not proven optimal). Nothing is written while plans are re-computed; the
re-planned plans are stored together in one short transaction at the end, so an interrupted run changes
nothing and the database is not held locked while plans are searched. A person whose re-plan fails keeps
their plan and is listed in ``failed``: their plan may still share a seat with someone else's. A person who
changes while their re-plan is made keeps what they have too, and the walk is made again around it (see
:func:`respect_seats`).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from micromoves.domain.errors import DomainError
from micromoves.domain.marketplace import SEAT_HOLDING, OpportunityStatus
from micromoves.planning import PlanningError
from micromoves.services.planning import (
    OPPORTUNITY_PREFIX,
    changed_while_planning,
    load_catalogue,
    load_people,
    load_targets,
    make_problem,
    noted_record,
    plan_digest,
    plan_in_force,
    solve_within,
    store_plans,
)
from micromoves.settings import Settings, get_settings
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.uow import utcnow

Progress = Callable[[str, int, int], None]
Span = tuple[int, int]  # [start week, end week) on a common calendar


@dataclass(frozen=True)
class SeatSummary:
    plans: int
    kept: int
    replanned: list[str]  # people whose plan changed to fit the seats
    failed: list[tuple[str, str]]  # person, why (their old plan is kept, flagged here)


def peak(spans: Sequence[Span], start: int, end: int) -> int:
    """The most spans running at once during ``[start, end)``."""
    inside = [(max(a, start), min(b, end)) for a, b in spans if a < end and b > start]
    events = [(a, 1) for a, _ in inside] + [(b, -1) for _, b in inside]
    load = best = 0
    for _, delta in sorted(events):  # at the same week, ends (-1) come before starts
        load += delta
        best = max(best, load)
    return best


def full_until(spans: Sequence[Span], seats: int) -> int:
    """The first week from which the template never again has all ``seats`` taken (0: never full)."""
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans], key=lambda e: (e[0], e[1]))
    load, last_full_end = 0, 0
    for i, (week, delta) in enumerate(events):
        load += delta
        if load >= seats:
            following = events[i + 1][0] if i + 1 < len(events) else week
            last_full_end = max(last_full_end, following)
    return last_full_end


def _seats(seats: dict[str, int], option_id: str) -> int:
    """Seats of a template or of an open opportunity; an opportunity no longer open has none."""
    return seats.get(option_id, 0 if option_id.startswith(OPPORTUNITY_PREFIX) else 1)


def _opportunity_seats(conn: Connection, plans: Sequence[Any], seats: dict[str, int]) -> set[tuple[str, str]]:
    """Seats of each open or filled opportunity that plans may share, into ``seats``: its seats less those
    accepted by people whose current plan does not take it (a holder whose plan takes it is counted once,
    by that plan step: counting the acceptance too took a seat from somebody else). Returns the (person,
    option id) of the holders whose plan takes their seat."""
    o, a = t.opportunities.c, t.applications.c
    # A closed opportunity keeps its accepted seats (their moves are in the tracker) and takes nobody new: its
    # holders keep their steps (as the re-planning when it closed kept their plans); it has no seat for others.
    # Counting only open and filled ones re-planned a holder of a closed one without the seat they hold.
    kept = [OpportunityStatus.OPEN.value, OpportunityStatus.FILLED.value, OpportunityStatus.CLOSED.value]
    steps = {plan.person_id: {s["template_id"] for s in plan.steps or []} for plan in plans}
    holders: dict[str, list[str]] = defaultdict(list)
    for oid, pid in conn.execute(
        select(a.opportunity_id, a.person_id)
        .join(t.opportunities, o.id == a.opportunity_id)
        .where(a.status.in_([s.value for s in SEAT_HOLDING]), o.status.in_(kept))
    ):
        holders[oid].append(pid)
    held = set()
    for oid, total, status in conn.execute(select(o.id, o.seats, o.status).where(o.status.in_(kept))):
        option = OPPORTUNITY_PREFIX + oid
        planned = {pid for pid in holders[oid] if option in steps.get(pid, ())}
        held |= {(pid, option) for pid in planned}
        if status != OpportunityStatus.CLOSED.value:
            seats[option] = max(0, total - (len(holders[oid]) - len(planned)))
    return held


ROUNDS = 3  # walks at most: a change met at store time makes the walk again (see respect_seats)


@dataclass
class _Walk:
    plans: dict[str, int]  # person → id of the plan in force read for the walk
    kept: int
    replanned: list[str]
    failed: list[tuple[str, str]]
    records: list[dict[str, Any]]


def respect_seats(
    db: Database,
    *,
    actor: str,
    progress: Progress | None = None,
    settings: Settings | None = None,
) -> SeatSummary:
    """Walk the plans (:func:`_walk`) and store the re-planned ones.

    A re-planned person who changed while the walk ran (a target set, or a plan stored in the app) is not
    stored over (:func:`planning.changed_while_planning`). But the seats their refused re-plan claimed were
    given up by everyone walked after them, and their current plan was never counted: the stored plans could
    leave a seat free that someone was moved away from, and over-book one with that current plan. So when the
    store meets such a change, nothing is stored and the walk is made again from what is stored now, with
    the changed people's current plans fixed in place (counted first, as an accepted seat is, and never
    re-planned: they keep what they have and are named as failed). So too when anyone's plan in force changed
    (a kept one re-planned in the app, a target cleared): the walk counted seats that are no longer so. At most
    ``ROUNDS`` walks: after the last,
    its refused people are named as failed as before, and their plans may share a seat."""
    settings = settings or get_settings()
    report = progress or (lambda stage, done, total: None)
    fixed: dict[str, str] = {}  # person → why their current plan stays as it is
    changed: dict[str, str] = {}
    for walk_no in range(1, ROUNDS + 1):
        read_at = utcnow()  # the re-planned plans' created_at (see store_plans)
        walk = _walk(db, set(fixed), actor=actor, report=report, settings=settings)
        if not walk.records:
            break
        with db.write_engine.begin() as conn:
            # Not over what changed while the plans were re-made: a target set since, or a plan stored since
            # (made in the app, from newer data), stays as it is; the person is named as failed.
            changed = changed_while_planning(conn, walk.records, walk.plans, during="the seats were respected")
            # Anyone else whose plan in force is not the one the walk read (a plan stored in the app, a target
            # set or cleared, a first plan): the walk counted their seats as it read them, so it is not true
            # either. Only the re-planned people were checked: one whose plan was kept stored a plan taking
            # another seat, and the others were stored as if they held the old one.
            in_force = dict(conn.execute(select(t.plans.c.person_id, t.plans.c.id).where(plan_in_force())).all())
            changed |= {
                pid: f"Conflict: {pid}'s plan changed while the seats were respected; it stays as it is"
                for pid in sorted(in_force.keys() | walk.plans.keys())
                if in_force.get(pid) != walk.plans.get(pid) and pid not in changed
            }
            if not changed or walk_no == ROUNDS:
                store_plans(
                    conn, [r for r in walk.records if r["person_id"] not in changed], actor=actor, read_at=read_at
                )
                break
        fixed.update(changed)  # nothing was written: walk again around their current plans
    replanned = [pid for pid in walk.replanned if pid not in changed]
    return SeatSummary(len(walk.plans), walk.kept, replanned, walk.failed + sorted({**fixed, **changed}.items()))


def _walk(db: Database, fixed: set[str], *, actor: str, report: Progress, settings: Settings) -> _Walk:
    """One walk of the plans in force in priority order, keeping those that fit and re-planning the others
    (not stored). The plans of ``fixed`` people are placed first and neither kept nor re-planned."""
    p = t.plans.c
    with db.engine.connect() as conn:
        # The plans in force: one towards a target its person no longer has (changed or cleared) takes no seat,
        # and is not re-planned towards that old target either.
        plans = conn.execute(
            select(p.id, p.person_id, p.target_role_id, p.start, p.horizon_weeks, p.ready_week, p.steps).where(
                plan_in_force()
            )
        ).all()
        seats = dict(conn.execute(select(t.move_templates.c.id, t.move_templates.c.seats)).all())
        held = _opportunity_seats(conn, plans, seats)
    read = {x.person_id: x.id for x in plans}
    if not plans:
        return _Walk(read, 0, [], [], [])
    origin = min(x.start for x in plans)
    order = sorted(
        (x for x in plans if x.person_id not in fixed),
        key=lambda x: (x.ready_week is None, x.ready_week or 0, x.person_id),
    )
    busy: dict[str, list[Span]] = defaultdict(list)
    # A seat already accepted is its holder's, whoever else would be ready sooner: the holders' plan steps
    # on it are placed first and never moved. So are the plans of people who changed during an earlier walk.
    for plan in plans:
        shift = (plan.start - origin).days // 7
        for step in plan.steps or []:
            if plan.person_id in fixed or (plan.person_id, step["template_id"]) in held:
                busy[step["template_id"]].append((step["start_week"] + shift, step["end_week"] + shift))
    kept, replanned, failed = 0, [], []
    records: list[dict[str, Any]] = []
    catalogue: Any = None
    with db.engine.connect() as conn:
        for done, plan in enumerate(order, 1):
            shift = (plan.start - origin).days // 7
            spans = [
                (s["template_id"], s["start_week"] + shift, s["end_week"] + shift)
                for s in plan.steps or []
                if (plan.person_id, s["template_id"]) not in held  # placed above
            ]
            if all(peak(busy[tid], a, b) < _seats(seats, tid) for tid, a, b in spans):
                for tid, a, b in spans:
                    busy[tid].append((a, b))
                kept += 1
            else:
                catalogue = catalogue or load_catalogue(conn)
                try:
                    record, new_spans = _replan(
                        conn, plan, shift, busy, seats, catalogue, actor=actor, settings=settings
                    )
                except (PlanningError, DomainError, RuntimeError) as exc:  # RuntimeError: nothing found in time
                    failed.append((plan.person_id, f"{type(exc).__name__}: {exc}"))
                    continue
                records.append(record)
                for tid, a, b in new_spans:
                    busy[tid].append((a, b))
                replanned.append(plan.person_id)
            report("seats", done, len(order))
    return _Walk(read, kept, replanned, failed, records)


def _replan(
    conn: Connection,
    plan: Any,
    shift: int,
    busy: dict[str, list[Span]],
    seats: dict[str, int],
    catalogue: Any,
    *,
    actor: str,
    settings: Settings,
) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:
    """The person's plan re-computed with every congested move starting only once it has a free seat (not
    stored: the caller stores all re-planned plans at once), and its moves' spans on the common calendar."""
    person = load_people(conn, [plan.person_id], start=plan.start)[plan.person_id]
    target = load_targets(conn, [plan.target_role_id])[plan.target_role_id]
    # Options are delayed or dropped below, after the filter: keep every depth step it would otherwise thin out.
    problem = make_problem(
        person,
        target,
        catalogue,
        start=plan.start,
        horizon=plan.horizon_weeks,
        settings=settings,
        every_depth_step=True,
    )
    options = []
    for option in problem.options:
        free_from = full_until(busy.get(option.id, []), _seats(seats, option.id)) - shift
        latest = option.latest_start if option.latest_start is not None else problem.horizon - option.duration
        if free_from <= option.earliest_start:
            options.append(option)
        elif free_from <= latest:
            options.append(dataclasses.replace(option, earliest_start=free_from))
    fitted = dataclasses.replace(problem, options=tuple(options))
    result = solve_within(fitted, settings.plan_all_budget_seconds)
    # The digest of the person's own problem, as plan-all computes it, not of the fitted one: a nightly
    # `plan-all --changed-only` then keeps the fitted plan while nothing about the person changes (it used
    # to re-plan it, unfitted, every night, and --respect-seats fitted it again: two new versions a night).
    own = make_problem(person, target, catalogue, start=plan.start, horizon=plan.horizon_weeks, settings=settings)
    record = noted_record(
        result,
        fitted,
        person,
        target,
        catalogue,
        start=plan.start,
        settings=settings,
        actor=actor,
        digest=plan_digest(own, plan.start, plan.target_role_id),
        reason="re-planned so that everyone's plans fit the seats",
    )
    return record, [(m.option_id, m.start + shift, m.end + shift) for m in result.moves]
