"""Org-wide allocation from the database: eligibility, release limits, scores, storing, applying (both backends)."""

from __future__ import annotations

import datetime as dt
import random
import struct
import time
from collections import Counter
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, update

from micromoves.allocation import violations
from micromoves.allocation.reference import solve_reference
from micromoves.domain.errors import Conflict, InvalidValue, NotFound
from micromoves.domain.lifecycle import OCCUPYING_STATUSES
from micromoves.domain.marketplace import Candidate, Eligibility, ineligibility, skill_fit
from micromoves.services import allocation as svc
from micromoves.storage import tables as t
from micromoves.storage.db import Database

TODAY = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
LOCATIONS = ["Berlin", "Porto", ""]
OCCUPYING = {s.value for s in OCCUPYING_STATUSES}


def skill_ids(db: Database, n: int) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.scalars(select(t.skills.c.id).order_by(t.skills.c.id).limit(n)))


def insert(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        with db.write_engine.begin() as conn:
            conn.execute(table.insert(), rows)


def opportunity(oid: str, **kw: Any) -> dict[str, Any]:
    row = {
        "id": oid,
        "title": f"Opportunity {oid}",
        "description": "",
        "kind": "gig",
        "host_team_id": "HOST",
        "host_manager_id": None,
        "start": TODAY + dt.timedelta(weeks=2),
        "end": TODAY + dt.timedelta(weeks=10),
        "percent_time": 20,
        "seats": 1,
        "required_skills": {},
        "preferred_skills": {},
        "builds_skills": {},
        "expected_outcomes": "",
        "criteria_template": [],
        "min_role_level": None,
        "min_tenure_months": None,
        "locations": [],
        "application_deadline": None,
        "status": "open",
        "template_id": None,
        "created_by": "hr",
        "created_at": NOW,
        "approved_by": "hr",
    }
    row.update(kw)
    return row


def application(person: str, opp: str, status: str = "applied", benefit: int | None = None) -> dict[str, Any]:
    return {
        "opportunity_id": opp,
        "person_id": person,
        "status": status,
        "applied_at": NOW,
        "note": "",
        "plan_benefit_weeks": benefit,
    }


def move(mid: str, person: str, start: dt.date, weeks: int, percent: int, status: str) -> dict[str, Any]:
    return {
        "id": mid,
        "person_id": person,
        "kind": "gig",
        "title": "Earlier move",
        "start": start,
        "end": start + dt.timedelta(weeks=weeks),
        "percent_time": percent,
        "status": status,
        "skills_targeted": [],
        "expected_outcomes": "",
    }


def base_org(db: Database, teams: dict[str, int], *, levels: dict[str, int] | None = None) -> list[str]:
    """Teams of the given sizes (people ``<team>-<n>``), roles at levels 1–4, a host team."""
    insert(db, t.teams, [{"id": k, "name": k, "function": ""} for k in [*teams, "HOST"]])
    insert(db, t.roles, [{"id": f"R{lv}", "title": f"Role {lv}", "level": lv} for lv in range(1, 5)])
    insert(db, t.roles, [{"id": "TGT", "title": "Senior Analyst", "level": 5}])
    people = []
    for team, size in teams.items():
        for n in range(size):
            pid = f"{team}-{n}"
            people.append(pid)
            insert(
                db,
                t.people,
                [
                    {
                        "id": pid,
                        "name": f"Person {pid}",
                        "role_id": f"R{(levels or {}).get(pid, 2)}",
                        "team_id": team,
                        "hire_date": dt.date(2020, 1, 1),
                        "location": "Berlin",
                        "capacity_percent": 100,
                        "home_role_min_percent": 50,
                        "target_role_id": "TGT",
                    }
                ],
            )
    return people


def test_release_limit_seats_and_scores(db: Database) -> None:
    # Team A has 10 people: 20% may be away at once = 2, and A-9 is already away (half time), so 1 more.
    base_org(db, {"A": 10, "B": 5})
    insert(db, t.moves, [move("M1", "A-9", TODAY - dt.timedelta(weeks=1), 12, 50, "active")])
    insert(db, t.opportunities, [opportunity("O1", seats=2), opportunity("O2")])
    insert(
        db,
        t.applications,
        [
            application("A-0", "O1", benefit=3),
            application("A-1", "O1", benefit=5),
            application("A-2", "O2", benefit=4),
            application("B-0", "O1", "waitlisted"),
            application("B-1", "O2", "withdrawn", benefit=9),
        ],
    )
    proposal = svc.propose_allocation(db, actor="hr", equity_weight=2.0, today=TODAY)
    chosen = {(a.person_id, a.opportunity_id) for a in proposal.assignments}
    # A may release one person: A-1 (5 weeks); B-0 takes the second O1 seat; the withdrawn B-1 never counts.
    assert chosen == {("A-1", "O1"), ("B-0", "O1")}
    by_person = {a.person_id: a for a in proposal.assignments}
    assert by_person["A-1"].explanation == (
        "5 weeks sooner to Senior Analyst; no move in the last 12 months; no particular skills asked"
    )
    assert by_person["A-1"].score == pytest.approx(5 + 2 + 1)
    assert proposal.objective == pytest.approx(8 + 3)
    # O2's seat stays empty, and the run says why: its one applicant's team has used up its release limit.
    assert proposal.stats["empty_seats"] == 1
    assert proposal.stats["empty_seats_by_reason"] == {"release_limit": 1}
    [o2] = proposal.stats["unfilled"]
    assert (o2["opportunity_id"], o2["empty"], o2["applied"], o2["release_limit"]) == ("O2", 1, 1, 1)
    assert o2["reason"] == "1 applied: 1 held back: their team's release limit is used up"
    assert svc.get_allocation(db, proposal.run_id, today=TODAY).stats["unfilled"] == [o2]  # stored with the run
    with db.engine.connect() as conn:
        run = conn.execute(select(t.allocation_runs)).one()
        assert (run.status, run.created_by, run.objective) == ("proposed", "hr", pytest.approx(11))
        assert conn.scalar(select(func.count()).select_from(t.allocation_assignments)) == 2
        actions = list(conn.scalars(select(t.audit_events.c.action)))
    assert actions == ["allocation.proposed"]


def test_an_application_withdrawn_during_the_solve_refuses_the_whole_run(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    base_org(db, {"A": 5, "B": 5})
    insert(db, t.opportunities, [opportunity("O1"), opportunity("O2")])
    insert(db, t.applications, [application("A-0", "O1", benefit=3), application("B-0", "O2", benefit=2)])
    solve = svc.solve

    def withdraw_after_solving(*args: Any) -> Any:
        result = solve(*args)
        with db.write_engine.begin() as conn:
            conn.execute(update(t.applications).where(t.applications.c.person_id == "B-0").values(status="withdrawn"))
        return result

    monkeypatch.setattr(svc, "solve", withdraw_after_solving)
    with pytest.raises(Conflict, match=r"1 application\(s\) changed .* B-0 → O2"):
        svc.propose_allocation(db, actor="hr", equity_weight=2.0, today=TODAY)
    with db.engine.connect() as conn:  # nothing half-written: no run, no assignment, no audit record
        assert conn.scalar(select(func.count()).select_from(t.allocation_runs)) == 0
        assert conn.scalar(select(func.count()).select_from(t.allocation_assignments)) == 0
        assert conn.scalar(select(func.count()).select_from(t.audit_events)) == 0
    monkeypatch.setattr(svc, "solve", solve)
    again = svc.propose_allocation(db, actor="hr", equity_weight=2.0, today=TODAY)
    assert [(a.person_id, a.person_name, a.opportunity_id) for a in again.assignments] == [("A-0", "Person A-0", "O1")]
    assert (
        again.assignments[0].application_id
        == svc.get_allocation(db, again.run_id, today=TODAY).assignments[0].application_id
    )


def test_one_person_without_team_location_or_target_role(db: Database) -> None:
    # Aggregated text columns of one row holding '' come back as '' (as if there were no row at all).
    insert(db, t.teams, [{"id": "HOST", "name": "HOST", "function": ""}])
    insert(db, t.roles, [{"id": "R2", "title": "Role 2", "level": 2}])
    insert(
        db,
        t.people,
        [
            {
                "id": "SOLO",
                "name": "Solo",
                "role_id": "R2",
                "team_id": None,
                "hire_date": dt.date(2020, 1, 1),
                "location": "",
                "capacity_percent": 100,
                "home_role_min_percent": 50,
                "target_role_id": None,
            }
        ],
    )
    # O1 prefers a skill Solo does not hold: 0% matched (the tests above, with nothing asked, say so instead).
    (skill,) = skill_ids(db, 1)
    insert(db, t.opportunities, [opportunity("O1", preferred_skills={skill: 2.0})])
    insert(db, t.applications, [application("SOLO", "O1", benefit=2)])
    proposal = svc.propose_allocation(db, actor="hr", equity_weight=0.0, today=TODAY, release_share=1.0)
    assert [(a.person_id, a.opportunity_id, a.explanation) for a in proposal.assignments] == [
        ("SOLO", "O1", "2 weeks sooner to the target role; no move in the last 12 months; skills 0% matched")
    ]


def test_equity_weight_prefers_people_without_a_recent_move(db: Database) -> None:
    base_org(db, {"A": 5, "B": 5})
    insert(db, t.moves, [move("M1", "A-0", TODAY - dt.timedelta(weeks=30), 8, 20, "completed")])
    insert(db, t.opportunities, [opportunity("O1")])
    insert(db, t.applications, [application("A-0", "O1", benefit=2), application("B-0", "O1", benefit=1)])
    fair = svc.propose_allocation(db, actor="hr", equity_weight=2.0, today=TODAY)
    assert [a.person_id for a in fair.assignments] == ["B-0"]
    assert "no move in the last 12 months" in fair.assignments[0].explanation
    plain = svc.propose_allocation(db, actor="hr", equity_weight=0.0, today=TODAY)
    assert [a.person_id for a in plain.assignments] == ["A-0"]
    assert plain.assignments[0].explanation == "2 weeks sooner to Senior Analyst; no particular skills asked"


def test_eligibility_matches_the_domain_rules_on_a_random_org(db: Database) -> None:
    rng = random.Random(5)
    skills = skill_ids(db, 4)
    people = base_org(db, {"A": 12, "B": 8, "C": 6}, levels={f"A-{n}": 1 + n % 4 for n in range(12)})
    with db.write_engine.begin() as conn:
        for pid in people:
            conn.execute(
                update(t.people)
                .where(t.people.c.id == pid)
                .values(
                    location=rng.choice(LOCATIONS),
                    # A pre-hire whose first day is after some opportunities start (TODAY + 3 weeks).
                    hire_date=rng.choice([None, dt.date(2026, 1, 10), dt.date(2019, 3, 1), dt.date(2026, 6, 22)]),
                    home_role_min_percent=rng.choice([0, 0, 40, 70, 90]),
                )
            )
    levels = []
    for pid in people:
        for s in rng.sample(skills, 2):
            for when in (dt.date(2025, 1, 1), dt.date(2025, 6, 1)):  # the later assessment counts
                levels.append(
                    {
                        "person_id": pid,
                        "skill_id": s,
                        "level": round(rng.uniform(0, 4), 1),
                        "provenance": "self",
                        "assessed_on": when,
                    }
                )
    insert(db, t.skill_levels, levels)
    moves = []
    for n, pid in enumerate(rng.sample(people, 12)):
        start = TODAY + dt.timedelta(weeks=rng.randint(-6, 8))
        status = rng.choice(["active", "approved", "completed", "reverted", "requested"])
        moves.append(move(f"M{n}", pid, start, rng.randint(2, 8), rng.choice([10, 30, 50]), status))
    insert(db, t.moves, moves)
    opps = []
    for j in range(8):
        opps.append(
            opportunity(
                f"O{j}",
                seats=rng.randint(0, 3),
                percent_time=rng.choice([10, 20, 40]),
                start=TODAY + dt.timedelta(weeks=rng.randint(1, 6)),
                min_role_level=rng.choice([None, None, 2, 3]),
                min_tenure_months=rng.choice([None, None, 12]),
                locations=rng.choice([[], [], ["Berlin"], ["Porto", "Berlin"]]),
                required_skills={s: rng.choice([1.0, 1.7, 2.3]) for s in rng.sample(skills, rng.randint(0, 1))},
                preferred_skills={s: 3.0 for s in rng.sample(skills, rng.randint(0, 1))},
                status="open" if j < 7 else "draft",
            )
        )
    insert(db, t.opportunities, opps)
    apps = [
        application(pid, f"O{j}", rng.choice(["applied", "applied", "waitlisted", "withdrawn"]), rng.randint(0, 6))
        for pid in people
        for j in rng.sample(range(8), 3)
    ]
    insert(db, t.applications, apps)

    proposal = svc.propose_allocation(db, actor="hr", equity_weight=1.5, today=TODAY, keep_problem=True)
    c = t.applications.c
    problem = proposal.problem
    assert problem is not None
    with db.engine.connect() as conn:
        app_id = {(o, p): i for i, o, p in conn.execute(select(t.applications.c.id, c.opportunity_id, c.person_id))}
    # The stored assignments are an optimal, valid allocation of the problem.
    ids = [app_id[proposal.pair(k)] for k in range(problem.n_pairs)]
    chosen = [ids.index(a.application_id) for a in proposal.assignments]
    assert violations(problem, chosen) == []
    assert round(proposal.objective * 100) == solve_reference(problem).objective

    # The candidate pairs are exactly the live applications to open opportunities that the domain rules allow.
    expected = set()
    screened_out: dict[int, str] = {}
    with db.engine.connect() as conn:
        opp_rows = {o.id: o for o in conn.execute(select(t.opportunities))}
        role_level = dict(conn.execute(select(t.roles.c.id, t.roles.c.level)).all())
        for app in conn.execute(select(t.applications).where(t.applications.c.status.in_(["applied", "waitlisted"]))):
            o = opp_rows[app.opportunity_id]
            if o.status != "open":
                continue
            p = conn.execute(select(t.people).where(t.people.c.id == app.person_id)).one()
            latest = dict(
                conn.execute(
                    select(t.skill_levels.c.skill_id, t.skill_levels.c.level)
                    .where(t.skill_levels.c.person_id == p.id)
                    .order_by(t.skill_levels.c.assessed_on, t.skill_levels.c.id)
                ).all()
            )
            busy = [
                (m.start.toordinal(), m.end.toordinal(), m.percent_time)
                for m in conn.execute(select(t.moves).where(t.moves.c.person_id == p.id))
                if m.status in svc.BUSY and m.start <= o.end and m.end >= o.start
            ]
            free = (
                p.capacity_percent
                - p.home_role_min_percent
                - svc.peak_load(busy, o.start.toordinal(), o.end.toordinal())
            )
            who = Candidate(p.id, role_level[p.role_id], p.hire_date, p.location, latest, max(0, free))
            rules = Eligibility(o.min_role_level, o.min_tenure_months, tuple(o.locations), o.required_skills)
            reasons = ineligibility(rules, o.percent_time, who, start=o.start, today=TODAY)
            if reasons:  # the first reason the person's own page gives, as the run's counts name it
                first = reasons[0]
                screened_out[app.id] = (
                    "no_free_time"
                    if "of your time" in first
                    else "short_on_skills"
                    if " at level " in first
                    else "outside_rules"
                )
            if not reasons:
                expected.add(app.id)
                fit = skill_fit(o.required_skills, o.preferred_skills, latest)
                fresh = not any(
                    m.status in OCCUPYING and TODAY - dt.timedelta(days=365) < m.start <= TODAY
                    for m in conn.execute(select(t.moves).where(t.moves.c.person_id == p.id))
                )
                score = round(100 * ((app.plan_benefit_weeks or 0) + 1.5 * fresh + fit))
                assert problem.pair_score[ids.index(app.id)] == score
    assert set(ids) == expected
    assert 10 < len(expected) < len(apps)

    # Every empty seat is explained: each live applicant of its opportunity is counted once, as not eligible
    # (as many as the domain rules refuse), placed elsewhere, held back by the release limit, or chosen here.
    live = {"applied", "waitlisted"}
    placed = {a.person_id: a.opportunity_id for a in proposal.assignments}
    unfilled = proposal.stats["unfilled"]
    assert unfilled and proposal.stats["empty_seats"] == sum(u["empty"] for u in unfilled)
    for u in unfilled:
        oid = u["opportunity_id"]
        applied = [a for a in apps if a["opportunity_id"] == oid and a["status"] in live]
        eligible = [a for a in applied if app_id[(oid, a["person_id"])] in expected]
        assert u["applied"] == len(applied)
        assert u["short_on_skills"] + u["outside_rules"] + u["no_free_time"] == len(applied) - len(eligible)
        first = Counter(
            screened_out[app_id[(oid, a["person_id"])]]
            for a in applied
            if app_id[(oid, a["person_id"])] in screened_out
        )
        assert {k: u[k] for k in ("short_on_skills", "outside_rules", "no_free_time")} == {
            k: first[k] for k in ("short_on_skills", "outside_rules", "no_free_time")
        }
        here = sum(1 for a in eligible if placed.get(a["person_id"]) == oid)
        assert u["placed_elsewhere"] == sum(1 for a in eligible if placed.get(a["person_id"]) not in (None, oid))
        assert u["placed_elsewhere"] + u["release_limit"] + u["not_chosen"] + here == len(eligible)
        assert u["empty"] == opp_rows[oid].seats - here


def test_apply_makes_offers_and_refuses_stale_or_repeated_runs(db: Database) -> None:
    base_org(db, {"A": 10, "B": 10})
    insert(db, t.opportunities, [opportunity("O1", percent_time=50), opportunity("O2")])
    insert(
        db,
        t.applications,
        [application("A-0", "O1", benefit=3), application("B-0", "O2", benefit=2), application("B-1", "O2")],
    )
    first = svc.propose_allocation(db, actor="hr", equity_weight=1.0, today=TODAY)
    applied = svc.apply_allocation(db, first.run_id, actor="boss", today=TODAY)
    assert applied.status == "applied"
    with db.engine.connect() as conn:
        offers = conn.execute(
            select(t.applications.c.person_id, t.applications.c.status, t.applications.c.decided_by).order_by(
                t.applications.c.person_id
            )
        ).all()
        actions = list(conn.scalars(select(t.audit_events.c.action).order_by(t.audit_events.c.id)))
    assert [tuple(o) for o in offers] == [
        ("A-0", "offered", "boss"),
        ("B-0", "offered", "boss"),
        ("B-1", "applied", None),
    ]
    assert actions == ["allocation.proposed", "allocation.applied"]
    with pytest.raises(Conflict, match="only a proposed run"):
        svc.apply_allocation(db, first.run_id, actor="boss", today=TODAY)

    # Outstanding offers hold their seats: nothing left to propose.
    assert svc.propose_allocation(db, actor="hr", equity_weight=1.0, today=TODAY).assignments == []

    # A proposal whose application is withdrawn meanwhile is refused as a whole.
    insert(db, t.opportunities, [opportunity("O3", seats=2)])
    insert(db, t.applications, [application("A-1", "O3", benefit=1), application("A-2", "O3", benefit=1)])
    # Team A (10 people, 20%: two away at once) has A-0's open half-time offer outstanding: one more, not two.
    limited = svc.propose_allocation(db, actor="hr", equity_weight=1.0, today=TODAY)
    assert [a.person_id for a in limited.assignments] in (["A-1"], ["A-2"])
    svc.discard_allocation(db, limited.run_id, actor="hr")
    stale = svc.propose_allocation(db, actor="hr", equity_weight=1.0, today=TODAY, release_share=1.0)
    assert len(stale.assignments) == 2
    assert svc.run_detail(svc.get_allocation(db, stale.run_id, today=TODAY)).out_of_date is None
    with db.write_engine.begin() as conn:
        conn.execute(update(t.applications).where(t.applications.c.person_id == "A-2").values(status="withdrawn"))
    # The run's page says so before anyone presses Apply (it showed the button).
    reason = svc.run_detail(svc.get_allocation(db, stale.run_id, today=TODAY)).out_of_date
    assert reason is not None and "A-2 → O3 is withdrawn" in reason
    with pytest.raises(Conflict, match="A-2 → O3 is withdrawn"):
        svc.apply_allocation(db, stale.run_id, actor="boss", today=TODAY)
    with db.engine.connect() as conn:
        assert conn.scalar(select(t.applications.c.status).where(t.applications.c.person_id == "A-1")) == "applied"

    # A hire date moved past the opportunity's start meanwhile (an HRIS sync): the offer could never be accepted.
    with db.write_engine.begin() as conn:
        conn.execute(update(t.applications).where(t.applications.c.person_id == "A-2").values(status="applied"))
        start = conn.scalar(select(t.opportunities.c.start).where(t.opportunities.c.id == "O3"))
        hired = conn.scalar(select(t.people.c.hire_date).where(t.people.c.id == "A-2"))
        later = start + dt.timedelta(days=1)
        conn.execute(update(t.people).where(t.people.c.id == "A-2").values(hire_date=later))
    reason = svc.get_allocation(db, stale.run_id, today=TODAY).out_of_date
    assert reason == f"hire dates changed since it was proposed (O3 starts before A-2's first day (hire date {later}))"
    with pytest.raises(Conflict, match="starts before A-2's first day"):
        svc.apply_allocation(db, stale.run_id, actor="boss", today=TODAY)
    with db.write_engine.begin() as conn:
        conn.execute(update(t.people).where(t.people.c.id == "A-2").values(hire_date=hired))

    # Seats gone meanwhile (someone accepted elsewhere): refused too; then discarded.
    with db.write_engine.begin() as conn:
        conn.execute(update(t.opportunities).where(t.opportunities.c.id == "O3").values(seats=1))
    assert "seats gone at O3 (open, 1 free for 2)" in str(svc.get_allocation(db, stale.run_id, today=TODAY).out_of_date)
    with pytest.raises(Conflict, match="seats gone at O3"):
        svc.apply_allocation(db, stale.run_id, actor="boss", today=TODAY)
    svc.discard_allocation(db, stale.run_id, actor="hr")
    assert svc.get_allocation(db, stale.run_id, today=TODAY).status == "discarded"
    assert svc.get_allocation(db, stale.run_id, today=TODAY).out_of_date is None
    with pytest.raises(Conflict):
        svc.discard_allocation(db, stale.run_id, actor="hr")
    with pytest.raises(NotFound):
        svc.apply_allocation(db, 999, actor="hr", today=TODAY)


def test_empty_database_and_bad_arguments(db: Database) -> None:
    proposal = svc.propose_allocation(db, actor="hr", equity_weight=2.0, today=TODAY)
    assert proposal.assignments == [] and proposal.objective == 0
    for bad in (-1, 101, 1e17, float("nan"), float("inf")):
        with pytest.raises(InvalidValue, match="equity weight must be 0–100"):
            svc.propose_allocation(db, actor="hr", equity_weight=bad, today=TODAY)
    with pytest.raises(InvalidValue, match="benefit weight"):
        svc.propose_allocation(db, actor="hr", benefit_weight=1e15, today=TODAY)
    with pytest.raises(InvalidValue):
        svc.propose_allocation(db, actor="hr", equity_weight=1, release_share=1.5, today=TODAY)


def test_vectorised_peak_load_agrees_with_a_day_by_day_count() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        spans = [
            (int(s), int(s + rng.integers(0, 20)), int(rng.choice([10, 20, 50])))
            for s in rng.integers(0, 40, rng.integers(0, 5))
        ]
        start = int(rng.integers(0, 30))
        end = start + int(rng.integers(0, 20))
        by_day = max((sum(p for s, e, p in spans if s <= d <= e) for d in range(start, end + 1)), default=0)
        assert svc.peak_load(spans, start, end) == by_day


def test_key_index_dense_and_sparse_agree() -> None:
    """Keys thin out on PostgreSQL (an upsert spends one per existing row): the sorted search then stands in
    for the dense array and finds the same rows; unknown keys are −1 either way."""
    rng = np.random.default_rng(3)
    keys = rng.permutation(np.arange(1, 2_001, dtype=np.int64))
    keys[5] = -1  # a row without a key
    wanted = rng.integers(0, 2_600, 5_000).astype(np.int64)
    dense = svc._KeyIndex(keys)
    sparse = svc._KeyIndex(np.where(keys >= 0, keys * 1_000, -1))
    assert dense.dense is not None and sparse.dense is None
    expected = [int(np.flatnonzero(keys == k)[0]) if k in set(keys.tolist()) and k > 0 else -1 for k in wanted.tolist()]
    assert dense.at(wanted).tolist() == expected
    assert sparse.at(wanted * 1_000).tolist() == expected
    assert sparse.at(wanted * 1_000 + 1).tolist() == [-1] * len(wanted)


def test_int8_array_from_postgresql_binary_format() -> None:
    """The packed applications arrive as one int8[] in PostgreSQL's binary format; NULL elements (rows
    without keys) are left out so that the count check notices them."""

    def array(values: list[int | None]) -> bytes:
        head = [1, int(None in values), 20, len(values), 1]
        out = b"".join(x.to_bytes(4, "big") for x in head)
        for v in values:
            out += (
                (-1).to_bytes(4, "big", signed=True)
                if v is None
                else (8).to_bytes(4, "big") + v.to_bytes(8, "big", signed=True)
            )
        return out

    assert svc._int8_array(array([5, 1 << 40, 7])).tolist() == [5, 1 << 40, 7]
    assert svc._int8_array(array([5, None, 7])).tolist() == [5, 7]
    assert svc._int8_array(None).tolist() == []
    # Numeric columns of the loading queries (people, skills, moves) are read the same way, floats too; a
    # NULL there would shift every later value onto the wrong row, so it is refused instead of dropped.
    floats = array([0, 0])[:20] + b"".join((8).to_bytes(4, "big") + struct.pack(">d", v) for v in (2.5, -0.125))
    assert svc._floats(floats).tolist() == [2.5, -0.125]
    assert svc._ints(array([3, -4])).tolist() == [3, -4]
    with pytest.raises(ValueError, match="NULL"):
        svc._ints(array([3, None]))


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_free_seats_are_counted_from_the_partial_index_of_seat_taking_applications(db: Database) -> None:
    """Migration 0007 indexes only the applications that take a seat, and spells their statuses itself: the
    service's count must be answerable from it (else it reads every application, or probes once per
    opportunity)."""
    sql = svc._seat_taking_sql(db.backend)
    with db.engine.connect() as conn:
        if db.backend == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # an empty table: a scan would cost nothing
            plan = " ".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {sql}"))
        else:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_applications_seat_taking" in plan, plan


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the index exists on SQLite only
def test_the_sqlite_scan_of_live_applications_reads_their_partial_index(db: Database) -> None:
    """Migration 0006 spells the packed value and the live statuses itself: if the service's SQL drifted
    from it, SQLite would refuse the query's index hint. With statistics (ANALYZE), SQLite without the hint
    would rather search the table by row id (1.7× the time at 2,000,000 applications)."""
    base_org(db, {"A": 6, "B": 6})
    insert(db, t.opportunities, [opportunity(f"O{k}", seats=2) for k in range(4)])
    people = [f"{team}-{n}" for team in "AB" for n in range(6)]
    insert(db, t.applications, [application(p, f"O{k}") for p in people for k in range(4)])
    sql = svc._sqlite_live_sql(1, 9)
    with db.write_engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
        # The statistics ANALYZE leaves at 2,222,222 applications, 2,110,467 of them live.
        conn.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'applications'")
        conn.exec_driver_sql(
            "INSERT INTO sqlite_stat1 VALUES ('applications', 'ix_applications_live_packed', '2110467 1 1'), "
            "('applications', 'ix_applications_person_id', '2222222 23'), "
            "('applications', 'sqlite_autoindex_applications_1', '2222222 445 1')"
        )
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE sqlite_schema")  # reload the statistics
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
        assert conn.exec_driver_sql(sql).one()[1] == 8
    assert "ix_applications_live_packed" in plan, plan


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # the covering index exists on PostgreSQL only
def test_the_postgresql_scan_reads_the_covering_index_only_while_the_visibility_map_is_fresh(db: Database) -> None:
    """Migration 0008: after a VACUUM the live applications' keys are read from the index alone; before it
    (rows not yet marked all-visible) the table is read. Both give the same allocation."""
    base_org(db, {"A": 6, "B": 6})
    insert(db, t.opportunities, [opportunity(f"O{k}", seats=2) for k in range(4)])
    people = [f"{team}-{n}" for team in "AB" for n in range(6)]
    insert(
        db,
        t.applications,
        [
            application(p, f"O{(i + k) % 4}", benefit=(i * 7 + k) % 5 or None)
            for i, p in enumerate(people)
            for k in (0, 1)
        ],
    )
    with db.write_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # Statistics as of now (the database is reused across tests): the new rows' page is not all-visible.
        conn.exec_driver_sql("ANALYZE applications")
        assert not svc._index_only(db)
        from_table = svc.propose_allocation(db, actor="hr", equity_weight=1.0, today=TODAY)
        # FREEZE waits for a page another session holds instead of skipping it; still, a concurrent
        # transaction's snapshot can keep a page from being marked, so try a few times.
        for _ in range(20):
            conn.exec_driver_sql("VACUUM (FREEZE) applications")
            if svc._index_only(db):
                break
            time.sleep(0.1)
    assert svc._index_only(db)
    from_index = svc.propose_allocation(db, actor="hr", equity_weight=1.0, today=TODAY)
    assert from_index.objective == from_table.objective
    assert [(a.person_id, a.opportunity_id, a.score) for a in from_index.assignments] == [
        (a.person_id, a.opportunity_id, a.score) for a in from_table.assignments
    ]
    sql = f"SELECT array_agg({svc.PACKED}), count(*) FROM applications WHERE id >= 0 AND id < 99 AND {svc.LIVE_SQL}"
    with db.engine.connect() as conn:
        for setting in svc._index_only_settings():
            conn.exec_driver_sql(setting)
        plan = " ".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {sql}"))
    assert "Index Only Scan using ix_applications_live_keys" in plan, plan


def test_a_run_proposed_before_another_was_applied_is_refused(db: Database) -> None:
    """Team A (10 people, 20%): at most 2 away. Run 1 proposes two of them; before it is applied, run 2
    proposes two more (run 1's offers do not exist yet). Applying both would put 4 away: the second is
    refused as out of date (both were applied), and a run proposed afterwards counts run 1's offers (half
    time each: away)."""
    base_org(db, {"A": 10})
    insert(db, t.opportunities, [opportunity(f"O{i}", percent_time=50) for i in range(1, 5)])
    insert(db, t.applications, [application("A-0", "O1", benefit=3), application("A-1", "O2", benefit=3)])
    first = svc.propose_allocation(db, actor="hr", today=TODAY)
    insert(db, t.applications, [application("A-2", "O3", benefit=9), application("A-3", "O4", benefit=9)])
    second = svc.propose_allocation(db, actor="hr", today=TODAY)
    assert len(first.assignments) == len(second.assignments) == 2
    svc.apply_allocation(db, first.run_id, actor="boss", today=TODAY)
    assert svc.get_allocation(db, first.run_id, today=TODAY).out_of_date is None  # applied: nothing to check
    assert f"run {first.run_id} was applied" in str(svc.get_allocation(db, second.run_id, today=TODAY).out_of_date)
    with pytest.raises(Conflict, match=f"run {first.run_id} was applied after it was proposed"):
        svc.apply_allocation(db, second.run_id, actor="boss", today=TODAY)
    with db.engine.connect() as conn:
        offered = sorted(conn.scalars(select(t.applications.c.person_id).where(t.applications.c.status == "offered")))
    assert offered == ["A-0", "A-1"]
    assert svc.propose_allocation(db, actor="hr", today=TODAY).assignments == []  # team A's limit is used up


def test_an_outstanding_offer_holds_the_persons_time_in_a_later_run(db: Database) -> None:
    """A-0 holds an open offer of a half-time O1 (weeks 2–10) and applied to the half-time O2 over the same
    weeks. Capacity 100% less a 50% home role leaves 50%, all of it held by the offer: a later run must not
    offer O2 too (both could be accepted; the clash surfaced only at the release). A-0's O3, after O1 ends,
    fits."""
    base_org(db, {"A": 10})
    later = TODAY + dt.timedelta(weeks=12)
    insert(
        db,
        t.opportunities,
        [
            opportunity("O1", percent_time=50),
            opportunity("O2", percent_time=20),
            opportunity("O3", percent_time=50, start=later, end=later + dt.timedelta(weeks=4)),
        ],
    )
    insert(db, t.applications, [application("A-0", "O1", status="offered"), application("A-0", "O2", benefit=5)])
    run = svc.propose_allocation(db, actor="hr", today=TODAY, release_share=1.0)
    assert run.assignments == []
    detail = svc.run_detail(run)
    assert [(u.opportunity_id, u.applied, u.no_free_time) for u in detail.unfilled] == [("O2", 1, 1), ("O3", 0, 0)]
    svc.discard_allocation(db, run.run_id, actor="hr")
    insert(db, t.applications, [application("A-0", "O3", benefit=1)])
    run = svc.propose_allocation(db, actor="hr", today=TODAY, release_share=1.0)
    assert [(a.person_id, a.opportunity_id) for a in run.assignments] == [("A-0", "O3")]


def test_time_away_that_starts_during_an_opportunity_counts_against_the_release_limit(db: Database) -> None:
    """O1 and O2 run weeks 2–10; A-9's approved move starts in week 4. Team A may have 2 away at once, so
    only one more may go: the busiest day is in week 4, not an opportunity's start (both were proposed)."""
    base_org(db, {"A": 10})
    insert(db, t.moves, [move("M1", "A-9", TODAY + dt.timedelta(weeks=4), 8, 100, "approved")])
    insert(db, t.opportunities, [opportunity("O1"), opportunity("O2")])
    insert(db, t.applications, [application("A-0", "O1", benefit=3), application("A-1", "O2", benefit=3)])
    run = svc.propose_allocation(db, actor="hr", today=TODAY)
    assert len(run.assignments) == 1
    # Time away that starts after every opportunity has ended does not count.
    insert(db, t.moves, [move("M2", "A-8", TODAY + dt.timedelta(weeks=11), 4, 100, "approved")])
    svc.discard_allocation(db, run.run_id, actor="hr")
    assert len(svc.propose_allocation(db, actor="hr", today=TODAY).assignments) == 1


def test_a_request_does_not_use_up_the_release_limit_an_approved_move_does(db: Database) -> None:
    """Team A (5 people, 20% = 1 may be away). A-4 has asked for two half-time moves over O1's weeks, neither
    approved: nobody has released A-4, so A-0 may take O1's seat (the demo's teams of nine were held back for
    one colleague's two requests). Once A-4's manager approves one of them, A-4 is away and A-0 is held back.
    An accepted seat whose move awaits the release counts too: the marketplace has promised it (and a later
    run must not release more of the team than an earlier one's offers, accepted or not, left)."""
    base_org(db, {"A": 5})
    start = TODAY + dt.timedelta(weeks=1)
    insert(db, t.moves, [move("M1", "A-4", start, 12, 50, "requested"), move("M2", "A-4", start, 12, 50, "requested")])
    insert(db, t.opportunities, [opportunity("O1"), opportunity("O9", status="filled")])
    insert(db, t.applications, [application("A-0", "O1", benefit=3)])

    def run() -> list[tuple[str, str]]:
        proposal = svc.propose_allocation(db, actor="hr", today=TODAY)
        svc.discard_allocation(db, proposal.run_id, actor="hr")
        if not proposal.assignments:
            assert proposal.stats["empty_seats_by_reason"] == {"release_limit": 1}
        return [(a.person_id, a.opportunity_id) for a in proposal.assignments]

    assert run() == [("A-0", "O1")]
    with db.write_engine.begin() as conn:
        conn.execute(update(t.moves).where(t.moves.c.id == "M1").values(status="approved"))
    assert run() == []
    with db.write_engine.begin() as conn:
        conn.execute(update(t.moves).where(t.moves.c.id == "M1").values(status="requested"))
    assert run() == [("A-0", "O1")]
    insert(db, t.applications, [{**application("A-4", "O9", "accepted"), "move_id": "M1"}])
    assert run() == []


def test_one_person_in_two_moves_at_once_is_one_person_away(db: Database) -> None:
    """Team A (10 people, 20% = 2 may be away) has A-9 in two overlapping 30% moves: 60% of their time,
    so away, but one person away, so one more may go. Counting moves said two were away and held everyone
    back; counting each move alone against the 50% mark said nobody was away."""
    base_org(db, {"A": 10})
    start = TODAY - dt.timedelta(weeks=1)
    insert(db, t.moves, [move("M1", "A-9", start, 12, 30, "active"), move("M2", "A-9", start, 8, 30, "active")])
    insert(db, t.opportunities, [opportunity("O1", seats=2)])
    insert(db, t.applications, [application("A-0", "O1", benefit=3), application("A-1", "O1", benefit=5)])
    proposal = svc.propose_allocation(db, actor="hr", equity_weight=2.0, today=TODAY)
    assert [(a.person_id, a.opportunity_id) for a in proposal.assignments] == [("A-1", "O1")]
    [o1] = proposal.stats["unfilled"]
    assert (o1["placed_here"], o1["release_limit"]) == (1, 1)


def test_away_spells_merge_each_persons_overlapping_moves() -> None:
    rng = random.Random(3)
    for _ in range(500):
        n = rng.randint(1, 10)
        person = np.array([rng.randint(0, 3) for _ in range(n)], np.int64)
        start = np.array([rng.randint(0, 40) for _ in range(n)], np.int64) + 739_000
        end = start + np.array([rng.randint(0, 10) for _ in range(n)], np.int64)
        got = sorted(zip(*(a.tolist() for a in svc._away_spells(person, start, end)), strict=True))
        expected = []
        for who in sorted(set(person.tolist())):
            days = sorted({d for i in range(n) if person[i] == who for d in range(start[i], end[i] + 1)})
            first = prev = days[0]
            for d in [*days[1:], None]:
                if d is None or d != prev + 1:
                    expected.append((who, first, prev))
                    first = d
                prev = d if d is not None else prev
        assert got == expected


def test_small_shares_of_time_do_not_count_as_away(db: Database) -> None:
    """Team A (5 people, 20% = 1 may be away). A-4 mentors at 5% and A-3 is on a 20% gig: both still work in
    the team, so one of A-0/A-1 may go (the demo's teams of nine held everyone back for a 5% mentoring). With
    ``away_percent=20`` the gig counts and nobody may go; an open offer counts with its opportunity's share."""
    base_org(db, {"A": 5})
    start = TODAY - dt.timedelta(weeks=1)
    insert(db, t.moves, [move("M1", "A-4", start, 12, 5, "active"), move("M2", "A-3", start, 12, 20, "approved")])
    insert(db, t.opportunities, [opportunity("O1", seats=2), opportunity("O2", percent_time=50)])
    insert(db, t.applications, [application("A-0", "O1", benefit=3), application("A-1", "O1", benefit=5)])
    run = svc.propose_allocation(db, actor="hr", today=TODAY)
    assert [(a.person_id, a.opportunity_id) for a in run.assignments] == [("A-1", "O1")]
    assert run.stats["away_percent"] == 50
    svc.discard_allocation(db, run.run_id, actor="hr")
    strict = svc.propose_allocation(db, actor="hr", today=TODAY, away_percent=20)
    assert strict.assignments == [] and strict.stats["empty_seats_by_reason"]["release_limit"] == 2
    svc.discard_allocation(db, strict.run_id, actor="hr")
    # An open offer of a half-time seat to A-2 is time away (the gig and mentoring still are not).
    insert(db, t.applications, [application("A-2", "O2", "offered")])
    assert svc.propose_allocation(db, actor="hr", today=TODAY).assignments == []
    for bad in (0, 101, 2.5, True):
        with pytest.raises(InvalidValue, match="away percent"):
            svc.propose_allocation(db, actor="hr", today=TODAY, away_percent=bad)  # type: ignore[arg-type]


def test_time_away_agrees_with_a_day_by_day_count() -> None:
    rng = random.Random(11)
    for _ in range(500):
        n = rng.randint(1, 8)
        person = np.array([rng.randint(0, 2) for _ in range(n)], np.int64)
        start = np.array([rng.randint(0, 30) for _ in range(n)], np.int64) + 739_000
        end = start + np.array([rng.randint(0, 12) for _ in range(n)], np.int64)
        share = np.array([rng.choice([5, 10, 20, 30, 50, 100]) for _ in range(n)], np.int64)
        mark = rng.choice([1, 25, 50, 60])
        spells = svc._away_spells(*svc._time_away(person, start, end, share, mark))
        got = {(p, d) for p, s, e in zip(*(a.tolist() for a in spells), strict=True) for d in range(s, e + 1)}
        expected = {
            (who, day)
            for who in set(person.tolist())
            for day in range(739_000, 739_043)
            if sum(int(share[i]) for i in range(n) if person[i] == who and start[i] <= day <= end[i]) >= mark
        }
        assert got == expected


def test_a_run_computed_as_of_another_day_is_not_applied(db: Database) -> None:
    """`allocate --today 2030-01-01` then `--apply` sent real offers judged as of 2030 ("no move in the last
    12 months" then)."""
    base_org(db, {"A": 10})
    insert(db, t.opportunities, [opportunity("O1")])
    insert(db, t.applications, [application("A-0", "O1", benefit=3)])
    later = TODAY + dt.timedelta(days=1)
    run = svc.propose_allocation(db, actor="hr", equity_weight=1.0, today=TODAY)
    assert svc.get_allocation(db, run.run_id, today=later).out_of_date == f"it was computed as of {TODAY}, not {later}"
    with pytest.raises(Conflict, match=f"computed as of {TODAY}, not {later}"):
        svc.apply_allocation(db, run.run_id, actor="boss", today=later)
    with db.engine.connect() as conn:
        assert set(conn.scalars(select(t.applications.c.status))) == {"applied"}
    assert svc.apply_allocation(db, run.run_id, actor="boss", today=TODAY).status == "applied"


def test_an_open_opportunity_whose_end_has_passed_gets_no_offers(db: Database) -> None:
    """An open opportunity whose dates are over (nothing closes it): its offer could never be accepted (its
    move could no longer run), so the run neither proposes nor counts its seats; one ending today still runs."""
    base_org(db, {"A": 10})
    insert(
        db,
        t.opportunities,
        [
            opportunity("OVER", start=TODAY - dt.timedelta(weeks=4), end=TODAY - dt.timedelta(days=1)),
            opportunity("LAST", start=TODAY - dt.timedelta(weeks=4), end=TODAY),
        ],
    )
    insert(db, t.applications, [application("A-0", "OVER", benefit=9), application("A-1", "LAST", benefit=1)])
    proposal = svc.propose_allocation(db, actor="hr", today=TODAY)
    assert {(a.person_id, a.opportunity_id) for a in proposal.assignments} == {("A-1", "LAST")}
    assert (proposal.stats["opportunities"], proposal.stats["seats"], proposal.stats["empty_seats"]) == (1, 1, 0)


def test_a_run_is_not_applied_once_an_opportunity_in_it_has_ended(db: Database) -> None:
    """Proposed while the opportunity ran, applied after its dates were cut short: the run's offers could never
    be accepted (an ended opportunity's acceptance is refused), and they would hold its seats meanwhile."""
    base_org(db, {"A": 10})
    insert(
        db,
        t.opportunities,
        [opportunity("CUT", start=TODAY - dt.timedelta(weeks=4), end=TODAY + dt.timedelta(weeks=4))],
    )
    insert(db, t.applications, [application("A-0", "CUT", benefit=9)])
    run = svc.propose_allocation(db, actor="hr", today=TODAY)
    assert [(a.person_id, a.opportunity_id) for a in run.assignments] == [("A-0", "CUT")]
    with db.engine.begin() as conn:
        conn.execute(
            update(t.opportunities).where(t.opportunities.c.id == "CUT").values(end=TODAY - dt.timedelta(days=1))
        )
    assert "seats gone at CUT (ended, 1 free for 1)" in str(svc.get_allocation(db, run.run_id, today=TODAY).out_of_date)
    with pytest.raises(Conflict, match="seats gone at CUT"):
        svc.apply_allocation(db, run.run_id, actor="boss", today=TODAY)
