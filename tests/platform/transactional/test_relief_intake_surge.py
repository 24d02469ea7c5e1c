"""A small surge through the real need-intake service (issue 11, section 3): the embedded database is set up
for concurrent writers (WAL, a busy timeout), and 20 threads with their own connections filing at once get
no "database is locked", lose no filing, make no second open need, and share transactions (group commit). The load benchmark (many clients
against the production server) is bench/bench_intake.py; this is its fast check for the suite."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from django.db import connection, connections

from civicgrid.config.settings.database import database_from_url
from civicgrid.core.auditchain import verify
from civicgrid.core.models import AuditLog
from civicgrid.core.scoping import PLATFORM, Scope
from civicgrid.registry import services as registry
from civicgrid.registry.models import Place
from civicgrid.relief import services
from civicgrid.relief.models import Item, Need, NeedFiling

pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = Scope(role="district_official", unrestricted=True)
THREADS, FILINGS = 20, 3


def test_the_embedded_database_uses_wal_and_a_busy_timeout(tmp_path: Any) -> None:
    settings = database_from_url(f"sqlite:///{tmp_path}/x.sqlite3")
    options: Any = settings["OPTIONS"]
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]
    if connection.vendor == "sqlite":  # the suite's own database, as connected
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


def test_twenty_threads_filing_at_once_are_never_locked_out() -> None:
    tag = uuid.uuid4().hex[:6].upper()
    grid = _place(f"{tag}-G", "grid", _place(f"{tag}-C", "community", _place(f"ZS{tag}", "district", None)))
    households = [registry.household_create(user=None, scope=PLATFORM, code=f"{tag}-H{i}", address=f"no. {i}",
                                            building=_place(f"{tag}-B{i}", "building", grid),
                                            housing_type="commodity") for i in range(8)]
    item = Item.objects.create(code=f"kit-{tag.lower()}", name="Kit", category="other", unit="kits")
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    keys: list[str] = []

    def filer(n: int) -> None:
        try:
            barrier.wait(timeout=60)
            for i in range(FILINGS):
                key = f"surge-{tag}-{n}-{i}"
                try:  # several threads share a household: merged one after the other
                    services.need_file(user=None, scope=ADMIN, household_id=households[(n + i) % 8].pk, item=item,
                                       quantity=1 + i, key=key)
                    outcomes.append("ok")
                    keys.append(key)
                except Exception as exc:  # noqa: BLE001 - counted and asserted on below
                    outcomes.append("locked" if "database is locked" in str(exc) else repr(exc))
        finally:
            connections.close_all()

    batches, written = services.INTAKE.batches, services.INTAKE.items
    threads = [threading.Thread(target=filer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert Counter(outcomes) == Counter({"ok": THREADS * FILINGS}), Counter(outcomes)
    assert NeedFiling.objects.filter(key__in=keys).count() == THREADS * FILINGS  # none lost, none twice
    assert Need.objects.filter(item=item).count() == 8  # one need per household, every filing merged into it
    # every filing audited (the rows appended together at the end of each transaction), the chain intact
    filings = [str(pk) for pk in NeedFiling.objects.filter(key__in=keys).values_list("pk", flat=True)]
    assert AuditLog.objects.filter(event="relief.need_filing", object_id__in=filings).count() == THREADS * FILINGS
    assert verify().intact
    # filings waiting at the same moment shared transactions (core.groupcommit): fewer commits than filings
    batches, written = services.INTAKE.batches - batches, services.INTAKE.items - written
    assert written == THREADS * FILINGS and batches < written, (batches, written)
