"""An independent validator: recomputes a plan's constraints and figures from the moves and start weeks.

It shares no code with the solvers (only the input/output dataclasses): levels, windows, capacity,
prerequisites, the depth rule, readiness and the reported figures are all recomputed here from the
definitions in the package docstring. It checks validity, not optimality.
"""

from __future__ import annotations

from micromoves.planning.model import MoveOption, PlannedMove, PlanProblem, PlanResult


def check_plan(problem: PlanProblem, result: PlanResult) -> list[str]:
    """Every violated constraint or wrong figure in ``result`` and its alternatives (empty = valid)."""
    errors = _check_one(problem, result, "plan")
    previous: list[PlanResult] = [result]
    for n, alt in enumerate(result.alternatives, start=1):
        where = f"alternative {n}"
        errors += _check_one(problem, alt, where)
        if alt.status != result.status:
            errors.append(f"{where}: status {alt.status} differs from the best plan's {result.status}")
        if alt.objective < previous[-1].objective:
            errors.append(f"{where}: objective {alt.objective} is better than the plan before it")
        for m, earlier in enumerate(previous):
            if earlier.option_ids <= alt.option_ids:
                errors.append(f"{where}: contains every move of plan {m} (not a distinct alternative)")
        previous.append(alt)
    return errors


def _level(problem: PlanProblem, skill: str, options: list[MoveOption]) -> int:
    """Initial level with the gains of ``options`` applied in ascending cap order."""
    value = problem.levels.get(skill, 0)
    gains = sorted((min(o.gain_cap, 700), o.gains.get(skill, 0)) for o in options)
    for cap, delta in gains:
        if delta > 0 and value < cap:
            value = min(value + delta, cap)
    return value


def _targets(problem: PlanProblem) -> dict[str, int]:
    return {s: max(0, r - problem.tolerance) for s, r in problem.requirements.items() if r > 0}


def _check_one(problem: PlanProblem, result: PlanResult, where: str) -> list[str]:
    errors: list[str] = []
    h = problem.horizon
    by_id = {o.id: o for o in problem.options}
    moves = list(result.moves)
    seen: set[str] = set()
    pairs: list[tuple[MoveOption, PlannedMove]] = []
    for move in moves:
        option = by_id.get(move.option_id)
        if option is None:
            errors.append(f"{where}: unknown option {move.option_id!r}")
            continue
        if move.option_id in seen:
            errors.append(f"{where}: option {move.option_id!r} used twice")
        seen.add(move.option_id)
        pairs.append((option, move))
        tag = f"{where}: {option.id!r}"
        if option.seats < 1:
            errors.append(f"{tag} has no seat")
        if move.kind != option.kind or move.share != option.share:
            errors.append(f"{tag} kind/share differ from the option")
        if move.end - move.start != option.duration:
            errors.append(f"{tag} lasts {move.end - move.start} weeks, the option {option.duration}")
        if option.duration > problem.max_move_weeks:
            errors.append(f"{tag} is longer than max_move_weeks")
        latest = h - option.duration if option.latest_start is None else option.latest_start
        if move.start < option.earliest_start or move.start > latest:
            errors.append(f"{tag} starts in week {move.start}, outside its window {option.earliest_start}..{latest}")
        if move.start < 0 or move.end > h:
            errors.append(f"{tag} runs outside the horizon (weeks {move.start}..{move.end}, horizon {h})")
    for week in range(h):
        running = [(o, m) for o, m in pairs if m.start <= week < m.end]
        load = sum(o.share for o, _ in running)
        if load > problem.capacity[week]:
            errors.append(f"{where}: week {week} uses {load}% of {problem.capacity[week]}% capacity")
        if len(running) + problem.lanes_busy[week] > problem.max_concurrent:
            errors.append(
                f"{where}: week {week} runs {len(running)} moves next to {problem.lanes_busy[week]} under way, "
                f"more than {problem.max_concurrent}"
            )

    def ended_by(week: int, exclude: str | None = None) -> list[MoveOption]:
        return [o for o, m in pairs if m.end <= week and o.id != exclude]

    depth_steps = set()
    for option, move in pairs:
        tag = f"{where}: {option.id!r}"
        before = ended_by(move.start, option.id)
        for kind in sorted(option.requires_kinds):
            if not any(o.kind == kind for o in before):
                errors.append(f"{tag} starts in week {move.start} before any {kind} has ended")
        for skill, need in sorted(option.min_levels.items()):
            have = _level(problem, skill, before)
            if have < need:
                errors.append(f"{tag} needs {skill} ≥ {need} at week {move.start}, has {have}")
        # a core skill it raises, held at the depth level when it starts, below the move's cap (so it can raise it)
        deep = any(
            problem.requirements.get(s, 0) > 0
            and delta > 0
            and problem.depth_level <= _level(problem, s, before) < min(option.gain_cap, 700)
            for s, delta in option.gains.items()
        )
        if deep:
            depth_steps.add(option.id)
        if move.depth_step != deep:
            errors.append(f"{tag} depth_step is {move.depth_step}, recomputed {deep}")
    if problem.depth_rule and pairs and not depth_steps:
        errors.append(f"{where}: no depth step (a move raising a core skill already at the depth level)")

    # gains_applied: order of (end, option id)
    done: list[MoveOption] = []
    for option, move in sorted(pairs, key=lambda p: (p[1].end, p[0].id)):
        expected = {
            s: (_level(problem, s, done), _level(problem, s, [*done, option]))
            for s, delta in option.gains.items()
            if delta > 0
        }
        if dict(move.gains_applied) != expected:
            errors.append(f"{where}: {option.id!r} gains_applied {dict(move.gains_applied)} != {expected}")
        done.append(option)

    targets = _targets(problem)
    effort = sum(o.duration * o.share for o, _ in pairs)
    if result.effort != effort:
        errors.append(f"{where}: effort {result.effort} != recomputed {effort}")
    initially_ready = all(problem.levels.get(s, 0) >= t for s, t in targets.items())
    if result.status == "already_ready":
        if pairs or result.ready_week != 0:
            errors.append(f"{where}: already ready but has moves or ready week {result.ready_week}")
        if not initially_ready:
            errors.append(f"{where}: status already_ready but the initial levels miss a target")
        week = 0
    elif result.status == "ready":
        if initially_ready:
            errors.append(f"{where}: status ready although the person is already ready")
        last = max((m.end for _, m in pairs), default=0)
        if not pairs or result.ready_week != last:
            errors.append(f"{where}: ready week {result.ready_week} is not when the last move ends ({last})")
        week = last
    elif result.status == "unreachable":
        if result.ready_week is not None:
            errors.append(f"{where}: unreachable plan with a ready week")
        week = h
    else:
        errors.append(f"{where}: unknown status {result.status!r}")
        return errors
    if result.ready_plan_may_exist and (result.status != "unreachable" or result.optimal):
        errors.append(f"{where}: only an unreachable plan that is not proven optimal may say a ready plan may exist")
    levels = {s: _level(problem, s, ended_by(week)) for s in targets}
    ready = all(levels[s] >= t for s, t in targets.items())
    if result.status in ("ready", "already_ready") and not ready:
        missing = {s: (levels[s], t) for s, t in targets.items() if levels[s] < t}
        errors.append(f"{where}: not ready at week {week}: {missing}")
    if result.status == "unreachable" and ready:
        errors.append(f"{where}: reported unreachable but the plan is ready at the horizon")
    gap = sum(problem.weights.get(s, 1) * max(0, t - levels[s]) for s, t in targets.items())
    if result.gap != gap:
        errors.append(f"{where}: gap {result.gap} != recomputed {gap}")
    if dict(result.final_levels) != levels:
        errors.append(f"{where}: final levels {dict(result.final_levels)} != recomputed {levels}")
    return errors
