"""Substring search through an index (civicgrid.core.textsearch): pg_trgm and GIN trigram indexes on
PostgreSQL, FTS5 trigram tables kept in step by triggers on SQLite; a b-tree index on residents' names
for "names starting with". The index definitions are written out here, as they stood when this ran."""

from django.db import migrations, models

from civicgrid.core.textsearch import TextIndex, install, uninstall

INDEXES = (TextIndex(table="registry_household", columns=("code", "address")),
           TextIndex(table="registry_resident", columns=("name",)))


def forwards(apps, schema_editor):
    for index in INDEXES:
        install(schema_editor.connection, index)


def backwards(apps, schema_editor):
    for index in INDEXES:
        uninstall(schema_editor.connection, index)


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0002_resident_name_initials'),
    ]

    operations = [
        migrations.AlterField(
            model_name='resident',
            name='name',
            field=models.CharField(db_index=True, max_length=60, verbose_name='name'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
