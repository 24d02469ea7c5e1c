"""The one bulk insert path (civicgrid.core.bulk.copy_rows): COPY's binary format writes exactly what its text
format writes, and a value of the wrong type is refused with nothing written."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction  # noqa: F401 (connection: the skip condition)
from django.utils import timezone

from civicgrid.core.bulk import copy_rows
from civicgrid.relief.models import QUANTITY_CEILING, Lot
from tests.platform.relief_support import catalogue, community, point_for

pytestmark = pytest.mark.django_db

COLUMNS = ["item_id", "point_id", "quantity", "initial_quantity", "expiry", "received_at", "offer_id", "source"]


def _rows(item: int, point: int, received: datetime, tag: str) -> list[tuple[Any, ...]]:
    # every kind of value a bulk writer hands over: keys, numbers at the edges, a date and none, an aware time,
    # a NULL key, text with what text COPY would have to escape (tab, newline, backslash, Chinese)
    return [(item, point, 0, 0, None, received, None, f"{tag} 空\tcolumn\nline\\N"),
            (item, point, 7, 9, date(2026, 12, 31), received + timedelta(microseconds=1), None, f"{tag} "),
            (item, point, QUANTITY_CEILING, QUANTITY_CEILING, date(1970, 1, 1), received, None, tag)]


def _read(tag: str) -> list[tuple[Any, ...]]:
    return sorted((r[2:8]) for r in Lot.objects.filter(source__contains=tag).values_list(*COLUMNS))


def test_binary_copy_writes_what_text_copy_writes() -> None:
    items, point = catalogue(), point_for(community())
    received = timezone.now().replace(microsecond=123456)
    item = items["food"].pk
    written = copy_rows(Lot, COLUMNS, _rows(item, point.pk, received, "text-form"))
    assert written == 3
    assert copy_rows(Lot, COLUMNS, _rows(item, point.pk, received, "binary-form"), binary=True) == 3
    text, binary = _read("text-form"), _read("binary-form")
    assert len(text) == 3
    assert [r[:-1] for r in binary] == [r[:-1] for r in text]  # numbers, dates, times, NULLs
    assert [r[-1].replace("binary-form", "text-form") for r in binary] == [r[-1] for r in text]
    # (quantity, initial_quantity, expiry, received_at, offer_id, source) as they were handed over
    assert {r[2] for r in text} == {None, date(2026, 12, 31), date(1970, 1, 1)}
    assert {r[3] for r in text} == {received, received + timedelta(microseconds=1)} and {r[4] for r in text} == {None}


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="binary COPY is PostgreSQL's")
def test_a_value_of_the_wrong_type_is_refused_and_nothing_is_written() -> None:
    items, point = catalogue(), point_for(community())
    rows = _rows(items["food"].pk, point.pk, timezone.now(), "refused")
    rows.append((items["food"].pk, point.pk, "5", 5, None, timezone.now(), None, "refused"))  # text for a number
    with pytest.raises((DatabaseError, TypeError, ValueError)), transaction.atomic():
        copy_rows(Lot, COLUMNS, rows, binary=True)
    assert not Lot.objects.filter(source__contains="refused").exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="arrays are PostgreSQL's")
def test_an_integer_array_in_text_form_reads_back_as_the_values() -> None:
    import numpy as np

    from civicgrid.core.bulk import int_array

    values = [0, -1, 2**63 - 1, -(2**63), 42]
    with connection.cursor() as cursor:
        for given, expected in ((values, values), (np.asarray(values, dtype=np.int64), values),
                                (iter(values), values), ([], [])):
            cursor.execute("SELECT %s::bigint[]", [int_array(given)])
            assert cursor.fetchone()[0] == expected


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="binary COPY is PostgreSQL's")
@pytest.mark.parametrize("bad", [2**31, -(2**31) - 1, 2**32 + 5, True])
def test_an_integer_out_of_its_columns_range_is_refused_not_wrapped(bad: object) -> None:
    """The driver would pack 2**32 + 5 into an integer column as 5: the writer refuses it, as the server refuses
    the same value sent as text."""
    items, point = catalogue(), point_for(community())
    rows = _rows(items["food"].pk, point.pk, timezone.now(), "wrapped")
    rows.append((items["food"].pk, point.pk, 1, bad, None, timezone.now(), None, "wrapped"))
    with pytest.raises(DatabaseError, match="initial_quantity"), transaction.atomic():
        copy_rows(Lot, COLUMNS, rows, binary=True)
    assert not Lot.objects.filter(source__contains="wrapped").exists()
    with pytest.raises(DatabaseError), transaction.atomic():  # and text COPY, the reference, refuses it too
        copy_rows(Lot, COLUMNS, [(items["food"].pk, point.pk, 1, bad, None, timezone.now(), None, "wrapped")])


def test_an_integer_array_refuses_what_is_not_an_integer() -> None:
    from civicgrid.core.bulk import int_array

    for bad in ([1, 2.7], [1, "2"]):
        with pytest.raises(TypeError):
            int_array(bad)
