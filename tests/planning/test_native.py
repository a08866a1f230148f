"""The compiled copy of the search (scripts/build_native.py, mypyc) gives the plans the pure module gives,
and is used only when it was built from the source as it is now."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings

from micromoves.planning import solver
from micromoves.planning.model import PlanProblem
from tests.planning.strategies import problems

# CI requires the build (MICROMOVES_REQUIRE_NATIVE=1): there a missing build fails instead of skipping.
REQUIRED = os.environ.get("MICROMOVES_REQUIRE_NATIVE") == "1"
needs_build = pytest.mark.skipif(
    not solver.COMPILED and not REQUIRED, reason="the compiled search is not built (make setup)"
)


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


def test_the_compiled_copy_is_used_only_if_built_from_these_sources(tmp_path: Path) -> None:
    package = Path(solver.__file__).parent
    digest = solver.source_digest(package)
    # A change to any planning source the copy was compiled against makes it stale.
    for name in solver.SOURCES:
        for other in solver.SOURCES:
            (tmp_path / other).write_bytes((package / other).read_bytes())
        with (tmp_path / name).open("ab") as f:
            f.write(b"\n# edited\n")
        assert solver.source_digest(tmp_path) != digest
        assert solver._compiled(lambda: solver.source_digest(tmp_path)) is None
    built = solver._compiled(lambda: digest)
    assert (built is not None) == solver.COMPILED
    if REQUIRED:
        assert solver.COMPILED, "MICROMOVES_REQUIRE_NATIVE=1 but the compiled search is not built or is stale"
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
    assert solver.solve_nearest(problem) == pure.solve_nearest(problem)


def greedy(module: ModuleType, problem: PlanProblem) -> object:
    try:
        return module.solve_greedy(problem, explain=False)
    except module.NoPlanFound:
        return "no plan found"
