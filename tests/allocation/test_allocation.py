"""The min-cost-flow allocation equals the CP-SAT / brute-force optimum and respects every constraint."""

from __future__ import annotations

import numpy as np
import pytest

from micromoves.allocation import (
    AllocationError,
    AllocationProblem,
    NetworkBuilder,
    build_network,
    objective_of,
    solve,
    solver,
    violations,
)
from micromoves.allocation.reference import solve_brute_force, solve_reference
from micromoves.allocation.solver import potentials


def random_problem(seed: int) -> AllocationProblem:
    rng = np.random.default_rng(seed)
    n_people = int(rng.integers(1, 9))
    n_teams = int(rng.integers(1, 4))
    n_opps = int(rng.integers(1, 5))
    all_pairs = [(i, j) for i in range(n_people) for j in range(n_opps)]
    take = rng.random(len(all_pairs)) < rng.uniform(0.2, 0.8)
    pairs = [pq for pq, keep in zip(all_pairs, take, strict=True) if keep]
    return AllocationProblem.build(
        person_team=rng.integers(0, n_teams, n_people),
        person_seats=rng.choice([0, 1, 1, 1, 2], n_people),
        team_limit=rng.integers(0, 4, n_teams),
        opportunity_seats=rng.integers(0, 3, n_opps),
        pair_person=[i for i, _ in pairs],
        pair_opportunity=[j for _, j in pairs],
        # Mostly positive, some zero or negative scores (never worth choosing).
        pair_score=rng.integers(-3, 30, len(pairs)),
    )


@pytest.mark.heavy
def test_equals_the_cp_sat_optimum_on_600_random_instances() -> None:
    for seed in range(600):
        problem = random_problem(seed)
        result = solve(problem)
        assert violations(problem, result.chosen) == [], seed
        assert result.objective == objective_of(problem, result.chosen)
        assert all(problem.pair_score[result.chosen] > 0), seed
        reference = solve_reference(problem)
        assert result.objective == reference.objective, seed


def test_a_network_built_chunk_by_chunk_is_the_whole_problems_network() -> None:
    # The services add each range of scored pairs as it arrives; the network must be the one build_network
    # makes from the whole problem (the benchmark's reference solves that one): same arcs, same shortlist
    # (each range keeps its own best, and the best of those is the whole problem's best), same optimum.
    for seed in range(200):
        problem = random_problem(seed)
        rng = np.random.default_rng(seed)
        cuts = sorted(rng.integers(0, problem.n_pairs + 1, int(rng.integers(0, 4))).tolist())
        shortlist = (int(rng.integers(0, 2)), 1)
        builder = NetworkBuilder(
            problem.person_team, problem.person_seats, problem.team_limit, problem.opportunity_seats, shortlist
        )
        for lo, hi in zip([0, *cuts], [*cuts, problem.n_pairs], strict=True):
            builder.add_pairs(problem.pair_person[lo:hi], problem.pair_opportunity[lo:hi], problem.pair_score[lo:hi])
        whole = build_network(problem, shortlist)
        chunked = NetworkBuilder(
            problem.person_team, problem.person_seats, problem.team_limit, problem.opportunity_seats, shortlist
        )
        for lo, hi in zip([0, *cuts], [*cuts, problem.n_pairs], strict=True):
            chunked.add_pairs(problem.pair_person[lo:hi], problem.pair_opportunity[lo:hi], problem.pair_score[lo:hi])
        net = chunked.finish()
        for name in ("pair_index", "pair_tail", "pair_head", "pair_cost", "shortlist", "tails", "heads", "caps"):
            assert getattr(net, name).tolist() == getattr(whole, name).tolist(), (seed, name)
        assert (net.supply, net.n_nodes, net.team_end, net.person_end) == (
            whole.supply,
            whole.n_nodes,
            whole.team_end,
            whole.person_end,
        )
        by_ranges = solve(problem, builder, method="sparse")
        at_once = solve(problem, method="sparse", shortlist=shortlist)
        assert (by_ranges.objective, by_ranges.chosen.tolist()) == (at_once.objective, at_once.chosen.tolist()), seed
    with pytest.raises(AllocationError, match="finished already"):
        builder.finish()  # the chunks were handed to the first network
    with pytest.raises(AllocationError, match="is finished"):
        builder.add_pairs(problem.pair_person, problem.pair_opportunity, problem.pair_score)
    short = NetworkBuilder(problem.person_team, problem.person_seats, problem.team_limit, problem.opportunity_seats)
    short.add_pairs(problem.pair_person[:0], problem.pair_opportunity[:0], problem.pair_score[:0])
    if problem.n_pairs:
        with pytest.raises(AllocationError, match="given 0 pairs"):
            solve(problem, short)
    with pytest.raises(AllocationError, match="shortlist"):
        NetworkBuilder(problem.person_team, problem.person_seats, problem.team_limit, problem.opportunity_seats, (0, 0))


def test_the_shortlist_is_each_opportunitys_best_applicants() -> None:
    # Opportunity 0 (two seats) has five applicants, opportunity 1 (one seat) two; factor 1, extra 1.
    problem = AllocationProblem.build(
        person_team=[0] * 5,
        team_limit=[5],
        opportunity_seats=[2, 1],
        pair_person=[0, 1, 2, 3, 4, 0, 1],
        pair_opportunity=[0, 0, 0, 0, 0, 1, 1],
        pair_score=[5, 9, 7, 9, 1, 3, 4],
    )
    net = build_network(problem, (1, 1))
    # The best three of opportunity 0 (9, 9 — the earlier first — and 7), both of opportunity 1.
    assert net.pair_index[net.shortlist].tolist() == [1, 2, 3, 5, 6]
    assert len(build_network(problem, None).shortlist) == 0


def left_off_problem() -> AllocationProblem:
    """Person 0 is the best applicant of both one-seat opportunities A and B; person 1 applied to A only."""
    return AllocationProblem.build(
        person_team=[0, 1],
        team_limit=[1, 1],
        opportunity_seats=[1, 1],
        pair_person=[0, 0, 1],
        pair_opportunity=[0, 1, 0],
        pair_score=[10, 9, 9],
    )


def test_a_pair_left_off_the_shortlist_is_found_by_the_proof() -> None:
    # With one applicant per opportunity listed, the shortlist's optimum seats person 0 in A (10). The whole
    # network's optimum is person 0 in B and person 1 in A (9 + 9): the proof must find the left-out arc.
    problem = left_off_problem()
    result = solve(problem, method="sparse", shortlist=(0, 1))
    assert result.objective == 18 and result.chosen.tolist() == [1, 2]
    assert result.stats["rounds"] == 2  # the first round's optimum (10) was not accepted
    assert solve(problem, method="dense").objective == 18


def test_a_sparse_solve_that_does_not_settle_falls_back_to_the_whole_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each way out of the sparse solve (rounds used up, Bellman–Ford not settled, the shortlist grown past
    # its share) ends in the dense solve of the whole network, with the same optimum, and says so.
    problem = left_off_problem()
    monkeypatch.setattr(solver, "MAX_ROUNDS", 1)
    out_of_rounds = solve(problem, method="sparse", shortlist=(0, 1))
    assert (out_of_rounds.objective, out_of_rounds.stats["rounds"], out_of_rounds.stats["dense"]) == (18, 1, 1)
    monkeypatch.undo()
    found, tried = solver.solve_sparse(build_network(problem, (0, 1)), max_share=0.5)
    assert found is None and tried["rounds"] == 1  # the left-out pair joins: 3 of 3 pairs listed
    for seed in range(5):
        medium = medium_problem(seed)
        monkeypatch.setattr(solver, "MAX_PATH_ROUNDS", 1)
        unsettled = solve(medium, method="sparse", shortlist=(0, 1))
        monkeypatch.undo()
        assert unsettled.stats["dense"] == 1 and unsettled.objective == solve(medium, method="dense").objective


def test_solve_refuses_what_it_cannot_honour() -> None:
    problem = random_problem(3)
    with pytest.raises(AllocationError, match="unknown method"):
        solve(problem, method="fast")  # type: ignore[arg-type]
    builder = NetworkBuilder(problem.person_team, problem.person_seats, problem.team_limit, problem.opportunity_seats)
    with pytest.raises(AllocationError, match="its own shortlist"):
        solve(problem, builder, shortlist=(1, 1))
    # Unsigned scores: the costs are their negation, which must not wrap around.
    builder.add_pairs(
        problem.pair_person, problem.pair_opportunity, np.maximum(problem.pair_score, 0).astype(np.uint32)
    )
    assert solve(problem, builder).objective == solve(problem, method="dense").objective > 0


def test_the_proof_refuses_a_flow_that_is_not_optimal() -> None:
    # Two nodes, an arc 0 → 1 of cost -1 carrying nothing and an arc 1 → 0 of cost 0: a negative cycle in
    # the residual network (the flow could be cheaper), so there are no potentials to prove it optimal.
    arcs = np.array([0, 1]), np.array([1, 0]), np.array([1, 1]), np.array([-1, 0])
    assert potentials(2, *arcs, np.array([0, 0])) is None
    # With the unit sent around the cycle the residual arcs are 1 → 0 (cost 1) and 0 → 1 (cost 0): optimal.
    d = potentials(2, *arcs, np.array([1, 1]))
    assert d is not None and d.tolist() == [0, 0]


@pytest.mark.heavy
def test_the_sparse_solve_equals_the_cp_sat_optimum_with_a_tiny_shortlist() -> None:
    # One applicant per opportunity listed, so the proof has to find most of the optimum's pairs itself.
    rounds = []
    for seed in range(600):
        problem = random_problem(seed)
        result = solve(problem, method="sparse", shortlist=(0, 1))
        assert violations(problem, result.chosen) == [], seed
        assert result.objective == solve_reference(problem).objective, seed
        rounds.append(result.stats.get("rounds", -1))
    assert rounds.count(2.0) + rounds.count(3.0) >= 30  # the proof rejected a first optimum that often
    assert rounds.count(1.0) >= 100


def medium_problem(seed: int) -> AllocationProblem:
    rng = np.random.default_rng(seed)
    n_people, n_opps, n_teams = 400, 40, 30
    key = rng.choice(n_people * n_opps, 4_000, replace=False)
    return AllocationProblem.build(
        person_team=rng.integers(0, n_teams, n_people),
        team_limit=rng.integers(0, 4, n_teams),
        opportunity_seats=rng.choice([0, 1, 1, 2, 3], n_opps),
        pair_person=key // n_opps,
        pair_opportunity=key % n_opps,
        pair_score=rng.integers(-5, 60, len(key)),
    )


def test_the_default_solve_is_sparse_and_equals_the_whole_networks_optimum() -> None:
    for seed in range(20):
        problem = medium_problem(seed)
        sparse, dense = solve(problem), solve(problem, method="dense")
        assert sparse.stats["rounds"] >= 1 and sparse.stats["solved_pair_arcs"] < problem.n_pairs / 4, seed
        assert (sparse.stats["dense"], dense.stats["dense"], dense.stats["rounds"]) == (0, 1, 0), seed
        assert sparse.objective == dense.objective, seed
        assert violations(problem, sparse.chosen) == [], seed


@pytest.mark.heavy
def test_equals_brute_force_on_small_instances() -> None:
    checked = 0
    for seed in range(1000, 1300):
        problem = random_problem(seed)
        if int((problem.pair_score > 0).sum()) > 12:
            continue
        assert solve(problem).objective == solve_brute_force(problem).objective, seed
        checked += 1
    assert checked >= 150


def test_team_limit_binds_across_opportunities() -> None:
    # Two people of one team, two opportunities; the team may release one person: the better pair wins.
    problem = AllocationProblem.build(
        person_team=[0, 0, 1],
        team_limit=[1, 1],
        opportunity_seats=[1, 1],
        pair_person=[0, 1, 2],
        pair_opportunity=[0, 1, 1],
        pair_score=[5, 9, 3],
    )
    result = solve(problem)
    assert sorted(result.chosen.tolist()) == [1] or sorted(result.chosen.tolist()) == [0, 2]
    assert result.objective == 9  # 9 beats 5 + 3 = 8
    assert violations(problem, result.chosen) == []


def test_maximises_score_not_the_number_of_assignments() -> None:
    # One seat each; person 0 is worth 10 on opp 0; persons 1 and 2 are worth 1 each. Max flow would seat 2.
    problem = AllocationProblem.build(
        person_team=[0, 1, 2],
        team_limit=[1, 1, 1],
        opportunity_seats=[1, 1],
        pair_person=[0, 0, 1],
        pair_opportunity=[0, 1, 0],
        pair_score=[10, 1, 8],
    )
    result = solve(problem)
    assert result.chosen.tolist() == [0]  # 10 (p0→o0) beats 1 + 8 (two people seated)
    assert result.objective == solve_reference(problem).objective == 10


def test_edge_cases() -> None:
    empty = AllocationProblem.build(
        person_team=[], team_limit=[], opportunity_seats=[], pair_person=[], pair_opportunity=[], pair_score=[]
    )
    assert solve(empty).objective == 0 and len(solve(empty).chosen) == 0
    base = {"person_team": [0, 0], "pair_person": [0, 1], "pair_opportunity": [0, 0]}
    no_release = AllocationProblem.build(**base, team_limit=[0], opportunity_seats=[2], pair_score=[4, 5])
    assert len(solve(no_release).chosen) == 0
    no_seats = AllocationProblem.build(**base, team_limit=[2], opportunity_seats=[0], pair_score=[4, 5])
    assert len(solve(no_seats).chosen) == 0
    worthless = AllocationProblem.build(**base, team_limit=[2], opportunity_seats=[2], pair_score=[0, -1])
    assert len(solve(worthless).chosen) == 0 and solve(worthless).objective == 0
    both = AllocationProblem.build(**base, team_limit=[2], opportunity_seats=[2], pair_score=[4, 5])
    assert solve(both).chosen.tolist() == [0, 1]


def test_rejects_inconsistent_problems() -> None:
    with pytest.raises(AllocationError, match="index outside"):
        AllocationProblem.build(
            person_team=[0],
            team_limit=[1],
            opportunity_seats=[1],
            pair_person=[1],
            pair_opportunity=[0],
            pair_score=[1],
        )
    with pytest.raises(AllocationError, match="more than once"):
        AllocationProblem.build(
            person_team=[0],
            team_limit=[1],
            opportunity_seats=[1],
            pair_person=[0, 0],
            pair_opportunity=[0, 0],
            pair_score=[1, 2],
        )
    with pytest.raises(AllocationError, match="negative"):
        AllocationProblem.build(
            person_team=[0], team_limit=[-1], opportunity_seats=[1], pair_person=[], pair_opportunity=[], pair_score=[]
        )


def test_validator_reports_each_broken_constraint() -> None:
    problem = AllocationProblem.build(
        person_team=[0, 0],
        team_limit=[1],
        opportunity_seats=[1, 1],
        pair_person=[0, 0, 1],
        pair_opportunity=[0, 1, 0],
        pair_score=[1, 1, 1],
    )
    found = violations(problem, [0, 1, 2])
    assert any("opportunity 0" in v for v in found)
    assert any("person 0" in v for v in found)
    assert any("team 0" in v for v in found)
    assert violations(problem, [0]) == []
