"""Load the O*NET reference data shipped in the package into the database."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, insert, select

from micromoves.storage import tables as t
from micromoves.storage.bulk import BulkWriter
from micromoves.storage.db import Database
from micromoves.storage.uow import utcnow
from micromoves.taxonomy.onet import ONET_VERSION, OnetData, load_onet

Progress = Callable[[str, int, int], None]


def taxonomy_version(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return conn.scalar(select(t.reference_data.c.version).where(t.reference_data.c.name == "onet"))


def load_taxonomy(db: Database, data: OnetData | None = None, *, force: bool = False) -> bool:
    """Load O*NET occupations, skill/knowledge elements, their levels and related occupations.

    Idempotent: does nothing if this O*NET version is already loaded (unless ``force``). Returns whether
    it loaded. One transaction: a failure leaves the previous reference data in place.
    """
    if not force and taxonomy_version(db) == ONET_VERSION:
        return False
    data = data or load_onet()
    with db.write_engine.begin() as conn:
        conn.execute(delete(t.onet_related))
        conn.execute(delete(t.onet_occupation_elements))
        conn.execute(delete(t.onet_occupations))
        conn.execute(delete(t.reference_data).where(t.reference_data.c.name == "onet"))
        known = set(conn.scalars(select(t.skills.c.id)))
        new_elements = [
            {"id": e.element_id, "name": e.name, "kind": e.kind}
            for e in data.elements.values()
            if e.element_id not in known
        ]
        if new_elements:
            conn.execute(insert(t.skills), new_elements)
        # Bulk paths (COPY on PostgreSQL): about 160,000 rows, five times faster than an executemany.
        bulk = BulkWriter(conn)
        bulk.insert(
            t.onet_occupations,
            ["code", "title", "description", "job_zone"],
            ((o.code, o.title, o.description, o.job_zone) for o in data.occupations.values()),
        )
        bulk.insert(
            t.onet_occupation_elements,
            ["code", "element_id", "importance", "level"],
            (
                (code, eid, r.importance, r.level)
                for code, profile in data.profiles.items()
                if code in data.occupations
                for eid, r in profile.items()
            ),
        )
        bulk.insert(
            t.onet_related,
            ["code", "related_code", "tier", "rank"],
            (
                (code, rel.code, rel.tier, rel.rank)
                for code, rels in data.related.items()
                if code in data.occupations
                for rel in rels
                if rel.code in data.occupations
            ),
        )
        conn.execute(insert(t.reference_data), [{"name": "onet", "version": ONET_VERSION, "loaded_at": utcnow()}])
    return True
