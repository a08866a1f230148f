from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micromoves.domain import rules
from micromoves.domain.errors import (
    CapacityExceeded,
    FullTimeOverlap,
    InvalidDates,
    InvalidValue,
    ManagerCycle,
    MoveTooLong,
)

D = dt.date


def iv(mid: str, start: dt.date, end: dt.date, pct: int) -> rules.Interval:
    return rules.Interval(mid, start, end, pct)


def test_end_must_be_after_start() -> None:
    rules.check_dates(D(2026, 1, 1), D(2026, 1, 2))
    for end in (D(2026, 1, 1), D(2025, 12, 31)):
        with pytest.raises(InvalidDates, match="must be after start"):
            rules.check_dates(D(2026, 1, 1), end)


def test_a_move_starts_on_its_persons_hire_date_or_later() -> None:
    rules.check_after_hire(dt.date(2025, 3, 3), dt.date(2025, 3, 3), "P1")
    rules.check_after_hire(dt.date(2025, 3, 3), None, "P1")  # a hire date not known holds nothing
    with pytest.raises(InvalidDates) as caught:
        rules.check_after_hire(dt.date(2025, 3, 2), dt.date(2025, 3, 3), "P1")
    assert (caught.value.field, caught.value.message) == (
        "start",
        "start 2025-03-02 is before P1's hire date 2025-03-03; a move cannot start before its person's first day",
    )


def test_a_pre_hire_has_no_months_with_the_organisation_not_fewer_than_none() -> None:
    """A pre-hire (hired after today, as an import now takes them) was told "you have -2" months."""
    from micromoves.domain.marketplace import Candidate, Eligibility, ineligibility

    today = dt.date(2025, 6, 2)
    who = Candidate("P7", 2, dt.date(2025, 8, 4), "Berlin", {}, 100)
    assert ineligibility(Eligibility(None, 12, (), {}), 10, who, start=dt.date(2025, 8, 4), today=today) == [
        "needs 12 months with the organisation (you have 0)"
    ]
    assert ineligibility(Eligibility(None, 0, (), {}), 10, who, start=dt.date(2025, 8, 4), today=today) == []


def test_move_must_be_short() -> None:
    """Both dates are days of the move: 26 weeks from a Monday end on the Sunday of week 26 (182 days); the
    Monday after is a day too many (it was let through: 26 weeks and a day)."""
    start = D(2027, 1, 4)  # a Monday
    rules.check_short(start, D(2027, 7, 4))
    with pytest.raises(MoveTooLong, match="at most 26 weeks"):
        rules.check_short(start, D(2027, 7, 5))
    rules.check_short(start, start + dt.timedelta(weeks=30, days=-1), max_weeks=30)
    with pytest.raises(MoveTooLong):
        rules.check_short(start, start + dt.timedelta(weeks=30), max_weeks=30)


@pytest.mark.parametrize("pct", [0, -5, 101])
def test_percent_bounds(pct: int) -> None:
    with pytest.raises(InvalidValue):
        rules.check_percent(pct)


def test_capacity_counts_concurrent_moves_only() -> None:
    a = iv("A", D(2026, 1, 1), D(2026, 3, 31), 60)
    b = iv("B", D(2026, 4, 1), D(2026, 6, 30), 60)  # starts the day after A ends: no overlap
    rules.check_fits(b, [a], 100)
    c = iv("C", D(2026, 3, 31), D(2026, 5, 1), 50)  # shares one day with A
    with pytest.raises(CapacityExceeded, match="110% of time from 2026-03-31"):
        rules.check_fits(c, [a], 100)


def test_capacity_is_per_person_setting() -> None:
    a = iv("A", D(2026, 1, 1), D(2026, 3, 31), 50)
    b = iv("B", D(2026, 2, 1), D(2026, 2, 28), 30)
    rules.check_fits(b, [a], 80)
    with pytest.raises(CapacityExceeded):
        rules.check_fits(b, [a], 70)


def test_full_time_moves_never_overlap_even_with_spare_capacity() -> None:
    a = iv("A", D(2026, 1, 1), D(2026, 3, 31), 100)
    b = iv("B", D(2026, 3, 1), D(2026, 4, 30), 100)
    with pytest.raises(FullTimeOverlap, match="overlaps full-time move A"):
        rules.check_fits(b, [a], 200)


def test_a_fit_error_names_only_the_moves_the_reader_may_see() -> None:
    """The error is shown to approvers who may not see the person's other moves: those are told by share and
    dates, without their id."""
    a = iv("A", D(2026, 1, 1), D(2026, 3, 31), 60)
    b = iv("B", D(2026, 2, 1), D(2026, 2, 28), 30)
    c = iv("C", D(2026, 2, 10), D(2026, 2, 20), 20)
    with pytest.raises(CapacityExceeded) as caught:
        rules.check_fits(c, [a, b], 100, named=lambda move_id: move_id == "B")
    assert caught.value.message == (
        "move C (20%) together with another move of theirs (60%, 2026-01-01 to 2026-03-31), B would use 110% "
        "of time from 2026-02-10; capacity for moves is 100%"
    )
    full = iv("F", D(2026, 3, 1), D(2026, 4, 30), 100)
    with pytest.raises(FullTimeOverlap) as overlap:
        rules.check_fits(full, [iv("G", D(2026, 1, 1), D(2026, 3, 31), 100)], 200, named=lambda _: False)
    assert overlap.value.message == (
        "move F is full-time and overlaps another full-time move of theirs (100%, 2026-01-01 to 2026-03-31)"
    )


def test_overloads_reports_each_stretch_once() -> None:
    moves = [
        iv("A", D(2026, 1, 1), D(2026, 1, 31), 70),
        iv("B", D(2026, 1, 10), D(2026, 1, 20), 40),
        iv("C", D(2026, 1, 15), D(2026, 2, 10), 40),
    ]
    found = rules.overloads(moves, 100)
    assert [(o.on, o.total_percent, o.move_ids) for o in found] == [(D(2026, 1, 10), 110, ("A", "B"))]


@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(1, 30), st.integers(1, 100)), max_size=8),
    st.integers(50, 150),
)
def test_overloads_agree_with_day_by_day_count(spec: list[tuple[int, int, int]], capacity: int) -> None:
    base = D(2026, 1, 1)
    moves = [iv(f"M{i}", base + dt.timedelta(s), base + dt.timedelta(s + d), p) for i, (s, d, p) in enumerate(spec)]
    over_days = set()
    for day in range(0, 100):
        on = base + dt.timedelta(day)
        if sum(m.percent for m in moves if m.start <= on <= m.end) > capacity:
            over_days.add(on)
    found = rules.overloads(moves, capacity)
    # Each reported day is overloaded and starts a stretch; every overloaded day has a report at or before it.
    for o in found:
        assert o.on in over_days
        assert o.on - dt.timedelta(1) not in over_days
    assert {o.on for o in found} == {d for d in over_days if d - dt.timedelta(1) not in over_days}


def test_manager_cycle_detected() -> None:
    assert rules.find_manager_cycle({"a": "b", "b": None, "c": "a"}) is None
    cycle = rules.find_manager_cycle({"a": "b", "b": "c", "c": "a", "d": "a"})
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    with pytest.raises(ManagerCycle, match="manager cycle"):
        rules.check_no_manager_cycle({"x": "x"})


def test_skill_fit_words_name_the_largest_shortfalls_first() -> None:
    from micromoves.domain.marketplace import skill_fit_words

    words = skill_fit_words(
        {"prog": 4.0, "math": 3.0},
        {"comm": 2.0, "lead": 5.0, "write": 1.0},
        {"prog": 3.5, "math": 3.0, "comm": 0.5, "write": 1.0},
        {"prog": "Programming", "lead": "Leadership"},
    )
    # Met: math (required), write (preferred). Short: lead by 5, comm by 1.5, prog by 0.5 (in that order).
    assert words == (
        "you meet 1 of 2 required and 1 of 3 preferred skill levels; "
        "short on Leadership (0 of 5), comm (0.5 of 2), Programming (3.5 of 4)"
    )
    more = skill_fit_words({f"s{i}": 2.0 for i in range(5)}, {}, {})
    assert more == "you meet 0 of 5 required skill levels; short on s0 (0 of 2), s1 (0 of 2), s2 (0 of 2) and 2 more"
    assert skill_fit_words({}, {}, {"prog": 1.0}) == "it asks for no particular skills"
    assert skill_fit_words({}, {"prog": 2.0}, {"prog": 2.0}) == "you meet 1 of 1 preferred skill levels"
    # A level reached by sums of decimals (0.7 + 0.6) meets 1.3, as the eligibility rules see it.
    assert skill_fit_words({"prog": 1.3}, {}, {"prog": 0.7 + 0.6}) == "you meet 1 of 1 required skill levels"


def test_a_bad_success_criterion_is_named_by_its_number_on_the_move() -> None:
    """As a review numbers them (1 the first): the API said "success_criteria.1: String should have at least 1
    character" for the second, counting from 0."""
    assert rules.check_criteria([" Dashboard live ", "Two teams onboarded"]) == [
        "Dashboard live",
        "Two teams onboarded",
    ]
    for blank in ("", "   ", "\t\n"):
        with pytest.raises(InvalidValue, match=r"^success criterion 2: text is empty$") as caught:
            rules.check_criteria(["Dashboard live", blank])
        assert caught.value.field == "success_criteria"
    # after the criteria a move already has (two): the third
    with pytest.raises(InvalidValue, match=r"^success criterion 3: text is empty$"):
        rules.check_criteria([""], already=2)
    with pytest.raises(InvalidValue, match=r"^success criterion 1: cannot contain ';'"):
        rules.check_criteria(["a; b"])
    with pytest.raises(InvalidValue, match=rf"^success criterion 2: at most {rules.MAX_CRITERION_CHARS} characters"):
        rules.check_criteria(["ok", "x" * (rules.MAX_CRITERION_CHARS + 1)])
