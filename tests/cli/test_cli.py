from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from micromoves.cli.main import app
from micromoves.storage import tables as t
from micromoves.storage.db import Database

# A move proposed through the CLI ends after today (moves that already ran are imported); one that has
# started can be activated at once.
RUN_START = (dt.date.today() - dt.timedelta(days=14)).isoformat()
RUN_END = (dt.date.today() + dt.timedelta(days=70)).isoformat()

runner = CliRunner()


def mm(db_url: str, *args: str, actor: str = "hr") -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, "--actor", actor, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def org_url(db_url: str, tmp_path: Path) -> str:
    (tmp_path / "roles.csv").write_text(
        "role_id,title,onet_code,level,team,critical\nR1,Analyst,15-2051.01,2,DATA,false\n"
        "R2,Data Scientist,15-2051.00,3,DATA,true\n"
    )
    (tmp_path / "people.csv").write_text(
        "person_id,name,email,role_id,manager_id,team,hire_date,location,cost_[b]center\n"
        "P1,Ada Boss,ada@x.org,R2,,DATA,2020-01-01,Berlin,CC1\n"
        "P2,Bo [bold]Analyst[/bold],bo@x.org,R1,P1,DATA,2023-01-01,Porto,CC2\n"
    )
    code, out, err = mm(db_url, "import", str(tmp_path / "roles.csv"), str(tmp_path / "people.csv"))
    assert code == 0, err
    assert "people: 2 created, 0 updated, 0 unchanged" in out
    # A column beyond the format is kept, and the summary says so (its name printed as written).
    assert "people: kept columns beyond the format: cost_[b]center" in out
    # Kept for the export, not shown: such a column may hold pay grades.
    for args in (("people", "show", "P2", "--json"), ("people", "list", "--json")):
        code, out, err = mm(db_url, *args)
        assert code == 0 and "P2" in out and "CC2" not in out and "center" not in out, (args, err)
    return db_url


def test_move_lifecycle_through_the_cli(org_url: str) -> None:
    code, out, err = mm(
        org_url,
        "moves",
        "propose",
        "--person",
        "P2",
        "--kind",
        "stretch_assignment",
        "--title",
        "Churn model",
        "--start",
        RUN_START,
        "--end",
        RUN_END,
        "--percent",
        "30",
        "--criterion",
        "Model in production",
        "--criterion",
        "Doc reviewed",
        "--skill",
        "Programming",
        "--target-role",
        "R2",
        "--request",
        "--json",
        actor="P2",
    )
    assert code == 0, err
    move = json.loads(out)
    mid = move["id"]
    assert move["status"] == "requested" and [c["statement"] for c in move["criteria"]] == [
        "Model in production",
        "Doc reviewed",
    ]
    # Approval is the two-person rule, not a plain transition: the line manager, then someone else.
    code, _, err = mm(org_url, "moves", "transition", mid, "approved", actor="P1")
    assert code == 2 and "moves approve" in err
    code, _, err = mm(org_url, "moves", "approve", mid, actor="P2")
    assert code != 0 and "approves their own move" in err
    code, out, err = mm(org_url, "moves", "approve", mid, "--note", "go", actor="P1")
    assert (code, out.strip()) == (0, f"{mid} is now requested"), err
    code, _, err = mm(org_url, "moves", "approve", mid, actor="P1")
    assert code != 0 and "second person" in err
    code, out, err = mm(org_url, "moves", "approve", mid, actor="hr")  # the operator, as the second approver
    assert (code, out.strip()) == (0, f"{mid} is now approved"), err
    from micromoves.services import accounts, views
    from micromoves.services.policy import Policy

    db = Database(org_url)
    admin = Policy(db, accounts.Principal(0, "hr", accounts.Access.ADMIN, None))
    approvers = [a.approver for a in views.move_detail(db, admin, mid).approvals]
    db.dispose()
    assert approvers == ["Ada Boss", "an operator (command line)"], approvers  # it read "user #None"
    for status in ("onboarding", "active"):
        code, out, err = mm(org_url, "moves", "transition", mid, status, "--reason", "ok", actor="P1")
        assert (code, out.strip()) == (0, f"{mid} is now {status}"), err
    code, out, err = mm(org_url, "moves", "check-in", mid, "--note", "on track", "--progress", "50", actor="P2")
    assert code == 0, err
    # --actor P has P's rights, as in the web app (the move commands used to skip them): nobody reviews their
    # own move, and an employee proposes moves for nobody but themself.
    review = ["moves", "review", mid, "--decision", "end", "--rate", "1=met", "--rate", "2=partly_met"]
    code, _, err = mm(org_url, *review, actor="P2")
    assert code == 2 and "you may not review this move" in err, err
    code, _, err = mm(
        org_url, "moves", "propose", "--person", "P1", "--kind", "gig", "--title", "x", "--start", "2026-01-05",
        "--end", "2026-02-06", "--percent", "10", "--criterion", "y", actor="P2",
    )  # fmt: skip
    assert code == 3 and "unknown person 'P1'" in err, err  # as the web app: not even shown to exist
    code, out, err = mm(
        org_url, *review, "--gain", "Programming=4", "--gain", "2.C.4.a=3", "--notes", "Ask for more scope",
        "--confidential", actor="P1",
    )  # fmt: skip
    assert (code, out.strip()) == (0, f"{mid} reviewed: end; now completed"), err
    # The review's confidential notes: the reviewer reads them, the person on the move does not
    shown = {who: json.loads(mm(org_url, "moves", "show", mid, "--json", actor=who)[1]) for who in ("P1", "P2")}
    assert (shown["P1"]["outcome"]["notes"], shown["P2"]["outcome"]["notes"]) == ("Ask for more scope", None)
    code, out, _ = mm(org_url, "moves", "show", mid, actor="P2")
    assert "Ask for more scope" not in out and "(notes confidential)" in out
    assert "skill gained: Programming 0 → 4" in out  # by name, not by element id
    # O*NET names two elements Mathematics (a skill and a knowledge area): labelled as the pages label them
    assert "skill gained: Mathematics (knowledge 2.C.4.a) 0 → 3" in out
    assert "Mathematics (knowledge 2.C.4.a) 0 → 3" in mm(org_url, "people", "show", "P2")[1]
    code, out, _ = mm(org_url, "skills", "show", "P2", "--json")
    skills = json.loads(out)
    assert sorted((s["name"], s["level"], s["provenance"], s["move_id"]) for s in skills) == [
        ("Mathematics", 3.0, "move_evidence", mid),
        ("Programming", 4.0, "move_evidence", mid),
    ]
    code, out, _ = mm(org_url, "moves", "show", mid, "--json")
    shown = json.loads(out)
    assert [h["to_status"] for h in shown["history"]] == [
        "proposed",
        "requested",
        "approved",
        "onboarding",
        "active",
        "in_review",
        "completed",
    ]
    code, out, _ = mm(org_url, "audit", "--entity", mid, "--json")
    assert [e["action"] for e in json.loads(out)][:2] == ["move.completed", "move.reviewed"]
    code, out, _ = mm(org_url, "moves", "list", "--person", "P2", "--json")
    assert [m["id"] for m in json.loads(out)] == [mid]


def test_people_listing_and_escaping(org_url: str) -> None:
    code, out, _ = mm(org_url, "people", "list", "--json")
    assert [p["id"] for p in json.loads(out)] == ["P1", "P2"]
    code, out, _ = mm(org_url, "people", "show", "P2")
    assert code == 0
    assert "Bo [bold]Analyst[/bold]" in out  # user text is printed literally, never as Rich markup


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["moves", "show", "NOPE"], 3, "error: unknown move 'NOPE'"),
        (["moves", "transition", "NOPE", "active"], 3, "error: unknown move 'NOPE'"),
        (["people", "show", "P404"], 3, "error: unknown person 'P404'"),
        (
            [
                "moves",
                "propose",
                "--person",
                "P2",
                "--kind",
                "gig",
                "--title",
                "x",
                "--start",
                "2026-01-05",
                "--end",
                "2026-13-01",
                "--percent",
                "20",
            ],
            2,
            "error: end: '2026-13-01' is not an ISO date (YYYY-MM-DD)",
        ),
        (
            [
                "moves",
                "propose",
                "--person",
                "P2",
                "--kind",
                "gig",
                "--title",
                "x",
                "--start",
                "2026-01-05",
                "--end",
                "2026-01-01",
                "--percent",
                "20",
            ],
            2,
            "error: end 2026-01-01 must be after start 2026-01-05",
        ),
        (
            # The service's field is percent_time: the message names the option typed.
            [
                "moves",
                "propose",
                "--person",
                "P2",
                "--kind",
                "gig",
                "--title",
                "x",
                "--start",
                "2099-01-05",
                "--end",
                "2099-03-01",
                "--percent",
                "150",
                "--criterion",
                "ok",
            ],
            2,
            "error: percent_time must be between 1 and 100, got 150 (--percent)",
        ),
        (
            ["moves", "review", "NOPE", "--decision", "end", "--rate", "one=met"],
            2,
            "error: --rate 'one=met': expected N=met|partly_met|not_met",
        ),
    ],
)
def test_user_errors_are_one_line_with_exit_code(org_url: str, args: list[str], code: int, message: str) -> None:
    exit_code, out, err = mm(org_url, *args)
    assert exit_code == code
    assert err.strip() == message
    assert "Traceback" not in out + err


def test_import_rejection_lists_every_problem(org_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "moves.csv"
    bad.write_text(
        "move_id,person_id,kind,title,host_team,start,end,percent_time,status,target_role_id,success_criteria,"
        "outcome,skills_gained\nX1,P9,gig,t,,2026-01-05,2026-02-01,20,proposed,,,,\n"
        "X2,P2,gig,t,,2026-01-05,2026-02-01,abc,proposed,,,,\n"
    )
    code, _out, err = mm(org_url, "import", str(bad))
    assert code == 2
    assert err.splitlines() == [
        "error: import rejected, nothing written: 2 problem(s)",
        "  moves.csv:2:person_id: unknown person 'P9'",
        "  moves.csv:3:percent_time: 'abc' is not a whole number",
    ]


def test_import_rejection_lists_every_problem_of_a_row_refused_for_another(org_url: str, tmp_path: Path) -> None:
    """`micromoves import moves3.csv --kind moves --known-teams`: the unknown skill of a row with a time share
    out of range, and the unknown host team of a row with an unknown rating, were not listed."""
    bad = tmp_path / "moves3.csv"
    bad.write_text(
        "move_id,person_id,kind,title,host_team,start,end,percent_time,status,target_role_id,success_criteria,"
        "outcome,skills_gained,criteria_ratings\n"
        "X1,P2,gig,Gig one,DATA,2025-01-06,2025-02-28,150,proposed,,c,,Nope:3>4,\n"
        "X2,P2,gig,Gig two,T-NOPE-TEAM,2025-01-06,2025-02-28,20,proposed,,c,,Programming:2>9,great\n"
    )
    code, _out, err = mm(org_url, "import", str(bad), "--kind", "moves", "--known-teams")
    assert code == 2
    assert err.splitlines() == [
        "error: import rejected, nothing written: 5 problem(s)",
        "  moves3.csv:2:percent_time: 150 is out of range 1–100",
        "  moves3.csv:2:skills_gained: unknown skill 'Nope' (O*NET element name or ESCO URI)",
        "  moves3.csv:3:criteria_ratings: unknown rating 'great'; one of: met, partly_met, not_met",
        "  moves3.csv:3:host_team: unknown team 'T-NOPE-TEAM' (teams are not created with known_teams)",
        "  moves3.csv:3:skills_gained: level 9 is outside O*NET's 0–7 level scale",
    ]


def test_export_writes_safe_csv(org_url: str, tmp_path: Path) -> None:
    code, _out, _ = mm(org_url, "export", str(tmp_path / "out"))
    assert code == 0
    assert (tmp_path / "out" / "people.csv").read_text().splitlines()[0].startswith("person_id,name,email")


def test_console_script_without_database(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "micromoves", "--db", str(tmp_path / "none.db"), "people", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "run `micromoves init` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_users_add_and_list(org_url: str) -> None:
    code, out, err = mm(
        org_url,
        "users",
        "add",
        "ada",
        "--access",
        "hr",
        "--person",
        "P1",
        "--org-unit",
        "DATA",
        "--password",
        "a long password",
    )
    assert code == 0, err
    assert "created user ada (hr)" in out
    code, out, _ = mm(org_url, "users", "list", "--json")
    users = json.loads(out)
    assert [(u["username"], u["access"], u["person_id"], u["org_units"]) for u in users] == [
        ("ada", "hr", "P1", ["DATA"])
    ]
    code, _, err = mm(org_url, "users", "add", "ada", "--password", "a long password")
    assert code != 0 and "taken" in err
    code, _, err = mm(org_url, "users", "add", "bo", "--password", "short")
    assert code != 0 and "at least 10 characters" in err


def test_users_set_password_prompts_twice_or_reads_stdin_and_never_takes_argv(org_url: str) -> None:
    from micromoves.services import accounts

    code, _, err = mm(org_url, "users", "add", "ada", "--password", "a long password")
    assert code == 0, err
    db = Database(org_url)
    try:
        session = accounts.start_session(db, accounts.authenticate(db, "ada", "a long password"))

        def set_password(*args: str, input: str, actor: str = "hr") -> tuple[int, str, str]:
            command = ["--db", org_url, "--actor", actor, "users", "set-password", *args]
            result = runner.invoke(app, command, input=input)
            return result.exit_code, result.stdout, result.stderr

        # Prompted twice, not echoed; two different answers are asked for again (and here the input ends).
        code, out, _ = set_password("ada", input="first new secret\nsecond new secret\n")
        assert code != 0 and "do not match" in out and "new secret" not in out
        assert accounts.authenticate(db, "ada", "a long password").username == "ada"
        code, out, err = set_password("ada", input="fresh secret 42\nfresh secret 42\n")
        assert code == 0, err
        assert "password set for ada: 1 session(s) ended" in out and "fresh secret" not in out
        assert accounts.session_principal(db, session.cookie) is None  # her sessions ended
        with pytest.raises(accounts.NotAuthenticated):
            accounts.authenticate(db, "ada", "a long password")
        assert accounts.authenticate(db, "ada", "fresh secret 42").username == "ada"
        # For scripts: one line on standard input.
        code, out, err = set_password("ada", "--password-stdin", "--revoke-tokens", input="from a script 7\n")
        assert code == 0, err
        assert "0 API token(s) revoked" in out
        assert accounts.authenticate(db, "ada", "from a script 7").username == "ada"
        # The rules, an unknown user, an empty stdin, and no --password option at all.
        code, _, err = set_password("ada", "--password-stdin", input="short\n")
        assert code == 2 and "at least 10 characters" in err
        code, _, err = set_password("nobody", "--password-stdin", input="whatever 12345\n")
        assert code == 3 and "unknown user 'nobody'" in err
        code, _, err = set_password("ada", "--password-stdin", input="")
        assert code == 2 and "no password on standard input" in err
        code, _, err = set_password("ada", "--password", "on the command line", input="")
        assert code == 2 and "No such option" in err
        assert accounts.authenticate(db, "ada", "from a script 7").username == "ada"
        # Admin only: a person without an admin account is refused before being asked for a password.
        code, out, err = set_password("ada", input="", actor="P1")
        assert code != 0 and "only administrators may set passwords" in err and "New password" not in out
        with db.engine.connect() as conn:
            audited = conn.execute(
                select(t.audit_events.c.actor, t.audit_events.c.details).where(
                    t.audit_events.c.action == "user.password_set"
                )
            ).all()
        assert [a.actor for a in audited] == ["user:hr", "user:hr"]
        assert "fresh secret" not in str(audited) and "from a script" not in str(audited)
    finally:
        db.dispose()


def test_admin_work_is_refused_to_an_actor_without_admin_rights(org_url: str, tmp_path: Path) -> None:
    """--actor P has P's rights: an employee created an admin account, ran and applied allocation runs and
    imported files, with the operator's rights and P's name in the audit log. The web refuses all of it."""
    (tmp_path / "more.csv").write_text("person_id,name,email,role_id,manager_id,team,hire_date,location\n")
    for args in (
        ("users", "add", "evil", "--access", "admin", "--password", "a long password"),
        ("users", "list"),
        ("allocate", "--json"),
        ("allocate", "--discard", "1"),
        ("import", str(tmp_path / "more.csv"), "--kind", "people"),
        ("demo", "--people", "50", "--replace", "--no-tour"),
    ):
        code, _, err = mm(org_url, *args, actor="P1")  # P1: a manager, without an admin account
        assert code != 0 and "only administrators may" in err, (args, err)
    code, out, _ = mm(org_url, "users", "list", "--json")  # the operator: admin rights
    assert code == 0 and "evil" not in out
    code, _, err = mm(org_url, "allocate", "--json")
    assert code == 0, err


def test_marketplace_through_the_cli(org_url: str) -> None:
    code, out, err = mm(
        org_url,
        "opportunities",
        "create",
        "--title",
        "Data quality gig",
        "--kind",
        "gig",
        "--team",
        "DATA",
        "--start",
        "2031-03-03",
        "--end",
        "2031-04-25",
        "--percent",
        "20",
        "--criterion",
        "Dashboard live",
        "--publish",
        actor="admin",
    )
    assert code == 0, err
    opportunity_id = out.strip()
    code, out, err = mm(org_url, "opportunities", "apply", opportunity_id, actor="P2")
    assert code == 0, err
    application = out.split()[-1]
    code, out, _ = mm(org_url, "opportunities", "show", opportunity_id, "--json", actor="admin")
    detail = json.loads(out)
    assert [(a["person"]["id"], a["status"]) for a in detail["applications"]] == [("P2", "applied")]
    code, out, _ = mm(org_url, "opportunities", "show", opportunity_id, actor="admin")
    assert out.startswith(f"Data quality gig ({opportunity_id}) — open, gig")  # it began "[bold]Data quality gig[/]"
    # It asks for no skill: no "100%" fit, in the applicant table as in the list (as the pages say it; the
    # table may wrap the words)
    assert "asked" in out and "100%" not in out
    code, out, _ = mm(org_url, "opportunities", "list", actor="P2")
    assert "asked" in out and "100%" not in out
    assert mm(org_url, "applications", "decide", application, "offer", actor="admin")[0] == 0
    code, out, err = mm(org_url, "applications", "decide", application, "accept", actor="P2")
    assert code == 0, err
    assert "move M-" in out and "requested" in out
    code, out, _ = mm(org_url, "opportunities", "list", "--json", actor="P2")
    assert json.loads(out)["opportunities"][0]["status"] == "filled"
    code, _, err = mm(org_url, "applications", "decide", application, "accept", actor="P2")
    assert code == 2 and "cannot go from accepted to accepted" in err
    code, out, err = mm(org_url, "opportunities", "show", opportunity_id, "--json", actor="admin")
    move_id = json.loads(out)["applications"][0]["move_id"]
    # The onboarding checklist, ticked off from the terminal.
    code, out, err = mm(org_url, "onboarding", move_id, "--json", actor="P2")
    items = json.loads(out)
    assert code == 0 and items and all(i["done_on"] is None for i in items), err
    # Not while the move is only requested (P1 has not released Bo), and each item by its party: Bo books his
    # first check-in; access to team DATA's tools is its manager's to grant, and DATA has none: P1's.
    access, check_in = items[0]["id"], items[3]["id"]
    assert (items[0]["owner"], items[3]["owner"]) == ("host_manager", "person")
    code, out, err = mm(org_url, "onboarding", move_id, "--done", str(check_in), actor="P2")
    assert code == 2 and "is requested: its onboarding checklist is ticked off while" in err, err
    assert mm(org_url, "moves", "approve", move_id, actor="P1")[0] == 0
    code, out, err = mm(org_url, "onboarding", move_id, "--done", str(access), actor="P2")
    assert code != 0 and "for the person's line manager" in err, err
    # An item of another move (or of none): refused before anything is ticked. It ticked the item, then
    # failed on the move named (a typo of the move id wrote the tick and answered an error).
    for other in ("M-NOPE", move_id):
        code, out, err = mm(org_url, "onboarding", other, "--done", str(check_in), "--done", "999999", actor="P2")
        assert code == 3 and ("M-NOPE" in err if other == "M-NOPE" else "--done 999999" in err), err
        assert json.loads(mm(org_url, "onboarding", move_id, "--json", actor="P2")[1])[3]["done_on"] is None
    code, out, err = mm(org_url, "onboarding", move_id, "--done", str(check_in), "--json", actor="P2")
    assert code == 0 and json.loads(out)[3]["done_by"] == "Bo [bold]Analyst[/bold]", err
    code, out, err = mm(org_url, "onboarding", move_id, "--done", str(access), "--json", actor="P1")
    assert code == 0 and json.loads(out)[0]["done_by"] == "Ada Boss", err
    code, out, err = mm(org_url, "onboarding", move_id, "--reopen", str(access), "--json", actor="P1")
    assert code == 0 and json.loads(out)[0]["done_on"] is None, err
    # A gig carries no handoff; the ledger and the release report answer (HR's report: not for P2).
    code, out, err = mm(org_url, "handoff", move_id, actor="P1")
    assert (code, out.strip()) == (0, f"{move_id} has no handoff"), err
    code, out, err = mm(org_url, "credit", "P1", "--json", actor="P1")
    assert code == 0 and json.loads(out)["people_released"] >= 0, err
    assert mm(org_url, "releases", "--json", actor="admin")[0] == 0
    code, _, err = mm(org_url, "releases", actor="P2")
    assert code != 0
    # Bo aims for the data scientist role and has no plan yet: the report says his demand is not counted.
    db = Database(org_url)
    with db.write_engine.begin() as conn:
        conn.execute(t.people.update().where(t.people.c.id == "P2").values(target_role_id="R2"))
    db.dispose()
    code, out, err = mm(org_url, "congestion", actor="admin")
    assert code == 0 and "Congestion" in out and "decided in" in out, err  # the wait: days to a decision
    flat = " ".join(out.split())
    assert "Plan demand counts 0 current plans." in flat
    assert "1 person with a target role has no current plan" in flat
    code, out, err = mm(org_url, "congestion", "--json", actor="admin")
    assert code == 0 and {"heatmap", "skill_heatmap"} <= set(json.loads(out)), err
    assert (json.loads(out)["current_plans"], json.loads(out)["targets_without_plan"]) == (0, 1)


def test_an_opportunity_with_eligibility_rules_from_the_cli(org_url: str) -> None:
    base = ["opportunities", "create", "--title", "Acting lead", "--kind", "acting_role", "--team", "DATA"]
    base += ["--start", "2031-03-03", "--end", "2031-04-25", "--percent", "50", "--criterion", "Team runs"]
    code, _, err = mm(org_url, *base, "--requires", "Programming", actor="admin")
    assert code == 2 and "--requires 'Programming': expected SKILL=LEVEL" in err
    # A title longer than the column: the database's error on PostgreSQL ("value too long for type character
    # varying(500)"), stored whole on SQLite; the API's limit, named.
    long_title = [*base[:3], "T" * 501, *base[4:]]
    code, out, err = mm(org_url, *long_title, actor="admin")
    assert code == 2 and "a title is at most 500 characters, got 501" in err and "database" not in err, (out, err)
    # The same skill twice kept the last level without a word (the web form refuses it, naming the line).
    code, out, err = mm(org_url, *base, "--requires", "Programming=3", "--requires", "Programming=5", actor="admin")
    assert code == 2 and "--requires 'Programming=5': Programming is given twice" in err, (out, err)
    code, out, err = mm(
        org_url,
        *base,
        "--requires",
        "Programming=6.5",
        "--prefers",
        "Critical Thinking=3",
        "--builds",
        "Programming=0.5",
        "--min-level",
        "2",
        "--min-tenure",
        "6",
        "--location",
        "Berlin",
        "--deadline",
        "2031-02-20",
        "--publish",
        actor="admin",
    )
    assert code == 0, err
    opportunity_id = out.strip()
    code, out, _ = mm(org_url, "opportunities", "show", opportunity_id, "--json", actor="admin")
    detail = json.loads(out)
    rules = " ".join(detail["eligibility"])
    assert {"role level 2+", "6+ months with the organisation", "in Berlin"} <= set(detail["eligibility"]), rules
    assert detail["application_deadline"] == "2031-02-20"
    assert list(detail["required_skills"].values()) == [6.5] and list(detail["builds_skills"].values()) == [0.5]
    # Nobody here holds Programming at 6.5: applying is refused with the reason.
    code, _, err = mm(org_url, "opportunities", "apply", opportunity_id, actor="P2")
    assert code != 0 and "Programming" in err


def test_an_unusable_database_url_setting_or_schema_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL that does not parse or names a driver that is not installed, a bad MICROMOVES_* value, and a
    database at a schema revision this micromoves does not know: each is one line naming the problem and a
    non-zero exit (each was a traceback), and a password in the URL is not printed."""
    import sqlite3

    from micromoves.settings import get_settings

    for url, said in [
        ("postgresql+psycopg://u:secret@host:notaport/x", "invalid literal for int()"),
        ("mysql://u:secret@127.0.0.1/x", "No module named"),
    ]:
        code, _, err = mm(url, "moves", "list")
        assert code == 2 and "cannot open the database" in err and said in err and "secret" not in err, err
        assert "Traceback" not in err
    path = tmp_path / "newer.db"
    assert mm(str(path), "init")[0] == 0
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    code, _, err = mm(str(path), "moves", "list")
    assert code == 2 and "'0999'" in err and "newer micromoves" in err, err
    monkeypatch.setenv("MICROMOVES_DATA_DIR", str(tmp_path / "data"))  # the settings name the database
    monkeypatch.setenv("MICROMOVES_MAX_MOVE_WEEKS", "abc")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["init"])
        assert result.exit_code == 2 and "MICROMOVES_MAX_MOVE_WEEKS" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        # With --db too: a command that never reads the settings itself ran on (exit 0)
        result = runner.invoke(app, ["--db", str(path), "people", "list"])
        assert result.exit_code == 2 and "MICROMOVES_MAX_MOVE_WEEKS" in result.stderr, result.stderr
        monkeypatch.setenv("MICROMOVES_MAX_MOVE_WEEKS", "26")
        monkeypatch.setenv("MICROMOVES_DEFAULT_CAPACITY_PERCENT", "500")  # people.csv allows 1–200
        get_settings.cache_clear()
        result = runner.invoke(app, ["init"])
        assert result.exit_code == 2 and "MICROMOVES_DEFAULT_CAPACITY_PERCENT" in result.stderr, result.stderr
    finally:
        get_settings.cache_clear()


def test_counts_and_weights_out_of_range_are_refused(org_url: str) -> None:
    """A negative limit listed everything; plan-all ran with "-2 workers"; a NaN equity weight reached the
    database as a constraint error. Each is now refused naming the option."""
    for args, said in [
        (["moves", "list", "--limit", "-5"], "--limit"),
        (["audit", "--limit", "-1"], "--limit"),
        (["plan-all", "--workers", "-2"], "--workers"),
    ]:
        code, _, err = mm(org_url, *args)
        assert code == 2 and said in err, (args, err)
    for weight in ("nan", "1e14"):  # 1e14 crashed the solver with a traceback (its cost range)
        code, _, err = mm(org_url, "allocate", "--equity-weight", weight, actor="admin")
        assert code == 2 and "equity weight must be 0–100" in err, err


def test_a_mistyped_person_id_as_actor_is_refused_not_made_an_operator(org_url: str) -> None:
    """--actor P9 (a typo for a person id shaped like P1, P2) acted as the operator with admin rights and
    proposed a move for someone else; it is refused and nothing is written. Operator names stay free."""
    propose = ["moves", "propose", "--person", "P1", "--kind", "gig", "--title", "Typo", "--start", "2031-03-03"]
    propose += ["--end", "2031-04-25", "--percent", "10", "--criterion", "Done"]
    for typo in ("P9", "p2"):  # case aside too: p2 is no person (ids are case-sensitive) but reads as one
        code, out, err = mm(org_url, *propose, actor=typo)
        assert code != 0 and f"no person '{typo}'" in err and "--actor takes a person id" in err
    code, out, err = mm(org_url, "moves", "list", "--json", actor="hr")
    assert code == 0 and json.loads(out) == [], err
    code, out, err = mm(org_url, *propose, actor="hr-team-2")  # an operator name: shaped like no person id
    assert code == 0, err


def _reviewed_move_with_confidential_notes(org_url: str) -> str:
    """P2's move, reviewed by their manager P1 with confidential notes: "Not ready to lead"."""
    code, out, err = mm(
        org_url, "moves", "propose", "--person", "P2", "--kind", "gig", "--title", "Churn model", "--start",
        RUN_START, "--end", RUN_END, "--percent", "10", "--criterion", "Done", "--request", "--json", actor="P2",
    )  # fmt: skip
    assert code == 0, err
    mid = json.loads(out)["id"]
    for actor, args in [
        ("P1", ("approve", mid)),
        ("hr", ("approve", mid)),
        ("P1", ("transition", mid, "onboarding")),
        ("P1", ("transition", mid, "active")),
        (
            "P1",
            ("review", mid, "--decision", "end", "--rate", "1=met", "--notes", "Not ready to lead", "--confidential"),
        ),
    ]:
        code, _, err = mm(org_url, "moves", *args, actor=actor)
        assert code == 0, (args, err)
    return mid


def test_an_actor_that_is_no_person_and_no_operator_name_is_refused(org_url: str) -> None:
    """--actor P000926 (a mistyped P-000926), "P-000926 ", P_000926 or a made-up P-NOPE acted as the operator
    with admin rights: it printed confidential review notes, proposed and approved moves, and the audit log
    recorded user:P-NOPE. An actor that is no person must be an operator name (lower case: cli, hr); else
    it is refused, naming the option and the value, and nothing is shown or written."""
    mid = _reviewed_move_with_confidential_notes(org_url)
    code, out, err = mm(org_url, "moves", "show", mid, actor="hr")  # the operator reads them
    assert code == 0 and "Not ready to lead" in out, err
    propose = ["moves", "propose", "--person", "P2", "--kind", "gig", "--title", "Made up", "--start", RUN_START]
    propose += ["--end", RUN_END, "--percent", "10", "--criterion", "Done", "--request"]
    with Database(org_url).engine.connect() as conn:
        before = conn.execute(select(t.moves.c.id, t.moves.c.status)).all()
    # P-2, P_2 and "P2 " read as P2 (case and separators aside): the error says so.
    for typo, hint in [("P-2", "P2"), ("P_2", "P2"), ("P2 ", "P2"), ("P-NOPE", None), ("Hr", None), ("", None)]:
        for args in (("moves", "show", mid), tuple(propose), ("moves", "approve", mid), ("people", "list")):
            code, out, err = mm(org_url, *args, actor=typo)
            said = " ".join(err.split())
            assert code != 0 and f"no person '{typo}' (--actor)" in said, (typo, args, err)
            assert "--actor takes a person id" in said and "Not ready to lead" not in out, (typo, err)
            assert (f"did you mean {hint}?" in said) == (hint is not None), (typo, err)
    with Database(org_url).engine.connect() as conn:
        assert conn.execute(select(t.moves.c.id, t.moves.c.status)).all() == before
        actors = set(conn.scalars(select(t.audit_events.c.actor)))
    assert not {a for a in actors if "NOPE" in a or "P-2" in a or "P_2" in a}, actors


def test_operator_names_stay_free_and_account_usernames_have_their_accounts_rights(
    org_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator keeps its names (the default, hr, nightly, hr-team-2) and admin rights; a lower-case name
    that reads as a person id (p2 beside P2, p-9 beside P1) is refused. An account's username acted with
    admin rights too (--actor ada for Ada's employee account read confidential notes): it has that
    account's rights, as if it had logged in; a deactivated account is refused."""
    from micromoves.services import accounts
    from micromoves.settings import get_settings

    mid = _reviewed_move_with_confidential_notes(org_url)
    for name in ("hr", "nightly", "hr-team-2", "ops.bot_1"):
        code, out, err = mm(org_url, "moves", "show", mid, actor=name)
        assert code == 0 and "Not ready to lead" in out, (name, err)
    result = runner.invoke(app, ["--db", org_url, "moves", "show", mid])  # the default: MICROMOVES_ACTOR, cli
    assert result.exit_code == 0 and "Not ready to lead" in result.stdout, result.stderr
    for typo in ("p2", "p-9", "p000009"):
        code, out, err = mm(org_url, "moves", "show", mid, actor=typo)
        assert code != 0 and f"no person '{typo}' (--actor)" in err and "Not ready to lead" not in out, err
    assert mm(org_url, "users", "add", "ada", "--person", "P2", "--password", "a long password")[0] == 0
    assert mm(org_url, "users", "add", "integrator", "--password", "a long password")[0] == 0
    assert mm(org_url, "users", "add", "root", "--access", "admin", "--password", "a long password")[0] == 0
    code, out, err = mm(org_url, "moves", "show", mid, actor="ada")  # P2's account: P2 reads no notes
    assert code == 0 and "(notes confidential)" in out and "Not ready to lead" not in out, err
    code, out, err = mm(org_url, "moves", "show", mid, actor="Integrator")  # an employee without a person
    assert code == 3 and f"unknown move '{mid}'" in err and "Not ready to lead" not in out, err
    code, out, err = mm(org_url, "moves", "show", mid, actor="root")  # an admin account
    assert code == 0 and "Not ready to lead" in out, err
    # What it does is recorded under the account's person (or user:NAME), not as typed: "ROOT" and "Ada"
    # were written to plans, imports and offers as such.
    code, _, err = mm(org_url, "users", "add", "bob", "--password", "a long password", actor="ROOT")
    assert code == 0, err
    db = Database(org_url)
    try:
        with db.engine.connect() as conn:
            created = select(t.audit_events.c.actor, t.audit_events.c.details).where(
                t.audit_events.c.action == "user.created"
            )
            assert [a for a, d in conn.execute(created) if d["username"] == "bob"] == ["user:root"]
    finally:
        db.dispose()
    db = Database(org_url)
    try:
        integrator = accounts.user_named(db, "integrator")
        admin = accounts.Principal(accounts.user_named(db, "root").id, "root", accounts.Access.ADMIN, None)
        accounts.update_user(db, integrator.id, active=False, actor=admin)
    finally:
        db.dispose()
    code, out, err = mm(org_url, "people", "list", actor="integrator")
    assert code == 2 and "--actor 'integrator': the account 'integrator' is deactivated" in err and not out, err
    # MICROMOVES_ACTOR follows the same rule; its error names it.
    monkeypatch.setenv("MICROMOVES_ACTOR", "P-NOPE")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["--db", org_url, "moves", "show", mid])
        assert result.exit_code != 0 and "no person 'P-NOPE' (MICROMOVES_ACTOR)" in result.stderr, result.stderr
        assert "Not ready to lead" not in result.stdout
    finally:
        get_settings.cache_clear()


def test_a_listing_cut_at_its_limit_says_so(org_url: str) -> None:
    """`people list --json` returned the first 50 people of 400 and nothing said more existed; a script took
    them for everyone. The JSON stays a plain list; standard error says how to get the rest."""
    code, out, err = mm(org_url, "people", "list", "--json", "--limit", "1")
    assert code == 0 and [p["id"] for p in json.loads(out)] == ["P1"]
    assert "more people than the 1 listed: --offset 1" in err
    code, out, err = mm(org_url, "people", "list", "--json", "--limit", "1", "--offset", "1")
    assert code == 0 and [p["id"] for p in json.loads(out)] == ["P2"] and "more people" not in err
    code, out, err = mm(org_url, "people", "list", "--limit", "1")
    assert code == 0 and "more with --offset 1" in " ".join(out.split())


def test_an_export_that_cannot_be_written_says_where_and_why(org_url: str, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, out, err = mm(org_url, "export", str(blocker / "out"))
    assert code != 0 and "Errno" not in err and str(blocker) in err and "Not a directory" in " ".join(err.split())
    code, out, err = mm(org_url, "releases", actor="admin")
    assert code == 0 and "later role" in out


def test_import_refuses_a_column_named_almost_like_a_format_column(db_url: str, tmp_path: Path) -> None:
    (tmp_path / "roles.csv").write_text("role_id,title,onet_code,level,team,critical\nR1,Analyst,,2,DATA,false\n")
    (tmp_path / "people.csv").write_text(
        "person_id,name,email,role_id,manager_id,team,hire_date,location,capacity_percnt\n"
        "P1,Ada Boss,ada@x.org,R1,,DATA,2020-01-01,Berlin,50\n"
    )
    code, out, err = mm(db_url, "import", str(tmp_path / "roles.csv"), str(tmp_path / "people.csv"))
    assert code != 0 and "nothing written" in err, (out, err)
    assert "capacity_percnt: named almost like the format's column 'capacity_percent'" in err


def test_moves_show_lists_earlier_reviews_as_the_move_page_does(org_url: str) -> None:
    """A later review supersedes the outcome; the move page listed the earlier one, the CLI did not."""
    code, out, err = mm(
        org_url, "moves", "propose", "--person", "P2", "--kind", "rotation", "--title", "Rotation",
        "--start", RUN_START, "--end", RUN_END, "--percent", "20", "--criterion", "Ship it", "--request", "--json",
        actor="P2",
    )  # fmt: skip
    assert code == 0, err
    mid = json.loads(out)["id"]
    # the line manager approves, then the operator; the line manager starts it
    for who, args in [
        ("P1", ("approve", mid)),
        ("hr", ("approve", mid)),
        ("P1", ("transition", mid, "onboarding")),
        ("P1", ("transition", mid, "active")),
    ]:
        code, _, err = mm(org_url, "moves", *args, actor=who)
        assert code == 0, err
    first = ["moves", "review", mid, "--decision", "continue", "--rate", "1=partly_met", "--notes", "EARLY-NOTE"]
    code, _, err = mm(org_url, *first, "--confidential", actor="P1")
    assert code == 0, err
    code, _, err = mm(org_url, "moves", "review", mid, "--decision", "end", "--rate", "1=met", actor="P1")
    assert code == 0, err
    shown = {who: json.loads(mm(org_url, "moves", "show", mid, "--json", actor=who)[1]) for who in ("P1", "P2")}
    assert [(r["decision"], r["notes"]) for r in shown["P1"]["earlier_reviews"]] == [("continue", "EARLY-NOTE")]
    assert [(r["decision"], r["notes"]) for r in shown["P2"]["earlier_reviews"]] == [("continue", None)]
    code, out, _ = mm(org_url, "moves", "show", mid, actor="P2")
    assert "earlier reviews" in out and "1: partly_met" in out and "EARLY-NOTE" not in out


def test_kinds_statuses_decisions_and_ratings_are_read_in_any_case(org_url: str) -> None:
    """`--kind Gig`, `--status Active`, `transition M Onboarding`, `--decision End`, `--rate 1=Met`: read as
    the import, the API and the forms read them (one parser, any case; click's choices and Decision('End')
    refused them), stored and shown canonical. Anything else is one error line naming the accepted values."""
    code, out, err = mm(
        org_url, "moves", "propose", "--person", "P2", "--kind", "Lateral_Swap", "--title", "Swap",
        "--start", RUN_START, "--end", RUN_END, "--percent", "20", "--criterion", "Ship it", "--request", "--json",
        actor="P2",
    )  # fmt: skip
    assert code == 0, err
    move = json.loads(out)
    mid = move["id"]
    assert (move["kind"], move["status"]) == ("lateral_swap", "requested")
    for who, args in [("P1", ("approve", mid)), ("hr", ("approve", mid))]:
        code, _, err = mm(org_url, "moves", *args, actor=who)
        assert code == 0, err
    for status in ("Onboarding", "ACTIVE"):
        code, out, err = mm(org_url, "moves", "transition", mid, status, actor="P1")
        assert (code, out.strip()) == (0, f"{mid} is now {status.lower()}"), err
    code, out, err = mm(org_url, "moves", "list", "--status", "Active", "--kind", "LATERAL_SWAP", "--json")
    assert code == 0 and [(m["id"], m["status"]) for m in json.loads(out)] == [(mid, "active")], err
    code, out, err = mm(org_url, "moves", "review", mid, "--decision", "End", "--rate", "1=Partly_Met", actor="P1")
    assert (code, out.strip()) == (0, f"{mid} reviewed: end; now completed"), err
    shown = json.loads(mm(org_url, "moves", "show", mid, "--json")[1])
    assert (shown["outcome"]["decision"], shown["criteria"][0]["rating"]) == ("end", "partly_met")
    for args, message in [
        (
            ["moves", "list", "--status", "finished"],
            "error: unknown status 'finished'; one of: proposed, requested, approved, onboarding, active, "
            "in_review, completed, declined, withdrawn, reverted",
        ),
        (["moves", "list", "--kind", "Sabbatical"], "error: unknown move kind 'Sabbatical'; one of: "),
        (["moves", "transition", mid, "done"], "error: unknown status 'done'; one of: proposed"),
        (
            ["moves", "review", mid, "--decision", "Ended"],
            "error: unknown decision 'Ended'; one of: continue, extend, convert, revert, end",
        ),
        (
            ["moves", "review", mid, "--decision", "end", "--rate", "1=maybe"],
            "error: --rate '1=maybe': unknown rating 'maybe'; one of: met, partly_met, not_met",
        ),
        (
            ["moves", "propose", "--person", "P2", "--kind", "sabbatical", "--title", "x", "--start", RUN_START,
             "--end", RUN_END, "--percent", "10", "--criterion", "y"],
            "error: unknown move kind 'sabbatical'; one of: stretch_assignment, rotation",
        ),
    ]:  # fmt: skip
        code, _, err = mm(org_url, *args)
        assert code == 2 and err.startswith(message) and "Traceback" not in err, (args, err)


def test_import_counts_a_file_without_rows_and_refuses_a_stray_quote(org_url: str, tmp_path: Path) -> None:
    """A header-only moves.csv printed nothing about moves (the summary left the kind out); a stray quote
    imported with success, swallowing the rows after it. The first is counted with zeros, the second is a
    problem naming the file, line and column."""
    header = (
        "move_id,person_id,kind,title,host_team,start,end,percent_time,status,target_role_id,success_criteria,"
        "outcome,skills_gained\n"
    )
    moves = tmp_path / "moves.csv"
    moves.write_text(header)
    code, out, err = mm(org_url, "import", str(moves))
    assert code == 0, err
    assert "moves: 0 created, 0 updated, 0 unchanged" in out
    moves.write_text(header + 'X1,P2,gig,"said ""hi,,2026-01-05,2026-02-01,20,proposed,,,,\nX2,P2,gig,t,,,,,,,,,\n')
    code, out, err = mm(org_url, "import", str(moves))
    assert code == 2 and "Traceback" not in out + err
    assert err.splitlines() == [
        "error: import rejected, nothing written: 1 problem(s)",
        "  moves.csv:2:title: unbalanced quote: the cell starting on line 2 never ends (a quote opens it and none "
        'closes it); write a quote inside a quoted cell twice ("")',
    ]
    code, out, err = mm(org_url, "moves", "list", "--json")
    assert code == 0 and "X1" not in out and "X2" not in out, err


def test_plan_all_is_an_operators_command(org_url: str) -> None:
    """Any person could run plan-all with --actor P and replace everyone's current plan."""
    code, _, err = mm(org_url, "plan-all", "--backend", "serial", actor="P2")
    assert code != 0 and "plan for everyone" in err, err
    db = Database(org_url)
    try:
        with db.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(t.plans)) == 0
            denied = select(t.audit_events.c.details).where(t.audit_events.c.action == "access.denied")
            assert [d["attempted"] for d in conn.scalars(denied)] == ["plan for everyone"]
    finally:
        db.dispose()
    code, out, err = mm(org_url, "plan-all", "--backend", "serial")
    assert code == 0 and "planned 0 people" in out, err


def test_a_handoff_is_recorded_and_corrected_from_the_terminal(org_url: str) -> None:
    """`handoff MOVE --holder …` records a move's handoff; `--correct` replaces it (there was no way to fix a
    typo), under the rules of a new one: the holder cannot also be the backfill."""
    code, out, err = mm(
        org_url, "moves", "propose", "--person", "P2", "--kind", "acting_role", "--title", "Acting lead",
        "--start", RUN_START, "--end", RUN_END, "--percent", "50", "--criterion", "Team runs", "--json", actor="P1",
    )  # fmt: skip
    assert code == 0, err
    mid = json.loads(out)["id"]
    code, _, err = mm(org_url, "handoff", mid, "--holder", "P1", "--responsibilities", "1:1s", "--backfill", "P1")
    assert code == 2 and "cannot also backfill" in err, err
    code, out, err = mm(org_url, "handoff", mid, "--holder", "P1", "--responsibilities", "1:1s", actor="P1")
    assert code == 0 and "Ada Boss hands '1:1s' to" in out, err
    code, _, err = mm(org_url, "handoff", mid, "--correct", actor="P1")
    assert code == 2 and "give --holder" in err, err
    code, _, err = mm(org_url, "handoff", mid, "--holder", "P1", "--responsibilities", "1:1s, hiring", actor="P2")
    assert code != 0 and "you may not" in err, err  # the person on the move records nothing of it
    code, out, err = mm(
        org_url, "handoff", mid, "--holder", "P1", "--responsibilities", "1:1s, hiring", "--correct", "--json",
        actor="P1",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["responsibilities"] == "1:1s, hiring", err


def test_ids_and_team_names_from_an_import_are_printed_literally(org_url: str, tmp_path: Path) -> None:
    """Ids come from an HRIS as they are: one holding brackets was read as Rich markup (``Ops [i]`` lost
    its ``[EMEA]``, and a ``[/]`` stopped the command with a traceback, after the import had committed)."""
    (tmp_path / "people.csv").write_text(
        "person_id,name,email,role_id,manager_id,team,hire_date,location\n"
        "P[/]3,Cy,cy@x.org,R1,P1,Ops [i],2023-01-01,Porto\n"
    )
    (tmp_path / "moves.csv").write_text(
        "move_id,person_id,kind,title,host_team,start,end,percent_time,status,target_role_id,"
        "success_criteria,outcome,skills_gained\n"
        "M-[red]1,P[/]3,gig,Gig,Ops [i],2024-01-08,2024-02-09,20,approved,R2,Ship it,,\n"
    )
    code, out, err = mm(org_url, "import", str(tmp_path / "people.csv"), str(tmp_path / "moves.csv"))
    assert code == 0, err
    assert "teams created: Ops [i]" in out, out
    code, out, err = mm(org_url, "people", "show", "P[/]3")
    assert code == 0, err
    assert "(P[/]3)" in out and "team Ops [i]" in out and "M-[red]1" in out, out
    code, out, err = mm(org_url, "moves", "show", "M-[red]1")
    assert code == 0, err
    assert "M-[red]1" in out and "host team: Ops [i]" in out, out
    code, out, err = mm(org_url, "moves", "transition", "M-[red]1", "onboarding")
    assert code == 0 and "M-[red]1 is now onboarding" in out, (out, err)


def test_a_db_path_given_with_a_tilde_is_in_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--db=~/x (no shell expands it there) or a quoted "~/x" made a directory named "~" in the working
    directory and a database in it, not in the home directory."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    result = CliRunner().invoke(app, ["--db=~/mm.sqlite3", "init"])
    assert result.exit_code == 0, result.output
    assert (home / "mm.sqlite3").exists() and not (work / "~").exists()


def test_export_with_a_byte_order_mark_reads_back_in(org_url: str, tmp_path: Path) -> None:
    """``--bom`` writes files Excel reads with their accents; the import skips the mark, so they import back
    unchanged. A JSON export has no mark to write: asked for one, the command refuses before writing."""
    (tmp_path / "accented").mkdir()
    people = tmp_path / "accented" / "people.csv"
    people.write_text(
        "person_id,name,email,role_id,manager_id,team,hire_date,location\n"
        "P3,Zoë Müller,zoe@x.org,R1,P1,DATA,2024-01-01,Köln\n",
        encoding="utf-8",
    )
    code, _out, err = mm(org_url, "import", str(people))
    assert code == 0, err
    code, _out, err = mm(org_url, "export", str(tmp_path / "out"), "--bom")
    assert code == 0, err
    raw = (tmp_path / "out" / "people.csv").read_bytes()
    assert raw.startswith("\ufeff".encode()) and "Zoë Müller" in raw.decode("utf-8-sig")
    assert not (tmp_path / "out2").exists()
    code, _out, err = mm(org_url, "export", str(tmp_path / "out2"))
    assert code == 0 and not (tmp_path / "out2" / "people.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    code, out, err = mm(org_url, "import", str(tmp_path / "out" / "people.csv"))
    assert code == 0 and "people: 0 created, 0 updated, 3 unchanged" in out, (out, err)
    code, _out, err = mm(org_url, "export", str(tmp_path / "all.json"), "--bom")
    assert code == 2 and "--bom is for CSV files" in err and not (tmp_path / "all.json").exists()
