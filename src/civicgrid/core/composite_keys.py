"""Composite foreign keys on PostgreSQL, for migrations (relief 0008 and 0015).

Django declares one key per foreign-key field. Where a row copies columns of the row it refers to (an allocation
copies its need's household and item; a stop its task's round), one composite key checks them all at the commit,
one check per row instead of one per field, and refuses a copy that differs from the original. Django's model state
keeps its single keys (SQLite's ALTER TABLE cannot add a key, so SQLite keeps them in fact too); the migration that
swaps them says what a later migration of those fields must do.

Migrations import these two functions: they must keep their behaviour for as long as those migrations exist.
"""

from __future__ import annotations

from typing import Any


def to_composite_key(schema_editor: Any, *, table: str, name: str, columns: tuple[str, ...], target: str,
                     target_columns: tuple[str, ...]) -> None:
    """Replace Django's single-column keys on ``columns`` of ``table`` with one key ``name``: ``columns`` ->
    ``target`` (``target_columns``), deferred to the commit as Django's are. PostgreSQL only; a no-op elsewhere.
    Refused (``RuntimeError``) unless exactly one single-column key stands on each of ``columns``."""
    if schema_editor.connection.vendor != "postgresql":
        return
    qn = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
            "AND a.attnum = c.conkey[1] WHERE c.conrelid = %s::regclass AND c.contype = 'f' "
            "AND cardinality(c.conkey) = 1 AND a.attname = ANY(%s)", [table, list(columns)])
        singles = [row[0] for row in cursor.fetchall()]
    if len(singles) != len(columns):
        raise RuntimeError(f"{table}: expected Django's single keys on {columns}, found {singles}")
    for single in singles:
        schema_editor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(single)}")
    schema_editor.execute(
        f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} FOREIGN KEY ({', '.join(map(qn, columns))}) "
        f"REFERENCES {qn(target)} ({', '.join(map(qn, target_columns))}) DEFERRABLE INITIALLY DEFERRED")


def to_single_keys(schema_editor: Any, model: Any, *, name: str, fields: tuple[str, ...]) -> None:
    """Back from :func:`to_composite_key`: drop the key ``name`` of ``model``'s table and declare Django's own key
    on each of ``fields``, as its ``add_field`` names and declares them. PostgreSQL only."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(model._meta.db_table)} DROP CONSTRAINT "
                          f"{schema_editor.quote_name(name)}")
    for field in fields:
        schema_editor.execute(schema_editor._create_fk_sql(model, model._meta.get_field(field),
                                                           "_fk_%(to_table)s_%(to_column)s"))
