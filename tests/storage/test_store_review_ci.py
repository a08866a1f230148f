""".ci/run on a fresh machine: it installs what `make test` needs, here with every outside command stubbed."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What the script runs of the system itself (the rest is stubbed below).
REAL = ("bash", "env", "dirname", "ls", "sort", "tail", "seq", "sleep", "cat")


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _machine(tmp_path: Path) -> tuple[Path, Path]:
    """A PATH with the few system commands the script uses and stubs that log what it runs."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name in REAL:
        found = shutil.which(name)
        assert found is not None, name
        (bin_ / name).symlink_to(found)
    log = tmp_path / "log"
    log.touch()
    for name in ("apt-get", "make", "pg_isready", "psql"):
        _stub(bin_, name, f'echo "{name} $*" >> {log}; exit 0')
    return bin_, log


def _run(tmp_path: Path, bin_: Path, log: Path) -> list[str]:
    """Run a copy of .ci/run (it works in the clone it is in) and return the stubbed commands it ran."""
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy2(REPO / ".ci" / "run", repo / ".ci" / "run")
    env = {"PATH": str(bin_), "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(repo / ".ci" / "run")], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return log.read_text().splitlines()


@pytest.mark.skipif(not Path("/etc/postgresql").is_dir(), reason="the stubs leave the PostgreSQL check real")
def test_ci_installs_venv_compiler_and_headers_on_a_bare_debian(tmp_path: Path) -> None:
    """On a fresh Debian (its own python3, no compiler), `.ci/run` installed make, PostgreSQL and Chromium and
    then failed in `make setup`: `python3 -m venv` needs python3-venv (ensurepip), and the compiled planner
    CI requires (MICROMOVES_REQUIRE_NATIVE=1) needs a C compiler and Python's headers (python3-dev)."""
    bin_, log = _machine(tmp_path)
    # A python3 without ensurepip or headers (every check it is asked to run fails), no cc or gcc at all.
    _stub(bin_, "python3", f'echo "python3 $*" >> {log}; exit 1')
    calls = _run(tmp_path, bin_, log)
    install = next(line for line in calls if line.startswith("apt-get install"))
    assert {"python3-venv", "python3-dev", "gcc"} <= set(install.split()), install
    assert calls[-1] == "make test"


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="the stubs leave the Chromium check real")
@pytest.mark.skipif(not Path("/etc/postgresql").is_dir(), reason="the stubs leave the PostgreSQL check real")
def test_ci_installs_nothing_where_everything_is_there(tmp_path: Path) -> None:
    """With a python3 that has ensurepip and its headers (this one) and a C compiler, nothing is installed."""
    import sys

    bin_, log = _machine(tmp_path)
    _stub(bin_, "python3", f'exec {sys.executable} "$@"')
    _stub(bin_, "cc", "exit 0")
    calls = _run(tmp_path, bin_, log)
    assert not [line for line in calls if line.startswith("apt-get")], calls
    assert calls[-1] == "make test"
