"""When people and moves last changed, for ``changed_since`` (an HRIS pulling what changed since its last
pull; ``updated_at``, see storage.tables._updated_at): the one filter every listing applies, and the
stamps a write puts on the records it changes without writing their own rows.

A record changes with what an integration reads of it: its own columns, what belongs to it (storage.orm),
and the names of other records shown beside it (a person's team name and role title, a move's person and
host team) or the records listed under it (a move given to another person changes both people)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, or_, update

from micromoves.storage import tables as t
from micromoves.storage.bulk import CHUNK, among


def changed_since(column: Any, since: dt.datetime) -> Any:
    """The records whose ``updated_at`` (``column``) is at or after ``since``. A record whose last change is
    not known (NULL) counts as changed: an integration must never miss one."""
    return or_(column >= since, column.is_(None))


def stamp(conn: Connection, table: Any, column: Any, keys: Iterable[Any], now: dt.datetime | None = None) -> None:
    """Mark as changed at ``now`` the rows of ``table`` whose ``column`` is among ``keys`` (in chunks: an
    import may rename a team of 100,000 people, or reassign thousands of moves).

    A row that holds ``now`` already is left alone: the write that stamps gave its own rows that time in the
    INSERT or UPDATE that wrote them (the import's people and moves), or an earlier stamp of the same write
    reached it (a person in a renamed team who also holds a retitled role). Stamped again, each such row was
    written a second time for the value it had (an import renaming every team rewrote every person and move
    it had just written)."""
    wanted = sorted({k for k in keys if k is not None})
    when = now or dt.datetime.now(dt.UTC)
    for i in range(0, len(wanted), CHUNK):
        conn.execute(
            update(table)
            .where(among(conn, column, wanted[i : i + CHUNK]), table.c.updated_at.is_distinct_from(when))
            .values(updated_at=when)
        )


def stamp_renamed(
    conn: Connection,
    *,
    teams: Iterable[str] = (),
    roles: Iterable[str] = (),
    people: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> None:
    """What shows the name of a renamed record changes with it: a team's name is on its people (the
    directory's ``team``) and on the moves it hosts (``host_team``), a role's title on the people holding
    it (``role``), a person's name on their moves (``person``)."""
    teams, roles, people = list(teams), list(roles), list(people)
    when = now or dt.datetime.now(dt.UTC)
    if teams:
        stamp(conn, t.people, t.people.c.team_id, teams, when)
        stamp(conn, t.moves, t.moves.c.host_team_id, teams, when)
    if roles:
        stamp(conn, t.people, t.people.c.role_id, roles, when)
    if people:
        stamp(conn, t.moves, t.moves.c.person_id, people, when)
