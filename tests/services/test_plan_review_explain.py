"""Review of plan explanations against the plans they explain."""

from __future__ import annotations

from micromoves.planning import MoveOption, PlanProblem, PlanResult, solve


def _step_line(result: PlanResult, title: str) -> str:
    return next(line for line in result.explanation if f"'{title}'" in line and line.startswith("Week"))


def test_why_now_names_a_kind_prerequisite_only_when_it_binds() -> None:
    """Two temporary leads end in weeks 4 and 8; an acting role that needs one waits for its window (week 8).
    Its line said it waited for 'Lead two' to end, but 'Lead one' had met the prerequisite in week 4."""
    options = [
        MoveOption("L1", "temporary_lead", 4, 50, {"A": 200}, title="Lead one"),
        MoveOption("L2", "temporary_lead", 8, 50, {"B": 200}, title="Lead two"),
        MoveOption(
            "R",
            "acting_role",
            4,
            50,
            {"C": 200},
            requires_kinds=frozenset({"temporary_lead"}),
            earliest_start=8,
            title="Acting",
        ),
    ]
    problem = PlanProblem(
        levels={}, requirements={"A": 200, "B": 200, "C": 200}, options=options, horizon=30, depth_rule=False
    )
    result = solve(problem)
    starts = {m.option_id: (m.start, m.end) for m in result.moves}
    assert starts == {"L1": (0, 4), "L2": (0, 8), "R": (8, 12)}
    line = _step_line(result, "Acting")
    assert "temporary lead first" not in line
    assert "its window opens in week 8" in line


def test_why_now_names_the_kind_prerequisite_that_binds() -> None:
    """The only temporary lead ends in week 8: that is why the acting role starts then."""
    options = [
        MoveOption("L2", "temporary_lead", 8, 50, {"B": 200}, title="Lead two"),
        MoveOption("R", "acting_role", 4, 50, {"C": 200}, requires_kinds=frozenset({"temporary_lead"}), title="Acting"),
    ]
    problem = PlanProblem(levels={}, requirements={"B": 200, "C": 200}, options=options, horizon=30, depth_rule=False)
    result = solve(problem)
    line = _step_line(result, "Acting")
    assert "it needs a completed temporary lead first: 'Lead two' ends in week 8" in line


def test_a_gap_left_open_is_never_said_closed_by_rounding() -> None:
    """A course taking X from 0 to 3.98 of 4.0 said it closed "100% of that gap"; the next step, which closes
    the last 0.02, said so too."""
    options = [
        MoveOption("A", "course", 2, 50, {"X": 398}, title="Big"),
        MoveOption("B", "course", 4, 50, {"X": 50}, title="Small"),
    ]
    problem = PlanProblem(levels={}, requirements={"X": 400}, options=options, horizon=30, depth_rule=False)
    result = solve(problem)
    assert "X 0.0 → 3.98, closing 99% of that gap" in _step_line(result, "Big")
    assert "X 3.98 → 4.48, closing 100% of that gap" in _step_line(result, "Small")


def test_a_sliver_of_a_gap_is_not_said_to_be_none_of_it() -> None:
    """0.01 of a 4.0 gap is not "0%" of it."""
    options = [
        MoveOption("A", "course", 2, 50, {"X": 1}, title="Sliver"),
        MoveOption("B", "course", 4, 50, {"X": 399}, title="Rest"),
    ]
    problem = PlanProblem(levels={}, requirements={"X": 400}, options=options, horizon=30, depth_rule=False)
    result = solve(problem)
    assert "X 0.0 → 0.01, closing 1% of that gap" in _step_line(result, "Sliver")


def test_a_level_within_the_tolerance_is_not_said_to_be_at_the_required_level() -> None:
    """The role requires X at 4.0, ready within a tolerance of 0.3: a depth step from 3.8 said X was "already at
    the required level", below it."""
    options = [
        MoveOption("A", "course", 2, 50, {"X": 50}, title="Deep"),
        MoveOption("B", "course", 4, 50, {"Y": 200}, title="Other"),
    ]
    problem = PlanProblem(
        levels={"X": 380}, requirements={"X": 400, "Y": 200}, options=options, horizon=30, tolerance=30
    )
    line = _step_line(solve(problem), "Deep")
    assert "already at the required level" not in line
    assert "X 3.8 → 4.3 (already within the tolerance of the 4.0 required: deepens it)" in line


def test_a_level_at_the_required_level_is_said_so() -> None:
    options = [
        MoveOption("A", "course", 2, 50, {"X": 50}, title="Deep"),
        MoveOption("B", "course", 4, 50, {"Y": 200}, title="Other"),
    ]
    problem = PlanProblem(
        levels={"X": 400}, requirements={"X": 400, "Y": 200}, options=options, horizon=30, tolerance=30
    )
    assert "X 4.0 → 4.5 (already at the required level: deepens it)" in _step_line(solve(problem), "Deep")


def _depth_plan() -> PlanProblem:
    options = [
        MoveOption("DA", "course", 10, 20, {"A": 100}, title="DeepA"),
        MoveOption("B1", "course", 4, 20, {"B": 300}, title="B1"),
        MoveOption("DB", "course", 4, 20, {"B": 100}, title="DB"),
    ]
    return PlanProblem(levels={"A": 300}, requirements={"A": 400, "B": 400}, options=options, horizon=30)


def test_why_now_names_the_depth_level_only_when_the_plan_needs_that_depth_step() -> None:
    """'DB' starts in week 4 because two moves run before (at most two at once); its line also said it waited
    until B reached the depth level, though 'DeepA' is the plan's depth step from week 0: DB needs none."""
    result = solve(_depth_plan())
    assert {(m.option_id, m.start) for m in result.moves} == {("B1", 0), ("DA", 0), ("DB", 4)}
    line = _step_line(result, "DB")
    assert "week 3 already has 2 concurrent moves" in line
    assert "depth level" not in line.split("It starts")[1]


def test_why_now_names_the_depth_level_when_it_is_the_plans_only_depth_step() -> None:
    options = [
        MoveOption("B1", "course", 4, 20, {"B": 300}, title="B1"),
        MoveOption("DB", "course", 4, 20, {"B": 100}, title="DB"),
    ]
    problem = PlanProblem(levels={}, requirements={"B": 400}, options=options, horizon=30)
    line = _step_line(solve(problem), "DB")
    assert "It starts in week 4 because it waits until B reaches the depth level, in week 4" in line
