"""Found using every command as an operator would (the CLI review): each test failed before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli.test_cli import mm, org_url  # noqa: F401 (a fixture)

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _into_a_closed_pipe(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The command with its standard output a pipe whose reader is gone (`micromoves … | head -1`, once head
    has its line): every write fails with EPIPE at once."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "micromoves", "--db", db_url, "--actor", "hr", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": SRC},
        )
    finally:
        os.close(write)


def test_json_piped_into_head_ends_quietly(org_url: str) -> None:  # noqa: F811 (the fixture)
    """`micromoves people list --json | head` printed 'error: [Errno 32] Broken pipe' under head's lines (a
    table, printed by Rich, ended quietly): the reader stopping is no error of the command's."""
    for args in (("people", "list", "--json"), ("roles", "list", "--json"), ("people", "list")):
        done = _into_a_closed_pipe(org_url, *args)
        assert done.stderr == "", (args, done.stderr)
        assert done.returncode == 1, args  # as Rich ends a table cut short: not a success, nothing said
