"""The ``Idempotency-Key`` header on unsafe ``/api/v1`` requests (see :mod:`micromoves.services.idempotency`).

A plain ASGI middleware, so that it can read the request body (to tell a retry from a different request)
and hand it on unchanged, and hold the response back until it is stored: a client that retries the moment
it gets an answer finds the answer stored, not a request "still running". Requests without the header, or
whose caller is not authenticated (the route answers 401 as usual), pass straight through.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from micromoves.domain.errors import DomainError
from micromoves.services import idempotency
from micromoves.services.accounts import Scope as AccessScope
from micromoves.storage.db import COMMITS, CommitWatch
from micromoves.web.bodies import BODY_METHODS, read_body, replaying

UNSAFE = BODY_METHODS
# Answers that hold a secret are never stored (a new API token's value; a login's session and CSRF token).
NOT_KEPT = ("/api/v1/tokens", "/api/v1/session", "/api/v1/imports")
# (An import is not kept either: it can be hundreds of megabytes, and it is idempotent by itself — records
# are matched by id, so the same files sent again change nothing and say so.)
# Nor requests that carry a password (a new one, or the current one: a change or an admin's reset): the key's
# digest of the body would be a fast, unsalted SHA-256 of it, kept for a day; and a change's answer holds the
# new session's CSRF token.
CREDENTIAL_PATHS_END = "/password"
NEW_ACCOUNT_PATH = "/api/v1/admin/users"  # a new account's body holds its first password
# Answers that refuse the caller are not kept either: the same request with the right token or CSRF header
# must run, not get the refusal back.
REFUSALS = frozenset({401, 403, 415, 429})  # 415: the key's answer to a body sent with the wrong Content-Type
WRITTEN_THEN_FAILED = (
    "the request failed after its change was saved; look the result up instead of retrying with this key"
)


def keeps_answer(method: str, path: str) -> bool:
    """Does an ``Idempotency-Key`` on this request keep its answer? (The OpenAPI document lists the header
    on exactly these operations.)"""
    return (
        method in UNSAFE
        and path.startswith("/api/")
        and not path.startswith(NOT_KEPT)
        and not path.rstrip("/").endswith(CREDENTIAL_PATHS_END)
        and not (method == "POST" and path.rstrip("/") == NEW_ACCOUNT_PATH)
    )


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not keeps_answer(scope["method"], path):
            await self.app(scope, receive, send)
            return
        key = Headers(scope=scope).get(idempotency.HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        from micromoves.web.app import check_csrf, error_body, field_details, identify

        read = await read_body(receive)
        assert read is not None  # read with no limit (BodyLimitMiddleware, outside, holds bodies to theirs)
        body, after = read
        if after:
            # The client went away before the body was complete: nothing runs and the key stays unused
            # (the route sees the partial body and the disconnect, as it would without the header).
            await self.app(scope, replaying(body, after, receive, complete=False), send)
            return

        def body_again() -> Receive:  # the whole body, for each reader in turn
            return replaying(body, [], receive)

        try:
            # The caller is checked as the routes check it before anything is claimed or replayed: a
            # read-only token or a request without its CSRF token must not get a stored answer back.
            request = Request(scope, body_again())  # check_csrf may read a form
            caller = await run_in_threadpool(identify, request)
            await check_csrf(request, caller)
            caller.policy.require_scope(AccessScope.WRITE)
            user_id = caller.principal.user_id
        except DomainError:
            await self.app(scope, body_again(), send)  # the route answers 401/403
            return
        db = scope["app"].state.db
        digest = idempotency.request_digest(scope["method"], scope["path"], scope["query_string"].decode(), body)
        try:
            stored = await run_in_threadpool(idempotency.claim, db, user_id, key, digest)
        except DomainError as exc:
            status = 409 if exc.code == "conflict" else 422
            await _send_json(send, status, error_body(exc.code, exc.message, field_details(exc.field, exc.message)))
            return
        if stored is not None:
            await _send(send, stored, replayed=True)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        # Shielded: a cancelled request (the client gave up) still runs to its end and its answer is stored,
        # or the key is released; else the key would read "still running" while the write had committed.
        watch = CommitWatch()
        token = COMMITS.set(watch)
        with anyio.CancelScope(shield=True):
            try:
                await self.app(scope, body_again(), hold)
            except BaseException:
                if watch.commits:  # written, then crashed: a retry must get the error, not write again
                    failed = error_body("server_error", WRITTEN_THEN_FAILED, {})
                    response = idempotency.StoredResponse(500, "application/json", json.dumps(failed).encode())
                    await run_in_threadpool(idempotency.record, db, user_id, key, response)
                else:
                    await run_in_threadpool(idempotency.release, db, user_id, key)
                raise
            finally:
                COMMITS.reset(token)
            start = next((m for m in held if m["type"] == "http.response.start"), None)
            status = int(start["status"]) if start else 500
            # A server error releases the key so that a retry runs again, unless the request had already
            # committed a change: running it again would write it twice, so its error answer is kept.
            if status in REFUSALS or (status >= 500 and not watch.commits):
                await run_in_threadpool(idempotency.release, db, user_id, key)
            else:
                content_type = Headers(raw=start["headers"] if start else []).get("content-type", "")
                response_body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
                response = idempotency.StoredResponse(status, content_type, response_body)
                await run_in_threadpool(idempotency.record, db, user_id, key, response)
        for message in held:
            await send(message)


async def _send(send: Send, response: idempotency.StoredResponse, *, replayed: bool) -> None:
    headers = MutableHeaders()
    if response.content_type:
        headers["content-type"] = response.content_type
    headers["content-length"] = str(len(response.body))
    if replayed:
        headers["idempotent-replayed"] = "true"
    await send({"type": "http.response.start", "status": response.status, "headers": headers.raw})
    await send({"type": "http.response.body", "body": response.body})


async def _send_json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await _send(send, idempotency.StoredResponse(status, "application/json", body), replayed=False)
