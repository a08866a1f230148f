from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from micromoves.taxonomy import ONET_VERSION, ElementRating, OnetData, TaxonomyError, load_onet
from tests.taxonomy.conftest import PACKAGE_DATA, read_source_rows, rewrite_table

SOFTWARE_DEVELOPERS = "15-1252.00"
COMPUTER_PROGRAMMERS = "15-1251.00"
PROGRAMMING = "2.B.3.e"


def set_cell(lines: list[str], *, row: int, index: int, value: str) -> list[str]:
    """Replace cell ``index`` of 1-based ``row`` (the header is row 1)."""
    cells = lines[row - 1].split("\t")
    cells[index] = value
    return [*lines[: row - 1], "\t".join(cells), *lines[row:]]


@pytest.fixture(scope="module")
def data() -> OnetData:
    return load_onet()


def test_version_and_notice() -> None:
    assert ONET_VERSION == "29.3"
    notice = (PACKAGE_DATA / "NOTICE.md").read_text(encoding="utf-8")
    assert "O*NET 29.3 Database" in notice
    assert "Creative Commons Attribution 4.0" in notice
    assert "## Modifications in micromoves" in notice


def test_counts(data: OnetData) -> None:
    # O*NET 29.3 figures (also checked against the source below when it is available).
    assert len(data.occupations) == 1016
    kinds = Counter(element.kind for element in data.elements.values())
    assert kinds == {"skill": 35, "knowledge": 33}
    assert len(data.profiles) == 879
    assert all(len(profile) == 68 for profile in data.profiles.values())
    assert sum(o.job_zone is None for o in data.occupations.values()) == 93
    assert len(data.related) == 923
    assert all(len(entries) == 20 for entries in data.related.values())


@pytest.mark.heavy
def test_counts_match_source(data: OnetData, onet_source: Path) -> None:
    occupations = list(read_source_rows(onet_source / "Occupation Data.tsv"))
    assert {o.code for o in data.occupations.values()} == {r["O*NET-SOC Code"] for r in occupations}

    zones = {r["O*NET-SOC Code"]: int(r["Job Zone"]) for r in read_source_rows(onet_source / "Job Zones.tsv")}
    assert {code: o.job_zone for code, o in data.occupations.items() if o.job_zone} == zones

    for file_name, kind in (("Skills.tsv.xz", "skill"), ("Knowledge.tsv.xz", "knowledge")):
        rows = list(read_source_rows(onet_source / file_name))
        ids = {r["Element ID"] for r in rows}
        assert ids == {e.element_id for e in data.elements.values() if e.kind == kind}
        ratings = {(r["O*NET-SOC Code"], r["Element ID"], r["Scale ID"]): float(r["Data Value"]) for r in rows}
        for (code, element_id, scale), value in ratings.items():
            rating = data.profiles[code][element_id]
            assert (rating.importance if scale == "IM" else rating.level) == pytest.approx(value, abs=0.005)

    related = list(read_source_rows(onet_source / "Related Occupations.tsv.xz"))
    assert sum(len(entries) for entries in data.related.values()) == len(related)
    first = related[0]
    entry = data.related[first["O*NET-SOC Code"]][int(first["Index"]) - 1]
    assert (entry.code, entry.tier, entry.rank) == (
        first["Related O*NET-SOC Code"],
        first["Relatedness Tier"],
        int(first["Index"]),
    )


def test_software_developers_have_no_ratings_in_29_3(data: OnetData) -> None:
    # O*NET 29.3 quirk: Software Developers is a data-level occupation (job zone, tasks, related
    # occupations) but has no Skills/Knowledge ratings yet. If a future release adds them this test
    # fails on purpose: switch the Programming assertion below to 15-1252.00.
    developers = data.occupations[SOFTWARE_DEVELOPERS]
    assert developers.title == "Software Developers"
    assert developers.job_zone == 4
    assert SOFTWARE_DEVELOPERS not in data.profiles
    assert data.requirements(SOFTWARE_DEVELOPERS) == {}
    assert [r.code for r in data.related[SOFTWARE_DEVELOPERS][:2]] == ["15-1299.08", COMPUTER_PROGRAMMERS]


def test_software_developers_unrated_in_source(onet_source: Path) -> None:
    rows = read_source_rows(onet_source / "Skills.tsv.xz")
    assert not any(r["O*NET-SOC Code"] == SOFTWARE_DEVELOPERS for r in rows)


def test_programming_is_a_requirement_of_computer_programmers(data: OnetData) -> None:
    assert data.profiles[COMPUTER_PROGRAMMERS][PROGRAMMING] == ElementRating(importance=4.75, level=4.88)
    requirements = data.requirements(COMPUTER_PROGRAMMERS)
    assert requirements[PROGRAMMING] == 4.88
    assert data.profiles[COMPUTER_PROGRAMMERS][PROGRAMMING].importance >= 3
    # Every returned element meets the threshold; raising it can only shrink the set.
    profile = data.profiles[COMPUTER_PROGRAMMERS]
    assert all(profile[e].importance >= 3.0 for e in requirements)
    strict = data.requirements(COMPUTER_PROGRAMMERS, min_importance=4.5)
    assert PROGRAMMING in strict and set(strict) < set(requirements)


def test_requirements_unknown_code(data: OnetData) -> None:
    with pytest.raises(KeyError, match=r"99-9999\.99"):
        data.requirements("99-9999.99")


def test_element_by_name(data: OnetData) -> None:
    assert data.element_by_name("programming").element_id == PROGRAMMING
    assert data.element_by_name("  COMPUTERS   and electronics ").element_id == "2.C.3.a"
    # "Mathematics" is both a skill and a knowledge area.
    with pytest.raises(KeyError, match="ambiguous"):
        data.element_by_name("Mathematics")
    assert data.element_by_name("Mathematics", kind="skill").element_id == "2.A.1.e"
    assert data.element_by_name("Mathematics", kind="knowledge").element_id == "2.C.4.a"
    with pytest.raises(KeyError, match="Juggling"):
        data.element_by_name("Juggling")


def test_default_load_is_cached() -> None:
    # (Load time is measured by benchmarks, not asserted here: timing asserts make tests flaky.)
    assert load_onet() is load_onet()
    fresh = load_onet(PACKAGE_DATA)  # explicit folder: not cached
    assert fresh is not load_onet()
    assert fresh == load_onet()


@pytest.mark.parametrize(
    ("name", "edit", "row", "column", "message"),
    [
        pytest.param(
            "occupation_elements.tsv.xz",
            lambda lines: set_cell(lines, row=3, index=2, value="abc"),
            3,
            "importance",
            "expected a number",
            id="bad-number",
        ),
        pytest.param(
            "occupation_elements.tsv.xz",
            lambda lines: set_cell(lines, row=6, index=2, value="9.00"),
            6,
            "importance",
            r"\[1, 5\]",
            id="out-of-range",
        ),
        pytest.param(
            "occupation_elements.tsv.xz",
            lambda lines: [*lines[:3], lines[3].rsplit("\t", 1)[0], *lines[4:]],
            4,
            "level",
            "expected 4 columns, found 3",
            id="missing-column",
        ),
        pytest.param(
            "occupations.tsv.xz",
            lambda lines: [lines[0].replace("job_zone", "zone"), *lines[1:]],
            1,
            "job_zone",
            "header",
            id="bad-header",
        ),
        pytest.param(
            "occupations.tsv.xz",
            lambda lines: set_cell(lines, row=2, index=3, value="9"),
            2,
            "job_zone",
            "job zone 1-5",
            id="bad-job-zone",
        ),
        pytest.param(
            "elements.tsv.xz",
            lambda lines: [lines[0], lines[1].replace("\tskill\t", "\tability\t"), *lines[2:]],
            2,
            "kind",
            "'skill' or 'knowledge'",
            id="bad-kind",
        ),
        pytest.param(
            "related.tsv.xz",
            lambda lines: [lines[0], "11-1011.00\t00-0000.00\tPrimary-Short\t1", *lines[1:]],
            2,
            "related_code",
            "unknown occupation code",
            id="dangling-reference",
        ),
        pytest.param(
            "related.tsv.xz",
            lambda lines: [*lines[:7], lines[7].replace("Primary", "Secondary"), *lines[8:]],
            8,
            "tier",
            "Primary-Short",
            id="bad-tier",
        ),
    ],
)
def test_malformed_file_names_file_row_and_column(
    data_copy: Path, name: str, edit: Callable[[list[str]], list[str]], row: int, column: str, message: str
) -> None:
    rewrite_table(data_copy, name, edit)
    with pytest.raises(TaxonomyError, match=message) as caught:
        load_onet(data_copy)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (Path(error.file).name, error.row, error.column) == (name, row, column)
    text = str(error)
    assert name in text and f"row {row}" in text and f"column {column!r}" in text


def test_corrupt_and_missing_files(data_copy: Path) -> None:
    (data_copy / "related.tsv.xz").write_bytes(b"not xz at all")
    with pytest.raises(TaxonomyError, match=r"related\.tsv\.xz: not a valid xz file"):
        load_onet(data_copy)
    (data_copy / "related.tsv.xz").unlink()
    with pytest.raises(TaxonomyError, match=r"related\.tsv\.xz: file not found"):
        load_onet(data_copy)
