"""The allocation problem as plain numpy arrays: people in teams, opportunities with seats, scored pairs.

Indices, not ids: person ``i`` is row ``i`` of the person arrays, and so on. The services translate ids
to indices and back; the solvers see integers only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]


class AllocationError(ValueError):
    """The problem's arrays are inconsistent (wrong lengths, indices out of range, negative capacities)."""


@dataclass(frozen=True)
class AllocationProblem:
    """Who may be assigned where, and what each assignment is worth.

    * ``person_team[i]``: the team of person ``i`` (each person is in exactly one team);
      ``person_seats[i]``: how many opportunities person ``i`` may take at once (usually 1).
    * ``team_limit[k]``: how many more people of team ``k`` may be released at once (≥ 0).
    * ``opportunity_seats[j]``: free seats of opportunity ``j`` (≥ 0).
    * Candidate pairs ``p``: ``pair_person[p]`` may take ``pair_opportunity[p]`` for ``pair_score[p]``
      (an integer; only eligible pairs are given, each (person, opportunity) at most once).

    An *allocation* chooses pairs so that no opportunity has more chosen pairs than seats, no person more
    than their seats, and no team more than its limit; its value is the sum of the chosen scores.
    """

    person_team: Int32Array
    person_seats: IntArray
    team_limit: IntArray
    opportunity_seats: IntArray
    pair_person: Int32Array
    pair_opportunity: Int32Array
    pair_score: IntArray

    @staticmethod
    def build(
        *,
        person_team: npt.ArrayLike,
        team_limit: npt.ArrayLike,
        opportunity_seats: npt.ArrayLike,
        pair_person: npt.ArrayLike,
        pair_opportunity: npt.ArrayLike,
        pair_score: npt.ArrayLike,
        person_seats: npt.ArrayLike | None = None,
        unique_pairs: bool = False,
    ) -> AllocationProblem:
        """Coerce array-likes to the stored dtypes and check the problem (``unique_pairs``: the caller
        guarantees each (person, opportunity) pair appears once, so that costly check is skipped)."""
        teams = np.asarray(person_team, dtype=np.int32).reshape(-1)
        seats = np.ones(len(teams), dtype=np.int64) if person_seats is None else np.asarray(person_seats, np.int64)
        problem = AllocationProblem(
            person_team=teams,
            person_seats=seats.reshape(-1),
            team_limit=np.asarray(team_limit, dtype=np.int64).reshape(-1),
            opportunity_seats=np.asarray(opportunity_seats, dtype=np.int64).reshape(-1),
            pair_person=np.asarray(pair_person, dtype=np.int32).reshape(-1),
            pair_opportunity=np.asarray(pair_opportunity, dtype=np.int32).reshape(-1),
            pair_score=np.asarray(pair_score, dtype=np.int64).reshape(-1),
        )
        problem.check(unique_pairs=unique_pairs)
        return problem

    @property
    def n_people(self) -> int:
        return len(self.person_team)

    @property
    def n_teams(self) -> int:
        return len(self.team_limit)

    @property
    def n_opportunities(self) -> int:
        return len(self.opportunity_seats)

    @property
    def n_pairs(self) -> int:
        return len(self.pair_person)

    def check(self, *, unique_pairs: bool = False) -> None:
        if len(self.person_seats) != self.n_people:
            raise AllocationError("person_seats and person_team differ in length")
        if not len(self.pair_person) == len(self.pair_opportunity) == len(self.pair_score):
            raise AllocationError("pair_person, pair_opportunity and pair_score differ in length")
        indexed: tuple[tuple[str, Int32Array, int], ...] = (
            ("person_team", self.person_team, self.n_teams),
            ("pair_person", self.pair_person, self.n_people),
            ("pair_opportunity", self.pair_opportunity, self.n_opportunities),
        )
        for name, arr, bound in indexed:
            if len(arr) and (int(arr.min()) < 0 or int(arr.max()) >= bound):
                raise AllocationError(f"{name} has an index outside 0..{bound - 1}")
        for name, capacity in (
            ("person_seats", self.person_seats),
            ("team_limit", self.team_limit),
            ("opportunity_seats", self.opportunity_seats),
        ):
            if len(capacity) and int(capacity.min()) < 0:
                raise AllocationError(f"{name} must not be negative")
        if self.n_pairs and not unique_pairs:
            key = self.pair_person.astype(np.int64) * max(self.n_opportunities, 1) + self.pair_opportunity
            if len(np.unique(key)) != self.n_pairs:
                raise AllocationError("a (person, opportunity) pair is given more than once")


@dataclass(frozen=True)
class AllocationResult:
    """The chosen pairs (indices into the problem's pair arrays, ascending) and their total score."""

    chosen: IntArray
    objective: int
    stats: dict[str, float] = field(default_factory=dict)


def violations(problem: AllocationProblem, chosen: npt.ArrayLike) -> list[str]:
    """Every way ``chosen`` (pair indices) breaks the problem's constraints (empty: a valid allocation).

    Independent of both solvers: counts with ``bincount`` and compares with the limits.
    """
    picks = np.asarray(chosen, dtype=np.int64).reshape(-1)
    out: list[str] = []
    if len(picks) and (int(picks.min()) < 0 or int(picks.max()) >= problem.n_pairs):
        return ["a chosen pair index is out of range"]
    if len(np.unique(picks)) != len(picks):
        out.append("a pair is chosen twice")
    people = problem.pair_person[picks]
    opps = problem.pair_opportunity[picks]
    per_opp = np.bincount(opps, minlength=problem.n_opportunities)
    per_person = np.bincount(people, minlength=problem.n_people)
    per_team = np.bincount(problem.person_team[people], minlength=problem.n_teams)
    out += [
        f"opportunity {j}: {per_opp[j]} > {problem.opportunity_seats[j]} seats"
        for j in np.flatnonzero(per_opp > problem.opportunity_seats)
    ]
    out += [
        f"person {i}: {per_person[i]} > {problem.person_seats[i]} seats"
        for i in np.flatnonzero(per_person > problem.person_seats)
    ]
    out += [
        f"team {k}: {per_team[k]} > release limit {problem.team_limit[k]}"
        for k in np.flatnonzero(per_team > problem.team_limit)
    ]
    return out


def objective_of(problem: AllocationProblem, chosen: npt.ArrayLike) -> int:
    return int(problem.pair_score[np.asarray(chosen, dtype=np.int64)].sum())
