"""Use cases of the move tracker: propose, move through the lifecycle, check in, review, extend.

Each function is one use case and one transaction. CLI commands (and later web routes) are thin calls
into these, so every interface enforces the same rules and writes the same audit trail.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from micromoves.domain import lifecycle, rules, vocabulary
from micromoves.domain.errors import (
    CapacityExceeded,
    Conflict,
    DomainError,
    FullTimeOverlap,
    InvalidDates,
    InvalidValue,
    MissingSuccessCriteria,
    MoveTooLong,
    NotFound,
    named_in_request,
)
from micromoves.domain.model import (
    AssignmentReason,
    CheckIn,
    Decision,
    Extension,
    Move,
    MoveKind,
    MoveStatus,
    Outcome,
    Person,
    Provenance,
    Rating,
    RoleAssignment,
    SkillGain,
    SkillLevel,
    StatusChange,
    SuccessCriterion,
)
from micromoves.settings import Settings, get_settings
from micromoves.storage import tables as t
from micromoves.storage.bulk import BulkWriter
from micromoves.storage.db import Database
from micromoves.storage.uow import UnitOfWork, utcnow

S = MoveStatus


@dataclass(frozen=True)
class CriterionRating:
    position: int  # 1-based, as shown to people
    rating: Rating
    evidence: str = ""


@dataclass(frozen=True)
class GainInput:
    skill: str  # id or name
    level_after: float
    level_before: float | None = None  # default: the person's current level


def new_move_id() -> str:
    return f"M-{uuid.uuid4().hex[:12]}"


def _interval(move: Move) -> rules.Interval:
    return rules.Interval(move.id, move.start, move.end, move.percent_time)


# Whether the one acting may see a move of the person: Policy.sees_move(person_id, host_team_id).
SeesMove = Callable[[str, str | None], bool]


def locked_move(uow: UnitOfWork, move_id: str) -> tuple[Move, Person]:
    """The move, in full, and its person, whose row is locked first (every change to a person's moves takes
    that lock, so that they serialise) and the move read after it. Read before the lock, the move was what it
    had been before the change the lock waited for: an onboarding move withdrawn meanwhile was started and
    stored as active, a completed one extended, a withdrawn request approved."""
    person_id = uow.session.scalar(select(t.moves.c.person_id).where(t.moves.c.id == move_id))
    if person_id is None:
        raise NotFound(f"unknown move {move_id!r}", field="move_id")
    person = uow.people.get_for_update(person_id)
    move = uow.moves.get_full(move_id)
    if move.person_id != person.id:  # given to someone else meanwhile (an import): their row is not locked
        raise Conflict(f"move {move_id} was changed by someone else just now; reload it", field="move_id")
    return move, person


def check_fits(uow: UnitOfWork, person: Person, move: Move, *, sees: SeesMove | None = None) -> None:
    """Refuse ``move`` if it does not fit beside the person's committed moves (capacity, full-time overlap).
    With ``sees``, the error names only the other moves the one acting may see (the others by share and
    dates): a host manager approving one move of someone's must not learn their other moves' ids."""
    committed = [m for m in uow.moves.occupying_for_person(person.id) if m.id != move.id]
    hosts = {m.id: m.host_team_id for m in committed}
    named = None if sees is None else (lambda move_id: sees(person.id, hosts[move_id]))
    rules.check_fits(_interval(move), [_interval(m) for m in committed], person.move_capacity_percent, named=named)


def check_hired(person: Person, move: Move) -> None:
    """Refuse ``move`` if it starts before its person's hire date: checked when a move is proposed (every
    path: the web, the API, the CLI, a plan's step, an accepted offer) and again when it is approved, as an
    import may have moved the hire date past a pending request since (an import holds a new hire date only to
    the moves that hold or held time)."""
    rules.check_after_hire(move.start, person.hire_date, person.id)


def _clean_statements(statements: Sequence[str], already: int = 0) -> list[str]:
    return rules.check_criteria(statements, already=already)


def propose_move(
    db: Database,
    *,
    person_id: str,
    kind: MoveKind | str,
    title: str,
    start: dt.date,
    end: dt.date,
    percent_time: int,
    actor: str,
    criteria: Sequence[str] = (),
    host_team_id: str | None = None,
    target_role_id: str | None = None,
    released_by_id: str | None = None,
    expected_outcomes: str = "",
    skills_targeted: Sequence[str] = (),
    request: bool = False,
    move_id: str | None = None,
    template_id: str | None = None,
    plan_id: int | None = None,
    settings: Settings | None = None,
) -> Move:
    """Record a proposed move (or, with ``request``, propose and submit it for approval at once)."""
    settings = settings or get_settings()
    kind = vocabulary.parse(MoveKind, kind, field="kind")
    title = rules.check_title(title)
    statements = _checked(start, end, percent_time, criteria, settings)
    with UnitOfWork(db) as uow:
        person = uow.people.get_for_update(person_id)
        move = _add_move(
            uow,
            person,
            move_id=move_id or new_move_id(),
            kind=kind,
            title=title,
            start=start,
            end=end,
            percent_time=percent_time,
            statements=statements,
            actor=actor,
            request=request,
            reason="requested on proposal",
            host_team_id=host_team_id,
            target_role_id=target_role_id,
            released_by_id=released_by_id,
            expected_outcomes=expected_outcomes,
            skills_targeted=skills_targeted,
            template_id=template_id,
            plan_id=plan_id,
        )
        uow.commit()
        return move


def _record_new_move(
    uow: UnitOfWork, person: Person, move: Move, statements: Sequence[str], *, actor: str, request: bool, reason: str
) -> None:
    """Add a new move with its criteria and history, after the hire date and capacity checks (and request
    it)."""
    check_hired(person, move)
    move.criteria = [SuccessCriterion(move_id=move.id, position=i, statement=s) for i, s in enumerate(statements, 1)]
    # Fail early on a move that could never be approved; approval checks again (others may have been
    # approved in between).
    check_fits(uow, person, move)
    now = utcnow()
    move.history.append(
        StatusChange(move_id=move.id, from_status=None, to_status=move.status, actor=actor, at=now, reason="created")
    )
    uow.moves.add(move)
    uow.audit(
        actor,
        "move.proposed",
        "move",
        move.id,
        person_id=person.id,
        kind=move.kind.value,
        start=move.start,
        end=move.end,
        percent_time=move.percent_time,
        criteria=list(statements),
    )
    if request:
        lifecycle.transition(move, S.REQUESTED, actor=actor, at=now, reason=reason)
        uow.audit(actor, "move.requested", "move", move.id)


def _checked(start: dt.date, end: dt.date, percent_time: int, criteria: Sequence[str], settings: Settings) -> list[str]:
    """The checks a new move passes before any lookup: dates, shortness, time share, clean criteria."""
    rules.check_dates(start, end)
    rules.check_short(start, end, settings.max_move_weeks)
    rules.check_percent(percent_time)
    return _clean_statements(criteria)


def _add_move(
    uow: UnitOfWork,
    person: Person,
    *,
    move_id: str,
    kind: MoveKind,
    title: str,
    start: dt.date,
    end: dt.date,
    percent_time: int,
    statements: Sequence[str],
    actor: str,
    request: bool,
    reason: str,
    host_team_id: str | None = None,
    target_role_id: str | None = None,
    released_by_id: str | None = None,
    expected_outcomes: str = "",
    skills_targeted: Sequence[str] = (),
    template_id: str | None = None,
    plan_id: int | None = None,
) -> Move:
    """Look up what the move refers to, build it and record it in ``uow`` (the caller commits)."""
    if host_team_id:
        with named_in_request("host_team_id"):
            uow.teams.get(host_team_id)
    if target_role_id:
        with named_in_request("target_role_id"):
            uow.roles.get(target_role_id)
    if released_by_id:
        with named_in_request("released_by_id"):
            uow.people.get(released_by_id)
    with named_in_request("skills_targeted"):
        skill_ids = [uow.skills.resolve(s).id for s in skills_targeted]
    if uow.moves.find(move_id) is not None:
        raise InvalidValue(f"move {move_id} already exists", field="move_id")
    move = Move(
        id=move_id,
        person_id=person.id,
        kind=kind,
        title=title.strip(),
        start=start,
        end=end,
        percent_time=percent_time,
        host_team_id=host_team_id,
        target_role_id=target_role_id,
        released_by_id=released_by_id or person.manager_id,
        expected_outcomes=expected_outcomes,
        skills_targeted=skill_ids,
        template_id=template_id,
        plan_id=plan_id,
    )
    _record_new_move(uow, person, move, statements, actor=actor, request=request, reason=reason)
    return move


def build_requested_move(
    uow: UnitOfWork,
    person: Person,
    *,
    move_id: str,
    kind: MoveKind,
    title: str,
    start: dt.date,
    end: dt.date,
    percent_time: int,
    criteria: Sequence[str],
    actor: str,
    reason: str,
    host_team_id: str | None = None,
    expected_outcomes: str = "",
    skills_targeted: Sequence[str] = (),
    template_id: str | None = None,
    settings: Settings | None = None,
) -> Move:
    """A new requested move inside the caller's unit of work (the marketplace's accepted offers)."""
    title = rules.check_title(title)
    statements = _checked(start, end, percent_time, criteria, settings or get_settings())
    if not statements:
        raise MissingSuccessCriteria("a move needs success criteria", field="success_criteria")
    return _add_move(
        uow,
        person,
        move_id=move_id,
        kind=kind,
        title=title,
        start=start,
        end=end,
        percent_time=percent_time,
        statements=statements,
        actor=actor,
        request=True,
        reason=reason,
        host_team_id=host_team_id,
        expected_outcomes=expected_outcomes,
        skills_targeted=skills_targeted,
        template_id=template_id,
    )


def add_criteria(db: Database, move_id: str, statements: Sequence[str], *, actor: str) -> Move:
    """Add success criteria; they are agreed before the move starts, so only while it is not approved."""
    if not statements:
        raise InvalidValue("give at least one success criterion", field="success_criteria")
    with UnitOfWork(db) as uow:
        move, _ = locked_move(uow, move_id)  # an approval meanwhile fixes them
        if move.status not in (S.PROPOSED, S.REQUESTED):
            raise Conflict(
                f"success criteria of move {move.id} are fixed once it is {move.status}",
                field="success_criteria",
            )
        cleaned = _clean_statements(statements, already=len(move.criteria))
        first = len(move.criteria) + 1
        for i, s in enumerate(cleaned, first):
            move.criteria.append(SuccessCriterion(move_id=move.id, position=i, statement=s))
        uow.audit(actor, "move.criteria_added", "move", move.id, criteria=cleaned)
        uow.commit()
        return move


def transition_move(
    db: Database,
    move_id: str,
    to: MoveStatus | str,
    *,
    actor: str,
    reason: str = "",
    on: dt.date | None = None,
) -> Move:
    """Take one lifecycle step, applying its side effects (capacity re-check on approval, skills written
    back on completion, the prior role restored on revert)."""
    to = vocabulary.parse(MoveStatus, to, field="status")
    with UnitOfWork(db) as uow:
        move, person = locked_move(uow, move_id)
        _apply_transition(uow, person, move, to, actor=actor, reason=reason, on=on or dt.date.today())
        uow.commit()
    _replan_if_reverted(db, move, actor=actor)
    return move


def _replan_if_reverted(db: Database, move: Move, *, actor: str) -> None:
    """A reverted move makes the person's current plan stale: re-plan. Whichever plan version the move carried
    out a step of: a plan made while it was under way (the nightly plan-all) left its template out and its
    time taken, and would otherwise stay current, perhaps out of reach, after the revert. (A move of no plan
    frees time too.)"""
    if move.status is not S.REVERTED:
        return
    from micromoves.services.planning import current_plan, plan_for_person

    plan = current_plan(db, move.person_id)
    if plan is not None:
        try:
            plan_for_person(
                db,
                move.person_id,
                actor=actor,
                # towards the person's target as recorded now (only such a plan is stored as current)
                horizon=plan.horizon_weeks,
                reason=f"move {move.id} was reverted",
                budget=get_settings().plan_all_budget_seconds,
            )
        except (DomainError, RuntimeError) as exc:  # RuntimeError: nothing found within the budget
            # The revert stands (it is committed); the stale plan is left for the next plan-all, and said so.
            with UnitOfWork(db) as uow:
                uow.audit(actor, "plan.replan_failed", "person", move.person_id, move_id=move.id, error=str(exc))
                uow.commit()


def apply_transition(
    uow: UnitOfWork,
    person: Person,
    move: Move,
    to: MoveStatus,
    *,
    actor: str,
    reason: str,
    on: dt.date | None = None,
) -> None:
    """One lifecycle step with its side effects, inside the caller's unit of work (approvals use it)."""
    _apply_transition(uow, person, move, to, actor=actor, reason=reason, on=on or dt.date.today())


def _apply_transition(
    uow: UnitOfWork, person: Person, move: Move, to: MoveStatus, *, actor: str, reason: str, on: dt.date
) -> None:
    lifecycle.check_transition(move, to)
    details: dict[str, object] = {"from": move.status.value, "to": to.value, "reason": reason}
    if to is S.ACTIVE and move.status is S.ONBOARDING and on < move.start:
        # The approvals, the capacity check and the release were for the agreed dates; starting earlier is
        # a new agreement (withdraw and request again), not a click.
        raise InvalidDates(
            f"move {move.id} starts on {move.start.isoformat()}; it cannot be started before then", field="status"
        )
    if to is S.APPROVED:
        check_hired(person, move)
        check_fits(uow, person, move)
    if to is S.REVERTED:
        details.update(_revert(uow, person, move, actor=actor, on=on))
    if to is S.COMPLETED and on < move.end:
        # Ended early: the person has their time back from that day (capacity, the release ledger and the
        # timeline read the end), as a revert of an unfinished move already does.
        details.update(_stop_early(move, on))
    lifecycle.transition(move, to, actor=actor, at=utcnow(), reason=reason)
    if to is S.COMPLETED:
        written, passed = _write_back_skills(uow, move, on=on)
        details["skills_written"] = written
        if passed:
            details["skills_not_written"] = passed
    from micromoves.services.handoffs import sync_with_move
    from micromoves.services.marketplace import release_seat_of

    sync_with_move(uow.session.connection(), move.id, to, on)
    release_seat_of(uow.session.connection(), move.id, to, actor=actor, reason=reason)
    uow.audit(actor, f"move.{to.value}", "move", move.id, **details)


def _write_back_skills(uow: UnitOfWork, move: Move, *, on: dt.date) -> tuple[list[str], list[str]]:
    """Completing a move records each skill gained on the person's profile, with the move as evidence; the
    skills written, and those not written because the profile has passed the gain since the review recorded
    it (another move completed, an assessment): written as the latest assessment, the gain would lower the
    level, which a review refuses."""
    profile = uow.people.profile(move.person_id)
    written, passed = [], []
    for gain in move.skill_gains:
        current = profile.get(gain.skill_id)
        if current is not None and current.level > gain.level_after:
            passed.append(f"{gain.skill_id}:{gain.level_after:g} (profile already {current.level:g})")
            continue
        uow.session.add(
            SkillLevel(
                person_id=move.person_id,
                skill_id=gain.skill_id,
                level=gain.level_after,
                provenance=Provenance.MOVE_EVIDENCE,
                assessed_on=on,
                move_id=move.id,
            )
        )
        written.append(f"{gain.skill_id}:{gain.level_before:g}>{gain.level_after:g}")
    return written, passed


def _revert(uow: UnitOfWork, person: Person, move: Move, *, actor: str, on: dt.date) -> dict[str, object]:
    """End the trial: a converted role goes back to the role held before; an unfinished move ends today."""
    details: dict[str, object] = {}
    if move.converted_assignment_id is not None:
        assignments = uow.people.assignments(person.id)
        converted = next(a for a in assignments if a.id == move.converted_assignment_id)
        if converted.end is not None or person.role_id != converted.role_id:
            # Their role changed since (a later conversion, a promotion or transfer an import recorded):
            # restoring the role held before this trial would silently take that change away too.
            raise Conflict(
                f"move {move.id} converted {person.id} into {converted.role_id}, but they hold "
                f"{person.role_id or 'no role'} now (their role changed after the conversion); reverting it "
                "would undo that later change too: record the role they should hold as a role change instead",
                field="status",
            )
        earlier = [a for a in assignments if a.start <= converted.start and a.id != converted.id]
        for a in assignments:
            if a.end is None:
                a.end = on
        if not earlier:
            # They held no role before (_convert records the one held without a history): the trial undone
            # leaves them with none again. (The revert was refused, so such a trial could never be undone.)
            details.update(role_from=person.role_id, role_restored=None)
            _role_changed(uow, person, None, AssignmentReason.REVERT, move, actor=actor)
            return details
        prior = earlier[-1]
        details.update(role_from=person.role_id, role_restored=prior.role_id)
        # A role change like the conversion it undoes: the person's own audit trail shows both.
        _change_role(uow, person, prior.role_id, AssignmentReason.REVERT, move, actor=actor, on=on)
    elif on < move.end:
        details.update(_stop_early(move, on))
    return details


def _stop_early(move: Move, on: dt.date) -> dict[str, object]:
    """End a move on ``on``, before its planned end, but at least a day after its start (a move ends after it
    starts, or its own export would not import); the old and new end, for the audit."""
    old_end, move.end = move.end, max(on, move.start + dt.timedelta(days=1))
    return {"old_end": old_end, "new_end": move.end}


def check_in(
    db: Database,
    move_id: str,
    *,
    author_id: str,
    note: str,
    progress: int | None = None,
    on: dt.date | None = None,
) -> CheckIn:
    if not note.strip():
        raise InvalidValue("a check-in needs a note", field="note")
    if progress is not None and not 0 <= progress <= 100:
        raise InvalidValue(f"progress must be 0–100, got {progress}", field="progress")
    with UnitOfWork(db) as uow:
        move, _ = locked_move(uow, move_id)  # not on a move ended or withdrawn meanwhile
        if move.status not in (S.ONBOARDING, S.ACTIVE, S.IN_REVIEW):
            raise Conflict(
                f"move {move.id} is {move.status}; check-ins are for onboarding or running moves",
                field="status",
            )
        entry = CheckIn(
            move_id=move.id,
            on=on or dt.date.today(),
            author_id=author_id,
            note=note.strip(),
            progress=progress,
        )
        move.check_ins.append(entry)
        uow.audit(author_id, "move.check_in", "move", move.id, on=entry.on, progress=progress)
        uow.commit()
        return entry


def review_move(
    db: Database,
    move_id: str,
    *,
    reviewer_id: str,
    decision: Decision | str,
    ratings: Sequence[CriterionRating] = (),
    gains: Sequence[GainInput] = (),
    notes: str = "",
    confidential: bool = False,
    new_end: dt.date | None = None,
    on: dt.date | None = None,
    settings: Settings | None = None,
    sees: SeesMove | None = None,
) -> Move:
    """Rate the success criteria, record skills gained and act on the decision.

    ``end``/``convert`` complete the move (every criterion must be rated); ``convert`` also assigns the
    move's target role; ``continue`` and ``extend`` send it back to active (``extend`` needs ``new_end``);
    ``revert`` ends the trial. A ``new_end`` with any decision but ``extend`` is refused. ``sees``: the moves
    an extension's capacity error may name (check_fits).
    """
    settings = settings or get_settings()
    on = on or dt.date.today()
    decision = vocabulary.parse(Decision, decision, field="decision")
    if new_end is not None and decision is not Decision.EXTEND:
        # Not ignored: the review form's first decision is "end", and a new end given with it completed the
        # move (skills written back, for good) that the reviewer meant to extend.
        raise InvalidValue(
            f"a new end date is for decision 'extend'; the decision is '{decision}': choose extend, or leave "
            "the new end empty",
            field="new_end",
        )
    with UnitOfWork(db) as uow:
        move, person = locked_move(uow, move_id)
        if decision is Decision.CONVERT and (refusal := rules.convert_refusal(move.kind)) is not None:
            raise InvalidValue(refusal, field="decision")
        if move.status is S.ACTIVE:
            _apply_transition(uow, person, move, S.IN_REVIEW, actor=reviewer_id, reason="review", on=on)
        if move.status is not S.IN_REVIEW:
            raise Conflict(f"move {move.id} is {move.status}; only an active move can be reviewed", field="status")
        if move.outcome is not None:
            # A later review replaces the outcome, ratings and gains: keep the one it supersedes, whole.
            _keep_earlier_review(uow, move)
        by_position = {c.position: c for c in move.criteria}
        rated: dict[str, str] = {}  # position → the canonical rating given, for the audit
        for r in ratings:
            if str(r.position) in rated:  # the later rating silently replaced the earlier
                raise InvalidValue(f"success criterion #{r.position} is rated twice", field="ratings")
            criterion = by_position.get(r.position)
            if criterion is None:
                raise InvalidValue(f"move {move.id} has no success criterion #{r.position}", field="ratings")
            criterion.rating = vocabulary.parse(Rating, r.rating, field="ratings")
            criterion.evidence = r.evidence
            rated[str(r.position)] = criterion.rating.value
        profile = uow.people.profile(person.id)
        given: set[str] = set()
        for g in gains:
            with named_in_request("gains"):
                skill = uow.skills.resolve(g.skill)
            if skill.id in given:  # the later one silently replaced the earlier
                raise InvalidValue(f"skill {skill.name} ({skill.id}) is given twice in gains", field="gains")
            given.add(skill.id)
            for level in (g.level_after, g.level_before):
                if level is not None and not 0 <= level <= 7:  # (NaN fails this too)
                    raise InvalidValue(f"skill level must be on the 0–7 scale, got {level}", field="gains")
            before = (
                g.level_before
                if g.level_before is not None
                else (profile[skill.id].level if skill.id in profile else 0.0)
            )
            if g.level_after < before:  # written back to the profile, a "gain" would lower it
                raise InvalidValue(
                    f"a gain cannot lower {skill.name} (from {before:g} to {g.level_after:g}); a lower level is "
                    "an assessment, not a move's gain",
                    field="gains",
                )
            move.skill_gains = [x for x in move.skill_gains if x.skill_id != skill.id]
            move.skill_gains.append(
                SkillGain(move_id=move.id, skill_id=skill.id, level_before=before, level_after=g.level_after)
            )
        if move.outcome is None:
            move.outcome = Outcome(move_id=move.id, decision=decision, reviewed_on=on, reviewer_id=reviewer_id)
        move.outcome.decision, move.outcome.reviewed_on, move.outcome.reviewer_id = decision, on, reviewer_id
        move.outcome.notes, move.outcome.confidential = notes, confidential
        uow.audit(
            reviewer_id,
            "move.reviewed",
            "move",
            move.id,
            decision=decision.value,
            reviewed_on=on,
            confidential=confidential,
            ratings=rated,
            gains=[f"{x.skill_id}:{x.level_before:g}>{x.level_after:g}" for x in move.skill_gains],
        )
        if decision in (Decision.END, Decision.CONVERT):
            if decision is Decision.CONVERT:
                rules.check_convert(move.kind, (c.rating for c in move.criteria))
                _convert(uow, person, move, actor=reviewer_id, on=on)
            _apply_transition(uow, person, move, S.COMPLETED, actor=reviewer_id, reason=f"review: {decision}", on=on)
        elif decision is Decision.REVERT:
            _apply_transition(uow, person, move, S.REVERTED, actor=reviewer_id, reason="review: revert", on=on)
        else:
            if decision is Decision.EXTEND:
                if new_end is None:
                    raise InvalidValue("decision 'extend' needs a new end date", field="new_end")
                _extend(
                    uow, person, move, new_end, actor=reviewer_id, reason="review: extend", settings=settings, sees=sees
                )
            _apply_transition(uow, person, move, S.ACTIVE, actor=reviewer_id, reason=f"review: {decision}", on=on)
        uow.commit()
    _replan_if_reverted(db, move, actor=reviewer_id)
    return move


def _keep_earlier_review(uow: UnitOfWork, move: Move) -> None:
    """Record the move's current review (outcome, ratings, gains) in ``reviews`` before a new one replaces it."""
    outcome = move.outcome
    assert outcome is not None
    keep_reviews(
        uow.session.connection(),
        [
            review_record(
                move.id,
                (outcome.decision, outcome.reviewed_on, outcome.reviewer_id, outcome.notes, outcome.confidential),
                ((c.position, c.statement, c.rating, c.evidence) for c in move.criteria),
                ((g.skill_id, g.level_before, g.level_after) for g in move.skill_gains),
            )
        ],
    )


# The reviewer of a review an import brought in: nobody in the organisation reviewed the move here (the HRIS
# did, or someone its export does not name), so it is stored as imported, with the import's actor for the
# record. It was stored as the actor alone and read "reviewed 2026-10-30 by user:admin", of an admin who never
# reviewed the move. (reviewer_id is required; the prefix names no person, so nobody reads the review as
# their own, policy.sees_confidential.) Reviews imported before this carry the actor alone.
IMPORTED_REVIEW = "import:"


def imported_reviewer(actor: str) -> str:
    """The reviewer_id an import stores on a review it brings in (within the column's 64 characters)."""
    return (IMPORTED_REVIEW + actor)[:64]


def review_imported_by(reviewer_id: str | None) -> str | None:
    """Who ran the import that brought the review in (None: a review made in micromoves)."""
    if reviewer_id is None or not reviewer_id.startswith(IMPORTED_REVIEW):
        return None
    return reviewer_id.removeprefix(IMPORTED_REVIEW)


# A review as the reviews table keeps it: (decision, reviewed_on, reviewer_id, notes, confidential).
ReviewHead = tuple[Decision | str, dt.date, str, str, bool]


def review_record(
    move_id: str,
    head: ReviewHead,
    criteria: Iterable[tuple[int, str, Rating | str | None, str]],
    gains: Iterable[tuple[str, float, float]],
) -> dict[str, Any]:
    """A move's review as ``reviews`` keeps it once a later one replaces it, whole: its outcome (``head``),
    the rating and evidence it gave each criterion (``criteria``: position, statement, rating, evidence;
    unrated ones are left out) with the statement as it then read, and the gains it recorded (skill id, level
    before, level after). The one shape of an earlier review, for the tracker's reviews and the import's."""
    decision, reviewed_on, reviewer_id, notes, confidential = head
    return {
        "move_id": move_id,
        "decision": Decision(decision),
        "reviewed_on": reviewed_on,
        "reviewer_id": reviewer_id,
        "notes": notes,
        "confidential": bool(confidential),
        "ratings": {
            str(position): {"rating": Rating(rating).value, "evidence": evidence, "statement": statement}
            for position, statement, rating, evidence in sorted(criteria, key=lambda c: c[0])
            if rating is not None
        },
        "gains": [
            {"skill_id": skill_id, "level_before": before, "level_after": after} for skill_id, before, after in gains
        ],
    }


REVIEW_COLUMNS = ("move_id", "decision", "reviewed_on", "reviewer_id", "notes", "confidential", "ratings", "gains")


def keep_reviews(conn: Connection, records: Sequence[Mapping[str, Any]]) -> None:
    """Keep reviews that later ones replace (:func:`review_record`): the tracker's one, an import's many,
    written in bulk as the import writes its rows (COPY on PostgreSQL, executemany on SQLite)."""
    if records:
        rows = (tuple(r[c] for c in REVIEW_COLUMNS) for r in records)
        BulkWriter(conn).insert(t.reviews, REVIEW_COLUMNS, rows)


def _convert(uow: UnitOfWork, person: Person, move: Move, *, actor: str, on: dt.date) -> None:
    if move.target_role_id is None:
        raise InvalidValue(f"move {move.id} has no target role to convert into", field="target_role_id")
    target = uow.roles.get(move.target_role_id)
    current = uow.people.current_assignment(person.id)
    if current is not None:
        current.end = on
    elif person.role_id is not None:
        # A person imported without history: record the role they held so a revert can restore it.
        uow.session.add(
            RoleAssignment(
                person_id=person.id,
                role_id=person.role_id,
                start=person.hire_date or move.start,
                end=on,
                reason=AssignmentReason.HIRE,
            )
        )
    assignment = _change_role(uow, person, target.id, AssignmentReason.CONVERSION, move, actor=actor, on=on)
    uow.session.flush()
    move.converted_assignment_id = assignment.id


def _change_role(
    uow: UnitOfWork, person: Person, role_id: str, reason: AssignmentReason, move: Move, *, actor: str, on: dt.date
) -> RoleAssignment:
    """The person holds ``role_id`` from ``on`` because of ``move``: a role history entry and an audit event."""
    assignment = RoleAssignment(person_id=person.id, role_id=role_id, start=on, reason=reason, move_id=move.id)
    uow.session.add(assignment)
    _role_changed(uow, person, role_id, reason, move, actor=actor)
    return assignment


def _role_changed(
    uow: UnitOfWork, person: Person, role_id: str | None, reason: AssignmentReason, move: Move, *, actor: str
) -> None:
    """The person holds ``role_id`` (None: no role) because of ``move``, with an audit event saying so."""
    uow.audit(
        actor,
        "person.role_changed",
        "person",
        person.id,
        role_from=person.role_id,
        role_to=role_id,
        reason=reason.value,
        move_id=move.id,
    )
    person.role_id = role_id


def _extend(
    uow: UnitOfWork,
    person: Person,
    move: Move,
    new_end: dt.date,
    *,
    actor: str,
    reason: str,
    settings: Settings,
    sees: SeesMove | None = None,
) -> None:
    if new_end <= move.end:
        raise InvalidValue(f"new end {new_end} must be after the current end {move.end}", field="new_end")
    old_end = move.end
    try:
        rules.check_short(move.start, new_end, settings.max_move_weeks)
        move.end = new_end
        check_fits(uow, person, move, sees=sees)
    except (MoveTooLong, CapacityExceeded, FullTimeOverlap) as exc:
        # The rules name a new move's fields (end, start, percent_time); what an extension changes, and what
        # the review form and the API body call it, is the new end.
        exc.field = "new_end"
        raise
    move.extensions.append(
        Extension(move_id=move.id, old_end=old_end, new_end=new_end, actor=actor, at=utcnow(), reason=reason)
    )
    from micromoves.services.handoffs import follow_extension

    follow_extension(uow.session.connection(), move.id, old_end, new_end)
    uow.audit(actor, "move.extended", "move", move.id, old_end=old_end, new_end=new_end, reason=reason)


def extend_move(
    db: Database,
    move_id: str,
    new_end: dt.date,
    *,
    actor: str,
    reason: str = "",
    settings: Settings | None = None,
) -> Move:
    settings = settings or get_settings()
    with UnitOfWork(db) as uow:
        move, person = locked_move(uow, move_id)
        if move.status in lifecycle.ENDED_STATUSES:
            raise Conflict(f"move {move.id} is {move.status} and cannot be extended", field="status")
        _extend(uow, person, move, new_end, actor=actor, reason=reason, settings=settings)
        uow.commit()
        return move


def get_move(db: Database, move_id: str) -> Move:
    with UnitOfWork(db, write=False) as uow:
        return uow.moves.get_full(move_id)


def list_moves(db: Database, **filters: object) -> Sequence[Move]:
    with UnitOfWork(db, write=False) as uow:
        return uow.moves.list(**filters)  # type: ignore[arg-type]


def criteria_ratings(values: Mapping[int, str]) -> list[CriterionRating]:
    return [
        CriterionRating(position=p, rating=vocabulary.parse(Rating, v, field="ratings"))
        for p, v in sorted(values.items())
    ]
