"""Ids in paths (``{person_id:id}``): how the router reads a path that holds one.

Ids may hold '/' (an HRIS person id like ``EMP/0042``, which the import takes as written). The rule:

* **An id is one path segment; a '/' inside it is written ``%2F``** (``/people/EMP%2F0042``). Every link,
  form and redirect the app makes writes ids so (``quote(id, safe="")``, the templates' ``path_id``), and
  ``%2F`` always belongs to the id: ``/people/X%2Fcredit`` is the person ``X/credit``, whose credit page is
  ``/people/X%2Fcredit/credit``, while ``/people/X/credit`` is the credit page of ``X``. Starlette decodes
  ``%2F`` before routing (``scope["path"]``), so the router reads the path as sent (``scope["raw_path"]``,
  which ASGI servers pass on) to tell the two apart. (A reverse proxy in front must pass the path on as
  sent, not decoded: nginx's ``proxy_pass`` without a path after the address.)
* A raw '/' separates segments. Only when no route takes the path segment by segment (whatever the method)
  may an id span several segments, for a client that wrote an id's '/' raw (``/people/EMP/0042``); then the
  route with the shortest id wins, whatever the method: a route under an id (``…/credit``, ``…/plan``)
  before the page of a longer id. So a path is never read two ways, and a wrong method on a route under an
  id is a 405 naming the methods that route takes (it fell through to the page of an id that swallowed
  the suffix: a 404 "unknown move 'M-1/review'").

Literal paths beside an id's page (``/moves/new``) still win over an id with that name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_from_bytes, unquote

from fastapi.routing import APIRoute
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

# Stands, in the path the id routes match, for a '/' the client sent as %2F: a lone surrogate, which no
# decoded path holds (a server decodes percent-escapes as UTF-8, where surrogates are invalid).
_ENCODED_SLASH = "\udcaf"
_DECISION = "micromoves.id_routing"
_VIEW = "micromoves.id_view"
_PCHARS = "!$&'()*+,;=:@"  # what a path segment holds unescaped besides letters, digits and -._~ (RFC 3986)
_QUERY_SAFE = "!$&'()*+,;=:@/?%"  # a query string's bytes as sent, its escapes kept


class IdConvertor(Convertor[str]):
    """A user-supplied id: one segment of the path (its '/' written %2F), or, for a path no route takes
    segment by segment, several (see the module's rule; :class:`IdRoute` decides which). No segment is
    empty: a trailing slash still redirects to the page without it."""

    regex = "[^/]+(?:/[^/]+)*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return quote(value, safe="")


register_url_convertor("id", IdConvertor())


def _route_view(scope: Scope) -> str:
    """The decoded path with each '/' the client sent as %2F replaced by a stand-in, when the path as sent
    (raw_path) is the path decoded; else the decoded path (no raw path, or a path a layer rewrote).

    Worked out once per request: every id route asks, and a long path full of %2F took tens of
    milliseconds of the event loop per request, before any sign-in check."""
    path: str = scope["path"]
    raw = scope.get("raw_path")
    if not raw or (b"%2F" not in raw and b"%2f" not in raw) or _ENCODED_SLASH in path:
        return path
    cached: tuple[str, bytes, str] | None = scope.get(_VIEW)
    if cached is not None and cached[0] == path and cached[1] == raw:
        return cached[2]
    try:
        sent = raw.decode("ascii")
    except UnicodeDecodeError:
        return path
    if sent.endswith("/") and not path.endswith("/"):
        sent = sent.rstrip("/")  # Starlette's trailing-slash check trims the decoded path only
    view = "/".join(unquote(part).replace("/", _ENCODED_SLASH) for part in sent.split("/"))
    view = view if view.replace(_ENCODED_SLASH, "/") == path else path
    scope[_VIEW] = (path, raw, view)
    return view


class TrailingSlashAsSent:
    """A path holding %2F with a trailing slash, which no route takes as it is, is redirected to the path
    without it, as sent. Starlette's own redirect rebuilt the address from the decoded path:
    ``/people/E%2Fcredit/`` went to ``/people/E/credit``, the credit page of another person. Other paths are
    left to Starlette, and so is one that would begin with ``//`` (a browser reads that as another host)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._target(scope) if scope["type"] == "http" else None
        if target is None:
            await self.app(scope, receive, send)
            return
        await Response(status_code=307, headers={"location": target})(scope, receive, send)

    @staticmethod
    def _target(scope: Scope) -> str | None:
        raw: bytes | None = scope.get("raw_path")
        app = scope.get("app")
        if not raw or not raw.endswith(b"/") or b"%2f" not in raw.lower() or app is None:
            return None
        trimmed = raw.rstrip(b"/")
        try:
            sent = trimmed.decode("ascii")  # a client percent-encodes; anything else is left to Starlette
        except UnicodeDecodeError:
            return None
        if not sent.startswith("/") or sent.startswith("//"):
            return None
        from micromoves.web.app import leaf_routes

        routes = list(leaf_routes(app.routes))
        if any(route.matches(scope)[0] is not Match.NONE for route in routes):
            return None  # taken as it is (a mount, say)
        # The path as the router reads it, from the trimmed raw path: the check and the target agree.
        stripped: Scope = {**scope, "path": unquote(sent), "raw_path": trimmed}
        if not any(route.matches(stripped)[0] is not Match.NONE for route in routes):
            return None
        query: bytes = scope.get("query_string", b"")
        return sent + ("?" + quote_from_bytes(query, safe=_QUERY_SAFE) if query else "")


def path_as_sent(scope: Scope) -> str:
    """The request's path as a link back to it must write it: each segment percent-encoded, a '/' sent as
    %2F too (``/people/X%2Fcredit``; the decoded path, ``/people/X/credit``, is another page)."""
    return "/".join(quote(part.replace(_ENCODED_SLASH, "/"), safe=_PCHARS) for part in _route_view(scope).split("/"))


class IdRoute(APIRoute):
    """A route with an id in its path, matched by the module's rule."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return super().matches(scope)
        view = _route_view(scope)
        match, child, spans_segments = self._match_view(scope, view)
        if match is Match.NONE or not spans_segments:
            return match, child
        # An id of several segments: only where no route takes the path segment by segment, and the shortest.
        chosen = _shortest_ids(scope, view)
        if chosen is not None and id(self) not in chosen:
            return Match.NONE, {}
        return match, child

    def _match_view(self, scope: Scope, view: str) -> tuple[Match, Scope, bool]:
        """The match on the path as sent, the stand-ins put back in its parameters, and whether an id in it
        spans several segments."""
        match, child = super().matches(scope if view == scope["path"] else {**scope, "path": view})
        if match is Match.NONE:
            return match, child, False
        params = dict(child["path_params"])
        spans = False
        for name, convertor in self.param_convertors.items():
            value = params.get(name)
            if isinstance(value, str):
                spans = spans or (isinstance(convertor, IdConvertor) and "/" in value)
                params[name] = value.replace(_ENCODED_SLASH, "/")
        return match, {**child, "path_params": params}, spans


def _shortest_ids(scope: Scope, view: str) -> frozenset[int] | None:
    """The id routes (by identity) that may read an id of several segments from this request's path: none
    when some route takes it segment by segment, else those reading the shortest ids (None: not routed by
    an app, a route called alone)."""
    app = scope.get("app")
    if app is None or not hasattr(app, "routes"):
        return None
    key = (scope["path"], scope.get("raw_path"), scope.get("root_path", ""))
    cached: tuple[Any, frozenset[int]] | None = scope.get(_DECISION)
    if cached is not None and cached[0] == key:
        return cached[1]
    from micromoves.web.app import leaf_routes

    ids: dict[int, int] = {}
    for route in leaf_routes(app.routes):
        if isinstance(route, IdRoute):
            match, child, spans = route._match_view(scope, view)
            if match is Match.NONE:
                continue
            if not spans:
                ids = {}
                break
            ids[id(route)] = sum(
                len(child["path_params"][name])
                for name, convertor in route.param_convertors.items()
                if isinstance(convertor, IdConvertor)
            )
        elif route.matches(scope)[0] is not Match.NONE:
            ids = {}
            break
    shortest = min(ids.values(), default=0)
    chosen = frozenset(r for r, n in ids.items() if n == shortest)
    scope[_DECISION] = (key, chosen)
    return chosen
