"""Browser test: a real server, Debian's Chromium driven by Playwright, the whole life of one move.

Eva (employee) requests a move with success criteria through the form; Mira (her manager) approves it
from the approvals queue (htmx); Hugo (manager of the host team) gives the second approval on the move
page; Mira starts onboarding and activates it; Eva checks in; Mira reviews it (every criterion rated, a
skill gained, decision "end"); the skill then shows on Eva's dashboard with the move as evidence.
Every page must load without console errors or Content-Security-Policy violations.

Chromium is ``/usr/bin/chromium`` (``apt-get install chromium``). Without it the test is skipped and says
why — unless ``MICROMOVES_REQUIRE_BROWSER=1`` (CI), where a missing browser is a failure. Screenshots of
each step go to ``$MICROMOVES_TEST_ARTIFACTS/browser`` (default ``test-artifacts/`` at the repo root).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from micromoves.storage.db import Database
from tests.web.conftest import PASSWORD, build_world, live_server

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("MICROMOVES_REQUIRE_BROWSER") == "1"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("MICROMOVES_TEST_ARTIFACTS") or REPO / "test-artifacts") / "browser"
TIMEOUT_MS = 10_000
# Flags a console error as a CSP violation (also reported from a `securitypolicyviolation` listener).
CSP_SCRIPT = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


def _need_browser() -> None:
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} not found (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as exc:
            problem = f"playwright is not installed: {exc}"
    if problem is None:
        return
    if REQUIRE_BROWSER:
        pytest.fail(f"browser required (MICROMOVES_REQUIRE_BROWSER=1) but {problem}")
    pytest.skip(f"browser test skipped: {problem}")


@pytest.fixture
def live_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    # SQLite only, on purpose: this test drives the pages and htmx through a real browser; the services
    # and routes beneath are covered on both backends by the API and authorization tests, and a second
    # browser run would double the slowest test for no new coverage.
    _need_browser()  # before building anything
    target = tmp_path / "browser.sqlite3"
    shutil.copyfile(sqlite_template, target)
    db = Database(f"sqlite:///{target}")
    yield db
    db.dispose()


@pytest.fixture
def base_url(live_db: Database) -> Iterator[str]:
    """Serve the app for ``build_world`` on a free loopback port from a background thread."""
    with live_server(build_world(live_db).app) as url:
        yield url


class Session:
    """One browser tab, plus what went wrong in it: console errors, page errors, failed responses."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.problems: list[str] = []
        self.shots = 0
        page.set_default_timeout(TIMEOUT_MS)
        page.add_init_script(CSP_SCRIPT)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error on {page.url}: {exc}"))
        page.on("response", self._response)

    def _console(self, msg: Any) -> None:
        if msg.type in ("error", "warning"):
            self.problems.append(f"console {msg.type} on {self.page.url}: {msg.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.shots += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.shots:02d}-{name}.png"), full_page=True)

    def log_in(self, username: str) -> None:
        from playwright.sync_api import expect

        self.go("/login")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.locator(".who")).to_contain_text(username)

    def log_out(self) -> None:
        from playwright.sync_api import expect

        self.page.get_by_role("button", name="Log out").click()
        expect(self.page).to_have_url(re.compile(r"/login"))
        expect(self.page.locator(".who")).to_have_count(0)

    def open_move(self, move_id: str) -> None:
        self.go(f"/moves/{move_id}")

    def act(self, action: str, expected_status: str) -> None:
        from playwright.sync_api import expect

        self.page.locator(f"#action-{action}").click()
        expect(self.page.locator("#move-status")).to_have_text(expected_status)


@contextmanager
def browser_session(base_url: str) -> Iterator[Session]:
    """One headless Chromium with one tab on the app, closed however the test ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield Session(browser.new_context().new_page(), base_url)
        finally:
            browser.close()


@pytest.mark.heavy
def test_a_move_from_request_to_skill_on_the_dashboard(base_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    start = dt.date.today()
    end = start + dt.timedelta(weeks=10)
    title = "Build the skills API"
    criteria = ["Endpoint live behind a feature flag", "Two teams use it"]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            s = Session(context.new_page(), base_url)
            page = s.page

            # 1. Eva requests a move with success criteria, hosted by Hugo's team.
            s.log_in("eva")
            expect(page.locator("#person-name")).to_have_text("Eva Employee")
            page.get_by_role("link", name="Request a move").click()
            form = page.locator("#move-form")
            form.get_by_label("Title").fill(title)
            form.get_by_label("Kind").select_option("stretch_assignment")
            form.get_by_label("Start").fill(start.isoformat())
            form.get_by_label("End").fill(end.isoformat())
            form.get_by_label("Share of time (%)").fill("30")
            form.get_by_label("Host team").select_option("B")
            form.get_by_label("Expected outcomes").fill("A first public skills endpoint.")
            form.get_by_label("Success criteria (one per line)").fill("\n".join(criteria))
            s.shot("request-form")
            form.get_by_role("button", name="Submit for approval").click()
            expect(page).to_have_url(re.compile(r"/moves/[^/]+$"))
            move_id = page.url.rsplit("/", 1)[1]
            expect(page.locator("#move-title")).to_have_text(title)
            expect(page.locator("#move-status")).to_have_text("requested")
            expect(page.locator("#criteria li")).to_have_text(criteria)
            s.log_out()

            # 2. Mira, the line manager, approves from her queue (htmx replaces the row).
            s.log_in("mira")
            s.go("/approvals")
            row = page.locator(f"#approval-{move_id}")
            expect(row).to_contain_text(title)
            expect(row).to_contain_text("manager")
            row.get_by_role("button", name="Approve").click()
            expect(page.locator(f"#approval-{move_id}")).to_contain_text("waits for the second approver")
            s.shot("manager-approved")
            s.open_move(move_id)
            expect(page.locator("#move-status")).to_have_text("requested")  # one of two approvals
            expect(page.locator("#action-approve")).to_have_count(0)  # and never twice by her
            s.log_out()

            # 3. Hugo, the host manager, gives the second approval on the move page.
            s.log_in("hugo")
            s.open_move(move_id)
            s.act("approve", "approved")
            s.log_out()

            # 4. Mira starts onboarding, then activates the move.
            s.log_in("mira")
            s.open_move(move_id)
            s.act("start_onboarding", "onboarding")
            s.act("activate", "active")
            s.shot("active")
            s.log_out()

            # 5. Eva checks in.
            s.log_in("eva")
            s.open_move(move_id)
            check_in = page.locator("#check-in-form")
            check_in.get_by_label("Note").fill("Endpoint prototype demoed to the platform team")
            check_in.get_by_label("Progress %").fill("40")
            check_in.get_by_role("button", name="Add check-in").click()
            expect(page.locator("#check-ins")).to_contain_text("Endpoint prototype demoed")
            expect(page.locator("#check-ins")).to_contain_text("(40%)")
            expect(page.locator("#review-form")).to_have_count(0)  # she cannot review her own move
            s.log_out()

            # 6. Mira reviews: every criterion rated, a skill gained, decision "complete".
            s.log_in("mira")
            s.open_move(move_id)
            review = page.locator("#review-form")
            review.locator("select[name=rating_1]").select_option("met")
            review.locator("input[name=evidence_1]").fill("flag on since week 6")
            review.locator("select[name=rating_2]").select_option("partly_met")
            review.get_by_label('Skills gained (one "skill = level" per line)').fill("Programming = 4.5")
            review.get_by_label("Notes", exact=True).fill("Strong delivery.")
            review.get_by_label("Decision").select_option("end")
            s.shot("review-form")
            review.get_by_role("button", name="Submit review").click()
            expect(page.locator("#move-status")).to_have_text("completed")
            expect(page.locator("#outcome")).to_contain_text("end")
            expect(page.locator("#criteria li").nth(0)).to_contain_text("met")
            expect(page.locator("#criteria li").nth(1)).to_contain_text("partly met")
            expect(page.get_by_text(re.compile(r"Programming: \d\.\d → 4\.5"))).to_be_visible()
            s.log_out()

            # 7. Eva's dashboard: Programming at 4.5, with the move as evidence.
            s.log_in("eva")
            skill = page.locator("#skills tbody tr", has_text="Programming")
            expect(skill).to_have_count(1)
            expect(skill.locator("td").nth(1)).to_have_text("4.5")
            evidence = skill.get_by_role("link", name=title)
            expect(evidence).to_have_attribute("href", f"/moves/{move_id}")
            s.shot("dashboard")
            context.close()
        finally:
            browser.close()

    assert not s.problems, "\n".join(s.problems)


@pytest.mark.heavy  # a second browser session: a few seconds, run by make test and CI
def test_an_htmx_action_the_server_refuses_says_why(base_url: str, live_db: Database) -> None:
    """Mira's queue shows Eva's request; Eva withdraws it meanwhile; Mira's Approve is refused (409). The
    page says why, in its alert area: htmx swaps nothing on an error answer, so the button did nothing."""
    from playwright.sync_api import expect

    from micromoves.services import moves as move_svc

    with browser_session(base_url) as s:
        s.log_in("mira")
        s.go("/approvals")
        row = s.page.locator("#approval-MV-E")
        expect(row).to_be_visible()
        move_svc.transition_move(live_db, "MV-E", "withdrawn", actor="E", reason="changed my mind")
        row.get_by_role("button", name="Approve").click()
        expect(s.page.locator("#alerts")).to_contain_text("withdrawn")
        expect(row).to_be_visible()  # nothing swapped: the row stays, and the alert says why
    unexpected = [p for p in s.problems if "409" not in p]
    assert not unexpected, "\n".join(unexpected)


@pytest.mark.heavy  # a third browser session: a few seconds, run by make test and CI
def test_a_refused_form_gives_back_what_was_typed(base_url: str) -> None:
    """Eva's request ends before it starts: the server refuses it (422) on an error page. Its link back (or
    the browser's Back) returns to the form with everything she typed, once; opened again later, the form
    is empty. Pages are sent with no-store, so without this the browser reloaded the form empty."""
    from playwright.sync_api import expect

    start = dt.date.today() + dt.timedelta(weeks=4)
    typed = {
        "Title": "Shadow the on-call lead",
        "Start": start.isoformat(),
        "End": (start - dt.timedelta(days=7)).isoformat(),
        "Share of time (%)": "20",
        "Expected outcomes": "Run one incident review alone.",
        "Success criteria (one per line)": "Ran the review\nWrote the summary",
    }
    with browser_session(base_url) as s:
        page = s.page
        s.log_in("eva")
        s.go("/moves/new")
        form = page.locator("#move-form")
        for label, value in typed.items():
            form.get_by_label(label).fill(value)
        form.get_by_label("Kind").select_option("shadowing")
        form.get_by_label("Host team").select_option("B")
        form.get_by_role("button", name="Submit for approval").click()
        expect(page.locator("p.error")).to_contain_text("must be after start")
        page.locator("#back-to-form").click()
        expect(page).to_have_url(re.compile(r"/moves/new$"))
        expect(page.locator("#form-restored")).to_be_visible()
        # What was wrong is said next to the form, not only on the error page a click back.
        expect(page.locator("#form-restored + #move-form")).to_have_count(1)
        expect(page.locator("#form-restored #form-error")).to_contain_text("must be after start")
        form = page.locator("#move-form")
        for label, value in typed.items():
            expect(form.get_by_label(label)).to_have_value(value)
        expect(form.get_by_label("Kind")).to_have_value("shadowing")
        expect(form.get_by_label("Host team")).to_have_value("B")
        # Dates corrected, criteria blanked (spaces pass the browser's `required`): said in words, by the form.
        form.get_by_label("End").fill((start + dt.timedelta(weeks=4)).isoformat())
        form.get_by_label("Success criteria (one per line)").fill("  \n  ")
        form.get_by_role("button", name="Submit for approval").click()
        expect(page.locator("p.error")).to_have_text("give at least one success criterion (one per line)")
        page.locator("#back-to-form").click()
        expect(page.locator("#form-error")).to_have_text("give at least one success criterion (one per line)")
        # Once only: the same form opened again starts empty.
        s.go("/moves/new")
        expect(page.locator("#move-form").get_by_label("Title")).to_have_value("")
        expect(page.locator("#form-restored")).to_have_count(0)
    unexpected = [p for p in s.problems if "422" not in p]
    assert not unexpected, "\n".join(unexpected)


@pytest.mark.heavy  # a browser session: a few seconds, run by make test and CI
def test_the_api_reference_renders_under_the_content_security_policy(base_url: str) -> None:
    """/api/docs loaded Swagger UI from a CDN with an inline script: the app's CSP blocked both and the page
    stayed blank (and the README promises no CDN). It is served from vendored files and renders, with every
    operation of the API listed and no CSP violation."""
    from playwright.sync_api import expect

    with browser_session(base_url) as s:
        requests: list[str] = []
        s.page.on("request", lambda r: requests.append(r.url))
        s.go("/api/docs")
        expect(s.page.locator(".swagger-ui .info .title")).to_contain_text("micromoves")
        expect(s.page.locator(".opblock-summary-path", has_text="/api/v1/moves/{move_id}").first).to_be_visible()
    assert all(url.startswith(base_url) for url in requests), [u for u in requests if not u.startswith(base_url)]
    assert not s.problems, "\n".join(s.problems)


@pytest.mark.heavy  # a browser session: a few seconds, run by make test and CI
def test_the_allocation_form_submits_with_its_defaults(base_url: str) -> None:
    """HR proposes an allocation with the form as it comes. A number input whose default is off its step
    (50 with min 1 and step 5) is invalid in the browser: the button did nothing, and posting the form
    from a test never noticed."""
    from playwright.sync_api import expect

    with browser_session(base_url) as s:
        page = s.page
        s.log_in("admin")
        s.go("/allocations")
        form = page.locator("form[action='/allocations']")
        assert form.evaluate("f => f.checkValidity()"), form.evaluate(
            "f => [...f.elements].filter(e => !e.checkValidity()).map(e => e.name + ': ' + e.validationMessage)"
        )
        form.get_by_role("button", name="Propose an allocation").click()
        expect(page).to_have_url(re.compile(r"/allocations/\d+$"))
        expect(page.locator("h1")).to_contain_text("Allocation")
    assert not s.problems, "\n".join(s.problems)


@pytest.mark.heavy  # a browser session: a few seconds, run by make test and CI
def test_a_user_row_saves_its_own_fields(base_url: str, live_db: Database) -> None:
    """Each row of the users table was a <form> wrapped around table cells, which HTML does not allow: the
    row's fields now name their form (form="user-N"). An admin changes one user's access and saves; the
    other rows stay as they were."""
    from playwright.sync_api import expect

    with browser_session(base_url) as s:
        page = s.page
        s.log_in("admin")
        s.go("/admin/users")
        page.get_by_label("Access of eva").select_option("hr")
        row = page.locator("#users tr", has=page.get_by_label("Access of eva"))
        page.get_by_label("HR org units of eva (team ids, comma separated)").fill("B")
        row.get_by_role("button", name="Save").click()
        expect(page).to_have_url(re.compile(r"/admin/users$"))
        expect(page.get_by_label("Access of eva")).to_have_value("hr")
    with live_db.engine.connect() as conn:
        access = dict(conn.execute(text("SELECT username, access FROM users")).all())
    assert access["eva"] == "hr" and access["hugo"] != "hr"
    assert not s.problems, "\n".join(s.problems)


@pytest.mark.heavy  # a browser session: a few seconds, run by make test and CI
def test_the_longest_criteria_fit_the_form_and_a_team_is_chosen_by_name(base_url: str) -> None:
    """The criteria textarea's maxlength was 20,000: 20 criteria of 1,000 characters and their 19 line breaks
    are 20,019, and the browser silently cut the last one. The directory's team filter was a box for an id
    shown nowhere; it is a list of team names."""
    from playwright.sync_api import expect

    from micromoves.domain import rules

    criteria = "\n".join(f"{i:02d}" + "x" * (rules.MAX_CRITERION_CHARS - 2) for i in range(rules.MAX_CRITERIA))
    start = dt.date.today() + dt.timedelta(weeks=3)
    with browser_session(base_url) as s:
        page = s.page
        s.log_in("eva")
        s.go("/moves/new")
        form = page.locator("#move-form")
        form.get_by_label("Title").fill("Twenty criteria")
        form.get_by_label("Start").fill(start.isoformat())
        form.get_by_label("End").fill((start + dt.timedelta(weeks=4)).isoformat())
        box = form.get_by_label("Success criteria (one per line)")
        box.fill(criteria)
        assert box.evaluate("el => el.value.length") == len(criteria)  # nothing cut
        form.get_by_role("button", name="Submit for approval").click()
        expect(page.locator("#criteria li")).to_have_count(rules.MAX_CRITERIA)
        expect(page.locator("#criteria li").last).to_contain_text("19" + "x" * (rules.MAX_CRITERION_CHARS - 2))
        s.log_out()
        s.log_in("admin")
        s.go("/people")
        page.get_by_label("Team", exact=True).select_option(label="Team B")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"/people\?q=&team=B$"))
        expect(page.locator("#people tbody tr")).to_have_count(2)  # Hugo and Otto
        expect(page.get_by_label("Team", exact=True)).to_have_value("B")
    assert not s.problems, "\n".join(s.problems)
