"""Use cases about roles: the catalogue and the role lattice (plausible next roles)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from micromoves.domain.model import Role
from micromoves.storage.db import Database
from micromoves.storage.uow import UnitOfWork
from micromoves.taxonomy.lattice import PROMOTION_TIER, LatticeEdge, RoleNode, role_lattice
from micromoves.taxonomy.onet import load_onet


@dataclass(frozen=True)
class NextRole:
    role: Role
    edge: LatticeEdge


def list_roles(db: Database) -> Sequence[Role]:
    with UnitOfWork(db, write=False) as uow:
        return uow.roles.all()


def organisation_lattice(db: Database) -> list[LatticeEdge]:
    """Edges between the organisation's roles: promotions on the same O*NET occupation and moves to roles
    whose occupations O*NET lists as related, weighted by skill distance and level change."""
    with UnitOfWork(db, write=False) as uow:
        roles = uow.roles.all()
        requirements: dict[str, dict[str, float]] = defaultdict(dict)
        for role in roles:
            for req in uow.roles.requirements(role.id):
                requirements[role.id][req.skill_id] = req.level
    onet = load_onet()
    nodes = [
        RoleNode(r.id, r.onet_code if r.onet_code in onet.occupations else None, r.level, requirements[r.id])
        for r in roles
    ]
    return role_lattice(nodes, onet)


def next_roles(db: Database, role_id: str, limit: int = 10) -> list[NextRole]:
    """The closest next roles from ``role_id``, lightest step first."""
    with UnitOfWork(db, write=False) as uow:
        uow.roles.get(role_id)
        roles = {r.id: r for r in uow.roles.all()}
    edges = sorted((e for e in organisation_lattice(db) if e.source == role_id), key=lambda e: (e.weight, e.target))
    return [NextRole(roles[e.target], e) for e in edges[:limit]]


def recommendation_document(db: Database, role_id: str, k: int = 10) -> dict[str, Any]:
    """The next roles from ``role_id`` in the recommendation format of docs/conventions.md: ``from`` and each
    recommendation's ``code`` are O*NET-SOC codes (the role id where a role has none, with ``role_id``
    beside it); ``score`` falls as the step's weight grows (1 / (1 + weight): comparable within the list,
    best first); ``why`` says in words what the weight is made of."""
    with UnitOfWork(db, write=False) as uow:
        source = uow.roles.get(role_id)
    found = next_roles(db, role_id, k)
    return {
        "from": source.onet_code or source.id,
        "k": k,
        "recommendations": [
            {
                "code": n.role.onet_code or n.role.id,
                "role_id": n.role.id,
                "title": n.role.title,
                "score": round(1 / (1 + n.edge.weight), 4),
                "why": _why(n.edge),
            }
            for n in found
        ],
    }


def _why(edge: LatticeEdge) -> list[str]:
    step = (
        "the next level of the same occupation"
        if edge.tier == PROMOTION_TIER
        else f"O*NET lists the occupations as related ({edge.tier})"
    )
    level = (
        "the same level"
        if edge.zone_change == 0
        else f"{abs(edge.zone_change)} level{'s' if abs(edge.zone_change) > 1 else ''} "
        + ("up" if edge.zone_change > 0 else "down")
    )
    return [step, f"skill profiles {1 - edge.skill_distance:.0%} alike (distance {edge.skill_distance:.2f})", level]
