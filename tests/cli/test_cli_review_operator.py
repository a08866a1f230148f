"""Found using every command as an operator would (the CLI review): each test failed before its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_cli import RUN_END, RUN_START, _reviewed_move_with_confidential_notes, mm, org_url  # noqa: F401 (a fixture)

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


def test_people_show_hides_confidential_review_notes_from_who_may_not_read_them(
    org_url: str,  # noqa: F811 (the fixture)
) -> None:
    """`--actor P2 people show P2` printed the confidential notes of P2's own review, which `moves show` (and
    the move page) hides from P2: the same move read through the person printed every outcome whole."""
    mid = _reviewed_move_with_confidential_notes(org_url)
    code, out, err = mm(org_url, "moves", "show", mid, actor="P2")
    assert code == 0 and "Not ready to lead" not in out, err  # the rule people show broke
    code, out, err = mm(org_url, "people", "show", "P2", actor="P2")
    assert code == 0 and "Not ready to lead" not in out and "(notes confidential)" in out, err
    code, out, err = mm(org_url, "people", "show", "P2", "--json", actor="P2")
    assert code == 0 and "Not ready to lead" not in out, err
    [move] = [m for m in json.loads(out)["moves"] if m["id"] == mid]
    assert move["outcome"]["notes"] is None and move["outcome"]["confidential"] is True
    # The reviewer and the operator read them, as on the move.
    for actor in ("P1", "hr"):
        code, out, err = mm(org_url, "people", "show", "P2", actor=actor)
        assert code == 0 and "Not ready to lead" in out, (actor, err)
        code, out, err = mm(org_url, "people", "show", "P2", "--json", actor=actor)
        assert code == 0 and "Not ready to lead" in out, (actor, err)


def test_export_names_the_file_it_wrote_as_given(org_url: str, tmp_path: Path) -> None:  # noqa: F811
    """`export '/tmp/[bold]x.json'` said 'wrote /tmp/x.json': the path was read as Rich markup, so the
    operator was told of a file that is not there."""
    out_json = tmp_path / "[bold]people.json"
    code, out, err = mm(org_url, "export", str(out_json))
    assert code == 0 and out_json.exists(), err
    assert f"wrote {out_json}" in out.replace("\n", ""), out
    folder = tmp_path / "[i]csv"
    code, out, err = mm(org_url, "export", str(folder))
    assert code == 0 and (folder / "people.csv").exists(), err
    assert str(folder / "people.csv") in out.replace("\n", ""), out


def test_text_ending_in_a_backslash_is_printed_as_written(org_url: str) -> None:  # noqa: F811 (the fixture)
    r"""A move titled 'Copy to C:\' read 'Copy to C:\\' in `moves show`, `moves list` and `people show`, and a
    check-in 'saved in C:\' read 'saved in C:\\': Rich's escape doubles a final backslash (for markup that
    follows at once), and here a space or nothing follows, as on every line and in every table cell."""
    code, out, err = mm(
        org_url, "moves", "propose", "--person", "P2", "--kind", "gig", "--title", "Copy to C:\\", "--start",
        RUN_START, "--end", RUN_END, "--percent", "10", "--criterion", "Files in D:\\", "--json",
    )  # fmt: skip
    assert code == 0, err
    mid = json.loads(out)["id"]
    assert json.loads(out)["title"] == "Copy to C:\\"  # stored as given: only the printing doubled it
    for args in (("moves", "show", mid), ("moves", "list", "--person", "P2"), ("people", "show", "P2")):
        code, out, err = mm(org_url, *args)
        assert code == 0 and "C:\\" in out and "\\\\" not in out, (args, out)  # (a table cell wraps)
    code, out, err = mm(org_url, "moves", "show", mid)
    assert "Files in D:\\ —" in out, out


def test_numbers_past_the_databases_range_are_refused_naming_the_option(org_url: str) -> None:  # noqa: F811
    """`people list --offset 99999999999999999999` (a pasted or mistyped number) ended in a traceback, the
    driver's OverflowError (Python int too large to convert to SQLite INTEGER); so did --limit, audit's
    --limit, releases --page, an application id and an allocation run id. Each is refused naming the option,
    within the ranges the web takes (ids: the database's integers; pages: 1–100,000)."""
    huge = "99999999999999999999"
    for args, said in [
        (["people", "list", "--offset", huge], "--offset"),
        (["people", "list", "--limit", huge], "--limit"),
        (["moves", "list", "--offset", huge], "--offset"),
        (["moves", "list", "--limit", huge], "--limit"),
        (["audit", "--limit", huge], "--limit"),
        (["releases", "--page", huge], "--page"),
        (["applications", "decide", huge, "offer"], "application_id"),
        (["allocate", "--apply", huge], "--apply"),
        (["allocate", "--discard", huge], "--discard"),
    ]:
        code, _, err = mm(org_url, *args)
        assert code == 2 and said in err and "Traceback" not in err, (args, err)


def test_opportunity_eligibility_numbers_are_held_to_the_webs_ranges(org_url: str) -> None:  # noqa: F811
    """`opportunities create --min-level -3 --min-tenure -3` created an opportunity with a role level and a
    tenure no person can have below (the web form and the API take 1–10 and 0–600 months)."""
    base = ["opportunities", "create", "--title", "Gig", "--kind", "gig", "--team", "DATA", "--start", RUN_START]
    base += ["--end", RUN_END, "--percent", "10", "--criterion", "Done"]
    for extra, said in [
        (["--min-level", "-3"], "--min-level"),
        (["--min-level", "11"], "--min-level"),
        (["--min-tenure", "-3"], "--min-tenure"),
        (["--min-tenure", "601"], "--min-tenure"),
    ]:
        code, out, err = mm(org_url, *base, *extra)
        assert code == 2 and said in err and not out.strip(), (extra, out, err)


def test_plan_all_starts_no_more_processes_than_it_has_work_for(
    org_url: str,  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`plan-all --workers 99999999999999999999` (or a generous --workers 500 on a small team) asked for a pool
    of that many processes for two people to plan: the command forked until the machine gave out, and had to
    be killed. The pool has at most one process per chunk of work."""
    import multiprocessing

    for person in ("P1", "P2"):
        assert mm(org_url, "people", "set-target", person, "R1")[0] == 0
    asked: list[int] = []
    real = multiprocessing.get_context

    class Context:
        def __init__(self, method: str) -> None:
            self.real = real(method)

        def Pool(self, processes: int, **kwargs: object) -> object:
            asked.append(processes)
            if processes > 2:  # never start them (that was the defect)
                raise RuntimeError(f"a pool of {processes} processes for two people")
            return self.real.Pool(processes, **kwargs)

    monkeypatch.setattr(multiprocessing, "get_context", Context)
    code, out, err = mm(org_url, "plan-all", "--workers", "99999999999999999999", "--json")
    assert asked and max(asked) <= 2, asked
    assert code == 0, err
    assert json.loads(out)["workers"] <= 2


def test_serve_refuses_a_port_no_socket_has(org_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """`serve --port 99999` announced 'micromoves on http://127.0.0.1:99999/' and then ended in uvicorn's
    traceback (OverflowError: bind(): port must be 0-65535). Refused naming --port, before anything starts."""
    from micromoves.settings import get_settings

    monkeypatch.setenv("MICROMOVES_DATABASE_URL", org_url)  # serve sets it for its server: put back after
    try:
        for port in ("99999", "0", "99999999999999999999"):
            code, out, err = mm(org_url, "serve", "--port", port)
            assert code == 2 and "--port" in err and "micromoves on" not in out, (port, out, err)
    finally:
        get_settings.cache_clear()
