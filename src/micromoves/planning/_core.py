"""Semantics shared by the exact solver and the CP-SAT reference: levels, windows, relaxations, results.

Nothing here searches or optimises; the independent validator (:mod:`.validate`) re-implements all of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from micromoves.planning.model import (
    MAX_CAPACITY,
    MAX_LEVEL,
    MoveOption,
    PlannedMove,
    PlanProblem,
    PlanResult,
    Status,
)


def fold(level: int, ops: Iterable[tuple[int, int]]) -> int:
    """Apply gains ``(cap, delta)`` to ``level`` in ascending cap order: ``new = max(old, min(old+Δ, cap))``."""
    for cap, delta in sorted(ops):
        if level < cap:
            level = min(level + delta, cap)
    return level


def level_after(problem: PlanProblem, skill: str, options: Iterable[MoveOption]) -> int:
    """The level of ``skill`` once all ``options`` have ended (order-independent, see the package docs)."""
    ops = [(o.cap, o.gains[skill]) for o in options if o.gains.get(skill, 0) > 0]
    return fold(problem.level(skill), ops)


def window(problem: PlanProblem, option: MoveOption) -> tuple[int, int] | None:
    """The allowed start weeks ``[lo, hi]`` of a usable option (seats ≥ 1, fits in the horizon), else None."""
    if option.seats < 1:
        return None
    hi = problem.horizon - option.duration
    if option.latest_start is not None:
        hi = min(hi, option.latest_start)
    lo = option.earliest_start
    return (lo, hi) if lo <= hi else None


def core_skills(problem: PlanProblem) -> list[str]:
    """Skills the target role requires (requirement > 0), sorted."""
    return sorted(s for s, r in problem.requirements.items() if r > 0)


def depth_capable(problem: PlanProblem, option: MoveOption, skill: str) -> bool:
    """Can ``option`` ever be a depth step through ``skill``: a core skill it raises, with a cap above the depth
    level and above the person's level today. Necessary, not sufficient: see :func:`deepens`."""
    return (
        problem.requirements.get(skill, 0) > 0
        and option.gains.get(skill, 0) > 0
        and option.cap > max(problem.depth_level, problem.level(skill))
    )


def deepens(problem: PlanProblem, option: MoveOption, skill: str, level_at_start: int) -> bool:
    """Is ``option`` a depth step through ``skill`` when it starts with that skill at ``level_at_start``: a core
    skill it raises, held at or above the depth level then, and a cap above that level (a move that cannot
    raise the level it starts from deepens nothing, e.g. when an earlier move of the plan already took the
    skill to the move's cap)."""
    return depth_capable(problem, option, skill) and problem.depth_level <= level_at_start < option.cap


def weighted_gap(problem: PlanProblem, levels: Mapping[str, int]) -> int:
    return sum(problem.weight(s) * max(0, problem.target(s) - levels.get(s, 0)) for s in core_skills(problem))


def is_ready(problem: PlanProblem, levels: Mapping[str, int]) -> bool:
    return all(levels.get(s, 0) >= problem.target(s) for s in core_skills(problem))


def unreachable_skills(problem: PlanProblem) -> tuple[str, ...]:
    """Required skills below target even after every usable option (seats ≥ 1), ignoring time and rules."""
    usable = [o for o in problem.options if o.seats >= 1]
    return tuple(s for s in core_skills(problem) if level_after(problem, s, usable) < problem.target(s))


def relaxed(problem: PlanProblem, name: str) -> PlanProblem:
    """``problem`` with one constraint relaxed (see :data:`micromoves.planning.model.RELAXATIONS`)."""
    if name == "horizon":
        h = problem.horizon
        return dataclasses.replace(
            problem,
            horizon=2 * h,
            capacity=(*problem.capacity, *(max(problem.capacity),) * h),
            lanes_busy=(*problem.lanes_busy, *(0,) * h),
        )
    if name == "capacity":
        return dataclasses.replace(problem, capacity=(MAX_CAPACITY,) * problem.horizon)
    if name == "prerequisites":
        options = [dataclasses.replace(o, min_levels={}, requires_kinds=frozenset()) for o in problem.options]
        return dataclasses.replace(problem, options=options)
    if name == "depth_rule":
        return dataclasses.replace(problem, depth_rule=False)
    if name == "max_concurrent":
        return dataclasses.replace(
            problem, max_concurrent=max(1, len(problem.options) + max(problem.lanes_busy, default=0))
        )
    raise ValueError(f"unknown relaxation {name!r}")


def build_result(
    problem: PlanProblem,
    status: Status,
    starts: Mapping[str, int],
    *,
    optimal: bool = True,
) -> PlanResult:
    """A :class:`PlanResult` (without alternatives, binding or explanation) for the plan ``starts``."""
    by_id = {o.id: o for o in problem.options}
    chosen = sorted(((by_id[i], s) for i, s in starts.items()), key=lambda p: (p[1], p[0].id))
    by_end = sorted(chosen, key=lambda p: (p[1] + p[0].duration, p[0].id))
    applied: dict[str, dict[str, tuple[int, int]]] = {}
    done: list[MoveOption] = []
    for option, _start in by_end:
        gains: dict[str, tuple[int, int]] = {}
        for skill, delta in sorted(option.gains.items()):
            if delta > 0:
                gains[skill] = (level_after(problem, skill, done), level_after(problem, skill, [*done, option]))
        applied[option.id] = gains
        done.append(option)
    moves = []
    for option, start in chosen:
        ended = [o for o, s in chosen if s + o.duration <= start]
        deep = any(deepens(problem, option, s, level_after(problem, s, ended)) for s in option.gains)
        moves.append(
            PlannedMove(
                option_id=option.id,
                kind=option.kind,
                start=start,
                end=start + option.duration,
                share=option.share,
                gains_applied=applied[option.id],
                depth_step=deep,
                title=option.title,
            )
        )
    options = [o for o, _ in chosen]
    final = {s: level_after(problem, s, options) for s in core_skills(problem)}
    ready_week = None if status == "unreachable" else max((m.end for m in moves), default=0)
    return PlanResult(
        status=status,
        ready_week=ready_week,
        effort=sum(o.effort for o in options),
        moves=tuple(moves),
        gap=weighted_gap(problem, final),
        final_levels=final,
        optimal=optimal,
    )


def fmt_level(value: int) -> str:
    """Hundredths as an O*NET level: 310 → '3.1', 305 → '3.05', 400 → '4.0'."""
    text = f"{value / 100:.2f}"
    return text[:-1] if text.endswith("0") else text


__all__ = [
    "MAX_LEVEL",
    "build_result",
    "core_skills",
    "deepens",
    "depth_capable",
    "fmt_level",
    "fold",
    "is_ready",
    "level_after",
    "relaxed",
    "unreachable_skills",
    "weighted_gap",
    "window",
]
