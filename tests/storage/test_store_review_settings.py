"""Where the default SQLite file lives (MICROMOVES_DATA_DIR)."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest
from typer.testing import CliRunner

from micromoves.cli.main import app
from micromoves.settings import Settings, get_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("MICROMOVES_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def test_a_data_dir_starting_with_a_tilde_is_the_users_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment file or a service unit passes `~` on unexpanded (no shell reads it): `micromoves init`
    created the directory in the home directory and then failed with 'database error: unable to open
    database file', as SQLite looked for a directory named `~` in the current one."""
    monkeypatch.setenv("MICROMOVES_DATA_DIR", "~/micromoves-data")
    assert Settings().data_dir == home / "micromoves-data"
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert (home / "micromoves-data" / "micromoves.sqlite3").is_file()


def test_an_empty_data_dir_is_the_default_not_the_current_directory(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`MICROMOVES_DATA_DIR=` (a script's unset variable) put the database in whatever directory the command
    ran from, a different one each time; empty is the default, as an empty MICROMOVES_DATABASE_URL is."""
    monkeypatch.setenv("MICROMOVES_DATA_DIR", "")
    assert Settings().data_dir == platformdirs.user_data_path("micromoves")
    default = platformdirs.user_data_path("micromoves") / "micromoves.sqlite3"
    assert Settings().resolved_database_url() == f"sqlite:///{default}"


@pytest.mark.parametrize(
    ("variable", "meant"),
    [
        ("MICROMOVES_MAX_MOVE_WEEK", "MICROMOVES_MAX_MOVE_WEEKS"),
        ("MICROMOVES_PLAN_BUDGET_SECOND", "MICROMOVES_PLAN_BUDGET_SECONDS"),
        ("MICROMOVES_DATABASE_URI", "MICROMOVES_DATABASE_URL"),
        ("micromoves_plan_tolerence", "MICROMOVES_PLAN_TOLERANCE"),
    ],
)
def test_a_mistyped_setting_is_refused_naming_the_one_meant(
    home: Path, monkeypatch: pytest.MonkeyPatch, variable: str, meant: str
) -> None:
    """A variable named almost like a setting was ignored without a word, and the setting kept its default
    (MICROMOVES_MAX_MOVE_WEEK=52 still refused a 30-week move): it stops every command, naming the setting,
    as a bad value does (and as an import refuses a column named almost like a format column)."""
    from micromoves.settings import SettingsError

    monkeypatch.setenv(variable, "52")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match=f"{variable}.*{meant}"):
        get_settings()
    result = CliRunner().invoke(app, ["people", "list"])
    assert result.exit_code == 2
    assert meant in result.output and "Traceback" not in result.output


def test_other_micromoves_variables_are_left_alone(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Variables that are no setting and named like none (the test suite's, CI's, `users add`'s password)."""
    for variable in ("MICROMOVES_TEST_POSTGRES_URL", "MICROMOVES_REQUIRE_NATIVE", "MICROMOVES_NEW_PASSWORD"):
        monkeypatch.setenv(variable, "1")
    get_settings.cache_clear()
    assert get_settings().max_move_weeks == 26
