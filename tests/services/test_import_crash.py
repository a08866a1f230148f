"""A kill -9 in the middle of a large import leaves the database exactly as it was before the import."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from micromoves.services.importing import import_files
from micromoves.storage.db import Database
from tests.services.test_importing import MOVES_H, ORG_TABLES

IMPORTER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from micromoves.services.importing import import_files
    from micromoves.storage.db import Database

    def progress(stage, done, total):
        # Tell the parent once rows are being written, so it can kill us mid-transaction.
        if stage == "write" and done > 0:
            print("writing", done, flush=True)

    import_files(Database(sys.argv[1]), [Path(sys.argv[2])], actor="crash-test", progress=progress)
    print("finished", flush=True)
""")


def snapshot(db: Database) -> dict[str, object]:
    with db.engine.connect() as conn:
        state: dict[str, object] = {n: conn.scalar(text(f"SELECT count(*) FROM {n}")) for n in ORG_TABLES}
        state["moves"] = conn.execute(text('SELECT id, status, "end" FROM moves ORDER BY id')).all()
    return state


@pytest.mark.heavy
def test_kill_9_during_import_changes_nothing(db: Database, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    with people.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["person_id", "name", "email", "role_id", "manager_id", "team", "hire_date", "location"])
        w.writerows([f"P{i}", f"Person {i}", "", "", "", "T", "", ""] for i in range(2000))
    import_files(db, [people], actor="setup")
    moves = tmp_path / "moves.csv"
    with moves.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(MOVES_H)
        for i in range(30_000):
            w.writerow(
                [
                    f"K{i}",
                    f"P{i % 2000}",
                    "gig",
                    "Gig",
                    "",
                    f"20{10 + i // 3000}-0{1 + i % 9}-01",
                    f"20{10 + i // 3000}-0{1 + i % 9}-20",
                    1,
                    "proposed",
                    "",
                    "Done",
                    "",
                    "",
                ]
            )
    before = snapshot(db)
    url = db.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", IMPORTER, url, str(moves)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the importer reports written rows (or dies)
    assert line.startswith("writing"), proc.stderr.read() if proc.stderr else line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.2)
    db.dispose()  # fresh connections see only what was committed
    assert snapshot(db) == before
    # The database is healthy afterwards: the import's first rows now go in (all 30,000 again would only
    # repeat the bulk path the import tests already cover, at the cost of seconds).
    head = tmp_path / "moves_head.csv"
    head.write_text("".join(moves.read_text().splitlines(keepends=True)[:2_001]))
    summary = import_files(db, [head], actor="retry")
    assert summary.created == {"moves": 2_000}
