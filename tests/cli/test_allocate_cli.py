"""`micromoves allocate`: propose with a table of explanations, JSON, apply, discard, and clear errors."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from typer.testing import CliRunner

from micromoves.cli.main import app
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from tests.services.test_allocation_service import application, base_org, insert, opportunity

runner = CliRunner()


def mm(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, "--actor", "hr", *args])
    return result.exit_code, result.stdout, result.stderr


def test_allocate_propose_apply_and_discard(db_url: str) -> None:
    db = Database(db_url)
    base_org(db, {"A": 10, "B": 5})
    insert(db, t.opportunities, [opportunity("O1", seats=2), opportunity("O2")])
    insert(db, t.applications, [application("A-0", "O1", benefit=3), application("B-0", "O2", benefit=1)])

    code, out, err = mm(db_url, "allocate", "--today", "2026-06-01")
    assert code == 0, err
    assert "allocation run 1 (proposed)" in out
    assert "3 weeks" in out and "sooner" in out  # the explanation (wrapped to the terminal width)
    assert "2 assignments" in out and "micromoves allocate --apply 1" in out
    # O1's second seat stays empty, and the run says why.
    flat = " ".join(out.split())
    assert "1 of 3 seats left empty, and why" in flat
    assert "only 1 applied, and they got a seat" in flat  # the reason (wrapped in its cell)

    code, out, err = mm(db_url, "allocate", "--today", "2026-06-01", "--equity-weight", "0", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["id"] == 2 and data["status"] == "proposed"  # the API's shape: GET /api/v1/allocations/2
    assert "problem" not in data and "pairs" not in data
    assert {a["person_id"] for a in data["assignments"]} == {"A-0", "B-0"}
    assert [(u["opportunity_id"], u["reason"]) for u in data["unfilled"]] == [
        ("O1", "only 1 applied, and they got a seat here")
    ]

    code, out, err = mm(db_url, "allocate", "--discard", "2")
    assert code == 0 and "discarded" in out
    # A run computed as of another day is not applied today: its eligibility, capacity, equity and release
    # limits were judged as of 2026-06-01 (real offers judged as of 2030 were sent so).
    code, out, err = mm(db_url, "allocate", "--apply", "1")
    assert code != 0 and f"it was computed as of 2026-06-01, not {dt.date.today()}" in err, err
    code, out, err = mm(db_url, "allocate", "--today", "2026-06-01", "--apply", "1")
    assert code == 0, err
    assert "allocation run 1 (applied)" in out and "2 offers sent" in out
    with db.engine.connect() as conn:
        assert set(conn.scalars(select(t.applications.c.status))) == {"offered"}
        app_id = conn.scalar(select(t.applications.c.id).where(t.applications.c.person_id == "A-0"))
    # Dates still to come by the real today (an offer of an opportunity whose end has passed is not accepted).
    start = dt.date.today() + dt.timedelta(weeks=2)
    with db.write_engine.begin() as conn:
        conn.execute(
            t.opportunities.update().values(
                criteria_template=["Ship the first release"], start=start, end=start + dt.timedelta(weeks=8)
            )
        )
    # The applicant accepts an offer made from the command line by an actor that is not a person (here "hr",
    # the actor of these commands; by default "cli"): it failed on the approvals' foreign key to people.
    code, out, err = mm(db_url, "--actor", "A-0", "applications", "decide", str(app_id), "accept")
    assert code == 0, err
    with db.engine.connect() as conn:
        approval = conn.execute(select(t.move_approvals).where(t.move_approvals.c.slot == "host")).one()
    assert (approval.approver_id, approval.approver_user_id, approval.note) == (None, None, "offer for O1 by hr")

    # Applying twice, or a run that does not exist: one clear line, non-zero exit, no traceback.
    code, out, err = mm(db_url, "allocate", "--apply", "1")
    assert code == 2 and "only a proposed run can be applied" in err and "Traceback" not in err
    code, out, err = mm(db_url, "allocate", "--apply", "42")
    assert code == 3 and "no allocation run 42" in err
    code, out, err = mm(db_url, "allocate", "--apply", "1", "--discard", "1")
    assert code == 2 and "not both" in err
    code, out, err = mm(db_url, "allocate", "--away-percent", "0")
    assert code == 2 and "--away-percent" in err and "Traceback" not in err
    db.dispose()


def test_allocate_help_says_what_the_score_is_made_of(db_url: str) -> None:
    """The help ended "… + skill fit", read as a term the allocation does not use. It is one (a 0–1 term, so
    at most a week's worth, that each assignment's *why* gives as "skills N% matched"): the help now says so
    exactly, with the rest of what the run optimises and under which limits."""
    result = runner.invoke(app, ["allocate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    flat = " ".join(result.stdout.split())
    for said in (
        "the assignment with the highest total score (min-cost flow, exact)",
        "a live (applied or waitlisted) applicant who meets the opportunity's role level, tenure, location and "
        "required skill levels and has the time free over its dates",
        "At most one seat per person, the opportunity's free seats, and per team at most --release-share",
        "the weeks sooner it makes them ready for their target role (their plan's estimate, stored with the "
        "application) + --equity-weight if they started no move in the last 12 months + how far their skills "
        "reach the opportunity's required and preferred levels (0 to 1, so at most a week's worth; 1 when it "
        "asks for no skills)",
        "A seat that scores 0 is not proposed",
    ):
        assert said in flat, said
    # And the score is what the help says: 3 weeks sooner, no equity weight, no skills asked (1).
    db = Database(db_url)
    base_org(db, {"A": 10})
    insert(db, t.opportunities, [opportunity("O1")])
    insert(db, t.applications, [application("A-0", "O1", benefit=3)])
    code, out, err = mm(db_url, "allocate", "--today", "2026-06-01", "--equity-weight", "0", "--json")
    assert code == 0, err
    [chosen] = json.loads(out)["assignments"]
    assert chosen["score"] == 4.0 and chosen["explanation"].endswith("no particular skills asked"), chosen
    db.dispose()
