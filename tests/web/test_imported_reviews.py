"""A review an import brings in is the HRIS's, not the reviewer's who ran the import: the move page, its JSON
twin and the CLI say it was imported, and by whom, without naming that account as the reviewer."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from micromoves.cli.main import app as cli
from micromoves.services import moves as move_svc
from micromoves.storage import tables as t
from tests.web.conftest import World

PEOPLE = (
    "person_id,name,email,role_id,manager_id,team,hire_date,location\n"
    "P-NEW,Nia Newcomer,nia@example.org,,M,A,2026-01-05,Lisbon\n"
)
MOVES = (
    "move_id,person_id,kind,title,host_team,start,end,percent_time,status,target_role_id,success_criteria,"
    "outcome,skills_gained\n"
    "MV-NEW,P-NEW,gig,Data clean-up gig,B,2026-02-02,2026-03-27,20,completed,,Cleaned the CRM export,end,\n"
    "MV-RUN,P-NEW,gig,Survey gig,B,2026-09-07,2026-12-18,20,active,,Survey sent,continue,\n"
)


def _files(**named: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, text.encode(), "text/csv")) for name, text in named.items()]


def _cli(world: World, *args: str) -> tuple[int, str]:
    url = world.db.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["--db", url, *args])
    return result.exit_code, result.stdout


def test_an_imported_review_is_shown_as_imported_not_as_the_admins(world: World) -> None:
    """The reviewer imported a completed move with outcome 'end': `moves show` said "reviewed 2026-03-27 by
    user:admin" (and the page "by admin"), but the admin who sent the files never reviewed it. The review is
    stored as imported: no reviewer, imported from the HRIS by the account that ran the import."""
    admin = world.client("admin")
    r = admin.post("/api/v1/imports", files=_files(**{"people.csv": PEOPLE, "moves.csv": MOVES}))
    assert r.status_code == 200, r.text
    with world.db.engine.connect() as conn:
        stored = dict(conn.execute(select(t.outcomes.c.move_id, t.outcomes.c.reviewer_id)).all())
    assert (stored["MV-NEW"], stored["MV-RUN"]) == ("import:user:admin", "import:user:admin")
    outcome = admin.get("/api/v1/moves/MV-NEW").json()["outcome"]
    assert (outcome["decision"], outcome["reviewer"], outcome["imported_by"]) == ("end", None, "admin")
    page = admin.get("/moves/MV-NEW", headers={"accept": "text/html"}).text
    assert "imported from the HRIS by admin" in page and "2026-03-27 by admin" not in page
    # A review made in the app still names its reviewer (mira's, of eva's finished move).
    done = admin.get(f"/api/v1/moves/{world.mv_done}").json()["outcome"]
    assert (done["reviewer"], done["imported_by"]) == ("Mira Manager", None)
    # The command line, as the reviewer ran it, and its JSON.
    code, out = _cli(world, "moves", "show", "MV-NEW")
    assert code == 0 and "(imported from the HRIS by user:admin, dated 2026-03-27)" in out, out
    assert "reviewed 2026-03-27 by user:admin" not in out
    code, out = _cli(world, "moves", "show", "MV-NEW", "--json")
    shown = json.loads(out)["outcome"]
    assert (shown["reviewer_id"], shown["imported_by"]) == (None, "user:admin")
    # Reviewed in the app afterwards, the imported 'continue' is an earlier review, still the import's.
    move_svc.review_move(world.db, "MV-RUN", reviewer_id="M", decision="continue")
    detail = admin.get("/api/v1/moves/MV-RUN").json()
    assert (detail["outcome"]["reviewer"], detail["outcome"]["imported_by"]) == ("Mira Manager", None)
    assert [(e["decision"], e["reviewer"], e["imported_by"]) for e in detail["earlier_reviews"]] == [
        ("continue", None, "admin")
    ]
    code, out = _cli(world, "moves", "show", "MV-RUN")
    assert code == 0 and "imported by admin" in out, out
