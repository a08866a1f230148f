"""The planner benchmark's summary: how instances are counted, and how shards of one run are merged."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks.planner import merge, run, summarise

SETTINGS = {"seed": 0, "time_limit": 60.0, "warm_start": True}


def record(n: int, outcome: str = "agreed", exact_ms: float = 1.0, cpsat_ms: float = 50.0) -> dict[str, Any]:
    return {"n": n, "exact_ms": exact_ms, "cpsat_ms": cpsat_ms, "outcome": outcome, "valid": True, "status": "ready"}


def test_an_unproven_cpsat_plan_is_left_out_of_the_agreement_but_a_better_one_is_a_disagreement() -> None:
    row = summarise(60, 4, SETTINGS, [record(0), record(1), record(2, "unproven"), record(3, "unproven, better")])
    assert (row["compared"], row["agreed"], row["agreement_pct"]) == (2, 2, 100.0)
    assert (row["cpsat_unproven"], row["disagreements"]) == (2, [3])
    assert not row["targets_met"]


def test_shards_of_one_run_merge_into_its_row_and_only_a_complete_run_meets_the_targets() -> None:
    shards = [summarise(60, 4, SETTINGS, [record(n) for n in range(4) if n % 2 == part]) for part in (0, 1)]
    assert [r["instances"] for r in shards] == [2, 2] and not any(r["targets_met"] for r in shards)
    (whole,) = merge(shards)
    assert (whole["instances"], whole["agreed"], whole["median_ratio"], whole["targets_met"]) == (4, 4, 50.0, True)
    with pytest.raises(ValueError, match=r"instances \[0, 2\] are recorded twice"):
        merge([shards[0], shards[0]])


def test_runs_with_other_settings_stay_apart() -> None:
    rows = [summarise(60, 2, SETTINGS | {"seed": seed}, [record(0), record(1)]) for seed in (0, 1)]
    assert [r["seed"] for r in merge(rows)] == [0, 1]


def test_a_small_run_agrees_with_cpsat_and_keeps_what_it_did(tmp_path: Any) -> None:
    path = tmp_path / "rows.json"
    (row,) = run(instances=4, sizes=(60,), progress=False, json_path=str(path), shard=(1, 2))
    assert [r["n"] for r in row["records"]] == [1, 3]
    assert row["agreed"] == row["compared"] == 2 and row["invalid_plans"] == 0
    assert '"records"' in path.read_text()
