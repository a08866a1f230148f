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
