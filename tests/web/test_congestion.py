"""HR's congestion report and its alternate routes, as the service, the page, its JSON twin and the CLI show them."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from micromoves.cli.main import app as cli
from micromoves.cli.render import console
from micromoves.services import catalogue, congestion, org
from micromoves.services.planning import OPPORTUNITY_PREFIX
from micromoves.storage import tables as t
from tests.services.test_allocation_service import opportunity
from tests.web.conftest import TODAY, World

NOW = dt.datetime.now(dt.UTC)
WEEK = dt.timedelta(weeks=1)


def _url(world: World) -> str:
    return world.db.url.render_as_string(hide_password=False)


def _past_opportunities(world: World) -> None:
    """Opportunities of team B (open unless said), each with an application of otto's, one also in his plan:

    - OPP-GONE: ended four weeks ago; otto's application was rejected. Nobody wants it: noise.
    - OPP-CLOSED: starts next week, applications closed yesterday; otto withdrew. Nobody wants it: noise.
    - OPP-ENDED-WAITING: ended, but otto's application still waits for a decision: demand, listed.
    - OPP-ENDED-PLANNED: ended, but otto's current plan still takes it: demand, listed.
    - OPP-RUNNING: filled by otto, started two weeks ago, nobody waiting: taken, not congested; noise.
    - OPP-STILL-OPEN: otto was rejected, but it runs later and takes applications until next week: listed.
    - OPP-TAKEN: filled by otto, starts in two weeks: taken (listed, as the marketplace shows it until it ends).
    """
    ended = {"start": TODAY - 10 * WEEK, "end": TODAY - 4 * WEEK}
    rows = [
        opportunity("OPP-GONE", host_team_id="B", **ended),
        opportunity(
            "OPP-CLOSED",
            host_team_id="B",
            start=TODAY + WEEK,
            end=TODAY + 8 * WEEK,
            application_deadline=TODAY - dt.timedelta(days=1),
        ),
        opportunity("OPP-ENDED-WAITING", host_team_id="B", **ended),
        opportunity("OPP-RUNNING", host_team_id="B", status="filled", start=TODAY - 2 * WEEK, end=TODAY + 4 * WEEK),
        opportunity("OPP-TAKEN", host_team_id="B", status="filled", start=TODAY + 2 * WEEK, end=TODAY + 8 * WEEK),
        opportunity("OPP-ENDED-PLANNED", host_team_id="B", **ended),
        opportunity(
            "OPP-STILL-OPEN",
            host_team_id="B",
            start=TODAY + 2 * WEEK,
            end=TODAY + 8 * WEEK,
            application_deadline=TODAY + WEEK,
        ),
    ]
    applications = [
        ("OPP-GONE", "rejected"),
        ("OPP-CLOSED", "withdrawn"),
        ("OPP-ENDED-WAITING", "applied"),
        ("OPP-ENDED-PLANNED", "rejected"),
        ("OPP-STILL-OPEN", "rejected"),
        ("OPP-RUNNING", "accepted"),
        ("OPP-TAKEN", "accepted"),
    ]
    step: dict[str, Any] = {
        "template_id": OPPORTUNITY_PREFIX + "OPP-ENDED-PLANNED",
        "start": ended["start"].isoformat(),
    }
    with world.db.write_engine.begin() as conn:
        conn.execute(t.opportunities.insert(), rows)
        conn.execute(
            t.applications.insert(),
            [
                {"opportunity_id": o, "person_id": "O", "status": s, "applied_at": NOW - 12 * WEEK}
                for o, s in applications
            ],
        )
        conn.execute(t.roles.insert().values(id="R-GOAL", title="Goal", level=3, critical=False))
        # A plan is stored towards the person's recorded target role (only such a plan counts as demand).
        conn.execute(t.people.update().where(t.people.c.id == "O").values(target_role_id="R-GOAL"))
        conn.execute(
            t.plans.insert().values(
                person_id="O",
                target_role_id="R-GOAL",
                version=1,
                created_at=NOW - 12 * WEEK,
                created_by="O",
                start=TODAY - 12 * WEEK,
                horizon_weeks=104,
                status="current",
                outcome="ready",
                ready_week=20,
                effort=1,
                steps=[{**step, "start_week": 2}],
            )
        )


LISTED = {"OPP-ENDED-WAITING", "OPP-ENDED-PLANNED", "OPP-STILL-OPEN", "OPP-TAKEN"}
NOISE = {"OPP-GONE", "OPP-CLOSED", "OPP-RUNNING"}


def test_opportunities_that_are_over_and_unwanted_leave_the_report_everywhere(world: World) -> None:
    """HR's report listed opportunities whose dates were over and that nobody wanted any more (left open, with
    only a rejected or withdrawn application): they crowded out the slots that matter. The service leaves
    them out, counts them and says its rule; the page, its JSON twin and the CLI show the same."""
    _past_opportunities(world)
    report = congestion.congestion(world.db, world.policy("admin"))
    ids = {s.id for s in report.slots}
    assert ids >= LISTED and not NOISE & ids, ids
    assert world.opp_open in ids  # eva's live application: demand, as before
    assert report.left_out == len(NOISE)
    by_id = {s.id: s for s in report.slots}
    assert (by_id["OPP-ENDED-WAITING"].demand_applications, by_id["OPP-ENDED-PLANNED"].demand_plans) == (1, 1)
    assert by_id["OPP-STILL-OPEN"].demand == 0
    assert "start or its apply-by date has passed" in report.slot_rule

    admin = world.client("admin")
    twin = admin.get("/api/v1/congestion").json()
    assert {s["id"] for s in twin["slots"]} == ids and twin["left_out"] == 3
    assert twin["slot_rule"] == congestion.SLOT_RULE
    page = admin.get("/congestion", headers={"accept": "text/html"}).text
    flat = " ".join(re.sub(r"<[^>]+>", "", page).split())  # the page's words, without its markup
    assert f"Past opportunities: {congestion.SLOT_RULE}. 3 opportunities were left out so." in flat
    assert all(f"opportunity {oid}" in page for oid in LISTED)
    assert not any(oid in page for oid in NOISE)

    out = CliRunner().invoke(cli, ["--db", _url(world), "congestion", "--json"])
    assert out.exit_code == 0, out.stderr
    assert {s["id"] for s in json.loads(out.stdout)["slots"]} == ids
    out = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--db", _url(world), "congestion"])
    assert out.exit_code == 0, out.stderr
    assert all(oid in out.stdout for oid in LISTED) and not any(oid in out.stdout for oid in NOISE)
    assert f"Past opportunities: {congestion.SLOT_RULE}. 3 left out so." in " ".join(out.stdout.split())


def test_an_opportunity_nobody_applied_to_follows_the_slot_rule_too(world: World) -> None:
    """The rule the report states lists an opportunity that has yet to start and still takes applications,
    and counts one left out once its dates are past. One that nobody had applied to at all (no application
    row, not even a rejected one) was neither listed nor counted: a new opportunity was missing from the
    report while one with a rejected application on the same dates was listed, and left_out fell short."""
    with world.db.write_engine.begin() as conn:
        conn.execute(
            t.opportunities.insert(),
            [
                opportunity("OPP-FRESH", host_team_id="B", start=TODAY + 2 * WEEK, end=TODAY + 8 * WEEK),
                opportunity("OPP-OVER", host_team_id="B", start=TODAY - 10 * WEEK, end=TODAY - 4 * WEEK),
            ],
        )
    report = congestion.congestion(world.db, world.policy("admin"))
    by_id = {s.id: s for s in report.slots}
    assert "OPP-FRESH" in by_id and by_id["OPP-FRESH"].demand == 0 and by_id["OPP-FRESH"].supply == 1
    assert "OPP-OVER" not in by_id and report.left_out == 1


def _three_want_gig_x(world: World) -> None:
    """Eva, Emil and Otto aim at a role that asks for the Negotiation TPL-X builds, and their current plans
    schedule TPL-X: each of them can be routed around it (a small search each)."""
    org.add_role(world.db, id="R-GOAL", title="Negotiator", level=3, requirements={"Negotiation": 0.5}, actor="t")
    with world.db.write_engine.begin() as conn:
        conn.execute(t.people.update().where(t.people.c.id.in_(["E", "E2", "O"])).values(target_role_id="R-GOAL"))
        conn.execute(
            t.plans.insert(),
            [
                {
                    "person_id": pid,
                    "target_role_id": "R-GOAL",
                    "version": 1,
                    "created_at": NOW,
                    "created_by": pid,
                    "start": TODAY,
                    "horizon_weeks": 104,
                    "status": "current",
                    "outcome": "ready",
                    "ready_week": 10,
                    "effort": 1,
                    "steps": [{"template_id": "TPL-X", "start": (TODAY + WEEK).isoformat(), "start_week": 1}],
                }
                for pid in ("E", "E2", "O")
            ],
        )


def test_the_alternate_routes_page_has_a_limit_its_twin_and_the_cli_check_alike(world: World) -> None:
    """The page compared 5 people, with no way to ask for more or fewer but typing ``?limit=`` into the address.
    It has a small form now; the page, its JSON twin and the CLI take the same limit, checked by the service
    alone, and refuse one out of range in the same words (the page with an error page, the JSON with the one
    error shape), never a 500."""
    _three_want_gig_x(world)
    admin = world.client("admin")
    page = admin.get("/congestion/routes/TPL-X", headers={"accept": "text/html"})
    assert page.status_code == 200
    form = page.text[page.text.index('<form method="get" class="filters" id="routes-limit">') :].split("</form>")[0]
    assert 'name="limit"' in form and 'value="5"' in form and 'min="1"' in form and 'max="20"' in form
    assert "Compared: the first" not in page.text  # all three fit in five

    page = admin.get("/congestion/routes/TPL-X?limit=2", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert 'value="2"' in page.text.split('id="routes-limit"')[1].split("</form>")[0]
    assert "Compared: the first 2 of 3 people who want it" in page.text
    twin = admin.get("/api/v1/congestion/routes/TPL-X", params={"limit": 2}).json()
    assert (twin["limit"], twin["wanting"], len(twin["routes"]), twin["not_planned"]) == (2, 3, 2, [])
    assert admin.get("/api/v1/congestion/routes/TPL-X").json()["limit"] == 5

    message = "limit is 1–20 (people to compare)"
    for bad in (0, 21, -3, 10**9):
        r = admin.get("/api/v1/congestion/routes/TPL-X", params={"limit": bad})
        assert r.status_code == 422, r.text
        said = f"{message}, not {bad}"
        limit = {"field": "limit", "problems": [{"field": "limit", "message": said}]}
        assert r.json() == {"error": {"code": "invalid_value", "message": said, "details": limit}}
        page = admin.get(f"/congestion/routes/TPL-X?limit={bad}", headers={"accept": "text/html"})
        assert page.status_code == 422
        assert f'<p class="error" data-code="invalid_value">{message}, not {bad}</p>' in page.text
    r = admin.get("/api/v1/congestion/routes/TPL-X", params={"limit": "many"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert r.json()["error"]["details"]["problems"][0]["field"] == "limit"

    ok = CliRunner().invoke(cli, ["--db", _url(world), "congestion", "--routes", "TPL-X", "--limit", "2", "--json"])
    assert ok.exit_code == 0, ok.stderr
    assert (json.loads(ok.stdout)["limit"], len(json.loads(ok.stdout)["routes"])) == (2, 2)
    refused = CliRunner().invoke(cli, ["--db", _url(world), "congestion", "--routes", "TPL-X", "--limit", "21"])
    assert refused.exit_code == 2 and f"{message}, not 21" in " ".join(refused.stderr.split())


def test_the_congestion_command_refuses_an_option_it_would_ignore(world: World) -> None:
    """`congestion --routes T --horizon 26` printed routes planned over 104 weeks, as if over 26, and
    `congestion --limit 3` (no --routes) the report, as if limited: each option was silently ignored."""
    for args, option in (
        (["--routes", "TPL-X", "--horizon", "26"], "--horizon"),
        (["--limit", "3"], "--limit"),
    ):
        out = CliRunner().invoke(cli, ["--db", _url(world), "congestion", *args])
        assert out.exit_code == 2 and f"error: {option}" in out.stderr, (args, out.stdout, out.stderr)
    # Each with what it goes with is taken.
    assert CliRunner().invoke(cli, ["--db", _url(world), "congestion", "--horizon", "26", "--json"]).exit_code == 0


def test_alternate_routes_speak_of_each_person_as_their_reader_knows_them(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A route said "if you cannot get Gig X, this route is ready 4 week(s) later" to HR, managers and admins
    about other people, on the page, its JSON twin and in the CLI. "You" is for the person alone now; anyone
    else who may see them reads their name (a route is only listed to one who may)."""
    _three_want_gig_x(world)
    # They hold Negotiation at the depth level and the role asks for more: Gig X deepens it in 4 weeks, and a
    # slower Gig Y in 8, so that without Gig X each of them is ready weeks later, not out of reach.
    with world.db.write_engine.begin() as conn:
        conn.execute(t.role_skills.update().where(t.role_skills.c.role_id == "R-GOAL").values(level=3.5))
    for pid in ("E", "E2", "O"):
        org.assess_skill(world.db, person_id=pid, skill="Negotiation", level=3.0, provenance="manager", actor="t")
    gig_y = {"kind": "gig", "title": "Gig Y", "duration_weeks": 8, "percent_time": 20, "actor": "t"}
    catalogue.add_template(world.db, id="TPL-Y", gains={"Negotiation": 0.5}, **gig_y)  # type: ignore[arg-type]
    name = {"E": "Eva Employee", "E2": "Emil Colleague", "O": "Otto Outsider"}

    def said(routes: list[dict[str, Any]]) -> dict[str, str]:
        return {r["person_id"]: r["explanation"] for r in routes}

    def costlier(subject: str) -> str:
        return f"if {subject} cannot get Gig X, this route is ready 4 week(s) later (week 8 instead of 4)"

    admin = said(world.client("admin").get("/api/v1/congestion/routes/TPL-X").json()["routes"])
    assert set(admin) == set(name)
    assert all(admin[pid] == costlier(name[pid]) for pid in admin), admin
    # The person themself; their manager (an employee account) and HR of their unit, who see them.
    eva = said(world.client("eva").get("/api/v1/congestion/routes/TPL-X").json()["routes"])
    assert eva == {"E": costlier("you")}
    for reader in ("mira", "hr"):
        routes = said(world.client(reader).get("/api/v1/congestion/routes/TPL-X").json()["routes"])
        assert set(routes) == {"E", "E2"}, reader
        assert all(routes[pid] == costlier(name[pid]) for pid in routes), (reader, routes)
    # The page says what its twin says, to whoever reads it.
    for reader, pids, subject in (("hr", ("E", "E2"), name), ("eva", ("E",), {"E": "you"})):
        page = world.client(reader).get("/congestion/routes/TPL-X", headers={"accept": "text/html"}).text
        table = html.unescape(page[page.index('id="routes"') : page.index("</table>")])
        for pid in pids:
            assert costlier(subject[pid]) in table, (reader, table)
        assert (" you " in table) == (reader == "eva"), (reader, table)
    # The CLI, as the operator (no person: every name) and as Eva (--actor E: her own route, "you"); wide enough
    # for each explanation on one line (the console reads COLUMNS at each call: see the 80-column test).
    monkeypatch.setattr(console, "_width", None)
    for actor, subject in (((), name), (("--actor", "E"), {**name, "E": "you"})):
        args = ["--db", _url(world), *actor, "congestion", "--routes", "TPL-X"]
        out = CliRunner(env={"COLUMNS": "400"}).invoke(cli, args)
        assert out.exit_code == 0, out.stderr
        flat = " ".join(out.stdout.split())
        shown = said(json.loads(CliRunner().invoke(cli, [*args, "--json"]).stdout)["routes"])
        for pid in shown:
            assert costlier(subject[pid]) in flat, (actor, flat)
            assert shown[pid] == costlier(subject[pid]), (actor, shown)
        assert set(shown) == ({"E"} if actor else set(name)), actor


CROWDED_TITLE = "Negotiation lead for the 2027 supplier renewals (EMEA, 12 weeks at 40%)"


def test_the_cli_report_stays_whole_in_an_80_column_terminal(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 80 columns the CLI's eight-column table cut titles, ids and figures to "Negotia…", "OPP-CRO…" and
    "applica…". Narrower than the table, the report is one block per slot, every word of it whole; a terminal
    wide enough still gets the table."""
    _past_opportunities(world)
    crowd = ["E", "E2", "O", "M", "H", "D"]
    row = opportunity(
        "OPP-CROWDED-2027-EMEA", title=CROWDED_TITLE, host_team_id="B", start=TODAY + 3 * WEEK, end=TODAY + 15 * WEEK
    )
    with world.db.write_engine.begin() as conn:
        conn.execute(t.opportunities.insert(), [row])
        conn.execute(
            t.applications.insert(),
            [{"opportunity_id": row["id"], "person_id": p, "status": "applied", "applied_at": NOW} for p in crowd],
        )
    report = congestion.congestion(world.db, world.policy("admin"))
    assert report.bottlenecks == ["OPP-CROWDED-2027-EMEA"]

    # Rich keeps the COLUMNS a console was created under (a process's terminal); in a test run the shared
    # console may have been created under another test's runner, so it reads COLUMNS at each call here.
    monkeypatch.setattr(console, "_width", None)
    out = CliRunner(env={"COLUMNS": "80"}).invoke(cli, ["--db", _url(world), "congestion"])
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80  # rendered at 80 columns
    assert "…" not in out.stdout, out.stdout
    words = out.stdout.split()
    flat = " ".join(words)
    for s in report.slots:  # each slot's title, id and figures, whole and together
        assert s.id in words, s.id
        assert f"{'BOTTLENECK ' if s.bottleneck else ''}{s.title} {s.slot} {s.id}" in flat, s.id
        assert (
            f"seats {s.supply} · demand {s.demand} ({s.demand_plans} planned + {s.demand_applications} applied) · "
            f"ratio {s.ratio:g} · queue {s.queue}"
        ) in flat, s.id
    assert f"BOTTLENECK {CROWDED_TITLE} opportunity OPP-CROWDED-2027-EMEA" in flat
    assert "seats 1 · demand 6 (0 planned + 6 applied) · ratio 6 · queue 5" in flat
    assert "opportunity OPP-ENDED-PLANNED" in flat and "planned start in 2 weeks" in flat
    assert f"Past opportunities: {congestion.SLOT_RULE}. 3 left out so." in flat  # the notes below, as before

    wide = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["--db", _url(world), "congestion"])
    assert wide.exit_code == 0, wide.stderr
    assert "┃ slot" in wide.stdout and "…" not in wide.stdout
    assert f"BOTTLENECK {CROWDED_TITLE}" in wide.stdout and "6 (0 + 6)" in wide.stdout


def test_the_alternate_routes_page_says_when_it_lists_only_part_of_who_wants_the_slot(world: World) -> None:
    """HR's page said "each person who wants this slot" over the people in their unit, while the congestion
    report counted everyone in the organisation."""
    _three_want_gig_x(world)  # E and E2 in team A (HR's unit), O in team B
    hr = world.client("hr").get("/api/v1/congestion/routes/TPL-X").json()
    assert (hr["wanting"], hr["wanting_everywhere"]) == (2, 3)
    assert sorted(r["person_id"] for r in hr["routes"]) == ["E", "E2"]
    page = world.client("hr").get("/congestion/routes/TPL-X", headers={"accept": "text/html"}).text
    assert "You see 2 of the 3 people in the organisation who want it" in page
    admin = world.client("admin")
    assert admin.get("/api/v1/congestion/routes/TPL-X").json()["wanting_everywhere"] == 3
    assert 'id="routes-scope"' not in admin.get("/congestion/routes/TPL-X", headers={"accept": "text/html"}).text
    # An employee sees only themself there, and no organisation-wide count.
    eva = world.client("eva").get("/api/v1/congestion/routes/TPL-X").json()
    assert (eva["wanting"], eva["wanting_everywhere"], [r["person_id"] for r in eva["routes"]]) == (1, None, ["E"])


def test_plans_towards_a_previous_target_leave_the_report_its_twin_the_routes_and_the_cli(world: World) -> None:
    """Eva, Emil and Otto plan Gig X towards the negotiator role. Eva then aims for another role (the API's PUT,
    as her page's form does) and an admin clears Emil's: their plans stay current (out of date on their pages)
    but counted Gig X's demand, and had them among the people who want it, until they planned again."""
    _three_want_gig_x(world)
    step = {
        "template_id": "TPL-X",
        "title": "Gig X",
        "kind": "gig",
        "start": (TODAY + WEEK).isoformat(),
        "end": (TODAY + 5 * WEEK).isoformat(),
        "start_week": 1,
        "end_week": 5,
        "percent_time": 20,
    }
    with world.db.write_engine.begin() as conn:  # as a stored plan has them: the person page shows its steps
        conn.execute(t.plans.update().values(steps=[step]))
    org.add_role(world.db, id="R-OTHER", title="Buyer", level=3, requirements={"Negotiation": 0.2}, actor="t")
    admin = world.client("admin")

    def report() -> dict[str, Any]:
        got = admin.get("/api/v1/congestion").json()
        got["gig_x"] = next(s for s in got["slots"] if s["id"] == "TPL-X")
        return got

    before = report()
    assert (before["gig_x"]["demand_plans"], before["current_plans"], before["plans_out_of_date"]) == (3, 3, 0)

    eva = world.client("eva")
    page = eva.put("/api/v1/people/E/target-role", json={"role_id": "R-OTHER"})
    assert page.status_code == 200, page.text
    assert (page.json()["plan"]["target_role_id"], page.json()["plan"]["out_of_date_because"]) == (
        "R-GOAL",
        "target_changed",
    )
    cleared = admin.put("/api/v1/people/E2/target-role", json={"role_id": None})
    assert cleared.json()["plan"]["out_of_date_because"] == "no_target", cleared.text

    after = report()
    assert (after["gig_x"]["demand_plans"], after["gig_x"]["demand"]) == (1, 1)  # Otto's plan alone
    assert (after["current_plans"], after["plans_out_of_date"], after["targets_without_plan"]) == (1, 2, 1)
    flat = " ".join(admin.get("/congestion", headers={"accept": "text/html"}).text.split())
    assert "Plan demand counts 1 current plan (the latest made" in flat
    assert (
        "2 current plans aim at a target role their people no longer have (changed or cleared since): not counted."
    ) in flat
    assert "1 person with a target role has no current plan towards it</strong>" in flat

    routes = admin.get("/api/v1/congestion/routes/TPL-X").json()
    assert (routes["wanting"], routes["wanting_everywhere"], [r["person_id"] for r in routes["routes"]]) == (
        1,
        1,
        ["O"],
    )
    assert routes["not_planned"] == []  # Emil, without a target, is not listed as someone who wants it
    mine = eva.get("/api/v1/congestion/routes/TPL-X").json()
    assert (mine["wanting"], mine["routes"]) == (0, [])

    runner = CliRunner()
    out = runner.invoke(cli, ["--db", _url(world), "congestion", "--json"])
    assert out.exit_code == 0, out.stderr
    shown = json.loads(out.stdout)
    assert (shown["current_plans"], shown["plans_out_of_date"], shown["targets_without_plan"]) == (1, 2, 1)
    assert next(s for s in shown["slots"] if s["id"] == "TPL-X")["demand_plans"] == 1
    text = runner.invoke(cli, ["--db", _url(world), "congestion"], env={"COLUMNS": "250"})
    words = " ".join(text.stdout.split())
    assert "2 current plans aim at a target role their people no longer have (changed or cleared since)" in words
    assert "1 person with a target role has no current plan towards it" in words


def test_the_alternate_routes_read_in_weeks_and_leave_no_empty_list(world: World) -> None:
    """A route's ready weeks read "week 12 / 20" (the second without its unit), one out of reach even with
    the slot read "week — / …", and a route with no steps left an empty numbered list."""
    _three_want_gig_x(world)
    admin = world.client("admin")
    page = admin.get("/congestion/routes/TPL-X", headers={"accept": "text/html"}).text
    twin = admin.get("/api/v1/congestion/routes/TPL-X").json()
    rows = page.split('<table class="data" id="routes">')[1].split("</table>")[0]
    for route in twin["routes"]:
        with_it, without = route["current_ready_week"], route["alternative_ready_week"]
        if with_it is not None and without is not None:
            assert f"week {with_it} / week {without}</td>" in rows
    assert "week —" not in rows and "<ol></ol>" not in rows
