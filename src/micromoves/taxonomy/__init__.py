"""O*NET 29.3 occupation taxonomy and career lattices (pure, stdlib-only).

Contains information from the O*NET 29.3 Database by USDOL/ETA, used under CC BY 4.0; see
``micromoves/taxonomy/data/NOTICE.md``.
"""

from micromoves.taxonomy.lattice import (
    DEFAULT_ROLE_TIER_WEIGHT,
    DEFAULT_TIER_WEIGHT,
    PROMOTION_TIER,
    LatticeEdge,
    RoleNode,
    occupation_lattice,
    role_lattice,
    skill_distance,
)
from micromoves.taxonomy.onet import (
    ONET_VERSION,
    RELATEDNESS_TIERS,
    ElementKind,
    ElementRating,
    Occupation,
    OnetData,
    RelatedOccupation,
    SkillElement,
    TaxonomyError,
    load_onet,
)

__all__ = [
    "DEFAULT_ROLE_TIER_WEIGHT",
    "DEFAULT_TIER_WEIGHT",
    "ONET_VERSION",
    "PROMOTION_TIER",
    "RELATEDNESS_TIERS",
    "ElementKind",
    "ElementRating",
    "LatticeEdge",
    "Occupation",
    "OnetData",
    "RelatedOccupation",
    "RoleNode",
    "SkillElement",
    "TaxonomyError",
    "load_onet",
    "occupation_lattice",
    "role_lattice",
    "skill_distance",
]
