"""A re-import that moves a running move's end moves its handoff's return date with it, as an extension in the
tracker does (handoffs.follow_extension): an HRIS that extended an acting role by four weeks left the holder
taking the responsibilities back on the old end, while the person was still acting for a month."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from micromoves.domain.model import MoveStatus
from micromoves.services import exporting, handoffs
from micromoves.services.accounts import Access, Principal
from micromoves.services.importing import import_files
from micromoves.services.policy import Policy
from micromoves.storage.db import Database
from tests.services.test_moves import org_db, propose, run_to

__all__ = ["org_db"]

S = MoveStatus
D = dt.date


def _reimport_with_end(db: Database, tmp_path: Path, move_id: str, end: dt.date, today: dt.date) -> None:
    path = exporting.export_csv(db, tmp_path / "out", kinds=["moves"])["moves"]
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["move_id"] == move_id:
            row["end"] = end.isoformat()
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    import_files(db, [path], actor="hris", today=today)


def test_an_imported_extension_moves_the_handoffs_return_date(org_db: Database, tmp_path: Path) -> None:
    mid = propose(org_db, kind="acting_role", percent_time=100)
    run_to(org_db, mid, S.REQUESTED, S.APPROVED, S.ONBOARDING, S.ACTIVE)
    admin = Policy(org_db, Principal(0, "admin", Access.ADMIN, None))
    handoffs.record_handoff(org_db, admin, mid, holder_id="MGR", responsibilities="The team")
    recorded = handoffs.handoff_for_move(org_db, mid)
    assert recorded is not None and recorded.return_on == D(2026, 3, 27)  # the move's end
    _reimport_with_end(org_db, tmp_path, mid, D(2026, 4, 24), today=D(2026, 3, 2))
    recorded = handoffs.handoff_for_move(org_db, mid)
    assert recorded is not None and recorded.return_on == D(2026, 4, 24)
