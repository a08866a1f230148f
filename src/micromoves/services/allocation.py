"""Fair org-wide allocation (``micromoves allocate``): propose offers for every live application at once.

:func:`propose_allocation` builds the allocation problem from the database and solves it exactly
(:mod:`micromoves.allocation`: min-cost flow), then stores the proposal — an ``allocation_runs`` row with
status *proposed* and one ``allocation_assignments`` row per chosen application with a plain explanation.
Nothing changes for anyone until :func:`apply_allocation` turns the proposal into offers, in one
transaction, refusing when anything it relied on has changed. :func:`discard_allocation` drops it.

The problem
-----------
* **Seats**: open opportunities whose end has not passed (an offer of one that has could never be accepted:
  its move could no longer run), seats minus applications that hold a seat (accepted) *or may take one*
  (an outstanding offer), so applying a proposal never promises more seats than exist.
* **Candidates**: live applications (applied, waitlisted) that are eligible by the marketplace rules
  (:func:`micromoves.domain.marketplace.ineligibility`: a start on or after the person's hire date (a
  pre-hire's first day), role level, tenure, location, required skills, and free capacity over the
  opportunity's dates after the home role and the occupying moves). The rules are evaluated vectorised over
  all pairs; a test checks them against the domain function.
* **Release limits**: a team may have at most ``floor(release_share × team size)`` people away at once.
  People already away or released to go (approved, onboarding, active or in-review moves) or promised a
  seat (an accepted seat whose move awaits the line manager's release; an open offer, over its
  opportunity's dates) count against it on the days those moves together take at least ``away_percent``
  of a working week (default 50%: a 5% mentoring or a 20% gig leaves a person at work in their team). A
  move that is only requested does not count: nobody has released the person yet, and the manager may
  decline (their approval is what spends the limit). Every seat the run fills counts as one more person away,
  whatever its share (a flow counts people, not shares: conservative). Offers and accepted seats count so
  that limits hold across allocation runs (a run proposed before another was applied is refused when
  applied: it did not count that run's offers). Time away is taken on the busiest day on which some open
  opportunity runs (an opportunity's start, or the start of someone's time away during one) —
  conservative, so the limit holds on every day whatever the proposal, and exact as a network flow (each
  person is in one team).
* **Score** of a pair (integer hundredths): ``benefit_weight × plan_benefit_weeks`` (weeks of
  time-to-readiness the opportunity saves in the person's plan; unknown = 0) ``+ equity_weight`` if the
  person started no move in the last 12 months ``+`` skill fit (0–1, :func:`skill_fit`). A pair with score
  0 earns nothing and is never proposed.

Loading is set-based and vectorised: a handful of queries, each concatenated in the database into one
value (text, or a binary array on PostgreSQL) that numpy reads in one go. Applications travel as one
64-bit integer each (person key, opportunity key, plan benefit: the integer keys of migration 0005), scanned
in id ranges on two connections while this thread digests the rest; no per-person queries, no ORM rows,
no text ids for the millions of pairs. The min-cost-flow network grows as each range is scored (release
limits need no application, so the network can start before the first range arrives), so only a few
thousand arcs are left to add once the last range is in. Application ids are looked up afterwards, for the
chosen pairs only.
``benchmarks/allocation.py`` compares the whole use case with the raw min-cost-flow solve.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import operator
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from psycopg.adapt import Loader
from psycopg.pq import Format
from pydantic import BaseModel
from sqlalchemy import Connection, Text, cast, func, select, update

from micromoves.allocation import AllocationProblem, NetworkBuilder, solve
from micromoves.domain.errors import Conflict, InvalidValue, NotFound
from micromoves.domain.lifecycle import COMMITTED_STATUSES, ENDED_STATUSES, OCCUPYING_STATUSES
from micromoves.domain.marketplace import ApplicationStatus, OpportunityStatus
from micromoves.domain.model import MoveStatus
from micromoves.storage import tables as t
from micromoves.storage.bulk import BulkWriter
from micromoves.storage.db import Database
from micromoves.storage.uow import UnitOfWork, utcnow

Progress = Callable[[str, int, int], None]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

SCALE = 100  # scores are stored and solved in hundredths
LIVE = (ApplicationStatus.APPLIED.value, ApplicationStatus.WAITLISTED.value)
SEAT_TAKING = (ApplicationStatus.ACCEPTED.value, ApplicationStatus.OFFERED.value)
# Moves that hold the person's time over their dates (a reverted trial gave its time back), or will once
# their request is approved (marketplace.COMMITTED_STATUSES: the eligibility rules count them the same way).
BUSY = tuple(s.value for s in COMMITTED_STATUSES)
# Who counts against a team's release limit: people away or released to go (approved, onboarding, active, in
# review: a move past its release that has not ended), and people the marketplace promised a seat (an open
# offer; an accepted seat whose move awaits the line manager's release). A move that is only requested does
# not count: nobody released the person yet, and may never (the demo's teams of nine were held back for a
# colleague who had asked for two moves).
OFFERED = "offer"  # the status given to open offers in the scan of busy moves (no move status is called so)
SEATED = "seat"  # the status given to the requested move of an accepted seat in that scan
RELEASED = tuple(sorted(s.value for s in OCCUPYING_STATUSES - ENDED_STATUSES))
AWAY = (*RELEASED, SEATED, OFFERED)
# A person is away from their team when moves (or open offers) take at least this share of a working week
# together: a 5% mentoring or a 10% course leaves them at work in their team.
AWAY_PERCENT = 50
RECENT_DAYS = 365


@dataclass
class ProposedAssignment:
    application_id: int
    person_id: str
    person_name: str
    opportunity_id: str
    opportunity_title: str
    score: float
    explanation: str


@dataclass
class AllocationProposal:
    run_id: int
    status: str
    objective: float
    assignments: list[ProposedAssignment]
    stats: dict[str, Any] = field(default_factory=dict)
    problem: AllocationProblem | None = None  # the solved problem (benchmarks compare with a raw solve)
    # Each pair of the problem as positions into the person and opportunity ids: see :meth:`pair`.
    pairs: tuple[I64, I64, list[str], list[str]] | None = None
    out_of_date: str | None = None  # see out_of_date(); only a stored run that is still proposed is checked

    def pair(self, k: int) -> tuple[str, str]:
        """(opportunity id, person id) of the problem's pair ``k`` (kept with ``keep_problem``)."""
        assert self.pairs is not None, "propose with keep_problem=True"
        person, opp, people_ids, opp_ids = self.pairs
        return opp_ids[int(opp[k])], people_ids[int(person[k])]


# ------------------------------------------------------------------------------------------ loading


SEP = "\x1f"  # ASCII unit separator: never part of an id, a name or a location


@dataclass(frozen=True)
class _Number:
    """A numeric column of :func:`_columns` (NULLs coalesced away): ``int8`` or ``float8``.

    On PostgreSQL it travels as an array in binary format, which numpy reads as it is; printing and
    parsing millions of numbers as text cost more (floats especially: about 200 ns each to parse)."""

    expr: str
    sql_type: str = "int8"


def _agg(db: Database, expr: str | _Number, order: str | None = None) -> str:
    """``expr`` aggregated over the rows: text separated by :data:`SEP` (NULLs must be coalesced away), or
    on PostgreSQL a binary array for a :class:`_Number`."""
    if db.backend == "postgresql":
        by = f" ORDER BY {order}" if order else ""
        if isinstance(expr, _Number):
            return f"array_agg(({expr.expr})::{expr.sql_type}{by})"
        return f"string_agg(({expr})::text, chr(31){by})"
    text = expr.expr if isinstance(expr, _Number) else expr
    return f"group_concat({text}, '{SEP}')"  # a literal: char(31) would be called once per row


def _columns(db: Database, exprs: Sequence[str | _Number], rest: str, *, order: str | None = None) -> list[Any]:
    """Columns of a query, each aggregated in the database into one value: a string (pieces separated by
    SEP), or for a :class:`_Number` on PostgreSQL the bytes of a binary array (:func:`_ints` and
    :func:`_floats` read either).

    One row crosses the driver instead of millions of tuples; numpy parses numbers straight from the
    strings or arrays. All aggregates of one query see the rows in the same order (one serial scan:
    parallel aggregation is switched off on PostgreSQL).
    """
    sql = f"SELECT {', '.join(_agg(db, e, order) for e in exprs)} {rest}"
    with db.engine.connect() as conn:
        if db.backend == "postgresql":
            _one_serial_scan(conn)
            row = _binary_cursor(conn).execute(sql).fetchone()
        else:
            row = conn.exec_driver_sql(sql).one()
    return [v or "" for v in row]


def _one_serial_scan(conn: Connection) -> None:
    """PostgreSQL settings for the rest of this transaction: one serial scan (the aggregates of a query see
    the rows in one order, and the loader already runs queries side by side), no JIT (compiling costs more
    than it saves on one scan)."""
    conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
    conn.exec_driver_sql("SET LOCAL jit = off")


def _ints(blob: str | bytes) -> I64:
    if isinstance(blob, bytes):
        return _numbers(blob, ">i8").astype(np.int64)
    out: I64 = np.fromstring(blob, sep=SEP, dtype=np.int64) if blob else np.zeros(0, np.int64)
    return out


def _floats(blob: str | bytes) -> F64:
    if isinstance(blob, bytes):
        return _numbers(blob, ">f8").astype(np.float64)
    out: F64 = np.fromstring(blob, sep=SEP, dtype=np.float64) if blob else np.zeros(0, np.float64)
    return out


def _numbers(blob: bytes, element: str) -> npt.NDArray[Any]:
    values, nulls = _binary_array(blob, element)
    if nulls:
        raise ValueError("a numeric column holds NULLs; coalesce them in its expression")
    return values


def _texts(blob: str, n: int) -> list[str]:
    """A text column of ``n`` rows that may hold empty strings: an empty aggregate is ``n`` of them (one row
    holding '' aggregates to '', just like no row at all)."""
    return blob.split(SEP) if blob else [""] * n


def _strs(blob: str) -> list[str]:
    return blob.split(SEP) if blob else []


CHUNKS = 4  # the scan of applications, in id ranges: the database reads one while this thread maps another
CHUNK_ROWS = 2_000_000
BENEFIT_BITS = 10  # plan benefit in weeks: 0 … 1023 (a check constraint; a horizon is at most 520 weeks)


def _id_range(db: Database) -> tuple[int, int]:
    # Two queries: SQLite answers min() or max() alone from the index, both together by a full scan.
    with db.engine.connect() as conn:
        lo = conn.scalar(select(func.min(t.applications.c.id)))
        hi = conn.scalar(select(func.max(t.applications.c.id)))
    return int(lo or 0), int(hi or 0)


# One application as one 64-bit integer: person key (29 bits), opportunity key (24 bits), benefit (10 bits).
# Integer keys (migration 0005) instead of text ids: the database does the least work per row (one integer
# expression, one aggregate) and numpy maps keys to positions with one fancy index. On SQLite the value
# comes from a partial index of the live applications (migration 0006, which spells the same expression).
OPP_BITS = 24
PERSON_SHIFT = OPP_BITS + BENEFIT_BITS  # 34, as migration 0006 spells it
PACKED = f"(person_key << {PERSON_SHIFT}) | (opportunity_key << {BENEFIT_BITS}) | coalesce(plan_benefit_weeks, 0)"
# Migration 0006 (SQLite only): the live applications with their packed value, in id order.
LIVE_PACKED_INDEX = "ix_applications_live_packed"
LIVE_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in LIVE))
# Spelled as migration 0007's partial index is (SQLite uses a partial index only for the same literal terms).
SEAT_TAKING_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in SEAT_TAKING))


def _keys_fit(db: Database) -> bool:
    """Do all keys fit their fields? Keys only grow, so if the largest do, every scanned row's did (checked
    again after the scan: a row keyed meanwhile past the limit would have spilled into the next field)."""
    top_person, top_opp = _top_keys(db)
    return top_person < 1 << (63 - PERSON_SHIFT) and top_opp < 1 << OPP_BITS


def _unpack(packed: I64) -> tuple[I64, I64, I64]:
    """(person key, opportunity key, benefit weeks) of each packed application."""
    benefit = packed & ((1 << BENEFIT_BITS) - 1)
    opp = (packed >> BENEFIT_BITS) & ((1 << OPP_BITS) - 1)
    return packed >> PERSON_SHIFT, opp, benefit


def _top_keys(db: Database) -> tuple[int, int]:
    with db.engine.connect() as conn:
        top_person = conn.scalar(select(func.max(t.people.c.key))) or 0
        top_opp = conn.scalar(select(func.max(t.opportunities.c.key))) or 0
    return int(top_person), int(top_opp)


Chunk = tuple[I64, int]  # packed applications, and how many live applications the range holds


INT8_ARRAY_OID = 1016
FLOAT8_ARRAY_OID = 1022


class _RawBinary(Loader):
    """A psycopg loader that hands over a binary value untouched."""

    format = Format.BINARY

    def load(self, data: Any) -> bytes:
        return bytes(data)


def _binary_cursor(conn: Connection) -> Any:
    """A psycopg cursor on ``conn``'s connection that returns results in binary format, with ``int8[]`` and
    ``float8[]`` values as their raw bytes (psycopg would build a list of Python numbers from them)."""
    driver = conn.connection.driver_connection
    assert driver is not None
    cur = driver.cursor(binary=True)
    for oid in (INT8_ARRAY_OID, FLOAT8_ARRAY_OID):
        cur.adapters.register_loader(oid, _RawBinary)
    return cur


def _binary_array(blob: bytes | None, element: str) -> tuple[npt.NDArray[Any], bool]:
    """The values of a one-dimensional array of 8-byte ``element`` (``>i8``, ``>f8``) from PostgreSQL's
    binary format, and whether it held NULLs: a header (dimensions, has-NULLs flag, element type, then size
    and lower bound per dimension) and per element a 4-byte length and the value, all big-endian. NULL
    elements are left out."""
    if not blob:
        return np.zeros(0, element), False
    ndim, has_null = int.from_bytes(blob[0:4], "big"), int.from_bytes(blob[4:8], "big")
    if ndim != 1:
        return np.zeros(0, element), False
    n = int.from_bytes(blob[12:16], "big")
    if has_null:
        out, pos = [], 20
        for _ in range(n):
            size = int.from_bytes(blob[pos : pos + 4], "big", signed=True)
            pos += 4
            if size == 8:
                out.append(blob[pos : pos + 8])
                pos += 8
        return np.frombuffer(b"".join(out), element), True
    cells = np.frombuffer(blob, dtype=np.dtype([("size", ">i4"), ("value", element)]), offset=20, count=n)
    return cells["value"], False


def _int8_array(blob: bytes | None) -> I64:
    """The values of a one-dimensional ``int8[]``; NULL elements (keys missing) are left out, so the
    caller's count check catches them."""
    values: I64 = _binary_array(blob, ">i8")[0].astype(np.int64)
    return values


INDEX_ONLY_VISIBLE = 0.9  # share of the table's pages the visibility map must mark all-visible


def _index_only(db: Database) -> bool:
    """Should the PostgreSQL scan read the covering index of live applications (migration 0008) alone?

    Only while the visibility map is fresh: an index-only scan must visit the table for every entry on a
    page not marked all-visible, and on a table much updated since its last VACUUM that costs more than
    reading the table. The planner would rather read the table anyway (it prices the index's pages as
    random reads), so the choice is made here, from the statistics VACUUM and ANALYZE leave in pg_class.
    """
    if db.backend != "postgresql":
        return False
    with db.engine.connect() as conn:
        visible = conn.exec_driver_sql(
            "SELECT c.relallvisible::float8 / greatest(c.relpages, 1) FROM pg_class c "
            "WHERE c.oid = 'applications'::regclass AND to_regclass('ix_applications_live_keys') IS NOT NULL"
        ).scalar()
    return visible is not None and visible >= INDEX_ONLY_VISIBLE


def _index_only_settings() -> list[str]:
    """What makes the planner read the covering index (any other plan would read the table)."""
    return ["SET LOCAL enable_seqscan = off", "SET LOCAL enable_bitmapscan = off"]


def _live_applications(db: Database, lo: int, hi: int, index_only: bool = False) -> Chunk:
    """The live applications with ``lo <= id < hi``, packed (:data:`PACKED`), and their count.

    One value crosses the driver: on PostgreSQL an ``int8[]`` in binary format, which numpy reads without
    parsing, from the table or (``index_only``, see :func:`_index_only`) the covering index of live
    applications (migration 0008); on SQLite text, which numpy parses in C, read from the partial index of
    live applications (migration 0006). ``count(*)`` proves no row was lost to a missing key (NULLs are
    left out).
    """
    if db.backend == "postgresql":
        where = f"WHERE id >= {int(lo)} AND id < {int(hi)} AND {LIVE_SQL}"
        with db.engine.connect() as conn:
            _one_serial_scan(conn)
            for setting in _index_only_settings() if index_only else []:
                conn.exec_driver_sql(setting)
            # One int8[] in PostgreSQL's binary format, read by numpy as it is.
            sql = f"SELECT array_agg({PACKED}), count(*) FROM applications {where}"  # noqa: S608
            blob, count = _binary_cursor(conn).execute(sql).fetchone()
        return _int8_array(blob), int(count)
    with db.engine.connect() as conn:
        blob, count = conn.exec_driver_sql(_sqlite_live_sql(lo, hi)).one()
    values: I64 = np.fromstring(blob, sep=",", dtype=np.int64) if blob else np.zeros(0, np.int64)
    return values, int(count)


def _sqlite_live_sql(lo: int, hi: int) -> str:
    """SQLite's scan of the live applications with ``lo <= id < hi``: their packed values as text, and their
    count. SQLite is told to read the partial index: with statistics (ANALYZE, or PRAGMA optimize) it would
    rather search the table by row id and compute each packed value from the whole row (1.7× the time)."""
    where = f"WHERE id >= {int(lo)} AND id < {int(hi)} AND {LIVE_SQL}"
    return f"SELECT group_concat({PACKED}, ','), count(*) FROM applications INDEXED BY {LIVE_PACKED_INDEX} {where}"  # noqa: S608


def _checked(chunk: Chunk) -> I64:
    values, count = chunk
    if len(values) != count:
        # The keys are filled by database triggers (migration 0005); a row without them would vanish here.
        raise Conflict(
            "some applications have no integer keys; run `micromoves init` to upgrade the database",
            field="applications",
        )
    return values


# The chosen pairs, found, stored and returned with the person's name in one statement (PostgreSQL).
_STORE_PG = (
    "WITH w(o, p, score, note) AS ("  # noqa: S608 - LIVE_SQL below is a constant of this module
    "  SELECT * FROM unnest(string_to_array(%s, chr(31)), string_to_array(%s, chr(31)),"
    "                       %s::float8[], %s::text[])),"
    # Each pair found on the unique index; the names after (in this join PostgreSQL would scan everyone).
    " found AS MATERIALIZED ("
    "  SELECT a.id, w.o, w.p, w.score, w.note FROM w"
    "  JOIN applications a ON a.opportunity_id = w.o AND a.person_id = w.p"
    f"  WHERE a.{LIVE_SQL}),"
    " stored AS (INSERT INTO allocation_assignments (run_id, application_id, score, explanation)"
    "  SELECT %s, id, score, note FROM found)"
    " SELECT f.o, f.p, f.id, pe.name FROM found f JOIN people pe ON pe.id = f.p"
)


def _store_assignments(
    conn: Connection, run_id: int, pairs: Sequence[tuple[str, str]], scores: Sequence[float], notes: Sequence[str]
) -> dict[tuple[str, str], tuple[int, str]]:
    """Store the chosen (opportunity, person) pairs of run ``run_id`` with their scores and explanations, each
    as its application if that is still live, and return (application id, person name) per stored pair.

    A pair missing from the answer was withdrawn, decided or deleted after the scan (or its person was): the
    caller refuses the run, and its transaction writes nothing. The application ids are looked up here, for
    the chosen few, not carried through the scan of millions.

    The look-up runs in the caller's write transaction. On SQLite, which holds the write lock, the check that
    every chosen application is still live and the stored run cannot disagree; on PostgreSQL an application
    withdrawn between the statement and the commit can still be stored (nothing is locked for the look-up),
    and :func:`apply_allocation` checks every application again, under lock, before it offers anything.
    On PostgreSQL one statement does it all: the chosen pairs travel
    as arrays, each is found on the unique index of (opportunity, person), inserted, and returned with the
    person's name. (Measured at 5,700 seats: no faster than a look-up, a name query and a COPY; the row-level
    foreign-key checks of the inserted rows take most of the time either way.) SQLite looks the pairs up in
    chunks (``(a, b) IN (…)`` would scan the whole index once per query) and inserts them with executemany.
    """
    out: dict[tuple[str, str], tuple[int, str]] = {}
    if not pairs:
        return out
    if conn.dialect.name == "postgresql":
        # Ids travel as one SEP-joined string each (the driver adapts a string at once, a list item by item);
        # the explanations as a text[] (free text: a role title could hold any character).
        ordered = sorted(range(len(pairs)), key=pairs.__getitem__)  # index order: neighbouring probes share pages
        rows = conn.exec_driver_sql(
            _STORE_PG,
            (
                SEP.join(pairs[i][0] for i in ordered),
                SEP.join(pairs[i][1] for i in ordered),
                [scores[i] for i in ordered],
                [notes[i] for i in ordered],
                run_id,
            ),
        )
        return {(o, p): (int(app_id), name) for o, p, app_id, name in rows}
    position = {pair: i for i, pair in enumerate(pairs)}
    for i in range(0, len(pairs), 2_000):
        chunk = pairs[i : i + 2_000]
        values = ", ".join(["(?, ?)"] * len(chunk))
        # The status is checked here, not in SQL: with it in the WHERE clause SQLite would rather scan the
        # partial index of live applications than probe the unique index once per pair (0.7 s against 0.1 s).
        sql = (
            f"WITH wanted(o, p) AS (VALUES {values}) "  # noqa: S608 - only parameter markers
            "SELECT a.opportunity_id, a.person_id, a.id, a.status, p.name FROM wanted "
            "JOIN applications a ON a.opportunity_id = wanted.o AND a.person_id = wanted.p "
            "JOIN people p ON p.id = a.person_id"
        )
        for o, p, app_id, status, name in conn.exec_driver_sql(sql, tuple(x for pair in chunk for x in pair)):
            if status in LIVE:
                out[(o, p)] = (int(app_id), name)
    BulkWriter(conn).insert(
        t.allocation_assignments,
        ["run_id", "application_id", "score", "explanation"],
        (
            (run_id, out[pair][0], scores[position[pair]], notes[position[pair]])
            for pair in sorted(out, key=position.__getitem__)
        ),
    )
    return out


def _role_titles(db: Database, role_ids: set[str]) -> dict[str, str]:
    if not role_ids:
        return {}
    with db.engine.connect() as conn:
        rows = conn.execute(select(t.roles.c.id, t.roles.c.title).where(t.roles.c.id.in_(sorted(role_ids))))
        return {rid: title for rid, title in rows}


def _levels_columns(db: Database, skills: Sequence[str]) -> list[Any]:
    """(person id, skill id, level, recency) of the assessments of ``skills``: the latest counts, and recency
    orders them (the day assessed, then the row id, in one integer)."""
    if not skills:
        return ["", "", "", ""]
    wanted = ", ".join("'" + s.replace("'", "''") + "'" for s in skills)
    day = (
        "(assessed_on - DATE '2000-01-01')" if db.backend == "postgresql" else "CAST(julianday(assessed_on) AS INTEGER)"
    )
    return _columns(
        db,
        # ids below 2**32 (int4 on PostgreSQL; SQLite rowids assigned in order): the id only breaks ties
        ["person_id", "skill_id", _Number("level", "float8"), _Number(f"{day} * {1 << 32} + id")],
        f"FROM skill_levels WHERE skill_id IN ({wanted})",
    )


def _people_columns(db: Database) -> list[Any]:
    """Everyone, with their integer key (the scan of applications refers to people by key)."""
    return _columns(
        db,
        [
            "p.id",
            "coalesce(p.team_id, '')",
            _Number("coalesce(r.level, 0)"),
            "coalesce(cast(p.hire_date AS TEXT), 'NaT')",
            "p.location",
            _Number("p.capacity_percent - p.home_role_min_percent"),
            _Number("coalesce(p.key, -1)"),
            "coalesce(p.target_role_id, '')",
        ],
        "FROM people p LEFT JOIN roles r ON r.id = p.role_id",
    )


def _open() -> Any:
    return t.opportunities.c.status == OpportunityStatus.OPEN.value


def _ordinal(day: dt.date | str | None) -> int:
    if day is None:
        return 0
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    return day.toordinal()


def _seat_taking_sql(dialect: str) -> str:
    """Applications taking a seat, counted per opportunity. SQLite without statistics would rather walk the
    whole (opportunity, status) index to group without sorting: it is told to use the partial index."""
    hint = " INDEXED BY ix_applications_seat_taking" if dialect == "sqlite" else ""
    return f"SELECT opportunity_id, count(*) FROM applications{hint} WHERE {SEAT_TAKING_SQL} GROUP BY opportunity_id"  # noqa: S608


@dataclass
class _Opportunities:
    ids: list[str]
    titles: list[str]
    start: I64
    end: I64
    percent: I64
    free_seats: I64
    min_level: I64
    min_tenure: I64
    locations: list[tuple[str, ...]]
    required: list[dict[str, float]]
    preferred: list[dict[str, float]]
    by_key: _KeyIndex  # position of the open opportunity with each key (−1: none, or not open)


def _load_opportunities(conn: Connection, today: dt.date) -> _Opportunities:
    """The open opportunities still to run on ``today`` (dates are inclusive): nothing closes an open one
    when its end passes, and marketplace.decide refuses to offer or accept it then."""
    o = t.opportunities.c
    # The JSON columns as text, parsed below in one ``json.loads`` (the driver's per-value parsing cost
    # three calls per opportunity, about as much as the rest of the query).
    rows = conn.execute(
        select(
            o.id,
            o.title,
            o.start,
            o.end,
            o.percent_time,
            o.seats,
            o.min_role_level,
            o.min_tenure_months,
            cast(o.locations, Text),
            cast(o.required_skills, Text),
            cast(o.preferred_skills, Text),
            o.key,
        )
        .where(_open(), o.end >= today)
        .order_by(o.id)
    ).all()
    parsed = json.loads("[" + ",".join(f"[{r[8] or 'null'},{r[9] or 'null'},{r[10] or 'null'}]" for r in rows) + "]")
    if len(parsed) != len(rows) or any(len(x) != 3 for x in parsed):  # text that is not one JSON value each
        raise Conflict(
            "an open opportunity holds malformed skills or locations; fix or close it", field="opportunities"
        )
    # Seat-taking applications are few, and read from their own partial index (migration 0007); the counts
    # of opportunities that are not open are simply not looked up.
    taken: dict[str, int] = dict(conn.exec_driver_sql(_seat_taking_sql(conn.dialect.name)).all())
    # Column-wise: a comprehension per column over the transposed rows, not an attribute lookup per cell.
    ids, titles, start, end, percent, seats, min_level, min_tenure, _, _, _, keys = (
        list(col) for col in (zip(*rows, strict=True) if rows else [()] * 12)
    )
    return _Opportunities(
        ids=ids,
        titles=titles,
        start=np.array([_ordinal(d) for d in start], np.int64),
        end=np.array([_ordinal(d) for d in end], np.int64),
        percent=np.array(percent, np.int64),
        free_seats=np.maximum(0, np.array(seats, np.int64) - np.array([taken.get(i, 0) for i in ids], np.int64)),
        min_level=np.array([v or 0 for v in min_level], np.int64),
        min_tenure=np.array([v or 0 for v in min_tenure], np.int64),
        locations=[tuple(loc or ()) for loc, _, _ in parsed],
        required=[{k: float(v) for k, v in (req or {}).items()} for _, req, _ in parsed],
        preferred=[{k: float(v) for k, v in (pref or {}).items()} for _, _, pref in parsed],
        by_key=_KeyIndex(np.array([-1 if k is None else k for k in keys], np.int64)),
    )


@dataclass
class _People:
    ids: list[str]
    index: dict[str, int]
    team: npt.NDArray[np.int32]
    n_teams: int
    level: I64
    months: I64  # whole months with the organisation at ``today``
    hired: I64  # hire date as a proleptic ordinal (0: none)
    location: I64  # code into ``location_names``
    location_names: list[str]
    capacity: I64  # capacity for moves (capacity − home-role share)
    by_key: _KeyIndex  # position of the person with each key
    target: list[str]  # target role id ('' for none), for the explanations of the chosen few

    def positions(self, ids: str) -> I64:
        """Row positions of the people with these ids (a SEP-joined string)."""
        return _lookup(self.index, _strs(ids))


EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _days(col: Sequence[str]) -> I64:
    """ISO dates (``'NaT'`` for none) as proleptic ordinals (``date.toordinal``); none → 0."""
    if not col:
        return np.zeros(0, np.int64)
    days = np.array([d[:10] for d in col], dtype="datetime64[D]")
    out = days.astype(np.int64) + EPOCH_ORDINAL
    return np.where(np.isnat(days), 0, out)


def _codes(col: Sequence[str]) -> tuple[I64, list[str]]:
    found: dict[str, int] = {}
    codes = np.array([found.setdefault(x, len(found)) for x in col], np.int64)
    return codes, list(found)


def _people(cols: list[str], today: dt.date) -> _People:
    ids, team_ids, levels, hired, locations, capacity, keys, targets = cols
    n = len(people_ids := _strs(ids))
    team, teams = _codes(_texts(team_ids, n))
    location, location_names = _codes(_texts(locations, n))
    hire = np.array(_strs(hired), dtype="datetime64[D]")
    year = hire.astype("datetime64[Y]").astype(np.int64) + 1970
    month = hire.astype("datetime64[M]").astype(np.int64) % 12 + 1
    # A pre-hire (hired after today) has 0 months, as domain.marketplace.ineligibility counts them.
    months = np.where(np.isnat(hire), 0, np.maximum(0, (today.year - year) * 12 + today.month - month))
    return _People(
        ids=people_ids,
        index={pid: i for i, pid in enumerate(people_ids)},
        team=team.astype(np.int32),
        n_teams=len(teams),
        level=_ints(levels),
        months=months.astype(np.int64),
        hired=np.where(np.isnat(hire), 0, hire.astype(np.int64) + EPOCH_ORDINAL),
        location=location,
        location_names=location_names,
        capacity=_ints(capacity),
        by_key=_KeyIndex(_ints(keys)),
        target=_texts(targets, n),
    )


class _KeyIndex:
    """Row position of each integer key (−1: no such row here, e.g. one inserted after the load).

    Keys are dense in practice (1…n), and then a lookup is one ``np.take``. They can thin out (PostgreSQL
    spends a key on every upserted row that already existed), so past 4 keys per row a sorted search is
    used instead of an array as long as the largest key.
    """

    def __init__(self, keys: I64) -> None:
        has = np.flatnonzero(keys >= 0)
        top = int(keys.max(initial=0))
        self.dense: I64 | None = None
        if top <= 4 * len(keys) + 1_000:
            self.dense = np.full(top + 2, -1, np.int64)  # one −1 past the end: ``clip`` sends larger keys there
            self.dense[keys[has]] = has
        else:
            order = np.argsort(keys[has], kind="stable")
            self.sorted_keys, self.rows = keys[has][order], has[order]

    def at(self, keys: I64) -> I64:
        """Positions of ``keys`` (all ≥ 0)."""
        if self.dense is not None:
            out: I64 = np.take(self.dense, keys, mode="clip")
            return out
        i = np.minimum(np.searchsorted(self.sorted_keys, keys), len(self.sorted_keys) - 1)
        found: I64 = np.where(self.sorted_keys[i] == keys, self.rows[i], -1)
        return found


def _lookup(index: dict[str, int], keys: Sequence[str]) -> I64:
    """``index[k]`` for every k, in C (one ``itemgetter`` call)."""
    if not keys:
        return np.zeros(0, np.int64)
    return np.array(operator.itemgetter(*keys)(index), np.int64).reshape(-1)


def _skill_matrix(cols: list[Any], people: _People, skills: list[str]) -> F64:
    """Current level (the latest assessment) of each person in each of ``skills``: people × skills."""
    matrix = np.zeros((len(people.ids), max(len(skills), 1)), np.float64)
    keys, sid, level, recency = cols
    if not keys:
        return matrix
    person = people.positions(keys)
    skill = _lookup({s: k for k, s in enumerate(skills)}, _strs(sid))
    cell = person * len(skills) + skill
    order = np.lexsort((_ints(recency), cell))  # by cell, oldest first
    cell = cell[order]
    newest = order[np.append(cell[1:] != cell[:-1], True)]  # the last of each cell's run
    matrix[person[newest], skill[newest]] = _floats(level)[newest]
    return matrix


# person, start, end, percent of time held, counts as away (status), share of time away (an offer holds no
# time yet, but takes its opportunity's share away once accepted)
Moves = tuple[I64, I64, I64, I64, npt.NDArray[np.bool_], I64]


def _busy_moves(db: Database, lo: int, hi: int) -> list[Any]:
    """(person id, start, end, percent, status, share away) of moves holding time anywhere in ordinal days
    lo..hi, and of open offers over their opportunity's dates (status :data:`OFFERED`, with the
    opportunity's share): an offer holds its seat for the person and their time with it, so a later run
    does not offer them a seat they could only take by declining it (both could be accepted, and the clash
    would surface only at the line manager's release). A requested move of an accepted seat has the status
    :data:`SEATED` (it counts against the release limit, a request of the person's own does not)."""
    busy = ", ".join(f"'{s}'" for s in BUSY)
    first, last = dt.date.fromordinal(max(lo, 1)).isoformat(), dt.date.fromordinal(max(hi, 1)).isoformat()
    offered, accepted = ApplicationStatus.OFFERED.value, ApplicationStatus.ACCEPTED.value
    requested = MoveStatus.REQUESTED.value
    return _columns(
        db,
        [
            "m.person_id",
            "cast(m.start AS TEXT)",
            'cast(m."end" AS TEXT)',
            _Number("m.percent_time"),
            "m.status",
            _Number("m.away_share"),
        ],
        # Only constants and ISO dates made here go into the text: no input reaches it.
        'FROM (SELECT mv.person_id, mv.start, mv."end", mv.percent_time, '  # noqa: S608
        # A request that is an accepted seat's (the seat-taking applications: few, and indexed) is told apart.
        f"CASE WHEN mv.status = '{requested}' AND mv.id IN (SELECT s.move_id FROM applications s "
        f"WHERE s.status = '{accepted}' AND s.move_id IS NOT NULL) THEN '{SEATED}' "
        "ELSE cast(mv.status AS TEXT) END AS status, mv.percent_time AS away_share "
        f"FROM moves mv WHERE mv.status IN ({busy}) AND mv.\"end\" >= '{first}' AND mv.start <= '{last}' "
        f"UNION ALL SELECT a.person_id, o.start, o.\"end\", o.percent_time, '{OFFERED}', o.percent_time "
        f"FROM applications a JOIN opportunities o ON o.id = a.opportunity_id WHERE a.status = '{offered}' "
        f"AND o.\"end\" >= '{first}' AND o.start <= '{last}') AS m",
    )


def _moves(cols: list[str], people: _People) -> Moves:
    keys, start, end, percent, status, away_share = cols
    return (
        people.positions(keys),
        _days(_strs(start)),
        _days(_strs(end)),
        _ints(percent),
        np.isin(np.array(_strs(status), dtype=object), list(AWAY)),
        _ints(away_share),
    )


def _recent_movers(db: Database, today: dt.date) -> list[str]:
    """Keys of the people who started a move in the 12 months up to ``today``."""
    statuses = ", ".join(f"'{s.value}'" for s in OCCUPYING_STATUSES)
    since = (today - dt.timedelta(days=RECENT_DAYS)).isoformat()
    return _columns(
        db,
        ["r.person_id"],
        f"FROM (SELECT DISTINCT person_id FROM moves WHERE status IN ({statuses}) "  # noqa: S608
        f"AND start > '{since}' AND start <= '{today.isoformat()}') AS r",
    )


# --------------------------------------------------------------------------------- vectorised rules


def _ragged(counts: I64) -> tuple[I64, I64]:
    """For groups of sizes ``counts``: the group of each expanded element and its rank within the group."""
    group = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    return group, np.arange(int(counts.sum()), dtype=np.int64) - starts[group]


def peak_load(intervals: Sequence[tuple[int, int, int]], start: int, end: int) -> int:
    """The highest total share of ``intervals`` (start, end, percent; inclusive days) on any day of start..end."""
    points = {start} | {s for s, _, _ in intervals if start <= s <= end}
    return max((sum(p for s, e, p in intervals if s <= day <= e) for day in points), default=0)


def free_percent(person: I64, opp_start: I64, opp_end: I64, people: _People, moves: Moves) -> I64:
    """Each pair's free share of time over the opportunity's dates (capacity minus the peak of busy moves)."""
    m_person, m_start, m_end, m_percent, _, _ = moves
    free = people.capacity[person].copy()
    if len(m_person) == 0 or len(person) == 0:
        return free
    order = np.argsort(m_person, kind="stable")
    m_person, m_start, m_end, m_percent = m_person[order], m_start[order], m_end[order], m_percent[order]
    first = np.searchsorted(m_person, np.arange(len(people.ids)))
    count = np.bincount(m_person, minlength=len(people.ids))
    has = np.flatnonzero(count[person] > 0)
    pair, rank = _ragged(count[person[has]])
    pair = has[pair]
    mv = first[person[pair]] + rank
    overlap = (m_start[mv] <= opp_end[pair]) & (m_end[mv] >= opp_start[pair])
    total = np.bincount(pair[overlap], weights=m_percent[mv[overlap]], minlength=len(person)).astype(np.int64)
    several = np.bincount(pair[overlap], minlength=len(person)) > 1
    # The sum of overlapping shares is the peak unless several moves overlap without overlapping each other.
    exact = total.copy()
    for k in np.flatnonzero(several):
        i = int(person[k])
        spans = [
            (int(m_start[x]), int(m_end[x]), int(m_percent[x])) for x in range(int(first[i]), int(first[i] + count[i]))
        ]
        exact[k] = peak_load(spans, int(opp_start[k]), int(opp_end[k]))
    out: I64 = np.maximum(free - exact, 0)
    return out


def _away_spells(person: I64, start: I64, end: I64) -> tuple[I64, I64, I64]:
    """Each person's time away as disjoint spells: overlapping or touching moves (inclusive days) merged."""
    order = np.lexsort((start, person))
    person, start, end = person[order], start[order], end[order]
    # Within a person (sorted by start), a move opens a new spell when it starts after every earlier one ended.
    span = int(end.max() - start.min()) + 2 if len(end) else 1
    reach = np.maximum.accumulate(end + person.astype(np.int64) * span)  # person offsets keep people apart
    opens = np.ones(len(person), bool)
    opens[1:] = (person[1:] != person[:-1]) | (start[1:] + person[1:].astype(np.int64) * span > reach[:-1] + 1)
    first = np.flatnonzero(opens)
    last_reach = np.append(reach[first[1:] - 1], reach[-1]) if len(first) else reach[:0]
    out_end: I64 = last_reach - person[first].astype(np.int64) * span
    return person[first], start[first], out_end


def _time_away(person: I64, start: I64, end: I64, share: I64, away_percent: int) -> tuple[I64, I64, I64]:
    """Each person's days away from their team (inclusive spells, not merged): the days on which their moves
    together take at least ``away_percent`` of their time. Two 30% gigs at once are 60% away; a 5% mentoring
    alone is not time away at all. Shares are of a full working week, as a move's ``percent_time`` is (a
    part-timer's 40% move counts as 40%, not as 80% of their contracted time)."""
    if away_percent < 1:  # below 1 every day would be away, before and after each move too
        raise ValueError(f"away_percent must be at least 1, got {away_percent}")
    if not len(person):
        return person, start, end
    # +share on a move's first day, −share the day after its last; each person's level is the running sum.
    day = np.concatenate([start, end + 1])
    delta = np.concatenate([share, -share])
    who = np.concatenate([person, person])
    order = np.lexsort((day, who))
    day, who = day[order], who[order]
    level = np.cumsum(delta[order])  # each person's events sum to 0, so one running sum serves everyone
    # The level after the last event of each (person, day) holds until that person's next event day.
    last = np.flatnonzero(np.append((who[1:] != who[:-1]) | (day[1:] != day[:-1]), True))
    away = last[level[last] >= away_percent]
    # A person's final level is 0 (below any threshold ≥ 1): an away group always has a next event of its own.
    nxt = last[np.searchsorted(last, away, side="right")]
    return who[away], day[away], day[nxt] - 1


def team_limits(
    people: _People, opps: _Opportunities, moves: Moves, release_share: float, away_percent: int = AWAY_PERCENT
) -> I64:
    """How many more people each team may release: floor(share × size) minus the most away on any day an
    open opportunity runs. Away: moves and open offers that together take at least ``away_percent`` of a
    person's time. The count of people away only rises at the start of someone's time away, so the days to
    look at are the opportunities' starts and the starts of time away falling inside one (looking at the
    opportunities' starts alone missed time away that begins once they have started)."""
    size = np.bincount(people.team, minlength=people.n_teams)
    allowed: I64 = np.floor(release_share * size + 1e-9).astype(np.int64)
    m_person, m_start, m_end, _, away_mask, away_share = moves
    if not len(opps.start) or not away_mask.any():
        return allowed
    m_person, m_start, m_end = _time_away(
        m_person[away_mask], m_start[away_mask], m_end[away_mask], away_share[away_mask], away_percent
    )
    if not len(m_person):
        return allowed
    # People, not moves: one person's overlapping moves (two mentorings at once) are one person away.
    m_person, m_start, m_end = _away_spells(m_person, m_start, m_end)
    leaving = m_start
    running = np.searchsorted(np.sort(opps.start), leaving, side="right") - np.searchsorted(
        np.sort(opps.end), leaving, side="left"
    )  # opportunities started by that day and not ended before it
    days = np.unique(np.concatenate([opps.start, leaving[running > 0]]))
    team = people.team[m_person].astype(np.int64)
    lo = np.searchsorted(days, m_start, side="left")
    hi = np.searchsorted(days, m_end, side="right")
    keep = hi > lo
    width = len(days) + 1
    keys = np.concatenate([team[keep] * width + lo[keep], team[keep] * width + hi[keep]])
    vals = np.concatenate([np.ones(int(keep.sum()), np.int64), -np.ones(int(keep.sum()), np.int64)])
    order = np.lexsort((vals, keys))  # ends before starts on the same day: never over-count
    running = np.cumsum(vals[order])  # each team's events sum to 0, so one global running sum works
    away = np.zeros(people.n_teams, np.int64)
    np.maximum.at(away, keys[order] // width, running)
    out: I64 = np.maximum(allowed - away, 0)
    return out


@dataclass(frozen=True)
class _SkillSlots:
    """Each opportunity's skills as fixed slots (required first, then preferred), for vectorised lookups.

    Per slot, one contiguous array per property over the opportunities, so scoring a pair gathers each
    with the pair's opportunity index directly."""

    col: list[I64]  # column in the skill matrix
    need: list[F64]  # level asked for; 1 where the slot asks for none (see ``free``)
    free: list[F64]  # +inf where the slot asks for no level (its part of the fit is whole), else 0
    weight: list[F64]  # 1 for a required skill, 0.5 for a preferred one, 0 for an empty slot
    required_level: list[F64 | None]  # level a required skill needs, −inf for others (None: none required)
    total: F64  # per opportunity: the sum of its weights

    @classmethod
    def of(cls, opps: _Opportunities, skills: list[str]) -> _SkillSlots:
        col = {s: k for k, s in enumerate(skills)}
        width = max([len(r) + len(p) for r, p in zip(opps.required, opps.preferred, strict=True)] + [1])
        n = len(opps.ids)
        idx, lvl = np.zeros((n, width), np.int64), np.zeros((n, width), np.float64)
        wgt, req = np.zeros((n, width), np.float64), np.zeros((n, width), bool)
        for j, (r, p) in enumerate(zip(opps.required, opps.preferred, strict=True)):
            slots = [(s, v, 1.0) for s, v in r.items()] + [(s, v, 0.5) for s, v in p.items()]
            for k, (s, level, w) in enumerate(slots):
                idx[j, k], lvl[j, k], wgt[j, k], req[j, k] = col[s], level, w, w == 1.0
        asks = lvl > 0
        required = np.where(req, lvl, -np.inf)
        return cls(
            col=[np.ascontiguousarray(idx[:, k]) for k in range(width)],
            need=[np.ascontiguousarray(np.where(asks[:, k], lvl[:, k], 1.0)) for k in range(width)],
            free=[np.ascontiguousarray(np.where(asks[:, k], 0.0, np.inf)) for k in range(width)],
            weight=[np.ascontiguousarray(wgt[:, k]) for k in range(width)],
            required_level=[np.ascontiguousarray(required[:, k]) if req[:, k].any() else None for k in range(width)],
            total=wgt.sum(axis=1),
        )


def _skill_terms(pair_person: I64, pair_opp: I64, slots: _SkillSlots, matrix: F64) -> tuple[npt.NDArray[np.bool_], F64]:
    """Per pair: are the required skill levels met, and the skill fit (as ``domain.marketplace.skill_fit``)."""
    ok = np.ones(len(pair_person), bool)
    got = np.zeros(len(pair_person), np.float64)
    # Slot by slot (required skills first, then preferred, as skill_fit sums them), only over the pairs
    # whose opportunity has that slot: most opportunities name a skill or two.
    flat = matrix.ravel()
    row = pair_person * matrix.shape[1]
    for k, weight in enumerate(slots.weight):
        has = (weight > 0)[pair_opp]
        share = np.count_nonzero(has) / max(len(has), 1)
        if share == 0:
            continue
        # Few pairs with this slot: work on those only; many: on all (an empty slot weighs 0 and asks 0).
        sel: Any = np.flatnonzero(has) if share < 0.5 else slice(None)
        o = pair_opp[sel]
        have = flat[row[sel] + slots.col[k][o]]
        # min(1, have / level), or 1 where the slot asks for no level (have / 1 + inf); + 0.0 changes nothing
        part = np.minimum(1.0, have / slots.need[k][o] + slots.free[k][o])
        got[sel] += weight[o] * part
        level = slots.required_level[k]
        if level is not None:
            short = have + 1e-9 < level[o]
            if short.any():
                ok[np.arange(len(ok))[sel][short]] = False
    tw = slots.total[pair_opp]
    fit: F64 = np.where(tw > 0, np.round(got / np.where(tw > 0, tw, 1.0), 4), 1.0)
    return ok, fit


@dataclass
class _Scorer:
    """Eligibility and score of candidate pairs (same rules as ``domain.marketplace.ineligibility``),
    vectorised; applied to each range of applications as it arrives, on the loader's threads."""

    people: _People
    opps: _Opportunities
    moves: Moves
    matrix: F64
    slots: _SkillSlots
    moved_recently: npt.NDArray[np.bool_]
    benefit_weight: float
    equity_weight: float

    def __post_init__(self) -> None:
        names = self.people.location_names
        self.loc_allowed = np.ones((len(self.opps.ids), max(len(names), 1)), bool)
        for j, locs in enumerate(self.opps.locations):
            if locs:
                self.loc_allowed[j] = [name in locs for name in names] or [False]
        self.has_rule = (self.opps.min_level > 0) | (self.opps.min_tenure > 0) | ~self.loc_allowed.all(axis=1)

    def __call__(self, packed: I64) -> tuple[int, I64, I64, I64, F64, npt.NDArray[np.bool_], I64, I64]:
        """(live pairs, then per eligible pair: person, opportunity, benefit, fit, fresh, score; then per
        opportunity the counts of live applications and of those not eligible, by the first rule each
        fails: ``SCREENED`` rows)."""
        people, opps = self.people, self.opps
        person_key, opp_key, benefit = _unpack(packed)
        person, opp = people.by_key.at(person_key), opps.by_key.at(opp_key)
        # Applications to opportunities that are not open drop out (and of anyone who joined after the load).
        on_open = np.flatnonzero((opp >= 0) & (person >= 0))
        if len(on_open) < len(packed):
            person, opp, benefit = person[on_open], opp[on_open], benefit[on_open]
        skills_ok, fit = _skill_terms(person, opp, self.slots, self.matrix)
        # Level, tenure and location: only where the opportunity sets such a rule (most set none).
        # A pre-hire's seat starting before their first day could never be accepted (rules.check_after_hire):
        # any opportunity, counted with the rules (domain.marketplace.ineligibility gives it first).
        rules_ok = opps.start[opp] >= people.hired[person]
        ruled = np.flatnonzero(self.has_rule[opp])
        if len(ruled):
            p, o = person[ruled], opp[ruled]
            passes = people.level[p] >= opps.min_level[o]
            passes &= people.months[p] >= opps.min_tenure[o]
            passes &= self.loc_allowed[o, people.location[p]]
            rules_ok[ruled[~passes]] = False
        ok = rules_ok & skills_ok
        screened_ok = ok.copy()
        ok &= free_percent(person, opps.start[opp], opps.end[opp], people, self.moves) >= opps.percent[opp]
        # Why seats may stay empty, per opportunity: cheap counts (the pairs are already in hand), by the
        # first rule missed in the order the person's own page gives them (domain.marketplace.ineligibility).
        n = len(opps.ids)
        screened = np.stack(
            [
                np.bincount(opp, minlength=n),
                np.bincount(opp[rules_ok & ~skills_ok], minlength=n),
                np.bincount(opp[~rules_ok], minlength=n),
                np.bincount(opp[screened_ok & ~ok], minlength=n),
            ]
        ).astype(np.int64)
        eligible = np.flatnonzero(ok)
        if len(eligible) < len(ok):
            person, opp, benefit, fit = person[eligible], opp[eligible], benefit[eligible], fit[eligible]
        fresh = ~self.moved_recently[person]
        score = np.rint(SCALE * (self.benefit_weight * benefit + self.equity_weight * fresh + fit)).astype(np.int64)
        return len(on_open), person, opp, benefit, fit, fresh, score, screened


# Rows of the scorer's per-opportunity counts: live applications, then those short on a required skill,
# outside a level/tenure/location rule, or without the free time over the opportunity's dates.
SCREENED = ("applied", "short_on_skills", "outside_rules", "no_free_time")
UNFILLED_LISTED = 50  # opportunities with empty seats described one by one in a run (the most empty first)


def empty_seats(
    opps: _Opportunities,
    people: _People,
    pair_person: I64,
    pair_opp: I64,
    chosen: I64,
    limits: I64,
    screened: I64,
) -> tuple[int, dict[str, int], list[dict[str, Any]], int]:
    """Why seats stay empty after the allocation: (empty seats, empty seats by main reason, the opportunities
    with empty seats, most empty first, up to ``UNFILLED_LISTED``, each with its counts and a plain reason,
    and how many opportunities keep empty seats).

    Of an opportunity's applicants, each is accounted for once: not eligible (by the first rule failed), placed
    on another opportunity (one at a time), held back because their team's release limit is used up, or
    eligible but not chosen (nothing to gain: a score of zero)."""
    n = len(opps.ids)
    filled = np.bincount(pair_opp[chosen], minlength=n)
    empty = np.maximum(opps.free_seats - filled, 0)
    if not empty.any():
        return 0, {}, [], 0
    placed = np.zeros(len(people.ids), bool)
    placed[pair_person[chosen]] = True
    team_used = np.bincount(people.team[pair_person[chosen]], minlength=people.n_teams)
    team_full = team_used >= limits
    unchosen = np.ones(len(pair_person), bool)
    unchosen[chosen] = False
    on_empty = unchosen & (empty[pair_opp] > 0)
    elsewhere = on_empty & placed[pair_person]
    held = on_empty & ~placed[pair_person] & team_full[people.team[pair_person]]
    idle = on_empty & ~placed[pair_person] & ~team_full[people.team[pair_person]]
    counts = {
        **{name: screened[k] for k, name in enumerate(SCREENED)},
        "placed_elsewhere": np.bincount(pair_opp[elsewhere], minlength=n),
        "release_limit": np.bincount(pair_opp[held], minlength=n),
        "not_chosen": np.bincount(pair_opp[idle], minlength=n),
        "placed_here": filled,
    }
    by_reason: dict[str, int] = {}
    unfilled: list[dict[str, Any]] = []
    for j in sorted(np.flatnonzero(empty).tolist(), key=lambda j: (-int(empty[j]), opps.ids[j])):
        row = {name: int(c[j]) for name, c in counts.items()}
        reason = _main_reason(row)
        by_reason[reason] = by_reason.get(reason, 0) + int(empty[j])
        if len(unfilled) < UNFILLED_LISTED:
            unfilled.append(
                {
                    "opportunity_id": opps.ids[j],
                    "title": opps.titles[j],
                    "empty": int(empty[j]),
                    **row,
                    "reason": why_empty(row),
                }
            )
    return int(empty.sum()), by_reason, unfilled, int(np.count_nonzero(empty))


# Why an applicant did not get one of an opportunity's empty seats, in words (and in this order).
EMPTY_SEAT_REASONS = {
    "short_on_skills": "short on a required skill",
    "outside_rules": "outside its level, tenure or location rules or hired after its start",
    "no_free_time": "without the free time over its dates",
    "placed_elsewhere": "placed on another opportunity",
    "release_limit": "held back: their team's release limit is used up",
    "not_chosen": "eligible but nothing to gain (a score of 0)",
}


def _main_reason(row: dict[str, int]) -> str:
    """The reason that accounts for most of an opportunity's applicants who did not get one of its seats
    (``no_applicants``: nobody applied; ``too_few_applicants``: every applicant got a seat here)."""
    if not row["applied"]:
        return "no_applicants"
    causes = [k for k in EMPTY_SEAT_REASONS if row[k]]
    return max(causes, key=lambda k: row[k]) if causes else "too_few_applicants"


def why_empty(row: dict[str, int]) -> str:
    """One plain line: why this opportunity keeps empty seats."""
    if not row["applied"]:
        return "nobody applied"
    parts = [f"{row[k]} {text}" for k, text in EMPTY_SEAT_REASONS.items() if row[k]]
    if not parts:
        return f"only {row['applied']} applied, and {'each' if row['applied'] > 1 else 'they'} got a seat here"
    here = [f"{row['placed_here']} got a seat here"] if row["placed_here"] else []
    return f"{row['applied']} applied: " + ", ".join(here + parts)


# ----------------------------------------------------------------------------------------- use cases


MAX_WEIGHT = 100  # weeks of benefit; the API's bound too


def propose_allocation(
    db: Database,
    *,
    actor: str,
    equity_weight: float = 2.0,
    release_share: float = 0.2,
    away_percent: int = AWAY_PERCENT,
    today: dt.date | None = None,
    benefit_weight: float = 1.0,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
    keep_problem: bool = False,
) -> AllocationProposal:
    """Solve the org-wide allocation and store it as a proposal (nothing is offered until it is applied)."""
    # Weights are weeks of benefit, as the API takes them (0–100): far beyond that, the scores scaled to
    # integers overflow the solver's cost range (a 1e17 weight flipped the bonus's sign, 1e14 crashed).
    for name, weight in (("equity_weight", equity_weight), ("benefit_weight", benefit_weight)):
        if not 0 <= weight <= MAX_WEIGHT:  # NaN fails too
            raise InvalidValue(f"{name.replace('_', ' ')} must be 0–{MAX_WEIGHT}, got {weight}", field=name)
    if not 0 <= release_share <= 1:
        raise InvalidValue(f"release share must be 0–1, got {release_share}", field="release_share")
    if isinstance(away_percent, bool) or not isinstance(away_percent, int) or not 1 <= away_percent <= 100:
        raise InvalidValue(f"away percent must be a whole number 1–100, got {away_percent!r}", field="away_percent")
    today = today or dt.date.today()
    # Millions of short-lived strings and ints: the cyclic garbage collector would rescan them for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _propose(
            db,
            actor,
            equity_weight,
            (release_share, away_percent),
            today,
            benefit_weight,
            progress,
            timings,
            keep_problem,
        )
    finally:
        if collecting:
            gc.enable()


def _propose(
    db: Database,
    actor: str,
    equity_weight: float,
    release: tuple[float, int],  # the share of a team that may be away at once, and what counts as away
    today: dt.date,
    benefit_weight: float,
    progress: Progress | None,
    timings: dict[str, float] | None,
    keep_problem: bool,
) -> AllocationProposal:
    report = progress or (lambda stage, done, total: None)
    clock = timings if timings is not None else {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        clock[name] = clock.get(name, 0.0) + now - mark
        mark = now

    report("loading", 0, 5)
    # The queries run in the database (in C, without the GIL) side by side while this thread digests the
    # results, in the order it needs them; the applications' ranges queue behind (tasks start in order).
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="allocation-load") as pool:
        # The people do not depend on the opportunities: their query runs while this thread loads those.
        f_people = pool.submit(_people_columns, db)
        with db.engine.connect() as conn:
            opps = _load_opportunities(conn, today)
        lap("load: opportunities")
        skills = sorted({s for r in opps.required for s in r} | {s for p in opps.preferred for s in p})
        lo = int(opps.start.min()) if len(opps.ids) else 1
        hi = int(opps.end.max()) if len(opps.ids) else 0
        first, last = _id_range(db)
        # At least CHUNKS ranges, and at most CHUNK_ROWS ids per range (one value per column stays well
        # under the databases' 1 GB limit on a single string).
        chunks = max(CHUNKS, (last + 1 - first) // CHUNK_ROWS + 1)
        step = max(1, (last + 1 - first + chunks - 1) // chunks)
        if not _keys_fit(db):  # pragma: no cover - 2**29 people or 2**24 opportunities
            raise InvalidValue("integer keys too large to allocate in one pass; renumber them", field="key")
        f_levels = pool.submit(_levels_columns, db, skills)
        f_moves = pool.submit(_busy_moves, db, lo, hi)
        f_recent = pool.submit(_recent_movers, db, today)
        index_only = _index_only(db)
        f_chunks = [pool.submit(_live_applications, db, i, i + step, index_only) for i in range(first, last + 1, step)]
        people = _people(f_people.result(), today)
        lap("load: people")
        report("loading", 1, 5)
        # While the database scans the applications, this thread digests the smaller results.
        moves = _moves(f_moves.result(), people)
        moved_recently = np.zeros(len(people.ids), bool)
        moved_recently[people.positions(f_recent.result()[0])] = True
        matrix = _skill_matrix(f_levels.result(), people, skills)
        lap("load: moves and skills")
        report("loading", 2, 5)
        scorer = _Scorer(
            people,
            opps,
            moves,
            matrix,
            _SkillSlots.of(opps, skills),
            moved_recently,
            benefit_weight,
            equity_weight,
        )
        # The release limits need no application: the flow network is started now, and each range's pairs
        # join it as soon as they are scored, while the database still scans the next ranges.
        limits = team_limits(people, opps, moves, *release)
        person_seats = np.ones(len(people.ids), np.int64)  # one opportunity at a time; the problem's too
        network = NetworkBuilder(people.team, person_seats, limits, opps.free_seats)
        # Each range is scored as soon as it is read, on both threads (numpy lets go of the GIL). The
        # pool runs tasks in order, so every scan has started before a scoring task waits for its own.
        f_scored = [pool.submit(lambda f: scorer(_checked(f.result())), f) for f in f_chunks]
        scored = []
        for f in f_scored:
            scored.append(f.result())
            network.add_pairs(scored[-1][1], scored[-1][2], scored[-1][6])
        if not scored:
            scored.append(scorer(np.zeros(0, np.int64)))
        if not _keys_fit(db):
            raise Conflict("people or opportunities were added while allocating; run it again", field="key")
        lap("load and score: applications")
        report("loading", 5, 5)
    n_live = sum(x[0] for x in scored)
    person, opp, benefit, fit, fresh, score = (np.concatenate([x[k] for x in scored]) for k in range(1, 7))
    screened = np.sum([x[7] for x in scored], axis=0)
    del scored
    lap("the rest")

    report("solving", 0, 1)
    problem = AllocationProblem.build(
        person_team=people.team,
        person_seats=person_seats,
        team_limit=limits,
        opportunity_seats=opps.free_seats,
        pair_person=person,
        pair_opportunity=opp,
        pair_score=score,
        unique_pairs=True,  # one application per person and opportunity (a unique constraint)
    )
    result = solve(problem, network)
    lap("solve")
    report("solving", 1, 1)

    n_empty, empty_by_reason, unfilled, n_unfilled = empty_seats(
        opps, people, person, opp, result.chosen, limits, screened
    )
    chosen = result.chosen.tolist()
    keys = [(opps.ids[int(opp[k])], people.ids[int(person[k])]) for k in chosen]
    targets = [people.target[int(person[k])] for k in chosen]
    titles = _role_titles(db, set(targets) - {""})
    scores = [int(score[k]) / SCALE for k in chosen]
    notes = [
        explain(
            int(benefit[k]),
            titles.get(target, ""),
            bool(fresh[k]),
            float(fit[k]),
            asks=bool(scorer.slots.total[opp[k]]),
        )
        for k, target in zip(chosen, targets, strict=True)
    ]
    stats: dict[str, Any] = {
        "opportunities": len(opps.ids),
        "seats": int(opps.free_seats.sum()),
        "live_applications": n_live,
        "eligible_pairs": len(person),
        "assigned": len(chosen),
        "equity_weight": equity_weight,
        "benefit_weight": benefit_weight,
        "release_share": release[0],
        "away_percent": release[1],
        "today": today.isoformat(),
        "solve_seconds": round(result.stats.get("solve_s", 0.0), 3),
        "empty_seats": n_empty,
        "empty_seats_by_reason": empty_by_reason,
        "unfilled_opportunities": n_unfilled,
        "unfilled": unfilled,
    }
    objective = result.objective / SCALE
    with UnitOfWork(db) as uow:
        conn = uow.session.connection()
        run_id = int(
            conn.execute(
                t.allocation_runs.insert()
                .values(
                    created_at=utcnow(),
                    created_by=actor,
                    status="proposed",
                    equity_weight=equity_weight,
                    release_limit=release[0],
                    objective=objective,
                    details=stats,
                )
                .returning(t.allocation_runs.c.id)
            ).scalar_one()
        )
        found = _store_assignments(conn, run_id, keys, scores, notes)
        gone = [f"{p} → {o}" for o, p in keys if (o, p) not in found]
        if gone:
            # Raised inside the unit of work: the run and its assignments are rolled back together.
            raise Conflict(
                f"{len(gone)} application(s) changed while the allocation was computed (e.g. {gone[0]}); run it again",
                field="applications",
            )
        # The audit event keeps the figures; the per-opportunity list of empty seats stays with the run.
        summary = {k: v for k, v in stats.items() if k != "unfilled"}
        uow.audit(actor, "allocation.proposed", "allocation_run", str(run_id), **summary, objective=objective)
        uow.commit()
    assignments = [
        ProposedAssignment(
            application_id=found[key][0],
            person_id=key[1],
            person_name=found[key][1],
            opportunity_id=key[0],
            opportunity_title=opps.titles[int(opp[k])],
            score=points,
            explanation=note,
        )
        for k, key, points, note in zip(chosen, keys, scores, notes, strict=True)
    ]
    lap("store")
    if not keep_problem:
        return AllocationProposal(run_id, "proposed", objective, assignments, stats)
    return AllocationProposal(
        run_id, "proposed", objective, assignments, stats, problem, (person, opp, people.ids, opps.ids)
    )


# ------------------------------------------------------------------------------ the run, as shown


class AssignmentView(BaseModel):
    application_id: int
    person_id: str
    person: str
    opportunity_id: str
    opportunity: str
    score: float
    explanation: str


class UnfilledView(BaseModel):
    """An opportunity that keeps empty seats, and why: each live applicant counted once."""

    opportunity_id: str
    title: str
    empty: int
    applied: int
    short_on_skills: int
    outside_rules: int
    no_free_time: int
    placed_elsewhere: int
    release_limit: int
    not_chosen: int
    placed_here: int
    reason: str


class RunDetail(BaseModel):
    id: int
    status: str
    objective: float
    assignments: list[AssignmentView]
    seats: int = 0  # free seats in the open opportunities when the run was proposed
    empty_seats: int = 0  # of those, left empty
    empty_seats_by_reason: dict[str, int] = {}  # seats by the main reason of their opportunity
    unfilled_opportunities: int = 0  # how many opportunities keep empty seats
    unfilled: list[UnfilledView] = []  # the opportunities with empty seats, most empty first (up to 50)
    # What the run was proposed with: equity_weight, benefit_weight, release_share, away_percent, today.
    parameters: dict[str, float | int | str] = {}
    # Why a proposed run can no longer be applied (an applied run since, a withdrawn application, a seat
    # gone), or None: the page then shows this instead of the Apply button.
    out_of_date: str | None = None


PARAMETERS = ("equity_weight", "benefit_weight", "release_share", "away_percent", "today")


def run_detail(proposal: AllocationProposal) -> RunDetail:
    """A run as the web page, its JSON twin and `allocate --json` all show it: one shape."""
    return RunDetail(
        id=proposal.run_id,
        status=proposal.status,
        objective=proposal.objective,
        assignments=[
            AssignmentView(
                application_id=x.application_id,
                person_id=x.person_id,
                person=x.person_name,
                opportunity_id=x.opportunity_id,
                opportunity=x.opportunity_title,
                score=x.score,
                explanation=x.explanation,
            )
            for x in proposal.assignments
        ],
        seats=proposal.stats.get("seats", 0),
        empty_seats=proposal.stats.get("empty_seats", 0),
        empty_seats_by_reason=proposal.stats.get("empty_seats_by_reason", {}),
        unfilled_opportunities=proposal.stats.get("unfilled_opportunities", 0),
        unfilled=[UnfilledView(**u) for u in proposal.stats.get("unfilled", [])],
        parameters={k: proposal.stats[k] for k in PARAMETERS if proposal.stats.get(k) is not None},
        out_of_date=proposal.out_of_date,
    )


def explain(benefit_weeks: int, target_title: str, fresh: bool, fit: float, *, asks: bool = True) -> str:
    """One plain line: why this person got this seat. ``asks``: the opportunity names some skill (a fit of
    1.0 with nothing asked is no match to report)."""
    parts = []
    if benefit_weeks > 0:
        unit = "week" if benefit_weeks == 1 else "weeks"
        parts.append(f"{benefit_weeks} {unit} sooner to {target_title or 'the target role'}")
    if fresh:
        parts.append("no move in the last 12 months")
    parts.append(f"skills {math.floor(fit * 100 + 1e-9)}% matched" if asks else "no particular skills asked")
    return "; ".join(parts)


def _run(conn: Connection, run_id: int, *, lock: bool = False) -> Any:
    query = select(t.allocation_runs).where(t.allocation_runs.c.id == run_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"no allocation run {run_id}", field="run_id")
    return row


def get_allocation(db: Database, run_id: int, *, today: dt.date | None = None) -> AllocationProposal:
    """A stored run with its assignments (newest first is the caller's business); ``out_of_date`` as of
    ``today`` (default: the real today)."""
    a, ap, o, p = t.allocation_assignments.c, t.applications.c, t.opportunities.c, t.people.c
    with db.engine.connect() as conn:
        run = _run(conn, run_id)
        rows = conn.execute(
            select(a.application_id, ap.person_id, p.name, ap.opportunity_id, o.title, a.score, a.explanation)
            .select_from(
                t.allocation_assignments.join(t.applications, ap.id == a.application_id)
                .join(t.opportunities, o.id == ap.opportunity_id)
                .join(t.people, p.id == ap.person_id)
            )
            .where(a.run_id == run_id)
            .order_by(ap.opportunity_id, ap.person_id)
        ).all()
        stale = out_of_date(conn, run, today=today) if run.status == "proposed" else None
    return AllocationProposal(
        run.id,
        run.status,
        run.objective,
        [ProposedAssignment(*r) for r in rows],
        dict(run.details or {}),
        out_of_date=stale,
    )


def apply_allocation(db: Database, run_id: int, *, actor: str, today: dt.date | None = None) -> AllocationProposal:
    """Turn a proposed run into offers, all or nothing; refuse if anything it relied on has changed.

    Checked again under lock: every application is still live (applied or waitlisted) and every
    opportunity is still open with enough seats not held or offered. Capacity and release limits are as of
    the proposal; an offer still needs the applicant's acceptance and their manager's release.
    """
    a, ap = t.allocation_assignments.c, t.applications.c
    with UnitOfWork(db) as uow:
        conn = uow.session.connection()
        run = _run(conn, run_id, lock=True)
        if run.status != "proposed":
            raise Conflict(
                f"allocation run {run_id} is {run.status}; only a proposed run can be applied", field="status"
            )
        stale = out_of_date(conn, run, lock=True, today=today)
        if stale is not None:
            raise Conflict(f"allocation run {run_id} is out of date: {stale}; propose a new allocation", field="run_id")
        now = utcnow()
        offered = conn.execute(
            update(t.applications)
            .where(ap.id.in_(select(a.application_id).where(a.run_id == run_id)))
            .values(
                status=ApplicationStatus.OFFERED.value, decided_at=now, decided_by=actor, offered_or_rejected_at=now
            )
        ).rowcount
        details = {**dict(run.details or {}), "applied_at": now.isoformat(), "applied_by": actor}
        conn.execute(
            update(t.allocation_runs).where(t.allocation_runs.c.id == run_id).values(status="applied", details=details)
        )
        uow.audit(actor, "allocation.applied", "allocation_run", str(run_id), offers=offered)
        uow.commit()
    return get_allocation(db, run_id, today=today)


def out_of_date(conn: Connection, run: Any, *, lock: bool = False, today: dt.date | None = None) -> str | None:
    """Why a proposed run can no longer be applied as it stands, or None while it still can.

    The one check behind both the refusal to apply and the run's page (which then shows the reason instead
    of the Apply button). With ``lock`` the opportunities concerned are locked first (PostgreSQL; SQLite
    writers hold the database lock already), so that the answer holds until the caller commits.
    """
    a, ap, o, runs = t.allocation_assignments.c, t.applications.c, t.opportunities.c, t.allocation_runs.c
    # Eligibility, capacity, equity ("no move in the last 12 months") and release limits are judged as of the
    # run's date: a run proposed for another day (`allocate --today`, a what-if) made real offers judged as of
    # 2030. Such a run can be read, not applied; nor can yesterday's.
    as_of, day = (run.details or {}).get("today"), (today or dt.date.today()).isoformat()
    if as_of is not None and as_of != day:
        return f"it was computed as of {as_of}, not {day}"
    # A run applied since this one was proposed made offers this one did not count against the release
    # limits and people's time: applying both could take more of a team away than the limit allows.
    later = next(
        (
            other
            for other, details in conn.execute(
                select(runs.id, runs.details).where(runs.status == "applied", runs.id != run.id).order_by(runs.id)
            )
            if dt.datetime.fromisoformat((details or {}).get("applied_at", "1970-01-01T00:00:00+00:00"))
            >= run.created_at
        ),
        None,
    )
    if later is not None:
        return f"run {later} was applied after it was proposed, and its offers count against the release limits"
    assigned = select(a.application_id).where(a.run_id == run.id)
    in_run = select(ap.opportunity_id).where(ap.id.in_(assigned))
    if lock:
        conn.execute(select(o.id).where(o.id.in_(in_run)).order_by(o.id).with_for_update()).all()
    gone = conn.execute(
        select(ap.id, ap.person_id, ap.opportunity_id, ap.status)
        .where(ap.id.in_(assigned), ap.status.not_in(LIVE))
        .order_by(ap.id)
        .limit(5)
    ).all()
    if gone:
        listed = ", ".join(f"{g.person_id} → {g.opportunity_id} is {g.status}" for g in gone)
        return f"applications changed since it was proposed ({listed})"
    # A hire date moved past the opportunity's start since (an HRIS sync): the offer could never be accepted
    # (no move before the hire date), and would hold the seat meanwhile.
    p = t.people.c
    late = conn.execute(
        select(ap.person_id, ap.opportunity_id, p.hire_date)
        .join(t.people, p.id == ap.person_id)
        .join(t.opportunities, o.id == ap.opportunity_id)
        .where(ap.id.in_(assigned), p.hire_date > o.start)
        .order_by(ap.id)
        .limit(5)
    ).all()
    if late:
        listed = ", ".join(
            f"{r.opportunity_id} starts before {r.person_id}'s first day (hire date {r.hire_date.isoformat()})"
            for r in late
        )
        return f"hire dates changed since it was proposed ({listed})"
    wanted: dict[str, int] = dict(
        conn.execute(
            select(ap.opportunity_id, func.count()).where(ap.id.in_(assigned)).group_by(ap.opportunity_id)
        ).all()
    )
    taken: dict[str, int] = dict(
        conn.execute(
            select(ap.opportunity_id, func.count())
            .where(ap.status.in_(SEAT_TAKING), ap.opportunity_id.in_(in_run))
            .group_by(ap.opportunity_id)
        ).all()
    )
    # An opportunity whose end has passed (its dates edited since) takes no offer: its acceptance is refused.
    ended = dt.date.fromisoformat(day)
    short = [
        f"{r.id} ({'ended' if r.end < ended else r.status}, {max(0, r.seats - int(taken.get(r.id, 0)))} free "
        f"for {wanted[r.id]})"
        for r in conn.execute(select(o.id, o.seats, o.status, o.end).where(o.id.in_(in_run)).order_by(o.id))
        if r.status != OpportunityStatus.OPEN.value or r.end < ended or r.seats - int(taken.get(r.id, 0)) < wanted[r.id]
    ]
    if short:
        return f"seats gone at {', '.join(short[:5])}"
    return None


def discard_allocation(db: Database, run_id: int, *, actor: str) -> None:
    """Drop a proposed run (kept for the record, marked discarded)."""
    with UnitOfWork(db) as uow:
        conn = uow.session.connection()
        run = _run(conn, run_id, lock=True)
        if run.status != "proposed":
            raise Conflict(
                f"allocation run {run_id} is {run.status}; only a proposed run can be discarded", field="status"
            )
        conn.execute(update(t.allocation_runs).where(t.allocation_runs.c.id == run_id).values(status="discarded"))
        uow.audit(actor, "allocation.discarded", "allocation_run", str(run_id))
        uow.commit()
