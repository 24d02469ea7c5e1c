"""The audit log's hash chain (issue 11, finding 8): whatever changes, removes or forges a row outside
civicgrid.core.audit is found by ``verify`` / ``civicgrid audit verify``; on PostgreSQL a trigger refuses
UPDATE, DELETE and TRUNCATE outright.

On PostgreSQL the tampering tests first switch the triggers off for their transaction
(``session_replication_role = replica``, as a database superuser could), so that they test what the chain
finds, not what the trigger refuses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection, models, transaction

from civicgrid.cli import main
from civicgrid.core import auditchain
from civicgrid.core.auditchain import GENESIS, row_hash, verify
from civicgrid.core.models import AuditChainHead, AuditLog
from civicgrid.registry import services
from civicgrid.registry.models import Household
from tests.platform.factories import user

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")


@contextmanager
def as_attacker() -> Iterator[None]:
    """On PostgreSQL, the audit triggers off for the rest of the test's transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    yield


def _some_writes() -> None:
    director = user("director")
    from civicgrid.accounts.roles import scope_for

    scope = scope_for(director)
    for household in Household.objects.filter(place_path__startswith=scope.record_paths[0])[:3]:
        services.household_update(user=director, scope=scope, household=household, address=household.address + " 2")


def _middle_row() -> AuditLog:
    rows = AuditLog.objects.order_by("seq")
    return rows[rows.count() // 2]


def test_rows_are_chained_and_verify_reports_an_intact_chain() -> None:
    _some_writes()
    report = verify()
    assert report.intact, str(report)
    assert report.rows == AuditLog.objects.count() > 3
    last = AuditLog.objects.order_by("-seq").first()
    assert report.head == last.row_hash == AuditChainHead.objects.get().hash
    first = AuditLog.objects.order_by("seq").first()
    assert first.seq == 1 and first.prev_hash == GENESIS
    # an independent check of one row: SHA-256 of the documented canonical form, and the link to the row before
    before = AuditLog.objects.get(seq=last.seq - 1)
    assert last.prev_hash == before.row_hash
    assert last.row_hash == hashlib.sha256(auditchain.canonical(
        {f: getattr(last, f) for f in auditchain.HASHED_FIELDS})).hexdigest()
    assert str(report) == f"{report.rows} rows, chain intact (head {report.head})"


def test_values_hash_the_same_after_the_database_round_trip() -> None:
    from civicgrid.core import audit

    household = Household.objects.first()
    with transaction.atomic():
        entry = audit.record(user=None, event="registry.household_updated", instance=household,
                             old={"n": 1e16, "x": 0.1, "z": [1, 2.0], "名": "老人"}, new={"when": "2026-11-29"})
    stored = AuditLog.objects.get(pk=entry.pk)
    assert row_hash({f: getattr(stored, f) for f in auditchain.HASHED_FIELDS}) == stored.row_hash
    assert verify().intact


def test_a_row_changed_by_the_base_queryset_update_is_found() -> None:
    _some_writes()
    row = _middle_row()
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=row.pk).update(object_repr="nothing happened")
    with as_attacker():
        models.QuerySet.update(AuditLog.objects.filter(pk=row.pk), object_repr="nothing happened")
    report = verify()
    assert not report.intact and report.broken_id == row.pk and "contents" in report.reason


def test_a_row_removed_by_raw_delete_is_found() -> None:
    _some_writes()
    row = _middle_row()
    after = AuditLog.objects.get(seq=row.seq + 1)
    with as_attacker():
        query = AuditLog.objects.filter(pk=row.pk)
        assert models.QuerySet._raw_delete(query, query.db) == 1
    report = verify()
    assert not report.intact and report.broken_id == after.pk and report.rows == row.seq - 1


def test_sql_update_is_found_even_with_a_recomputed_hash() -> None:
    _some_writes()
    row = _middle_row()
    with as_attacker(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditlog SET object_repr = %s WHERE id = %s", ["altered", row.pk])
    report = verify()
    assert report.broken_id == row.pk and not report.intact
    # the forger recomputes this row's hash: now the next row no longer follows it
    row = AuditLog.objects.get(pk=row.pk)
    forged = row_hash({f: getattr(row, f) for f in auditchain.HASHED_FIELDS})
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditlog SET row_hash = %s WHERE id = %s", [forged, row.pk])
    report = verify()
    assert report.broken_id == AuditLog.objects.get(seq=row.seq + 1).pk and "follow" in report.reason


def test_sql_delete_of_one_row_of_the_last_rows_and_of_everything_is_found() -> None:
    _some_writes()
    row = _middle_row()
    after = AuditLog.objects.get(seq=row.seq + 1)
    with as_attacker(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [row.pk])
        assert verify().broken_id == after.pk
        last = AuditLog.objects.order_by("-seq").first()
        cursor.execute("DELETE FROM core_auditlog WHERE seq >= %s", [row.seq])
        report = verify()
        assert not report.intact and report.broken_id is None and f"records {last.seq} rows" in report.reason
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no deferred checks
            cursor.execute("TRUNCATE core_auditlog")
        else:  # SQLite's TRUNCATE
            cursor.execute("DELETE FROM core_auditlog")
        report = verify()
        assert not report.intact and report.rows == 0 and "remain" in report.reason


def test_a_forged_insert_is_found_even_with_a_correct_hash() -> None:
    _some_writes()
    last = AuditLog.objects.order_by("-seq").first()
    values = {"seq": last.seq + 1, "prev_hash": last.row_hash, "at": last.at, "user_id": None,
              "event": "registry.exported", "action": "export", "model": "registry.Resident", "object_id": "*",
              "object_repr": "", "place_path": last.place_path, "old": None, "new": None}
    columns = [*values, "row_hash"]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO core_auditlog ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
                       [*values.values(), row_hash(values)])
    forged = AuditLog.objects.get(seq=last.seq + 1)
    report = verify()
    assert not report.intact and report.broken_id == forged.pk and "beyond the chain's head" in report.reason


def test_a_forged_insert_by_the_base_bulk_create_is_found() -> None:
    with pytest.raises(PermissionError):
        AuditLog.objects.bulk_create([AuditLog(event="x", action="create", model="m", object_id="1")])
    head = AuditChainHead.objects.get()
    fake = AuditLog(event="registry.exported", action="export", model="registry.Resident", object_id="*",
                    seq=head.seq + 1, prev_hash=head.hash, row_hash="0" * 64)
    models.QuerySet.bulk_create(AuditLog.objects.all(), [fake])
    report = verify()
    assert not report.intact and report.broken_seq == head.seq + 1


def test_the_cli_says_intact_or_names_the_broken_row(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == str(verify()) and "chain intact" in out
    row = _middle_row()
    with as_attacker():
        models.QuerySet.update(AuditLog.objects.filter(pk=row.pk), new={"forged": True})
    assert main(["audit", "verify"]) == 1
    assert f"broken at row id {row.pk} (seq {row.seq})" in capsys.readouterr().err


@postgres_only
def test_postgres_refuses_update_delete_and_truncate_of_the_audit_log() -> None:
    row = _middle_row()
    for sql in ("UPDATE core_auditlog SET object_repr = 'x' WHERE id = %s", "DELETE FROM core_auditlog WHERE id = %s",
                "TRUNCATE core_auditlog", "DELETE FROM core_auditchainhead", "UPDATE core_auditchainhead SET seq = 0"):
        with pytest.raises(DatabaseError, match="append-only|only moves forward"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(sql, [row.pk] if "%s" in sql else None)
    with pytest.raises(DatabaseError), transaction.atomic():
        models.QuerySet.update(AuditLog.objects.filter(pk=row.pk), object_repr="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        query = AuditLog.objects.filter(pk=row.pk)
        models.QuerySet._raw_delete(query, query.db)
    assert verify().intact


def test_the_migration_chains_rows_written_before_the_chain() -> None:
    import importlib
    from types import SimpleNamespace

    from django.db.migrations.loader import MigrationLoader

    migration = importlib.import_module("civicgrid.core.migrations.0003_audit_chain")
    _some_writes()
    with as_attacker(), connection.cursor() as cursor:  # the rows as they were before migration 0003
        cursor.execute("UPDATE core_auditlog SET seq = -id, prev_hash = '', row_hash = ''")
        cursor.execute("DELETE FROM core_auditchainhead")
    assert not verify().intact
    state = MigrationLoader(connection).project_state(("core", "0003_audit_chain"))
    migration.chain_existing_rows(state.apps, SimpleNamespace(connection=connection))
    report = verify()
    assert report.intact and report.rows == AuditLog.objects.count()
    ids = list(AuditLog.objects.order_by("seq").values_list("id", flat=True))
    assert ids == sorted(ids)


class _Undone(Exception):
    pass


@pytest.mark.parametrize("deferred", [True, False])
def test_a_savepoint_rolled_back_takes_its_audit_rows_with_it(deferred: bool) -> None:
    """Rows recorded inside ``audit.savepoint`` that rolls back are not written, also when an enclosing
    ``audit.deferred`` holds them back until its end; rows before and after it are, and the chain verifies."""
    from contextlib import nullcontext

    from civicgrid.core import audit

    household = Household.objects.first()
    before = AuditLog.objects.count()
    with transaction.atomic(), (audit.deferred() if deferred else nullcontext()):
        audit.record(user=None, event="registry.household_updated", instance=household, new={"step": "before"})
        with pytest.raises(_Undone), audit.savepoint():
            audit.record(user=None, event="registry.household_updated", instance=household, new={"step": "undone"})
            raise _Undone
        audit.record(user=None, event="registry.household_updated", instance=household, new={"step": "after"})
    steps = [row.new["step"] for row in AuditLog.objects.order_by("seq")[before:]]
    assert steps == ["before", "after"]
    assert verify().intact
