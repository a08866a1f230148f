from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from micromoves.storage import tables
from micromoves.storage.db import Database

# The newest revision in the migrations directory, read from Alembic rather than written here.
HEAD = ScriptDirectory.from_config(Database("sqlite://").alembic_config()).get_current_head()
# Migration 0006's index on an expression (SQLite only) is not reflected, so the comparisons cannot see it;
# tests/services/test_allocation_service.py checks that the allocation's scan uses it.
EXPRESSION_INDEX = pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")


# Migration 0008's covering index exists on PostgreSQL only (INCLUDE columns, for the allocation's scan), so
# it is not in the table definitions; tests/services/test_allocation_service.py checks the scan uses it.
BACKEND_ONLY_INDEXES = {"ix_applications_live_keys"}


def _not_backend_only(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "index" and name in BACKEND_ONLY_INDEXES)


@EXPRESSION_INDEX
def test_migrations_match_the_table_definitions(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _not_backend_only})
        diff = compare_metadata(context, tables.metadata)
    assert diff == []
    if db.backend == "postgresql":  # the one left out is there, as migration 0008 made it
        with db.engine.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_applications_live_keys'"
            )
            assert "INCLUDE (person_key, opportunity_key, plan_benefit_weeks)" in found.scalar_one()


def test_migrating_twice_is_a_no_op(db: Database) -> None:
    db.migrate()
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == HEAD


def test_sqlite_connection_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_sqlite_writers_take_the_lock_up_front(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    db.migrate()
    statements: list[str] = []

    from sqlalchemy import event

    @event.listens_for(db.engine, "before_cursor_execute")
    def _log(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with db.write_engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert "BEGIN IMMEDIATE" in statements
    assert statements.count("BEGIN") == 1


def test_timestamps_come_back_in_utc(db: Database) -> None:
    from micromoves.storage.uow import UnitOfWork

    with UnitOfWork(db) as uow:
        event = uow.audit("tester", "x.y", "thing", "1")
        uow.commit()
        at = event.at
    with UnitOfWork(db, write=False) as uow:
        stored = uow.audit_log.list(entity_id="1")[0]
    assert stored.at.tzinfo is not None and stored.at.utcoffset() == dt.timedelta(0)
    assert abs((stored.at - at).total_seconds()) < 0.001


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        tables.UTCDateTime().process_bind_param(dt.datetime(2026, 1, 1), None)


@EXPRESSION_INDEX
def test_upgrade_keeps_existing_data(empty_db_url: str) -> None:
    """Migrating an older database with data keeps every row (SQLite rebuilds tables to alter them)."""
    db = Database(empty_db_url)
    db.migrate("0001")
    with db.write_engine.begin() as conn:
        conn.execute(text("INSERT INTO roles (id, title, level, critical) VALUES ('R', 'Role', 1, false)"))
        conn.execute(
            text(
                "INSERT INTO people (id, name, email, role_id, location, capacity_percent, "
                "home_role_min_percent) VALUES ('P', 'Pat', '', 'R', '', 100, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO role_assignments (person_id, role_id, start, reason) "
                "VALUES ('P', 'R', '2026-01-01', 'hire')"
            )
        )
        conn.execute(
            text(
                'INSERT INTO moves (id, person_id, kind, title, start, "end", percent_time, status, '
                "expected_outcomes, skills_targeted) VALUES ('M', 'P', 'gig', 'g', '2026-01-05', "
                "'2026-02-27', 20, 'proposed', '', '[]')"
            )
        )
        conn.execute(
            text("INSERT INTO success_criteria (move_id, position, statement, evidence) VALUES ('M', 1, 'done', '')")
        )
    db.migrate()
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == HEAD
        assert conn.execute(text("SELECT id, target_role_id FROM people")).all() == [("P", None)]
        assert conn.execute(text("SELECT id, template_id, plan_id FROM moves")).all() == [("M", None, None)]
        assert conn.scalar(text("SELECT count(*) FROM role_assignments")) == 1
        assert conn.scalar(text("SELECT count(*) FROM success_criteria")) == 1
        assert (
            compare_metadata(
                MigrationContext.configure(conn, opts={"include_object": _not_backend_only}), tables.metadata
            )
            == []
        )
        if db.is_sqlite:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # switched back on
    db.dispose()


def test_integer_keys_are_filled_by_the_database_on_every_path(empty_db_url: str) -> None:
    """Migration 0005: existing rows get keys in id order; new rows get the next key whatever inserts them
    (Core insert, bulk COPY/executemany); an application always mirrors its person's and opportunity's keys."""
    from micromoves.storage.bulk import BulkWriter

    db = Database(empty_db_url)
    db.migrate("0004")
    person = "INSERT INTO people (id, name, email, location, capacity_percent, home_role_min_percent) VALUES "
    with db.write_engine.begin() as conn:
        conn.execute(text("INSERT INTO teams (id, name, function) VALUES ('T', 'Team', '')"))
        conn.execute(text(person + "('P2', 'B', '', '', 100, 0), ('P1', 'A', '', '', 100, 0)"))
        conn.execute(
            text(
                'INSERT INTO opportunities (id, title, description, kind, host_team_id, start, "end", percent_time, '
                "seats, required_skills, preferred_skills, builds_skills, expected_outcomes, criteria_template, "
                "locations, status, created_by, created_at) VALUES ('O1', 'o', '', 'gig', 'T', '2026-01-05', "
                "'2026-02-27', 20, 1, '{}', '{}', '{}', '', '[]', '[]', 'open', 'x', '2026-01-01 00:00:00+00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO applications (opportunity_id, person_id, status, applied_at, note) "
                "VALUES ('O1', 'P2', 'applied', '2026-01-01 00:00:00+00', '')"
            )
        )
    db.migrate()
    p, a = tables.people.c, tables.applications.c
    with db.write_engine.begin() as conn:
        assert conn.execute(select(p.id, p.key).order_by(p.id)).all() == [("P1", 1), ("P2", 2)]
        assert conn.execute(select(a.person_key, a.opportunity_key)).all() == [(2, 1)]
        conn.execute(tables.people.insert().values(id="P0", name="C", email="", location=""))
        BulkWriter(conn).insert(
            tables.people,
            ["id", "name", "email", "location", "capacity_percent", "home_role_min_percent"],
            [("P9", "D", "", "", 100, 0)],
        )
        # A key given explicitly is kept; the mirrors on applications are never taken from the writer.
        conn.execute(tables.people.insert().values(id="P7", name="E", email="", location="", key=70))
        conn.execute(tables.people.insert().values(id="P8", name="F", email="", location=""))  # after 70
        BulkWriter(conn).insert(
            tables.applications,
            ["opportunity_id", "person_id", "status", "applied_at", "note", "person_key"],
            [("O1", "P9", "applied", dt.datetime(2026, 1, 2, tzinfo=dt.UTC), "", 555)],
        )
        conn.execute(tables.applications.update().where(a.person_id == "P2").values(person_id="P0"))
    with db.engine.connect() as conn:
        keys = dict(conn.execute(select(p.id, p.key)).all())
        assert keys == {"P1": 1, "P2": 2, "P0": 3, "P9": 4, "P7": 70, "P8": 71}
        mirrored = conn.execute(select(a.person_id, a.person_key, a.opportunity_key).order_by(a.id)).all()
        assert mirrored == [("P0", 3, 1), ("P9", 4, 1)]
    db.dispose()


def _downgrade(db: Database, revision: str) -> None:
    from alembic import command

    cfg = db.alembic_config()
    with db.write_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


@EXPRESSION_INDEX
def test_migration_0016_backfills_the_organisations_answer_where_a_record_says_it(empty_db_url: str) -> None:
    """``applications.offered_or_rejected_at``: an offered or rejected row's decided_at; an offer that the
    applicant moved on (accepted, declined, withdrawn) from the audit trail, the host's offer or an applied
    allocation's, of this round of the application; NULL where no record says it. Downgrade and upgrade again."""
    from alembic.autogenerate import compare_metadata as compare
    from sqlalchemy import insert, inspect

    db = Database(empty_db_url)
    db.migrate("0015")
    day0 = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)

    def day(n: float) -> dt.datetime:
        return day0 + dt.timedelta(days=n)

    # person: (status, decided_at, the offer events the audit trail holds: (kind, day)) → the backfilled answer
    cases: dict[str, tuple[str, float | None, list[tuple[str, float]], float | None]] = {
        "P1": ("offered", 2, [("host", 2)], 2),
        "P2": ("rejected", 3, [], 3),
        # The host's offer on day 2, accepted on day 9; the offer of an earlier round (before it was renewed) is not it.
        "P3": ("accepted", 9, [("host", -5), ("host", 2)], 2),
        "P4": ("declined", 4, [("allocation", 1)], 1),  # offered by an applied allocation run
        "P5": ("withdrawn", 1, [], None),  # withdrawn before any answer
        "P6": ("accepted", 7, [], None),  # written in bulk: no record of the offer
        "P7": ("withdrawn", 6, [("proposed", 2)], None),  # in a run that was only proposed: no offer
        "P8": ("waitlisted", 1, [], None),  # waitlisting is no answer
        "P9": ("applied", None, [], None),
        "P10": ("accepted", 8, [("host", -1)], None),  # the only offer was the earlier round's
        "P12": ("rejected", 20, [("host", 2)], 2),  # offered, then the opportunity closed: the offer answered
    }
    a = tables.applications.c
    with db.write_engine.begin() as conn:
        conn.execute(insert(tables.teams).values(id="T", name="Team", function=""))
        for pid in cases:
            conn.execute(insert(tables.people).values(id=pid, name=pid, email="", location=""))
        conn.execute(
            insert(tables.opportunities).values(
                id="O",
                title="o",
                kind="gig",
                host_team_id="T",
                start=dt.date(2026, 11, 2),
                end=dt.date(2026, 12, 4),
                percent_time=20,
                seats=1,
                status="open",
                created_by="x",
                created_at=day(-10),
            )
        )
        for pid, (status, decided, events, _) in cases.items():
            app_id = conn.execute(
                insert(tables.applications)
                .values(
                    opportunity_id="O",
                    person_id=pid,
                    status=status,
                    applied_at=day0,
                    note="",
                    decided_at=None if decided is None else day(decided),
                    decided_by=None if decided is None else "H",
                )
                .returning(a.id)
            ).scalar_one()
            for kind, when in events:
                if kind == "host":
                    conn.execute(
                        insert(tables.audit_events).values(
                            at=day(when),
                            actor="H",
                            action="application.offered",
                            entity_type="application",
                            entity_id=str(app_id),
                            details={},
                        )
                    )
                    continue
                run_id = conn.execute(
                    insert(tables.allocation_runs)
                    .values(
                        created_at=day(when - 1),
                        created_by="admin",
                        status="applied" if kind == "allocation" else "proposed",
                        equity_weight=0.0,
                        release_limit=0.2,
                        objective=1.0,
                        details={},
                    )
                    .returning(tables.allocation_runs.c.id)
                ).scalar_one()
                conn.execute(
                    insert(tables.allocation_assignments).values(run_id=run_id, application_id=app_id, score=1.0)
                )
                if kind == "allocation":
                    conn.execute(
                        insert(tables.audit_events).values(
                            at=day(when),
                            actor="admin",
                            action="allocation.applied",
                            entity_type="allocation_run",
                            entity_id=str(run_id),
                            details={"offers": 1},
                        )
                    )
    expected = {pid: None if answer is None else day(answer) for pid, (*_, answer) in cases.items()}

    def answers() -> dict[str, dt.datetime | None]:
        with db.engine.connect() as conn:
            return dict(conn.execute(select(a.person_id, a.offered_or_rejected_at)).all())

    db.migrate()
    assert answers() == expected
    # Down again: the column goes, every row stays, and the integer-key triggers (migration 0005) still fill
    # a new application's keys (a batch rebuild of the table would have dropped them).
    _downgrade(db, "0015")
    with db.write_engine.begin() as conn:
        assert "offered_or_rejected_at" not in {c["name"] for c in inspect(conn).get_columns("applications")}
        assert conn.scalar(text("SELECT count(*) FROM applications WHERE person_key IS NOT NULL")) == len(cases)
        conn.execute(insert(tables.people).values(id="P11", name="P11", email="", location=""))
        conn.execute(
            text(
                "INSERT INTO applications (opportunity_id, person_id, status, applied_at, note) "
                "VALUES ('O', 'P11', 'applied', :at, '')"
            ),
            {"at": day0},
        )
        keys = conn.execute(text("SELECT person_key, opportunity_key FROM applications WHERE person_id = 'P11'"))
        assert None not in keys.one()
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0015"
    db.migrate()
    assert answers() == {**expected, "P11": None}
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == HEAD
        assert (
            compare(MigrationContext.configure(conn, opts={"include_object": _not_backend_only}), tables.metadata) == []
        )
    db.dispose()
