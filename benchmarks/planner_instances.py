"""Seeded random, realistic planning instances for the planner benchmark.

The person targets a next role: 15 of O*NET's 35 skills are required at 3.00–5.50; the person meets all but
1–5 of them (uniformly), by up to 0.80 levels, and falls short on those by 0.30–1.50 levels (someone who would
be considered for the role); the other 20 skills are at 1.00–4.50. The catalogue mixes courses, shadowing,
mentoring, gigs, stretch assignments, rotations and acting roles with kind-typical durations (4–26 weeks) and
shares (10–100%), 1–4 gains of 0.30–1.50 each (60% on the role's skills: a catalogue filtered to the job
family), capped courses, some level and kind prerequisites, some availability windows and some options without
a free seat. The capacity profile starts from 100% and subtracts an already active move in the first weeks, a
phased return for some, and leave (a few blocks of 1–3 weeks at 0%). Horizon 104 weeks, at most 2 concurrent
moves, depth level 3.00.
"""

from __future__ import annotations

import random

from micromoves.planning import MoveOption, PlanProblem

ONET_SKILLS = [
    "Active Learning",
    "Active Listening",
    "Complex Problem Solving",
    "Coordination",
    "Critical Thinking",
    "Equipment Maintenance",
    "Equipment Selection",
    "Installation",
    "Instructing",
    "Judgment and Decision Making",
    "Learning Strategies",
    "Management of Financial Resources",
    "Management of Material Resources",
    "Management of Personnel Resources",
    "Mathematics",
    "Monitoring",
    "Negotiation",
    "Operation and Control",
    "Operations Analysis",
    "Operations Monitoring",
    "Persuasion",
    "Programming",
    "Quality Control Analysis",
    "Reading Comprehension",
    "Repairing",
    "Science",
    "Service Orientation",
    "Social Perceptiveness",
    "Speaking",
    "Systems Analysis",
    "Systems Evaluation",
    "Technology Design",
    "Time Management",
    "Troubleshooting",
    "Writing",
]
SKILL_IDS = [f"2.{i:02d}" for i in range(len(ONET_SKILLS))]

# kind: (share range, duration range, number of gains, gain range, cap range or None)
KINDS: dict[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int] | None]] = {
    "course": ((10, 20), (4, 8), (1, 2), (30, 100), (380, 520)),
    "shadowing": ((10, 20), (4, 8), (1, 2), (30, 70), None),
    "mentoring": ((10, 10), (8, 26), (1, 2), (30, 80), None),
    "gig": ((10, 30), (4, 12), (1, 3), (40, 120), None),
    "stretch_assignment": ((20, 50), (12, 26), (2, 4), (60, 150), None),
    "rotation": ((100, 100), (12, 26), (2, 4), (80, 150), None),
    "acting_role": ((50, 100), (8, 26), (2, 3), (60, 150), None),
}
KIND_WEIGHTS = {
    "course": 3,
    "shadowing": 2,
    "mentoring": 2,
    "gig": 3,
    "stretch_assignment": 3,
    "rotation": 1,
    "acting_role": 1,
}


def make_instance(rng: random.Random, n_options: int, horizon: int = 104) -> PlanProblem:
    required = rng.sample(SKILL_IDS, 15)
    requirements = {s: rng.randint(300, 550) for s in required}
    gaps = set(rng.sample(required, rng.randint(1, 5)))
    levels: dict[str, int] = {}
    for s in SKILL_IDS:
        if s in gaps:
            levels[s] = max(0, requirements[s] - rng.randint(30, 150))
        elif s in requirements:
            levels[s] = min(700, requirements[s] + rng.randint(0, 80))
        else:
            levels[s] = rng.randint(100, 450)
    kinds = list(KIND_WEIGHTS)
    weights = [KIND_WEIGHTS[k] for k in kinds]
    options = []
    for i in range(n_options):
        kind = rng.choices(kinds, weights)[0]
        (s_lo, s_hi), (d_lo, d_hi), (g_lo, g_hi), (v_lo, v_hi), caps = KINDS[kind]
        skills: list[str] = []
        for _ in range(rng.randint(g_lo, g_hi)):
            pool = required if rng.random() < 0.6 else SKILL_IDS
            skill = rng.choice(pool)
            if skill not in skills:
                skills.append(skill)
        gains = {s: rng.randint(v_lo, v_hi) for s in skills}
        share = rng.randint(s_lo // 10, s_hi // 10) * 10
        duration = rng.randint(d_lo, d_hi)
        min_levels: dict[str, int] = {}
        requires: frozenset[str] = frozenset()
        if kind in ("acting_role", "rotation") and rng.random() < 0.4:
            min_levels[rng.choice(skills)] = rng.randint(250, 400)
        elif rng.random() < 0.08:
            min_levels[rng.choice(SKILL_IDS)] = rng.randint(200, 350)
        if kind == "acting_role" and rng.random() < 0.5:
            requires = frozenset({rng.choice(["shadowing", "mentoring"])})
        elif kind == "stretch_assignment" and rng.random() < 0.15:
            requires = frozenset({"course"})
        earliest, latest = 0, None
        if rng.random() < 0.25:
            earliest = rng.randint(0, 40)
            latest = earliest + rng.randint(4, 30)
        options.append(
            MoveOption(
                id=f"M{i:04d}",
                kind=kind,
                duration=duration,
                share=share,
                gains=gains,
                gain_cap=rng.randint(*caps) if caps else 700,
                min_levels=min_levels,
                requires_kinds=requires,
                earliest_start=earliest,
                latest_start=latest,
                seats=0 if rng.random() < 0.1 else rng.randint(1, 3),
                title=f"{kind.replace('_', ' ')} #{i}",
            )
        )
    capacity = [100] * horizon
    if rng.random() < 0.5:  # an already active move takes part of the first weeks
        taken = rng.choice([20, 30, 40, 50])
        for w in range(rng.randint(4, 16)):
            capacity[w] -= taken
    if rng.random() < 0.15:  # phased return
        for w in range(rng.randint(4, 12)):
            capacity[w] = min(capacity[w], 50)
    for _ in range(rng.randint(2, 4)):  # leave
        start = rng.randrange(horizon)
        for w in range(start, min(horizon, start + rng.randint(1, 3))):
            capacity[w] = 0
    return PlanProblem(
        levels=levels,
        requirements=requirements,
        options=options,
        horizon=horizon,
        capacity=capacity,
        weights={s: rng.randint(1, 3) for s in required},
        tolerance=rng.choice([0, 0, 25]),
        max_concurrent=2,
        max_move_weeks=26,
        depth_level=300,
        skill_names=dict(zip(SKILL_IDS, ONET_SKILLS, strict=True)),
    )


def instances(count: int, size: int, seed: int = 0) -> list[PlanProblem]:
    """``count`` instances with ``size`` options each, reproducible from ``seed``."""
    return [make_instance(random.Random(f"{seed}-{size}-{i}"), size) for i in range(count)]
