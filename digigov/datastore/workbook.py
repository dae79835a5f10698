"""Workbooks into table `raw`: XLSX streamed row by row with openpyxl, legacy XLS with xlrd.

Rows are written as UTF-8 CSV (cells as text: whole numbers without `.0`, dates in ISO form)
and DuckDB reads that file; so a workbook is typed exactly like a CSV. The zip directory of an
XLSX is checked before anything is unpacked, and the column count before any row is read.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import xlrd

from digigov.datastore.errors import EmptyFile, FieldTooLarge, NotTabular, SheetNotFound, TooManyColumns, WorkbookBomb
from digigov.datastore.report import MB, Format, ReadLimits
from digigov.datastore.sniff import Record, find_layout
from digigov.datastore.staging import Staged, csv_options, sql_literal

SAMPLE_ROWS = 200
Rows = Iterator[tuple[int, Sequence[object]]]


@dataclass
class _Grid:
    path: Path
    width: int = 0
    raw_width: int = 0  # including trailing empty cells (an Excel selection exported whole)
    blank: int = 0
    sample: list[Record] = field(default_factory=list)
    early_blanks: list[int] = field(default_factory=list)  # sheet rows of blank rows met while sampling


def stage_workbook(
    con: duckdb.DuckDBPyConnection, source: Path, work: Path, fmt: Format, sheet: str | None, limits: ReadLimits
) -> Staged:
    """Load the chosen sheet of an XLSX or XLS workbook into `raw`."""
    opener = _xlsx_rows if fmt == "xlsx" else _xls_rows
    with opener(source, sheet, limits) as (name, rows):
        grid = _write_grid(rows, work / "sheet.csv", limits)
    if not grid.sample:
        raise EmptyFile(source.name)
    layout = find_layout(grid.sample, width=grid.width)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(layout.width)) + "}"
    con.execute(
        f"CREATE TABLE raw AS SELECT * FROM read_csv({sql_literal(str(grid.path))}, skip = {layout.skip}, "
        f"delim = ',', quote = '\"', escape = '\"', new_line = '\\n', columns = {columns}, null_padding = true, "
        f"{csv_options(limits)})"
    )
    header = grid.sample[layout.header_index].line if layout.header_index is not None else None
    before_header = sum(1 for row in grid.early_blanks if header is not None and row < header)
    return Staged(
        format=fmt,
        encoding=None,
        delimiter=None,
        sheet=name,
        header_row=header,
        names=layout.names,
        source_names=layout.source_names,
        blank_rows=grid.blank - before_header,
        dropped_columns=max(0, grid.raw_width - layout.width),
    )


def _write_grid(rows: Rows, path: Path, limits: ReadLimits) -> _Grid:
    grid = _Grid(path)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        for number, values in rows:
            cells = [cell_text(value) for value in values]
            grid.raw_width = max(grid.raw_width, len(cells))
            while cells and not cells[-1]:
                cells.pop()
            if not any(cell.strip() for cell in cells):
                grid.blank += 1
                if len(grid.sample) < SAMPLE_ROWS:
                    grid.early_blanks.append(number)
                continue
            _check_row(cells, number, limits)
            grid.width = max(grid.width, len(cells))
            writer.writerow(cells)
            if len(grid.sample) < SAMPLE_ROWS:
                grid.sample.append(Record(number, 1, tuple(cells)))
    return grid


def _check_row(cells: list[str], number: int, limits: ReadLimits) -> None:
    if len(cells) > limits.max_columns:
        raise TooManyColumns(len(cells), limits.max_columns)
    if any(len(cell) > limits.max_field_bytes // 4 and len(cell.encode()) > limits.max_field_bytes for cell in cells):
        raise FieldTooLarge(number, limits.max_field_bytes)


def cell_text(value: object) -> str:
    """A cell's value as the text a CSV export would hold.

    >>> [cell_text(v) for v in (None, True, 42, 2016.5, 93000.0, 1e-7, dt.datetime(2020, 1, 10), dt.time(9, 5))]
    ['', 'true', '42', '2016.5', '93000', '0.0000001', '2020-01-10', '09:05:00']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _float_text(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text else text


def check_zip(source: Path, limits: ReadLimits) -> None:
    """Refuse an XLSX whose zip directory promises too much data or an absurd compression ratio."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise NotTabular(source.name, "a damaged workbook", "损坏的工作簿") from error
    total = sum(member.file_size for member in members)
    if total > limits.max_unpacked_bytes:
        raise WorkbookBomb(source.name, f"{total // MB} MB unpacked, more than {limits.max_unpacked_bytes // MB} MB")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > MB and ratio > limits.max_compression_ratio:
            raise WorkbookBomb(source.name, f"{member.filename} expands {ratio:.0f} times")


@contextmanager
def _xlsx_rows(source: Path, sheet: str | None, limits: ReadLimits) -> Iterator[tuple[str, Rows]]:
    check_zip(source, limits)
    with source.open("rb") as handle:
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
        except Exception as error:  # openpyxl raises many kinds on damaged files
            raise NotTabular(source.name, "a damaged workbook", "损坏的工作簿") from error
        try:
            sheets = book.worksheets
            pick = _pick(
                [ws.title for ws in sheets], sheet, lambda i: _has_values(sheets[i].iter_rows(values_only=True))
            )
            worksheet = sheets[pick]
            if (worksheet.max_column or 0) > limits.max_columns:
                raise TooManyColumns(worksheet.max_column, limits.max_columns)
            yield worksheet.title, enumerate(worksheet.iter_rows(values_only=True), start=1)
        finally:
            book.close()


@contextmanager
def _xls_rows(source: Path, sheet: str | None, limits: ReadLimits) -> Iterator[tuple[str, Rows]]:
    try:
        book = xlrd.open_workbook(str(source), on_demand=True)
    except Exception as error:  # xlrd raises its own and struct errors on damaged files
        raise NotTabular(source.name, "a damaged or non-Excel OLE2 file", "损坏的或非 Excel 的 OLE2 文件") from error
    try:
        sheets = [book.sheet_by_index(i) for i in range(book.nsheets)]
        pick = _pick(
            [s.name for s in sheets], sheet, lambda i: _has_values(map(sheets[i].row_values, range(sheets[i].nrows)))
        )
        chosen = sheets[pick]
        if chosen.ncols > limits.max_columns:
            raise TooManyColumns(chosen.ncols, limits.max_columns)
        rows = ((r + 1, [_xls_value(cell, book.datemode) for cell in chosen.row(r)]) for r in range(chosen.nrows))
        yield chosen.name, rows
    finally:
        book.release_resources()


def _xls_value(cell: xlrd.sheet.Cell, datemode: int) -> object:
    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate.xldate_as_datetime(cell.value, datemode)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    return cell.value


def _has_values(rows: Iterable[Sequence[object]]) -> bool:
    return any(any(value is not None and str(value).strip() for value in row) for row in rows)


def _pick(names: list[str], wanted: str | None, non_empty: Callable[[int], bool]) -> int:
    """The index of the named sheet, else of the first sheet with a value in it."""
    if wanted is not None:
        if wanted not in names:
            raise SheetNotFound(wanted, names)
        return names.index(wanted)
    return next((index for index in range(len(names)) if non_empty(index)), 0)
