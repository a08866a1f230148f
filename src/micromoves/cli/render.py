"""Turning service results into JSON or Rich output (no business logic here)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from micromoves.domain.model import Move
from micromoves.services.moves import review_imported_by

# The largest id, count or offset an option takes: the database's integers (the web's RowId). A larger number
# reached the driver and ended in a traceback (OverflowError: Python int too large to convert to SQLite INTEGER).
DB_INT_MAX = 2_147_483_647

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def esc_before_tag(text: str) -> str:
    """``text`` escaped for Rich markup that follows it at once (``[bold]{name}[/]``): Rich's own escape,
    which doubles a final backslash so that it does not escape the tag."""
    return escape(text)


def esc(text: str) -> str:
    """``text`` escaped for Rich markup, shown as written where no markup follows at once (a space, a plain
    character or nothing does: every table cell, most lines). Rich's own escape doubles a final backslash,
    for markup that follows at once ('C:\\' + '[/]'): anything else after it, or nothing, showed 'C:\\\\'.
    Text that markup follows at once is escaped with :func:`esc_before_tag`."""
    return esc_before_tag(text + " ")[:-1]


def jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dt.date | dt.datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [jsonable(v) for v in obj]
    return obj


def print_json(obj: Any) -> None:
    # Plain print (not Rich) so the output is exactly the JSON, whatever the terminal.
    print(json.dumps(jsonable(obj), ensure_ascii=False, indent=2))
    # Written now, in the command: a reader gone (`| head`) is then told as the command ends, not by Python
    # at exit ("Exception ignored … BrokenPipeError").
    sys.stdout.flush()


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    # The title is text as the cells are: it may name data ("Alternate routes without <template title>"), and a
    # bracket there was read as markup (a stray "[/]" stopped the command with a MarkupError).
    out = Table(title=esc(title), title_justify="left", header_style="bold")
    for c in columns:
        out.add_column(c)
    for r in rows:
        out.add_row(*("" if v is None else esc(str(v)) for v in r))
    return out


def natural_width(renderable: Any) -> int:
    """The columns ``renderable`` takes unsqueezed (a table: every cell on one line). Narrower than that, Rich
    wraps cells and then cuts the words that still do not fit with an ellipsis: ids and numbers too."""
    return Measurement.get(console, console.options.update_width(10_000), renderable).maximum


STATUS_STYLE = {
    "completed": "green",
    "active": "cyan",
    "in_review": "cyan",
    "onboarding": "cyan",
    "approved": "blue",
    "requested": "yellow",
    "proposed": "yellow",
    "reverted": "red",
    "declined": "red",
    "withdrawn": "dim",
}


def move_summary(move: Move) -> str:
    style = STATUS_STYLE.get(move.status.value, "")
    return (
        f"[bold]{esc_before_tag(move.id)}[/] {move.kind.value} · {esc(move.title)} · {move.start} → {move.end} · "
        f"{move.percent_time}% · [{style}]{move.status.value}[/]"
    )


def print_move(move: Move, *, skill_names: dict[str, str] | None = None, show_confidential: bool = True) -> None:
    names = skill_names or {}
    console.print(move_summary(move))
    if move.target_role_id or move.host_team_id:
        console.print(f"  serves role: {esc(move.target_role_id or '-')} · host team: {esc(move.host_team_id or '-')}")
    for c in move.criteria:
        mark = {"met": "[green]✔ met[/]", "partly_met": "[yellow]◐ partly met[/]", "not_met": "[red]✘ not met[/]"}
        rating = mark.get(c.rating.value, "") if c.rating else "[dim]not rated[/]"
        console.print(
            f"  criterion {c.position}: {esc(c.statement)} — {rating}"
            + (f" [dim]({esc(c.evidence)})[/]" if c.evidence else "")
        )
    for ci in move.check_ins:
        console.print(f"  check-in {ci.on}: {esc(ci.note)}" + (f" ({ci.progress}%)" if ci.progress is not None else ""))
    for g in move.skill_gains:
        console.print(
            f"  skill gained: {esc(names.get(g.skill_id, g.skill_id))} {g.level_before:g} → {g.level_after:g}"
        )
    for e in move.extensions:
        console.print(f"  extended {e.old_end} → {e.new_end} by {esc(e.actor)}: {esc(e.reason)}")
    if move.outcome:
        o = move.outcome
        # (Rich would take a bare "[confidential]" for a markup tag and print nothing.)
        notes = esc(o.notes) if (show_confidential or not o.confidential) else "[dim](notes confidential)[/]"
        # A review an import brought in names who ran the import, not as its reviewer (it read "reviewed … by
        # user:admin"); its date is the move's end, as the import gives it.
        imported = review_imported_by(o.reviewer_id)
        said = (
            f"reviewed {o.reviewed_on} by {o.reviewer_id}"
            if imported is None
            else f"imported from the HRIS by {imported}, dated {o.reviewed_on}"
        )
        console.print(f"  outcome: {o.decision.value} ({esc(said)}) {notes}")
