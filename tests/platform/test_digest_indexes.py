"""Digest columns (an exact phone or ID number's keyed digest) are looked up by equality only: each has one plain
B-tree index and, on PostgreSQL, no ``varchar_pattern_ops`` index for LIKE (which ``db_index`` would add and every
import paid for). The truth is the database's own catalogue; a model that forgets the index fails at start-up."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.apps.registry import Apps
from django.db import connection, models

from civicgrid.core.crypto import DigestField, digest_index_check

pytestmark = pytest.mark.django_db

DIGESTS = [(model._meta.db_table, field.column) for model in apps.get_models()
           for field in model._meta.concrete_fields if isinstance(field, DigestField)]


def _indexes(table: str) -> list[tuple[str, str]]:
    """(name, definition) of every index on ``table``, from the catalogue."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
            return list(cursor.fetchall())
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                       [table])
        return list(cursor.fetchall())


def test_every_digest_has_one_plain_index_and_no_pattern_index() -> None:
    assert len(DIGESTS) >= 5  # households, residents (ID and phone), people, mediation parties
    for table, column in DIGESTS:
        on_it = [(name, sql) for name, sql in _indexes(table) if f"({column})" in sql.replace('"', "")]
        plain = [name for name, sql in on_it if "WHERE" not in sql.upper() and "pattern_ops" not in sql]
        assert len(plain) == 1, (table, column, on_it)
        assert not [name for name, sql in on_it if "pattern_ops" in sql], (table, column, on_it)


def test_an_exact_search_reads_the_index() -> None:
    from civicgrid.registry.models import Resident

    query = Resident.objects.filter(id_number_digest="0" * 40).only("id").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned otherwise
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "registry_resident_id_dg" in plan or "resident_unique_id_number" in plan, plan


def test_a_digest_without_an_index_fails_the_start_up_check(monkeypatch: pytest.MonkeyPatch) -> None:
    class Contact(models.Model):
        phone_digest = DigestField(source="phone")
        email_digest = DigestField(source="email")

        class Meta:
            app_label = "registry"
            apps = Apps()  # a registry of its own: the platform's models are left as they are
            indexes = [models.Index(fields=["email_digest"], name="contact_email_dg")]

        def __str__(self) -> str:
            return "contact"

    assert digest_index_check() == []  # the platform's own models
    monkeypatch.setattr(apps, "get_models", lambda: [Contact])
    (error,) = digest_index_check()
    assert error.id == "civicgrid.E003" and error.msg == "registry.Contact.phone_digest is a digest without an index"
