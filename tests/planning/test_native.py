"""The compiled copy of the search (scripts/build_native.py, mypyc) gives the plans the pure module gives,
and is used only when it was built from the source as it is now."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings

from micromoves.planning import solver
from micromoves.planning.model import PlanProblem
from tests.planning.strategies import problems

needs_build = pytest.mark.skipif(not solver.COMPILED, reason="the compiled search is not built (make setup)")


def pure_solver() -> ModuleType:
    """solver.py loaded as a module of its own, which never switches to the compiled copy."""
    name = "micromoves.planning._solver_pure"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, solver.__file__)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_the_compiled_copy_is_used_only_if_built_from_this_source() -> None:
    source = Path(solver.__file__).read_bytes()
    assert solver._compiled(source + b"\n# edited\n") is None
    built = solver._compiled(source)
    assert (built is not None) == solver.COMPILED
    if built is not None:
        assert solver.solve is built.solve and solver.SearchTimeout is built.SearchTimeout
        assert solver.IMPLEMENTATION is built
    pure = pure_solver()
    assert not pure.COMPILED and pure.IMPLEMENTATION is pure and pure.solve is not solver.solve


@needs_build
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(problems(max_options=8, max_horizon=20))
def test_compiled_and_pure_search_give_the_same_plans(problem: PlanProblem) -> None:
    pure = pure_solver()
    compiled = solver.solve(problem, k=2, explain=False)
    plain = pure.solve(problem, k=2, explain=False)
    assert compiled == plain
    assert greedy(solver, problem) == greedy(pure, problem)


def greedy(module: ModuleType, problem: PlanProblem) -> object:
    try:
        return module.solve_greedy(problem, explain=False)
    except module.NoPlanFound:
        return "no plan found"
