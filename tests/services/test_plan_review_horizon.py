"""Review of horizon parsing (`plan --horizon`, `plan-all --horizon`)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from micromoves.cli.main import app
from micromoves.domain.errors import InvalidValue
from micromoves.services import planning
from micromoves.storage.db import Database
from tests.services.test_planning_service import plan_db, plans_count  # noqa: F401 (a fixture)


@pytest.mark.parametrize(("text", "weeks"), [("18m", 78), ("6m", 26), ("104", 104), ("2y", 104), (" 52 w ", 52)])
def test_horizons_in_weeks_months_and_years(text: str, weeks: int) -> None:
    assert planning.parse_horizon(text) == weeks


@pytest.mark.parametrize("text", ["0", "-5", "-18m", "0w", "-0"])
def test_a_horizon_of_zero_or_less_is_refused_as_not_positive(text: str) -> None:
    """'-5' was refused as if it were not a number at all ("use weeks (104 or 104w), months …")."""
    with pytest.raises(InvalidValue, match="horizon must be positive") as info:
        planning.parse_horizon(text)
    assert info.value.field == "horizon"


@pytest.mark.parametrize("text", ["521", "11y", "9" * 30, "9" * 5000])
def test_a_huge_horizon_is_refused_as_too_long(text: str) -> None:
    """5,000 digits failed with Python's own ValueError (int's digit limit): a traceback in the CLI."""
    with pytest.raises(InvalidValue, match="is over 10 years") as info:
        planning.parse_horizon(text)
    assert info.value.field == "horizon"


def test_the_cli_refuses_a_huge_horizon_in_one_line_and_stores_nothing(plan_db: Database) -> None:  # noqa: F811
    url = plan_db.url.render_as_string(hide_password=False)
    for command in (["plan", "EMP"], ["plan-all", "--backend", "serial"]):
        result = CliRunner().invoke(app, ["--db", url, *command, "--horizon", "9" * 5000])
        assert result.exit_code == 2, result.exception
        assert result.stderr.startswith("error: horizon") and "Traceback" not in result.stderr
        assert len(result.stderr) < 300
    assert plans_count(plan_db) == 0
