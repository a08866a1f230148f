"""Review of `plan --json` against what `plan` prints."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from micromoves.cli.main import app
from micromoves.storage.db import Database
from tests.services.test_planning_service import plan_db  # noqa: F401 (a fixture)


def test_plan_json_names_the_person_and_the_target_role_as_the_timeline_does(plan_db: Database) -> None:  # noqa: F811
    """`plan EMP` heads its timeline "Plan v1 for Eli → Senior Engineer"; `plan EMP --json` gave only the ids,
    so a script showing the plan had to look both up again (the page's JSON twin gives the role's title)."""
    url = plan_db.url.render_as_string(hide_password=False)
    text = CliRunner().invoke(app, ["--db", url, "plan", "EMP"])
    assert text.exit_code == 0, text.stderr
    assert "Plan v1 for Eli → Senior Engineer" in text.stdout
    result = CliRunner().invoke(app, ["--db", url, "plan", "EMP", "--json"])
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert (shown["person_name"], shown["target_role"], shown["target_role_id"]) == ("Eli", "Senior Engineer", "SWE3")
    assert (shown["version"], shown["kept"], shown["stored"]) == (1, True, True)
