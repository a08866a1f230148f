"""The OpenAPI document reviewed against what the API does: what a generated client needs to know."""

from __future__ import annotations

from typing import Any

import pytest

from micromoves.web.idempotency import keeps_answer
from tests.web.conftest import World

pytestmark = pytest.mark.parametrize("world", ["sqlite"], indirect=True)


def _operations(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    schema = world.app.openapi()  # type: ignore[attr-defined]
    return [(method, path, op) for path, ops in schema["paths"].items() for method, op in ops.items()]


def test_the_idempotency_key_is_a_documented_header_of_each_write_that_keeps_it(world: World) -> None:
    """The Idempotency-Key header was described only in the document's introduction: no operation listed
    it, so a client generated from the document could not send it, and nothing said which writes keep
    it (not a token's, a login's, a password's or an import's). Each write that keeps it lists it, with
    the Idempotent-Replayed header of a replayed answer."""
    keyed = {
        (m, p)
        for m, p, op in _operations(world)
        if any(x["name"] == "Idempotency-Key" for x in op.get("parameters", []))
    }
    assert ("post", "/api/v1/moves") in keyed and ("post", "/api/v1/moves/{move_id}/check-ins") in keyed
    for refused in (
        ("post", "/api/v1/tokens"),
        ("delete", "/api/v1/tokens/{token_id}"),
        ("delete", "/api/v1/session"),
        ("post", "/api/v1/session"),
        ("post", "/api/v1/imports"),
        ("post", "/api/v1/account/password"),
        ("post", "/api/v1/admin/users"),
        ("get", "/api/v1/moves"),
    ):
        assert refused not in keyed, refused
    for method, path, op in _operations(world):
        assert ((method, path) in keyed) == (
            method.upper() in ("POST", "PUT", "PATCH", "DELETE") and keeps_answer(method.upper(), path)
        )
        if (method, path) in keyed:
            header = next(x for x in op["parameters"] if x["name"] == "Idempotency-Key")
            assert (header["in"], header["required"], header["schema"]["maxLength"]) == ("header", False, 255)
            success = next(code for code in op["responses"] if code.startswith("2"))
            assert "Idempotent-Replayed" in op["responses"][success].get("headers", {}), (method, path)
    # And a documented key works as documented.
    otto = world.client("otto")
    key = {"Idempotency-Key": "schema-review-1"}
    first = otto.post("/api/v1/moves/MV-O/check-ins", json={"note": "once"}, headers=key)
    again = otto.post("/api/v1/moves/MV-O/check-ins", json={"note": "once"}, headers=key)
    assert (first.status_code, again.status_code, again.headers["idempotent-replayed"]) == (201, 201, "true")
    assert first.json() == again.json()


def test_a_plan_out_of_time_is_a_documented_503(world: World) -> None:
    """POST /people/{id}/plan answers 503 (out_of_time) when no plan is found within the time budget; the
    document did not list it, so a client took it for an undocumented failure rather than "try later"."""
    op = {(m, p): o for m, p, o in _operations(world)}[("post", "/api/v1/people/{person_id}/plan")]
    assert op["responses"]["503"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


def test_head_is_answered_as_get_without_the_body(world: World) -> None:
    """HTTP requires HEAD wherever GET is served (monitors and link checkers send it): every HEAD, the health
    check included, was a 405."""
    c = world.client()
    for path in ("/api/v1/health", "/login"):
        get, head = c.get(path), c.head(path)
        assert (head.status_code, head.content) == (get.status_code, b""), path
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["content-length"] == get.headers["content-length"]
    admin = world.client("admin")
    assert admin.head(f"/api/v1/moves/{world.mv_o}").status_code == 200
    assert admin.head("/api/v1/moves/NOPE").status_code == 404
    assert world.client().head("/api/v1/me").status_code == 401
    assert c.post("/api/v1/health").status_code == 405  # other methods are refused as before
