"""The marketplace of short opportunities: opportunities, applications, handoffs — and their rules.

An **opportunity** is a short move a host team offers: ``draft → pending_approval → open → filled``, with
the side exits ``closed`` and ``cancelled``. Publishing needs the host team's manager. People **apply**;
the host manager **offers** a seat (or waitlists, or rejects); the applicant **accepts** or declines. An
accepted offer becomes a Move in the tracker, requested, with the host's approval already given: the
applicant's line manager still has to **release** them (the manager slot of the two-person rule).

Pure: no I/O. The services enforce seats under a lock and write the records.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from micromoves.domain.errors import IllegalTransition, InvalidDates, InvalidValue
from micromoves.domain.model import MoveKind, MoveStatus
from micromoves.domain.rules import check_dates, check_short

# Moves that carry a handoff of responsibilities (with its backfill and return date): they stand in for
# someone, or hand work over.
KINDS_WITH_HANDOFF = frozenset({MoveKind.ACTING_ROLE, MoveKind.RESPONSIBILITY_HANDOFF, MoveKind.TEMPORARY_LEAD})


class OpportunityStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    OPEN = "open"
    FILLED = "filled"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ApplicationStatus(enum.StrEnum):
    APPLIED = "applied"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"  # the applicant declined the offer
    REJECTED = "rejected"  # the host decided against the application
    WITHDRAWN = "withdrawn"


OS = OpportunityStatus
A = ApplicationStatus

OPPORTUNITY_TRANSITIONS: Mapping[OpportunityStatus, frozenset[OpportunityStatus]] = {
    OS.DRAFT: frozenset({OS.PENDING_APPROVAL, OS.CANCELLED}),
    OS.PENDING_APPROVAL: frozenset({OS.OPEN, OS.DRAFT, OS.CANCELLED}),
    # filled ↔ open: a seat freed by a withdrawal reopens a filled opportunity.
    OS.OPEN: frozenset({OS.FILLED, OS.CLOSED, OS.CANCELLED}),
    OS.FILLED: frozenset({OS.OPEN, OS.CLOSED}),
    OS.CLOSED: frozenset(),
    OS.CANCELLED: frozenset(),
}

APPLICATION_TRANSITIONS: Mapping[ApplicationStatus, frozenset[ApplicationStatus]] = {
    A.APPLIED: frozenset({A.OFFERED, A.WAITLISTED, A.REJECTED, A.WITHDRAWN}),
    A.WAITLISTED: frozenset({A.OFFERED, A.REJECTED, A.WITHDRAWN}),
    A.OFFERED: frozenset({A.ACCEPTED, A.DECLINED, A.WITHDRAWN}),
    A.ACCEPTED: frozenset({A.WITHDRAWN}),
    A.DECLINED: frozenset(),
    A.REJECTED: frozenset(),
    A.WITHDRAWN: frozenset(),
}


def may_apply_again(status: str, decided_by: str | None, person_id: str) -> bool:
    """An application the person ended themself (withdrew it, or declined the offer) does not stop them from
    applying again; one the host rejected, or that was withdrawn for them (their line manager did not release
    them), stays final, as does one still under way."""
    return status == A.DECLINED.value or (status == A.WITHDRAWN.value and decided_by == person_id)


# Applications that still compete for a seat, and those that hold one.
LIVE_APPLICATIONS = frozenset({A.APPLIED, A.WAITLISTED, A.OFFERED})
SEAT_HOLDING = frozenset({A.ACCEPTED})


class ChecklistOwner(enum.StrEnum):
    """Who ticks an onboarding item off: the party that does what it says. (HR of the person's unit and admins
    may tick any item, as they may run any move they see.)"""

    PERSON = "person"  # the person on the move
    # The host team's manager; a move with no host team, or one hosted by a team without a manager, has
    # nobody there to do it, so the person's managers do (as they record the handoff of such a move).
    HOST_MANAGER = "host_manager"
    LINE_MANAGER = "line_manager"  # the person's managers: the home side that lets them go and takes them back


# Each party in words, for the move page and a refusal.
CHECKLIST_OWNER_WORDS: Mapping[ChecklistOwner, str] = {
    ChecklistOwner.PERSON: "the person on the move",
    ChecklistOwner.HOST_MANAGER: "the host team's manager",
    ChecklistOwner.LINE_MANAGER: "the person's line manager",
}


# What a person must have in place before the first day, per kind of move (tracked to done), each item with
# the party that ticks it off: the host grants access and holds the intro, the home side agrees the cover and
# the return date, the person books their first check-in. Stored by its text (onboarding_items.item): a
# wording changed here must keep the old text below too, or the items stored with it lose their owner.
ONBOARDING_ITEMS: Mapping[str, ChecklistOwner] = {
    "Access to the host team's tools and channels granted": ChecklistOwner.HOST_MANAGER,
    "Intro meeting with the host manager held": ChecklistOwner.HOST_MANAGER,
    "Home-team cover agreed for the time away": ChecklistOwner.LINE_MANAGER,
    "First check-in booked": ChecklistOwner.PERSON,
    # (the host side hands its responsibilities over: whoever records the move's handoff on that side)
    "Responsibilities and decision rights handed over in writing": ChecklistOwner.HOST_MANAGER,
    "Return date confirmed": ChecklistOwner.LINE_MANAGER,
}
_HANDOFF_ITEMS = ("Responsibilities and decision rights handed over in writing", "Return date confirmed")

ONBOARDING_CHECKLIST: Mapping[MoveKind, tuple[str, ...]] = {
    kind: (
        *(item for item in ONBOARDING_ITEMS if item not in _HANDOFF_ITEMS),
        *(_HANDOFF_ITEMS if kind in KINDS_WITH_HANDOFF else ()),
    )
    for kind in MoveKind
}

# When a checklist may be ticked off (or an item reopened): once the move is approved — the person released,
# the host agreed; a request may still be declined, so nothing is set up for it yet — until it stops running.
# Late access or a first check-in booked after the start are still ticked off while it is active; a
# withdrawn, declined, reviewed or ended move keeps its checklist as it was.
ONBOARDING_OPEN: frozenset[MoveStatus] = frozenset({MoveStatus.APPROVED, MoveStatus.ONBOARDING, MoveStatus.ACTIVE})


def onboarding_owner(item: str) -> ChecklistOwner | None:
    """The party that ticks the item off (None: a text no checklist has, such as an older wording)."""
    return ONBOARDING_ITEMS.get(item)


# What people do to an opportunity (the web's and the API's action names), and the status each leads to;
# filled (the last seat taken) and back to draft follow from other events.
OPPORTUNITY_ACTIONS: Mapping[str, OpportunityStatus] = {
    "submit": OS.PENDING_APPROVAL,
    "publish": OS.OPEN,
    "close": OS.CLOSED,
    "cancel": OS.CANCELLED,
}
_ACTION_OF = {status: action for action, status in OPPORTUNITY_ACTIONS.items()}


def check_opportunity_transition(current: OpportunityStatus, to: OpportunityStatus) -> None:
    """Refused with the statuses allowed next, each with the action that leads there: an API client that
    asked to publish a draft reads that it must submit it first."""
    if to not in OPPORTUNITY_TRANSITIONS[current]:
        allowed = (
            ", ".join(
                f"{s} ({_ACTION_OF[s]})" if s in _ACTION_OF else str(s)
                for s in sorted(OPPORTUNITY_TRANSITIONS[current])
            )
            or "none (final status)"
        )
        doing = f" ({_ACTION_OF[to]})" if to in _ACTION_OF else ""
        raise IllegalTransition(
            f"an opportunity cannot go from {current} to {to}{doing}; allowed next: {allowed}", field="status"
        )


def check_application_transition(current: ApplicationStatus, to: ApplicationStatus) -> None:
    if to not in APPLICATION_TRANSITIONS[current]:
        allowed = ", ".join(sorted(APPLICATION_TRANSITIONS[current])) or "none (final status)"
        raise IllegalTransition(
            f"an application cannot go from {current} to {to}; allowed next: {allowed}", field="status"
        )


@dataclass(frozen=True)
class Eligibility:
    """Who may apply. Empty / None means no restriction."""

    min_role_level: int | None = None
    min_tenure_months: int | None = None
    locations: tuple[str, ...] = ()
    required_skills: Mapping[str, float] = field(default_factory=dict)  # skill id → minimum level


@dataclass(frozen=True)
class Candidate:
    """The facts about a person that eligibility looks at."""

    person_id: str
    role_level: int | None
    hire_date: dt.date | None
    location: str
    skills: Mapping[str, float]
    free_percent: int  # capacity left over the opportunity's dates, after the home role and other moves


def before_first_day(start: dt.date, hired: dt.date | None, whose: str = "your") -> str | None:
    """Why an opportunity starting on ``start`` is not for a person hired on ``hired`` (None: it is): its move
    would start before their first day, and accepting an offer of it would be refused
    (``rules.check_after_hire``) while the offer held a seat. ``whose``: "your" for the person reading their
    own reasons, else a possessive naming them ("P7's") for the host who would offer the seat."""
    if hired is None or start >= hired:
        return None
    return f"it starts before {whose} first day (hire date {hired.isoformat()})"


def ineligibility(
    rules: Eligibility,
    percent_time: int,
    who: Candidate,
    *,
    start: dt.date,
    today: dt.date,
    names: Mapping[str, str] | None = None,
) -> list[str]:
    """Every reason ``who`` may not take the opportunity starting on ``start`` (empty: eligible), in words a
    person can act on (``names``: skill id → name, for the messages). Starting before the person's hire date
    (a pre-hire's) is counted with the level, tenure and location rules (the allocation's ``outside_rules``)."""
    reasons = []
    if (early := before_first_day(start, who.hire_date)) is not None:
        reasons.append(early)
    if rules.min_role_level is not None and (who.role_level or 0) < rules.min_role_level:
        reasons.append(f"needs role level {rules.min_role_level} or above (you are at {who.role_level or 0})")
    if rules.min_tenure_months is not None:
        # A pre-hire (hired after today) has no time with the organisation yet: 0 months, not fewer.
        months = (
            0
            if who.hire_date is None
            else max(0, (today.year - who.hire_date.year) * 12 + today.month - who.hire_date.month)
        )
        if months < rules.min_tenure_months:
            reasons.append(f"needs {rules.min_tenure_months} months with the organisation (you have {months})")
    if rules.locations and who.location not in rules.locations:
        reasons.append(f"open to {', '.join(rules.locations)} only (you are in {who.location or 'no location'})")
    for skill, level in sorted(rules.required_skills.items()):
        have = who.skills.get(skill, 0.0)
        if have + 1e-9 < level:
            label = (names or {}).get(skill, skill)
            reasons.append(f"needs {label} at level {level:g} (you have {have:g})")
    if who.free_percent < percent_time:
        reasons.append(f"needs {percent_time}% of your time over its dates; you have {who.free_percent}% free")
    return reasons


def skill_fit(required: Mapping[str, float], preferred: Mapping[str, float], skills: Mapping[str, float]) -> float:
    """0–1: how well a person's levels cover the required and (half-weighted) preferred skills."""
    wanted = [(lvl, 1.0) for lvl in required.values()] + [(lvl, 0.5) for lvl in preferred.values()]
    if not wanted:
        return 1.0
    got = sum(
        w * min(1.0, skills.get(s, 0.0) / lvl if lvl > 0 else 1.0) for s, lvl, w in _weighted(required, preferred)
    )
    return round(got / sum(w for _, w in wanted), 4)


def skill_fit_words(
    required: Mapping[str, float],
    preferred: Mapping[str, float],
    skills: Mapping[str, float],
    names: Mapping[str, str] | None = None,
) -> str:
    """The skill fit in words, for a person reading a match: how many of the required and of the preferred
    levels they meet, and where they fall short (skill, their level, the level asked for; the largest
    shortfalls first, at most three). Levels compare as the eligibility rules compare them."""
    if not required and not preferred:
        return "it asks for no particular skills"
    label = names or {}

    def short_of(asked: Mapping[str, float]) -> list[tuple[float, str, float]]:
        return [(lvl - skills.get(s, 0.0), s, lvl) for s, lvl in asked.items() if skills.get(s, 0.0) + 1e-9 < lvl]

    parts = []
    for kind, asked in (("required", required), ("preferred", preferred)):
        if asked:
            parts.append(f"{len(asked) - len(short_of(asked))} of {len(asked)} {kind}")
    words = "you meet " + " and ".join(parts) + " skill levels"
    short = sorted(short_of(required) + short_of(preferred), key=lambda x: (-x[0], x[1]))
    if short:
        words += "; short on " + ", ".join(
            f"{label.get(s, s)} ({skills.get(s, 0.0):g} of {lvl:g})" for _, s, lvl in short[:3]
        )
        if len(short) > 3:
            words += f" and {len(short) - 3} more"
    return words


def _weighted(required: Mapping[str, float], preferred: Mapping[str, float]) -> Sequence[tuple[str, float, float]]:
    return [(s, lvl, 1.0) for s, lvl in required.items()] + [(s, lvl, 0.5) for s, lvl in preferred.items()]


MAX_TITLE_CHARS = 500  # opportunities.title, and moves.title of the move an accepted offer makes


def check_opportunity(
    *,
    title: str,
    start: dt.date,
    end: dt.date,
    percent_time: int,
    seats: int,
    max_weeks: int,
    today: dt.date,
    application_deadline: dt.date | None = None,
) -> None:
    if not title.strip():
        raise InvalidValue("an opportunity needs a title", field="title")
    if len(title.strip()) > MAX_TITLE_CHARS:  # the column's (and its move's) width: the API's limit
        raise InvalidValue(f"a title is at most {MAX_TITLE_CHARS} characters, got {len(title.strip())}", field="title")
    # Its move is made when an offer is accepted: one it could never be (too long, already over) is refused
    # now, not then.
    check_dates(start, end)
    check_short(start, end, max_weeks)
    if end < today:  # dates are inclusive
        raise InvalidDates(f"end {end.isoformat()} has passed; an opportunity ends today or later", field="end")
    if application_deadline is not None and not today <= application_deadline <= start:
        raise InvalidDates(
            f"applications close between today ({today.isoformat()}) and the start ({start.isoformat()}), "
            f"got {application_deadline.isoformat()}",
            field="application_deadline",
        )
    if not 1 <= percent_time <= 100:
        raise InvalidValue(f"time share must be 1–100%, got {percent_time}", field="percent_time")
    if not 1 <= seats <= 10_000:
        raise InvalidValue(f"seats must be 1–10000, got {seats}", field="seats")
