"""The README stays true: its settings table lists exactly the settings there are, and the commands it
shows exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from typer.main import get_command

from micromoves.cli.main import app
from micromoves.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_settings_table_matches_settings() -> None:
    documented = set(re.findall(r"^\| `MICROMOVES_([A-Z_]+)`", README, flags=re.M))
    assert documented == {name.upper() for name in Settings.model_fields}


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
