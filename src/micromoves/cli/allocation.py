"""``micromoves allocate``: propose the fair org-wide allocation, review it, apply or discard it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from micromoves.cli.render import DB_INT_MAX, console, esc, print_json, table

if TYPE_CHECKING:  # the allocation service imports numpy and OR-Tools: only when a command needs it
    from micromoves.services.allocation import AllocationProposal

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def print_proposal(proposal: AllocationProposal, *, limit: int) -> None:
    rows = [
        [a.person_id, a.person_name, a.opportunity_id, a.opportunity_title, f"{a.score:g}", a.explanation]
        for a in sorted(proposal.assignments, key=lambda a: (-a.score, a.opportunity_id, a.person_id))[:limit]
    ]
    console.print(
        table(
            f"allocation run {proposal.run_id} ({proposal.status})",
            ["person", "name", "opportunity", "title", "score", "why"],
            rows,
        )
    )
    shown = "" if len(proposal.assignments) <= limit else f" (showing the top {limit})"
    stats = proposal.stats
    console.print(
        f"{len(proposal.assignments):,} assignments{shown}, total score {proposal.objective:,.2f}; "
        f"{stats.get('eligible_pairs', 0):,} eligible of {stats.get('live_applications', 0):,} live applications, "
        f"{stats.get('seats', 0):,} free seats in {stats.get('opportunities', 0):,} open opportunities",
        highlight=False,
    )
    if stats.get("empty_seats"):
        listed = stats.get("unfilled", [])[:limit]
        of_all = stats.get("unfilled_opportunities", len(listed))
        shown = f" (the {len(listed)} most empty of {of_all:,} opportunities)" if len(listed) < of_all else ""
        console.print(
            table(
                f"{stats['empty_seats']:,} of {stats.get('seats', 0):,} seats left empty, and why{shown}",
                ["opportunity", "title", "empty", "why"],
                [[u["opportunity_id"], u["title"], u["empty"], u["reason"]] for u in listed],
            )
        )
    if proposal.status == "proposed":
        console.print(
            f"review, then [bold]micromoves allocate --apply {proposal.run_id}[/] to send the offers "
            f"(or --discard {proposal.run_id})"
        )


def register(app: typer.Typer) -> None:
    from micromoves.cli import main as cli

    @app.command()
    @cli.handle_errors
    def allocate(
        equity_weight: Annotated[
            float,
            typer.Option(help="Score bonus for people with no move in the last 12 months (weeks of benefit, 0–100)."),
        ] = 2.0,
        release_share: Annotated[
            float, typer.Option(help="Share of a team that may be away at once (0.2 = 20%).")
        ] = 0.2,
        away_percent: Annotated[
            int,
            typer.Option(
                min=1, max=100, help="A person counts as away when their moves take at least this % of a working week."
            ),
        ] = 50,
        today: Annotated[
            str | None,
            typer.Option(
                help="Date to allocate as of (default: today); a run for another day applies only with that --today."
            ),
        ] = None,
        apply: Annotated[
            int | None,
            typer.Option(
                "--apply", min=1, max=DB_INT_MAX, help="Turn this proposed run into offers.", metavar="RUN_ID"
            ),
        ] = None,
        discard: Annotated[
            int | None,
            typer.Option("--discard", min=1, max=DB_INT_MAX, help="Discard this proposed run.", metavar="RUN_ID"),
        ] = None,
        limit: Annotated[int, typer.Option(min=1, help="Rows to show in the table.")] = 50,
        as_json: JsonOpt = False,
    ) -> None:
        """Propose who gets which open seat: the assignment with the highest total score (min-cost flow,
        exact); review, then --apply or --discard.

        Who may get a seat: a live (applied or waitlisted) applicant who meets the opportunity's role level,
        tenure, location and required skill levels and has the time free over its dates. At most one seat
        per person, the opportunity's free seats, and per team at most --release-share of its people away at
        once (people already released to a move or promised a seat count on days those take at least
        --away-percent of their week; each seat filled counts as one more).

        The score of a seat for a person: the weeks sooner it makes them ready for their target role (their
        plan's estimate, stored with the application) + --equity-weight if they started no move in the last
        12 months + how far their skills reach the opportunity's required and preferred levels (0 to 1, so
        at most a week's worth; 1 when it asks for no skills). A seat that scores 0 is not proposed. Nothing
        is offered until the run is applied.
        """
        from micromoves.services import allocation as svc

        if apply is not None and discard is not None:
            cli.fail("give either --apply or --discard, not both", 2)
        db = cli.open_db()
        cli.require_admin(db, "run the allocation")
        if discard is not None:
            svc.discard_allocation(db, discard, actor=cli.actor())
            if as_json:
                print_json({"run_id": discard, "status": "discarded"})
            else:
                console.print(f"allocation run {discard} discarded")
            return
        if apply is not None:
            proposal = svc.apply_allocation(db, apply, actor=cli.actor(), today=cli.parse_date(today, "today"))
        else:
            with cli.progress_bar() as update:
                proposal = svc.propose_allocation(
                    db,
                    actor=cli.actor(),
                    equity_weight=equity_weight,
                    release_share=release_share,
                    away_percent=away_percent,
                    today=cli.parse_date(today, "today"),
                    progress=update,
                )
        if as_json:  # the API's shape (GET /api/v1/allocations/ID): one code path, one document
            print_json(svc.run_detail(proposal).model_dump(mode="json"))
            return
        print_proposal(proposal, limit=limit)
        if apply is not None:
            console.print(f"{len(proposal.assignments):,} offers sent ({esc(cli.actor())})", highlight=False)
