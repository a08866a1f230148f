"""What every request of the API shares: bodies and query strings refuse what they do not know."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from typing import Annotated, Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from micromoves.domain import rules

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class RequestBody(BaseModel):
    """A request body refuses keys it does not know: an integration's typo (``equity_wieght``) would
    otherwise be ignored and the request carried out with the default, with nothing to tell it apart from
    what was meant. The refusal is a 422 in the one error shape, naming the key."""

    model_config = ConfigDict(extra="forbid")


def _iso_date(value: Any) -> Any:
    # Pydantic also reads a number as a Unix time (1817251200 became 2027-08-03) and "20270802" as one;
    # the API's dates are written one way, as in the CSV and JSON formats.
    if isinstance(value, dt.date) or (isinstance(value, str) and ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


def _in_calendar(value: dt.date) -> dt.date:
    problem = rules.calendar_problem(value)
    if problem:
        raise ValueError(problem)
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date), AfterValidator(_in_calendar)]
# One success criterion as a request carries it (the service checks the rest: no ';', not blank).
Criterion = Annotated[str, Field(min_length=1, max_length=rules.MAX_CRITERION_CHARS)]


# Kept on the route object itself (routes are not hashable, and an id() could be reused by another app's).
_QUERY_NAMES = "_micromoves_query_names"


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters an endpoint reads: its own, its dependencies', and the fields of a query model
    (``Annotated[MoveFilter, Query()]``), by the name a caller writes (the alias)."""
    names: set[str] = set()
    todo = [dependant]
    while todo:
        current = todo.pop()
        for field in current.query_params:
            model = field.field_info.annotation
            if inspect.isclass(model) and issubclass(model, BaseModel):
                names.update(f.alias or name for name, f in model.model_fields.items())
            else:
                names.add(field.alias)
        todo.extend(current.dependencies)
    return frozenset(names)


def known_query(request: Request) -> None:
    """Refuse a query parameter the endpoint does not read, as a body refuses an unknown key: an
    integration asking ``/api/v1/people?limit=10`` or ``?stauts=active`` would otherwise get every row, or
    every status, with nothing to say that its parameter was never applied (422, naming it)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed: frozenset[str] | None = getattr(route, _QUERY_NAMES, None)
    if allowed is None:
        allowed = _query_names(dependant)
        setattr(route, _QUERY_NAMES, allowed)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) if allowed else "no query parameters"
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": f"unknown query parameter (this endpoint takes {takes})",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )
