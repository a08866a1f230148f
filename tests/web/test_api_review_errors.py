"""The API reviewed as an integrator calls it: every error in the one shape, ``details.problems`` included."""

from __future__ import annotations

import pytest

from tests.web.conftest import World

pytestmark = pytest.mark.parametrize("world", ["sqlite"], indirect=True)


def _problems(body: dict) -> list[dict[str, str]]:
    return body["error"]["details"]["problems"]  # type: ignore[no-any-return]


def test_a_refusal_naming_a_field_lists_it_in_problems_as_validation_does(world: World) -> None:
    """A 422 from a business rule named its field as ``details.field`` only, a 422 from validation as
    ``details.problems``: an integration reading the problems (the documented shape) found none for an
    unknown role, a wrong Content-Type or a reused Idempotency-Key. Both now list it; ``field`` is kept."""
    hr = world.client("hr")
    r = hr.put("/api/v1/people/E/target-role", json={"role_id": "NOPE"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["details"]["field"] == "role_id"
    assert _problems(r.json()) == [{"field": "role_id", "message": "unknown role 'NOPE'"}]

    r = hr.put("/api/v1/people/E/target-role", content=b"role_id=R", headers={"content-type": "text/plain"})
    assert r.status_code == 415, r.text
    assert [p["field"] for p in _problems(r.json())] == ["content-type"]

    otto = world.client("otto")
    key = {"Idempotency-Key": "review-errors-1"}
    assert otto.post("/api/v1/moves/MV-O/check-ins", json={"note": "one"}, headers=key).status_code == 201
    r = otto.post("/api/v1/moves/MV-O/check-ins", json={"note": "two"}, headers=key)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["field"] == "Idempotency-Key"
    assert [p["field"] for p in _problems(r.json())] == ["Idempotency-Key"]
    assert r.json()["error"]["message"] == _problems(r.json())[0]["message"]


def test_a_refusal_without_a_field_keeps_empty_details(world: World) -> None:
    r = world.client().get("/api/v1/moves")
    assert (r.status_code, r.json()["error"]["details"]) == (401, {})


def test_a_body_past_the_limit_is_a_413_before_it_is_read(world: World) -> None:
    """Any JSON (or form) body was read whole, parsed and validated, however large: a client that sent a
    file by mistake, or anyone at all (the body is read before the caller is known), held the server's
    memory with it, and a large one got a 422 "String should have at most 5000 characters" a minute later.
    Past BODY_MAX_BYTES it is a 413 in the one shape, from Content-Length or while a chunked body streams."""
    from micromoves.web.bodies import BODY_MAX_BYTES

    huge = b'{"note": "' + b"x" * BODY_MAX_BYTES + b'"}'
    otto = world.client("otto")
    for client in (otto, world.client()):
        r = client.post("/api/v1/moves/MV-O/check-ins", content=huge, headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        error = r.json()["error"]
        assert (error["code"], error["details"]["field"]) == ("payload_too_large", "body")
        assert [p["field"] for p in error["details"]["problems"]] == ["body"]

    def chunks():  # no Content-Length: sent chunked
        yield b'{"note": "'
        for _ in range(BODY_MAX_BYTES // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    r = otto.post("/api/v1/moves/MV-O/check-ins", content=chunks(), headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large"), r.text
    # A page's form too; the limit is far above the largest body a request may validly carry.
    r = otto.post("/moves/MV-O/check-ins", content=huge, headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413, r.text

    def small():
        yield b'{"note": "chunked and small"}'

    r = otto.post("/api/v1/moves/MV-O/check-ins", content=small(), headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["check_ins"][-1]["note"] == "chunked and small"


def test_the_schema_documents_413_and_415_where_they_are_answered(world: World) -> None:
    """A JSON body sent as anything else is a 415 and a body past the limit a 413, on every write; the
    OpenAPI document listed neither (only the import's), so generated clients had no type for them."""
    schema = world.app.openapi()  # type: ignore[attr-defined]
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            if method in ("post", "put", "patch"):
                assert {"413", "415"} <= set(op["responses"]), (method, path)
                assert op["responses"]["415"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")
            if method == "delete":
                assert "413" in op["responses"], (method, path)
