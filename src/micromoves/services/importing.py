"""Import teams, people, roles, role skills and moves from CSV (``shared/conventions.md``) or JSON.

An import is all-or-nothing: every file of one import is parsed and checked against the database and
against the other files first; any problem rejects the whole import with *every* problem listed as
``file:row:column: message`` (row = line number, the header being line 1). Only a clean import is
written, in one transaction, so a crash or a kill midway leaves the database as it was.

Import is idempotent by id: re-importing updates records and never duplicates them.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import difflib
import enum
import gc
import hashlib
import heapq
import io
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, MetaData, String, Table, bindparam, func, literal, or_, select
from sqlalchemy.exc import OperationalError

from micromoves.domain import lifecycle, rules, vocabulary
from micromoves.domain.errors import Conflict, DomainError, InvalidValue
from micromoves.domain.lifecycle import NEVER_RAN_STATUSES, OCCUPYING_STATUSES, STARTED_STATUSES
from micromoves.domain.model import AssignmentReason, Decision, MoveKind, MoveStatus, Provenance, Rating
from micromoves.services.moves import imported_reviewer, keep_reviews, review_record
from micromoves.settings import Settings, get_settings
from micromoves.storage import changes
from micromoves.storage import tables as t
from micromoves.storage.bulk import (
    CHUNK,
    LOCK_NOT_AVAILABLE,
    LOCK_WAIT_SECONDS,
    QUERY_CANCELED,
    BulkWriter,
    among,
    code_point_order,
    select_among,
)
from micromoves.storage.db import Database
from micromoves.storage.repositories import labelled_skill, skill_label
from micromoves.storage.uow import utcnow

Progress = Callable[[str, int, int], None]

# The ids of the moves one import writes (a temporary table, private to the import's connection).
IMPORTED_MOVES = Table(
    "_imported_moves",
    MetaData(),
    Column("id", String(64), primary_key=True),
    Column("old_status", String(32)),
    prefixes=["TEMPORARY"],
)

# Also the order of writing (references first): roles, people and moves name teams. teams.csv is
# micromoves' own extension of the interchange formats (conventions.md has no teams file): without it an
# export could not rebuild the organisation elsewhere (team names, the tree of HR's org units, who manages a
# team), as a team only named by a person or a move is created named after its id.
KINDS = ("teams", "roles", "role_skills", "people", "moves")
REQUIRED = {
    "teams": ("team_id", "name", "parent_id", "function"),
    "people": ("person_id", "name", "email", "role_id", "manager_id", "team", "hire_date", "location"),
    "roles": ("role_id", "title", "onet_code", "level", "team", "critical"),
    "role_skills": ("role_id", "skill", "level"),
    "moves": (
        "move_id",
        "person_id",
        "kind",
        "title",
        "host_team",
        "start",
        "end",
        "percent_time",
        "status",
        "target_role_id",
        "success_criteria",
        "outcome",
        "skills_gained",
    ),
}
# Optional columns micromoves adds (conventions: extend with optional columns, never rename).
OPTIONAL = {
    # A team has one manager (team_managers: one row per team), a person id like people's manager_id.
    "teams": ("manager_id",),
    # target_role_id: the planner's target, as moves.csv names a move's (people.target_role_id).
    "people": ("capacity_percent", "home_role_min_percent", "target_role_id"),
    "roles": (),
    "role_skills": (),
    "moves": ("criteria_ratings",),
}
# Every column of the format, per kind: what a file may have beyond them is "beyond the format".
FORMAT_COLUMNS = {kind: (*REQUIRED[kind], *OPTIONAL[kind]) for kind in REQUIRED}
# Kinds whose records keep the file's columns beyond the format (``extra``: an HRIS's cost centre, grade…,
# or an optional column of a newer format version), exported back as they came. A role_skills row is a
# keyed pair with nothing else to say: an unknown column there stays an error; so it is in teams.csv, whose
# table has no place for such columns (a migration would add one).
KEEPS_EXTRA = ("people", "roles", "moves")
ONET_CODE = re.compile(r"^\d{2}-\d{4}\.\d{2}$")
# A cell starting with one of these could run as a formula in a spreadsheet: our export prefixes it with '.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What may follow the guard's apostrophe: the export guards a text starting with an apostrophe followed by
# one of these too, so that an import takes exactly one off (see _unguarded).
GUARD_NEXT = (*FORMULA_START, "'")
# The status a review's decision leaves a move in (moves.review_move): the outcome column must agree.
# (Tuples: a member test by identity, where a set would hash each enum member in Python, a million times.)
STATUS_AFTER: dict[Decision, tuple[MoveStatus, ...]] = {
    Decision.END: (MoveStatus.COMPLETED,),
    # A conversion can itself be reverted later (the role change undone): completed, then reverted.
    Decision.CONVERT: (MoveStatus.COMPLETED, MoveStatus.REVERTED),
    Decision.REVERT: (MoveStatus.REVERTED,),
    Decision.CONTINUE: (MoveStatus.ACTIVE, MoveStatus.IN_REVIEW, MoveStatus.COMPLETED),
    Decision.EXTEND: (MoveStatus.ACTIVE, MoveStatus.IN_REVIEW, MoveStatus.COMPLETED),
}
# Statuses the tracker sets only once a move has started (activation waits for the start date), and those
# that say it has ended (its end is past): an import may not claim them early.
ENDED_AT_END = (MoveStatus.COMPLETED, MoveStatus.REVERTED)
ONE_DAY = dt.timedelta(days=1)
GAIN = re.compile(r"(.+):\s*([\d.]*)\s*>\s*([\d.]+)")  # skill:from>to (each level then read by _level)
# A level: a decimal number in ASCII digits (a JSON number may come as 1e-05).
LEVEL_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
ESCO_SKILL = re.compile(r"^https?://data\.europa\.eu/esco/skill/[0-9a-f-]+$")
# C0 control characters but tab, line feed and carriage return: not text (PostgreSQL refuses NUL outright).
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# An apostrophe opening a cell (after a separator, a line break or an opening quote): the export's guard.
GUARD_AT_CELL_START = re.compile("(?:^|[,\"\r\n])'")


def _length(column: Any) -> int:
    return int(column.type.length)


# The longest text each column holds, per kind (storage/tables.py): a longer cell is a problem of its row.
MAX_LENGTH = {
    "teams": {
        "team_id": _length(t.teams.c.id),
        "name": _length(t.teams.c.name),
        "parent_id": _length(t.teams.c.parent_id),
        "function": _length(t.teams.c.function),
        "manager_id": _length(t.team_managers.c.person_id),
    },
    "people": {
        "person_id": _length(t.people.c.id),
        "name": _length(t.people.c.name),
        "email": _length(t.people.c.email),
        "role_id": _length(t.people.c.role_id),
        "manager_id": _length(t.people.c.manager_id),
        "team": _length(t.people.c.team_id),
        "location": _length(t.people.c.location),
        "target_role_id": _length(t.people.c.target_role_id),
    },
    "roles": {
        "role_id": _length(t.roles.c.id),
        "title": _length(t.roles.c.title),
        "onet_code": _length(t.roles.c.onet_code),
        "team": _length(t.roles.c.team_id),
    },
    "role_skills": {"role_id": _length(t.role_skills.c.role_id), "skill": _length(t.skills.c.id)},
    "moves": {
        "move_id": _length(t.moves.c.id),
        "person_id": _length(t.moves.c.person_id),
        "title": _length(t.moves.c.title),
        "host_team": _length(t.moves.c.host_team_id),
        "target_role_id": _length(t.moves.c.target_role_id),
    },
}
# The largest CSV cell read (see read_csv).
CSV_FIELD_LIMIT = 64 * 1024 * 1024
TRUE = {"true", "yes", "1", "y"}
FALSE = {"false", "no", "0", "n", ""}


@dataclass(frozen=True)
class ImportIssue:
    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.message}"


class ImportRejected(DomainError):
    code = "import_rejected"

    def __init__(self, issues: Sequence[ImportIssue]) -> None:
        self.issues = list(issues)
        head = f"import rejected, nothing written: {len(self.issues)} problem(s)"
        super().__init__(head + "\n" + "\n".join(str(i) for i in self.issues))


@dataclass
class ImportSummary:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)  # records that existed and differ from the file
    unchanged: dict[str, int] = field(default_factory=dict)  # records that existed exactly as the file has them
    teams_created: list[str] = field(default_factory=list)
    extra_columns: dict[str, list[str]] = field(default_factory=dict)  # kept columns beyond the format, per kind
    seconds: float = 0.0


@dataclass
class Source:
    """One input table: rows of raw strings keyed by column, with their line numbers."""

    file: str
    kind: str
    columns: list[str]
    rows: list[tuple[int, list[str]]]
    digest: str
    # (row, column index) of cells a JSON object left out, in columns beyond the format: not given, so a
    # re-import keeps the stored value (an empty cell would clear it).
    absent: frozenset[tuple[int, int]] = frozenset()
    # CSV cells may carry our export's formula guard ('=x), taken off when read; JSON values never do.
    guarded: bool = True
    # Whether any cell may start with that guard, or hold a control character: read once for the whole
    # file, so that the million rows of an ordinary export skip both per-row checks.
    guard_marks: bool = True
    control: bool = True

    def index(self) -> dict[str, int]:
        """Column positions; absent optional columns point at the padding cell, which is always empty."""
        found = {c: i for i, c in enumerate(self.columns)}
        for c in OPTIONAL[self.kind]:
            found.setdefault(c, len(self.columns))
        return found

    def extra_columns(self) -> list[tuple[str, int]]:
        """The named columns beyond the format that records of this kind keep, with their positions."""
        if self.kind not in KEEPS_EXTRA:
            return []
        known = FORMAT_COLUMNS[self.kind]
        return [(c, i) for i, c in enumerate(self.columns) if c and c not in known]

    def look_alikes(self) -> dict[str, str]:
        """Columns beyond the format named almost like a format column this file lacks: column → the
        format's name."""
        missing = [c for c in FORMAT_COLUMNS[self.kind] if c not in self.columns]
        known = FORMAT_COLUMNS[self.kind]
        found = {}
        for name in (c for c in self.columns if c and c not in known):
            close = difflib.get_close_matches(name, missing, n=1, cutoff=0.8)
            if close:
                found[name] = close[0]
        return found


# ---------------------------------------------------------------------------------------------- reading


def guess_kind(path: Path) -> str:
    """The kind a file's name says it holds. A kind that is the whole name, or a whole word at its start or
    end (``hris_moves``, ``people_2024``), counts before one the name merely starts with: ``peoplesoft_moves``
    holds moves (read as people, its moves were refused as a people file's). Two kinds that a name names
    equally well (``people_moves``) are an error, never a guess."""
    stem = re.sub(r"[^a-z0-9]+", "_", path.stem.lower()).strip("_")  # 'Role-Skills', 'moves 2024' alike
    best: list[str] = []
    best_rank = 3
    for kind in KINDS:
        rest = stem[len(kind) :] if stem.startswith(kind) else None
        before = stem[: -len(kind)] if stem.endswith(kind) else None
        if stem == kind:
            rank = 0
        elif (rest is not None and not rest[0].isalpha()) or (before is not None and not before[-1].isalpha()):
            rank = 1  # a whole word at the start or the end
        elif rest is not None:
            rank = 2  # the start of a longer word: 'peoplesoft'
        else:
            continue
        if rank < best_rank:
            best, best_rank = [kind], rank
        elif rank == best_rank:
            best.append(kind)
    if len(best) == 1:
        return best[0]
    why = f"{path.name}: cannot tell what this file holds"
    if best:
        why += ": its name could mean " + " or ".join(sorted(best, key=stem.find))  # as the name has them
    raise DomainError(
        f"{why}; name it teams.csv, people.csv, roles.csv, role_skills.csv or moves.csv, or give the kind explicitly",
        field="file",
    )


def read_csv(path: Path, kind: str, label: str | None = None) -> Source:
    """The file's rows; problems name it ``label`` (its name unless :func:`load_sources` says otherwise)."""
    label = label or path.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # The line of the first bad byte (counted in the bytes before it), so the sender can find it.
        offset = exc.start + (len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0)  # utf-8-sig skips it
        line = raw[:offset].count(b"\n") + 1
        raise ImportRejected(
            [ImportIssue(label, line, "-", f"not UTF-8 text at byte {offset} ({exc.reason}); save it as UTF-8")]
        ) from None
    # The csv module refuses a cell over 128 KiB ("field larger than field limit (131072)"), and our own
    # export writes longer ones (a success criterion or an extra column of 10 MB imported back refused).
    # 64 MiB still stops a runaway unbalanced quote from swallowing a whole multi-gigabyte file as one cell.
    limit = max(csv.field_size_limit(), CSV_FIELD_LIMIT)
    csv.field_size_limit(limit)
    # Strict: a quote that opens a cell and never closes, or a closing quote followed by more text, is an
    # error. The lenient reader swallowed every row after a stray quote into one cell and stored '"Luke"
    # Lucas' as 'Luke Lucas', and the import succeeded. (A flag of the C reader: no cost per cell.)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns: list[str] = []
    line = 0  # the line the last record read ended on: the next one starts on the line after
    try:
        header = next(reader, None)
        if header is None:
            raise ImportRejected([ImportIssue(label, 1, "-", "empty file: a header row is required")])
        columns = [_column_name(h) for h in header]
        twice = sorted({c for c in columns if c and columns.count(c) > 1})
        if twice:  # which cell would count? Never keep one silently.
            raise ImportRejected([ImportIssue(label, 1, c, "column appears twice in the header") for c in twice])
        rows: list[tuple[int, list[str]]] = []
        line = reader.line_num
        for cells in reader:
            # Row numbers are the line a record starts on (a quoted cell may span several lines).
            start, line = line + 1, reader.line_num
            if any(cells):  # empty lines are skipped; a line of blanks is kept and reported when parsed
                rows.append((start, cells))
    except csv.Error as exc:
        # The csv module says what but not where: the record that failed (it starts on the line after the
        # last one read) is read again here to name the cell and the line it starts on.
        found = _quote_problem(text, line + 1, columns, limit)
        if found is None:
            raise ImportRejected([ImportIssue(label, reader.line_num, "-", f"malformed CSV: {exc}")]) from None
        raise ImportRejected([ImportIssue(label, *found)]) from None
    return Source(
        label,
        kind,
        columns,
        rows,
        hashlib.sha256(raw).hexdigest(),
        guard_marks=GUARD_AT_CELL_START.search(text) is not None,
        control=CONTROL_CHARACTER.search(text) is not None,
    )


# A line break as csv.reader counts lines (io.StringIO with newline="": CRLF, LF or a lone CR).
LINE_BREAK = re.compile(r"\r\n?|\n")
# The end of an unquoted cell: a comma, or the end of its line (and record).
UNQUOTED_END = re.compile(r"[,\r\n]")
DOUBLE_QUOTE_HINT = 'write a quote inside a quoted cell twice ("")'


def _quote_problem(text: str, first_line: int, columns: Sequence[str], limit: int) -> tuple[int, str, str] | None:
    """Where the record starting on ``first_line`` breaks the CSV quoting rules, as (line the cell starts
    on, column, message), or None if it does not (another csv.Error). Read only once an import has failed,
    so the reader's own loop stays in C: str.find per quoted cell, a regex per unquoted one."""
    pos, n = 0, len(text)
    for _ in range(first_line - 1):  # the offset of the record's first line
        found = LINE_BREAK.search(text, pos)
        if found is None:
            return None
        pos = found.end()
    line, index = first_line, 0
    while True:
        column = columns[index] if index < len(columns) and columns[index] else f"column {index + 1}"
        if text.startswith('"', pos):
            end = pos + 1
            while (end := text.find('"', end)) != -1 and text.startswith('""', end):
                end += 2  # a doubled quote: a quote inside the cell
            if end == -1:
                never = f"unbalanced quote: the cell starting on line {line} never ends (a quote opens it and none"
                return line, column, f"{never} closes it); {DOUBLE_QUOTE_HINT}"
            if end - pos - 1 - text.count('""', pos + 1, end) > limit:  # a doubled quote is one character
                long = f"the quoted cell starting on line {line} is longer than a cell may be ({limit:,} characters)"
                return line, column, f"{long}: if it should not be, the quote that opens it is unbalanced"
            closed_on = line + len(LINE_BREAK.findall(text, pos, end))
            if text[end + 1 : end + 2] not in (",", "\r", "\n", ""):
                if closed_on == line:
                    rule = "a quoted cell ends at its closing quote, which a comma or the end of the line must follow"
                    return line, column, f"text after a closing quote: {rule}; {DOUBLE_QUOTE_HINT}"
                ends = f"text after a closing quote on line {closed_on}: the quoted cell starting on line {line} ends"
                return line, column, f"{ends} there; if it should not span lines, the quote that opens it is unbalanced"
            line, pos = closed_on, end + 1
        else:
            found = UNQUOTED_END.search(text, pos)
            end = n if found is None else found.start()
            if end - pos > limit:
                return line, column, f"the cell is longer than a cell may be ({limit:,} characters)"
            pos = end
        if not text.startswith(",", pos):  # the record ends here, and it was fine
            return None
        pos += 1
        index += 1


def read_json(path: Path, label: str | None = None) -> list[Source]:
    """A JSON document ``{"teams": [...], "people": [...], "roles": [...], "role_skills": [...], "moves": [...]}``
    whose objects have the CSV columns; list values (criteria, skills gained) may be JSON arrays."""
    label = label or path.name
    raw = path.read_bytes()
    try:
        # Whole numbers are kept as the digits written, read like a CSV cell's (RowReader.integer): int()
        # refuses more than 4,300 digits with a ValueError, where a CSV's cell is a problem of its row.
        doc = json.loads(raw, parse_int=str)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportRejected([ImportIssue(label, getattr(exc, "lineno", 1), "-", f"invalid JSON: {exc}")]) from None
    except RecursionError:  # arrays or objects nested a thousand deep: the decoder's recursion runs out
        issue = ImportIssue(label, 1, "-", "invalid JSON: nested too deeply (arrays or objects inside one another)")
        raise ImportRejected([issue]) from None
    if not isinstance(doc, dict):
        raise ImportRejected([ImportIssue(label, 1, "-", f"expected an object with keys among {', '.join(KINDS)}")])
    # A key that is none of the kinds is refused, never skipped: its records would be dropped silently
    # ("People", "move"), and a file of nothing known would import as nothing at all.
    if unknown := sorted(key for key in doc if key not in KINDS):
        message = "unknown key: the keys are teams, people, roles, role_skills and moves (lower case)"
        raise ImportRejected([ImportIssue(label, 1, key, message) for key in unknown])
    if not doc:
        raise ImportRejected([ImportIssue(label, 1, "-", "no teams, people, roles, role_skills or moves in this file")])
    digest = hashlib.sha256(raw).hexdigest()
    sources = []
    for kind, items in doc.items():
        if not isinstance(items, list):
            raise ImportRejected([ImportIssue(label, 1, kind, "expected a list of objects")])
        name = f"{label}#{kind}"
        if not items:  # none of this kind (an export of an organisation without moves): no columns to check
            sources.append(Source(name, kind, list(REQUIRED[kind]), [], digest, guarded=False))
            continue
        columns = sorted({_column_name(k) for item in items if isinstance(item, dict) for k in item})
        # A key left out of every object, where an empty value means null or unknown, is an empty column
        # (JSON writers drop null members); the rest stay required (JSON_MAY_OMIT).
        columns += [c for c in JSON_MAY_OMIT.get(kind, ()) if c not in columns]
        known = FORMAT_COLUMNS[kind]
        rows = []
        absent = set()
        for n, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise ImportRejected([ImportIssue(name, n, "-", "expected an object")])
            low = {_column_name(k): v for k, v in item.items()}
            if len(low) < len(item):  # "Grade" and "grade": which one counts? Never keep one silently.
                twice = sorted({c for c in low if sum(_column_name(k) == c for k in item) > 1})
                raise ImportRejected([ImportIssue(name, n, c, "key appears twice (keys ignore case)") for c in twice])
            cells = []
            for i, c in enumerate(columns):
                if c not in low and c not in known:
                    # Objects leave out keys they have no value for (as our export does): a column beyond
                    # the format that this object lacks is not given, and its stored value stays.
                    absent.add((n, i))
                try:
                    cells.append(_json_cell(low.get(c), c, kind))
                except ValueError as exc:
                    raise ImportRejected([ImportIssue(name, n, c, str(exc))]) from None
            rows.append((n, cells))
        sources.append(Source(name, kind, columns, rows, digest, frozenset(absent), guarded=False))
    return sources


# Format columns a JSON document may leave out of every object: their empty value means null (no target
# role, no review yet) or, on a re-import, unknown (the stored value stays). Columns whose empty cell stands
# for a default that would overwrite what is stored (a role's level and critical, a move's status) or has
# no meaning at all (ids, names, dates of a move) stay required.
JSON_MAY_OMIT = {
    "teams": ("parent_id", "function"),
    "people": ("email", "role_id", "manager_id", "team", "hire_date", "location"),
    "roles": ("onet_code", "team"),
    "moves": ("host_team", "target_role_id", "success_criteria", "outcome", "skills_gained"),
}
# Whole-number columns, where a JSON number like 20.0 stands for 20 (and 20.5 stays an error).
JSON_INTEGER_COLUMNS = {
    "people": ("capacity_percent", "home_role_min_percent"),
    "roles": ("level",),
    "moves": ("percent_time",),
}
# Columns whose JSON value may be an array (the CSV joins them with ";").
JSON_LIST_COLUMNS = frozenset({"success_criteria", "criteria_ratings", "skills_gained"})


def _json_cell(value: Any, column: str, kind: str = "moves") -> str:
    """One JSON value as the CSV cell it stands for. An array where the CSV has one value, or an object
    anywhere but in skills_gained, is an error (["list"] was stored as the name "list"). The list columns
    are the moves' (a person's column beyond the format named skills_gained takes one value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if column not in JSON_LIST_COLUMNS or kind != "moves":
            raise ValueError(
                f"expected one value, got an array (arrays only in {', '.join(sorted(JSON_LIST_COLUMNS))})"
            )
        parts = []
        for v in value:
            if isinstance(v, dict) and column == "skills_gained":  # {"skill", "from", "to"}
                part = f"{v.get('skill', '')}:{v.get('from', '')}>{v.get('to', '')}"
            elif isinstance(v, (dict, list)):
                raise ValueError(f"expected text or numbers in the array, got {type(v).__name__}")
            else:
                part = str(v)
            if ";" in part:  # it would be split into two values, without a word (the app refuses it too)
                raise ValueError(f"an element of the array holds ';', which separates its values: {part[:60]!r}")
            parts.append(part)
        return ";".join(parts)
    if isinstance(value, dict):
        raise ValueError("expected one value, got an object")
    if isinstance(value, float) and value.is_integer() and column in JSON_INTEGER_COLUMNS.get(kind, ()):
        return str(int(value))  # 20.0 is 20; "20.0" as text stays refused like any text
    return str(value)


def load_sources(paths: Sequence[Path], kinds: Mapping[Path, str] | None = None) -> list[Source]:
    """The files' tables. Problems name a file by its name, or by its path as given when two files of the
    import have one name (a/people.csv and b/people.csv: the same id in both went unnoticed, as the check
    across files compares the names). The same file given twice is refused."""
    sources: list[Source] = []
    for path in paths:
        if not path.exists():
            raise DomainError(f"{path}: no such file", field="file")
    first: dict[Path, Path] = {}
    for path in paths:
        if (seen := first.get(path.resolve())) is not None:
            raise ImportRejected(
                [ImportIssue(str(path), 1, "-", f"the same file is given twice (also as {seen}): give it once")]
            )
        first[path.resolve()] = path
    names = [path.name for path in paths]
    for path in paths:
        label = path.name if names.count(path.name) == 1 else str(path)
        if path.suffix.lower() == ".json":
            sources.extend(read_json(path, label))
        else:
            kind = (kinds or {}).get(path) or guess_kind(path)
            if kind not in KINDS:
                raise DomainError(f"unknown import kind {kind!r}; one of {', '.join(KINDS)}", field="kind")
            sources.append(read_csv(path, kind, label))
    return sources


# ---------------------------------------------------------------------------------------------- parsing


class Issues:
    def __init__(self) -> None:
        self.items: list[ImportIssue] = []

    def add(self, file: str, row: int, column: str, message: str) -> None:
        self.items.append(ImportIssue(file, row, column, message))

    def reject_if_any(self) -> None:
        """Stop the import with every problem found so far, in file, row and column order."""
        if self.items:
            raise ImportRejected(sorted(self.items, key=lambda i: (i.file, i.row, i.column)))


class RowReader:
    """Typed access to one raw row; every problem is recorded against its file, row and column."""

    __slots__ = ("absent", "cells", "duplicate", "file", "guarded", "idx", "issues", "row")

    def __init__(self, src: Source, idx: dict[str, int], row: int, cells: list[str], issues: Issues) -> None:
        # Cells are stripped once, and padded with one empty cell that absent optional columns point at.
        stripped = [c.strip() for c in cells]
        # Every cell of a CSV file is un-guarded here, once, whatever its column: ids, teams and roles too
        # (the export guards them all; '=M1 and '+TEAM came back as new ids). One search of the joined row
        # finds the rare row with a cell starting with an apostrophe. A moves file's success criteria are
        # guarded one by one (parse_moves), never as a whole cell.
        if src.guard_marks and src.guarded and "\n'" in "\n" + "\n".join(stripped):
            keep = idx["success_criteria"] if src.kind == "moves" else -1
            stripped = [c if i == keep else _unguarded(c) for i, c in enumerate(stripped)]
        stripped.extend([""] * (len(src.columns) + 1 - len(stripped)))
        self.file, self.idx, self.row, self.cells, self.issues = src.file, idx, row, stripped, issues
        self.absent, self.guarded = src.absent, src.guarded
        self.duplicate = False  # its id is a row's before it: parsed for its problems, never written

    def error(self, column: str, message: str) -> None:
        self.issues.add(self.file, self.row, column, message)

    def cells_beyond(self, columns: Sequence[tuple[str, int]]) -> dict[str, str]:
        """The row's cells in the columns beyond the format, by name; an empty cell is kept as "" (on a
        re-import it clears the stored value of its column)."""
        cells, absent, row = self.cells, self.absent, self.row
        return {name: cells[i] for name, i in columns if (row, i) not in absent}

    def text(self, column: str, *, required: bool = False) -> str:
        value = self.cells[self.idx[column]]  # un-guarded already (__init__)
        if required and not value:
            self.error(column, "required value is empty")
        return value

    def date(self, column: str, *, required: bool = False) -> dt.date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            if not _iso_date_shape(value):
                raise ValueError(value)  # fromisoformat also takes 20260105 and 2026-W02-1: not ours
            day = dt.date.fromisoformat(value)
        except ValueError:
            self.error(column, f"{value!r} is not an ISO date (YYYY-MM-DD)")
            return None
        problem = rules.calendar_problem(day)
        if problem:
            self.error(column, problem)
            return None
        return day

    def integer(
        self, column: str, lo: int, hi: int, default: int | None = None, *, required: bool | None = None
    ) -> int | None:
        """The cell as a whole number in lo..hi; empty: ``default``, an error if required (by default, when
        there is no default)."""
        value = self.text(column, required=default is None if required is None else required)
        if not value:
            return default
        # ASCII digits only: int() also takes '2_0', '+20' and other scripts' digits (Arabic-Indic ١٠٠ read as
        # 100), and str.isdigit() passes '²', which int() refuses with a ValueError (a traceback, a 500).
        if value.isascii() and (value.isdigit() or (value[0] == "-" and value[1:].isdigit())):
            try:
                number: int | None = int(value)
            except ValueError:  # more digits than int() reads (4,300): out of any range here
                number = None
        else:
            self.error(column, f"{value!r} is not a whole number")
            return None
        if number is None or not lo <= number <= hi:
            self.error(column, f"{_shown_number(value, number)} is out of range {lo}–{hi}")
            return None
        return number

    def level(self, column: str) -> float | None:
        value = self.text(column, required=True)
        if not value:
            return None
        return _level(self, column, value)

    def boolean(self, column: str) -> bool:
        value = self.text(column).lower()
        if value in TRUE:
            return True
        if value not in FALSE:
            self.error(column, f"{value!r} is not true/false")
        return False


def _control_character(text: str) -> str | None:
    """Why ``text`` cannot be stored, if it holds a control character (tab and line breaks are text)."""
    found = CONTROL_CHARACTER.search(text)
    if found is None:
        return None
    return f"holds the control character U+{ord(found.group()):04X}, which the database cannot store as text"


def _column_name(header_cell: str) -> str:
    """A header cell as a column name: trimmed, lower case, and un-defused like any cell (our export
    defuses a column name beyond the format that a spreadsheet would run as a formula)."""
    return _unguarded(header_cell.strip()).lower()


def _unguarded(value: str) -> str:
    """A cell as it was before our export defused it against formula injection (``'=x`` → ``=x``), so
    that an export imports back unchanged. The export also guards a text that itself starts with an
    apostrophe followed by a formula character or another apostrophe (``'=x`` is written ``''=x``), so
    exactly one apostrophe is taken off."""
    return value[1:] if value[:1] == "'" and value[1:2] in GUARD_NEXT else value


def _iso_date_shape(value: str) -> bool:
    """YYYY-MM-DD (``date.fromisoformat`` also reads 20240108 and 2024-W06-5, which the format does not)."""
    return len(value) == 10 and value[4] == "-" and value[7] == "-"


def _shown_number(value: str, number: int | None) -> str:
    """A whole number as a problem shows it: its value, or its length if it is too long to read or show (a
    cell of 5,000 digits)."""
    digits = len(value) - value.startswith("-")
    if number is not None and digits <= 30:
        return str(number)
    return f"a {'negative ' if value.startswith('-') else ''}number of {digits} digits"


def _level(r: RowReader, column: str, value: str) -> float | None:
    # float() also reads other scripts' digits ('١.٥' as 1.5), '1_5', 'nan' and 'inf': a decimal number in
    # ASCII digits, as the format writes it, is what a level may be.
    if LEVEL_NUMBER.fullmatch(value) is None:
        r.error(column, f"{value!r} is not a number")
        return None
    number = float(value)
    if not 0 <= number <= 7:
        r.error(column, f"level {number:g} is outside O*NET's 0–7 level scale")
        return None
    return number


def _rows(src: Source, issues: Issues) -> Iterator[RowReader]:
    idx = src.index()
    missing = [c for c in REQUIRED[src.kind] if c not in idx]
    alike = {known: name for name, known in src.look_alikes().items()}
    other = next((d for d in (";", "\t", "|") if len(src.columns) == 1 and d in src.columns[0]), None)
    if missing and other is not None:  # one issue saying why, not one per column the header seems to lack
        name = {";": "semicolons", "\t": "tabs", "|": "bars"}[other]
        issues.add(src.file, 1, "-", f"the header is one column separated by {name}: save the file with commas")
        return
    for c in missing:
        issues.add(src.file, 1, c, "missing required column" + (f" (the file has '{alike[c]}')" if c in alike else ""))
    # A typo in an optional column's name would be kept quietly as a column of the sender's own while the
    # field it meant took its default (capacity_percnt: everyone at 100%): refused, naming both.
    for meant, name in alike.items():
        if meant not in missing:
            issues.add(
                src.file,
                1,
                name,
                f"named almost like the format's column '{meant}', which the file does not have: rename it "
                "(a column of your own needs a name further from the format's)",
            )
    known = FORMAT_COLUMNS[src.kind]
    # Never silently drop data: people, roles and moves keep the columns they do not know (``extra``); in
    # role_skills such a column is an error the sender should see. A column without a name is fine while it
    # is empty (a trailing comma), and an error on the first row that puts a value in it.
    unknown = [c for c in src.columns if c and c not in known and src.kind not in KEEPS_EXTRA]
    takes = f"{', '.join(known[:-1])} and {known[-1]}"
    for c in unknown:
        issues.add(src.file, 1, c, f"unknown column for {src.kind} (its rows take {takes} only)")
    for i in (i for i, c in enumerate(src.columns) if not c):
        filled = next((row for row, cells in src.rows if i < len(cells) and cells[i].strip()), None)
        if filled is not None:
            issues.add(src.file, filled, f"column {i + 1}", "a value in a column without a name in the header")
            unknown.append("")
    if missing or unknown:
        return
    for i, name in enumerate(src.columns):
        if (bad := _control_character(name)) is not None:
            issues.add(src.file, 1, f"column {i + 1} {name!r}", bad)
    seen: dict[str, int] = {}
    key_col = {"teams": "team_id", "people": "person_id", "roles": "role_id", "moves": "move_id"}.get(src.kind)
    limits = [(idx[c], c, n) for c, n in MAX_LENGTH[src.kind].items()]
    # A row has a cell for every named column, as for no more than the header has: one cut short was padded
    # with empty cells and taken (a cell lost to a missing comma shifts the values after it left, and the empty
    # cell of a column beyond the format cleared the stored value). Columns without a name (a header's trailing
    # comma) need none.
    named = max((i + 1 for i, c in enumerate(src.columns) if c), default=0)
    for row, cells in src.rows:
        if not named <= len(cells) <= len(src.columns):
            issues.add(src.file, row, "-", f"{len(cells)} cells but the header has {len(src.columns)} columns")
            continue
        reader = RowReader(src, idx, row, cells, issues)
        # What the database cannot store, named by row and column (PostgreSQL refused it with a traceback,
        # SQLite stored it): text longer than its column, and control characters (PostgreSQL takes no NUL).
        values = reader.cells
        for i, column, most in limits:
            if len(values[i]) > most:
                reader.error(column, f"too long: {len(values[i])} characters, the database holds at most {most}")
        if src.control and CONTROL_CHARACTER.search("\n".join(values)):
            for i, value in enumerate(values[: len(src.columns)]):
                if (bad := _control_character(value)) is not None:
                    reader.error(src.columns[i] or f"column {i + 1}", bad)
        if key_col:
            key = reader.text(key_col, required=True)
            if key in seen:
                reader.error(key_col, f"duplicate id {key!r} (first on row {seen[key]})")
                # Still read, left out of the records: its other problems are in the same report (its unknown
                # manager came up only once the id was fixed).
                reader.duplicate = True
            elif key:  # an empty id is a problem of its own, not also a duplicate of the one before
                seen[key] = row
            if key and (bad := rules.id_problem(key)) is not None:
                reader.error(key_col, bad)
        yield reader


@dataclass(slots=True)
class TeamRec:
    row: int
    id: str
    name: str
    parent_id: str | None  # None: unknown (a stored team keeps its parent; a new one has none)
    function: str | None  # None: unknown (a stored team keeps its function; a new one gets "")
    manager_id: str | None  # None: unknown (a stored team keeps its manager; a new one has none)
    file: str = ""  # the file it came from: an import may hold several of one kind


@dataclass(slots=True)
class RoleRec:
    row: int
    id: str
    title: str
    onet_code: str | None
    level: int
    team: str | None
    critical: bool
    file: str = ""  # the file it came from: an import may hold several of one kind
    extra: dict[str, str] | None = None  # the file's columns beyond the format (KEEPS_EXTRA)


@dataclass(slots=True)
class RoleSkillRec:
    row: int
    role_id: str
    skill: str
    level: float


@dataclass(slots=True)
class PersonRec:
    row: int
    id: str
    name: str
    email: str
    role_id: str | None
    manager_id: str | None
    team: str | None
    hire_date: dt.date | None
    location: str
    capacity: int | None  # None until check(): left empty (see parse_people)
    home_min: int | None
    file: str = ""  # the file it came from: an import may hold several of one kind
    extra: dict[str, str] | None = None  # the file's columns beyond the format (KEEPS_EXTRA)
    target_role_id: str | None = None  # the planner's target; None: unknown (a stored person keeps theirs)
    # The capacity or the home role's share is given but did not read: the time checks, which would hold the
    # stored or default value in its place against the person, leave them out (it is a problem already).
    capacity_unread: bool = False
    # Which of the values a file may leave empty (then stored, or the defaults) this row gives: a problem of
    # the value names its cell when the file gives it, and says the value is stored when it does not (the
    # time share check named capacity_percent for a file with only home_role_min_percent).
    capacity_given: bool = False
    home_min_given: bool = False
    hire_date_given: bool = False
    # The hire date is given but did not read: the moves are not held to it, nor to the stored one it would
    # replace (it is a problem already).
    hire_date_unread: bool = False


@dataclass(slots=True)
class MoveRec:
    row: int
    id: str
    person_id: str
    kind: MoveKind
    title: str
    host_team: str | None
    start: dt.date
    end: dt.date
    percent: int
    status: MoveStatus
    target_role_id: str | None
    criteria: list[str]
    ratings: list[Rating | None]
    decision: Decision | None
    gains: list[tuple[str, float, float]]  # raw skill key, before, after
    file: str = ""  # the file it came from: an import may hold several of one kind
    extra: dict[str, str] | None = None  # the file's columns beyond the format (KEEPS_EXTRA)


@dataclass(slots=True)
class RefusedMove:
    """A moves row refused while parsed (a problem in one of its cells), with what the checks of the whole
    import can still be made on: the people, team, role and skills it names are looked up, its id is compared
    with the other files', its time counts against capacity and its status is held to the stored move's
    lifecycle all the same, so that every problem is in one report. (Only the time share, the rating and the
    level were reported of a row that also named an unknown skill or host team: those came up on the next
    attempt.) A status or time whose cells have a problem of their own is left out (None): it is reported."""

    file: str
    row: int
    id: str
    person_id: str
    host_team: str | None
    target_role_id: str | None
    skills: list[str]  # the skill of every gain written skill:from>to, its levels readable or not
    status: MoveStatus | None
    decision: Decision | None  # None: no decision given, or (outcome_read False) one that did not read
    outcome_read: bool
    interval: rules.Interval | None  # its time, if its dates, time share and status all read without a problem
    # Its id is a row's before it in its file: what it names is checked, its status and time are not the move's.
    duplicate: bool = False
    start: dt.date | None = None  # its start, if it read (held to the person's hire date); None for a duplicate


# The columns a move's time is read from (a refused row counts against capacity when none has a problem).
TIME_COLUMNS = frozenset({"start", "end", "percent_time", "status"})


def _enum_value(r: RowReader, column: str, enum_cls: Any, *, default: Any = None, raw: str | None = None) -> Any:
    """The cell (or ``raw``, a part of it) read by the one parser of the vocabularies (any case: an HRIS
    writes ``Active``), its refusal recorded against the row and column; empty: ``default``."""
    raw = r.text(column, required=default is None) if raw is None else raw
    if not raw:
        return default
    try:
        return vocabulary.parse(enum_cls, raw, field=column)
    except InvalidValue as exc:
        r.error(column, exc.message)
        return None


def parse_teams(src: Source, issues: Issues, duplicates: list[TeamRec] | None = None) -> list[TeamRec]:
    """The file's teams. An empty parent, function or manager is unknown: a stored team keeps its own. A row
    whose id a row before it has goes to ``duplicates`` (the teams and people it names are checked too)."""
    out: list[TeamRec] = []
    for r in _rows(src, issues):
        rec = TeamRec(
            r.row,
            r.text("team_id"),
            r.text("name", required=True),
            r.text("parent_id") or None,
            r.text("function") or None,
            r.text("manager_id") or None,
            src.file,
        )
        _keep(r, rec, out, duplicates)
    return out


def _keep(r: RowReader, rec: Any, out: list[Any], duplicates: list[Any] | None) -> None:
    """``rec`` into the records, or, read from a row whose id a row before it has, into ``duplicates``."""
    if not r.duplicate:
        out.append(rec)
    elif duplicates is not None:
        duplicates.append(rec)


def parse_roles(src: Source, issues: Issues, duplicates: list[RoleRec] | None = None) -> list[RoleRec]:
    """The file's roles; a row whose id a row before it has goes to ``duplicates``."""
    out: list[RoleRec] = []
    extra = src.extra_columns()
    for r in _rows(src, issues):
        code = r.text("onet_code") or None
        if code and not ONET_CODE.match(code):
            r.error("onet_code", f"{code!r} is not an O*NET-SOC code like 15-1252.00")
        rec = RoleRec(
            r.row,
            r.text("role_id"),
            r.text("title", required=True),
            code,
            r.integer("level", 1, 20, default=1) or 1,
            r.text("team") or None,
            r.boolean("critical"),
            src.file,
            r.cells_beyond(extra) if extra else None,
        )
        _keep(r, rec, out, duplicates)
    return out


def parse_role_skills(src: Source, issues: Issues, refused: list[RoleSkillRec] | None = None) -> list[RoleSkillRec]:
    """The file's role skills; a row whose level does not read is left out, kept in ``refused`` so that its
    role and skill are looked up too (they came up only on the next attempt)."""
    out = []
    seen: dict[tuple[str, str], int] = {}
    for r in _rows(src, issues):
        rec = RoleSkillRec(r.row, r.text("role_id", required=True), r.text("skill", required=True), 0.0)
        level = r.level("level")
        key = (rec.role_id, rec.skill.lower())
        if rec.role_id and rec.skill:  # an empty one is a problem of its own, not a skill listed twice
            if key in seen:
                r.error("skill", f"skill {rec.skill!r} listed twice for role {rec.role_id} (first on row {seen[key]})")
                continue
            seen[key] = r.row
        if level is None:
            if refused is not None:
                refused.append(rec)
            continue
        rec.level = level
        out.append(rec)
    return out


def parse_people(
    src: Source, issues: Issues, settings: Settings, duplicates: list[PersonRec] | None = None
) -> list[PersonRec]:
    """The file's people; a row whose id a row before it has goes to ``duplicates``. A hire date after today
    is a pre-hire's (an HRIS lists those who start later): taken, and their moves held to it as anyone's."""
    out: list[PersonRec] = []
    extra = src.extra_columns()
    for r in _rows(src, issues):
        email = r.text("email")
        if email and ("@" not in email or " " in email):
            r.error("email", f"{email!r} is not an e-mail address")
        # Left empty (or no such column: conventions.md's people.csv has neither), a stored person keeps
        # what is stored and a new one gets the defaults (check() fills them in): a sync in the shared
        # format reset everyone's capacity settings.
        capacity = r.integer("capacity_percent", 1, 200, required=False)
        home = r.integer("home_role_min_percent", 0, 199, required=False)
        hired = r.date("hire_date")
        _keep(
            r,
            PersonRec(
                r.row,
                r.text("person_id"),
                r.text("name", required=True),
                email,
                r.text("role_id") or None,
                r.text("manager_id") or None,
                r.text("team") or None,
                hired,
                r.text("location"),
                capacity,
                home,
                src.file,
                r.cells_beyond(extra) if extra else None,
                r.text("target_role_id") or None,
                (capacity is None and bool(r.text("capacity_percent")))
                or (home is None and bool(r.text("home_role_min_percent"))),
                capacity_given=capacity is not None,
                home_min_given=home is not None,
                hire_date_given=hired is not None,
                hire_date_unread=hired is None and bool(r.text("hire_date")),
            ),
            out,
            duplicates,
        )
    return out


def _status_clash(decision: Decision, status: MoveStatus) -> str:
    after = " or ".join(str(x) for x in STATUS_AFTER[decision])
    return f"a review deciding {decision} leaves the move {after}, not {status}"


def parse_moves(
    src: Source,
    issues: Issues,
    settings: Settings,
    refused: list[RefusedMove] | None = None,
    today: dt.date | None = None,
) -> list[MoveRec]:
    """The file's moves; a row with a problem is left out, what of it can still be checked kept in
    ``refused`` (:class:`RefusedMove`): every problem in one report.
    ``today`` (the local date, as the tracker's) bounds the dates of a move that has started or ended."""
    today = today or dt.date.today()
    # The hot loop of a million-row import: cells are read by index and the common, valid case takes
    # the fewest steps; every problem is still reported against its row and column.
    out = []
    idx = src.index()
    # The canonical values, a dict hit each; any other cell goes to the one parser (vocabulary.parse).
    kinds, statuses = vocabulary.canonical(MoveKind), vocabulary.canonical(MoveStatus)
    decisions, rating_of = vocabulary.canonical(Decision), vocabulary.canonical(Rating)
    extra = src.extra_columns()
    max_days = settings.max_move_weeks * 7
    from_iso = dt.date.fromisoformat
    earliest, latest = rules.EARLIEST_DATE, rules.LATEST_DATE
    for r in _rows(src, issues):
        cells = r.cells
        before = len(issues.items)
        kind = kinds.get(cells[idx["kind"]]) or _enum_value(r, "kind", MoveKind)
        title = r.text("title", required=True)
        # The common case, a date of the format within the years a record may hold, read here; anything else
        # (another shape, no such day, a year like 0202 that reads as a date) goes to RowReader.date, which
        # names the problem. The range was RowReader.date's alone: 0202-01-06 was stored as the year 202.
        raw = cells[idx["start"]]
        try:
            start: dt.date | None = from_iso(raw) if _iso_date_shape(raw) else None
        except ValueError:
            start = None
        if start is None or not earliest <= start <= latest:
            start = r.date("start", required=True)
        raw = cells[idx["end"]]
        try:
            end: dt.date | None = from_iso(raw) if _iso_date_shape(raw) else None
        except ValueError:
            end = None
        if end is None or not earliest <= end <= latest:
            end = r.date("end", required=True)
        percent = r.integer("percent_time", 1, 100)
        raw_status = cells[idx["status"]]
        status = statuses.get(raw_status) if raw_status else MoveStatus.PROPOSED
        if status is None:
            status = _enum_value(r, "status", MoveStatus, default=MoveStatus.PROPOSED)
        raw_decision = cells[idx["outcome"]]
        decision = (
            (decisions.get(raw_decision) or _enum_value(r, "outcome", Decision, default="")) if raw_decision else None
        )
        raw_criteria = cells[idx["success_criteria"]]
        criteria = [c.strip() for c in raw_criteria.split(";") if c.strip()] if raw_criteria else []
        if src.guarded and "'" in raw_criteria:  # the export guards each criterion (a tool may split the cell)
            criteria = [_unguarded(c) for c in criteria]
        ratings: list[Rating | None] = [None] * len(criteria)
        raw_ratings = cells[idx["criteria_ratings"]]
        if raw_ratings:
            parts = [p.strip() for p in raw_ratings.split(";")]
            if len(parts) != len(criteria):
                r.error("criteria_ratings", f"{len(parts)} ratings for {len(criteria)} success criteria")
            else:
                for i, p in enumerate(parts):
                    if p:
                        ratings[i] = rating_of.get(p) or _enum_value(r, "criteria_ratings", Rating, raw=p)
        gains = []
        raw_gains = cells[idx["skills_gained"]]
        for part in filter(None, (p.strip() for p in raw_gains.split(";"))) if raw_gains else ():
            m = GAIN.fullmatch(part)
            if not m:
                r.error("skills_gained", f"{part!r} is not skill:from>to")
                continue
            after = _level(r, "skills_gained", m.group(3))
            if not m.group(2):  # an unknown level before cannot be stored as a gain (it is not 0)
                r.error("skills_gained", f"{part!r} needs the level before the move: skill:from>to")
                continue
            before_l = _level(r, "skills_gained", m.group(2))
            if after is not None and before_l is not None:
                if after < before_l:  # written back to the profile as the move's evidence, it would lower it
                    r.error("skills_gained", f"{part!r} lowers the level: a gain ends at or above the level before")
                    continue
                gains.append((m.group(1).strip(), before_l, after))
        if start and end and (end <= start or (end - start).days >= max_days):  # both dates count (check_short)
            try:
                rules.check_dates(start, end)
                rules.check_short(start, end, settings.max_move_weeks)
            except DomainError as exc:
                r.error("end", exc.message)
        # A status the tracker reaches only once the move has started, or ended, is refused before then (a
        # completed move ending next month wrote a skill assessment dated next month). The tracker ends a
        # move stopped on its first day the day after (moves._stop_early): its own export imports back.
        if start and status in STARTED_STATUSES and start > today:
            r.error("status", f"a move starting on {start.isoformat()} cannot be {status} before then (today is "
                    f"{today.isoformat()})")  # fmt: skip
        elif start and end and status in ENDED_AT_END and end > today and end != start + ONE_DAY:
            r.error("end", f"a move that is {status} cannot end after today ({today.isoformat()}): "
                    f"{end.isoformat()}")  # fmt: skip
        # Every status from approved on means the move passed approval, which needs success criteria.
        if decision is not None and status is not None and status not in STATUS_AFTER[decision]:
            r.error("outcome", _status_clash(decision, status))
        if status in OCCUPYING_STATUSES and not criteria:
            r.error("success_criteria", f"a move that is {status} needs at least one success criterion")
        # A completed move's ratings may be unknown (an empty cell, or no criteria_ratings column: it is not
        # in conventions.md's moves.csv, and history from an HRIS rarely has them); a review in micromoves
        # always rates every criterion.
        person_id = r.text("person_id", required=True)
        if len(issues.items) > before or r.duplicate:
            if refused is None:
                continue
            bad = _problem_columns(issues, src.file, r.row)
            if r.duplicate:
                bad.add("status")  # the move's status and time are its first row's
            move_id = cells[idx["move_id"]]
            interval = None
            if start and end and percent and status and not bad & TIME_COLUMNS:
                interval = rules.Interval(move_id, start, end, percent)
            refused.append(
                RefusedMove(
                    src.file,
                    r.row,
                    move_id,
                    person_id,
                    cells[idx["host_team"]] or None,
                    cells[idx["target_role_id"]] or None,
                    _gained_skills(raw_gains),
                    None if "status" in bad else status,
                    decision,
                    "outcome" not in bad,
                    interval,
                    r.duplicate,
                    None if r.duplicate else start,
                )
            )
        elif kind and start and end and percent and status:
            out.append(
                MoveRec(
                    r.row,
                    cells[idx["move_id"]],
                    person_id,
                    kind,
                    title,
                    cells[idx["host_team"]] or None,
                    start,
                    end,
                    percent,
                    status,
                    cells[idx["target_role_id"]] or None,
                    criteria,
                    ratings,
                    decision,
                    gains,
                    src.file,
                    r.cells_beyond(extra) if extra else None,
                )
            )
    return out


def _problem_columns(issues: Issues, file: str, row: int) -> set[str]:
    """The columns of a row being parsed that have a problem (its problems are the last ones reported)."""
    found = set()
    for issue in reversed(issues.items):
        if issue.row != row or issue.file != file:
            break
        found.add(issue.column)
    return found


def _gained_skills(cell: str) -> list[str]:
    """The skill of every gain a skills_gained cell writes skill:from>to, whether its levels read or not."""
    found = (GAIN.fullmatch(part.strip()) for part in cell.split(";")) if cell else ()
    return [m.group(1).strip() for m in found if m]


# ---------------------------------------------------------------------------------------------- checking


@dataclass
class Plan:
    """Everything to write, after every check passed."""

    team_recs: list[TeamRec] = field(default_factory=list)  # the teams files' teams
    roles: list[RoleRec] = field(default_factory=list)
    role_skills: list[tuple[RoleSkillRec, str]] = field(default_factory=list)  # with resolved skill id
    new_skills: list[tuple[str, str, str]] = field(default_factory=list)
    people: list[PersonRec] = field(default_factory=list)
    moves: list[MoveRec] = field(default_factory=list)
    move_gains: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)  # resolved skill ids
    teams: set[str] = field(default_factory=set)  # the teams roles, people and moves name
    existing: dict[str, set[str]] = field(default_factory=dict)
    existing_role_of: dict[str, str | None] = field(default_factory=dict)
    existing_move_status: dict[str, str] = field(default_factory=dict)
    # Moves refused while parsed, whose references and skills are checked all the same.
    refused_moves: list[RefusedMove] = field(default_factory=list)
    # Rows whose id a row before them in their file has: never written, what they name is checked all the same.
    refused_teams: list[TeamRec] = field(default_factory=list)
    refused_roles: list[RoleRec] = field(default_factory=list)
    refused_people: list[PersonRec] = field(default_factory=list)


def _ids(conn: Connection, column: Any, values: Iterable[str]) -> set[str]:
    """Which of ``values`` exist in ``column``."""
    return {row[0] for row in select_among(conn, values, column)}


class SkillIndex:
    """Skills by element id (or ESCO URI) and by name. A name two elements share (Mathematics: an O*NET
    skill and a knowledge area) resolves to neither: :meth:`ambiguous` says which ids it could be."""

    def __init__(self, conn: Connection) -> None:
        self.by_id: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        self.shared: dict[str, list[str]] = defaultdict(list)
        self.named: dict[str, tuple[str, str]] = {}  # id → (name, kind)
        c = t.skills.c
        for sid, name, kind in conn.execute(select(c.id, c.name, c.kind).order_by(c.id)):
            self.by_id[sid] = sid
            self.named[sid] = (name, kind)
            self.shared[name.lower()].append(sid)
        self.by_name = {name: ids[0] for name, ids in self.shared.items() if len(ids) == 1}

    def resolve(self, key: str) -> str | None:
        # also the label the pages show where two skills share a name, "Mathematics (knowledge 2.C.4.a)"
        return self.by_id.get(key) or self.by_name.get(key.lower()) or labelled_skill(key, self.named.get)

    def unknown(self, key: str) -> str:
        """Why ``key`` resolves to no skill."""
        ids = self.shared.get(key.lower(), [])
        if len(ids) > 1:
            shown = ", ".join(skill_label(i, *self.named[i], shared=True) for i in ids)
            return f"skill name {key!r} is ambiguous: give one of {shown} (as the pages show them) or its id"
        return f"unknown skill {key!r} (O*NET element name or ESCO URI)"

    def resolve_or_new(self, key: str, plan: Plan) -> str | None:
        """The skill of ``key``; an ESCO skill URI not known yet is accepted as a new skill."""
        sid = self.resolve(key)
        if sid is None and ESCO_SKILL.match(key) and len(key) <= MAX_LENGTH["role_skills"]["skill"]:
            sid = key
            plan.new_skills.append((sid, sid.rsplit("/", 1)[-1], "esco"))
            self.by_id[sid] = sid
        return sid


def check(
    conn: Connection,
    sources: Sequence[Source],
    settings: Settings,
    progress: Progress,
    *,
    known_teams: bool = False,
    today: dt.date | None = None,
) -> Plan:
    today = today or dt.date.today()
    issues = Issues()
    plan = Plan()
    by_kind: dict[str, list[Source]] = defaultdict(list)
    for src in sources:
        by_kind[src.kind].append(src)
    for src in by_kind["teams"]:
        plan.team_recs += parse_teams(src, issues, plan.refused_teams)
    for src in by_kind["roles"]:
        plan.roles += parse_roles(src, issues, plan.refused_roles)
    rs_recs: list[tuple[Source, RoleSkillRec]] = []
    rs_refused: list[tuple[Source, RoleSkillRec]] = []  # rows whose level did not read: looked up all the same
    for src in by_kind["role_skills"]:
        refused: list[RoleSkillRec] = []
        rs_recs += [(src, rec) for rec in parse_role_skills(src, issues, refused)]
        rs_refused += [(src, rec) for rec in refused]
    for src in by_kind["people"]:
        plan.people += parse_people(src, issues, settings, plan.refused_people)
    for src in by_kind["moves"]:
        progress("parse", 0, len(src.rows))
        plan.moves += parse_moves(src, issues, settings, plan.refused_moves, today)
        progress("parse", len(src.rows), len(src.rows))
    if any(len(of_kind) > 1 for of_kind in by_kind.values()):  # one file per kind: checked while parsed
        _check_ids_across_files(plan, issues, sources)
    _keep_unknown_of_people(conn, plan.people)  # first: what it keeps is checked like the file's values
    if plan.team_recs:  # a file without teams costs nothing here
        _keep_unknown_of_teams(conn, plan.team_recs)

    # References: to records in the database or in this same import.
    role_ids = {r.id for r in plan.roles} | _ids(
        conn,
        t.roles.c.id,
        [
            *(r.role_id for _s, r in (*rs_recs, *rs_refused) if r.role_id),
            *(p.role_id for p in (*plan.people, *plan.refused_people) if p.role_id),
            *(p.target_role_id for p in (*plan.people, *plan.refused_people) if p.target_role_id),
            *(m.target_role_id for m in plan.moves if m.target_role_id),
            *(m.target_role_id for m in plan.refused_moves if m.target_role_id),
        ],
    )
    # A code not shaped like one is a problem of its own (parse_roles), not also an unknown code.
    roles = (*plan.roles, *plan.refused_roles)
    codes = {r.onet_code for r in roles if r.onet_code and ONET_CODE.match(r.onet_code)}
    known_codes = _ids(conn, t.onet_occupations.c.code, codes)
    for r in roles:
        if r.onet_code in codes and r.onet_code not in known_codes:
            issues.add(r.file, r.row, "onet_code", f"unknown O*NET-SOC code {r.onet_code}")
    skills = SkillIndex(conn)
    accepted = len(rs_recs)
    # A role's skill once, as the skill it resolves to: by its name and by its element id, or in two role_skills
    # files (parse_role_skills compares one file's names). Written twice, PostgreSQL's upsert failed with a
    # traceback ("cannot affect row a second time") and SQLite kept the last level, counted twice as created.
    listed: dict[tuple[str, str], tuple[Source, RoleSkillRec]] = {}
    for i, (src, rec) in enumerate((*rs_recs, *rs_refused)):
        # An empty role or skill is a problem of its own ("required value is empty"), not also an unknown one.
        if rec.role_id and rec.role_id not in role_ids:
            issues.add(src.file, rec.row, "role_id", f"unknown role {rec.role_id!r}")
        if not rec.skill:
            continue
        sid = skills.resolve_or_new(rec.skill, plan)  # an ESCO skill URI: a new skill identified by its URI
        if sid is None:
            issues.add(src.file, rec.row, "skill", skills.unknown(rec.skill))
            continue
        if rec.role_id and (first := listed.setdefault((rec.role_id, sid), (src, rec)))[1] is not rec:
            where = "" if first[0] is src else f"in {first[0].file} "
            named = "" if first[1].skill == rec.skill else f", as {first[1].skill!r}"
            issues.add(
                src.file,
                rec.row,
                "skill",
                f"skill {rec.skill!r} listed twice for role {rec.role_id} (first {where}on row {first[1].row}{named})",
            )
        elif i < accepted:  # a refused row (they come last) is only looked up
            plan.role_skills.append((rec, sid))

    people_in_file = {p.id: p for p in plan.people}
    people = (*plan.people, *plan.refused_people)
    person_refs = {p.manager_id for p in people if p.manager_id} | {m.person_id for m in plan.moves}
    person_refs |= {m.person_id for m in plan.refused_moves if m.person_id}
    person_refs |= {team.manager_id for team in (*plan.team_recs, *plan.refused_teams) if team.manager_id}
    db_people = _ids(conn, t.people.c.id, person_refs | set(people_in_file))
    person_ids = db_people | set(people_in_file)
    for p in people:
        if p.role_id and p.role_id not in role_ids:
            issues.add(p.file, p.row, "role_id", f"unknown role {p.role_id!r}")
        if p.manager_id and p.manager_id not in person_ids:
            issues.add(p.file, p.row, "manager_id", f"unknown person {p.manager_id!r}")
        if p.target_role_id and p.target_role_id not in role_ids:
            issues.add(p.file, p.row, "target_role_id", f"unknown role {p.target_role_id!r}")
    if plan.team_recs or plan.refused_teams:
        _check_teams(conn, plan.team_recs, person_ids, issues, plan.refused_teams)
    if plan.people:
        _check_manager_cycles(conn, plan.people, issues)
        _check_emails(conn, plan.people, issues)
        _fill_capacity(conn, plan.people, db_people, issues, settings)

    for m in plan.moves:
        if m.person_id not in person_ids:
            issues.add(m.file, m.row, "person_id", f"unknown person {m.person_id!r}")
        if m.target_role_id and m.target_role_id not in role_ids:
            issues.add(m.file, m.row, "target_role_id", f"unknown role {m.target_role_id!r}")
        resolved = []
        gained: dict[str, str] = {}  # skill → the key that first named it
        for key, before, after in m.gains:
            sid = skills.resolve_or_new(key, plan)
            if sid is None:
                issues.add(m.file, m.row, "skills_gained", skills.unknown(key))
            elif sid in gained:  # as a review in the app refuses it: two levels of one skill, on one day
                also = "" if gained[sid] == key else f" (also as {gained[sid]!r})"
                issues.add(m.file, m.row, "skills_gained", f"skill {key!r} is gained twice{also}")
            else:
                gained[sid] = key
                resolved.append((sid, before, after))
        plan.move_gains[m.id] = resolved
    for rm in plan.refused_moves:
        if rm.person_id and rm.person_id not in person_ids:
            issues.add(rm.file, rm.row, "person_id", f"unknown person {rm.person_id!r}")
        if rm.target_role_id and rm.target_role_id not in role_ids:
            issues.add(rm.file, rm.row, "target_role_id", f"unknown role {rm.target_role_id!r}")
        for key in rm.skills:  # an ESCO skill's URI not stored yet is a new skill, as in an accepted row
            if skills.resolve_or_new(key, plan) is None:
                issues.add(rm.file, rm.row, "skills_gained", skills.unknown(key))
    # The stored moves the files re-import, read once: a re-import may not take one back in its lifecycle,
    # checked here with every other problem (it came up only once the rest of the import was clean); one
    # re-imported as stored is not held to a hire date the import does not change (_check_hire_dates); and
    # a re-imported move keeps what the file leaves empty of it (below).
    m_ = t.moves.c
    file_move_ids = [*(m.id for m in plan.moves), *(m.id for m in plan.refused_moves if m.id)]
    stored_moves = {
        mid: (str(st), host, target, pid, start)
        for mid, st, host, target, pid, start in select_among(
            conn, file_move_ids, m_.id, m_.status, m_.host_team_id, m_.target_role_id, m_.person_id, m_.start
        )
    }
    if plan.moves or plan.people or plan.refused_moves:
        _check_time(conn, plan, people_in_file, issues, settings)
        starts = {mid: (pid, start, st) for mid, (st, _host, _target, pid, start) in stored_moves.items()}
        _check_hire_dates(conn, plan, people_in_file, db_people, person_ids, starts, issues, today, settings)
    if known_teams:
        _check_teams_known(conn, plan, issues)
    plan.existing_move_status = {mid: kept[0] for mid, kept in stored_moves.items()}
    stepping: list[MoveRec | RefusedMove] = [
        m for m in plan.refused_moves if m.status is not None and m.id in stored_moves
    ]
    stepping += [m for m in plan.moves if m.id in stored_moves]
    backwards = _check_status_steps(plan, stepping, issues)
    _check_kept_reviews(conn, plan, stepping, issues, skip=backwards)

    issues.reject_if_any()

    plan.teams = {
        x
        for x in [
            *(r.team for r in plan.roles),
            *(p.team for p in plan.people),
            *(m.host_team for m in plan.moves),
        ]
        if x
    }
    plan.existing = {
        "teams": _ids(conn, t.teams.c.id, plan.teams | {team.id for team in plan.team_recs}),
        "roles": _ids(conn, t.roles.c.id, [r.id for r in plan.roles]),
        "people": db_people & set(people_in_file),
        "moves": {m.id for m in plan.moves if m.id in stored_moves},
        "role_skills": {
            f"{rid}|{sid}"
            for rid, sid in conn.execute(
                select(t.role_skills.c.role_id, t.role_skills.c.skill_id).where(
                    t.role_skills.c.role_id.in_({r.role_id for r, _sid in plan.role_skills})
                )
            )
        },
    }
    p_ = t.people.c
    for pid, rid in select_among(conn, plan.existing["people"], p_.id, p_.role_id):
        plan.existing_role_of[pid] = rid
    # A re-imported move keeps the host team and target role the file leaves empty (unknown, as people's).
    for m in plan.moves:
        if (m.host_team is None or m.target_role_id is None) and (kept := stored_moves.get(m.id)) is not None:
            m.host_team = m.host_team or kept[1]
            m.target_role_id = m.target_role_id or kept[2]
    # And its success criteria (a status from approved on needs them in the file: refused while parsed).
    no_criteria = {m.id: m for m in plan.moves if not m.criteria and m.id in plan.existing["moves"]}
    c_ = t.success_criteria.c
    found = select_among(conn, no_criteria, c_.move_id, c_.position, c_.statement)
    for mid, _position, statement in sorted(tuple(row) for row in found):
        no_criteria[mid].criteria.append(statement)
        no_criteria[mid].ratings.append(None)  # the stored rating is kept (_KeptMoveData.criteria_rows)
    return plan


def _check_status_steps(plan: Plan, moves: Iterable[MoveRec | RefusedMove], issues: Issues) -> set[str]:
    """A re-import may take a move several lifecycle steps on at once (the HRIS saw it through), never back:
    an older export sent again had set an approved move back to requested (its approvals still recorded,
    a step the tracker refuses), or a completed one back to active, undoing what was done in the app.
    Returns the moves refused so."""
    backwards: set[str] = set()
    for m in moves:
        old = plan.existing_move_status.get(m.id)
        if old is None or m.status is None or old == m.status.value:
            continue
        stored = MoveStatus(old)
        if m.status not in lifecycle.REACHABLE[stored]:
            onward = ", ".join(sorted(s.value for s in lifecycle.REACHABLE[stored] - {stored})) or "none: it is over"
            issues.add(
                m.file,
                m.row,
                "status",
                f"move {m.id} is {stored.value} here; {m.status.value} would be a step back in its lifecycle "
                f"(a file older than the changes made since?). Statuses it can still come to: {onward}",
            )
            backwards.add(m.id)
    return backwards


def _check_kept_reviews(
    conn: Connection,
    plan: Plan,
    moves: Iterable[MoveRec | RefusedMove],
    issues: Issues,
    *,
    skip: Collection[str] = (),
) -> None:
    """A re-imported move whose status the file changes while leaving the outcome empty keeps its stored
    review, whose decision must still go with the new status: a completed move set back to proposed kept
    its 'end' review and its gains, and its own export no longer imported. (A refused row whose outcome did
    not read leaves unknown whether it keeps the review: not checked.)"""
    moved = [
        (m, m.status)
        for m in moves
        if m.status is not None
        and m.decision is None
        and (isinstance(m, MoveRec) or m.outcome_read)
        and plan.existing_move_status.get(m.id, m.status) != m.status
        and m.id not in skip
    ]
    o = t.outcomes.c
    ids = [m.id for m, _status in moved]
    stored = {mid: Decision(d) for mid, d in select_among(conn, ids, o.move_id, o.decision)}
    for m, status in moved:
        if (decision := stored.get(m.id)) is not None and status not in STATUS_AFTER[decision]:
            issues.add(
                m.file,
                m.row,
                "status",
                f"{_status_clash(decision, status)} (the stored review, kept as the outcome column is empty): "
                "give the outcome that goes with the new status, or keep the status",
            )


def _keep_unknown_of_people(conn: Connection, people: list[PersonRec]) -> None:
    """An empty cell is unknown (conventions.md): a stored person keeps the stored e-mail, role, manager,
    team, hire date and location the file leaves empty (an HRIS export with a blank manager cleared it, and
    a blank role left the role history saying the old role was current), and the target role the planner
    plans towards. A new person gets none."""
    unknown = [
        p
        for p in people
        if not all((p.email, p.role_id, p.manager_id, p.team, p.hire_date, p.location, p.target_role_id))
    ]
    if not unknown:
        return
    p_ = t.people.c
    stored = {row[0]: row for row in select_among(
        conn, [p.id for p in unknown], p_.id, p_.email, p_.role_id, p_.manager_id, p_.team_id, p_.hire_date,
        p_.location, p_.target_role_id,
    )}  # fmt: skip
    for p in unknown:
        if p.id not in stored:  # a new person
            continue
        _, email, role_id, manager_id, team, hire_date, location, target_role_id = stored[p.id]
        p.target_role_id = p.target_role_id or target_role_id
        p.email = p.email or email
        p.role_id = p.role_id or role_id
        p.manager_id = p.manager_id or manager_id
        p.team = p.team or team
        p.hire_date = p.hire_date or hire_date
        p.location = p.location or location


def _keep_unknown_of_teams(conn: Connection, teams: list[TeamRec]) -> None:
    """An empty cell is unknown, as for people: a stored team keeps the parent, function and manager the file
    leaves empty; a new one has no parent, no function ("") and no manager."""
    unknown = [team for team in teams if team.parent_id is None or team.function is None or team.manager_id is None]
    tm_ = t.teams.c
    stored = {tid: (parent, function) for tid, parent, function in select_among(
        conn, [team.id for team in unknown], tm_.id, tm_.parent_id, tm_.function
    )}  # fmt: skip
    tmc = t.team_managers.c
    unmanaged = [team.id for team in unknown if team.manager_id is None]
    managers = {tid: pid for tid, pid in select_among(conn, unmanaged, tmc.team_id, tmc.person_id)}
    for team in teams:
        parent, function = stored.get(team.id, (None, ""))
        team.parent_id = team.parent_id or parent
        team.function = team.function or function
        team.manager_id = team.manager_id or managers.get(team.id)


def _check_teams(
    conn: Connection, teams: list[TeamRec], person_ids: set[str], issues: Issues, refused: Sequence[TeamRec] = ()
) -> None:
    """A team's parent is a team of the database or of the import's teams files (a parent may come later in
    the file), and the parents the teams will have form a tree: a cycle would make the org-unit subtrees of HR
    accounts (policy.hr_units) endless. A manager is a person of the database or of the import. The teams of
    rows ``refused`` (never written) have their parent and manager looked up too."""
    parents: dict[str, str | None] = {k: v for k, v in conn.execute(select(t.teams.c.id, t.teams.c.parent_id))}
    defined = {team.id for team in teams}
    row_of: dict[str, TeamRec] = {}
    for team in (*teams, *refused):
        if team.parent_id and team.parent_id not in parents and team.parent_id not in defined:
            issues.add(
                team.file,
                team.row,
                "parent_id",
                f"unknown team {team.parent_id!r} (a parent is a team stored or defined in a teams file)",
            )
        if team.manager_id and team.manager_id not in person_ids:
            issues.add(team.file, team.row, "manager_id", f"unknown person {team.manager_id!r}")
    for team in teams:
        row_of.setdefault(team.id, team)
        parents[team.id] = team.parent_id
    while cycle := rules.find_manager_cycle(parents):  # the same walk: each team has one parent
        members = cycle[:-1]
        # Reported at the first of its teams the import gives (a cycle of stored teams alone, which no path
        # of the app makes, is not this import's problem).
        if in_file := [m for m in members if m in row_of]:
            at = row_of[min(in_file, key=lambda m: (row_of[m].file, row_of[m].row))]
            issues.add(at.file, at.row, "parent_id", f"parent cycle: {' → '.join(cycle)}")
        for m in members:  # break it and look for further cycles
            parents[m] = None


def _fill_capacity(
    conn: Connection, people: list[PersonRec], stored_ids: set[str], issues: Issues, settings: Settings
) -> None:
    """Capacity and home-role share left empty: a stored person's stored values, a new person's defaults;
    then the two together must leave time for moves."""
    p_ = t.people.c
    unset = [p.id for p in people if p.id in stored_ids and (p.capacity is None or p.home_min is None)]
    stored = {pid: (cap, home) for pid, cap, home in select_among(
        conn, unset, p_.id, p_.capacity_percent, p_.home_role_min_percent
    )}  # fmt: skip
    defaults = (settings.default_capacity_percent, settings.default_home_role_min_percent)
    for p in people:
        cap, home = stored.get(p.id, defaults)
        p.capacity = cap if p.capacity is None else p.capacity
        p.home_min = home if p.home_min is None else p.home_min
        if p.home_min < p.capacity or p.capacity_unread:
            continue
        # Named at the value the row gives, the other one said to be stored (or the default): a row giving a
        # capacity of 50 beside a stored home share of 60 was refused at home_role_min_percent, a column the
        # file may not even have. A row that gives neither changes neither (stored values are checked when set).
        kept = "stored" if p.id in stored_ids else "the default"
        if p.home_min_given:
            where = "" if p.capacity_given else f", {kept}"
            issues.add(
                p.file, p.row, "home_role_min_percent",
                f"{p.home_min} leaves no time for moves (capacity_percent {p.capacity}{where})",
            )  # fmt: skip
        elif p.capacity_given:
            issues.add(
                p.file, p.row, "capacity_percent",
                f"{p.capacity} leaves no time for moves beside the home role's share (home_role_min_percent "
                f"{p.home_min}, {kept})",
            )  # fmt: skip


def _check_ids_across_files(plan: Plan, issues: Issues, sources: Sequence[Source]) -> None:
    """The same id in two files of one kind (each file is checked on its own while it is parsed), a moves
    row refused for another problem included."""
    columns = {TeamRec: "team_id", RoleRec: "role_id", PersonRec: "person_id", MoveRec: "move_id"}
    columns[RefusedMove] = "move_id"
    order = {src.file: i for i, src in enumerate(sources)}

    def at(m: MoveRec | RefusedMove) -> tuple[int, int]:
        return order[m.file], m.row

    # Both lists are in the order of the files and their rows: merged so, the first of an id comes first.
    accepted: Iterable[MoveRec | RefusedMove] = plan.moves
    refused = (m for m in plan.refused_moves if m.id and not m.duplicate)  # a duplicate: reported in its file
    moves = heapq.merge(accepted, refused, key=at)
    records: Iterable[TeamRec | RoleRec | PersonRec | MoveRec | RefusedMove]
    for records in (plan.team_recs, plan.roles, plan.people, moves):
        first: dict[str, TeamRec | RoleRec | PersonRec | MoveRec | RefusedMove] = {}
        for rec in records:
            seen = first.setdefault(rec.id, rec)
            if seen is not rec and seen.file != rec.file:
                column = columns[type(rec)]
                issues.add(
                    rec.file, rec.row, column, f"duplicate id {rec.id!r} (first in {seen.file} on row {seen.row})"
                )


def _check_teams_known(conn: Connection, plan: Plan, issues: Issues) -> None:
    """With ``known_teams`` (an HRIS sync whose teams are kept elsewhere), a team neither the database nor
    a teams file of the import holds is an error naming the row, instead of a new team named after its id
    (a typo'd host team, T-NOPE, became a team of its own)."""
    refs: list[tuple[str, int, str, str]] = [
        *((r.file, r.row, "team", r.team) for r in (*plan.roles, *plan.refused_roles) if r.team),
        *((p.file, p.row, "team", p.team) for p in (*plan.people, *plan.refused_people) if p.team),
        *((m.file, m.row, "host_team", m.host_team) for m in plan.moves if m.host_team),
        *((m.file, m.row, "host_team", m.host_team) for m in plan.refused_moves if m.host_team),
    ]
    # A team a teams file of this import defines is known: that file is where teams come from.
    known = {team.id for team in plan.team_recs} | _ids(conn, t.teams.c.id, {team for *_, team in refs})
    for file, row, column, team in refs:
        if team not in known:
            issues.add(file, row, column, f"unknown team {team!r} (teams are not created with known_teams)")


def _check_emails(conn: Connection, people: list[PersonRec], issues: Issues) -> None:
    """An e-mail address belongs to one person (compared without case, as mail systems do): the sign-in
    accounts, the notifications and an HRIS sync all find a person by it, and two people with one address
    were merged or mixed up there. Checked on the people as they will be once the import is written: a
    stored person named in the import holds the address the file gives them (two people may swap theirs)."""
    if not any(p.email for p in people):
        return
    importing = {p.id for p in people}
    holder: dict[str, tuple[str, PersonRec | None]] = {}
    stored = select(t.people.c.id, t.people.c.email).where(t.people.c.email != "")
    for pid, email in conn.execute(stored):
        if pid not in importing:
            holder.setdefault(email.lower(), (pid, None))
    for p in people:
        if not p.email:
            continue
        other, rec = holder.setdefault(p.email.lower(), (p.id, p))
        if other == p.id:  # the same person twice is the duplicate id's error
            continue
        where = "already stored" if rec is None else f"{'' if rec.file == p.file else rec.file + ' '}row {rec.row}"
        issues.add(p.file, p.row, "email", f"e-mail {p.email!r} is also {other}'s ({where})")


def _check_manager_cycles(conn: Connection, people: list[PersonRec], issues: Issues) -> None:
    managers: dict[str, str | None] = {k: v for k, v in conn.execute(select(t.people.c.id, t.people.c.manager_id))}
    row_of = {}
    for p in people:
        managers[p.id] = p.manager_id
        row_of[p.id] = p
    reported: set[str] = set()
    while True:
        cycle = rules.find_manager_cycle(managers)
        if not cycle:
            return
        members = cycle[:-1]
        in_file = [m for m in members if m in row_of]
        at = min(in_file, key=lambda m: (row_of[m].file, row_of[m].row)) if in_file else members[0]
        if at not in reported:
            rec = row_of.get(at) or people[0]  # a cycle only closes through someone in this import
            issues.add(rec.file, rec.row, "manager_id", f"manager cycle: {' → '.join(cycle)}")
            reported.add(at)
        for m in members:  # break it and look for further cycles
            managers[m] = None


def _disjoint(intervals: list[rules.Interval]) -> bool:
    ordered = sorted(intervals, key=lambda iv: iv.start)
    return all(b.start > a.end for a, b in pairwise(ordered))


def _check_time(
    conn: Connection,
    plan: Plan,
    people_in_file: Mapping[str, PersonRec],
    issues: Issues,
    settings: Settings,
) -> None:
    """Capacity and full-time overlap per person, over the file's moves and those already stored. A row
    refused while parsed counts with the time it gives, if that read (its overlaps are problems too)."""
    by_person: dict[str, list[rules.Interval]] = defaultdict(list)
    row_of: dict[str, tuple[str, int]] = {}  # (file, row) of each move in this import
    for m in plan.moves:
        if m.status in OCCUPYING_STATUSES:
            by_person[m.person_id].append(rules.Interval(m.id, m.start, m.end, m.percent))
            row_of[m.id] = (m.file, m.row)
    file_ids = {m.id for m in plan.moves}
    for r in plan.refused_moves:
        file_ids.add(r.id)  # what the file has of a stored move replaces it, whether its time read or not
        if r.interval is not None and r.status in OCCUPYING_STATUSES and r.person_id and r.id:
            by_person[r.person_id].append(r.interval)
            row_of[r.id] = (r.file, r.row)
    # Everyone in a people file too: a new capacity must still hold the moves already stored.
    persons = list(by_person) + [pid for pid in people_in_file if pid not in by_person]
    stored: dict[str, tuple[int, int]] = {}  # person → stored (capacity_percent, home_role_min_percent)
    occupying = [s.value for s in OCCUPYING_STATUSES]
    c = t.moves.c
    for i in range(0, len(persons), 5_000):
        chunk = persons[i : i + 5_000]
        for mid, pid, start, end, pct in conn.execute(
            select(c.id, c.person_id, c.start, c.end, c.percent_time).where(
                among(conn, c.person_id, chunk), c.status.in_(occupying)
            )
        ):
            if mid not in file_ids:
                by_person[pid].append(rules.Interval(mid, start, end, pct))
        for pid, cap, home in conn.execute(
            select(t.people.c.id, t.people.c.capacity_percent, t.people.c.home_role_min_percent).where(
                among(conn, t.people.c.id, chunk)
            )
        ):
            stored[pid] = (cap, home)
    defaults = (settings.default_capacity_percent, settings.default_home_role_min_percent)
    for pid, intervals in by_person.items():
        if (person := people_in_file.get(pid)) is not None:
            cap = int(person.capacity or 0) - int(person.home_min or 0)
        else:
            kept_cap, kept_home = stored.get(pid, defaults)
            cap = kept_cap - kept_home
        # A capacity that did not read, or that leaves no time for moves (_fill_capacity), is a problem already:
        # not held against the moves (at 0% or less, it reported them too). Full-time overlaps still are.
        unknown = person is not None and (
            person.capacity_unread or int(person.home_min or 0) >= int(person.capacity or 0)
        )
        if (unknown or all(iv.percent <= cap for iv in intervals)) and _disjoint(intervals):
            continue  # the common case: moves one after another, each within capacity
        ivs = {iv.move_id: iv for iv in intervals}
        flagged: set[str] = set()  # a full-time overlap already explains the overload: report it once
        for a, b in rules.full_time_overlaps(intervals):
            later = max((a, b), key=lambda m: (ivs[m].start, m in row_of, m))
            other = b if later == a else a
            if later in row_of:
                flagged.add(later)
                issues.add(*row_of[later], "start", f"full-time move {later} overlaps full-time move {other}")
        if unknown:
            continue
        # The capacity is named with where it comes from: a moves file has neither column, and a people file
        # may give one of the two (or neither: the stored values, or a new person's defaults).
        basis = _capacity_basis(pid, person, stored, defaults)
        for ov in rules.overloads(intervals, cap):
            culprits = [m for m in ov.move_ids if m in row_of]
            if not culprits:
                continue  # stored moves alone: a people file's new capacity is checked against them below
            at = max(culprits, key=lambda m: (ivs[m].start, row_of[m]))
            if at in flagged:
                continue
            issues.add(
                *row_of[at],
                "percent_time",
                f"time share over capacity: {' + '.join(f'{m} {ivs[m].percent}%' for m in ov.move_ids)} = "
                f"{ov.total_percent}% on {ov.on.isoformat()}, capacity for moves {cap}% = {basis}",
            )
        if person is not None:
            stored_moves = [iv for iv in intervals if iv.move_id not in row_of]
            _check_new_capacity(person, cap, basis, stored_moves, issues, stored.get(pid))


def _capacity_basis(
    pid: str, person: PersonRec | None, stored: Mapping[str, tuple[int, int]], defaults: tuple[int, int]
) -> str:
    """A person's capacity for moves as the difference it is, each value said to come from the people file's
    row that gives it, else stored, else the default (for a problem's message)."""
    if person is None:
        if pid in stored:
            cap, home = stored[pid]
            return f"{pid}'s stored capacity_percent {cap} - home_role_min_percent {home}"
        return f"the default capacity_percent {defaults[0]} - home_role_min_percent {defaults[1]}"  # unknown person
    kept = "stored" if pid in stored else "the default"
    where = f"{person.file} row {person.row}"
    return (
        f"capacity_percent {person.capacity} ({where if person.capacity_given else kept}) - "
        f"home_role_min_percent {person.home_min} ({where if person.home_min_given else kept})"
    )


def _check_new_capacity(
    person: PersonRec,
    cap: int,
    basis: str,
    stored_moves: Sequence[rules.Interval],
    issues: Issues,
    was: tuple[int, int] | None,
) -> None:
    """A people file's capacity or home share must leave time for the person's stored moves, past ones too:
    the file's moves are held to it whatever their dates, so a capacity cut below moves that ran together
    years ago left an export that no longer imported. (Only moves that run together count: the day named is
    one on which every move listed runs.) Reported at the column the row gives — the one it changes, if it
    gives both — never at one the file does not have; a row that gives neither changes nothing here."""
    old_cap, old_home = (None, None) if was is None else was
    given = [
        (column, value, old)
        for column, value, old, is_given in (
            ("capacity_percent", person.capacity, old_cap, person.capacity_given),
            ("home_role_min_percent", person.home_min, old_home, person.home_min_given),
        )
        if is_given
    ]
    found = rules.overloads(stored_moves, cap) if given else []
    if not found:
        return
    ov = found[0]
    shares = {iv.move_id: iv.percent for iv in stored_moves}
    column = next((column for column, value, old in given if value != old), given[0][0])
    issues.add(
        person.file,
        person.row,
        column,
        f"the stored moves' time share (past ones too, as their re-import is held to it) is over the capacity "
        f"for moves: {' + '.join(f'{m} {shares[m]}%' for m in ov.move_ids)} = {ov.total_percent}% on "
        f"{ov.on.isoformat()}, capacity for moves {cap}% = {basis}",
    )


# Stored move statuses past the step a hire date holds: the move holds or held time, or never ran.
_SETTLED = frozenset(s.value for s in OCCUPYING_STATUSES | NEVER_RAN_STATUSES)


def _check_hire_dates(
    conn: Connection,
    plan: Plan,
    people_in_file: Mapping[str, PersonRec],
    db_people: set[str],
    person_ids: set[str],
    stored_starts: Mapping[str, tuple[str, dt.date, str]],
    issues: Issues,
    today: dt.date,
    settings: Settings,
) -> None:
    """No move starts before its person's hire date, as in the app (:func:`rules.check_after_hire`). A moves
    row is held to the hire date of the person's row in a people file of the import, else to the stored one;
    a people row that changes a stored person's hire date, to the person's stored moves the import does not
    replace. Such a move is a typo'd date (a year off) that would be stored as the person's history. A hire
    date that did not read holds nothing (it is a problem already). A hire date after today is a pre-hire's:
    held to the same rule, and is at most ``settings.prehire_max_days`` ahead (:func:`rules.prehire_problem`:
    years ahead, it is a typo'd year).

    Only what the import changes is held to it. A moves row as stored (same person, same start, and the
    stored status, or any status once the stored move holds or held time or never ran) of a person whose
    hire date the import leaves as it is, and a people row giving the stored hire date, are not: data
    stored before the app checked the rule (a move proposed in the app before its person's hire date) goes
    back and forth between the export and the import, and an unchanged people sync is taken. A move that
    never ran (declined, withdrawn: :data:`NEVER_RAN_STATUSES`) holds nothing either. A new hire date is held
    to the stored moves that hold or held time (:data:`OCCUPYING_STATUSES`); a request still pending is held
    to it when approved (:func:`moves.check_hired`), and so when a row approves it (or makes it active): the
    stored status is what ``stored_starts`` gives (move id → person, start, status)."""
    # A refused row whose start read is held to it too (every problem in one report); a duplicate's start
    # is its first row's.
    moves: Sequence[MoveRec | RefusedMove] = (*plan.moves, *(r for r in plan.refused_moves if r.start))
    p_ = t.people.c
    only_stored = {m.person_id for m in moves if m.person_id in person_ids and m.person_id not in people_in_file}
    asked = only_stored | (db_people & people_in_file.keys())
    stored = {pid: day for pid, day in select_among(conn, asked, p_.id, p_.hire_date)}
    hired: dict[str, tuple[dt.date, str]] = {}  # person → (hire date, where it comes from)
    for pid in only_stored:
        if (day := stored.get(pid)) is not None:
            hired[pid] = (day, "as stored")
    changed: set[str] = set()  # the people whose hire date the import gives, other than the stored one
    for p in people_in_file.values():
        # A row that leaves the hire date empty keeps the stored one (_keep_unknown_of_people).
        if p.hire_date is None or p.hire_date_unread:
            continue
        hired[p.id] = (p.hire_date, f"{p.file} row {p.row}" if p.hire_date_given else "as stored")
        if p.hire_date_given and (p.id not in db_people or stored.get(p.id) != p.hire_date):
            changed.add(p.id)
            if (problem := rules.prehire_problem(p.hire_date, today, settings.prehire_max_days)) is not None:
                issues.add(p.file, p.row, "hire_date", problem)
    for m in moves:  # an unknown person (a problem of its own) has no hire date here
        found = hired.get(m.person_id)
        if found is None or m.start is None or m.start >= found[0] or m.status in NEVER_RAN_STATUSES:
            continue
        kept = stored_starts.get(m.id)
        if (
            m.person_id not in changed
            and kept is not None
            and kept[:2] == (m.person_id, m.start)
            and (m.status == kept[2] or kept[2] in _SETTLED)
        ):
            continue  # as stored, and so is the hire date; a pending request stepping to approved is not
        day, where = found
        issues.add(
            m.file,
            m.row,
            "start",
            f"a move cannot start before its person's hire date ({m.person_id} hired {day.isoformat()}, "
            f"{where}): {m.start.isoformat()}",
        )
    dated = {pid: people_in_file[pid] for pid in changed if pid in db_people}
    if not dated:
        return
    _check_hire_in_role_history(conn, dated, issues)
    # The stored moves of the people whose hire date the file changes. Their earliest start first, one row per
    # person: only the few whose earliest move starts before the file's date have their moves read.
    c = t.moves.c
    occupying = [s.value for s in OCCUPYING_STATUSES]
    ids = sorted(dated)
    early = []
    for i in range(0, len(ids), 5_000):
        chunk = ids[i : i + 5_000]
        query = (
            select(c.person_id, func.min(c.start))
            .where(among(conn, c.person_id, chunk), c.status.in_(occupying))
            .group_by(c.person_id)
        )
        early += [pid for pid, start in conn.execute(query) if start < dated[pid].hire_date]
    if not early:
        return
    replaced = {m.id for m in plan.moves} | {r.id for r in plan.refused_moves}  # the file's version counts
    earliest: dict[str, tuple[dt.date, str]] = {}  # person → (start, id) of their earliest stored move
    for pid, mid, start, status in select_among(conn, early, c.person_id, c.id, c.start, c.status):
        if mid in replaced or str(status) not in occupying:
            continue
        if pid not in earliest or (start, mid) < earliest[pid]:
            earliest[pid] = (start, mid)
    for pid, (start, mid) in sorted(earliest.items()):
        p = dated[pid]
        if p.hire_date is not None and start < p.hire_date:
            issues.add(
                p.file,
                p.row,
                "hire_date",
                f"a hire date cannot be after the start of the person's stored move {mid} ({start.isoformat()}): "
                f"{p.hire_date.isoformat()}",
            )


# A record of a person's role history: (start, id, reason, role, end).
_Assignment = tuple[dt.date, int, AssignmentReason, str, "dt.date | None"]


def _role_histories(conn: Connection, people: Iterable[str]) -> dict[str, list[_Assignment]]:
    """The stored role history of each of ``people`` who has one, oldest first."""
    a_ = t.role_assignments.c
    found: dict[str, list[_Assignment]] = defaultdict(list)
    rows = select_among(conn, people, a_.person_id, a_.start, a_.id, a_.reason, a_.role_id, a_.end)
    for pid, start, aid, reason, role, end in rows:
        found[pid].append((start, aid, AssignmentReason(reason), role, end))
    return {pid: sorted(records) for pid, records in found.items()}


def _hire_of(history: Sequence[_Assignment]) -> _Assignment | None:
    """The record of the person's hire in their role history: the first with the reason hire (as a rule the
    only one), or None (someone stored without a role has no history)."""
    return next((record for record in history if record[2] is AssignmentReason.HIRE), None)


def _check_hire_in_role_history(conn: Connection, dated: Mapping[str, PersonRec], issues: Issues) -> None:
    """A stored person's hire date the import changes moves the hire in their role history with it
    (:func:`_move_hires`): held to the later role changes that history already has (a promotion, a transfer,
    a conversion, a revert, from the day after the new hire date on), as it is to their stored moves, so that
    the history never says they changed role before they were hired. On the day of such a change is fine: a
    conversion on a person's first day is recorded so. What the history holds is not judged otherwise (data
    stored before the app checked it goes back and forth); only a change of the hire date is refused."""
    for pid, history in sorted(_role_histories(conn, dated).items()):
        p = dated[pid]
        day = p.hire_date
        if day is None:
            continue
        hire = _hire_of(history)
        later = [record for record in history if record is not hire and record[0] < day]
        problem = None
        if later:  # the first of them is named
            start, _aid, reason, role, _end = later[0]
            into = "into" if reason is AssignmentReason.HIRE else "to"
            problem = f"the person's {reason.value} {into} {role} on {start.isoformat()}"
        elif hire is not None and hire[4] is not None and hire[4] < day:  # ended, and nothing after it
            problem = f"the end of the person's hire into {hire[3]} ({hire[4].isoformat()})"
        if problem is not None:
            issues.add(
                p.file,
                p.row,
                "hire_date",
                f"a hire date cannot be after {problem} in their role history: {day.isoformat()}",
            )


# ---------------------------------------------------------------------------------------------- writing


def _differ(pairs: Mapping[str, tuple[Any, Any]]) -> list[str]:
    """The names whose (stored, file) values differ; numbers compared as numbers, text as text."""
    out = []
    for name, (old, new) in pairs.items():
        if isinstance(old, (int, float)) and isinstance(new, (int, float)) and not isinstance(old, bool):
            same = abs(float(old) - float(new)) < 1e-9
        else:
            same = (old.value if isinstance(old, enum.Enum) else old) == (
                new.value if isinstance(new, enum.Enum) else new
            )
        if not same:
            out.append(name)
    return out


def merged_extra(stored: Mapping[str, str] | None, given: Mapping[str, str] | None) -> dict[str, str] | None:
    """A record's columns beyond the format after an import: the file's cells replace the stored values
    column by column, an empty cell clears its column, and columns the file does not have stay as stored
    (another system's export may carry other columns). None when nothing is left."""
    if not given:
        return dict(stored) if stored else None
    out = dict(stored or {})
    for name, value in given.items():
        if value:
            out[name] = value
        else:
            out.pop(name, None)
    return out or None


def _extra_changes(old: Mapping[str, str] | None, new: Mapping[str, str] | None) -> list[str]:
    """The extra columns whose values differ, as ``extra:name`` (an extra column may be called like a
    field: ``capacity`` must not read as the person's capacity in the audit log)."""
    a, b = old or {}, new or {}
    return sorted(f"extra:{k}" for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def _changed_fields(
    conn: Connection, plan: Plan, kept: _KeptMoveData
) -> tuple[dict[str, dict[str, list[str]]], dict[str, dict[str, dict[str, str] | None]]]:
    """Per kind, the records that exist and that the file changes, with the fields it changes, and the
    columns beyond the format each existing record will hold (:func:`merged_extra`). What the file leaves
    empty and a re-import keeps (a rating, a decision, gains) is no change."""
    out: dict[str, dict[str, list[str]]] = {kind: {} for kind in KINDS}
    extras: dict[str, dict[str, dict[str, str] | None]] = {kind: {} for kind in KEEPS_EXTRA}

    def stored(key: Any, ids: Iterable[str], *cols: Any) -> dict[str, Any]:
        return {r[0]: r for r in select_among(conn, ids, key, *cols)}

    r_, p_, m_, tm_ = t.roles.c, t.people.c, t.moves.c, t.teams.c
    if plan.team_recs:
        team_ids = sorted(plan.existing["teams"] & {team.id for team in plan.team_recs})
        old_teams = stored(tm_.id, team_ids, tm_.name, tm_.parent_id, tm_.function)
        tmc = t.team_managers.c
        managers = {tid: pid for tid, pid in select_among(conn, team_ids, tmc.team_id, tmc.person_id)}
        for team in plan.team_recs:
            if (o := old_teams.get(team.id)) is not None:
                pairs: dict[str, tuple[Any, Any]] = {
                    "name": (o.name, team.name),
                    "function": (o.function, team.function),
                }
                pairs |= {
                    "parent_id": (o.parent_id, team.parent_id),
                    "manager_id": (managers.get(team.id), team.manager_id),
                }
                if fields := _differ(pairs):
                    out["teams"][team.id] = fields
    old_roles = stored(
        r_.id, sorted(plan.existing["roles"]), r_.title, r_.onet_code, r_.level, r_.team_id, r_.critical, r_.extra
    )
    for r in plan.roles:
        if (o := old_roles.get(r.id)) is not None:
            pairs = {"title": (o.title, r.title), "onet_code": (o.onet_code, r.onet_code)}
            pairs["level"] = (o.level, r.level)
            pairs |= {"team": (o.team_id, r.team), "critical": (bool(o.critical), r.critical)}
            extras["roles"][r.id] = merged = merged_extra(o.extra, r.extra)
            if fields := _differ(pairs) + _extra_changes(o.extra, merged):
                out["roles"][r.id] = fields
    levels = {
        f"{rid}|{sid}": lvl
        for rid, sid, lvl in conn.execute(
            select(t.role_skills.c.role_id, t.role_skills.c.skill_id, t.role_skills.c.level).where(
                t.role_skills.c.role_id.in_({r.role_id for r, _sid in plan.role_skills})
            )
        )
    }
    for rs, sid in plan.role_skills:
        key = f"{rs.role_id}|{sid}"
        if key in levels and _differ({"level": (levels[key], rs.level)}):
            out["role_skills"][key] = ["level"]
    old_people = stored(
        p_.id,
        sorted(plan.existing["people"]),
        p_.name, p_.email, p_.role_id, p_.manager_id, p_.team_id, p_.hire_date, p_.location,
        p_.capacity_percent, p_.home_role_min_percent, p_.extra, p_.target_role_id,
    )  # fmt: skip
    for p in plan.people:
        if (o := old_people.get(p.id)) is not None:
            pairs = {"name": (o.name, p.name), "email": (o.email, p.email), "role_id": (o.role_id, p.role_id)}
            pairs |= {"manager_id": (o.manager_id, p.manager_id), "team": (o.team_id, p.team)}
            pairs |= {"hire_date": (o.hire_date, p.hire_date), "location": (o.location, p.location)}
            pairs |= {"capacity": (o.capacity_percent, p.capacity), "home_min": (o.home_role_min_percent, p.home_min)}
            pairs |= {"target_role_id": (o.target_role_id, p.target_role_id)}
            extras["people"][p.id] = merged = merged_extra(o.extra, p.extra)
            if fields := _differ(pairs) + _extra_changes(o.extra, merged):
                out["people"][p.id] = fields
    ids = sorted(plan.existing["moves"])
    if not ids:
        return out, extras
    old_moves = stored(
        m_.id,
        ids,
        m_.person_id, m_.kind, m_.title, m_.host_team_id, m_.start, m_.end, m_.percent_time, m_.status,
        m_.target_role_id, m_.extra,
    )  # fmt: skip
    statements_of: dict[str, list[tuple[int, str]]] = defaultdict(list)  # grouped once: linear in the moves
    for (mid, position), (statement, _rating, _evidence) in kept.criteria.items():
        statements_of[mid].append((position, statement))
    for m in plan.moves:
        if (o := old_moves.get(m.id)) is None:
            continue
        # The common case of a nightly sync, the move as stored, takes one tuple comparison (the kinds and
        # statuses are str enums: equal to the stored strings); a difference is then named field by field.
        mine = (m.person_id, m.kind, m.title, m.host_team, m.start, m.end, m.percent, m.status, m.target_role_id)
        fields = []
        if tuple(o[1:10]) != mine:
            pairs = {"person_id": (o.person_id, m.person_id), "kind": (o.kind, m.kind), "title": (o.title, m.title)}
            pairs |= {"host_team": (o.host_team_id, m.host_team), "start": (o.start, m.start), "end": (o.end, m.end)}
            pairs |= {"percent_time": (o.percent_time, m.percent), "status": (o.status, m.status)}
            pairs |= {"target_role_id": (o.target_role_id, m.target_role_id)}
            fields = _differ(pairs)
        statements = [statement for _, statement in sorted(statements_of.get(m.id, []))]
        if statements != m.criteria:
            fields.append("success_criteria")
        elif any(r is not None and r != kept.criteria[(m.id, i)][1] for i, r in enumerate(m.ratings, 1)):
            fields.append("criteria_ratings")
        if m.decision is not None and _differ({"d": (kept.decision(m.id), m.decision)}):
            fields.append("outcome")
        gains = plan.move_gains.get(m.id)
        if gains and sorted(gains) != sorted(kept.gains.get(m.id, [])):
            fields.append("skills_gained")
        if m.extra is not None or o.extra is not None:
            extras["moves"][m.id] = merged = merged_extra(o.extra, m.extra)
            fields += _extra_changes(o.extra, merged)
        if fields:
            out["moves"][m.id] = fields
    return out, extras


def _write(
    conn: Connection,
    plan: Plan,
    sources: Sequence[Source],
    actor: str,
    progress: Progress,
    settings: Settings,
    local_today: dt.date,
) -> ImportSummary:
    total = len(plan.moves) + len(plan.people) + len(plan.roles) + len(plan.role_skills) + len(plan.team_recs)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        progress("write", done, total)

    w = BulkWriter(conn)
    summary = ImportSummary()
    now = utcnow()
    # What the stored versions of re-imported moves hold, read once, before anything is written: to tell
    # what the file changes, and to keep what the format does not carry.
    kept = _KeptMoveData.read(conn, plan.existing["moves"]) if plan.existing["moves"] else _KeptMoveData()
    changed, extras = _changed_fields(conn, plan, kept)
    # From the bulk threshold on (PostgreSQL), the move tables' foreign keys are checked once at the end: dropped
    # first, which locks whole the tables they name (people among them). Taken before any row of the people, as
    # every row lock: taken after, the import waited for plan-all's store, which held other people's rows (the
    # table share that goes with them) and waited for the rows the import held (a deadlock).
    bulk = bool(plan.moves) and len(plan.moves) >= settings.bulk_import_threshold
    with w.foreign_keys_checked_at_end(MOVE_TABLES) if bulk else contextlib.nullcontext():
        _lock_people(conn, plan, kept, changed)

        def extra_of(kind: str, rec: RoleRec | PersonRec | MoveRec) -> dict[str, str] | None:
            # An existing record's merge with what it stored; a new one's non-empty cells.
            found = extras[kind]
            return found[rec.id] if rec.id in found else merged_extra(None, rec.extra)

        # Teams first: roles, people and moves name them. A team only named (by a role, a person or a move), that
        # neither the database nor a teams file holds, is created named after its id (listed in the summary).
        new_teams = sorted(plan.teams - plan.existing["teams"] - {team.id for team in plan.team_recs})
        if plan.team_recs:
            _write_teams(conn, w, plan, changed["teams"])
            tick(len(plan.team_recs))
        if new_teams:
            w.insert(t.teams, ["id", "name", "function", "parent_id"], [(x, x, "", None) for x in new_teams])
        summary.teams_created = new_teams
        for src in sources:
            if names := [name for name, _ in src.extra_columns()]:
                summary.extra_columns[src.kind] = sorted({*summary.extra_columns.get(src.kind, []), *names})
        if plan.new_skills:
            w.upsert(t.skills, ["id", "name", "kind"], ["id"], plan.new_skills)
        if plan.roles:
            w.upsert(
                t.roles,
                ["id", "title", "onet_code", "level", "team_id", "critical", "extra"],
                ["id"],
                [(r.id, r.title, r.onet_code, r.level, r.team, r.critical, extra_of("roles", r)) for r in plan.roles],
            )
            tick(len(plan.roles))
        if plan.role_skills:
            w.upsert(
                t.role_skills,
                ["role_id", "skill_id", "level"],
                ["role_id", "skill_id"],
                [(r.role_id, sid, r.level) for r, sid in plan.role_skills],
            )
            tick(len(plan.role_skills))
        benefits_cleared: dict[str, dict[str, int]] = {}
        if plan.people:
            # Role changes are dated the local day, as the tracker dates them (the UTC date of ``now`` started a
            # role changed in the evening west of Greenwich tomorrow).
            _write_people(conn, w, plan, local_today, extra_of, changed["people"], now)
            benefits_cleared = _forget_plan_benefits(conn, changed["people"])
            tick(len(plan.people))
        if plan.team_recs:  # managers once the people are written (a manager may be new in this import)
            _write_team_managers(w, plan, changed["teams"])
        if plan.moves:
            _write_moves(conn, w, plan, kept, changed["moves"], extra_of, actor, now, local_today, tick)
    # A renamed team or role changes the people and moves that show its name (the directory's team and role,
    # a move's host team), a renamed person their moves: stamped in this transaction, set-based. Only rows
    # this import has not written: those hold its time already, from their INSERT or UPDATE (changes.stamp).
    changes.stamp_renamed(
        conn,
        teams=[tid for tid, fields in changed["teams"].items() if "name" in fields],
        roles=[rid for rid, fields in changed["roles"].items() if "title" in fields],
        people=[pid for pid, fields in changed["people"].items() if "name" in fields],
        now=now,
    )
    by_kind: dict[str, Sequence[Any]] = {
        "teams": plan.team_recs,
        "roles": plan.roles,
        "role_skills": plan.role_skills,
        "people": plan.people,
        "moves": plan.moves,
    }
    # Every kind the files hold is counted, with zeros if they hold none (a header-only moves.csv, an
    # export's "moves": []): left out, the CLI and the API said nothing at all about that file.
    present = {src.kind for src in sources}
    for kind in KINDS:
        recs = by_kind[kind]
        if not recs and kind not in present:
            continue
        existing = plan.existing.get(kind, set())
        ids = [f"{r[0].role_id}|{r[1]}" if kind == "role_skills" else r.id for r in recs]
        again = sum(1 for i in ids if i in existing)
        summary.updated[kind] = len(changed[kind])
        summary.unchanged[kind] = again - summary.updated[kind]
        summary.created[kind] = len(recs) - again
    # One audit event per file (what, from where, how many), and one per updated record: changes to
    # existing records are what an auditor looks for; a fresh bulk load is described by its file.
    audit_rows: list[tuple[Any, ...]] = []
    for src in sources:
        audit_rows.append(
            (
                now,
                actor,
                "import.file",
                "import",
                src.file,
                {
                    "kind": src.kind,
                    "sha256": src.digest,
                    "rows": len(src.rows),
                    "created": summary.created.get(src.kind, 0),
                    "updated": summary.updated.get(src.kind, 0),
                    "unchanged": summary.unchanged.get(src.kind, 0),
                    "teams_created": new_teams,
                    "extra_columns": [name for name, _ in src.extra_columns()],
                },
            )
        )
    singular = {"teams": "team", "roles": "role", "people": "person", "moves": "move"}
    for kind, label in singular.items():
        # Only records the file changed, with what it changed: re-importing an unchanged export wrote one
        # empty event per record.
        for rid, fields in sorted(changed[kind].items()):
            details: dict[str, Any] = {"changed": fields}
            if kind == "people" and rid in benefits_cleared:  # as catalogue.set_target_role records them
                details["plan_benefits_cleared"] = benefits_cleared[rid]
            audit_rows.append((now, actor, f"{label}.updated_by_import", label, rid, details))
    for team in new_teams:
        audit_rows.append((now, actor, "team.created_by_import", "team", team, {}))
    w.insert(t.audit_events, ["at", "actor", "action", "entity_type", "entity_id", "details"], audit_rows)
    return summary


def _lock_people(
    conn: Connection, plan: Plan, kept: _KeptMoveData, changed: Mapping[str, Mapping[str, list[str]]]
) -> None:
    """Lock the stored people rows the import is about to write, in person-id order, before it writes
    anything (PostgreSQL; SQLite's writer holds the whole database).

    plan-all's store locks the people it planned for in person-id order (planning.changed_while_planning), as
    every use case locks a person before their moves. The import wrote people in the order of its file
    (the upsert), and then stamped more of them (the people of a renamed team or role, of a reassigned move,
    of a move whose gains are written back): holding P2's row and waiting for P1's, while the store held P1
    and waited for P2, one of the two failed with a deadlock. Taken here in the store's order and mode (FOR
    NO KEY UPDATE: the import changes no key column, so what it writes later takes no stronger lock), the
    import waits for a store before it holds any of them, or the store waits for the import."""
    if conn.dialect.name != "postgresql":
        return
    p_ = t.people.c
    wanted = set(changed["people"])
    # Whom the moves it writes change (see _write_moves): both people of a reassigned move, and the person of
    # a move whose gains are written back to their profile.
    written = [m for m in plan.moves if m.id in changed["moves"] or m.id not in plan.existing["moves"]]
    wanted |= {m.person_id for m in written if _gains_written(plan, kept, m.id)}
    wanted |= _people_of_reassigned(conn, written, changed["moves"])
    # Whom changes.stamp_renamed stamps: the people of a renamed team or of a retitled role.
    teams = sorted(tid for tid, fields in changed["teams"].items() if "name" in fields)
    roles = sorted(rid for rid, fields in changed["roles"].items() if "title" in fields)
    for column, keys in ((p_.team_id, teams), (p_.role_id, roles)):
        for i in range(0, len(keys), CHUNK):
            wanted.update(conn.scalars(select(p_.id).where(among(conn, column, keys[i : i + CHUNK]))))
    persons = sorted(wanted)
    for i in range(0, len(persons), CHUNK):  # as changed_while_planning takes them: same chunks, same order
        conn.execute(
            select(p_.id)
            .where(among(conn, p_.id, persons[i : i + CHUNK]))
            .order_by(code_point_order(conn, p_.id))
            .with_for_update(key_share=True)
        ).all()


def _people_of_reassigned(conn: Connection, moves: Sequence[MoveRec], changed: Mapping[str, list[str]]) -> set[str]:
    """Both people of each move the file gives to another person: the new one (``moves``), and the one the
    stored version is of (read before it is overwritten)."""
    reassigned = {mid for mid, fields in changed.items() if "person_id" in fields}
    people = {m.person_id for m in moves if m.id in reassigned}
    return people | {pid for _, pid in select_among(conn, reassigned, t.moves.c.id, t.moves.c.person_id)}


ExtraOf = Callable[[str, Any], "dict[str, str] | None"]  # (kind, record) -> the record's extra columns to store
# The tables of moves and what belongs to them: a large import checks their foreign keys once, at the end.
MOVE_TABLES = (t.moves, t.success_criteria, t.outcomes, t.skill_gains, t.skill_levels, t.status_changes)


def _write_teams(conn: Connection, w: BulkWriter, plan: Plan, changed: Mapping[str, list[str]]) -> None:
    """The teams files' new teams and the stored ones they change; a team as stored is left alone. Parents
    in a second pass: a parent may come later in the file (foreign keys are immediate)."""
    existing = plan.existing["teams"]
    new = [team for team in plan.team_recs if team.id not in existing]
    updated = [team for team in plan.team_recs if team.id in changed]
    if new:
        w.insert(
            t.teams, ["id", "name", "function", "parent_id"], [(x.id, x.name, x.function or "", None) for x in new]
        )
    tm_ = t.teams.c
    if updated:
        conn.execute(
            t.teams.update().where(tm_.id == bindparam("tid")).values(name=bindparam("n"), function=bindparam("f")),
            [{"tid": x.id, "n": x.name, "f": x.function or ""} for x in updated],
        )
    parented = [
        {"tid": x.id, "pid": x.parent_id}
        for x in (*new, *updated)
        if x.parent_id and (x.id not in existing or "parent_id" in changed[x.id])
    ]
    if parented:
        conn.execute(t.teams.update().where(tm_.id == bindparam("tid")).values(parent_id=bindparam("pid")), parented)


def _write_team_managers(w: BulkWriter, plan: Plan, changed: Mapping[str, list[str]]) -> None:
    """Who manages each team of the teams files: a new team's, and a stored team's the file changes."""
    existing = plan.existing["teams"]
    rows = [
        (x.id, x.manager_id)
        for x in plan.team_recs
        if x.manager_id and (x.id not in existing or "manager_id" in changed.get(x.id, ()))
    ]
    if rows:
        w.upsert(t.team_managers, ["team_id", "person_id"], ["team_id"], rows)


def _write_people(
    conn: Connection,
    w: BulkWriter,
    plan: Plan,
    today: dt.date,
    extra_of: ExtraOf,
    changed: Mapping[str, list[str]],
    now: dt.datetime,
) -> None:
    # Only new people and those the file changes are written. Rewriting everyone (the upsert of every row)
    # could, on PostgreSQL, put back a person's stored values over an edit committed in the app since they
    # were read for the comparison, and stamped the unchanged ones as changed for changed_since.
    existing = plan.existing["people"]
    written = [p for p in plan.people if p.id not in existing or p.id in changed]
    # A manager stored before this import (every manager is a stored person or one of the file's) goes in the
    # person's own row. One new in this import may come later in the file (foreign keys are immediate: on
    # SQLite each row is checked as it is written), so it is set in a second pass once everyone is written.
    # (Every person with a manager went through that pass: each written person with one was written twice.)
    new = {p.id for p in plan.people if p.id not in existing}
    w.upsert(
        t.people,
        [
            "id",
            "name",
            "email",
            "role_id",
            "manager_id",
            "team_id",
            "hire_date",
            "location",
            "capacity_percent",
            "home_role_min_percent",
            "target_role_id",
            "extra",
            "updated_at",
        ],
        ["id"],
        [
            (
                p.id,
                p.name,
                p.email,
                p.role_id,
                p.manager_id if p.manager_id not in new else None,
                p.team,
                p.hire_date,
                p.location,
                p.capacity,
                p.home_min,
                p.target_role_id,
                extra_of("people", p),
                now,
            )
            for p in written
        ],
    )
    # The managers new in this import, in a second pass: with the import's time, as the row's first write
    # (the UPDATE's own, onupdate, is a little later: a stamp of this import would write the row again).
    managed = [{"pid": p.id, "mid": p.manager_id} for p in written if p.manager_id in new]
    if managed:
        conn.execute(
            t.people.update()
            .where(t.people.c.id == bindparam("pid"))
            .values(manager_id=bindparam("mid"), updated_at=now),
            managed,
        )
    levels = {k: v for k, v in conn.execute(select(t.roles.c.id, t.roles.c.level))}
    # Before the role changes: a hire moved past today is a pre-hire's, whose new role is the one they are
    # hired into (below).
    _move_hires(conn, [p for p in written if p.id in existing and "hire_date" in changed[p.id]])
    a_ = t.role_assignments.c
    # The people whose current assignment has not started yet (a pre-hire's hire), of those whose role changes.
    retitled = sorted(pid for pid, fields in changed.items() if "role_id" in fields)
    pending: set[str] = set()
    for i in range(0, len(retitled), CHUNK):
        pending.update(
            conn.scalars(
                select(a_.person_id).where(
                    among(conn, a_.person_id, retitled[i : i + CHUNK]), a_.end.is_(None), a_.start > today
                )
            )
        )
    assignments = []
    for p in plan.people:
        old = plan.existing_role_of.get(p.id) if p.id in plan.existing["people"] else None
        if p.id not in plan.existing["people"]:
            if p.role_id:
                assignments.append((p.id, p.role_id, p.hire_date or today, None, AssignmentReason.HIRE, None))
        elif p.role_id and p.role_id != old:
            if p.id in pending:
                # A pre-hire's role changed before they start is the role they are hired into: ending the hire's
                # assignment today left it ending before it started, beside a promotion before they joined.
                conn.execute(
                    t.role_assignments.update()
                    .where(a_.person_id == p.id, a_.end.is_(None), a_.start > today)
                    .values(role_id=p.role_id)
                )
                continue
            conn.execute(t.role_assignments.update().where(a_.person_id == p.id, a_.end.is_(None)).values(end=today))
            if p.hire_date and p.hire_date > today:  # a pre-hire given their first role: hired into it
                assignments.append((p.id, p.role_id, p.hire_date, None, AssignmentReason.HIRE, None))
                continue
            reason = (
                AssignmentReason.PROMOTION
                if old and levels.get(p.role_id, 0) > levels.get(old, 0)
                else AssignmentReason.TRANSFER
            )
            assignments.append((p.id, p.role_id, today, None, reason, None))
    if assignments:
        w.insert(t.role_assignments, ["person_id", "role_id", "start", "end", "reason", "move_id"], assignments)


def _move_hires(conn: Connection, people: Sequence[PersonRec]) -> None:
    """The hire in the role history of each stored person whose hire date the import changes, moved to the new
    date: the person's hire date alone was written, and the history said they were hired on the old one.
    Held to their later role changes before anything is written (:func:`_check_hire_in_role_history`)."""
    hired = {p.id: p.hire_date for p in people if p.hire_date is not None}
    moved = [
        {"aid": hire[1], "day": hired[pid]}
        for pid, history in _role_histories(conn, hired).items()
        if (hire := _hire_of(history)) is not None and hire[0] != hired[pid]
    ]
    if moved:
        a_ = t.role_assignments.c
        conn.execute(t.role_assignments.update().where(a_.id == bindparam("aid")).values(start=bindparam("day")), moved)


def _forget_plan_benefits(conn: Connection, changed: Mapping[str, list[str]]) -> dict[str, dict[str, int]]:
    """What a seat was worth to the plans of the people whose target role the file changes is forgotten on
    their live applications, as when the target changes in the app (:func:`catalogue.set_target_role`): it was
    weighed towards the previous target. Person → application id → the weeks cleared (for the audit event).

    Called once the people are written: on PostgreSQL their rows are then locked by this transaction. One
    SELECT and one UPDATE per 5,000 retargeted people (:func:`catalogue.forget_plan_benefits_of`): a sync may
    give tens of thousands of people a target, and asking person by person was two round trips each."""
    retargeted = [pid for pid, fields in changed.items() if "target_role_id" in fields]
    if not retargeted:
        return {}
    from micromoves.services.catalogue import forget_plan_benefits_of  # here: it loads the planner (0.1 s)

    return forget_plan_benefits_of(conn, retargeted)


@dataclass
class _KeptMoveData:
    """What the stored versions of re-imported moves hold beyond the interchange format."""

    criteria: dict[tuple[str, int], tuple[str, Any, str]] = field(default_factory=dict)  # statement, rating, evidence
    # The same, per move: (position, statement, rating, evidence).
    criteria_of: dict[str, list[tuple[int, str, Any, str]]] = field(default_factory=dict)
    outcomes: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # decision, reviewed_on, reviewer, notes, conf.
    gains: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)
    moves: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # released_by, expected outcomes, targeted

    @classmethod
    def read(cls, conn: Connection, move_ids: Iterable[str]) -> _KeptMoveData:
        out = cls()
        ids = set(move_ids)
        c, o, g, m = t.success_criteria.c, t.outcomes.c, t.skill_gains.c, t.moves.c
        rows = select_among(conn, ids, m.id, m.released_by_id, m.expected_outcomes, m.skills_targeted)
        out.moves = {mid: tuple(rest) for mid, *rest in rows}
        rows = select_among(conn, ids, c.move_id, c.position, c.statement, c.rating, c.evidence)
        out.criteria = {(mid, pos): (statement, rating, evidence) for mid, pos, statement, rating, evidence in rows}
        for (mid, pos), (statement, rating, evidence) in out.criteria.items():
            out.criteria_of.setdefault(mid, []).append((pos, statement, rating, evidence))
        rows = select_among(conn, ids, o.move_id, o.decision, o.reviewed_on, o.reviewer_id, o.notes, o.confidential)
        out.outcomes = {mid: tuple(rest) for mid, *rest in rows}
        for mid, sid, before, after in select_among(conn, ids, g.move_id, g.skill_id, g.level_before, g.level_after):
            out.gains.setdefault(mid, []).append((sid, before, after))
        return out

    def decision(self, move_id: str) -> Any:
        """The stored review's decision (None: not reviewed)."""
        old = self.outcomes.get(move_id)
        return None if old is None else old[0]

    def criteria_rows(
        self, move_id: str, statements: Sequence[str], ratings: Sequence[Any]
    ) -> Iterator[tuple[Any, ...]]:
        """The file's criteria, each with the stored evidence (and rating, if the file leaves it empty) of the
        stored criterion with the same statement, wherever it stood: keyed by position, criteria reordered
        by a re-import lost their evidence. A statement a move holds twice is matched in order."""
        stored: dict[str, list[tuple[Any, str]]] = defaultdict(list)
        for _position, statement, rating, evidence in sorted(self.criteria_of.get(move_id, [])):
            stored[statement].append((rating, evidence))
        for position, (statement, rating) in enumerate(zip(statements, ratings, strict=True), 1):
            same = stored.get(statement)
            if not same:
                yield (move_id, position, statement, rating, "")
                continue
            old_rating, evidence = same.pop(0)
            yield (move_id, position, statement, rating if rating is not None else old_rating, evidence)

    def outcome(self, move_id: str, decision: Any, end: dt.date, actor: str) -> tuple[Any, ...] | None:
        """The review's outcome: the file's decision on the stored review (its date, reviewer, notes and
        confidentiality), or the stored one when the file leaves the decision empty."""
        old = self.outcomes.get(move_id)
        if decision is None:
            return None if old is None else (move_id, *old)
        if old is None:  # reviewed in the HRIS, not by whoever runs the import
            return (move_id, decision, end, imported_reviewer(actor), "", False)
        return (move_id, decision, *old[1:])


def _write_moves(
    conn: Connection,
    w: BulkWriter,
    plan: Plan,
    kept: _KeptMoveData,
    changed: Mapping[str, list[str]],
    extra_of: ExtraOf,
    actor: str,
    now: dt.datetime,
    today: dt.date,
    tick: Callable[[int], None],
) -> None:
    """Write the file's new moves, and the re-imported ones the file changes (``changed``: their ids, with
    the fields changed), with their criteria, review, gains, evidence and history. A re-imported move exactly
    as stored is left alone: a nightly sync of an unchanged export rewrote every move and its evidence (a
    million rows, twice the time of the first import) and renumbered the evidence rows for nothing."""
    existing = plan.existing["moves"] & changed.keys()
    unchanged = len(plan.existing["moves"]) - len(existing)
    if unchanged:
        tick(unchanged)
    IMPORTED_MOVES.create(conn, checkfirst=True)
    conn.execute(IMPORTED_MOVES.delete())
    # What a re-imported move holds that the format does not carry (evidence, the review's notes, reviewer
    # and confidentiality, a rating or gains the file leaves empty: unknown) is kept, never blanked (``kept``).
    if existing:
        # A review the file replaces is kept whole among the move's earlier reviews, as the tracker keeps one
        # a later review replaces (it was overwritten: the decision, ratings and gains it gave were lost).
        keep_reviews(conn, _replaced_reviews(plan, kept, changed, actor))
        # Children of re-imported moves are replaced by the file's version (idempotent re-import).
        for table in (t.success_criteria, t.skill_gains, t.outcomes):
            w.delete_in(table, "move_id", existing)
        ids = list(existing)
        for i in range(0, len(ids), 5_000):
            conn.execute(
                t.skill_levels.delete().where(
                    among(conn, t.skill_levels.c.move_id, ids[i : i + 5_000]),
                    t.skill_levels.c.provenance == Provenance.MOVE_EVIDENCE.value,
                )
            )
    # Written in id order: the primary-key and move_id indexes then grow at their end instead of at random
    # places, which keeps a big import within the page cache (measured: a third faster at 1M rows).
    moves = sorted(
        (m for m in plan.moves if m.id in existing or m.id not in plan.existing["moves"]), key=lambda m: m.id
    )
    columns = ["id", "person_id", "kind", "title", "start", "end", "percent_time", "status", "host_team_id"]
    columns += ["target_role_id", "released_by_id", "expected_outcomes", "skills_targeted", "extra", "updated_at"]

    def move_rows(new: bool) -> Iterator[tuple[Any, ...]]:
        gains = plan.move_gains
        for m in moves:
            if (m.id not in existing) is new:
                # Not in the format: a new move gets its gained skills as targeted; a re-imported one keeps
                # its own (who released the person, the expected outcomes, the skills it targets).
                if new:
                    targeted = [g[0] for g in gains.get(m.id, [])]
                    yield (m.id, m.person_id, m.kind, m.title, m.start, m.end, m.percent, m.status, m.host_team,
                           m.target_role_id, None, "", targeted, extra_of("moves", m), now)  # fmt: skip
                else:
                    yield (m.id, m.person_id, m.kind, m.title, m.start, m.end, m.percent, m.status, m.host_team,
                           m.target_role_id, *kept.moves[m.id], extra_of("moves", m), now)  # fmt: skip

    # A move given to another person changes both people (each one's moves are part of what an integration
    # reads of them): whom the stored versions were of, read before they are overwritten.
    moved_people = _people_of_reassigned(conn, moves, changed)
    # A running move's handoff follows its new end, as an extension in the tracker moves it: the holder took the
    # responsibilities back on the old end of a move an HRIS had extended. (Its ends, read before they change.)
    redated = [mid for mid in existing if "end" in changed[mid]]
    h_ = t.handoffs.c
    running = [
        mid for mid, status in select_among(conn, redated, h_.move_id, h_.status) if status in ("planned", "active")
    ]
    old_ends: dict[str, dt.date] = {mid: end for mid, end in select_among(conn, running, t.moves.c.id, t.moves.c.end)}
    w.on_rows = tick
    # New moves are appended (COPY on PostgreSQL); only re-imported ones need the slower upsert path.
    w.insert(t.moves, columns, move_rows(new=True))
    if existing:
        w.upsert(t.moves, columns, ["id"], move_rows(new=False))
    w.on_rows = lambda n: None
    criteria: Iterable[tuple[Any, ...]]
    outcomes: Iterable[tuple[Any, ...] | None]
    if existing:  # what the stored versions hold beyond the file is merged in
        criteria = (row for m in moves for row in kept.criteria_rows(m.id, m.criteria, m.ratings))
        outcomes = (kept.outcome(m.id, m.decision, m.end, actor) for m in moves)
    else:  # a first import (a million rows): the file's rows as they are
        criteria = ((m.id, i, s, m.ratings[i - 1], "") for m in moves for i, s in enumerate(m.criteria, 1))
        outcomes = ((m.id, m.decision, m.end, imported_reviewer(actor), "", False) for m in moves if m.decision)
    w.insert(t.success_criteria, ["move_id", "position", "statement", "rating", "evidence"], criteria)
    w.insert(
        t.outcomes,
        ["move_id", "decision", "reviewed_on", "reviewer_id", "notes", "confidential"],
        (out for out in outcomes if out is not None),
    )
    w.insert(
        t.skill_gains,
        ["move_id", "skill_id", "level_before", "level_after"],
        ((m.id, sid, b, a) for m in moves for sid, b, a in _gains_written(plan, kept, m.id)),
    )
    # The profile write-back and the history rows follow from rows already written, so the database
    # derives them set-based (one INSERT … SELECT each) instead of Python building a million rows twice.
    w.insert(IMPORTED_MOVES, ["id", "old_status"], ((m.id, plan.existing_move_status.get(m.id)) for m in moves))
    m_, i_, g_ = t.moves.c, IMPORTED_MOVES.c, t.skill_gains.c
    joined = IMPORTED_MOVES.join(t.moves, m_.id == i_.id)
    # Completed moves write their gains back to the person's profile, with the move as evidence, dated by
    # its review. A new move's review is dated its end; a re-imported one keeps its stored review date (the
    # end date alone moved its evidence off the day it was reviewed), hence the outcomes joined only then:
    # a first import of a million moves needs no join.
    o_ = t.outcomes.c
    source = joined.join(t.skill_gains, g_.move_id == m_.id)
    if existing:
        source = source.join(t.outcomes, o_.move_id == m_.id, isouter=True)
    evidence = select(
        m_.person_id,
        g_.skill_id,
        g_.level_after,
        literal(Provenance.MOVE_EVIDENCE.value, t.skill_levels.c.provenance.type),
        func.coalesce(o_.reviewed_on, m_.end) if existing else m_.end,
        m_.id,
    ).select_from(source)
    columns = ["person_id", "skill_id", "level", "provenance", "assessed_on", "move_id"]
    conn.execute(t.skill_levels.insert().from_select(columns, evidence.where(m_.status == MoveStatus.COMPLETED)))

    # A conversion reverted later was completed first: its skills were gained all the same (a few moves).
    # (The file's decision, else the stored review's: kept when the file leaves it empty.)
    undone = [
        m.id
        for m in moves
        if m.status is MoveStatus.REVERTED and (m.decision or kept.decision(m.id)) == Decision.CONVERT
    ]
    for i in range(0, len(undone), 5_000):
        conn.execute(
            t.skill_levels.insert().from_select(columns, evidence.where(among(conn, m_.id, undone[i : i + 5_000])))
        )
    conn.execute(
        t.status_changes.insert().from_select(
            ["move_id", "from_status", "to_status", "actor", "at", "reason"],
            select(
                m_.id,
                i_.old_status,
                m_.status,
                literal(actor, t.status_changes.c.actor.type),
                literal(now, t.status_changes.c.at.type),
                literal("imported", t.status_changes.c.reason.type),
            )
            .select_from(joined)
            .where(or_(i_.old_status.is_(None), i_.old_status != m_.status)),
        )
    )
    if old_ends:
        from micromoves.services.handoffs import follow_extension

        for m in moves:
            if m.id in old_ends:
                follow_extension(conn, m.id, old_ends[m.id], m.end)
    _follow_status_changes(conn, [m for m in moves if m.id in existing], plan, actor, today)
    # Evidence written back changes the person's profile: a person the import did not write changes too (as
    # the tracker's write-back touches them, storage.orm). New people were written just now anyway, and so
    # were changed ones: holding the import's time, they are not written again (changes.stamp).
    profiled = {m.person_id for m in moves if _gains_written(plan, kept, m.id)}
    changes.stamp(conn, t.people, t.people.c.id, profiled | moved_people, now)


def _gains_written(plan: Plan, kept: _KeptMoveData, move_id: str) -> list[tuple[str, float, float]]:
    """The gains a move holds once written: the file's, or the stored ones where the file gives none
    (unknown, kept)."""
    return plan.move_gains.get(move_id) or kept.gains.get(move_id, [])


# The fields a re-import changes (_changed_fields) that can change a stored review: its decision, its
# ratings (given, or lost with a criterion whose statement the file changes) and its gains. The review's
# date, reviewer, notes and confidentiality are not in the format: a re-import keeps them.
REVIEW_FIELDS = frozenset({"outcome", "criteria_ratings", "success_criteria", "skills_gained"})


def _replaced_reviews(
    plan: Plan, kept: _KeptMoveData, changed: Mapping[str, list[str]], actor: str
) -> list[dict[str, Any]]:
    """The stored reviews (moves.review_record, as the tracker keeps them) that the file's version of their
    move replaces with a different one. Only the few moves whose changed fields touch the review are looked
    at, set against what is read already (``kept``): no query per move, and an unchanged re-import, or one
    that changes a title or a status alone, keeps nothing."""
    out = []
    for m in plan.moves:
        head = kept.outcomes.get(m.id)
        if head is None or not REVIEW_FIELDS.intersection(changed.get(m.id, ())):
            continue
        old = review_record(m.id, head, kept.criteria_of.get(m.id, []), kept.gains.get(m.id, []))
        outcome = kept.outcome(m.id, m.decision, m.end, actor)
        assert outcome is not None  # a stored review stays, or the file's decision replaces it
        criteria = [row[1:] for row in kept.criteria_rows(m.id, m.criteria, m.ratings)]
        new = review_record(m.id, outcome[1:], criteria, _gains_written(plan, kept, m.id))
        if _review_key(old) != _review_key(new):
            out.append(old)
    return out


def _review_key(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a review says, to tell whether a re-import changes it: its criteria by statement, not position
    (criteria a file only reorders keep their ratings and evidence: the same review), its gains in any order."""
    return (
        record["decision"],
        record["reviewed_on"],
        record["reviewer_id"],
        record["notes"],
        record["confidential"],
        sorted((r["statement"], r["rating"], r["evidence"]) for r in record["ratings"].values()),
        sorted((g["skill_id"], g["level_before"], g["level_after"]) for g in record["gains"]),
    )


def _follow_status_changes(conn: Connection, moves: list[MoveRec], plan: Plan, actor: str, today: dt.date) -> None:
    """A re-imported move whose status the file changes has the effects the same lifecycle step has in the
    tracker: its handoff follows it, and a seat its accepted application holds is given back when the move
    is withdrawn or declined (imported as withdrawn, the move left the application accepted and a filled
    opportunity with no seat for anyone)."""
    from micromoves.services.handoffs import sync_with_move
    from micromoves.services.marketplace import release_seat_of

    moved = {m.id: m for m in moves if plan.existing_move_status.get(m.id, m.status) != m.status}
    if not moved:
        return
    # Only the few moves with a handoff or a marketplace application have anything to follow: found in
    # two reads, not asked move by move (a sync may change thousands of statuses).
    involved = _ids(conn, t.handoffs.c.move_id, moved) | _ids(conn, t.applications.c.move_id, moved)
    for mid in sorted(involved):
        m = moved[mid]
        status = MoveStatus(m.status)
        sync_with_move(conn, m.id, status, m.end if status is MoveStatus.COMPLETED else today)
        release_seat_of(conn, m.id, status, actor=actor, reason="status set by an import")


# ---------------------------------------------------------------------------------------------- entry

# Imports run one at a time (PostgreSQL): each takes this transaction-level advisory lock first, before it reads
# anything. The key is fixed: the first 8 bytes of SHA-256("micromoves import") as a signed 64-bit integer
# (-8,282,970,049,571,159,782), beside the login throttle's keys (accounts.py), hashed the same way from
# other texts. An import waiting for another waits at most IMPORT_WAIT_SECONDS, as a large import waits for its
# tables (storage.bulk.LOCK_WAIT_SECONDS), then is refused in words, with nothing written.
IMPORT_LOCK = int.from_bytes(hashlib.sha256(b"micromoves import").digest()[:8], "big", signed=True)
IMPORT_WAIT_SECONDS = LOCK_WAIT_SECONDS


def _one_import_at_a_time(conn: Connection, progress: Progress, most_seconds: float) -> None:
    """Wait until no other import runs, at most ``most_seconds``, then hold the import lock until commit.

    Two imports at once deadlocked: each wrote the teams and roles it names in its own order (a teams file's
    teams and then those only named, a roles file's rows in file order), so one held T1 and waited for T2 while
    the other held T2 and waited for T1, and PostgreSQL aborted one of them (a traceback, the import lost).
    Ordering those writes (code-point order, as the people's row locks are taken) would take away that
    deadlock only: two imports would still each check their files against a database the other is changing
    (both creating the same team, the second failing on its key; both adding moves of one person, together
    over their capacity). Serialised, each import checks what the one before it committed, and an import
    runs for minutes at most, so another one waits rather than interleaves. The lock is taken first, holding
    nothing: whoever waits for it holds no row another import or the app could wait for (a large import's
    table locks, BulkWriter._lock_exclusively, come after it). SQLite's writer already holds the whole
    database (BEGIN IMMEDIATE)."""
    if conn.dialect.name != "postgresql":
        return
    if conn.scalar(select(func.pg_try_advisory_xact_lock(IMPORT_LOCK))):
        return
    progress("wait", 0, 1)  # the CLI's bar says what the import is waiting for
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{max(1, round(most_seconds * 1000))}ms'")
    try:
        conn.execute(select(func.pg_advisory_xact_lock(IMPORT_LOCK)))
    except OperationalError as exc:
        # A server whose statement_timeout is shorter than the wait cancels the wait first (a raw error and a
        # 500 before): the same refusal, saying who ended the wait. The server's setting is left as it is.
        state = getattr(exc.orig, "sqlstate", None)
        if state == LOCK_NOT_AVAILABLE:
            waited = f"this one waited {most_seconds:g} s for it to finish"
        elif state == QUERY_CANCELED:
            diag = getattr(exc.orig, "diag", None)
            if "statement timeout" in (getattr(diag, "message_primary", None) or ""):
                waited = "the database server's statement timeout ended this one's wait for it"
            else:  # pg_cancel_backend, by an administrator
                waited = "this one's wait for it was cancelled on the database server"
        else:
            raise
        raise Conflict(
            f"another import is running: imports run one at a time, and {waited}; nothing was written, "
            "try again once it has"
        ) from None
    conn.exec_driver_sql("SET LOCAL lock_timeout = DEFAULT")
    progress("wait", 1, 1)


def import_files(
    db: Database,
    paths: Sequence[Path],
    *,
    actor: str,
    kinds: Mapping[Path, str] | None = None,
    progress: Progress | None = None,
    settings: Settings | None = None,
    known_teams: bool = False,
    today: dt.date | None = None,
    wait_seconds: float | None = None,
) -> ImportSummary:
    """Check every file, then write all of them in one transaction — or nothing. A team the files name
    that neither exists nor is defined by a teams file is created (named after its id), unless
    ``known_teams``: then it is an error.
    ``today`` is the local date, as the tracker's (a move that has started or ended is checked against it,
    a withdrawn move's handoff is returned on it). ``wait_seconds``: how long to wait for another import
    to finish (default :data:`IMPORT_WAIT_SECONDS`)."""
    today = today or dt.date.today()
    started = time.perf_counter()
    settings = settings or get_settings()
    report = progress or (lambda stage, done, total: None)
    # Millions of cells, records and rows, none of them in a reference cycle: the cyclic garbage collector
    # would rescan them again and again for nothing (measured at 1,000,000 moves: 64.6 s with it, 51.0 s
    # without; reading the file 6.5 → 2.6 s, parsing 13.5 → 7.5 s).
    collecting = gc.isenabled()
    gc.disable()
    try:
        sources = load_sources(paths, kinds)
        with db.write_engine.begin() as conn:
            _one_import_at_a_time(conn, report, IMPORT_WAIT_SECONDS if wait_seconds is None else wait_seconds)
            plan = check(conn, sources, settings, report, known_teams=known_teams, today=today)
            summary = _write(conn, plan, sources, actor, report, settings, today)
    finally:
        if collecting:
            gc.enable()
    summary.seconds = time.perf_counter() - started
    return summary
