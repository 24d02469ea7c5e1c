"""civicgrid.core.alongside: pure Python work in a second thread while the caller's transaction works."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import translation

from civicgrid.core.alongside import DatabaseUseRefused, alongside
from civicgrid.core.bulk import copy_rows, read_frame
from civicgrid.registry.models import Place

pytestmark = pytest.mark.django_db


def test_the_work_runs_in_another_thread_while_the_block_runs() -> None:
    """The block and the work run at once: each waits for the other here, so a work run at entry (or at the
    wait) would never see the block's signal and time out."""
    block_started, work_done = threading.Event(), threading.Event()
    threads: list[int] = []

    def work() -> int:
        threads.append(threading.get_ident())
        assert block_started.wait(timeout=30), "the block never ran while the work waited"
        work_done.set()
        return 42

    with alongside(work) as result:
        block_started.set()
        assert work_done.wait(timeout=30)
        assert result() == 42
    assert threads and threads[0] != threading.get_ident()


def test_an_exception_of_the_work_is_raised_where_its_result_is_asked() -> None:
    with alongside(lambda: 1 // 0) as result, pytest.raises(ZeroDivisionError):
        result()


def test_leaving_the_block_waits_for_the_work_even_when_the_block_raises() -> None:
    release, finished = threading.Event(), threading.Event()

    def work() -> None:
        release.wait(timeout=30)
        finished.set()

    with pytest.raises(KeyError), alongside(work):
        threading.Timer(0.2, release.set).start()
        raise KeyError("the block failed")
    assert finished.is_set()  # the thread had finished when the block was left


def _ways_to_the_database() -> dict[str, Any]:
    """Every way a work could reach the database: the ORM, a raw cursor, the driver's connection, the project's
    own COPY paths (which bypass Django's statement wrappers on PostgreSQL)."""
    return {
        "orm": lambda: Place.objects.count(),
        "raw cursor": lambda: connection.cursor().execute("SELECT 1"),
        "driver connection": lambda: connection.ensure_connection(),
        "read_frame": lambda: read_frame(Place.objects.values_list("id"), {"id": "int"}),
        "copy_rows": lambda: copy_rows(ContentType, ["app_label", "model"], [("alongside", "written")]),
    }


@pytest.mark.parametrize("way", list(_ways_to_the_database()))
def test_the_work_may_not_use_the_database_and_the_callers_transaction_goes_on(way: str) -> None:
    """Refused before any statement: a statement from the second thread would run outside the caller's
    transaction (a COPY would commit on its own) or wait for the caller's own row locks forever."""
    work = _ways_to_the_database()[way]
    with transaction.atomic():
        before = Place.objects.count()
        with alongside(work) as result, pytest.raises(DatabaseUseRefused, match="may not use the database"):
            result()
        assert Place.objects.count() == before  # the caller's connection is untouched, still in its transaction
        assert connection.in_atomic_block
    assert not ContentType.objects.filter(app_label="alongside").exists()


def test_a_failed_work_whose_result_nobody_asked_for_is_raised_when_the_block_ends() -> None:
    with pytest.raises(ZeroDivisionError), alongside(lambda: 1 // 0):
        pass


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_work_speaks_the_callers_language(language: str, settings: Any) -> None:
    """The site's default is the other language, so a thread that ignored the caller's would answer that."""
    settings.LANGUAGE_CODE = "en" if language == "zh-hans" else "zh-hans"
    with translation.override(language), alongside(translation.get_language) as result:
        assert result() == language
