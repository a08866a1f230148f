"""The API's lists reviewed as an integrator pages through them."""

from __future__ import annotations

import pytest

from tests.web.conftest import World

pytestmark = pytest.mark.parametrize("world", ["sqlite"], indirect=True)


def test_the_release_report_says_how_many_pages_as_the_other_lists_do(world: World) -> None:
    """/api/v1/people and /api/v1/moves say total, page, page_size and pages; the release report, paged
    the same way (?page=), said no pages: a client paging through every list by ``pages`` stopped there."""
    hr = world.client("admin")
    report = hr.get("/api/v1/reports/releases").json()
    assert (report["total"], report["page"], report["pages"]) == (2, 1, 1)
    past = hr.get("/api/v1/reports/releases", params={"page": 3}).json()
    assert (past["managers"], past["total"], past["page"], past["pages"]) == ([], 2, 3, 1)
    schema = world.app.openapi()  # type: ignore[attr-defined]
    assert "pages" in schema["components"]["schemas"]["ReleaseReport"]["required"]
