"""Fair org-wide allocation of applicants to seats: a pure package (no I/O; a test enforces it).

:class:`AllocationProblem` holds numpy arrays (people with a team and seats, teams with a release limit,
opportunities with seats, scored candidate pairs); :func:`solve` finds the allocation with the highest
total score exactly with OR-Tools min-cost flow; :mod:`micromoves.allocation.reference` solves the same
problem with CP-SAT (and brute force) for tests; :func:`violations` is an independent validator.
"""

from micromoves.allocation.model import AllocationError, AllocationProblem, AllocationResult, objective_of, violations
from micromoves.allocation.solver import Network, NetworkBuilder, build_network, solve

__all__ = [
    "AllocationError",
    "AllocationProblem",
    "AllocationResult",
    "Network",
    "NetworkBuilder",
    "build_network",
    "objective_of",
    "solve",
    "violations",
]
