"""The one bulk insert path (civicgrid.core.bulk.copy_rows): COPY's binary format writes exactly what its text
format writes, and a value of the wrong type is refused with nothing written. The one bulk read
(civicgrid.core.bulk.read_frame): rows parsed while a second thread takes them from libpq are the rows, and
whatever stops the parse, the reader is done with the connection before anything else uses it."""

from __future__ import annotations

import io
import queue
import time
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from django.db import DatabaseError, connection, transaction  # noqa: F401 (connection: the skip condition)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from civicgrid.core import bulk
from civicgrid.core.bulk import copy_rows, read_frame
from civicgrid.registry.models import Place
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


# a CSV as PostgreSQL writes one: quoted fields with a comma, a doubled quote, a newline, Chinese, an empty field
_CSV = ('1,"锦江区,""东""\n街道",2.5\n2,,\n3,plain,-0.125\n' * 3).encode()


def _stream(blocks: list[bytes], *, buffer_size: int) -> io.BufferedReader:
    fed: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    for block in blocks:
        fed.put(block)
    fed.put(None)
    return io.BufferedReader(bulk._Blocks(fed), buffer_size=buffer_size)


@pytest.mark.parametrize("buffer_size", [1, 7, 1 << 16])
def test_blocks_read_as_one_stream_whatever_the_cuts(buffer_size: int) -> None:
    """The parser's reads take what a block holds, across blocks and within them (cut at every offset here,
    and one block far larger than a read)."""
    expected = pd.read_csv(io.BytesIO(_CSV), header=None, keep_default_na=False)
    for cut in range(len(_CSV) + 1):
        assert _stream([_CSV[:cut], b"", _CSV[cut:]], buffer_size=buffer_size).read() == _CSV
    assert _stream([_CSV[:5], _CSV[5:]], buffer_size=buffer_size).read() == _CSV
    big = _CSV * 30_000  # 2.6 MB in one block
    assert _stream([big], buffer_size=buffer_size).read() == big
    parsed = pd.read_csv(_stream([_CSV[:31], _CSV[31:]], buffer_size=buffer_size), header=None,
                         keep_default_na=False)
    pd.testing.assert_frame_equal(parsed, expected)
    assert _stream([], buffer_size=buffer_size).read() == b""


def _slow_wide_rows(*, width: int, pause: float) -> Any:
    """Every place with its name repeated ``width`` times (more than the parser's first read), the server
    pausing ``pause`` seconds before the newest. Unordered: a sort would compute every row, pause included,
    before sending the first; a scan sends them as it goes."""
    last = Place.objects.order_by("-pk").values_list("pk", flat=True).first()
    return Place.objects.order_by().annotate(
        wide=RawSQL("repeat(name, %s)", [width]),
        late=RawSQL("CASE WHEN id = %s THEN (SELECT 0 FROM pg_sleep(%s)) ELSE 0 END", [last, pause]))


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the reading thread is PostgreSQL's")
def test_rows_parsed_while_they_arrive_are_the_rows() -> None:
    community()
    queryset = _slow_wide_rows(width=8000, pause=0.3).values_list("pk", "path", "wide", "late")
    frame = read_frame(queryset, {"id": "int", "path": "text", "wide": "text", "late": "int"})
    assert frame["wide"].str.len().sum() > 1 << 20  # parsed in several reads, the last row still to come
    assert sorted(tuple(r) for r in frame.itertuples(index=False)) == sorted(queryset)
    empty = read_frame(queryset.filter(pk__lt=0), {"id": "int", "path": "text", "wide": "text", "late": "int"})
    assert empty.empty and list(empty.columns) == ["id", "path", "wide", "late"] and empty["id"].dtype == "int64"


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the reading thread is PostgreSQL's")
def test_a_value_the_types_refuse_raises_once_the_reader_is_done() -> None:
    community()
    queryset = _slow_wide_rows(width=2000, pause=1.0).values_list("pk", "wide", "late")
    started = time.monotonic()
    with pytest.raises(ValueError), transaction.atomic():
        read_frame(queryset, {"id": "int", "wide": "int", "late": "int"})  # names are no integers
    # the parse failed on the first rows; the error waited for the COPY's end (the server's pause)
    assert time.monotonic() - started >= 1.0
    assert Place.objects.exists()  # and the connection works


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the reading thread is PostgreSQL's")
def test_an_interrupt_mid_parse_cancels_the_query_and_waits_for_the_reader(monkeypatch: pytest.MonkeyPatch
                                                                             ) -> None:
    community()
    queryset = _slow_wide_rows(width=2000, pause=30.0).values_list("pk", "wide", "late")
    reads = {"n": 0}
    real = bulk._Blocks.readinto

    def interrupted(self: Any, buffer: Any) -> int:
        reads["n"] += 1
        if reads["n"] == 2:
            raise KeyboardInterrupt
        return real(self, buffer)

    monkeypatch.setattr(bulk._Blocks, "readinto", interrupted)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), transaction.atomic():
        read_frame(queryset, {"id": "int", "wide": "text", "late": "int"})
    assert time.monotonic() - started < 20  # the server's 30 s pause was cancelled
    monkeypatch.setattr(bulk._Blocks, "readinto", real)
    assert Place.objects.exists()  # the connection works
