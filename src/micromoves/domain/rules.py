"""Rules on a move's shape and on a person's time, each raising a clear :class:`DomainError`.

The same functions serve single operations (proposing one move) and bulk imports (a million rows), so
they work on light :class:`Interval` tuples rather than on full entities.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from micromoves.domain.errors import (
    CapacityExceeded,
    FullTimeOverlap,
    InvalidDates,
    InvalidValue,
    ManagerCycle,
    MoveTooLong,
)
from micromoves.domain.model import MoveKind, Rating

DEFAULT_MAX_MOVE_WEEKS = 26


@dataclass(frozen=True, slots=True)
class Interval:
    """The part of a move that matters for time: dates are inclusive (a move ending on a Friday and the
    next starting on the following Monday do not overlap)."""

    move_id: str
    start: dt.date
    end: dt.date
    percent: int

    def overlaps(self, other: Interval) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True, slots=True)
class Overload:
    """A day on which concurrent moves use more time than the person has."""

    on: dt.date
    total_percent: int
    move_ids: tuple[str, ...]


# The dates a record may hold: back far enough for any hire date, ahead far enough for any plan. Outside
# them a year is a typo (0202, 20266), and date arithmetic on the calendar's edges overflows (a move ending
# 9999-12-31 has no next day; a timeline from 0001-01-01 no week before): one such move made its person's
# page fail for everyone.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)


def calendar_problem(value: dt.date) -> str | None:
    """Why ``value`` cannot be a record's date, or None."""
    if EARLIEST_DATE <= value <= LATEST_DATE:
        return None
    return f"{value.isoformat()} is outside the years {EARLIEST_DATE.year}–{LATEST_DATE.year}"


def check_calendar(value: dt.date, field: str) -> None:
    problem = calendar_problem(value)
    if problem:
        raise InvalidDates(problem, field=field)


def check_dates(start: dt.date, end: dt.date) -> None:
    check_calendar(start, "start")
    check_calendar(end, "end")
    if end <= start:
        raise InvalidDates(f"end {end.isoformat()} must be after start {start.isoformat()}", field="end")


def check_short(start: dt.date, end: dt.date, max_weeks: int = DEFAULT_MAX_MOVE_WEEKS) -> None:
    """A micro-move is short: at most ``max_weeks`` from start to end (extensions included). Both dates are
    days of the move (a Monday-to-Sunday move of 26 weeks has 182 days)."""
    days = (end - start).days + 1
    if days > max_weeks * 7:
        raise MoveTooLong(f"move lasts {days / 7:.1f} weeks; a move may last at most {max_weeks} weeks", field="end")


def check_after_hire(start: dt.date, hired: dt.date | None, person_id: str) -> None:
    """A move starts on its person's hire date or later (a pre-hire, hired after today, from their first
    day): one before it is a typo'd date (a year off) that would be stored as the person's history. The
    import holds its rows to the same rule (``importing._check_hire_dates``)."""
    if hired is not None and start < hired:
        raise InvalidDates(
            f"start {start.isoformat()} is before {person_id}'s hire date {hired.isoformat()}; a move cannot "
            "start before its person's first day",
            field="start",
        )


def prehire_problem(hired: dt.date, today: dt.date, max_days: int) -> str | None:
    """Why ``hired`` cannot be a hire date given today, or None. A pre-hire's first day is some months
    ahead; years ahead it is a typo'd year (2062 for 2026), which would keep every move of the person's
    from starting and give their plan no time before it (``max_days``: the setting MICROMOVES_PREHIRE_MAX_DAYS)."""
    latest = today + dt.timedelta(days=max_days)
    if hired <= latest:
        return None
    return (
        f"{hired.isoformat()} is more than {max_days} days after today ({today.isoformat()}): a pre-hire's "
        "hire date is at most that far ahead (MICROMOVES_PREHIRE_MAX_DAYS)"
    )


CRITERIA_SEPARATOR = ";"  # between success criteria in moves.csv (conventions.md)
# A review rates every criterion, one by one: a list longer than a reviewer can rate, or a "criterion" the
# size of a document, is not an agreement anyone can be reviewed against (and made pages of megabytes).
MAX_CRITERIA = 20
MAX_CRITERION_CHARS = 1000


def check_criterion(statement: str, position: int, field: str = "success_criteria") -> str:
    """One success criterion, stripped: not empty, and without the character that separates criteria in
    moves.csv (an export of it could not be imported back: it would read as two criteria). A problem names
    the criterion by its number on the move (1 the first, as a review rates them): "success criterion 2:
    text is empty", in every path alike (the API answered an empty one in pydantic's words, "success_criteria.1:
    String should have at least 1 character", counting from 0)."""
    which = f"success criterion {position}"
    text = statement.strip()
    if not text:
        raise InvalidValue(f"{which}: text is empty", field=field)
    if len(text) > MAX_CRITERION_CHARS:
        raise InvalidValue(
            f"{which}: at most {MAX_CRITERION_CHARS} characters, got {len(text)}: {text[:60]!r}…", field=field
        )
    if CRITERIA_SEPARATOR in text:
        raise InvalidValue(
            f"{which}: cannot contain {CRITERIA_SEPARATOR!r}, which separates criteria in moves.csv; "
            f"write two criteria or use a comma: {text[:60]!r}",
            field=field,
        )
    return text


def check_criteria(statements: Sequence[str], field: str = "success_criteria", *, already: int = 0) -> list[str]:
    """Success criteria, each checked by :func:`check_criterion` (numbered after the ``already`` agreed ones);
    with those, at most :data:`MAX_CRITERIA`."""
    if already + len(statements) > MAX_CRITERIA:
        raise InvalidValue(
            f"a move may have at most {MAX_CRITERIA} success criteria, got {already + len(statements)}", field=field
        )
    return [check_criterion(s, already + i, field) for i, s in enumerate(statements, 1)]


MAX_TITLE_CHARS = 500  # moves.title's width, as the web form and the API hold it


def check_title(title: str) -> str:
    """A move's title, stripped: not empty, and no wider than its column (the CLI held it to nothing: on
    PostgreSQL a longer one failed as a database error, on SQLite it was stored)."""
    text = title.strip()
    if not text:
        raise InvalidValue("a move needs a title", field="title")
    if len(text) > MAX_TITLE_CHARS:
        raise InvalidValue(f"a title is at most {MAX_TITLE_CHARS} characters, got {len(text)}", field="title")
    return text


def id_problem(record_id: str) -> str | None:
    """Why an id given by an HRIS cannot be an id here, if it cannot: one starting or ending with '/' or
    holding '//' has an empty path segment, which no page or API address can carry (ids holding '/' are
    taken, ``EMP/0042``: the web's paths take an id of several segments, none empty)."""
    if record_id.startswith("/") or record_id.endswith("/") or "//" in record_id:
        return f"id {record_id!r} starts or ends with '/' or holds '//': no web address can name it"
    return None


def check_percent(percent: int) -> None:
    if not 1 <= percent <= 100:
        raise InvalidValue(f"percent_time must be between 1 and 100, got {percent}", field="percent_time")


# Kinds that learn about a role without trying it out: a review cannot convert them into the target role.
NOT_ROLE_TRIALS = frozenset({MoveKind.COURSE, MoveKind.MENTORING, MoveKind.SHADOWING, MoveKind.GIG})


def convert_refusal(kind: MoveKind) -> str | None:
    """Why a move of ``kind`` can never be converted into its target role (None: it can)."""
    if kind in NOT_ROLE_TRIALS:
        return f"a {kind.value.replace('_', ' ')} is not a trial of a role; it cannot be converted into one"
    return None


def check_convert(kind: MoveKind, ratings: Iterable[Rating | None]) -> None:
    """Converting a move into the role is for a trial that went (at least partly) well."""
    refusal = convert_refusal(kind)
    if refusal is not None:
        raise InvalidValue(refusal, field="decision")
    if not any(r in (Rating.MET, Rating.PARTLY_MET) for r in ratings):
        raise InvalidValue(
            "a move is converted into its target role only when at least one success criterion is rated met or "
            "partly met; none is",
            field="decision",
        )


def check_capacity_settings(capacity_percent: int, home_role_min_percent: int) -> None:
    if not 1 <= capacity_percent <= 200:
        raise InvalidValue(
            f"capacity_percent must be between 1 and 200, got {capacity_percent}", field="capacity_percent"
        )
    if not 0 <= home_role_min_percent < capacity_percent:
        raise InvalidValue(
            f"home_role_min_percent must be between 0 and capacity ({capacity_percent}), got {home_role_min_percent}",
            field="home_role_min_percent",
        )


def overloads(intervals: Sequence[Interval], capacity: int) -> list[Overload]:
    """Every maximal stretch on which the concurrent shares exceed ``capacity``, reported at its first day.

    A sweep over start/end events: O(n log n) per person, which keeps bulk imports linear in practice.
    """
    events: list[tuple[dt.date, int, Interval]] = []
    for iv in intervals:
        events.append((iv.start, 1, iv))
        events.append((iv.end + dt.timedelta(days=1), 0, iv))  # ends sort before starts on the same day
    events.sort(key=lambda e: (e[0], e[1], e[2].move_id))
    active: dict[str, Interval] = {}
    found: list[Overload] = []
    overloaded = False
    i = 0
    while i < len(events):
        day = events[i][0]
        while i < len(events) and events[i][0] == day:
            _, is_start, iv = events[i]
            if is_start:
                active[iv.move_id] = iv
            else:
                active.pop(iv.move_id, None)
            i += 1
        total = sum(a.percent for a in active.values())
        if total > capacity and not overloaded:
            found.append(Overload(day, total, tuple(sorted(active))))
        overloaded = total > capacity
    return found


def full_time_overlaps(intervals: Iterable[Interval]) -> list[tuple[str, str]]:
    """Pairs of full-time moves that overlap (sorted ids)."""
    full = sorted((iv for iv in intervals if iv.percent >= 100), key=lambda iv: (iv.start, iv.move_id))
    pairs: list[tuple[str, str]] = []
    for a_idx, a in enumerate(full):
        for b in full[a_idx + 1 :]:
            if b.start > a.end:
                break
            pairs.append((a.move_id, b.move_id))
    return pairs


def check_fits(
    candidate: Interval,
    committed: Iterable[Interval],
    capacity: int,
    *,
    named: Callable[[str], bool] | None = None,
) -> None:
    """Raise if ``candidate`` cannot be added next to the person's ``committed`` moves.

    The error names the other moves by id where ``named(move_id)`` (default: all); any other is described
    without id or title, by its share and dates: the one who reads the error may not see that move (a host
    manager approving one move of someone else's)."""
    others = [iv for iv in committed if iv.move_id != candidate.move_id and iv.overlaps(candidate)]
    by_id = {iv.move_id: iv for iv in others}

    def other(move_id: str, full_time: bool = False) -> str:
        if named is None or named(move_id):
            return f"full-time move {move_id}" if full_time else move_id
        iv = by_id[move_id]
        what = "full-time move" if full_time else "move"
        return f"another {what} of theirs ({iv.percent}%, {iv.start.isoformat()} to {iv.end.isoformat()})"

    for a, b in full_time_overlaps([candidate, *others]):
        if candidate.move_id in (a, b):
            raise FullTimeOverlap(
                f"move {candidate.move_id} is full-time and overlaps "
                + other(b if a == candidate.move_id else a, full_time=True),
                field="start",
            )
    for ov in overloads([candidate, *others], capacity):
        if candidate.move_id in ov.move_ids:
            rest = [other(m) for m in ov.move_ids if m != candidate.move_id]
            uses = (
                f"({candidate.percent}%) together with {', '.join(rest)} would use {ov.total_percent}%"
                if rest
                else f"needs {ov.total_percent}%"  # too much on its own (a part-timer's, say)
            )
            raise CapacityExceeded(
                f"move {candidate.move_id} {uses} of time from {ov.on.isoformat()}; capacity for moves is {capacity}%",
                field="percent_time",
            )


def find_manager_cycle(managers: Mapping[str, str | None]) -> list[str] | None:
    """Return one manager cycle (``[a, b, …, a]``) if the person → manager map has one."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = known acyclic
    for root in sorted(managers):
        if state.get(root) == 2:
            continue
        path: list[str] = []
        node: str | None = root
        while node is not None and state.get(node) != 2:
            if state.get(node) == 1:
                return [*path[path.index(node) :], node]
            state[node] = 1
            path.append(node)
            node = managers.get(node)
        for p in path:
            state[p] = 2
    return None


def check_no_manager_cycle(managers: Mapping[str, str | None]) -> None:
    cycle = find_manager_cycle(managers)
    if cycle:
        raise ManagerCycle(f"manager cycle: {' → '.join(cycle)}", field="manager_id")


def peak_load(committed: Iterable[Interval], start: dt.date, end: dt.date) -> int:
    """The highest total share the ``committed`` moves take on any day between ``start`` and ``end``."""
    window = Interval("", start, end, 0)
    events: list[tuple[dt.date, int]] = []
    for iv in committed:
        if iv.overlaps(window):
            events.append((max(iv.start, start), iv.percent))
            events.append((min(iv.end, end) + dt.timedelta(days=1), -iv.percent))
    load = peak = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):  # ends (negative) before starts on a day
        load += delta
        peak = max(peak, load)
    return peak
