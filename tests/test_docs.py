"""The README stays true: its settings table lists exactly the settings there are, and the commands it
shows exist."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from micromoves.cli.main import app
from micromoves.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_settings_table_matches_settings() -> None:
    documented = set(re.findall(r"^\| `MICROMOVES_([A-Z_]+)`", README, flags=re.M))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_settings_table_gives_the_defaults_and_ranges_there_are() -> None:
    """A default or a range in the README's table is the settings' own (a number, or `cli`)."""
    from annotated_types import Ge, Le

    rows = re.findall(r"^\| `MICROMOVES_([A-Z_]+)` \| ([^|]+) \| ([^|]+) \|", README, flags=re.M)
    checked = 0
    for name, default, meaning in rows:
        field = Settings.model_fields[name.lower()]
        given = default.strip().strip("`")
        if re.fullmatch(r"[\d.]+|cli", given):
            assert str(field.default) == given, name
            checked += 1
        bounds = re.search(r"\((\d+)–(\d+)", meaning)
        if bounds:
            ge = next(m.ge for m in field.metadata if isinstance(m, Ge))
            le = next(m.le for m in field.metadata if isinstance(m, Le))
            assert (ge, le) == (int(bounds[1]), int(bounds[2])), name
    assert checked == 12


def test_commands_in_readme_exist() -> None:
    root = get_command(app)
    shown = re.findall(r"^(?:\$ )?micromoves (?:--\S+ \S+ )*([a-z-]+)(?: ([a-z-]+))?", README, flags=re.M)
    assert shown
    for group, sub in shown:
        cmd = root.commands.get(group)  # type: ignore[attr-defined]
        assert cmd is not None, group
        if hasattr(cmd, "commands") and sub:
            assert sub in cmd.commands, f"{group} {sub}"


def test_two_commands() -> None:
    block = README.split("## Two commands", 1)[1].split("```", 2)[1]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()[1:]] == ["make demo", "make test"]


def test_options_in_readme_exist() -> None:
    """Every --option a README command line shows is an option of that command (or a global one before it),
    as `micromoves moves list --changed-since …` and `micromoves export out/ --changed-since …` are."""
    root = get_command(app)
    commands = re.findall(r"(?:^|`)(?:\$ )?(micromoves [^`#\n]*)", README, flags=re.M)
    checked = 0
    for line in commands:
        words = line.replace("\\", " ").split()[1:]
        cmd: Any = root
        options: set[str] = set()
        for word in words:
            sub = getattr(cmd, "commands", {}).get(word)
            if sub is not None:
                cmd = sub
                continue
            if word.startswith("--"):
                options.add(word.split("=", 1)[0])
        if cmd is root:
            continue
        known = {o for p in [*root.params, *cmd.params] for o in (*p.opts, *p.secondary_opts)} | {"--help"}
        assert options <= known, (line, options - known)
        checked += 1
    assert checked > 10
    assert "`--changed-since` on `people list`, `moves list` and `export`" in README


def _bash_blocks(section: str, until: str) -> list[str]:
    text = README.split(section, 1)[1].split(until, 1)[0]
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def _commands(block: str) -> list[list[str]]:
    """The block's command lines, continuations joined, comments dropped, as the shell splits them."""
    return [shlex.split(line, comments=True) for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_the_terminal_tour_runs_as_written_on_a_demo(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's commands to try after `make demo` (the marketplace's, the look around, then a person taken
    through a move), run on a demo with the ids its tour prints. The walkthrough proposed a move starting on a
    fixed date and made it active at once: before that date every step from `active` on failed ('it cannot be
    started before then'), and once its end had passed the proposal itself was refused."""
    from sqlalchemy import select

    from micromoves.services.demo import generate_demo
    from micromoves.settings import get_settings
    from micromoves.storage import tables as t
    from micromoves.storage.db import Database

    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    summary = generate_demo(db, people=120, seed=42, plan_bottleneck=False)
    with db.engine.connect() as conn:
        person = conn.execute(select(t.people).where(t.people.c.id == summary.tour_person_id)).one()
        # The marketplace's `onboarding MOVE --done ITEM`: an item of a move whose checklist may be ticked (the
        # demo's are all ticked off: ticking one again leaves it done).
        item = conn.execute(
            select(t.onboarding_items.c.move_id, t.onboarding_items.c.id)
            .join(t.moves, t.moves.c.id == t.onboarding_items.c.move_id)
            .where(t.moves.c.status.in_(["approved", "onboarding", "active"]))
            .order_by(t.onboarding_items.c.id)
        ).first()
    db.dispose()
    assert summary.reverted_move_id and person.manager_id and person.role_id and item is not None
    names = {
        "P": person.id,
        "MGR": person.manager_id,
        "M": summary.reverted_move_id,
        "ROLE": person.role_id,
        "MOVE": item.move_id,
        "ITEM": str(item.id),
    }
    monkeypatch.setenv("MICROMOVES_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("MICROMOVES_ACTOR", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    (market,) = _bash_blocks("### The marketplace", "### In the terminal")
    look_around, walkthrough = _bash_blocks("### In the terminal", "### Plan the next steps")
    ran = 0
    for block in (market, look_around, walkthrough):
        for words in _commands(block):
            if "=" in words[0]:  # START=$(date …); END=…: what the shell gives the lines below
                values = subprocess.run(
                    ["bash", "-c", block.splitlines()[0].split("#")[0] + '; echo "$START $END"'],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                names["$START"], names["$END"] = values
                continue
            assert words[0] == "micromoves", words
            args = [names.get(w, w) for w in words[1:]]
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (words, result.output)
            proposed = re.search(r"proposed (M-[0-9a-f]+)", result.output)
            if proposed:  # the README's example id is the move just proposed
                names["M-f24d0afdca21"] = proposed.group(1)
            ran += 1
    get_settings.cache_clear()
    assert ran >= 20
    assert "completed" in runner.invoke(app, ["moves", "show", names["M-f24d0afdca21"]]).output


def test_the_licence_the_readme_names_comes_with_the_code() -> None:
    """The README and pyproject.toml say Apache-2.0, but no clone, sdist or wheel carried the licence's text,
    which the licence asks a redistributor to pass on (section 4a); setuptools ships a top-level LICENSE."""
    root = Path(__file__).resolve().parents[1]
    assert "Code: Apache-2.0" in README
    assert 'license = "Apache-2.0"' in (root / "pyproject.toml").read_text()
    text = (root / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_pyproject_names_its_licence_as_setuptools_reads_it() -> None:
    """`make setup` (so `make demo` too) printed setuptools' boxed deprecation warning, twice, before anything
    else: a `license = { text = … }` table is deprecated, to stop building in 2027. The licence is an SPDX
    expression with its file, as setuptools from 77 on reads them."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    assert project["project"]["license-files"] == ["LICENSE"]
    assert "setuptools>=77" in project["build-system"]["requires"]
