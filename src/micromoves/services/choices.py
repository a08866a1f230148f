"""The closed vocabularies as request fields (JSON bodies, query strings, web forms), read by the one
parser, :func:`micromoves.domain.vocabulary.parse`: ``Active`` is ``active`` here as in the import and the
CLI, and anything else is refused naming the accepted values. The field's type stays the enum, so the
OpenAPI document lists the canonical values a response carries."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from micromoves.domain import vocabulary
from micromoves.domain.errors import InvalidValue
from micromoves.domain.model import Decision, MoveKind, MoveStatus, Rating


def _reader(cls: type[enum.StrEnum]) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        if not isinstance(value, str):  # a number or a list: the enum's own check refuses it, listing the values
            return value
        try:
            return vocabulary.parse(cls, value).value
        except InvalidValue as exc:
            # The parser's words, without pydantic's "Value error, " in front (type "enum", as pydantic's own).
            raise PydanticCustomError("enum", exc.message) from None

    return read


KindField = Annotated[MoveKind, BeforeValidator(_reader(MoveKind))]
StatusField = Annotated[MoveStatus, BeforeValidator(_reader(MoveStatus))]
DecisionField = Annotated[Decision, BeforeValidator(_reader(Decision))]
RatingField = Annotated[Rating, BeforeValidator(_reader(Rating))]
