"""integer keys: people.key, opportunities.key and their copies on applications; plan benefit bounded

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 03:10:00

The org-wide allocation reads every live application at once (millions of rows). Mapping text ids of
people and opportunities to positions one by one cost more than the min-cost-flow solve itself, so each
person and opportunity gets an integer ``key`` and each application carries the keys of its person and
opportunity. The database fills all of them, whatever path inserts a row (ORM, bulk COPY, raw SQL): a
sequence and BEFORE triggers on PostgreSQL, AFTER triggers on SQLite (which cannot assign ``NEW`` in a
trigger). Applications always take the keys from their person and opportunity, so a copy can never
disagree with the id it mirrors.

SQLite note: a later migration that rebuilds ``people``, ``opportunities`` or ``applications`` in batch
mode (copy and move) drops their triggers; it must create them again (:func:`create_triggers`).
"""

# ruff: noqa: S608  (SQL is built only from this module's constant table and column names)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KEYED = ("people", "opportunities")
MIRRORS = (("person_key", "people", "person_id"), ("opportunity_key", "opportunities", "opportunity_id"))


def _pg_triggers() -> list[str]:
    out = []
    for table in KEYED:
        out += [
            f"CREATE SEQUENCE IF NOT EXISTS {table}_key_seq OWNED BY {table}.key",
            f"SELECT setval('{table}_key_seq', coalesce((SELECT max(key) FROM {table}), 0) + 1, false)",
            # A key given explicitly (a restore) moves the sequence past it, so later keys cannot collide.
            f"""CREATE OR REPLACE FUNCTION {table}_key() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.key IS NULL THEN
                NEW.key := nextval('{table}_key_seq');
              ELSIF NEW.key >= (SELECT last_value FROM {table}_key_seq) THEN
                PERFORM setval('{table}_key_seq', NEW.key);
              END IF;
              RETURN NEW;
            END $$""",
            f"CREATE TRIGGER {table}_key BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_key()",
        ]
    sets = "\n".join(f"  NEW.{col} := (SELECT key FROM {src} WHERE id = NEW.{ref});" for col, src, ref in MIRRORS)
    out += [
        f"""CREATE OR REPLACE FUNCTION applications_keys() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
        {sets}
          RETURN NEW;
        END $$""",
        "CREATE TRIGGER applications_keys BEFORE INSERT OR UPDATE OF person_id, opportunity_id, person_key, "
        "opportunity_key ON applications FOR EACH ROW EXECUTE FUNCTION applications_keys()",
    ]
    return out


def _sqlite_triggers() -> list[str]:
    out = [
        f"""CREATE TRIGGER {table}_key AFTER INSERT ON {table} FOR EACH ROW WHEN NEW.key IS NULL
        BEGIN
          UPDATE {table} SET key = (SELECT coalesce(max(key), 0) + 1 FROM {table}) WHERE rowid = NEW.rowid;
        END"""
        for table in KEYED
    ]
    sets = ", ".join(f"{col} = (SELECT key FROM {src} WHERE id = NEW.{ref})" for col, src, ref in MIRRORS)
    # Only when a mirror is wrong: the insert trigger's own UPDATE then fires no second one.
    wrong = " OR ".join(f"NEW.{col} IS NOT (SELECT key FROM {src} WHERE id = NEW.{ref})" for col, src, ref in MIRRORS)
    for name, event in (
        ("applications_keys", "INSERT"),
        ("applications_keys_update", "UPDATE OF person_id, opportunity_id, person_key, opportunity_key"),
    ):
        out.append(
            f"""CREATE TRIGGER {name} AFTER {event} ON applications FOR EACH ROW WHEN {wrong}
            BEGIN
              UPDATE applications SET {sets} WHERE id = NEW.id;
            END"""
        )
    return out


def create_triggers() -> None:
    """The triggers that fill the keys (see the module docstring); also for later migrations on SQLite."""
    bind = op.get_bind()
    for sql in _pg_triggers() if bind.dialect.name == "postgresql" else _sqlite_triggers():
        op.execute(sql)


def upgrade() -> None:
    for table in KEYED:
        op.add_column(table, sa.Column("key", sa.BigInteger(), nullable=True))
        # Existing rows: keys in id order.
        op.execute(
            f"UPDATE {table} SET key = k.n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM {table}) "
            f"AS k WHERE k.id = {table}.id"
        )
        op.create_index(f"ux_{table}_key", table, ["key"], unique=True)
    # The allocation packs the plan benefit into 10 bits. The application never wrote a value outside
    # 0 … 520 (weeks sooner within a horizon); anything else is brought into range rather than refused here.
    op.execute("UPDATE applications SET plan_benefit_weeks = 0 WHERE plan_benefit_weeks < 0")
    op.execute("UPDATE applications SET plan_benefit_weeks = 1023 WHERE plan_benefit_weeks > 1023")
    with op.batch_alter_table("applications") as batch_op:  # SQLite: one rebuild, before any trigger exists
        batch_op.create_check_constraint(
            op.f("ck_applications_plan_benefit_weeks"), "plan_benefit_weeks BETWEEN 0 AND 1023"
        )
        for col, _, _ in MIRRORS:
            batch_op.add_column(sa.Column(col, sa.BigInteger(), nullable=True))
    for col, src, ref in MIRRORS:
        op.execute(f"UPDATE applications SET {col} = (SELECT key FROM {src} WHERE {src}.id = applications.{ref})")
    create_triggers()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS applications_keys ON applications")
        op.execute("DROP FUNCTION IF EXISTS applications_keys()")
        for table in KEYED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_key ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_key()")
    else:
        for name in ("applications_keys", "applications_keys_update", *(f"{t}_key" for t in KEYED)):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("applications") as batch_op:
        batch_op.drop_constraint(op.f("ck_applications_plan_benefit_weeks"), type_="check")
        batch_op.drop_column("opportunity_key")
        batch_op.drop_column("person_key")
    for table in KEYED:
        op.drop_index(f"ux_{table}_key", table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("key")
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP SEQUENCE IF EXISTS {table}_key_seq")
