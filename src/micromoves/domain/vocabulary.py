"""The one parser of the closed vocabularies people and other systems type: a move's kind and status, a
review's decision, a criterion's rating.

One rule everywhere (the import, the JSON API's bodies and query strings, the CLI, the web forms): a value
is read without regard to case or surrounding blanks (``Active``, ``IN_REVIEW``, ``" met "``) and stored as
its canonical lower-case value; anything else is refused naming every accepted value. An HRIS export
writes ``Active`` as readily as ``active``, and the import always took it; the API refused what the import
took, so one integration sending the same record both ways got two answers. Reading the case loosely
costs nothing (no two values of a vocabulary differ only in case), and what is stored, exported and shown
is always the canonical value, so the OpenAPI document still lists exactly those.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from micromoves.domain.errors import InvalidValue
from micromoves.domain.model import Decision, MoveKind, MoveStatus, Rating

E = TypeVar("E", bound=enum.StrEnum)

# What each vocabulary is called in a refusal ("unknown move kind 'sabbatical'; one of: …").
NOUNS: dict[type[enum.StrEnum], str] = {
    MoveKind: "move kind",
    MoveStatus: "status",
    Decision: "decision",
    Rating: "rating",
}
# Canonical value → member, per vocabulary: built once, as the import reads a million cells through it.
_LOOKUP: dict[type[enum.StrEnum], dict[str, Any]] = {cls: {m.value: m for m in cls} for cls in NOUNS}


def accepted(cls: type[enum.StrEnum]) -> str:
    """The accepted values, in the vocabulary's order, as every refusal lists them."""
    return ", ".join(m.value for m in cls)


def canonical(cls: type[E]) -> Mapping[str, E]:
    """Canonical value → member: for a hot loop's dict hit on the common, canonical value, which then hands
    every other value to :func:`parse` (the import's million rows)."""
    return _LOOKUP[cls]


def unknown(cls: type[enum.StrEnum], raw: object) -> str:
    """Why ``raw`` is refused: what it was, and every value that is accepted."""
    return f"unknown {NOUNS[cls]} {raw!r}; one of: {accepted(cls)}"


def parse(cls: type[E], raw: object, *, field: str | None = None) -> E:
    """``raw`` as a member of ``cls``, case and surrounding blanks ignored; anything else is an
    :class:`InvalidValue` of ``field`` naming the accepted values. A member of ``cls`` is itself."""
    table = _LOOKUP[cls]
    found = table.get(raw) if isinstance(raw, str) else None  # a member is a str: hashes as its value
    if found is None and isinstance(raw, str):
        found = table.get(raw.strip().lower())
    if found is None:
        raise InvalidValue(unknown(cls, raw), field=field)
    return cast(E, found)
