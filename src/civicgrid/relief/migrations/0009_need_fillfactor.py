"""Needs are stored with half of each table page left free on PostgreSQL (fillfactor 50, issue 15).

A district round rewrites most needs. About two thirds stay open with more units allocated, and those updates
change no indexed value. With room on the page, PostgreSQL writes the new version there as a HOT update and adds
no index entry. Without room it writes a new entry in every index of the table. Measured at 300,000 requests
(bench/bench_round.py): the needs' UPDATE took 3.7 s of server CPU at fillfactor 100 and 1.7 s at 50. The table
takes about twice the disk space.

The setting applies to rows written from now on. ``VACUUM FULL relief_need`` applies it to existing rows at once,
but it locks the table while it runs. SQLite has no such setting.
"""

from django.db import migrations

FILLFACTOR = 50


def set_fillfactor(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE relief_need SET (fillfactor = {FILLFACTOR})")


def reset_fillfactor(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE relief_need RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ('relief', '0008_allocation_need_key'),
    ]

    operations = [
        migrations.RunPython(set_fillfactor, reset_fillfactor),
    ]
