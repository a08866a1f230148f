"""Schemathesis over the JSON API's OpenAPI schema, in-process (ASGI), authenticated, on the test world.

For every operation in ``/api/v1/openapi.json`` schemathesis generates requests from the schema and checks
the responses: no server error, a status code the schema documents, the documented content type, headers
and body. Every error body therefore has the documented shape ``{"error": {"code", "message", "details"}}``.

Runs once per backend and per caller: ``admin`` (may call everything) and the employee ``eva`` (refused
much of the time: the refusals must be documented too). Path parameters are generated, and half the time
taken from the world's real ids, so that the 200 bodies of real moves and people are checked, not only
404s. Each request carries a fresh read+write API token, so a generated ``DELETE /tokens/{id}`` that
revokes an earlier token cannot lock the run out.

The run is bounded (a few examples per operation, no deadline): a check of the contract, not a soak test.
The operations are driven here with Hypothesis rather than ``schemathesis.pytest.from_fixture``, whose
lazy loader does not work with pytest 9 (it rewrites ``Function._nodeid``, which pytest 9 removed).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from micromoves.services import accounts
from tests.web.conftest import PASSWORD, World

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 3


def _known_ids(world: World) -> dict[str, list[Any]]:
    return {
        "move_id": [world.mv_e, world.mv_o, world.mv_done],
        "person_id": ["E", "E2", "M", "O"],
        "user_id": sorted(world.users.values()),
        "token_id": [1, 2],
        "action": ["submit", "withdraw", "approve", "decline", "start_onboarding", "activate"],
    }


def _strategy(operation: Any, known: dict[str, list[Any]]) -> st.SearchStrategy[schemathesis.Case]:
    generated = operation.as_strategy()
    names = [p.name for p in operation.path_parameters]
    if not names or any(n not in known for n in names):
        return generated  # type: ignore[no-any-return]
    real = st.fixed_dictionaries({n: st.sampled_from(known[n]) for n in names}).flatmap(
        lambda ids: operation.as_strategy(path_parameters=ids)
    )
    return st.one_of(generated, real)


# One run per user, the two split between the backends: the shapes come from the same models either way,
# and the authorization matrix checks both backends' answers. Admin's run (every body real) goes to
# PostgreSQL, the employee's (many refusals, her own data) to SQLite.
@pytest.mark.parametrize(("world", "username"), [("postgresql", "admin"), ("sqlite", "eva")], indirect=["world"])
@pytest.mark.heavy
def test_api_conforms_to_its_schema(world: World, username: str) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", world.app)
    principal = accounts.authenticate(world.db, username, PASSWORD)
    known = _known_ids(world)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @given(case=_strategy(operation, known))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure as found
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            secret, _ = accounts.create_token(world.db, principal, name="schemathesis", scopes=["read", "write"])
            case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
