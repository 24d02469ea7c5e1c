"""On PostgreSQL, the references of a round's allocation and stop rows are checked a statement at a time.

Why: Django declares every foreign key ``DEFERRABLE INITIALLY DEFERRED``, and PostgreSQL checks such a key with one
trigger call per inserted row, each a small query of its own (about 4 us). A district round of 1,000,000 requests
writes 1,000,000 allocation rows with six references each and some 570,000 stops with two: 7 M calls at COMMIT
(measured: 6.3-6.6 s of server CPU at COMMIT for 300,000 requests, each reference 1.0-1.7 s of it whatever the
size of the table referred to; 54.5 s of wall time at 1,000,000 on the loaded machine). ``SET CONSTRAINTS ...
IMMEDIATE`` does not make them cheaper. The checks below cost about 1.6 s of server CPU at 300,000 requests (the
allocation and stop COPYs went from 2.0-2.5 + 0.7 s to 3.1 + 1.2 s, the allocations also losing three indexes in
0005) and the COMMIT from 6.4 s to 0.1 s (``bench/bench_round.py``).

What replaces them, for these eight references only (the rest of the schema keeps its foreign keys):

- after each INSERT (or COPY) into the referencing table, one statement-level trigger reads the statement's new
  rows (a transition table) once, takes a ``FOR KEY SHARE`` lock on every row they refer to (as the foreign
  key's own check does, so that a concurrent DELETE of a referred row waits for this transaction, and this check
  waits for a concurrent DELETE and then fails) and fails with ``foreign_key_violation`` if any is missing: a few
  set-based queries for a million rows instead of a million queries. An allocation's household and item are
  copies of its need's: they are checked to be exactly the need's (stronger than existence; the need's own
  foreign keys keep that household and item, so they are not locked a second time);
- after an UPDATE that changes a referencing column, a row-level trigger checks the new value the same way
  (updates are one row at a time in the services; the WHEN clause skips rows whose reference did not change);
- after each DELETE from a referred table, one statement-level trigger fails if any deleted row is still
  referred to (through the referencing column's index); a key is never changed (a BEFORE UPDATE OF id trigger
  refuses it), so updates of referred rows need no check.

The trade-off, said plainly: these checks are immediate (at the end of each statement), not deferred to COMMIT
(every writer inserts parents before children, so nothing relied on the deferral); ``TRUNCATE`` of a referred
table is not refused (a foreign key refuses it unless every referencing table is truncated with it); and the
guarantee now lives in this migration's triggers rather than in ``pg_constraint``: a later migration that alters
one of these fields must keep them (``tests/platform/test_relief_round_bulk.py`` checks that every reference has
its triggers and no foreign key of its own, and that orphans are refused both ways). SQLite keeps its foreign
keys, checked at COMMIT by SQLite's own C code (cheap there).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

# (referencing table, column, referred table): the bulk rows of a round
REFERENCES = (
    ("relief_roundallocation", "round_id", "relief_allocationround"),
    ("relief_roundallocation", "need_id", "relief_need"),
    ("relief_roundallocation", "household_id", "registry_household"),
    ("relief_roundallocation", "item_id", "relief_item"),
    ("relief_roundallocation", "point_id", "relief_distributionpoint"),
    ("relief_roundallocation", "stop_id", "relief_deliverystop"),
    ("relief_deliverystop", "task_id", "relief_deliverytask"),
    ("relief_deliverystop", "household_id", "registry_household"),
)

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION civicgrid_ref_present() RETURNS trigger LANGUAGE plpgsql AS $$
-- row level, after UPDATE of the column: its new value is an id of table TG_ARGV[1] (locked)
DECLARE
    ref bigint;
    hit bigint;
BEGIN
    EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) USING NEW INTO ref;
    IF ref IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT id FROM %I WHERE id = $1 FOR KEY SHARE', TG_ARGV[1]) USING ref INTO hit;
    IF hit IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('update of %I: %I = %s refers to no row of %I', TG_TABLE_NAME, TG_ARGV[0], ref,
                             TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION civicgrid_refs_absent() RETURNS trigger LANGUAGE plpgsql AS $$
-- statement level, after DELETE: no row of table TG_ARGV[0] refers (by column TG_ARGV[1]) to a deleted row
DECLARE
    still bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM old_rows o WHERE EXISTS (SELECT 1 FROM %1$I r WHERE r.%2$I = o.id)',
                   TG_ARGV[0], TG_ARGV[1]) INTO still;
    IF still > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('delete from %I: %s row(s) still referred to by %I.%I', TG_TABLE_NAME, still,
                             TG_ARGV[0], TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION civicgrid_key_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
        MESSAGE = format('the id of a row of %I is referred to and never changes', TG_TABLE_NAME);
END $$;
"""


# an allocation's columns that must equal its need's (checked with the need, see the module's docstring)
SAME_AS_NEED = {"relief_roundallocation": ("household_id", "item_id")}


def trigger_names(table: str, column: str, referred: str) -> dict[str, str]:
    """The names of one reference's triggers (on the referencing and on the referred table)."""
    base = f"cg_ref_{table.removeprefix('relief_')}_{column}"
    return {"insert": insert_trigger(table), "update": f"{base}_upd", "delete": f"{base}_del"}


def insert_trigger(table: str) -> str:
    return f"cg_refs_{table.removeprefix('relief_')}_ins"


def insert_function(table: str) -> str:
    """The statement-level check of every reference of ``table``'s new rows, in one function: the new rows'
    key columns are read once from the transition table, then each referred table is locked and counted."""
    same = SAME_AS_NEED.get(table, ())
    refs = [(c, r) for t, c, r in REFERENCES if t == table and c not in same]
    keys = ", ".join(c for c, _r in refs) + "".join(f", {c}" for c in same)
    checks = []
    for column, referred in refs:
        if column == "need_id" and same:
            # the need exists, is locked, and the row's copies of its columns are the need's
            held = (f"SELECT n.id, {', '.join(f'n.{c}' for c in same)} FROM {referred} n "
                    f"WHERE n.id IN (SELECT need_id FROM k) FOR KEY SHARE OF n")
            differs = " OR ".join(f"h.{c} IS DISTINCT FROM k.{c}" for c in same)
            checks.append(f"SELECT '{column}' AS col, count(*) AS bad FROM k LEFT JOIN ({held}) h ON h.id = k.need_id "
                          f"WHERE h.id IS NULL OR {differs}")
            continue
        # (DISTINCT in a subquery: hashed, where count(DISTINCT ...) would sort a million keys)
        checks.append(f"SELECT '{column}' AS col, (SELECT count(*) FROM (SELECT DISTINCT {column} FROM k WHERE "
                      f"{column} IS NOT NULL) d) - (SELECT count(*) FROM (SELECT t.id FROM {referred} t WHERE t.id IN "
                      f"(SELECT {column} FROM k) FOR KEY SHARE OF t) x) AS bad")
    union = "\n        UNION ALL ".join(checks)
    note = f" (or {' and '.join(same)} not the need''s)" if same else ""
    return f"""
CREATE OR REPLACE FUNCTION {insert_trigger(table)}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    failed text;
BEGIN
    WITH k AS MATERIALIZED (SELECT {keys} FROM new_rows)
    SELECT string_agg(format('%s value(s) of %s', bad, col), ', ') INTO failed FROM (
        {union}) c WHERE bad > 0;
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('insert into %I: %s refer to no row{note}', TG_TABLE_NAME, failed);
    END IF;
    RETURN NULL;
END $$;
"""


def _foreign_key(cursor: Any, table: str, column: str) -> str | None:
    cursor.execute(
        "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
        "AND a.attnum = ANY(c.conkey) WHERE c.contype = 'f' AND c.conrelid = %s::regclass AND a.attname = %s",
        [table, column])
    row = cursor.fetchone()
    return str(row[0]) if row else None


def forwards(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(FUNCTIONS)
        for table in sorted({t for t, _c, _r in REFERENCES}):
            cursor.execute(insert_function(table))
            cursor.execute(f"CREATE TRIGGER {insert_trigger(table)} AFTER INSERT ON {table} REFERENCING NEW TABLE "
                           f"AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {insert_trigger(table)}()")
        for table, column, referred in REFERENCES:
            names = trigger_names(table, column, referred)
            constraint = _foreign_key(cursor, table, column)
            if constraint:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
            cursor.execute(f"CREATE TRIGGER {names['update']} AFTER UPDATE OF {column} ON {table} FOR EACH ROW "
                           f"WHEN (OLD.{column} IS DISTINCT FROM NEW.{column}) EXECUTE FUNCTION "
                           f"civicgrid_ref_present('{column}', '{referred}')")
            cursor.execute(f"CREATE TRIGGER {names['delete']} AFTER DELETE ON {referred} REFERENCING OLD TABLE AS "
                           f"old_rows FOR EACH STATEMENT EXECUTE FUNCTION civicgrid_refs_absent('{table}', "
                           f"'{column}')")
        for referred in sorted({r for _t, _c, r in REFERENCES}):
            cursor.execute(f"CREATE TRIGGER cg_key_fixed_{referred} BEFORE UPDATE OF id ON {referred} FOR EACH ROW "
                           f"WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION civicgrid_key_fixed()")


def backwards(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for referred in sorted({r for _t, _c, r in REFERENCES}):
            cursor.execute(f"DROP TRIGGER IF EXISTS cg_key_fixed_{referred} ON {referred}")
        for table in sorted({t for t, _c, _r in REFERENCES}):
            cursor.execute(f"DROP TRIGGER IF EXISTS {insert_trigger(table)} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {insert_trigger(table)}()")
        for table, column, referred in REFERENCES:
            names = trigger_names(table, column, referred)
            cursor.execute(f"DROP TRIGGER IF EXISTS {names['update']} ON {table}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {names['delete']} ON {referred}")
            if not _foreign_key(cursor, table, column):
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fk FOREIGN KEY ({column}) "
                               f"REFERENCES {referred} (id) DEFERRABLE INITIALLY DEFERRED")
        cursor.execute("DROP FUNCTION IF EXISTS civicgrid_ref_present(), civicgrid_refs_absent(), "
                       "civicgrid_key_fixed()")


class Migration(migrations.Migration):
    dependencies = [("relief", "0003_round_snapshot_lz4")]
    operations = [migrations.RunPython(forwards, backwards)]
