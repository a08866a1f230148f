"""Hypothesis strategies: small random planning instances exercising every rule."""

from __future__ import annotations

from hypothesis import strategies as st

from micromoves.planning import MoveOption, PlanProblem

KINDS = ["course", "gig", "rotation", "stretch_assignment"]


@st.composite
def problems(draw: st.DrawFn, max_options: int = 6, max_horizon: int = 14, max_skills: int = 4) -> PlanProblem:
    horizon = draw(st.integers(4, max_horizon))
    skills = [f"s{i}" for i in range(draw(st.integers(1, max_skills)))]
    kinds = KINDS[: draw(st.integers(1, len(KINDS)))]
    requirements = {s: draw(st.sampled_from([0, 200, 300, 350, 400, 450])) for s in skills}
    gaps = {s: draw(st.sampled_from([-50, 0, 50, 100, 100, 150, 250])) for s in skills}
    if draw(st.integers(0, 9)) > 0 and all(g <= 0 or requirements[s] == 0 for s, g in gaps.items()):
        requirements[skills[0]], gaps[skills[0]] = 300, 100  # mostly a real gap to close
    levels = {s: max(0, r - gaps[s]) for s, r in requirements.items()}
    options = []
    for i in range(draw(st.integers(0 if max_options < 3 else 1, max_options))):
        kind = draw(st.sampled_from(kinds))
        gained = draw(st.lists(st.sampled_from(skills), min_size=1, max_size=len(skills), unique=True))
        gains = {s: draw(st.sampled_from([50, 100, 150, 200])) for s in gained}
        # kinds only require kinds earlier in the list: no prerequisite cycles
        earlier = kinds[: kinds.index(kind)]
        requires = frozenset(k for k in earlier if draw(st.integers(0, 9)) < 2)
        min_levels = (
            {draw(st.sampled_from(skills)): draw(st.sampled_from([150, 250, 350]))}
            if draw(st.integers(0, 9)) < 2
            else {}
        )
        duration = draw(st.integers(1, min(6, horizon)))
        earliest = draw(st.sampled_from([0, 0, 0, 1, 3]))
        latest = draw(st.sampled_from([None, None, None, earliest, earliest + 2, earliest + 5]))
        options.append(
            MoveOption(
                id=f"o{i}",
                kind=kind,
                duration=duration,
                share=draw(st.sampled_from([10, 20, 40, 50, 60, 100])),
                gains=gains,
                gain_cap=draw(st.sampled_from([700, 700, 700, 250, 350, 450])),
                min_levels=min_levels,
                requires_kinds=requires,
                earliest_start=earliest,
                latest_start=latest,
                seats=draw(st.sampled_from([1, 1, 1, 1, 2, 0])),
            )
        )
    capacity = draw(
        st.lists(st.sampled_from([100, 100, 100, 100, 100, 60, 50, 30, 0]), min_size=horizon, max_size=horizon)
    )
    max_concurrent = draw(st.sampled_from([1, 2, 2, 3]))
    # Mostly none; sometimes moves already under way hold a lane or two in some weeks.
    busy = (
        draw(st.lists(st.sampled_from([0, 0, 0, 1, 1, 2]), min_size=horizon, max_size=horizon))
        if draw(st.integers(0, 9)) < 3
        else []
    )
    return PlanProblem(
        levels=levels,
        requirements=requirements,
        options=options,
        horizon=horizon,
        capacity=capacity,
        weights={s: draw(st.integers(1, 3)) for s in skills},
        tolerance=draw(st.sampled_from([0, 0, 0, 50])),
        max_concurrent=max_concurrent,
        max_move_weeks=26,
        depth_level=draw(st.sampled_from([0, 200, 300, 300])),
        depth_rule=draw(st.booleans()) or draw(st.booleans()),
        lanes_busy=[min(b, max_concurrent) for b in busy],
    )


@st.composite
def depth_to_earn(draw: st.DrawFn, max_options: int = 6, max_horizon: int = 10, max_skills: int = 2) -> PlanProblem:
    """Instances whose depth step must be earned: core skills below the depth level (3.0) today; options that
    bring a skill to about 3.0 (cap 3.0 or 3.5), possible depth steps (a small gain, cap 3.5 to 5.0), and
    options that take it far beyond (cap 7.0), in tight start windows. A move is a depth step only if the
    moves ending before it starts bring its skill to 3.0 but not to its cap, so a plan may need a move
    started later than it fits, to end after the depth step starts."""
    horizon = draw(st.integers(4, max_horizon))
    skills = [f"s{i}" for i in range(draw(st.integers(1, max_skills)))]
    levels = {s: draw(st.sampled_from([200, 200, 200, 100, 250, 350])) for s in skills}
    requirements = {s: draw(st.sampled_from([0, 500, 600, 700])) for s in skills}
    if not any(requirements.values()):
        requirements[skills[0]] = 600
    roles = [(100, 300), (150, 350), (50, 350), (100, 400), (50, 500), (300, 700), (500, 700), (50, 300)]
    options = []
    for i in range(draw(st.integers(3, max_options))):
        gained = draw(st.lists(st.sampled_from(skills), min_size=1, max_size=len(skills), unique=True))
        gain, cap = draw(st.sampled_from(roles))
        duration = draw(st.integers(1, min(3, horizon)))
        earliest = draw(st.sampled_from([0, 0, 0, 1, 2]))
        latest = draw(st.sampled_from([None, None, earliest, earliest + 1]))
        options.append(
            MoveOption(
                id=f"o{i}",
                kind=draw(st.sampled_from(KINDS[:2])),
                duration=duration,
                share=draw(st.sampled_from([30, 30, 50, 70, 100])),
                gains={s: gain for s in gained},
                gain_cap=cap,
                min_levels={skills[0]: 250} if draw(st.integers(0, 9)) == 0 else {},
                earliest_start=earliest,
                latest_start=latest if latest is None or latest + duration <= horizon else None,
            )
        )
    return PlanProblem(
        levels=levels,
        requirements=requirements,
        options=options,
        horizon=horizon,
        capacity=draw(st.lists(st.sampled_from([100, 100, 100, 70, 50]), min_size=horizon, max_size=horizon)),
        tolerance=draw(st.sampled_from([0, 0, 50])),
        max_concurrent=draw(st.sampled_from([1, 2, 2, 3])),
        depth_level=300,
    )


@st.composite
def problems_with_near_copies(
    draw: st.DrawFn, max_options: int = 6, max_horizon: int = 14, base: st.SearchStrategy[PlanProblem] | None = None
) -> PlanProblem:
    """Instances whose catalogue also holds weaker or equal copies of some options (longer, larger share,
    smaller gains, narrower window, same or unrequired kind): what the exact solver's reduction removes.
    ``base`` draws the instance (default: :func:`problems`)."""
    import dataclasses

    problem = draw(base if base is not None else problems(max_options=max_options, max_horizon=max_horizon))
    options = list(problem.options)
    required = {k for o in options for k in o.requires_kinds}
    free_kinds = [k for k in KINDS if k not in required]
    for n, option in enumerate(list(options)):
        for c in range(draw(st.integers(0, 2))):
            duration = min(option.duration + draw(st.sampled_from([0, 0, 1])), problem.horizon)
            # another kind only if no option requires it (so no prerequisite cycle can appear)
            kind = option.kind if draw(st.integers(0, 3)) or not free_kinds else draw(st.sampled_from(free_kinds))
            later = draw(st.sampled_from([0, 0, 1]))
            if option.latest_start is not None and option.latest_start < option.earliest_start + later:
                later = 0
            gains = {s: max(0, g - draw(st.sampled_from([0, 0, 50]))) for s, g in option.gains.items()}
            if not any(gains.values()):
                gains = dict(option.gains)
            options.append(
                dataclasses.replace(
                    option,
                    id=f"c{n}_{c}",
                    kind=kind,
                    duration=duration,
                    share=min(100, option.share + draw(st.sampled_from([0, 0, 10]))),
                    gains=gains,
                    earliest_start=option.earliest_start + later,
                    latest_start=option.latest_start,
                )
            )
    return dataclasses.replace(problem, options=options)
