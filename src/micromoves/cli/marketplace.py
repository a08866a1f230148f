"""``micromoves opportunities …`` and ``micromoves applications …``: the marketplace from the terminal.

The CLI is the operator's console. Under an operator name (the default ``cli``, ``hr`` …: ``OPERATOR_NAME``)
it acts with admin rights; under a person id it acts as that person, with that person's rights (their
account's access level if they have one, else an employee's; manager rights follow from the org chart, as
in the web app): an applicant cannot offer themselves a seat or approve their own move. An account's
username acts with that account's rights. Any other actor is refused (``cli_policy``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.padding import Padding
from rich.text import Text

from micromoves.cli.render import DB_INT_MAX, console, esc, esc_before_tag, natural_width, print_json, table
from micromoves.domain.errors import InvalidValue, NotFound
from micromoves.domain.marketplace import CHECKLIST_OWNER_WORDS
from micromoves.services import accounts
from micromoves.services import marketplace as market
from micromoves.services import marketplace_views as mviews
from micromoves.services.paging import MAX_PAGE, PAGE_SIZE, PageQuery
from micromoves.services.policy import Policy
from micromoves.storage import tables as t
from micromoves.storage.db import Database

if TYPE_CHECKING:  # the service is imported when the command runs (it brings the planner with it)
    from micromoves.services.congestion import SlotLoad

opportunities_app = typer.Typer(help="The marketplace of short opportunities.", no_args_is_help=True)
applications_app = typer.Typer(
    help="Applications to opportunities: offer, accept, decline, withdraw.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
PageOpt = Annotated[int, typer.Option(min=1, max=MAX_PAGE, help=f"Page of {PAGE_SIZE}.")]


def _fit_words(fit: float | None, asks: bool) -> str:
    """A skill fit as the pages show it: none for a viewer who is no person, and no "100%" of nothing."""
    if fit is None:
        return ""
    return f"skills {fit:.0%}" if asks else "no skills asked"


# An operator name: who the operator (admin rights) is in the audit trail, e.g. cli (the default), nightly.
# Lower case, so that ids as HR systems write them (P-000926, EMP, A-0) are never one: a mistyped or made-up
# person id (P000926, "P-000926 ", P-NOPE) is refused instead of getting admin rights.
OPERATOR_NAME = re.compile(r"[a-z][a-z0-9._-]{0,63}")


def operator_rule(option: str = "--actor") -> str:
    return (
        f"{option} takes a person id (that person's rights), an account's username (that account's rights) "
        "or an operator name (admin rights): lower-case letters, digits, '.', '_' or '-', starting with a "
        "letter and shaped like no person id (cli, nightly)"
    )


def cli_policy(db: Database, actor: str, *, option: str = "--actor") -> Policy:
    """Whose rights the CLI has under ``actor``: a person id's (their account's access level if they have an
    active one, else an employee's), an account's username's (that account's, as if it had logged in), or
    an operator name's (OPERATOR_NAME, reading as no person id: admin rights). Anything else is refused,
    naming ``option``: it acted with admin rights, however mistyped (P000926, "P-000926 ", P-NOPE)."""
    from sqlalchemy import func, select

    users = t.users.c
    with db.engine.connect() as conn:
        person = conn.scalar(select(t.people.c.id).where(t.people.c.id == actor))
        if person is None:
            # Usernames are unique case aside (accounts.create_user): "Admin" is the account admin.
            account = conn.execute(
                select(users.id, users.username, users.access, users.active, users.person_id).where(
                    func.lower(users.username) == actor.lower()
                )
            ).first()
            if account is None:
                _check_operator_name(conn, actor, option)
                return Policy(db, accounts.Principal(0, actor, accounts.Access.ADMIN, None))
            if not account.active:
                raise InvalidValue(
                    f"{option} {actor!r}: the account {account.username!r} is deactivated", field="actor"
                )
            access = accounts.Access(account.access)
            return Policy(db, accounts.Principal(account.id, account.username, access, account.person_id))
        own = conn.execute(select(users.id, users.access, users.active).where(users.person_id == person)).first()
    if own is None or not own.active:  # a deactivated account keeps no more than an employee's rights
        return Policy(db, accounts.Principal(0, actor, accounts.Access.EMPLOYEE, person))
    return Policy(db, accounts.Principal(own.id, actor, accounts.Access(own.access), person))


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())  # P_000926, p000926, "P-000926 " all read as P-000926


def _shape(text: str) -> str:
    return re.sub(r"\d+", "0", _letters(text))  # P-00278 is a typo of P-000278 as much as p-000278 is


def _check_operator_name(conn: Any, actor: str, option: str) -> None:
    """Refuse an actor that is no person, no account and no operator name (upper case, spaces, empty:
    P-NOPE, "P-000926 "), or an operator-shaped name that reads as a person id (p-000926, p2 beside P1)."""
    from sqlalchemy import func, select

    people = t.people.c
    letters = _letters(actor)
    # Only ids under the same first letter or digit can read as the actor: not the whole table.
    ids = (
        conn.scalars(select(people.id).where(func.lower(people.id).startswith(letters[0], autoescape=True))).all()
        if letters
        else []
    )
    same = sorted(pid for pid in ids if _letters(pid) == letters)
    if OPERATOR_NAME.fullmatch(actor) and not same and not any(_shape(pid) == _shape(actor) for pid in ids):
        return
    hint = f"; did you mean {same[0]}?" if same else ""
    raise NotFound(f"no person {actor!r} ({option}): {operator_rule(option)}{hint}", field="actor")


def _levels(values: list[str] | None, option: str) -> dict[str, float]:
    """SKILL=LEVEL pairs of a repeated option; a malformed one is an error naming the option."""
    out: dict[str, float] = {}
    for text in values or []:
        skill, _, level = text.rpartition("=")
        # The same name twice kept the last level without a word (as the web form refuses it, naming the line;
        # two names of one skill are refused by the service).
        if skill.strip() in out:
            raise InvalidValue(f"--{option} {text!r}: {skill.strip()} is given twice", field=option)
        try:
            out[skill.strip()] = float(level)
        except ValueError:
            raise InvalidValue(f"--{option} {text!r}: expected SKILL=LEVEL", field=option) from None
        if not skill.strip():
            raise InvalidValue(f"--{option} {text!r}: expected SKILL=LEVEL", field=option)
    return out


def _wait(s: SlotLoad) -> str:
    """A slot's median wait: planned (weeks from the plan to the step), else applications' days to a decision.
    Said as what it measures: a bare "15 weeks" read as a queue for seats, though a plan's start also waits
    for the person's own limits (two moves at a time, capacity)."""
    if s.median_wait_weeks is not None:
        return f"planned start in {s.median_wait_weeks:g} weeks"
    if s.median_days_to_decision is not None:  # the organisation's answer (DECISION_RULE), over s.decided
        return f"decided in {s.median_days_to_decision:g} days ({s.decided} answered)"
    return ""


def _to_start(s: SlotLoad) -> str:
    return "" if s.median_weeks_to_start is None else f"{s.median_weeks_to_start:g} weeks ({s.started})"


def _print_slots_stacked(slots: list[SlotLoad], needs: int) -> None:
    """The congestion table as one block per slot, for a terminal narrower than the table: at 80 columns its
    eight columns cut titles, ids and figures to "OPP-DEM…" and "applica…". Each block is short lines of
    "label value" that wrap between words, never inside an id or a number."""
    console.print(f"Congestion (one block per slot: the table needs {needs} columns)", highlight=False)
    for s in slots:
        console.print()
        console.print(Text(("BOTTLENECK " if s.bottleneck else "") + s.title, style="bold"))
        runs = f" · runs template {s.template_id}" if s.slot == "opportunity" and s.template_id else ""
        lines = [
            f"{s.slot} {s.id}{runs}",
            f"seats {s.supply} · demand {s.demand} ({s.demand_plans} planned + {s.demand_applications} applied) · "
            f"ratio {s.ratio:g} · queue {s.queue}",
        ]
        timing = [w for w in [_wait(s)] if w] + [f"time to start {t}" for t in [_to_start(s)] if t]
        if timing:
            lines.append(" · ".join(timing))
        for line in lines:  # indented as a whole, wrapped lines too
            console.print(Padding(Text(line), (0, 0, 0, 2), expand=False))


def register(app: typer.Typer) -> None:
    from micromoves.cli.main import _policy, handle_errors, open_db, parse_date, required_date

    @opportunities_app.command("list")
    @handle_errors
    def opportunities_list(page: PageOpt = 1, as_json: JsonOpt = False) -> None:
        """Open opportunities, a page at a time (soonest first), best fit for the actor first within it (with
        --actor PERSON)."""
        db = open_db()
        data = mviews.marketplace(db, _policy(db), PageQuery(page=page))
        if as_json:
            print_json(data.model_dump(mode="json"))
            return
        rows = [
            [
                o.id,
                o.title,
                o.kind,
                o.host_team,
                f"{o.start} – {o.end}",
                f"{o.percent_time}%",
                f"{o.seats_left}/{o.seats}",
                o.status,
                "; ".join(x for x in (_fit_words(o.skill_fit, o.asks_skills), o.why) if x),
            ]
            for o in data.opportunities
        ]
        console.print(
            table("Opportunities", ["id", "title", "kind", "team", "dates", "time", "seats", "status", "fit"], rows)
        )
        if data.pages > 1:
            console.print(f"page {data.page} of {data.pages} ({data.total} opportunities): --page N for another")

    @opportunities_app.command("show")
    @handle_errors
    def opportunities_show(opportunity_id: str, page: PageOpt = 1, as_json: JsonOpt = False) -> None:
        """One opportunity, with a page of its applications."""
        db = open_db()
        data = mviews.opportunity_detail(db, _policy(db), opportunity_id, PageQuery(page=page))
        if as_json:
            print_json(data.model_dump(mode="json"))
            return
        c = data.card
        # The title in bold; every value escaped (user text is printed literally, never as Rich markup).
        console.print(
            f"[bold]{esc_before_tag(c.title)}[/] ({esc(c.id)}) — {c.status}, {c.kind}, {esc(c.host_team)}, "
            f"{c.start} – {c.end}, "
            f"{c.percent_time}%, {c.seats_left}/{c.seats} seats left",
            highlight=False,
        )
        for i, s in enumerate(data.success_criteria, 1):
            console.print(f"  criterion {i}: {s}", markup=False)
        rows = [
            [a.id, a.person.name, a.status, _fit_words(a.skill_fit, c.asks_skills) or "", a.plan_benefit_weeks or ""]
            for a in data.applications
        ]
        console.print(table("Applications", ["id", "person", "status", "skills", "weeks saved"], rows))
        shown = data.applications_paging
        if shown is not None and shown.pages > 1:
            console.print(f"page {shown.page} of {shown.pages} ({shown.total} applications): --page N for another")

    @opportunities_app.command("create")
    @handle_errors
    def opportunities_create(
        title: Annotated[str, typer.Option()],
        kind: Annotated[str, typer.Option()],
        team: Annotated[str, typer.Option(help="The host team.")],
        start: Annotated[str, typer.Option()],
        end: Annotated[str, typer.Option()],
        percent: Annotated[int, typer.Option(help="Share of time, %.")],
        criterion: Annotated[list[str], typer.Option(help="A success criterion (repeat).")],
        seats: Annotated[int, typer.Option()] = 1,
        template: Annotated[str | None, typer.Option(help="The move template it runs (links it to plans).")] = None,
        description: str = "",
        builds: Annotated[list[str] | None, typer.Option(help="SKILL=GAIN it builds, in levels (repeat).")] = None,
        requires: Annotated[list[str] | None, typer.Option(help="SKILL=LEVEL an applicant needs (repeat).")] = None,
        prefers: Annotated[list[str] | None, typer.Option(help="SKILL=LEVEL that counts in the fit (repeat).")] = None,
        outcomes: Annotated[str, typer.Option(help="The outcomes expected.")] = "",
        # The web form's and the API's ranges: a negative level or tenure was stored.
        min_level: Annotated[
            int | None, typer.Option(min=1, max=10, help="Lowest role level that may apply (1–10).")
        ] = None,
        min_tenure: Annotated[
            int | None, typer.Option(min=0, max=600, help="Months with the organisation, at least (0–600).")
        ] = None,
        location: Annotated[
            list[str] | None, typer.Option(help="A location that may apply (repeat; none: any).")
        ] = None,
        deadline: Annotated[str | None, typer.Option(help="Last day to apply (YYYY-MM-DD).")] = None,
        publish: Annotated[bool, typer.Option(help="Submit and publish at once.")] = False,
    ) -> None:
        """Create an opportunity (a draft, or published with --publish), with its eligibility rules."""
        db = open_db()
        policy = _policy(db)
        data = market.OpportunityInput(
            title=title,
            kind=kind,
            host_team_id=team,
            start=required_date(start, "start"),
            end=required_date(end, "end"),
            percent_time=percent,
            seats=seats,
            description=description,
            required_skills=_levels(requires, "requires"),
            preferred_skills=_levels(prefers, "prefers"),
            builds_skills=_levels(builds, "builds"),
            expected_outcomes=outcomes,
            success_criteria=criterion,
            min_role_level=min_level,
            min_tenure_months=min_tenure,
            locations=location or [],
            application_deadline=parse_date(deadline, "deadline"),
            template_id=template,
        )
        opportunity_id = market.create_opportunity(db, policy, data, publish=publish)
        console.print(opportunity_id)

    @opportunities_app.command("set-status")
    @handle_errors
    def opportunities_status(opportunity_id: str, status: str) -> None:
        """pending_approval, open (publish), closed or cancelled."""
        db = open_db()
        market.set_opportunity_status(db, _policy(db), opportunity_id, status)
        console.print(f"{opportunity_id}: {status}")

    @opportunities_app.command("apply")
    @handle_errors
    def opportunities_apply(opportunity_id: str, note: str = "") -> None:
        """Apply as the --actor person."""
        db = open_db()
        console.print(f"application {market.apply(db, _policy(db), opportunity_id, note=note)}")

    @applications_app.command("decide")
    @handle_errors
    def applications_decide(
        application_id: Annotated[int, typer.Argument(min=1, max=DB_INT_MAX)], action: str, reason: str = ""
    ) -> None:
        """offer / waitlist / reject (host side) or accept / decline / withdraw (as the applicant)."""
        db = open_db()
        move_id = market.decide(db, _policy(db), application_id, action, reason=reason)
        console.print(f"application {application_id}: {action}" + (f"; move {move_id} requested" if move_id else ""))

    @app.command("congestion")
    @handle_errors
    def congestion_report(
        routes: Annotated[str | None, typer.Option(help="Show alternate routes around this move template.")] = None,
        horizon: Annotated[int | None, typer.Option(help="Weeks ahead (the report; default 104).")] = None,
        # Checked by the service (congestion.check_route_limit), in the web's words.
        limit: Annotated[int | None, typer.Option(help="People to re-plan with --routes (1–20; default 5).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Where demand for moves outruns seats; with --routes, what it costs people to go without a slot."""
        from micromoves.services import congestion

        # Each option goes with one of the two outputs: given with the other, it was ignored without a word.
        if routes and horizon is not None:
            raise InvalidValue(
                "--horizon is the report's: alternate routes are planned over 104 weeks, as on the page",
                field="horizon",
            )
        if not routes and limit is not None:
            raise InvalidValue(
                "--limit is how many people --routes TEMPLATE compares: give it with --routes", field="limit"
            )
        db = open_db()
        policy = _policy(db)
        if routes:
            alt = congestion.alternate_routes(
                db, policy, routes, limit=congestion.DEFAULT_ROUTES if limit is None else limit
            )
            if as_json:
                print_json(alt.model_dump(mode="json"))
                return
            rows = [
                [
                    a.person,
                    a.current_ready_week,
                    a.alternative_ready_week
                    if a.alternative_ready_week is not None
                    else "out of reach"
                    if a.alternative_found
                    else "none found",
                    a.extra_weeks,
                    a.explanation,
                ]
                for a in alt.routes
            ]
            heading = f"Alternate routes without {alt.template_title} ({routes})"
            console.print(table(heading, ["person", "ready", "without", "extra", "why"], rows))
            for n in alt.not_planned:
                console.print(f"not planned: {esc(n.person)} ({esc(n.person_id)}): {esc(n.reason)}")
            if (compared := len(alt.routes) + len(alt.not_planned)) < alt.wanting:
                console.print(f"compared the first {compared} of {alt.wanting} people who want it (--limit up to 20)")
            return
        report = congestion.congestion(db, policy, horizon_weeks=104 if horizon is None else horizon)
        if as_json:
            print_json(report.model_dump(mode="json"))
            return
        wide = table(
            "Congestion",
            ["slot", "seats", "demand (plans + applications)", "ratio", "queue", "wait", "time to start", "template"],
            [
                [
                    ("BOTTLENECK " if s.bottleneck else "") + f"{s.title}\n{s.slot} {s.id}",
                    s.supply,
                    f"{s.demand} ({s.demand_plans} + {s.demand_applications})",
                    f"{s.ratio:g}",
                    s.queue,
                    _wait(s),
                    _to_start(s),
                    s.template_id or "",
                ]
                for s in report.slots
            ],
        )
        if natural_width(wide) <= console.width:
            console.print(wide)
        else:
            _print_slots_stacked(report.slots, natural_width(wide))
        for title, first, cells in (
            ("Planned starts on bottlenecks, by team", "team", [(c.team, c.quarter, c.count) for c in report.heatmap]),
            ("… and by the skills they build", "skill", [(c.skill, c.quarter, c.count) for c in report.skill_heatmap]),
        ):
            if cells:
                grid = {(k, q): n for k, q, n in cells}
                keys = sorted({k for k, _, _ in cells})
                rows = [[k, *(grid.get((k, q), "") for q in report.quarters)] for k in keys]
                console.print(table(title, [first, *report.quarters], rows))
        console.print(f"A bottleneck has {report.bottleneck_rule}.", highlight=False)
        left_out = f" {report.left_out} left out so." if report.left_out else ""
        console.print(f"Past opportunities: {report.slot_rule}.{left_out}", highlight=False)
        console.print(f"An opportunity's wait is its median {report.decision_rule}.", highlight=False)
        latest = f", the latest made {report.latest_plan_at:%Y-%m-%d}" if report.latest_plan_at else ""
        plans = "plan" if report.current_plans == 1 else "plans"
        console.print(f"Plan demand counts {report.current_plans} current {plans}{latest}.")
        if stale := report.plans_out_of_date:
            which = (
                "1 current plan aims at a target role its person no longer has"
                if stale == 1
                else f"{stale} current plans aim at a target role their people no longer have"
            )
            console.print(f"{which} (changed or cleared since): not counted.")
        if missing := report.targets_without_plan:
            who = "1 person with a target role has" if missing == 1 else f"{missing} people with a target role have"
            console.print(
                f"{who} no current plan towards it, so what their plans would need is not counted: "
                "`micromoves plan-all` plans everyone who has a target role (and names those it cannot plan, and why)."
            )

    @app.command("credit")
    @handle_errors
    def credit(manager_id: str, as_json: JsonOpt = False) -> None:
        """A manager's ledger of talent released: people and person-weeks lent, moves completed."""
        db = open_db()
        data = mviews.manager_credit(db, _policy(db), manager_id)
        if as_json:
            print_json(data.model_dump(mode="json"))
            return
        console.print(
            f"{manager_id}: {data.people_released} people released, {data.person_weeks_lent:g} person-weeks lent so "
            f"far, {data.person_weeks_committed:g} more committed, {data.moves_completed} moves completed",
            markup=False,
        )
        rows = [
            [m.move_id, m.person.name, m.title, m.status, f"{m.start} – {m.end}", m.person_weeks_lent, m.person_weeks]
            for m in data.moves
        ]
        columns = ["move", "person", "title", "status", "dates", "person-weeks lent so far", "of the move"]
        console.print(table("Moves released", columns, rows))
        if data.more_moves:
            console.print(f"and {data.more_moves} older moves, counted in the totals above")

    @app.command("releases")
    @handle_errors
    def releases(
        page: Annotated[
            int, typer.Option(min=1, max=100_000, help="Page of 100 managers, most person-weeks lent first.")
        ] = 1,
        as_json: JsonOpt = False,
    ) -> None:
        """HR's release report: which managers lend their people, and how much (HR and admins)."""
        db = open_db()
        data = mviews.release_report(db, _policy(db), mviews.ReleasePages(page=page))
        if as_json:
            print_json(data.model_dump(mode="json"))
            return
        rows = [
            [
                r.manager.name,
                r.people_released,
                r.person_weeks_lent,
                r.person_weeks_committed,
                r.moves_completed,
                r.later_role_changes,
            ]
            for r in data.managers
        ]
        columns = [
            "manager",
            "people",
            "person-weeks lent so far",
            "more committed",
            "moves completed",
            "later role changes",
        ]
        console.print(table("Talent released", columns, rows))
        if data.total > page * data.page_size:
            console.print(f"{data.total} managers in all: more with --page {page + 1}")

    @app.command("onboarding")
    @handle_errors
    def onboarding(
        move_id: str,
        done: Annotated[list[int] | None, typer.Option(help="Mark this checklist item id done (repeat).")] = None,
        reopen: Annotated[list[int] | None, typer.Option(help="Reopen this checklist item id (repeat).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """A move's onboarding checklist; --done ITEM ticks items off, --reopen ITEM undoes that. Each item is
        for its party to tick (the person, the host team's manager or the line manager; HR too), while the move
        is approved, onboarding or active."""
        db = open_db()
        policy = _policy(db)
        # The items named are the move's, checked before any is ticked: an item of another move was ticked
        # off, and then the command failed on the move named (a mistyped move id: the tick was written anyway).
        ids = {i.id for i in mviews.onboarding(db, policy, move_id)}
        for option, named in (("--done", done), ("--reopen", reopen)):
            if (stray := next((item for item in named or [] if item not in ids), None)) is not None:
                raise NotFound(f"{option} {stray}: move {move_id} has no such onboarding item", field=option[2:])
        for item in done or []:
            market.complete_onboarding_item(db, policy, item)
        for item in reopen or []:
            market.complete_onboarding_item(db, policy, item, done=False)
        items = mviews.onboarding(db, policy, move_id)
        if as_json:
            print_json([i.model_dump(mode="json") for i in items])
            return
        rows = [
            [
                i.id,
                i.item,
                CHECKLIST_OWNER_WORDS[i.owner] if i.owner else "either side",
                i.done_on or "",
                i.done_by or "",
            ]
            for i in items
        ]
        console.print(table(f"Onboarding of {move_id}", ["id", "item", "for", "done", "by"], rows))

    @app.command("handoff")
    @handle_errors
    def handoff(
        move_id: str,
        holder: Annotated[
            str | None, typer.Option(help="Whose responsibilities are handed over (records one).")
        ] = None,
        responsibilities: Annotated[str, typer.Option(help="What is handed over.")] = "",
        return_on: Annotated[str | None, typer.Option(help="When the holder takes them back (YYYY-MM-DD).")] = None,
        backfill: Annotated[str | None, typer.Option(help="Who covers the receiver's own work meanwhile.")] = None,
        correct: Annotated[
            bool, typer.Option("--correct", help="Replace the recorded handoff with --holder and the rest.")
        ] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """A move's responsibility handoff (acting roles, handoffs, temporary leads); with --holder, record it
        (the holder of the host team, the backfill of the person's own team); with --correct as well, replace
        the recorded one (all of it: a return date left out is the move's end, a backfill left out none)."""
        from micromoves.services import handoffs
        from micromoves.services.views import move_detail

        db = open_db()
        policy = _policy(db)
        move_detail(db, policy, move_id)  # the same visibility as the move, as in the web app
        if correct and not holder:
            raise InvalidValue("--correct replaces the whole handoff: give --holder and --responsibilities too")
        if holder:
            (handoffs.correct_handoff if correct else handoffs.record_handoff)(
                db,
                policy,
                move_id,
                holder_id=holder,
                responsibilities=responsibilities,
                return_on=parse_date(return_on, "return_on"),
                backfill_id=backfill,
            )
        view = handoffs.handoff_for_move(db, move_id)
        if as_json:
            print_json(None if view is None else view.model_dump(mode="json"))
            return
        if view is None:
            console.print(f"{move_id} has no handoff")
            return
        console.print(
            f"{view.holder.name} hands {view.responsibilities!r} to {view.receiver.name} from {view.start}, back on "
            f"{view.return_on}" + (f"; {view.backfill.name} backfills" if view.backfill else "") + f" ({view.status})",
            markup=False,
        )

    app.add_typer(opportunities_app, name="opportunities")
    app.add_typer(applications_app, name="applications")
