"""Plain-English explanations of a plan: what each step closes, why it starts when it does, the balance.

Pure: recomputes what it needs from the problem and the plan (levels, capacity) and formats strings.

A plan is explained to the person it is for ("you already hold Programming at 3.0"), and stored so. Their
manager, HR or an operator reads the same plan: :func:`readdress` turns those lines to a :class:`Subject`
the reader knows, "Ada Lovelace already holds Programming at 3.0" (it read "you" to a manager).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from micromoves.planning._core import core_skills, deepens, fmt_level, level_after, window
from micromoves.planning.model import RELAXATIONS, MoveOption, PlannedMove, PlanProblem, PlanResult

_RELAXATION_TEXT = {
    "horizon": "a horizon twice as long",
    "capacity": "full capacity every week (no leave, no other commitments)",
    "prerequisites": "dropping the prerequisites",
    "depth_rule": "dropping the depth rule (no depth step needed)",
    "max_concurrent": "no limit on concurrent moves",
}
assert set(_RELAXATION_TEXT) == set(RELAXATIONS)


@dataclass(frozen=True)
class Subject:
    """Whom an explanation speaks of, as its reader knows them: ``you`` when the reader is the person (the
    form a stored plan keeps), else the person's name, or ``they`` when there is none to give. Who the reader
    is, is said apart from the name: a person named "You" or "they" is still spoken of by name."""

    name: str
    is_reader: bool
    plural: bool  # the verb agrees with "you" and "they", not with a name

    @classmethod
    def named(cls, name: str) -> Subject:
        """Someone other than the reader, by name ("Ada Lovelace holds")."""
        return cls(name, is_reader=False, plural=False)

    def does(self, plural: str, singular: str) -> str:
        """The subject with its verb: "you hold", "they hold", "Ada Lovelace holds"."""
        return f"{self.name} {plural if self.plural else singular}"


YOU = Subject("you", is_reader=True, plural=True)
THEY = Subject("they", is_reader=False, plural=True)


def subject_for(reader_person_id: str | None, person_id: str, person_name: str | None) -> Subject:
    """How an explanation of ``person_id``'s plan speaks of them to a reader (an account's person, or None
    for one without a person: an admin, an operator): "you" to the person only."""
    if reader_person_id is not None and reader_person_id == person_id:
        return YOU
    name = person_name.strip() if person_name else ""
    return Subject.named(name) if name else THEY


def _depth_held(subject: Subject) -> str:
    return f"; it is a depth step: {subject.does('already hold', 'already holds')} "


def _under_way(subject: Subject) -> str:
    return f" {subject.does('are doing', 'is doing')} now counts once it ends on "


# Every phrase of a plan's explanation that speaks of the person, as its line writes it for a subject:
# readdress() turns one written for YOU into another subject's, so the two cannot drift apart.
_ADDRESSED: tuple[Callable[[Subject], str], ...] = (_depth_held, _under_way)


def under_way_note(title: str, kind: str, ends_on: str, subject: Subject = YOU) -> str:
    """A step that waits for a move of ``kind`` the person is doing now (the planning service notes it)."""
    what = kind.replace("_", " ")
    return f"'{title}' needs a {what} first: the {what}{_under_way(subject)}{ends_on}, so it starts after that."


def readdress(lines: Sequence[str], subject: Subject) -> list[str]:
    """Lines written for the person (``YOU``: as :func:`explain` and the planning service store them,
    plans stored before this included) as they read to ``subject``'s reader."""
    if subject.is_reader:
        return list(lines)
    out = []
    for line in lines:
        for phrase in _ADDRESSED:
            line = line.replace(phrase(YOU), phrase(subject))
        out.append(line)
    return out


def explain(problem: PlanProblem, result: PlanResult, subject: Subject = YOU) -> tuple[str, ...]:
    """Summary line, one line per move, then the breadth/depth balance; speaking of the person as
    ``subject`` ("you" by default: a plan is stored so, and :func:`readdress` turns it for another reader).

    The moves are explained in the order their gains count: by the week they end (then option id), the order
    in which ``gains_applied`` chains the levels, so each step's "before" level is the previous step's
    "after". (In start order, a move that starts first but ends later would show a level raised by a move
    explained after it.) When that order differs from the plan's start order the summary says so.

    A result marked ``ready_plan_may_exist`` is only the nearest plan found when time ran out (see
    :func:`micromoves.planning.solver.solve_nearest`): its summary says that a ready plan may exist."""
    order = gains_order(result.moves)
    summary = _summary(problem, result)
    if [m.option_id for m in order] != [m.option_id for m in result.moves]:
        summary += " The steps below are listed in the order they end, which is when their gains count."
    lines = [summary]
    by_id = {o.id: o for o in problem.options}
    for move in order:
        lines.append(_step(problem, result, move, by_id, subject))
    if result.moves:
        lines.append(_balance(problem, order, by_id))
    return tuple(lines)


def gains_order(moves: tuple[PlannedMove, ...]) -> list[PlannedMove]:
    """``moves`` in the order their gains apply, which ``gains_applied`` chains: (end week, option id)."""
    return sorted(moves, key=lambda m: (m.end, m.option_id))


def _name(problem: PlanProblem, skill: str) -> str:
    return problem.skill_name(skill)


def _summary(problem: PlanProblem, result: PlanResult) -> str:
    if result.status == "already_ready":
        return "Already ready for the role: every required skill is at its target level; no moves are needed."
    n = len(result.moves)
    moves = f"{n} move{'s' if n != 1 else ''}"
    effort = f"{result.effort} percent-weeks of effort (about {result.effort / 100:.1f} full-time weeks)"
    if result.status == "ready":
        return f"Ready for the role in week {result.ready_week} with {moves} and {effort}."
    if not result.ready_plan_may_exist:
        text = (
            f"The target cannot be reached within {problem.horizon} week{'s' if problem.horizon != 1 else ''}. "
            f"The {'closest plan' if result.optimal else 'nearest plan found'} uses {moves} and {effort} "
        )
    else:
        text = (
            "No ready plan was found within the time limit, although one may exist (it was not proven "
            f"impossible). The nearest plan found uses {moves} and {effort} "
        )
    text += f"and leaves a weighted gap of {result.gap} hundredths"
    short = [
        f"{_name(problem, s)} {fmt_level(v)} of {fmt_level(problem.target(s))}"
        for s, v in sorted(result.final_levels.items())
        if v < problem.target(s)
    ]
    if short:
        text += " (" + ", ".join(short) + ")"
    text += "."
    if result.ready_plan_may_exist:
        return text  # which relaxation would help is as unknown as whether one is needed
    if result.unreachable_skills:
        names = ", ".join(_name(problem, s) for s in result.unreachable_skills)
        text += f" No combination of the options on offer can raise {names} to the required level."
    elif result.binding:
        text += " It would become reachable with " + " or ".join(_RELAXATION_TEXT[b] for b in result.binding) + "."
    else:
        text += " No single relaxation (longer horizon, more capacity, no prerequisites, no depth rule, more "
        text += "concurrent moves) would be enough on its own."
    return text


def _step(
    problem: PlanProblem, result: PlanResult, move: PlannedMove, by_id: dict[str, MoveOption], subject: Subject
) -> str:
    option = by_id[move.option_id]
    kind = move.kind.replace("_", " ")
    head = f"Week {move.start}–{move.end}: {kind} '{option.label()}' ({move.share}% time)"
    parts = []
    raised = {skill for skill, (before, after) in move.gains_applied.items() if after > before}
    for skill, (before, after) in move.gains_applied.items():
        if after <= before:
            continue
        target = problem.target(skill) if problem.requirements.get(skill, 0) > 0 else 0
        text = f"{_name(problem, skill)} {fmt_level(before)} → {fmt_level(after)}"
        if target > before:
            closed = min(after, target) - before
            text += f", closing {_percent_of_gap(closed, target - before)}% of that gap"
            required = problem.requirements[skill]
            if after >= target and after < required:
                # "100%" of a gap the role's own figure says is still open: say it is met within the tolerance.
                text += f" (within the tolerance of the {fmt_level(required)} required)"
        elif target:
            required = problem.requirements[skill]
            if before < required:  # ready within the tolerance, not at the role's own figure
                text += f" (already within the tolerance of the {fmt_level(required)} required: deepens it)"
            else:
                text += " (already at the required level: deepens it)"
        elif problem.requirements.get(skill, 0) <= 0:
            text += " (not required by the role)"
        parts.append(text)
    line = head + (" raises " + "; ".join(parts) if parts else " adds no level on its own")
    if move.depth_step:
        # the skill it deepens: held at the depth level when it starts, below the move's cap; one this line
        # shows it raising first (another move ending in between may already have taken a skill further)
        ended = [by_id[m.option_id] for m in result.moves if m.end <= move.start]
        held = [(s, level_after(problem, s, ended)) for s in sorted(option.gains)]
        held = [(s, v) for s, v in held if deepens(problem, option, s, v)]
        held.sort(key=lambda sv: sv[0] not in raised)
        if held:
            s, v = held[0]
            line += f"{_depth_held(subject)}{_name(problem, s)} at {fmt_level(v)} when it starts"
    return line + ". " + _why_start(problem, result, move, option, by_id) + "."


def _percent_of_gap(closed: int, gap: int) -> int:
    """``closed`` of ``gap`` in whole percent: 100 only when it is closed, 0 only when none of it is (rounded,
    a step taking 3.98 of 4.0 said it closed 100% of the gap, and the step closing the rest said so too)."""
    if closed >= gap:
        return 100
    return min(99, max(1, round(100 * closed / gap)))


def _why_start(
    problem: PlanProblem, result: PlanResult, move: PlannedMove, option: MoveOption, by_id: dict[str, MoveOption]
) -> str:
    s = move.start
    if s == 0:
        return "It starts straight away"
    others = [m for m in result.moves if m.option_id != move.option_id]
    reasons = []
    for kind in sorted(option.requires_kinds):
        # Met by the first move of the kind to end: a later one ending in week s is not why it waits.
        ends = [m for m in others if m.kind == kind and m.end <= s]
        if ends and min(m.end for m in ends) == s:
            m = min(ends, key=lambda m: (m.end, m.option_id))
            reasons.append(
                f"it needs a completed {kind.replace('_', ' ')} first: '{by_id[m.option_id].label()}' ends in week {s}"
            )
    plan_opts = [(by_id[m.option_id], m) for m in others]
    for skill, need in sorted(option.min_levels.items()):
        now = level_after(problem, skill, [o for o, m in plan_opts if m.end <= s])
        before = level_after(problem, skill, [o for o, m in plan_opts if m.end <= s - 1])
        if before < need <= now:
            reasons.append(f"it needs {_name(problem, skill)} at {fmt_level(need)}, reached in week {s}")
    # Waiting for the depth level binds only when the plan needs this move to be its depth step: with another
    # depth step in the plan, it could start earlier as a plain move.
    if move.depth_step and problem.depth_rule and not any(m.depth_step for m in others):
        for skill in sorted(option.gains):
            now = level_after(problem, skill, [o for o, m in plan_opts if m.end <= s])
            before = level_after(problem, skill, [o for o, m in plan_opts if m.end <= s - 1])
            if before < problem.depth_level and deepens(problem, option, skill, now):
                reasons.append(f"it waits until {_name(problem, skill)} reaches the depth level, in week {s}")
    win = window(problem, option)
    if win is not None and s == win[0]:
        reasons.append(f"its window opens in week {s}")
    blocked = _blocked_week(problem, move, option, others)
    if blocked:
        reasons.append(blocked)
    if not reasons:
        return f"It could start earlier than week {s} without changing the ready week"
    return "It starts in week " + str(s) + " because " + "; and ".join(reasons)


def _blocked_week(problem: PlanProblem, move: PlannedMove, option: MoveOption, others: list[PlannedMove]) -> str:
    """Why starting one week earlier would not fit: capacity or concurrency in some week."""
    s = move.start - 1
    for w in range(s, s + option.duration):
        running = [m for m in others if m.start <= w < m.end]
        load = sum(m.share for m in running)
        cap = problem.capacity[w]
        if cap == 0:
            return f"week {w} is unavailable (no capacity)"
        if load + option.share > cap:
            if running:
                names = ", ".join(f"'{m.title or m.option_id}' ({m.share}%)" for m in running)
                return f"in week {w} only {cap - load}% of the {cap}% available is free next to {names}"
            return f"only {cap}% of week {w} is available"
        if len(running) + problem.lanes_busy[w] >= problem.max_concurrent:
            # lanes_busy counts moves approved as well as running: "under way" read as if they had started
            busy = problem.lanes_busy[w]
            under_way = f", {busy} of them already approved or under way" if busy else ""
            total = len(running) + problem.lanes_busy[w]
            moves = "move" if total == 1 else "moves"
            return f"week {w} already has {total} concurrent {moves} (the most allowed{under_way})"
    return ""


def _balance(problem: PlanProblem, moves: list[PlannedMove], by_id: dict[str, MoveOption]) -> str:
    depth = [m for m in moves if m.depth_step]
    core = set(core_skills(problem))
    broadened: list[str] = []
    for move in moves:
        for skill, (before, after) in move.gains_applied.items():
            if skill in core and after > before and before < problem.depth_level and skill not in broadened:
                broadened.append(skill)
    depth_text = (
        f"{len(depth)} depth step{'s' if len(depth) != 1 else ''} ("
        + ", ".join(f"'{by_id[m.option_id].label()}'" for m in depth)
        + ")"
        if depth
        else "no depth step"
    )
    broad_text = (
        f"{len(broadened)} skill{'s' if len(broadened) != 1 else ''} broadened from below "
        f"{fmt_level(problem.depth_level)} (" + ", ".join(_name(problem, s) for s in broadened) + ")"
        if broadened
        else "no skill broadened from below " + fmt_level(problem.depth_level)
    )
    return f"Balance: {depth_text}; {broad_text}."
