"""The ``micromoves`` command line. Each command is a thin call into one service function."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from alembic.util.exc import CommandError as AlembicError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from micromoves.cli.render import (
    DB_INT_MAX,
    console,
    err_console,
    esc,
    esc_before_tag,
    jsonable,
    print_json,
    print_move,
    table,
)
from micromoves.domain import rules, vocabulary
from micromoves.domain.errors import DomainError, InvalidValue
from micromoves.domain.model import Decision, MoveKind, MoveStatus, Rating
from micromoves.domain.vocabulary import accepted
from micromoves.services import approvals, exporting, importing, imports, org, roles, secured, views
from micromoves.services import moves as move_svc
from micromoves.services.approvals import Verdict
from micromoves.services.policy import Policy
from micromoves.services.taxonomy import load_taxonomy
from micromoves.settings import SettingsError, get_settings
from micromoves.storage.db import Database
from micromoves.storage.uow import UnitOfWork

app = typer.Typer(
    help="micromoves — plan, track and learn from micro-career moves.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
people_app = typer.Typer(help="People and their profiles.", no_args_is_help=True)
moves_app = typer.Typer(help="Moves: propose, take through the lifecycle, check in, review.", no_args_is_help=True)
skills_app = typer.Typer(help="Skill profiles.", no_args_is_help=True)
roles_app = typer.Typer(help="Roles and the role lattice.", no_args_is_help=True)
users_app = typer.Typer(help="Login accounts for the web app and API.", no_args_is_help=True)
app.add_typer(people_app, name="people")
app.add_typer(moves_app, name="moves")
app.add_typer(skills_app, name="skills")
app.add_typer(roles_app, name="roles")
app.add_typer(users_app, name="users")

F = TypeVar("F", bound=Callable[..., Any])
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ChangedSinceOpt = Annotated[
    str | None,
    typer.Option(
        "--changed-since",
        metavar="TIME",
        help="Only records changed at or after TIME, an ISO 8601 time with a time zone (2026-11-27T08:00:00Z), "
        "as the API's ?changed_since=: pass the time your previous pull started, less an overlap (a change is "
        "stamped when written and seen when its transaction commits: an import writes for up to a minute). A "
        "record whose last change is not known counts as changed.",
    ),
]


class State:
    db_option: str | None = None
    actor: str | None = None
    # Who the checked actor is, as audits and records name them: --actor Ada (an account's username, any case)
    # acts as Ada's person, P1, and was recorded as "Ada" on plans, imports and offers.
    recorded_as: str | None = None


state = State()


@app.callback()
def main(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="SQLite file path or database URL (default: "
            "MICROMOVES_DATABASE_URL, else the file in the user data dir).",
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            help="Who is acting, recorded in the audit trail: a person id (P-000926) acts with that person's "
            "rights, an account's username with that account's, an operator name with admin rights: lower-case "
            "letters, digits, '.', '_' or '-', starting with a letter and shaped like no person id (cli, "
            "nightly). Anything else (P-NOPE, P000926, 'P-000926 ') is refused. Default: MICROMOVES_ACTOR, else cli.",
        ),
    ] = None,
) -> None:
    state.db_option, state.actor, state.recorded_as = db, actor, None
    # A bad MICROMOVES_* value stops every command at once, with --db too (the settings were read only by
    # the commands that needed them, so some ran on with a value the others refused).
    try:
        get_settings()
    except SettingsError as exc:
        fail(str(exc), 2)


def database_url() -> str:
    if state.db_option:
        # ~ too: a quoted --db "~/x" (or --db=~/x, which no shell expands) made a directory named "~".
        return (
            state.db_option if "://" in state.db_option else f"sqlite:///{Path(state.db_option).expanduser().resolve()}"
        )
    return get_settings().resolved_database_url()


def _given_actor() -> str:
    # --actor "" (a script's unset variable) is checked as given, not replaced by the operator's default.
    return state.actor if state.actor is not None else get_settings().actor


def actor() -> str:
    """The actor written to records and the audit trail: the checked principal's (see open_db)."""
    return state.recorded_as or _given_actor()


def actor_option() -> str:
    """Where the actor came from, for an error about it."""
    return "--actor" if state.actor is not None else "MICROMOVES_ACTOR"


def open_db(*, create: bool = False) -> Database:
    url = database_url()
    try:
        db = Database(url)
    except (ValueError, ImportError, ArgumentError) as exc:  # a malformed URL, or a driver not installed
        shown = re.sub(r"//[^/@]*@", "//***@", url)  # never print a password (the URL may not even parse)
        raise InvalidValue(
            f"cannot open the database {shown}: {exc}; use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
            field="db",
        ) from None
    try:
        if not db.is_initialised():
            if not create:
                raise DomainError(f"no micromoves database at {db.url.render_as_string()}; run `micromoves init` first")
            db.migrate()
        elif not db.is_current():
            db.migrate()  # a database from an older micromoves: bring its schema up to date first
    except AlembicError as exc:  # e.g. a schema revision this micromoves does not know (a newer release's)
        raise DomainError(
            f"cannot bring the database schema up to date: {exc}; is it from a newer micromoves?", field="db"
        ) from None
    # Every command checks its actor, even one that only reads or runs as the operator (plan-all): an actor
    # that is neither a person nor an operator name is refused before anything is done or recorded under it.
    checked = _policy(db).principal
    # A person or an account is recorded as the web records them; an operator (no account) by its name.
    state.recorded_as = checked.actor if checked.person_id or checked.user_id else None
    return db


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {esc(message)}", highlight=False)
    raise typer.Exit(code)


def handle_errors(fn: F) -> F:
    """User mistakes become one clear line and a non-zero exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except importing.ImportRejected as exc:
            err_console.print(f"[bold red]error:[/] {esc(exc.message.splitlines()[0])}", highlight=False)
            for issue in exc.issues:
                err_console.print(f"  {esc(str(issue))}", highlight=False)
            raise typer.Exit(2) from None
        except DomainError as exc:
            fail(exc.message + _option_of(exc.field, kwargs, exc.message), 2 if exc.code != "not_found" else 3)
        except OperationalError as exc:
            fail(f"database error: {str(exc.orig).strip().splitlines()[0]}")
        except SQLAlchemyError as exc:
            fail(f"database error: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        except BrokenPipeError:  # `… --json | head`: the reader has what it wanted; no error of ours to report
            _quit_on_broken_pipe()
        except OSError as exc:  # "/proc/nope: No such file or directory", not "[Errno 2] No such file…"
            fail(f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc))
        except SettingsError as exc:
            fail(str(exc), 2)

    return wrapper  # type: ignore[return-value]


def _quit_on_broken_pipe() -> None:
    """End quietly, as Rich ends a table cut short by a closed pipe (exit 1, nothing said): standard output
    goes to /dev/null first, so that flushing what is left at exit raises no second BrokenPipeError."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    raise typer.Exit(1)


# Service fields whose command-line option has another name.
_OPTION_NAMES = {
    "percent_time": ("percent",),
    "criteria": ("criterion",),
    "success_criteria": ("criterion",),
    "host_team_id": ("team", "host_team"),
    "target_role_id": ("target", "target_role"),
    "template_id": ("template",),
}


def _option_of(field: str | None, given: dict[str, Any], message: str = "") -> str:
    """' (--option)' when the error's field is an option of the running command under another name (the
    command's parameters are its options, named as typer names them), so the message names what was typed."""
    for name in _OPTION_NAMES.get(field or "", ()):
        if name in given:
            option = f"--{name.replace('_', '-')}"
            return "" if option in message else f" ({option})"  # 'give one (--target ROLE) (--target)'
    return ""


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A Rich progress bar driven by the services' ``progress(stage, done, total)`` callbacks."""
    with Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not err_console.is_terminal,  # no bar in logs and pipes
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield update


def parse_date(value: str | None, field: str) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidValue(f"{field}: {value!r} is not an ISO date (YYYY-MM-DD)", field=field) from None
    rules.check_calendar(day, field)
    return day


def parse_changed_since(value: str | None) -> dt.datetime | None:
    """--changed-since read as the API reads ?changed_since= (views.parse_changed_since)."""
    return None if value is None else views.parse_changed_since(value, "--changed-since")


def required_date(value: str, field: str) -> dt.date:
    parsed = parse_date(value, field)
    assert parsed is not None
    return parsed


# ------------------------------------------------------------------------------------------------ setup


@app.command()
@handle_errors
def init() -> None:
    """Create (or upgrade) the database and load the O*NET 29.3 taxonomy shipped with micromoves."""
    db = open_db(create=True)
    db.migrate()
    loaded = load_taxonomy(db)
    console.print(
        f"database ready at {esc(db.url.render_as_string())}; O*NET 29.3 " + ("loaded" if loaded else "already loaded")
    )


@app.command()
@handle_errors
def demo(
    people: Annotated[int, typer.Option(help="Number of people in the demo organisation.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed and date, same organisation.")] = 42,
    as_of: Annotated[str | None, typer.Option(help="Date the demo history leads up to (default: today).")] = None,
    replace: Annotated[bool, typer.Option(help="Replace an existing organisation in this database.")] = False,
    tour: Annotated[bool, typer.Option(help="Print a short tour when done.")] = True,
) -> None:
    """Build a realistic demo organisation from real O*NET occupations, then print a short tour."""
    from micromoves.cli.tour import print_tour
    from micromoves.services.demo import generate_demo

    db = open_db(create=True)
    load_taxonomy(db)
    if replace:
        require_admin(db, "replace the organisation")
    with progress_bar() as update:
        summary = generate_demo(
            db, people=people, seed=seed, as_of=parse_date(as_of, "as_of"), progress=update, replace=replace
        )
    if tour:
        print_tour(db, summary)


@app.command()
@handle_errors
def serve(
    demo: Annotated[
        bool, typer.Option(help="Create the demo organisation if the database is empty; print demo logins.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    # A port past 65535 was announced ("micromoves on http://127.0.0.1:99999/") and ended in uvicorn's traceback.
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on (1–65535).")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Start the web app and JSON API (docs at /api/docs)."""
    import os

    import uvicorn

    db = open_db(create=True)
    db.migrate()
    if demo:
        _prepare_demo(db)
    # The server process builds its own Database from Settings: hand it the database chosen here (--db).
    os.environ["MICROMOVES_DATABASE_URL"] = database_url()
    get_settings.cache_clear()
    console.print(f"micromoves on http://{host}:{port}/  (API: http://{host}:{port}/api/docs)")
    # The client address login throttling counts under (web.routes._address): the peer, or the address a
    # trusted proxy names in X-Forwarded-For (uvicorn takes the nearest address not itself a trusted proxy).
    trusted = get_settings().forwarded_allow_ips
    uvicorn.run(
        "micromoves.web.wsgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=trusted != "",
        forwarded_allow_ips=trusted or None,
        log_level="warning",
    )


def _prepare_demo(db: Database) -> None:
    from micromoves.services.demo import generate_demo
    from micromoves.services.demo_logins import create_demo_logins, plan_hr_unit

    load_taxonomy(db)
    with UnitOfWork(db, write=False) as uow:
        empty = uow.people.count() == 0
    if empty:
        with progress_bar() as update:
            generate_demo(db, progress=update)
    logins = create_demo_logins(db)
    with progress_bar() as update:
        plan_hr_unit(db, progress=update)
    rows = [[x.kind, x.username, x.password, f"{x.person_name} ({x.person_id})" if x.person_id else ""] for x in logins]
    console.print(table("Demo logins (new passwords every start)", ["who", "username", "password", "person"], rows))


@users_app.command("add")
@handle_errors
def users_add(
    username: str,
    access: Annotated[str, typer.Option(help="employee, hr or admin.")] = "employee",
    person: Annotated[str | None, typer.Option(help="The person this account belongs to.")] = None,
    org_unit: Annotated[
        list[str] | None, typer.Option(help="HR: a team whose subtree this account looks after.")
    ] = None,
    password: Annotated[
        str, typer.Option(prompt=True, confirmation_prompt=True, hide_input=True, envvar="MICROMOVES_NEW_PASSWORD")
    ] = "",
) -> None:
    """Create a login account (the first admin is created this way)."""
    from micromoves.services import accounts

    db = open_db()
    require_admin(db, "create accounts")
    user = accounts.create_user(
        db,
        username=username,
        password=password,
        access=access,
        person_id=person,
        org_units=org_unit or [],
        actor=actor(),
    )
    console.print(f"created user {esc(user.username)} ({user.access})")


@users_app.command("list")
@handle_errors
def users_list(as_json: JsonOpt = False) -> None:
    """List login accounts."""
    from micromoves.services import accounts

    db = open_db()
    require_admin(db, "list accounts")
    users, _ = accounts.list_users(db)
    if as_json:
        print_json([u.__dict__ for u in users])
        return
    rows = [
        [u.username, u.access.value, u.person_id or "", ", ".join(u.org_units), "yes" if u.active else "no"]
        for u in users
    ]
    console.print(table("Users", ["username", "access", "person", "org units", "active"], rows))


@users_app.command("set-password")
@handle_errors
def users_set_password(
    username: str,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the new password from the first line of standard input (for scripts), not a prompt.",
        ),
    ] = False,
    revoke_tokens: Annotated[
        bool, typer.Option("--revoke-tokens", help="Also revoke the account's API tokens (a suspected compromise).")
    ] = False,
) -> None:
    """Set an account's password (a forgotten one, or the first one to hand out): prompted for twice, not
    echoed. Every session of the account ends; its API tokens stay unless --revoke-tokens."""
    from micromoves.services import accounts

    db = open_db()
    require_admin(db, "set passwords")
    user = accounts.user_named(db, username)  # an unknown username is refused before the password is asked
    # Never an option: a password in argv is in the shell's history and in every process listing.
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidValue("no password on standard input (one line)", field="password")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    done = accounts.set_password(
        db, user.id, password=password, revoke_tokens=revoke_tokens, actor=_policy(db).principal
    )
    revoked = f", {done.tokens_revoked} API token(s) revoked" if revoke_tokens else ""
    console.print(f"password set for {esc(user.username)}: {done.sessions_ended} session(s) ended{revoked}")


@app.command("import")
@handle_errors
def import_(
    files: Annotated[
        list[Path], typer.Argument(help="teams.csv, people.csv, roles.csv, role_skills.csv, moves.csv or .json")
    ],
    kind: Annotated[str | None, typer.Option(help="What the files hold, if their names do not say.")] = None,
    known_teams: Annotated[
        bool, typer.Option("--known-teams", help="Refuse a team that does not exist instead of creating it.")
    ] = False,
) -> None:
    """Import files all-or-nothing: any bad row rejects the import and lists every problem."""
    db = open_db()
    with progress_bar() as update:
        summary = imports.import_data(
            db, _policy(db), files, kind=kind, known_teams=known_teams, progress=update, actor=actor()
        )
    for k in importing.KINDS:
        if k in summary.created:
            console.print(
                f"{k}: {summary.created[k]} created, {summary.updated[k]} updated, "
                f"{summary.unchanged.get(k, 0)} unchanged"
            )
    if summary.teams_created:
        console.print(f"teams created: {esc(', '.join(summary.teams_created))}", highlight=False)
    for k, names in summary.extra_columns.items():
        console.print(f"{k}: kept columns beyond the format: {esc(', '.join(names))}", highlight=False)
    console.print(f"done in {summary.seconds:.1f} s")


@app.command()
@handle_errors
def export(
    out: Annotated[Path, typer.Argument(help="Folder for the CSV files, or a .json file.")],
    changed_since: Annotated[
        str | None,
        typer.Option(
            "--changed-since",
            metavar="TIME",
            help="Only the people and moves changed at or after TIME, an ISO 8601 time with a time zone "
            "(2026-11-27T08:00:00Z), as the API's ?changed_since=; teams, roles and role skills keep no change "
            "time and are written whole.",
        ),
    ] = None,
    bom: Annotated[
        bool,
        typer.Option(
            "--bom",
            help="Start each CSV file with a UTF-8 byte order mark, which Excel needs to read names with accents "
            "(the import skips it).",
        ),
    ] = False,
) -> None:
    """Export teams, people, roles, role skills and moves (CSV is safe against formula injection)."""
    since = parse_changed_since(changed_since)  # refused before the database is opened
    if bom and out.suffix.lower() == ".json":
        raise typer.BadParameter("--bom is for CSV files; JSON has no byte order mark", param_hint="--bom")
    db = open_db()
    require_admin(db, "export data")  # everyone's records, as the web's export is an admin's
    # The paths as written: '[bold]x.json' was read as markup and reported as 'x.json'.
    if out.suffix.lower() == ".json":
        console.print(f"wrote {esc(str(exporting.export_json(db, out, changed_since=since)))}", highlight=False)
        return
    for path in exporting.export_csv(db, out, changed_since=since, bom=bom).values():
        console.print(f"wrote {esc(str(path))}", highlight=False)


# ------------------------------------------------------------------------------------------------ people


def _say_more(what: str, more: bool, limit: int, offset: int) -> None:
    """A listing cut at --limit says so on standard error (the JSON on standard output stays a plain list):
    a script reading 50 rows must not take them for all."""
    if more:
        err_console.print(
            f"more {what} than the {limit} listed: --offset {offset + limit} for the next ones, or a larger --limit",
            highlight=False,
        )


@people_app.command("list")
@handle_errors
def people_list(
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    role: Annotated[str | None, typer.Option(help="Only this role.")] = None,
    manager: Annotated[str | None, typer.Option(help="Only direct reports of this person.")] = None,
    search: Annotated[str | None, typer.Option(help="Name or e-mail contains.")] = None,
    changed_since: ChangedSinceOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=DB_INT_MAX, help="Rows to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, max=DB_INT_MAX)] = 0,
    as_json: JsonOpt = False,
) -> None:
    """List people (--json: with each one's updated_at)."""
    found = org.list_people(
        open_db(),
        team_id=team,
        role_id=role,
        manager_id=manager,
        search=search,
        changed_since=parse_changed_since(changed_since),
        limit=limit + 1,
        offset=offset,
    )
    found, more = found[:limit], len(found) > limit
    _say_more("people", more, limit, offset)
    if as_json:
        print_json([dict(jsonable(p), updated_at=_updated_at(p)) for p in found])
        return
    console.print(
        table(
            f"people ({len(found)} shown{', more with --offset ' + str(offset + limit) if more else ''})",
            ["id", "name", "role", "team", "manager"],
            [[p.id, p.name, p.role_id, p.team_id, p.manager_id] for p in found],
        )
    )


@people_app.command("show")
@handle_errors
def people_show(person_id: str, as_json: JsonOpt = False) -> None:
    """A person's role history, moves (with criteria and outcomes) and skills (with --actor P: confidential
    review notes hidden unless P may read them, as `moves show` hides them)."""
    db = open_db()
    policy = _policy(db)
    overview = org.person_overview(db, person_id)
    # The notes of a confidential review, as the move shows them (secured.view): they were printed whole here.
    hidden = {
        m.id
        for m in overview.moves
        if m.outcome and m.outcome.confidential and not policy.sees_confidential(m.person_id, m.outcome.reviewer_id)
    }
    if as_json:
        moves = [jsonable(m) for m in overview.moves]
        for m in moves:
            if m["id"] in hidden:
                m["outcome"]["notes"] = None  # as moves show --json and the JSON API
        print_json(
            {
                "person": overview.person,
                "role": overview.role,
                "assignments": overview.assignments,
                "moves": moves,
                "skills": [dict(jsonable(level), name=name) for level, name in overview.skills],
            }
        )
        return
    p = overview.person
    console.print(
        f"[bold]{esc_before_tag(p.name)}[/] ({esc(p.id)}) · "
        f"{esc(overview.role.title if overview.role else 'no role')} · "
        f"team {esc(p.team_id or '-')} · manager "
        + (f"{esc(overview.manager.name)} ({esc(overview.manager.id)})" if overview.manager else "-")
    )
    console.print(f"capacity {p.capacity_percent}% (home role keeps ≥ {p.home_role_min_percent}%)")
    console.print(
        table(
            "role history",
            ["role", "from", "to", "reason", "move"],
            [[a.role_id, a.start, a.end or "now", a.reason.value, a.move_id] for a in overview.assignments],
        )
    )
    for m in overview.moves:
        print_move(m, skill_names=overview.skill_names, show_confidential=m.id not in hidden)
    console.print(
        table(
            "skills (latest assessment)",
            ["skill", "level", "source", "on", "evidence"],
            [
                [n, f"{lv.level:.1f}", lv.provenance.value, lv.assessed_on, lv.move_id or ""]
                for lv, n in overview.skills[:25]
            ],
        )
    )


@people_app.command("set-target")
@handle_errors
def people_set_target(
    person_id: str,
    role: Annotated[str | None, typer.Argument(help="The role to plan towards (`roles list`).")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Clear the target role instead.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Set the role the planner plans a person towards (or --clear it): as the person, their manager, HR
    or an admin. Their current plan, towards another role, is then out of date until planned again."""
    if (role is None) == (not clear):
        raise InvalidValue("give a ROLE or --clear (not both)", field="role")
    db = open_db()
    change = secured.set_target_role(db, _policy(db), person_id, role_id=None if clear else role)
    if as_json:
        print_json(
            {
                "person_id": change.person_id,
                "target_role_id": change.role_id,
                "previous_target_role_id": change.old_role_id,
                "changed": change.changed,
                "plan_out_of_date": change.plan_out_of_date,
            }
        )
        return
    now = f"is now {change.role_id}" if change.role_id else "is cleared"
    said = f"{person_id}'s target role {now}" + ("" if change.changed else " (unchanged)")
    if change.plan_out_of_date:
        said += f"; their current plan aims for {change.plan_target_role_id}, so it is out of date"
        if change.role_id:
            said += f": plan again with `micromoves plan {person_id}`"
    console.print(esc(said), highlight=False)


@skills_app.command("show")
@handle_errors
def skills_show(
    person_id: str,
    as_json: JsonOpt = False,
    history: Annotated[bool, typer.Option(help="Every assessment, not only the latest.")] = False,
) -> None:
    """A person's skill profile with provenance and evidence."""
    with UnitOfWork(open_db(), write=False) as uow:
        uow.people.get(person_id)
        levels = list(uow.people.skill_levels(person_id)) if history else list(uow.people.profile(person_id).values())
        names = {lv.skill_id: uow.skills.get(lv.skill_id).name for lv in levels}
    if as_json:
        print_json([dict(jsonable(lv), name=names[lv.skill_id]) for lv in levels])
        return
    console.print(
        table(
            f"skills of {person_id}",
            ["skill", "level", "source", "on", "evidence (move)"],
            [
                [names[lv.skill_id], f"{lv.level:.1f}", lv.provenance.value, lv.assessed_on, lv.move_id]
                for lv in sorted(levels, key=lambda x: (names[x.skill_id], x.assessed_on))
            ],
        )
    )


# ------------------------------------------------------------------------------------------------ roles


@roles_app.command("list")
@handle_errors
def roles_list(as_json: JsonOpt = False) -> None:
    """The role catalogue."""
    found = roles.list_roles(open_db())
    if as_json:
        print_json(found)
        return
    console.print(
        table(
            f"roles ({len(found)})",
            ["id", "title", "O*NET", "level", "team", "critical"],
            [[r.id, r.title, r.onet_code, r.level, r.team_id, "yes" if r.critical else ""] for r in found],
        )
    )


@roles_app.command("next")
@handle_errors
def roles_next(role_id: str, limit: Annotated[int, typer.Option(min=1)] = 10, as_json: JsonOpt = False) -> None:
    """Plausible next roles from a role (the role lattice), lightest step first; --json in the
    recommendation format of docs/conventions.md."""
    db = open_db()
    if as_json:
        print_json(roles.recommendation_document(db, role_id, limit))
        return
    found = roles.next_roles(db, role_id, limit)
    console.print(
        table(
            f"next roles from {role_id}",
            ["role", "title", "step", "skill distance", "weight"],
            [
                [n.role.id, n.role.title, n.edge.tier, f"{n.edge.skill_distance:.3f}", f"{n.edge.weight:.3f}"]
                for n in found
            ],
        )
    )


# ------------------------------------------------------------------------------------------------ moves


@moves_app.command("list")
@handle_errors
def moves_list(
    person: Annotated[str | None, typer.Option(help="Only this person's moves.")] = None,
    status: Annotated[str | None, typer.Option(help=f"Only moves in this status: {accepted(MoveStatus)}.")] = None,
    kind: Annotated[str | None, typer.Option(help=f"Only moves of this kind: {accepted(MoveKind)}.")] = None,
    host_team: Annotated[str | None, typer.Option(help="Only moves hosted by this team.")] = None,
    active_on: Annotated[str | None, typer.Option(help="Only moves running on this date.")] = None,
    changed_since: ChangedSinceOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=DB_INT_MAX, help="Rows to show.")] = 50,
    offset: Annotated[int, typer.Option(min=0, max=DB_INT_MAX)] = 0,
    as_json: JsonOpt = False,
) -> None:
    """List moves (--json: with each one's updated_at)."""
    since = parse_changed_since(changed_since)
    found = move_svc.list_moves(
        open_db(),
        person_id=person,
        # The one parser of the vocabularies, as the import, the API and the forms read them (any case).
        status=None if status is None else vocabulary.parse(MoveStatus, status, field="status"),
        kind=None if kind is None else vocabulary.parse(MoveKind, kind, field="kind"),
        host_team_id=host_team,
        active_on=parse_date(active_on, "active_on"),
        changed_since=since,
        limit=limit + 1,
        offset=offset,
    )
    found, more = list(found[:limit]), len(found) > limit
    _say_more("moves", more, limit, offset)
    if as_json:
        print_json([{**{k: getattr(m, k) for k in LIST_FIELDS}, "updated_at": _updated_at(m)} for m in found])
        return
    console.print(
        table(
            f"moves ({len(found)} shown{', more with --offset ' + str(offset + limit) if more else ''})",
            ["id", "person", "kind", "title", "start", "end", "%", "status"],
            [[m.id, m.person_id, m.kind.value, m.title, m.start, m.end, m.percent_time, m.status.value] for m in found],
        )
    )


def _updated_at(record: Any) -> str | None:
    """When a listed person or move last changed, written as the API writes it (…Z); None: not known."""
    # Mapped from the table, not a field of the domain's classes (storage bookkeeping, as views._summaries).
    when = getattr(record, "updated_at", None)
    return None if when is None else when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


LIST_FIELDS = (
    "id",
    "person_id",
    "kind",
    "title",
    "start",
    "end",
    "percent_time",
    "status",
    "host_team_id",
    "target_role_id",
    "released_by_id",
)


@moves_app.command("show")
@handle_errors
def moves_show(move_id: str, as_json: JsonOpt = False) -> None:
    """A move with its success criteria, check-ins, outcome and lifecycle history (with --actor P: as P may
    see it, confidential review notes hidden unless P may read them)."""
    db = open_db()
    policy = _policy(db)
    move, reads_notes, skill_names = secured.view(db, policy, move_id)
    # Reviews a later one superseded, as the move page lists them (confidential notes hidden the same way).
    earlier = views.move_detail(db, policy, move_id).earlier_reviews if move.outcome is not None else []
    if as_json:
        data = jsonable(move)
        if not reads_notes:
            data["outcome"]["notes"] = None  # as the JSON API: absent when the notes are confidential
        if data.get("outcome") is not None:
            # As the JSON API: a review an import brought in has no reviewer, and says who imported it.
            imported = move_svc.review_imported_by(move.outcome.reviewer_id if move.outcome else None)
            data["outcome"]["imported_by"] = imported
            if imported is not None:
                data["outcome"]["reviewer_id"] = None
        data["earlier_reviews"] = [r.model_dump(mode="json") for r in earlier]
        print_json(data)
        return
    print_move(move, skill_names=skill_names, show_confidential=reads_notes)
    if earlier:
        rows = [
            [
                str(r.reviewed_on),
                r.reviewer if r.imported_by is None else f"imported by {r.imported_by}",
                r.decision,
                ", ".join(f"{c.position}: {c.rating}" for c in r.criteria),
                "(confidential)" if r.notes is None else r.notes,
            ]
            for r in earlier
        ]
        console.print(table("earlier reviews", ["on", "by", "decision", "ratings", "notes"], rows))
    console.print(
        table(
            "history",
            ["at", "from", "to", "by", "reason"],
            [
                [
                    h.at.strftime("%Y-%m-%d %H:%M"),
                    h.from_status.value if h.from_status else "",
                    h.to_status.value,
                    h.actor,
                    h.reason,
                ]
                for h in move.history
            ],
        )
    )


@moves_app.command("propose")
@handle_errors
def moves_propose(
    person: Annotated[str, typer.Option(help="Who takes the move.")],
    kind: Annotated[str, typer.Option(help=f"Kind of move: {accepted(MoveKind)}.")],
    title: Annotated[str, typer.Option(help="What the move is.")],
    start: Annotated[str, typer.Option(help="Start date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="End date (YYYY-MM-DD).")],
    percent: Annotated[int, typer.Option(help="Share of working time, 1–100.")],
    criterion: Annotated[list[str] | None, typer.Option(help="A success criterion (repeat the option).")] = None,
    skill: Annotated[list[str] | None, typer.Option(help="A skill the move builds (repeat).")] = None,
    host_team: Annotated[str | None, typer.Option(help="Team hosting the move.")] = None,
    target_role: Annotated[str | None, typer.Option(help="The long-term role this move serves.")] = None,
    outcomes: Annotated[str, typer.Option(help="Expected outcomes, in words.")] = "",
    request: Annotated[bool, typer.Option(help="Submit for approval right away.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Propose a move (optionally submitting it for approval): for yourself, or as the person's manager or HR."""
    db = open_db()
    move = secured.propose(
        db,
        _policy(db),
        person_id=person,
        kind=kind,
        title=title,
        start=required_date(start, "start"),
        end=required_date(end, "end"),
        percent_time=percent,
        criteria=criterion or [],
        host_team_id=host_team,
        target_role_id=target_role,
        expected_outcomes=outcomes,
        skills_targeted=skill or [],
        submit=request,
    )
    print_json(move) if as_json else console.print(f"proposed {esc(move.id)} ({move.status.value})")


@moves_app.command("transition")
@handle_errors
def moves_transition(
    move_id: str,
    to: Annotated[str, typer.Argument(help=f"The next status: {accepted(MoveStatus)}.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the move's history).")] = "",
) -> None:
    """Take one lifecycle step (e.g. approved → onboarding). Approving or declining a request is
    `moves approve` / `moves decline`: two people decide (the line manager and the host)."""
    db = open_db()
    move = secured.transition(db, _policy(db), move_id, to, reason=reason)
    console.print(f"{esc(move.id)} is now {move.status.value}", highlight=False)


@moves_app.command("approve")
@handle_errors
def moves_approve(move_id: str, note: Annotated[str, typer.Option(help="Kept with the approval.")] = "") -> None:
    """Give your approval of a requested move (as its line manager, or the host team's manager); the
    second approval, by someone else, approves it."""
    _decide_move(move_id, Verdict.APPROVED, note)


@moves_app.command("decline")
@handle_errors
def moves_decline(move_id: str, note: Annotated[str, typer.Option(help="Why (kept with the decision).")] = "") -> None:
    """Decline a requested move (as its line manager or the host team's manager): it is declined at once."""
    _decide_move(move_id, Verdict.DECLINED, note)


def _policy(db: Database) -> Policy:
    """Whose rights a command has: --actor P's (a person id), else the operator's (an admin's)."""
    from micromoves.cli.marketplace import cli_policy

    return cli_policy(db, _given_actor(), option=actor_option())


def require_admin(db: Database, action: str) -> None:
    """What only an admin may do in the web app (accounts, allocation runs, imports): refused to --actor P
    without admin rights, as the web refuses it. It ran with the operator's rights and was audited under P's
    name (an employee created an admin account)."""
    _policy(db).require_admin(action)


def _decide_move(move_id: str, verdict: Verdict, note: str) -> None:
    db = open_db()
    move = approvals.decide(db, _policy(db), move_id, verdict=verdict, note=note)
    console.print(f"{esc(move.id)} is now {move.status.value}", highlight=False)


@moves_app.command("check-in")
@handle_errors
def moves_check_in(
    move_id: str,
    note: Annotated[str, typer.Option(help="How it is going.")],
    progress: Annotated[int | None, typer.Option(help="Progress towards the criteria, 0–100%.")] = None,
) -> None:
    """Log a check-in on a running move."""
    db = open_db()
    entry = secured.check_in(db, _policy(db), move_id, note=note, progress=progress)
    console.print(f"check-in recorded on {entry.on}")


@moves_app.command("review")
@handle_errors
def moves_review(
    move_id: str,
    decision: Annotated[str, typer.Option(help=f"What happens next: {accepted(Decision)}.")],
    rate: Annotated[list[str] | None, typer.Option(help="N=met|partly_met|not_met for criterion N (repeat).")] = None,
    gain: Annotated[list[str] | None, typer.Option(help="SKILL=LEVEL reached (0–7), repeat.")] = None,
    notes: str = "",
    confidential: bool = False,
    new_end: Annotated[str | None, typer.Option(help="New end date when extending.")] = None,
) -> None:
    """Review a move: rate each success criterion, record skills gained, decide what happens next."""
    ratings = [_parse_rating(r) for r in rate or []]
    gains = [_parse_gain(g) for g in gain or []]
    db = open_db()
    move = secured.review(
        db,
        _policy(db),
        move_id,
        decision=decision,
        ratings=ratings,
        gains=gains,
        notes=notes,
        confidential=confidential,
        new_end=parse_date(new_end, "new_end"),
    )
    console.print(
        f"{esc(move.id)} reviewed: {move.outcome.decision.value if move.outcome else ''}; now {move.status.value}"
    )


def _parse_rating(text: str) -> move_svc.CriterionRating:
    pos, _, value = text.partition("=")
    try:
        position = int(pos)
    except ValueError:
        raise InvalidValue(f"--rate {text!r}: expected N=met|partly_met|not_met", field="rate") from None
    try:
        return move_svc.CriterionRating(position, vocabulary.parse(Rating, value, field="rate"))
    except InvalidValue as exc:
        raise InvalidValue(f"--rate {text!r}: {exc.message}", field="rate") from None


def _parse_gain(text: str) -> move_svc.GainInput:
    skill, _, value = text.rpartition("=")
    try:
        return move_svc.GainInput(skill.strip(), float(value))
    except ValueError:
        raise InvalidValue(f"--gain {text!r}: expected SKILL=LEVEL", field="gain") from None


# ------------------------------------------------------------------------------------------------ plans


@app.command()
@handle_errors
def plan(
    person_id: str,
    target: Annotated[str | None, typer.Option(help="Target role (default: the person's recorded target).")] = None,
    horizon: Annotated[str, typer.Option(help="How far ahead: weeks (104), months (18m) or years (2y).")] = "104",
    k: Annotated[int, typer.Option("--k", help="Also show the next best distinct plans (k in total).")] = 1,
    what_if: Annotated[
        bool, typer.Option("--what-if", help="Show the plan without storing it (another target, a shorter horizon).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Plan the best sequence of moves from the person's role to a target role, store it and show it.
    A plan towards another role than the person's recorded target is a what-if: shown, not stored (set the
    target with `people set-target`)."""
    from micromoves.cli.plan_view import for_reader, print_plan
    from micromoves.planning.explain import subject_for
    from micromoves.services import planning

    db = open_db()
    # --actor P plans for those P may act for (themself; as their manager or HR, their people), as a
    # proposal is: a plan is stored as the person's current one.
    policy = _policy(db)
    policy.require(
        policy.may_act_for(person_id), visible=False, action="plan for", entity_type="person", entity_id=person_id
    )
    outcome = planning.plan_for_person(
        db, person_id, actor=actor(), target_role_id=target, horizon=horizon, k=k, store=not what_if
    )
    hint = None
    if outcome.not_stored_because:
        hint = (
            f"not stored: {outcome.not_stored_because}; set it with `micromoves people set-target {person_id} "
            f"{outcome.plan.target_role_id}`, then plan again"
        )
    # Its explanation speaks to whoever reads it: "you" to the person only (--actor P for P's own plan).
    overview = org.person_overview(db, person_id)
    subject = subject_for(policy.principal.person_id, person_id, overview.person.name)
    role_title = next((r.title for r in roles.list_roles(db) if r.id == outcome.plan.target_role_id), "")
    if as_json:
        # Everything the timeline shows: its heading names the person and the target role too.
        shown = {
            **jsonable(for_reader(outcome.plan, subject)),
            "person_name": overview.person.name,
            "target_role": role_title or outcome.plan.target_role_id,
        }
        print_json({**shown, "stored": outcome.stored, "kept": outcome.kept, "not_stored_because": hint})
        return
    print_plan(outcome.plan, person_name=overview.person.name, target_title=role_title, subject=subject)
    if hint:
        console.print(esc(hint) + "; the current plan stays as it is", highlight=False)
    elif not outcome.stored:
        console.print("what-if: not stored; the current plan stays as it is")
    if outcome.kept:
        console.print(f"nothing changed since version {outcome.plan.version}: it stays the current plan")


@app.command("plan-all")
@handle_errors
def plan_all(
    horizon: Annotated[str, typer.Option(help="How far ahead: weeks (104), months (18m) or years (2y).")] = "104",
    workers: Annotated[int | None, typer.Option(min=1, help="Processes to use (default: every core).")] = None,
    backend: Annotated[str, typer.Option(help="process (this machine), serial, or ray (a Ray cluster).")] = "process",
    respect_seats: Annotated[
        bool, typer.Option(help="Then re-plan people so that all plans together never exceed any move's seats.")
    ] = False,
    changed_only: Annotated[
        bool, typer.Option(help="Keep the plans whose problem (levels, capacity, target, options, start) is unchanged.")
    ] = False,
    team: Annotated[str | None, typer.Option(help="Only the people in this team and the teams under it.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan for everyone with a target role, on every core, and store all plans in one transaction."""
    from micromoves.services import planning, seats

    db = open_db()
    require_admin(db, "plan for everyone")  # it replaces everyone's current plan, as no web user can
    with progress_bar() as update:
        summary = planning.plan_all(
            db,
            actor=actor(),
            horizon=horizon,
            workers=workers,
            backend=backend,
            progress=update,
            changed_only=changed_only,
            team=team,
        )
        fitted = seats.respect_seats(db, actor=actor(), progress=update) if respect_seats else None
    if as_json:
        print_json(summary if fitted is None else {**dataclasses.asdict(summary), "seats": fitted})
        return
    if fitted is not None:
        console.print(
            f"seats: {fitted.kept:,} plans fit as they were, {len(fitted.replanned):,} re-planned to fit, "
            f"{len(fitted.failed)} could not be re-planned"
        )
    if summary.unchanged:
        console.print(f"{summary.unchanged:,} people's problems were unchanged: they keep their current plans")
    console.print(
        f"planned {summary.people - summary.unchanged:,} people in {summary.seconds:.1f} s ({summary.backend}, "
        f"{summary.workers} workers): {summary.ready:,} ready, {summary.already_ready:,} already ready, "
        f"{summary.unreachable:,} not reachable within the horizon, "
        + (f"{summary.not_found:,} without a ready plan found in time, " if summary.not_found else "")
        + f"{len(summary.failed)} failed; "
        f"{summary.not_proven_optimal:,} not proven optimal within the time budget"
    )
    for person_id, error in summary.failed[:10]:
        console.print(f"  {esc(person_id)}: {esc(error)}")


# ------------------------------------------------------------------------------------------------ audit


@app.command()
@handle_errors
def audit(
    entity: Annotated[str | None, typer.Option(help="Only events about this id (person, move, file…).")] = None,
    who: Annotated[str | None, typer.Option("--by", help="Only events by this actor.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=DB_INT_MAX, help="Events to show.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The audit trail: who changed what and when, newest first."""
    with UnitOfWork(open_db(), write=False) as uow:
        events = uow.audit_log.list(entity_id=entity, actor=who, limit=limit)
    if as_json:
        print_json(events)
        return
    console.print(
        table(
            "audit trail",
            ["at", "actor", "action", "entity", "details"],
            [
                [
                    e.at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor,
                    e.action,
                    f"{e.entity_type}:{e.entity_id}",
                    ", ".join(f"{k}={v}" for k, v in e.details.items())[:80],
                ]
                for e in events
            ],
        )
    )


def _register_subcommands() -> None:
    # Feature modules add their commands here (imported late: they import this module's helpers).
    from micromoves.cli import allocation as allocation_cli
    from micromoves.cli import marketplace as marketplace_cli

    marketplace_cli.register(app)
    allocation_cli.register(app)


_register_subcommands()


def run() -> None:  # pragma: no cover - console script entry for `python -m micromoves`
    app(prog_name="micromoves")
    sys.exit(0)
