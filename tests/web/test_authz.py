"""The authorization matrix: every route × every kind of user × own and foreign objects.

The cases below are checked against the app's route table: a route without an entry in ``routes.ACCESS``
or without a case here fails ``test_every_route_has_a_policy_and_cases``. Reads assert the status and
that nothing the user may not see is in the body; unsafe requests are sent only by users who must be
refused, and must change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from micromoves.storage import tables as t
from micromoves.web.routes import ACCESS, all_routes
from tests.web.conftest import CONFIDENTIAL_NOTE, World

USERS = ["eva", "mira", "hugo", "otto", "hr", "admin"]
SEES_E = {"eva", "mira", "hr", "admin"}  # E's person record: self, manager, HR for team A, admin
SEES_O = {"otto", "hugo", "admin"}
SEES_MV_E = SEES_E | {"hugo"}  # E's move is hosted by team B: its host manager sees it
SEES_MV_O = SEES_O
PERSON_USERS = {"eva", "mira", "hugo", "otto"}


@dataclass(frozen=True)
class Case:
    route: str
    method: str
    path: str
    expect: dict[str, int]  # user → status
    hidden: dict[str, tuple[str, ...]] | None = None  # user → strings that must not appear in the body
    shown: dict[str, tuple[str, ...]] | None = None  # user → strings that must appear
    json: dict[str, object] | None = None
    form: dict[str, str] | None = None
    files: dict[str, str] | None = None  # name → content, sent as multipart "files"


def see(who: set[str], ok: int = 200, denied: int = 404) -> dict[str, int]:
    return {u: ok if u in who else denied for u in USERS}


def everyone(status: int = 200) -> dict[str, int]:
    return dict.fromkeys(USERS, status)


def only_admin(ok: int = 200) -> dict[str, int]:
    return {u: ok if u == "admin" else 403 for u in USERS}


NOT_E_SIDE = {"otto": ("Eva Employee", "MV-E"), "hugo": ("Emil Colleague",)}
NOT_O_SIDE = {"eva": ("Otto Outsider", "MV-O"), "mira": ("Otto Outsider", "MV-O"), "hr": ("Otto Outsider", "MV-O")}
OFFERS = {"mira", "hugo", "dana", "hr", "admin"}
DRAFT_HIDDEN = {u: ("Secret draft opportunity",) for u in ("eva", "mira", "otto", "hr")}
DRAFT_SHOWN = {u: ("Secret draft opportunity", "Incident review rotation") for u in ("hugo", "admin")}
APPLICANTS_HIDDEN = {u: ("Eva Employee", "keen") for u in ("mira", "otto", "hr")} | {"eva": ("Emil",)}
NOT_ADMIN_403 = {u: 403 for u in USERS if u != "admin"}
NOTE_HIDDEN = {"eva": (CONFIDENTIAL_NOTE,), "hugo": (CONFIDENTIAL_NOTE,)}
NOTE_SHOWN = {"mira": (CONFIDENTIAL_NOTE,), "hr": (CONFIDENTIAL_NOTE,), "admin": (CONFIDENTIAL_NOTE,)}

IMPORTED_PERSON = "person_id,name,email,role_id,manager_id,team,hire_date,location\nE,Eve Renamed,,,O,B,,\n"

READS = [
    Case("api.health", "GET", "/api/v1/health", everyone()),
    Case("login", "GET", "/login", everyone()),
    Case("api_docs", "GET", "/api/docs", everyone(), shown={"eva": ("swagger-ui",)}),
    Case("dashboard", "GET", "/", {**{u: 200 for u in PERSON_USERS}, "hr": 200, "admin": 200}),
    Case("api.me", "GET", "/api/v1/me", {**{u: 200 for u in PERSON_USERS}, "hr": 200, "admin": 200}),
    Case("api.session", "GET", "/api/v1/session", everyone()),
    Case("person", "GET", "/people/E", see(SEES_E)),
    Case("api.person", "GET", "/api/v1/people/E", see(SEES_E)),
    Case("api.person", "GET", "/api/v1/people/O", see(SEES_O)),
    Case("api.person.target_role", "GET", "/api/v1/people/E/target-role", see(SEES_E)),
    Case("api.person.target_role", "GET", "/api/v1/people/O/target-role", see(SEES_O)),
    Case("directory", "GET", "/people", everyone(), hidden={**NOT_O_SIDE, **NOT_E_SIDE}),
    Case("api.directory", "GET", "/api/v1/people", everyone(), hidden={**NOT_O_SIDE, **NOT_E_SIDE}),
    Case("moves", "GET", "/moves", everyone(), hidden={**NOT_O_SIDE, "otto": ("MV-E",)}),
    Case("api.moves", "GET", "/api/v1/moves", everyone(), hidden={**NOT_O_SIDE, "otto": ("MV-E",)}),
    Case("moves.csv", "GET", "/moves.csv", everyone(), hidden={**NOT_O_SIDE, "otto": ("MV-E",)}),
    Case("api.moves.csv", "GET", "/api/v1/moves.csv", everyone(), hidden={**NOT_O_SIDE, "otto": ("MV-E",)}),
    Case("people.csv", "GET", "/people.csv", everyone(), hidden={**NOT_O_SIDE, **NOT_E_SIDE}),
    Case("api.people.csv", "GET", "/api/v1/people.csv", everyone(), hidden={**NOT_O_SIDE, **NOT_E_SIDE}),
    Case("move.new", "GET", "/moves/new?person=E", see(SEES_E)),
    Case("api.move.new", "GET", "/api/v1/moves/new?person=E", see(SEES_E)),
    Case("move", "GET", "/moves/MV-E", see(SEES_MV_E)),
    Case("api.move", "GET", "/api/v1/moves/MV-E", see(SEES_MV_E)),
    Case("api.move", "GET", "/api/v1/moves/MV-O", see(SEES_MV_O)),
    Case("api.move", "GET", "/api/v1/moves/NO-SUCH-MOVE", everyone(404)),
    Case("move", "GET", "/moves/MV-DONE", see(SEES_MV_E), hidden=NOTE_HIDDEN, shown=NOTE_SHOWN),
    Case("api.move", "GET", "/api/v1/moves/MV-DONE", see(SEES_MV_E), hidden=NOTE_HIDDEN, shown=NOTE_SHOWN),
    Case("approvals", "GET", "/approvals", everyone(), hidden={"eva": ("MV-E",), "otto": ("MV-E",), "hr": ("MV-E",)}),
    Case(
        "api.approvals",
        "GET",
        "/api/v1/approvals",
        everyone(),
        hidden={"eva": ("MV-E",), "otto": ("MV-E",), "hr": ("MV-E",)},
        shown={"mira": ("MV-E",), "hugo": ("MV-E",), "admin": ("MV-E",)},
    ),
    Case("team", "GET", "/team", everyone(), hidden={"eva": ("Emil Colleague",), "hugo": ("Eva Employee",)}),
    Case("api.team", "GET", "/api/v1/team", everyone(), shown={"mira": ("Eva Employee", "Emil Colleague")}),
    Case("admin.users", "GET", "/admin/users", only_admin()),
    Case("admin.import", "GET", "/admin/import", only_admin()),
    Case("admin.export", "GET", "/admin/export/people.csv", only_admin(), shown={"admin": ("Otto Outsider",)}),
    Case("api.export", "GET", "/api/v1/export/moves.csv", only_admin(), shown={"admin": ("MV-O",)}),
    Case("api.admin.users", "GET", "/api/v1/admin/users", only_admin()),
    Case("tokens", "GET", "/account/tokens", everyone()),
    Case("password", "GET", "/account/password", everyone()),
    Case("api.password", "GET", "/api/v1/account/password", everyone()),
    # The marketplace: open opportunities are for everyone; drafts and applications for the host side.
    Case("opportunities", "GET", "/opportunities", everyone(), hidden=DRAFT_HIDDEN, shown=DRAFT_SHOWN),
    Case("api.opportunities", "GET", "/api/v1/opportunities", everyone(), hidden=DRAFT_HIDDEN, shown=DRAFT_SHOWN),
    # The form is for those who may offer for some team: managers of a team, HR, admins (no team: 403).
    Case("opportunity.new", "GET", "/opportunities/new", see(OFFERS, denied=403)),
    Case("api.opportunity.new", "GET", "/api/v1/opportunities/new", see(OFFERS, denied=403)),
    Case("opportunity", "GET", "/opportunities/{opp_open}", everyone(), hidden=APPLICANTS_HIDDEN),
    Case(
        "api.opportunity",
        "GET",
        "/api/v1/opportunities/{opp_open}",
        everyone(),
        hidden=APPLICANTS_HIDDEN,
        shown={"hugo": ("Eva Employee",), "admin": ("Eva Employee",)},
    ),
    Case("api.opportunity", "GET", "/api/v1/opportunities/{opp_draft}", see({"hugo", "admin"})),
    Case("api.move.onboarding", "GET", "/api/v1/moves/MV-E/onboarding", see(SEES_MV_E)),
    Case("credit", "GET", "/people/M/credit", see({"mira", "hr", "admin"})),
    Case("api.move.handoff_view", "GET", "/api/v1/moves/MV-E/handoff", see(SEES_MV_E)),
    Case("congestion", "GET", "/congestion", see({"hr", "admin"}, denied=403)),
    Case("allocations", "GET", "/allocations", only_admin()),
    Case("api.allocations", "GET", "/api/v1/allocations", only_admin()),
    Case("allocation", "GET", "/allocations/1", {**only_admin(), "admin": 404}),
    Case("api.allocation", "GET", "/api/v1/allocations/1", {**only_admin(), "admin": 404}),
    Case("releases", "GET", "/reports/releases", see({"hr", "admin"}, denied=403), hidden={"hr": ("Hugo Host",)}),
    Case(
        "api.releases",
        "GET",
        "/api/v1/reports/releases",
        see({"hr", "admin"}, denied=403),
        shown={"admin": ("Mira Manager", "Hugo Host"), "hr": ("Mira Manager",)},
    ),
    Case("api.congestion", "GET", "/api/v1/congestion", see({"hr", "admin"}, denied=403)),
    Case("congestion.routes", "GET", "/congestion/routes/TPL-X", everyone()),
    Case("api.congestion.routes", "GET", "/api/v1/congestion/routes/TPL-X", everyone()),
    Case("api.credit", "GET", "/api/v1/people/M/credit", see({"mira", "hr", "admin"})),
    Case("api.tokens", "GET", "/api/v1/tokens", everyone()),
]

START, END = "2031-03-03", "2031-04-25"
PROPOSAL = {"kind": "gig", "title": "Sneaky", "start": START, "end": END, "percent_time": 10}

OPPORTUNITY = {
    "title": "Hijack",
    "kind": "gig",
    "host_team_id": "B",
    "start": START,
    "end": END,
    "percent_time": 10,
    "success_criteria": ["x"],
}
OPPORTUNITY_FORM = {k: str(v) for k, v in OPPORTUNITY.items() if k != "success_criteria"} | {"success_criteria": "x"}

# Unsafe requests, sent only by users who must be refused (status 403 or 404; nothing may change).
REFUSALS = [
    Case(
        "move.create",
        "POST",
        "/moves",
        {"hugo": 404, "otto": 404},
        form={**{k: str(v) for k, v in PROPOSAL.items()}, "person_id": "E", "success_criteria": "x"},
    ),
    Case(
        "api.move.create",
        "POST",
        "/api/v1/moves",
        {"hugo": 404, "otto": 404},
        json={**PROPOSAL, "person_id": "E", "success_criteria": ["x"]},
    ),
    Case("move.action", "POST", "/moves/MV-E/actions/approve", {"eva": 403, "otto": 404, "hr": 403}, form={}),
    Case(
        "api.move.action", "POST", "/api/v1/moves/MV-E/actions/approve", {"eva": 403, "otto": 404, "hr": 403}, json={}
    ),
    Case("api.move.action", "POST", "/api/v1/moves/MV-E/actions/start_onboarding", {"eva": 403, "otto": 404}, json={}),
    Case(
        "api.move.action", "POST", "/api/v1/moves/MV-O/actions/withdraw", {"eva": 404, "mira": 404, "hr": 404}, json={}
    ),
    Case("move.check_in", "POST", "/moves/MV-O/check-ins", {"eva": 404, "mira": 404, "hr": 404}, form={"note": "hi"}),
    Case(
        "api.move.check_in",
        "POST",
        "/api/v1/moves/MV-O/check-ins",
        {"eva": 404, "mira": 404, "hr": 404},
        json={"note": "hi"},
    ),
    Case(
        "move.review",
        "POST",
        "/moves/MV-O/review",
        {"otto": 403, "eva": 404, "hr": 404},
        form={"decision": "end", "rating_1": "met"},
    ),
    Case(
        "api.move.review",
        "POST",
        "/api/v1/moves/MV-O/review",
        {"otto": 403, "eva": 404, "hr": 404},
        json={"decision": "end", "ratings": [{"position": 1, "rating": "met"}]},
    ),
    Case(
        "admin.user.create",
        "POST",
        "/admin/users",
        {u: 403 for u in USERS if u != "admin"},
        form={"username": "mallory", "password": "long enough pw", "access": "admin"},
    ),
    # Planning again for a person is for who may propose moves for them; others are not told they exist.
    Case("person.replan", "POST", "/people/E/plan", {"hugo": 404, "otto": 404}, form={}),
    Case("api.person.replan", "POST", "/api/v1/people/E/plan", {"hugo": 404, "otto": 404}, json={}),
    # So is setting their target role: hugo hosts eva's move, not eva; HR for team A does not cover otto.
    Case("person.set_target_role", "POST", "/people/E/target-role", {"hugo": 404, "otto": 404}, form={"clear": "1"}),
    Case(
        "api.person.set_target_role",
        "PUT",
        "/api/v1/people/E/target-role",
        {"hugo": 404, "otto": 404},
        json={"role_id": None},
    ),
    Case(
        "api.person.set_target_role",
        "PUT",
        "/api/v1/people/O/target-role",
        {"eva": 404, "mira": 404, "hr": 404},
        json={"role_id": None},
    ),
    # An import could rewrite anyone's record (people.csv names managers): admins only.
    Case("admin.import.submit", "POST", "/admin/import", NOT_ADMIN_403, files={"people.csv": IMPORTED_PERSON}),
    Case("api.imports", "POST", "/api/v1/imports", NOT_ADMIN_403, files={"people.csv": IMPORTED_PERSON}),
    Case(
        "api.admin.user.create",
        "POST",
        "/api/v1/admin/users",
        {u: 403 for u in USERS if u != "admin"},
        json={"username": "mallory", "password": "long enough pw", "access": "admin"},
    ),
    Case(
        "admin.user.update",
        "POST",
        "/admin/users/{eva}",
        {u: 403 for u in USERS if u != "admin"},
        form={"access": "admin", "active": "on"},
    ),
    Case(
        "api.admin.user.update",
        "PATCH",
        "/api/v1/admin/users/{eva}",
        {u: 403 for u in USERS if u != "admin"},
        json={"access": "admin"},
    ),
    # A reset asks for no current password: admins only (and not for their own account: see test_security).
    Case(
        "admin.user.password",
        "POST",
        "/admin/users/{eva}/password",
        NOT_ADMIN_403,
        form={"password": "long enough pw", "confirm_password": "long enough pw"},
    ),
    Case(
        "api.admin.user.password",
        "POST",
        "/api/v1/admin/users/{eva}/password",
        NOT_ADMIN_403,
        json={"password": "long enough pw", "revoke_tokens": True},
    ),
    Case(
        "token.revoke", "POST", "/account/tokens/{admin_token}/revoke", {u: 404 for u in USERS if u != "admin"}, form={}
    ),
    Case("api.token.revoke", "DELETE", "/api/v1/tokens/{admin_token}", {u: 404 for u in USERS if u != "admin"}),
    Case(
        "opportunity.create",
        "POST",
        "/opportunities",
        {u: 403 for u in ("eva", "mira", "otto", "hr")},
        form={**OPPORTUNITY_FORM},
    ),
    Case(
        "api.opportunity.create",
        "POST",
        "/api/v1/opportunities",
        {u: 403 for u in ("eva", "mira", "otto", "hr")},
        json=OPPORTUNITY,
    ),
    Case(
        "opportunity.action",
        "POST",
        "/opportunities/{opp_draft}/actions/publish",
        {u: 404 for u in ("eva", "mira", "otto", "hr")},
        form={},
    ),
    Case(
        "api.opportunity.action",
        "POST",
        "/api/v1/opportunities/{opp_open}/actions/close",
        {u: 403 for u in ("eva", "mira", "otto", "hr")},
        json={},
    ),
    Case(
        "opportunity.apply",
        "POST",
        "/opportunities/{opp_draft}/apply",
        {u: 404 for u in ("eva", "mira", "otto")},
        form={},
    ),
    Case(
        "api.opportunity.apply",
        "POST",
        "/api/v1/opportunities/{opp_draft}/applications",
        {u: 404 for u in ("eva", "mira", "otto")},
        json={},
    ),
    Case(
        "application.action",
        "POST",
        "/applications/{application}/actions/offer",
        {"eva": 403, "mira": 404, "otto": 404, "hr": 404},
        form={},
    ),
    Case(
        "api.application.action",
        "POST",
        "/api/v1/applications/{application}/actions/accept",
        {"hugo": 403, "mira": 404, "otto": 404, "hr": 404},
        json={},
    ),
    Case("allocation.propose", "POST", "/allocations", NOT_ADMIN_403, form={}),
    Case("api.allocation.propose", "POST", "/api/v1/allocations", NOT_ADMIN_403, json={}),
    Case("allocation.apply", "POST", "/allocations/1/apply", NOT_ADMIN_403, form={}),
    Case("api.allocation.apply", "POST", "/api/v1/allocations/1/apply", NOT_ADMIN_403, json={}),
    Case("allocation.discard", "POST", "/allocations/1/discard", NOT_ADMIN_403, form={}),
    Case("api.allocation.discard", "POST", "/api/v1/allocations/1/discard", NOT_ADMIN_403, json={}),
    Case(
        "move.handoff",
        "POST",
        "/moves/MV-E/handoff",
        {"eva": 403, "otto": 404},
        form={"holder_id": "M", "responsibilities": "x"},
    ),
    Case(
        "api.move.handoff",
        "POST",
        "/api/v1/moves/MV-E/handoff",
        {"eva": 403, "otto": 404},
        json={"holder_id": "M", "responsibilities": "x"},
    ),
    Case(
        "move.handoff.correct",
        "POST",
        "/moves/MV-E/handoff/correct",
        {"eva": 403, "otto": 404},
        form={"holder_id": "H", "responsibilities": "x"},
    ),
    Case(
        "api.move.handoff.correct",
        "PUT",
        "/api/v1/moves/MV-E/handoff",
        {"eva": 403, "otto": 404},
        json={"holder_id": "H", "responsibilities": "x"},
    ),
    Case(
        "onboarding.done",
        "POST",
        "/onboarding/{onboarding_item}",
        {"eva": 404, "mira": 404, "hr": 404},
        form={"move_id": "MV-O"},
    ),
    Case(
        "api.onboarding.done",
        "POST",
        "/api/v1/onboarding/{onboarding_item}",
        {"eva": 404, "mira": 404, "hr": 404},
        json={"done": True},
    ),
]

# Routes any signed-in user may use on their own behalf; the flow tests cover what they do.
OWN_ONLY = {"token.create", "api.token.create", "logout", "api.session.delete", "login.submit", "api.session.create"}
OWN_ONLY |= {"password.change", "api.password.change"}  # one's own password, proving the current one


def test_every_route_has_a_policy_and_cases(world: World) -> None:
    names = {r.name for r in all_routes(world.app.routes)}  # type: ignore[attr-defined]
    assert len(names) > 40
    missing_policy = sorted(names - set(ACCESS))
    assert not missing_policy, f"routes without an ACCESS entry: {missing_policy}"
    covered = {c.route for c in READS + REFUSALS} | OWN_ONLY
    assert sorted(names - covered) == [], "routes without authorization cases"
    assert sorted({c.route for c in READS + REFUSALS} - names) == [], "cases name routes that do not exist"


def _send(world: World, user: str | None, case: Case, admin_token: int):  # type: ignore[no-untyped-def]
    client = _clients.get((id(world), user)) or _clients.setdefault((id(world), user), world.client(user))
    return _request(client, world, case, admin_token)


def _request(client: TestClient, world: World, case: Case, admin_token: int):  # type: ignore[no-untyped-def]
    path = case.path.format(
        eva=world.users["eva"],
        admin_token=admin_token,
        opp_open=world.opp_open,
        opp_draft=world.opp_draft,
        application=world.application,
        onboarding_item=world.onboarding_item,
    )
    if case.files is not None:
        files = [("files", (name, text.encode(), "text/csv")) for name, text in case.files.items()]
        return client.request(case.method, path, files=files, data=case.form, follow_redirects=False)
    if case.form is not None:
        return client.request(case.method, path, data=case.form, follow_redirects=False)
    return client.request(case.method, path, json=case.json, follow_redirects=False)


_clients: dict[tuple[int, str | None], TestClient] = {}


def _admin_token(world: World) -> int:
    c = world.client("admin")
    return int(c.post("/api/v1/tokens", json={"name": "ops", "scopes": ["read"]}).json()["info"]["id"])


def _changes(world: World) -> dict[str, int]:
    """What a refused request must not change: row counts of the data tables, revoked tokens, passwords and
    sessions, and audit records other than denials and logins (the test logs in once per request)."""
    counted = [t.moves, t.move_approvals, t.status_changes, t.check_ins, t.outcomes, t.success_criteria, t.users]
    counted += [t.opportunities, t.applications, t.onboarding_items, t.handoffs, t.allocation_runs]
    with world.db.engine.connect() as conn:
        state = {tbl.name: int(conn.scalar(select(func.count()).select_from(tbl)) or 0) for tbl in counted}
        state["revoked"] = int(conn.scalar(select(func.count()).where(t.api_tokens.c.revoked_at.is_not(None))) or 0)
        statuses = [*conn.execute(select(t.opportunities.c.id, t.opportunities.c.status))]
        statuses += [*conn.execute(select(t.applications.c.id, t.applications.c.status))]
        state["statuses"] = hash(tuple(sorted(map(tuple, statuses), key=str)))
        state["onboarded"] = int(
            conn.scalar(select(func.count()).where(t.onboarding_items.c.done_on.is_not(None))) or 0
        )
        state["targets"] = hash(
            tuple(conn.execute(select(t.people.c.id, t.people.c.target_role_id).order_by(t.people.c.id)))
        )
        state["admins"] = int(conn.scalar(select(func.count()).where(t.users.c.access == "admin")) or 0)
        state["passwords"] = hash(tuple(conn.scalars(select(t.users.c.password_hash).order_by(t.users.c.id))))
        state["sessions"] = int(conn.scalar(select(func.count()).select_from(t.web_sessions)) or 0)
        state["audit"] = int(
            conn.scalar(select(func.count()).where(t.audit_events.c.action.not_in(["access.denied", "user.login"])))
            or 0
        )
    return state


@pytest.mark.heavy
def test_matrix(world: World) -> None:
    admin_token = _admin_token(world)
    failures = []
    for case in READS:
        for user, expected in case.expect.items():
            r = _send(world, user, case, admin_token)
            if r.status_code != expected:
                failures.append(f"{user} {case.method} {case.path}: {r.status_code}, expected {expected}")
                continue
            for text in (case.hidden or {}).get(user, ()):
                if text in r.text:
                    failures.append(f"{user} {case.method} {case.path}: body shows {text!r}")
            for text in (case.shown or {}).get(user, ()):
                if text not in r.text:
                    failures.append(f"{user} {case.method} {case.path}: body lacks {text!r}")
    before = _changes(world)
    for case in REFUSALS:
        for user, expected in case.expect.items():
            r = _send(world, user, case, admin_token)
            if r.status_code != expected:
                failures.append(
                    f"{user} {case.method} {case.path}: {r.status_code}, expected {expected}: {r.text[:200]}"
                )
            elif set(r.json()) != {"error"} or set(r.json()["error"]) != {"code", "message", "details"}:
                failures.append(f"{user} {case.method} {case.path}: not the JSON error shape: {r.text[:200]}")
    assert failures == []
    assert _changes(world) == before, "a refused request changed data"


@pytest.mark.heavy
def test_a_read_only_token_changes_nothing_through_any_route(world: World) -> None:
    """The admin's read-only token, the strongest there is, on every unsafe route: 403 in the JSON error
    shape, nothing changed. (The admin, allocation and token routes once let it write.)"""
    read_only = world.client()
    made = world.client("admin").post("/api/v1/tokens", json={"name": "hris", "scopes": ["read"]}).json()
    read_only.headers["authorization"] = f"Bearer {made['token']}"
    assert read_only.get("/api/v1/admin/users").status_code == 200  # it does read
    admin_token = int(made["info"]["id"])
    before = _changes(world)
    failures = []
    for case in REFUSALS:
        r = _request(read_only, world, case, admin_token)
        if r.status_code != 403 or r.json()["error"]["code"] != "forbidden":
            failures.append(f"{case.method} {case.path}: {r.status_code} {r.text[:200]}")
        elif r.json()["error"]["message"] != "this API token may not write: it was issued for read only":
            # (it read "you may not scope:write this api_token")
            failures.append(f"{case.method} {case.path}: {r.json()['error']['message']}")
    assert failures == []
    assert _changes(world) == before, "a read-only token changed data"
    # An employee on an admin route is told so plainly (it read "you may not administer this users")
    refused = world.client("eva").get("/api/v1/allocations")
    assert (refused.status_code, refused.json()["error"]["message"]) == (403, "only administrators may do this")


def test_denials_are_audited(world: World) -> None:
    c = world.client("otto")
    assert c.get("/api/v1/moves/MV-E").status_code == 404
    assert c.post("/api/v1/moves/MV-E/actions/approve", json={}).status_code == 404
    with world.db.engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_events.c.entity_id, t.audit_events.c.details).where(
                t.audit_events.c.action == "access.denied"
            )
        ).all()
    assert [(r.entity_id, r.details["user"], r.details["status"]) for r in rows] == [
        ("MV-E", "otto", 404),
        ("MV-E", "otto", 404),
    ]


def test_api_requires_authentication(world: World) -> None:
    anonymous = world.client()
    paths = sorted({c.path for c in READS if c.route.startswith("api.") and c.route != "api.health"})
    assert len(paths) > 10
    for path in paths:
        r = anonymous.get(path)
        assert (path, r.status_code, r.json()["error"]["code"]) == (path, 401, "not_authenticated")


def test_pages_send_anonymous_users_to_login(world: World) -> None:
    r = world.client().get("/moves/MV-E", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/moves/MV-E"
    # A filtered list comes back filtered (the query was dropped)
    r = world.client().get("/moves?status=active&kind=gig", follow_redirects=False)
    assert r.headers["location"] == "/login?next=/moves%3Fstatus%3Dactive%26kind%3Dgig"
    login_page = world.client().get(r.headers["location"])
    assert 'value="/moves?status=active&amp;kind=gig"' in login_page.text
