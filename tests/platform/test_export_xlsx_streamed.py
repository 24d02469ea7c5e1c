"""Issue 15: the XLSX export is streamed (the first bytes before the rows are all read, memory flat
over the rows), stays within a sheet's row limit by continuing on further sheets, and gives back
every value: checked with openpyxl as the independent reader, and through the platform's importer."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from civicgrid.core.exporting import neutralise, unneutralise, write_xlsx
from civicgrid.core.importing import read_tables
from civicgrid.core.xlsxstream import stream_xlsx, unescape

# Any text a registry field could hold: controls (which XML 1.0 cannot carry), the format's own
# escape written literally, formulas, Chinese, whitespace at the ends.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30) | st.sampled_from(
    ["_x0041_", "a_x000D_b", "_x005F_", "\x0b", "\r", "\r\n", "=1+1", "'=x", " 幸福路 ", "\x00"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=12))
def test_every_value_reads_back_as_written(rows: list[tuple[str, str]]) -> None:
    numbered = [(str(i), *row) for i, row in enumerate(rows)]  # no row empty throughout
    book = load_workbook(io.BytesIO(write_xlsx({"t": (("n", "a", "b"), numbered)})))
    read = [[unescape(c.value) if c.value is not None else "" for c in row]
            for row in book["t"].iter_rows(min_row=2, min_col=2, max_col=3)]
    # openpyxl reads each cell's text (the format's _xHHHH_ escape undone); an empty value is an
    # empty cell; every value is neutralised against formulas, exactly undone by unneutralise
    assert [[unneutralise(v) for v in row] for row in read] == [list(r) for r in rows]
    assert all(str(neutralise(v)) == w for r, row in zip(rows, read, strict=True) for v, w in zip(r, row, strict=True))


def test_a_long_table_continues_on_further_sheets_and_imports_as_one() -> None:
    header = ("code", "name")
    for n_rows in (9, 10):  # 3 data rows a sheet: exactly three sheets, then a fourth with one row
        rows = [[f"H{i:03d}", f"户{i}"] for i in range(n_rows)]
        data = b"".join(stream_xlsx({"Households": (header, rows)}, max_rows=4))
        book = load_workbook(io.BytesIO(data))
        expected_sheets = -(-n_rows // 3)
        assert book.sheetnames == ["Households"] + [f"Households ({p})" for p in range(2, expected_sheets + 1)]
        seen = []
        for sheet in book.worksheets:
            values = [[c.value for c in r] for r in sheet.iter_rows()]
            assert values[0] == list(header) and 2 <= len(values) <= 4
            seen += values[1:]
        assert seen == rows
        tables = read_tables(io.BytesIO(data), filename="x.xlsx", expected={"households": header},
                             table_aliases={"Households": "households"})
        assert [[r["code"], r["name"]] for r in tables["households"]] == rows


def _rows(n: int, read: list[int]) -> Iterator[list[str]]:
    for i in range(n):
        read[0] += 1
        yield [f"D01-S01-C01-{i:07d}", f"幸福路{i}号", "低保" if i % 7 == 0 else "", str(i % 5)]


def test_the_first_bytes_go_out_before_the_rows_are_read() -> None:
    read = [0]
    chunks = stream_xlsx({"t": (("a", "b", "c", "d"), _rows(50_000, read))}, chunk_rows=1_000)
    first = next(c for c in chunks if c)
    assert first.startswith(b"PK") and read[0] <= 1_000
    rest = b"".join(chunks)
    assert read[0] == 50_000
    assert sum(1 for _ in load_workbook(io.BytesIO(first + rest), read_only=True)["t"].iter_rows()) == 50_001


def _peak(n: int) -> int:
    tracemalloc.start()
    for _ in stream_xlsx({"t": (("a", "b", "c", "d"), _rows(n, [0]))}):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_stays_flat_over_the_rows() -> None:
    small, large = _peak(10_000), _peak(100_000)
    assert large < 1.5 * small, (small, large)  # ten times the rows, about the same memory
