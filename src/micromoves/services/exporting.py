"""Export the organisation in the interchange formats of ``shared/conventions.md`` (CSV) or as JSON.

CSV cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage return)
are prefixed with a single quote (OWASP's advice), so an exported file is safe to open in Excel.
Rows are streamed, so exporting a million moves needs little memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from micromoves.domain.errors import InvalidValue
from micromoves.services.importing import FORMAT_COLUMNS, FORMULA_START, GUARD_NEXT, KEEPS_EXTRA, KINDS
from micromoves.services.policy import Policy
from micromoves.storage import changes
from micromoves.storage import tables as t
from micromoves.storage.db import Database


def safe_cell(value: Any) -> str:
    """The text of a cell, defused against CSV/formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    # A text a spreadsheet would run as a formula gets a leading apostrophe, and so does one that starts
    # with an apostrophe the import would take for a guard (importing._unguarded takes exactly one off).
    if isinstance(value, str) and (text.startswith(FORMULA_START) or (text[:1] == "'" and text[1:2] in GUARD_NEXT)):
        return "'" + text
    if isinstance(value, float):
        text = f"{value:g}"
    return text


def _level(x: float) -> str:
    return f"{x:g}"


def _stream(conn: Connection, query: Any) -> Iterator[Any]:
    yield from conn.execution_options(stream_results=True, yield_per=10_000).execute(query)


def _grouped(conn: Connection, query: Any) -> Iterator[tuple[str, list[Any]]]:
    for key, rows in groupby(_stream(conn, query), key=lambda r: r[0]):
        yield key, list(rows)


def skill_labels(conn: Connection) -> dict[str, str]:
    """How a skill is written in an export, as conventions.md asks: its O*NET element name, or the ESCO
    skill URI (its id). A name shared by two elements (O*NET has Mathematics as a skill and as knowledge)
    stays the element id, which the import reads too, so that it cannot come back as the other one."""
    rows = conn.execute(select(t.skills.c.id, t.skills.c.name, t.skills.c.kind)).all()
    taken: dict[str, int] = {}
    for _, name, _ in rows:
        taken[name.lower()] = taken.get(name.lower(), 0) + 1
    return {sid: name for sid, name, kind in rows if kind != "esco" and taken[name.lower()] == 1}


EXTRA_TABLES = {"roles": t.roles, "people": t.people, "moves": t.moves}


def extra_columns(conn: Connection, kind: str) -> list[str]:
    """The columns beyond the format that records of ``kind`` keep from their imports, sorted by name."""
    if kind not in KEEPS_EXTRA:
        return []
    column = EXTRA_TABLES[kind].c.extra
    names: set[str] = set()
    for (extra,) in _stream(conn, select(column).where(column.is_not(None))):
        names.update(extra or ())
    return sorted(names)


def rows_for(conn: Connection, kind: str, changed_since: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """The records of ``kind`` as the format's columns by name, then the columns beyond the format that each
    record keeps (``extra``: the format's own columns win a clash, which an import never stores).

    ``changed_since``: only the people and moves changed at or after that time, as the API's lists filter
    them (storage.changes); teams, roles and role skills keep no change time, and a record whose change time
    is not known counts as changed, so they come whole."""
    for row, extra in _rows_with_extra(conn, kind, changed_since):
        yield {**extra, **row} if extra else row


def _rows_with_extra(
    conn: Connection, kind: str, changed_since: dt.datetime | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, str] | None]]:
    if kind == "teams":
        c, tm = t.teams.c, t.team_managers.c
        q = (
            select(c.id, c.name, c.parent_id, c.function, tm.person_id)
            .select_from(t.teams.outerjoin(t.team_managers, tm.team_id == c.id))
            .order_by(c.id)
        )
        names = FORMAT_COLUMNS["teams"]
        for r in _stream(conn, q):
            yield dict(zip(names, r, strict=True)), None
    elif kind == "roles":
        c = t.roles.c
        q = select(c.id, c.title, c.onet_code, c.level, c.team_id, c.critical, c.extra).order_by(c.id)
        for r in _stream(conn, q):
            yield (
                {"role_id": r[0], "title": r[1], "onet_code": r[2], "level": r[3], "team": r[4], "critical": r[5]},
                r[6],
            )
    elif kind == "role_skills":
        c = t.role_skills.c
        label = skill_labels(conn)
        for r in _stream(conn, select(c.role_id, c.skill_id, c.level).order_by(c.role_id, c.skill_id)):
            yield {"role_id": r[0], "skill": label.get(r[1], r[1]), "level": r[2]}, None
    elif kind == "people":
        c = t.people.c
        q = select(
            c.id,
            c.name,
            c.email,
            c.role_id,
            c.manager_id,
            c.team_id,
            c.hire_date,
            c.location,
            c.capacity_percent,
            c.home_role_min_percent,
            c.target_role_id,
            c.extra,
        ).order_by(c.id)
        wanted = [] if changed_since is None else [changes.changed_since(c.updated_at, changed_since)]
        names = FORMAT_COLUMNS["people"]
        for r in _stream(conn, q.where(*wanted)):
            yield dict(zip(names, r[:-1], strict=True)), r[-1]
    elif kind == "moves":
        yield from _move_rows(conn, changed_since)
    else:
        raise ValueError(f"unknown export kind {kind!r}")


def _move_rows(
    conn: Connection, changed_since: dt.datetime | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, str] | None]]:
    """Moves with their criteria, ratings, decision and gains, merged from id-ordered streams."""
    m, sc, g, o = t.moves.c, t.success_criteria.c, t.skill_gains.c, t.outcomes.c
    label = skill_labels(conn)
    wanted = None if changed_since is None else changes.changed_since(m.updated_at, changed_since)

    def of_wanted(q: Any, move_id: Any) -> Any:  # the children of the moves written only
        return q if wanted is None else q.where(move_id.in_(select(m.id).where(wanted)))

    criteria = _grouped(
        conn, of_wanted(select(sc.move_id, sc.statement, sc.rating), sc.move_id).order_by(sc.move_id, sc.position)
    )
    gains = _grouped(
        conn,
        of_wanted(select(g.move_id, g.skill_id, g.level_before, g.level_after), g.move_id).order_by(g.move_id, g.id),
    )
    decisions = _stream(conn, of_wanted(select(o.move_id, o.decision), o.move_id).order_by(o.move_id))
    nxt: dict[str, Any] = {"c": next(criteria, None), "g": next(gains, None), "o": next(decisions, None)}

    def take(name: str, it: Iterator[Any], move_id: str) -> Any:
        # Children are ordered by move id like the moves, so each stream only moves forward.
        while nxt[name] is not None and nxt[name][0] < move_id:
            nxt[name] = next(it, None)
        if nxt[name] is not None and nxt[name][0] == move_id:
            found = nxt[name]
            nxt[name] = next(it, None)
            return found
        return None

    q = select(
        m.id, m.person_id, m.kind, m.title, m.host_team_id, m.start, m.end, m.percent_time, m.status, m.target_role_id,
        m.extra,
    ).order_by(m.id)  # fmt: skip
    if wanted is not None:
        q = q.where(wanted)
    for r in _stream(conn, q):
        crit = take("c", criteria, r[0])
        gain = take("g", gains, r[0])
        dec = take("o", decisions, r[0])
        crit_rows = crit[1] if crit else []
        yield (
            {
                "move_id": r[0],
                "person_id": r[1],
                "kind": r[2].value,
                "title": r[3],
                "host_team": r[4],
                "start": r[5],
                "end": r[6],
                "percent_time": r[7],
                "status": r[8].value,
                "target_role_id": r[9],
                "success_criteria": [c[1] for c in crit_rows],
                "criteria_ratings": [c[2].value if c[2] else "" for c in crit_rows],
                "outcome": dec[1].value if dec else None,
                "skills_gained": [
                    {"skill": label.get(x[1], x[1]), "from": x[2], "to": x[3]} for x in (gain[1] if gain else [])
                ],
            },
            r[10],
        )


def _csv_value(kind: str, column: str, value: Any) -> str:
    if kind != "moves":  # a person's column beyond the format may be called success_criteria: one value
        return safe_cell(value)
    if column == "success_criteria":  # each criterion guarded: a tool that splits the cell gets no formula
        return ";".join(safe_cell(x) for x in value) if any(value) else ""
    if column == "criteria_ratings":
        return safe_cell(";".join(value)) if any(value) else ""
    if column == "skills_gained":
        return safe_cell(";".join(f"{x['skill']}:{_level(x['from'])}>{_level(x['to'])}" for x in value))
    return safe_cell(value)


@contextmanager
def snapshot(db: Database) -> Iterator[Connection]:
    """A connection whose every query sees one state of the database. An export runs several queries (the
    columns beyond the format, then moves, criteria, reviews and gains side by side): at PostgreSQL's
    default READ COMMITTED each saw its own, so a move reviewed meanwhile could be written with a decision
    that contradicts its status, which the import then refuses. SQLite's read transaction is one snapshot
    already."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield conn


def csv_rows(conn: Connection, kind: str, changed_since: dt.datetime | None = None) -> Iterator[list[str]]:
    """One interchange CSV file of ``kind``, header first, every cell guarded against formulas (``changed_since``:
    see :func:`rows_for`)."""
    standard = FORMAT_COLUMNS[kind]
    columns = [*standard, *(c for c in extra_columns(conn, kind) if c not in standard)]
    yield [safe_cell(c) for c in columns]  # a column name beyond the format could be "=…"
    for row in rows_for(conn, kind, changed_since):
        yield [_csv_value(kind, c, row.get(c)) for c in columns]


def export_rows(
    db: Database, policy: Policy, kind: str, changed_since: dt.datetime | None = None
) -> Iterator[list[str]]:
    """The interchange CSV of ``kind`` for the web and the API (``GET /api/v1/export/moves.csv``): what
    ``micromoves export`` writes and the import reads back, columns beyond the format included. Admins only
    (everyone's records, and an HRIS's own columns such as pay grades); checked here, before the first row
    is asked for. The rows come from one read transaction, so the file is one consistent state."""
    policy.require_admin("export data")
    if kind not in KINDS:
        raise InvalidValue(f"unknown export {kind!r}; one of {', '.join(KINDS)}", field="kind")

    def rows() -> Iterator[list[str]]:
        with snapshot(db) as conn:
            yield from csv_rows(conn, kind, changed_since)

    return rows()


def export_csv(
    db: Database,
    out_dir: Path,
    kinds: Sequence[str] = KINDS,
    *,
    changed_since: dt.datetime | None = None,
    bom: bool = False,
) -> dict[str, Path]:
    """The CSV files of ``kinds`` in ``out_dir``, all of them or none: each is written to a temporary file
    first, and they replace the files of the folder only once every one was written (a moves.csv that
    could not be written had left new roles, people and role skills next to the old moves and a
    moves.csv.part). ``bom``: each file starts with a UTF-8 byte order mark, for Excel (the import skips it)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = {kind: out_dir / f"{kind}.csv" for kind in kinds}
    for path in targets.values():
        _check_target(path)
    written: list[tuple[Path, Path]] = []  # (temporary file, target)
    try:
        with snapshot(db) as conn:
            for kind, path in targets.items():
                tmp = _part(path)
                written.append((tmp, path))
                with _naming(path), tmp.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
                    csv.writer(f).writerows(csv_rows(conn, kind, changed_since))
    except BaseException:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)
        raise
    _replace_all(written)
    return targets


def export_json(
    db: Database, path: Path, kinds: Sequence[str] = KINDS, *, changed_since: dt.datetime | None = None
) -> Path:
    def default(v: Any) -> Any:
        return v.isoformat()

    _check_target(path)
    with snapshot(db) as conn:
        doc = {kind: list(rows_for(conn, kind, changed_since)) for kind in kinds}
    tmp = _part(path)
    try:
        with _naming(path):
            tmp.write_text(json.dumps(doc, default=default, ensure_ascii=False, indent=1), encoding="utf-8")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _replace_all([(tmp, path)])
    return path


def _part(path: Path) -> Path:
    """The temporary file a target is written to first (a reader never sees a half-written file)."""
    return path.with_name(path.name + ".part")


def _check_target(path: Path) -> None:
    """Refuse, before anything is written, a target that a file cannot replace (a folder of that name)."""
    if path.exists() and not path.is_file():
        raise IsADirectoryError(errno.EISDIR, "not a file (a folder of that name is in the way)", str(path))


@contextmanager
def _naming(path: Path) -> Iterator[None]:
    """An error writing a target's temporary file names the target (it named moves.csv.part)."""
    try:
        yield
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


def _replace_all(written: Sequence[tuple[Path, Path]]) -> None:
    """Put every temporary file in its target's place, or none: a target replaced before one that fails
    gets its old file back (kept aside as ``.old`` meanwhile), and the temporary files are removed."""
    done: list[tuple[Path, Path | None]] = []  # (target, its old file kept aside)
    try:
        for tmp, path in written:
            with _naming(path):
                old = None
                if path.exists():
                    old = path.with_name(path.name + ".old")
                    path.replace(old)
                done.append((path, old))
                tmp.replace(path)
    except BaseException:
        for path, old in reversed(done):
            with suppress(OSError):  # best effort: the error that stopped the export is the one to report
                if old is not None:
                    old.replace(path)
                else:
                    path.unlink(missing_ok=True)
        for tmp, _ in written:
            with suppress(OSError):
                tmp.unlink(missing_ok=True)
        raise
    for _, old in done:
        if old is not None:
            old.unlink(missing_ok=True)
