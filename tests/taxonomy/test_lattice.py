from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micromoves.taxonomy import (
    PROMOTION_TIER,
    LatticeEdge,
    OnetData,
    RoleNode,
    load_onet,
    occupation_lattice,
    role_lattice,
    skill_distance,
)

SOFTWARE_DEVELOPERS = "15-1252.00"
COMPUTER_PROGRAMMERS = "15-1251.00"
WEB_DEVELOPERS = "15-1254.00"  # job zone 3, Supplemental relation of Computer Programmers (zone 4)
SYSTEMS_ANALYSTS = "15-1211.00"  # job zone 3, Primary-Short relation of Computer Programmers

levels = st.floats(min_value=0.0, max_value=7.0, allow_nan=False)
profiles = st.dictionaries(st.sampled_from([f"e{i}" for i in range(12)]), levels, max_size=12)


@pytest.fixture(scope="module")
def data() -> OnetData:
    return load_onet()


# --- skill_distance ---------------------------------------------------------------------------------


@given(profiles)
def test_distance_to_self_is_zero(a: dict[str, float]) -> None:
    assert skill_distance(a, dict(a)) == 0.0


@given(profiles, profiles)
def test_distance_is_symmetric_and_bounded(a: dict[str, float], b: dict[str, float]) -> None:
    d = skill_distance(a, b)
    assert d == skill_distance(b, a)
    assert 0.0 <= d <= 1.0


def test_distance_examples() -> None:
    assert skill_distance({}, {}) == 0.0
    assert skill_distance({"x": 7.0}, {}) == 1.0  # missing counts as 0
    assert skill_distance({"x": 7.0}, {"y": 7.0}) == 1.0
    # RMS over the union {x, y}: sqrt((3.5² + 0²) / 2) / 7
    assert skill_distance({"x": 3.5, "y": 2.0}, {"y": 2.0}) == pytest.approx(math.sqrt(3.5**2 / 2) / 7)


@pytest.mark.parametrize("bad", [-0.1, 7.5, math.nan, math.inf])
def test_distance_rejects_levels_outside_scale(bad: float) -> None:
    with pytest.raises(ValueError, match="'x'"):
        skill_distance({"x": bad}, {})


# --- occupation lattice ----------------------------------------------------------------------------


def test_full_lattice_matches_related_occupations(data: OnetData) -> None:
    edges = occupation_lattice(data)
    assert len(edges) == sum(len(r) for r in data.related.values())
    assert edges == sorted(edges, key=lambda e: (e.source, e.target))
    assert all(e.weight >= e.skill_distance >= 0 for e in edges)
    assert occupation_lattice(data) == edges  # deterministic


def test_edges_for_software_developers(data: OnetData) -> None:
    edges = [e for e in occupation_lattice(data) if e.source == SOFTWARE_DEVELOPERS]
    assert {e.target for e in edges} == {r.code for r in data.related[SOFTWARE_DEVELOPERS]}
    to_programmers = next(e for e in edges if e.target == COMPUTER_PROGRAMMERS)
    assert to_programmers.tier == "Primary-Short"
    assert to_programmers.zone_change == 0  # both job zone 4
    # Software Developers has no ratings in O*NET 29.3, so the explicit "unknown" distance is used.
    assert to_programmers.skill_distance == 0.25
    assert to_programmers.weight == pytest.approx(0.25)


def test_lattice_restricted_to_codes(data: OnetData) -> None:
    codes = {SOFTWARE_DEVELOPERS, COMPUTER_PROGRAMMERS, WEB_DEVELOPERS, SYSTEMS_ANALYSTS}
    edges = occupation_lattice(data, codes)
    assert edges
    assert all(e.source in codes and e.target in codes for e in edges)
    expected = {(source, r.code) for source in codes for r in data.related.get(source, []) if r.code in codes}
    assert {(e.source, e.target) for e in edges} == expected

    # Edge weight = skill distance + zone penalty (half weight going down) + tier penalty.
    by_pair = {(e.source, e.target): e for e in edges}
    down = by_pair[(COMPUTER_PROGRAMMERS, WEB_DEVELOPERS)]
    assert (down.tier, down.zone_change) == ("Supplemental", -1)
    assert down.weight == pytest.approx(down.skill_distance + 0.5 * 0.15 + 0.1)
    assert 0 < down.skill_distance < 0.25


def test_lattice_rejects_unknown_codes_and_negative_weights(data: OnetData) -> None:
    with pytest.raises(ValueError, match=r"00-0000\.00"):
        occupation_lattice(data, [COMPUTER_PROGRAMMERS, "00-0000.00"])
    with pytest.raises(ValueError, match="zone_weight"):
        occupation_lattice(data, [COMPUTER_PROGRAMMERS], zone_weight=-1)
    with pytest.raises(ValueError, match="Supplemental"):
        occupation_lattice(data, [COMPUTER_PROGRAMMERS, WEB_DEVELOPERS], tier_weight={"Primary-Short": 0.0})


# --- role lattice ----------------------------------------------------------------------------------

PYTHON_SKILLS = {"2.B.3.e": 4.0, "2.C.3.a": 5.0}


def dev_roles() -> list[RoleNode]:
    return [
        RoleNode("prog-1", COMPUTER_PROGRAMMERS, 1, PYTHON_SKILLS),
        RoleNode("prog-2", COMPUTER_PROGRAMMERS, 2, {"2.B.3.e": 5.0, "2.C.3.a": 5.0}),
        RoleNode("prog-3", COMPUTER_PROGRAMMERS, 3, {"2.B.3.e": 5.5, "2.C.3.a": 5.5}),
        RoleNode("web-1", WEB_DEVELOPERS, 1, PYTHON_SKILLS),
        RoleNode("web-2", WEB_DEVELOPERS, 2, PYTHON_SKILLS),
        RoleNode("web-3", WEB_DEVELOPERS, 3, PYTHON_SKILLS),
        RoleNode("coach", None, 2, PYTHON_SKILLS),
    ]


def test_role_lattice_promotions(data: OnetData) -> None:
    edges = role_lattice(dev_roles(), data)
    promotions = {(e.source, e.target) for e in edges if e.tier == PROMOTION_TIER}
    assert promotions == {("prog-1", "prog-2"), ("prog-2", "prog-3"), ("web-1", "web-2"), ("web-2", "web-3")}
    assert all(e.zone_change == 1 for e in edges if e.tier == PROMOTION_TIER)
    assert edges == sorted(edges, key=lambda e: (e.source, e.target, e.tier))
    assert not any("coach" in (e.source, e.target) for e in edges)  # no occupation, no edges


def test_role_lattice_lateral_moves(data: OnetData) -> None:
    edges = role_lattice(dev_roles(), data)
    lateral = {(e.source, e.target): e for e in edges if e.tier != PROMOTION_TIER}
    # Web Developers is a Supplemental relation of Computer Programmers (and vice versa in 29.3);
    # a lateral move may go down any number of levels but up at most one.
    assert ("prog-1", "web-2") in lateral
    assert ("prog-1", "web-3") not in lateral
    assert ("prog-3", "web-1") in lateral
    assert lateral[("prog-1", "web-1")].tier == "Supplemental"
    assert lateral[("prog-1", "web-1")].skill_distance == 0.0  # identical requirements


def test_role_weights_increase_with_level_change(data: OnetData) -> None:
    # Identical requirements everywhere, so only the level change (and tier) drives the weight.
    roles = [
        RoleNode(f"{kind}-{level}", code, level, PYTHON_SKILLS)
        for kind, code in (("prog", COMPUTER_PROGRAMMERS), ("web", WEB_DEVELOPERS))
        for level in (1, 2, 3)
    ]
    edges = {(e.source, e.target): e for e in role_lattice(roles, data)}
    assert all(e.skill_distance == 0.0 for e in edges.values())
    same = edges[("prog-1", "web-1")]
    up = edges[("prog-1", "web-2")]
    down_one, down_two = edges[("prog-2", "web-1")], edges[("prog-3", "web-1")]
    assert [e.zone_change for e in (same, up, down_one, down_two)] == [0, 1, -1, -2]
    assert same.weight < down_one.weight < down_two.weight
    # Moving up a level costs more than moving down one (full vs half zone penalty).
    assert same.weight < down_one.weight < up.weight
    assert up.weight == pytest.approx(0.15 + 0.1) and down_one.weight == pytest.approx(0.075 + 0.1)
    promotion = edges[("prog-1", "prog-2")]
    assert promotion.weight == pytest.approx(0.15)
    assert not any(source == target for source, target in edges)
    # A larger zone_weight makes level changes dearer.
    heavier = {(e.source, e.target): e for e in role_lattice(roles, data, zone_weight=0.5)}
    assert heavier[("prog-1", "web-2")].weight > up.weight
    assert heavier[("prog-1", "web-1")].weight == same.weight


def test_role_lattice_validation(data: OnetData) -> None:
    with pytest.raises(ValueError, match="duplicate role id"):
        role_lattice([RoleNode("a", None, 1), RoleNode("a", None, 2)], data)
    with pytest.raises(ValueError, match=r"00-0000\.00"):
        role_lattice([RoleNode("a", "00-0000.00", 1)], data)


def test_role_node_is_hashable() -> None:
    node = RoleNode("a", COMPUTER_PROGRAMMERS, 1, {"2.B.3.e": 4.0})
    assert node in {node}
    assert isinstance(LatticeEdge("a", "b", "promotion", 0.0, 1, 0.15), LatticeEdge)
