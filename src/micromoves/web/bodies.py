"""What every request of the API shares: bodies and query strings refuse what they do not know."""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import json
import re
import typing
from typing import Annotated, Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from micromoves.domain import rules
from micromoves.domain.errors import UnsupportedMediaType

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
# Success criteria as a request carries them. Their limits are in the schema, for clients, and are checked
# by the rules (rules.check_criteria, as on every other path), which name a criterion by its number on the
# move: "success criterion 2: text is empty". Checked here, they read "success_criteria.1: String should have
# at least 1 character" (counting from 0), and a blank one passed to the rules anyway.
Criterion = Annotated[str, Field(json_schema_extra={"minLength": 1, "maxLength": rules.MAX_CRITERION_CHARS})]
Criteria = Annotated[list[Criterion], Field(json_schema_extra={"minItems": 1, "maxItems": rules.MAX_CRITERIA})]
# Success criteria typed one per line in a form's textarea: MAX_CRITERIA of MAX_CRITERION_CHARS and the line
# breaks between them, as the textarea's maxlength counts them (one character each; a fixed 20,000 cut the
# last criterion short)...
CRITERIA_TEXT_CHARS = rules.MAX_CRITERIA * rules.MAX_CRITERION_CHARS + rules.MAX_CRITERIA - 1
# ...and as the browser sends them, each line break as CR LF: the form field's limit on the server.
CRITERIA_FORM_CHARS = CRITERIA_TEXT_CHARS + rules.MAX_CRITERIA - 1


# Kept on the route object itself (routes are not hashable, and an id() could be reused by another app's).
_QUERY_NAMES = "_micromoves_query_names"


def _is_list(annotation: object) -> bool:
    return typing.get_origin(annotation) in (list, tuple, set, frozenset) or any(
        typing.get_origin(a) in (list, tuple, set, frozenset) for a in typing.get_args(annotation)
    )


def _query_names(dependant: Dependant) -> tuple[frozenset[str], frozenset[str]]:
    """The query parameters an endpoint reads: its own, its dependencies', and the fields of a query model
    (``Annotated[MoveFilter, Query()]``), by the name a caller writes (the alias); and those of them that
    take several values (a list)."""
    names: set[str] = set()
    lists: set[str] = set()
    todo = [dependant]
    while todo:
        current = todo.pop()
        for field in current.query_params:
            model = field.field_info.annotation
            if inspect.isclass(model) and issubclass(model, BaseModel):
                for name, f in model.model_fields.items():
                    names.add(f.alias or name)
                    if _is_list(f.annotation):
                        lists.add(f.alias or name)
            else:
                names.add(field.alias)
                if _is_list(model):
                    lists.add(field.alias)
        todo.extend(current.dependencies)
    return frozenset(names), frozenset(lists)


def known_query(request: Request) -> None:
    """Refuse a query parameter the endpoint does not read, as a body refuses an unknown key: an
    integration asking ``/api/v1/people?limit=10`` or ``?stauts=active`` would otherwise get every row, or
    every status, with nothing to say that its parameter was never applied (422, naming it)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known: tuple[frozenset[str], frozenset[str]] | None = getattr(route, _QUERY_NAMES, None)
    if known is None:
        known = _query_names(dependant)
        setattr(route, _QUERY_NAMES, known)
    allowed, lists = known
    unknown = sorted(set(request.query_params) - allowed)
    # ?status=active&status=completed read as the last one only: the caller meant both, and got one.
    repeated = sorted(
        name for name in set(request.query_params) & allowed - lists if len(request.query_params.getlist(name)) > 1
    )
    if repeated:
        raise RequestValidationError(
            [
                {
                    "type": "too_long",
                    "loc": ("query", name),
                    "msg": "this query parameter takes one value; it was given "
                    f"{len(request.query_params.getlist(name))}",
                    "input": request.query_params.getlist(name),
                }
                for name in repeated
            ]
        )
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


def json_body(request: Request) -> None:
    """A JSON API request with a body says it is JSON (``application/json`` or ``…+json``): a form or plain
    text was refused as "Input should be a valid dictionary", which reads as a wrong field, not as the
    wrong format (415, naming the format)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    has_body = request.headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in request.headers
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if has_body and not (media == "application/json" or media.endswith("+json")):
        raise UnsupportedMediaType(
            f"the body must be JSON (Content-Type: application/json), got {media or 'no Content-Type'!r}",
            field="content-type",
        )


# Kept on the route object, as the query names are: whether the endpoint reads a body at all.
_TAKES_BODY = "_micromoves_takes_body"
_NOT_JSON = object()


def _takes_body(dependant: Dependant) -> bool:
    todo = [dependant]
    while todo:
        current = todo.pop()
        if current.body_params:
            return True
        todo.extend(current.dependencies)
    return False


async def no_undeclared_body(request: Request) -> None:
    """An endpoint without a body model refuses a body, as one with a model refuses a key it does not know
    (422 in the one error shape, naming each key): ``POST /people/P/plan {"target": "R-SWE-3"}`` planned
    towards the old target, and ``…/actions/cancel {"reason": "typo"}`` cancelled and dropped the reason,
    each answering success. Nothing, ``{}`` and ``null`` say nothing and stay accepted."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    takes: bool | None = getattr(route, _TAKES_BODY, None)
    if takes is None:
        takes = _takes_body(dependant)
        setattr(route, _TAKES_BODY, takes)
    if takes:
        return
    raw = await request.body()
    if not raw.strip():
        return
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    value: Any = _NOT_JSON
    if media == "application/json" or media.endswith("+json"):
        with contextlib.suppress(ValueError):  # not JSON, or not UTF-8: a body all the same
            value = json.loads(raw)
    if value is None or value == {}:
        return
    if isinstance(value, dict):
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("body", key),
                    "msg": "Extra inputs are not permitted: this endpoint takes no body",
                    "input": item,
                }
                for key, item in value.items()
            ]
        )
    raise RequestValidationError(
        [{"type": "json_invalid", "loc": ("body",), "msg": "this endpoint takes no body", "input": None}]
    )


NUL = "\x00"
NUL_MESSAGE = "text may not hold the NUL character (\\x00)"


def _nul_in(value: Any, loc: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Where a decoded JSON value holds a NUL character, keys (a skill's name) included, in the order they are
    written. Walked with a stack, not by recursion: a body nested a thousand deep (valid JSON) overflowed
    Python's stack, a 500."""
    found: list[tuple[Any, ...]] = []
    # (value, where it is) to look into, or (NUL_KEY, where) for a key found holding one; last pushed first.
    todo: list[tuple[Any, tuple[Any, ...]]] = [(value, loc)]
    while todo:
        item, where = todo.pop()
        if item is _NUL_KEY or (isinstance(item, str) and NUL in item):
            found.append(where)
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                todo.append((_NUL_KEY if isinstance(key, str) and NUL in key else inner, (*where, key)))
        elif isinstance(item, list):
            todo.extend((inner, (*where, i)) for i, inner in reversed(list(enumerate(item))))
    return found


_NUL_KEY = object()  # a dict key holding NUL, met in _nul_in's walk


async def no_nul(request: Request) -> None:
    """Refuse a NUL character in a path id, a query parameter, a form field or a JSON value (422, naming each
    field): PostgreSQL stores none, and one looked up or written failed in the driver, a 500 with a
    traceback ('/people/E%00', a check-in's note). A multipart body (an import's files) is left to its route,
    which reads it within its limits and refuses control characters in what it imports."""
    found: list[tuple[Any, ...]] = [
        ("path", k) for k, v in request.path_params.items() if isinstance(v, str) and NUL in v
    ]
    found += [("query", k) for k, v in request.query_params.multi_items() if NUL in k or NUL in v]
    if request.method in BODY_METHODS:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "application/json" or media.endswith("+json"):
            with contextlib.suppress(ValueError):  # not JSON, or not UTF-8: the body's own parser says so
                found += _nul_in(json.loads(await request.body()), ("body",))
        elif media == "application/x-www-form-urlencoded":
            form = await request.form()
            found += [("form", k) for k, v in form.multi_items() if NUL in k or (isinstance(v, str) and NUL in v)]
    if found:
        raise RequestValidationError(
            [{"type": "string_pattern_mismatch", "loc": loc, "msg": NUL_MESSAGE, "input": None} for loc in found]
        )


# The largest body a request other than an import reads (JSON or a form): 4 MiB. The largest valid one, a
# review with 100 ratings of 2,000 characters of evidence, is some 235,000 characters, under 3 MB even
# were each written as a JSON escape of a character beyond the BMP (12 bytes). The import has its own limit
# (MICROMOVES_IMPORT_UPLOAD_MAX_BYTES, import_routes.import_body).
BODY_MAX_BYTES = 4 * 1024 * 1024
UNLIMITED_PATHS = ("/api/v1/imports", "/admin/import")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimitMiddleware:
    """Refuse a request body past BODY_MAX_BYTES with a 413 in the one error shape, before any of it is read
    when its Content-Length says so, or as soon as a chunked body passes it (the body so far is held, then
    handed on whole). Every body was read, parsed and validated whatever its size, and by anyone: FastAPI
    reads the body before the route's dependencies identify the caller."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in BODY_METHODS
            or scope.get("path", "").rstrip("/") in UNLIMITED_PATHS
        ):
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isascii() and length.isdigit():
            if int(length) > BODY_MAX_BYTES:
                await _too_large(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        # No (usable) length: read the body up to the limit, then hand it on.
        read = await read_body(receive, most=BODY_MAX_BYTES)
        if read is None:
            await _too_large(scope, receive, send)
            return
        body, after = read
        await self.app(scope, replaying(body, after, receive, complete=not after), send)


async def read_body(receive: Receive, *, most: int | None = None) -> tuple[bytes, list[Message]] | None:
    """The whole request body, and any message that came after it (a disconnect); None as soon as it passes
    ``most`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunk = message.get("body", b"")
        size += len(chunk)
        if most is not None and size > most:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), []


def replaying(body: bytes, after: list[Message], receive: Receive, *, complete: bool = True) -> Receive:
    """A receive channel that gives the body already read, then whatever the client sends next."""
    queue: list[Message] = [{"type": "http.request", "body": body, "more_body": not complete}, *after]

    async def replay() -> Message:
        return queue.pop(0) if queue else await receive()

    return replay


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    from micromoves.web.app import field_details, render_error

    message = f"the request body is larger than {BODY_MAX_BYTES // (1024 * 1024)} MiB"
    response = render_error(Request(scope, receive), 413, "payload_too_large", message, field_details("body", message))
    await response(scope, receive, send)
