"""Career lattices: weighted, directed graphs of possible moves between occupations or org roles.

Pure functions over :class:`~micromoves.taxonomy.onet.OnetData`; a path planner can run a shortest-path
search over the returned edges. All weights are non-negative (validated), so Dijkstra applies.

Weight of a move = skill distance (0..1) + job-zone/level penalty + relatedness-tier penalty. For scale:
in O*NET 29.3 the skill distance between related occupations has a median of about 0.10-0.12 (95th
percentile 0.16-0.19, maximum 0.31) and between random occupations a median of about 0.20, so one job
zone up (0.15 by default) costs about as much as the typical skill gap of a related move, and the tier
penalties (0-0.1) mostly act as tie-breakers that favour O*NET's closest relations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from micromoves.taxonomy.onet import LEVEL_RANGE, OnetData

__all__ = [
    "DEFAULT_ROLE_TIER_WEIGHT",
    "DEFAULT_TIER_WEIGHT",
    "PROMOTION_TIER",
    "LatticeEdge",
    "RoleNode",
    "occupation_lattice",
    "role_lattice",
    "skill_distance",
]

MAX_LEVEL = LEVEL_RANGE[1]  # O*NET level scale is 0-7
PROMOTION_TIER = "promotion"

# Read-only so a caller cannot accidentally change the defaults for everyone.
DEFAULT_TIER_WEIGHT: Mapping[str, float] = MappingProxyType(
    {"Primary-Short": 0.0, "Primary-Long": 0.05, "Supplemental": 0.1}
)
# A promotion within the same occupation is the most ordinary move there is: no tier penalty; its
# cost comes from the level change and any difference in requirements.
DEFAULT_ROLE_TIER_WEIGHT: Mapping[str, float] = MappingProxyType({**DEFAULT_TIER_WEIGHT, PROMOTION_TIER: 0.0})

# Skill distance used when an occupation has no O*NET ratings (137 of 1,016 in 29.3, including
# Software Developers 15-1252.00). Comparing against an empty profile would give ~0.38 (every level
# treated as 0), which looks "far" only by accident; instead, treat the unknown gap explicitly as a long
# step: above the 95th percentile of rated related pairs (~0.19), below "unrelated" extremes (~0.36).
DEFAULT_UNKNOWN_DISTANCE = 0.25


def skill_distance(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Root-mean-square difference of levels over the union of elements, divided by 7 (range 0..1).

    An element missing from one side counts as level 0 there. Two empty profiles are at distance 0.
    Levels must be finite and within O*NET's 0-7 level scale (``ValueError`` otherwise), which is what
    guarantees the 0..1 range.
    """
    elements = a.keys() | b.keys()
    if not elements:
        return 0.0
    for profile in (a, b):
        for element_id, level in profile.items():
            if not 0.0 <= level <= MAX_LEVEL:  # also rejects NaN
                raise ValueError(f"level of {element_id!r} must be within 0-{MAX_LEVEL:g}, got {level!r}")
    # fsum is exactly rounded, so the result does not depend on set iteration order (which varies with
    # hash randomisation): weights are reproducible across runs and the function is exactly symmetric.
    total = math.fsum((a.get(e, 0.0) - b.get(e, 0.0)) ** 2 for e in elements)
    return min(1.0, math.sqrt(total / len(elements)) / MAX_LEVEL)  # min(): guard against rounding above 1


@dataclass(frozen=True, slots=True)
class LatticeEdge:
    source: str  # O*NET-SOC code or role id
    target: str
    tier: str  # O*NET relatedness tier, or PROMOTION_TIER
    skill_distance: float
    zone_change: int  # target job zone (or role level) minus source's
    weight: float


@dataclass(frozen=True, slots=True)
class RoleNode:
    """A role in an organisation, optionally mapped to an O*NET occupation.

    ``requirements`` maps O*NET element ids to required levels (0-7), e.g. from
    :meth:`OnetData.requirements` or set by the organisation. It is excluded from hashing so the frozen
    node stays hashable when it holds a plain dict.
    """

    role_id: str
    onet_code: str | None
    level: int
    requirements: Mapping[str, float] = field(default_factory=dict, hash=False)


def move_weight(distance: float, zone_change: int, zone_weight: float, tier_penalty: float) -> float:
    """Weight of one move; see the module docstring for the scale of each term."""
    # Moving up a job zone (or org level) means acquiring preparation, experience and scope the person
    # does not have yet; moving down mostly means giving up pay or scope, a real but smaller and more
    # reversible cost. Hence the full penalty per zone up and half of it per zone down.
    up = max(0, zone_change)
    down = max(0, -zone_change)
    return distance + zone_weight * up + 0.5 * zone_weight * down + tier_penalty


def occupation_lattice(
    data: OnetData,
    codes: Iterable[str] | None = None,
    zone_weight: float = 0.15,
    tier_weight: Mapping[str, float] = DEFAULT_TIER_WEIGHT,
    *,
    unknown_distance: float = DEFAULT_UNKNOWN_DISTANCE,
) -> list[LatticeEdge]:
    """Edges from O*NET's Related Occupations, sorted by (source, target).

    If ``codes`` is given, only edges with both ends in it are returned; unknown codes raise
    ``ValueError`` (a typo would otherwise just silently drop edges). Skill distance is computed over the
    full level profiles (all 68 elements, not only the important ones): with "missing = 0", comparing
    importance-filtered requirement sets would count every element that is important for only one side
    as a full gap and roughly triple the distances. ``unknown_distance`` is used when either end has no
    ratings. A missing job zone (never the case for related pairs in 29.3) counts as no change.
    """
    _check_weights(zone_weight, tier_weight, unknown_distance)
    allowed: set[str] | None = None
    if codes is not None:
        allowed = set(codes)
        unknown = sorted(allowed - data.occupations.keys())
        if unknown:
            raise ValueError(f"unknown O*NET-SOC codes: {', '.join(unknown[:10])}")

    levels = {
        code: {element_id: rating.level for element_id, rating in profile.items()}
        for code, profile in data.profiles.items()
        if allowed is None or code in allowed
    }
    edges: list[LatticeEdge] = []
    for source, relations in data.related.items():
        if allowed is not None and source not in allowed:
            continue
        for relation in relations:
            target = relation.code
            if allowed is not None and target not in allowed:
                continue
            source_levels, target_levels = levels.get(source), levels.get(target)
            if source_levels is None or target_levels is None:
                distance = unknown_distance
            else:
                distance = skill_distance(source_levels, target_levels)
            source_zone = data.occupations[source].job_zone
            target_zone = data.occupations[target].job_zone
            change = 0 if source_zone is None or target_zone is None else target_zone - source_zone
            penalty = _tier_penalty(tier_weight, relation.tier)
            edges.append(
                LatticeEdge(
                    source,
                    target,
                    relation.tier,
                    distance,
                    change,
                    move_weight(distance, change, zone_weight, penalty),
                )
            )
    edges.sort(key=lambda edge: (edge.source, edge.target))
    return edges


def role_lattice(
    roles: Sequence[RoleNode],
    data: OnetData,
    zone_weight: float = 0.15,
    tier_weight: Mapping[str, float] = DEFAULT_ROLE_TIER_WEIGHT,
) -> list[LatticeEdge]:
    """Moves between an organisation's roles, sorted by (source, target).

    * Promotion: role A -> role B with the same ``onet_code`` and ``B.level == A.level + 1``
      (tier ``"promotion"``).
    * Lateral/adjacent: role A -> role B when O*NET lists B's occupation as related to A's
      (tier from O*NET) and ``B.level <= A.level + 1`` - sideways, down, or one level up at most,
      because changing occupation and jumping two levels at once is not a micro-move.

    Roles without an ``onet_code`` get no edges. Skill distance compares the roles' ``requirements``;
    ``zone_change`` holds the level change and is weighted like a job-zone change. Raises ``ValueError``
    for duplicate role ids or an ``onet_code`` not in ``data``.
    """
    _check_weights(zone_weight, tier_weight, 0.0)
    by_code: dict[str, list[RoleNode]] = {}
    seen: set[str] = set()
    for role in roles:
        if role.role_id in seen:
            raise ValueError(f"duplicate role id {role.role_id!r}")
        seen.add(role.role_id)
        if role.onet_code is None:
            continue
        if role.onet_code not in data.occupations:
            raise ValueError(f"role {role.role_id!r}: unknown O*NET-SOC code {role.onet_code!r}")
        by_code.setdefault(role.onet_code, []).append(role)

    edges: list[LatticeEdge] = []

    def add(source: RoleNode, target: RoleNode, tier: str) -> None:
        distance = skill_distance(source.requirements, target.requirements)
        change = target.level - source.level
        weight = move_weight(distance, change, zone_weight, _tier_penalty(tier_weight, tier))
        edges.append(LatticeEdge(source.role_id, target.role_id, tier, distance, change, weight))

    for code, group in by_code.items():
        for source in group:
            for target in group:
                if target.level == source.level + 1:
                    add(source, target, PROMOTION_TIER)
            for relation in data.related.get(code, ()):
                for target in by_code.get(relation.code, ()):
                    if target.level <= source.level + 1:
                        add(source, target, relation.tier)
    edges.sort(key=lambda edge: (edge.source, edge.target, edge.tier))
    return edges


def _tier_penalty(tier_weight: Mapping[str, float], tier: str) -> float:
    try:
        return tier_weight[tier]
    except KeyError:
        raise ValueError(f"tier_weight has no weight for tier {tier!r}") from None


def _check_weights(zone_weight: float, tier_weight: Mapping[str, float], unknown_distance: float) -> None:
    # Negative (or NaN) weights would break shortest-path search, so reject them up front.
    values = {"zone_weight": zone_weight, "unknown_distance": unknown_distance}
    values.update({f"tier_weight[{tier!r}]": weight for tier, weight in tier_weight.items()})
    for name, value in values.items():
        if not 0.0 <= value < math.inf:
            raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
