"""Use cases for the catalogue of move templates the planner composes plans from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Connection, select, update

from micromoves.domain import rules, vocabulary
from micromoves.domain.errors import InvalidValue, named_in_request
from micromoves.domain.marketplace import LIVE_APPLICATIONS
from micromoves.domain.model import Availability, MoveKind, MoveTemplate
from micromoves.planning import kind_cycle
from micromoves.settings import Settings, get_settings
from micromoves.storage import tables
from micromoves.storage.bulk import CHUNK, among
from micromoves.storage.db import Database
from micromoves.storage.uow import UnitOfWork


def add_template(
    db: Database,
    *,
    id: str,
    kind: MoveKind | str,
    title: str,
    duration_weeks: int,
    percent_time: int,
    gains: Mapping[str, float],
    actor: str,
    gain_cap: float = 7.0,
    min_levels: Mapping[str, float] | None = None,
    requires_kinds: Sequence[str] = (),
    host_team_id: str | None = None,
    earliest_start: dt.date | None = None,
    latest_start: dt.date | None = None,
    seats: int = 1,
    settings: Settings | None = None,
) -> MoveTemplate:
    settings = settings or get_settings()
    kind = vocabulary.parse(MoveKind, kind, field="kind")
    required = [vocabulary.parse(MoveKind, k, field="requires_kinds").value for k in requires_kinds]
    if not 1 <= duration_weeks <= settings.max_move_weeks:
        raise InvalidValue(
            f"duration must be 1–{settings.max_move_weeks} weeks, got {duration_weeks}", field="duration_weeks"
        )
    rules.check_percent(percent_time)
    if any(not 0 < d <= 7 for d in gains.values()):  # (written so that NaN fails it too)
        raise InvalidValue("each gain must be a positive level change of at most 7", field="gains")
    if seats < 0:
        raise InvalidValue(f"seats cannot be negative, got {seats}", field="seats")
    if not 0 < gain_cap <= 7:
        raise InvalidValue(f"gain_cap is a level on the 0–7 scale above 0, got {gain_cap}", field="gain_cap")
    if any(not 0 <= v <= 7 for v in (min_levels or {}).values()):
        raise InvalidValue("each minimum level is on the 0–7 scale", field="min_levels")
    if earliest_start is not None and latest_start is not None and latest_start < earliest_start:
        raise InvalidValue(
            f"latest start {latest_start} is before the earliest start {earliest_start}", field="latest_start"
        )
    with UnitOfWork(db) as uow:
        if uow.session.get(MoveTemplate, id) is not None:
            raise InvalidValue(f"template {id} already exists", field="id")
        if host_team_id:
            uow.teams.get(host_team_id)
        template = MoveTemplate(
            id=id,
            kind=kind,
            title=title,
            duration_weeks=duration_weeks,
            percent_time=percent_time,
            gains={uow.skills.resolve(s).id: d for s, d in gains.items()},
            gain_cap=gain_cap,
            min_levels={uow.skills.resolve(s).id: v for s, v in (min_levels or {}).items()},
            requires_kinds=required,
            host_team_id=host_team_id,
            earliest_start=earliest_start,
            latest_start=latest_start,
            seats=seats,
        )
        if required:
            _refuse_kind_cycle(uow, template)
        uow.session.add(template)
        uow.audit(actor, "template.created", "template", id, kind=kind.value, gains=template.gains)
        uow.commit()
        return template


def _refuse_kind_cycle(uow: UnitOfWork, template: MoveTemplate) -> None:
    """A template whose required kinds close a cycle that no template of the catalogue breaks (rotation needs
    a gig first, every gig needs a rotation first) could never start for someone who has done neither."""
    c = tables.move_templates.c
    others = uow.session.execute(select(c.kind, c.requires_kinds).order_by(c.id)).all()
    moves = [(MoveKind(kind).value, needs or []) for kind, needs in others]
    moves.append((template.kind.value, template.requires_kinds))
    found = kind_cycle(moves)
    if found is not None:
        cycle, _ = found
        raise InvalidValue(
            f"template {template.id}: prerequisites would form a cycle: {' → '.join(cycle)} (no template of these "
            "kinds could ever start); offer one of them without the prerequisite first",
            field="requires_kinds",
        )


def set_availability(
    db: Database, *, person_id: str, start: dt.date, end: dt.date, percent_available: int, actor: str, reason: str = ""
) -> Availability:
    """Record leave (0%) or a phased return (e.g. 50%): the planner keeps moves within it."""
    rules.check_dates(start, end)
    if not 0 <= percent_available <= 100:
        raise InvalidValue(f"percent_available must be 0–100, got {percent_available}", field="percent_available")
    with UnitOfWork(db) as uow:
        uow.people.get(person_id)
        entry = Availability(
            person_id=person_id, start=start, end=end, percent_available=percent_available, reason=reason
        )
        uow.session.add(entry)
        uow.audit(
            actor,
            "person.availability",
            "person",
            person_id,
            start=start,
            end=end,
            percent_available=percent_available,
            reason=reason,
        )
        uow.commit()
        return entry


def set_target_role(db: Database, *, person_id: str, role_id: str | None, actor: str) -> str | None:
    """Record the role the planner plans the person towards (None: clear it); returns the one it replaces.
    Unchecked: the app, the API and the CLI go through :func:`secured.set_target_role`, which asks who may.

    The current plan is left as it is: towards another target than the recorded one it shows as out of
    date (:func:`views.plan_view`), counts as nobody's demand (:func:`planning.plan_in_force`), and planning
    again plans towards the new one. Setting the same target again writes nothing, so the audit trail and the
    person's change time keep to real changes.

    What a seat is worth to the person's plan (``applications.plan_benefit_weeks``, weighed when they applied,
    towards the target they had then) is forgotten on their live applications, in the same transaction: the
    allocation and the host would otherwise rank them by weeks towards a role they no longer aim for. Unknown
    counts as none, as for anyone without a plan; the audit event keeps the figures cleared."""
    with UnitOfWork(db) as uow:
        person = uow.people.get_for_update(person_id)
        if role_id is not None:
            # A role the request names: unknown is an invalid value of that field (422), not a missing page.
            with named_in_request("role_id"):
                uow.roles.get(role_id)
        old = person.target_role_id
        if old == role_id:
            return old
        person.target_role_id = role_id
        cleared = forget_plan_benefits(uow.session.connection(), [person_id])
        extra = {"plan_benefits_cleared": cleared} if cleared else {}
        uow.audit(actor, "person.target_role", "person", person_id, old=old, new=role_id, **extra)
        uow.commit()
        return old


def forget_plan_benefits(conn: Connection, person_ids: Sequence[str]) -> dict[str, int]:
    """Clear the plan benefit of these people's live applications (applied, waitlisted, offered), in the
    caller's transaction, when their target role changes: it was weighed towards the previous one. Returns
    application id → the weeks cleared. Decided applications keep theirs: what the seat was worth then."""
    cleared = [item for of_one in forget_plan_benefits_of(conn, person_ids).values() for item in of_one.items()]
    return dict(sorted(cleared, key=lambda item: int(item[0])))


def forget_plan_benefits_of(conn: Connection, person_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """:func:`forget_plan_benefits`, told person by person: person → application id → the weeks cleared (only
    the people who had some). One SELECT and one UPDATE per 5,000 people: an import may change the target of
    tens of thousands (asked one by one, that was two round trips each)."""
    a = tables.applications.c
    live = [s.value for s in LIVE_APPLICATIONS]
    ids = sorted(set(person_ids))
    out: dict[str, dict[str, int]] = {}
    for i in range(0, len(ids), CHUNK):
        # The UPDATE repeats the SELECT's predicate: listing the application ids instead could pass SQLite's
        # limit on bound parameters (a person may have many live applications; the chunk counts people).
        chunk = ids[i : i + CHUNK]
        rows = conn.execute(
            select(a.person_id, a.id, a.plan_benefit_weeks)
            .where(among(conn, a.person_id, chunk), a.status.in_(live), a.plan_benefit_weeks.is_not(None))
            .order_by(a.id)
        ).all()
        if not rows:
            continue
        conn.execute(
            update(tables.applications)
            .where(among(conn, a.person_id, chunk), a.status.in_(live), a.plan_benefit_weeks.is_not(None))
            .values(plan_benefit_weeks=None)
        )
        for pid, app_id, weeks in rows:
            out.setdefault(pid, {})[str(app_id)] = int(weeks)
    return out
