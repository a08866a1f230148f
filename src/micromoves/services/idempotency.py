"""Idempotency keys for unsafe API requests: a client's retry gets the first response, not a second write.

An integration that posts a move, an application or an allocation and loses the answer (a timeout, a
dropped connection) cannot tell whether the request happened. Sent with an ``Idempotency-Key`` header
(any 1–255 visible ASCII characters the client chooses, e.g. a UUID per logical request), the request runs
once per user and key; for a day, a repeat of the *same* request (method, path, query and body) gets the
stored response back, and the same key with a different request is refused.

The life of a key: :func:`claim` stores it with no response yet (a second request arriving meanwhile is
told the first is still running: 409), the request runs, then :func:`record` stores its response — or
:func:`release` forgets the key when the request failed on our side (a 5xx, a crash) before committing
anything, so that a retry can run it again; a failure after a commit keeps its error answer instead (a retry
would write a second time; :class:`micromoves.storage.db.CommitWatch` counts the commits). Responses of
4xx are kept: the same request would fail the same way (validation) or has already been decided (a
conflict).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from micromoves.domain.errors import Conflict, InvalidValue
from micromoves.storage import tables as t
from micromoves.storage.db import Database
from micromoves.storage.uow import utcnow

HEADER = "Idempotency-Key"
KEPT_FOR = dt.timedelta(hours=24)
# A key whose first request has not finished after this long is taken as abandoned (the process died).
ABANDONED_AFTER = dt.timedelta(minutes=10)
# Visible ASCII without spaces: a key is an opaque token, and anything else is more likely a client bug.
VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True)
class StoredResponse:
    status: int
    content_type: str
    body: bytes


def request_digest(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same request" for one key."""
    h = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode()):
        h.update(len(part).to_bytes(8, "big") + part)  # length-prefixed: no two splits give one digest
    h.update(body)
    return h.hexdigest()


def check_key(key: str) -> str:
    if not VALID_KEY.fullmatch(key):
        raise InvalidValue(
            f"the {HEADER} header must be 1–255 visible ASCII characters without spaces (a UUID, say)",
            field=HEADER,
        )
    return key


def _insert_new(conn: Connection) -> postgresql.Insert | sqlite.Insert:
    # Both dialects have INSERT … ON CONFLICT DO NOTHING: of two requests racing with one key, one inserts
    # and the other sees the row (PostgreSQL makes the second wait for the first's commit).
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return insert(t.idempotency_keys)


def _row_of(user_id: int, key: str) -> Any:
    k = t.idempotency_keys.c
    return (k.user_id == user_id) & (k.key == key)


def claim(
    db: Database, user_id: int, key: str, digest: str, *, now: dt.datetime | None = None
) -> StoredResponse | None:
    """Claim ``key`` for this request of ``user_id``: None if it is new (run the request, then
    :func:`record` or :func:`release`); the stored response if this request was made before. Raises
    :class:`Conflict` while the first request with the key still runs, and :class:`InvalidValue` when the
    key was used for a different request."""
    check_key(key)
    now = now or utcnow()
    k = t.idempotency_keys.c
    mine = _row_of(user_id, key)
    with db.write_engine.begin() as conn:
        # Expired keys of everyone go first (the index on created_at finds them): a key is kept a day; and
        # this key, if its first request was abandoned (a process that died holding it).
        conn.execute(delete(t.idempotency_keys).where(k.created_at < now - KEPT_FOR))
        conn.execute(delete(t.idempotency_keys).where(mine, k.status.is_(None), k.created_at < now - ABANDONED_AFTER))
        for _ in range(2):
            inserted = conn.execute(
                _insert_new(conn)
                .values(user_id=user_id, key=key, request_sha256=digest, status=None, content_type="", created_at=now)
                .on_conflict_do_nothing(index_elements=["user_id", "key"])
                .returning(k.user_id)  # a row back only when inserted (rowcount is -1 here on PostgreSQL)
            ).first()
            if inserted is not None:
                return None
            row = conn.execute(select(k.request_sha256, k.status, k.content_type, k.body).where(mine)).first()
            if row is not None:
                break
            # Released by its request (a server error) between the two statements: claim it again.
        else:  # pragma: no cover - released and re-claimed by others twice within one call
            raise Conflict(f"another request with this {HEADER} is running; retry in a moment", field=HEADER)
    if row.request_sha256 != digest:
        raise InvalidValue(
            f"this {HEADER} was already used for a different request (another method, path or body); "
            "use a new key for a new request",
            field=HEADER,
        )
    if row.status is None:
        raise Conflict(f"the first request with this {HEADER} is still running; retry in a moment", field=HEADER)
    return StoredResponse(int(row.status), row.content_type, bytes(row.body or b""))


def record(db: Database, user_id: int, key: str, response: StoredResponse) -> None:
    """Keep the response of the request that claimed ``key``, for its retries."""
    with db.write_engine.begin() as conn:
        conn.execute(
            update(t.idempotency_keys)
            .where(_row_of(user_id, key))
            .values(status=response.status, content_type=response.content_type, body=response.body)
        )


def release(db: Database, user_id: int, key: str) -> None:
    """Forget ``key``: its request failed on our side, and a retry should run it again."""
    with db.write_engine.begin() as conn:
        conn.execute(delete(t.idempotency_keys).where(_row_of(user_id, key)))
