"""Delimited text (CSV, TSV, semicolon or pipe) scanned in place by DuckDB, every line accounted for.

DuckDB parses (strict quoting, the delimiter and line end named, the header skipped by us);
rows with the wrong number of fields or a broken quote go to the rejects with their line.
Nothing is loaded into a table: the caller's `store` reads the scan once, streaming, to write
the data file. Afterwards the rows, rejects and blank lines must add up to the file's data
lines; if they do not (DuckDB can mis-split a file that mixes line ends), the file is read
again with its line ends normalised, and refused if it still does not add up.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import duckdb

from digigov.datastore.errors import EmptyFile, FieldTooLarge, LinesUnaccounted, NotTabular, TooManyColumns
from digigov.datastore.infer import blank_cell
from digigov.datastore.report import ReadLimits
from digigov.datastore.sniff import Layout, Record, find_layout, read_records, sniff_delimiter
from digigov.datastore.staging import (
    Reject,
    Staged,
    Written,
    csv_options,
    forget_rejects,
    quote_name,
    sql_literal,
)
from digigov.datastore.textfile import CHUNK, TextFile, count_empty_lines, normalise_newlines, transcode

_REASONS = {
    "MISSING COLUMNS": "too few fields",
    "TOO MANY COLUMNS": "too many fields",
    "UNQUOTED VALUE": "a quoted field is not closed, or text follows its closing quote",
    "INVALID ENCODING": "bytes that are not valid UTF-8",
}


T = TypeVar("T", bound=Written)


@dataclass(frozen=True)
class _Loaded:
    rejects: tuple[Reject, ...]
    blank_rows: int
    relation: str
    rescan: str


class _WrongEncoding(Exception):
    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class _Unaccounted(Exception):
    def __init__(self, lines: int, accounted: int) -> None:
        super().__init__(lines, accounted)
        self.lines, self.accounted = lines, accounted


def stage_delimited(
    con: duckdb.DuckDBPyConnection,
    text: TextFile,
    work: Path,
    name: str,
    limits: ReadLimits,
    store: Callable[[Staged], T],
) -> tuple[Staged, T]:
    """Sniff delimiter and header on a sample of `text`, let `store` read all of it, account for every line.

    A file read as UTF-8 because it starts in ASCII is read again in a Chinese encoding if
    DuckDB finds bytes further down that are not UTF-8.
    """
    try:
        return _stage(con, text, work, name, limits, store)
    except _WrongEncoding as wrong:
        text = transcode(text.source, work, list(text.fallbacks), limits.max_field_bytes, wrong.offset)
        note = f"not UTF-8 after all (byte {wrong.offset} is not); read as {text.encoding}"
        return _stage(con, replace(text, notes=(*text.notes, note)), work, name, limits, store)


def _stage(
    con: duckdb.DuckDBPyConnection,
    text: TextFile,
    work: Path,
    name: str,
    limits: ReadLimits,
    store: Callable[[Staged], T],
) -> tuple[Staged, T]:
    sample, complete = read_sample(text.path, limits.sample_bytes)
    delimiter = sniff_delimiter(sample, complete=complete)
    records = read_records(sample, delimiter, complete=complete)
    if all(record.blank for record in records):
        raise EmptyFile(name)
    layout = find_layout(records)
    if layout.width > limits.max_columns:
        raise TooManyColumns(layout.width, limits.max_columns)
    header = records[layout.header_index].line if layout.header_index is not None else None
    staged = Staged(
        format="tsv" if delimiter == "\t" else "csv",
        encoding=text.encoding,
        delimiter=delimiter,
        sheet=None,
        header_row=header,
        names=layout.names,
        source_names=layout.source_names,
    )
    text, loaded, stored = _load(con, text, work, name, staged, layout, records, limits, store)
    staged = replace(staged, rejects=loaded.rejects, blank_rows=loaded.blank_rows, notes=text.notes)
    return replace(staged, relation=loaded.relation, rescan=loaded.rescan), stored


def read_sample(path: Path, size: int) -> tuple[str, bool]:
    """The first `size` bytes of a UTF-8 file as text, and whether that is the whole file."""
    with path.open("rb") as file:
        head = file.read(size + 1)
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head[:size], final=False)
    return text.removeprefix("\ufeff"), len(head) <= size


def _load(
    con: duckdb.DuckDBPyConnection,
    text: TextFile,
    work: Path,
    name: str,
    staged: Staged,
    layout: Layout,
    records: list[Record],
    limits: ReadLimits,
    store: Callable[[Staged], T],
) -> tuple[TextFile, _Loaded, T]:
    try:
        return (text, *_read(con, text, staged, layout, records, limits, store))
    except (_Unaccounted, duckdb.InvalidInputException) as problem:
        if not text.has_cr:
            raise _refusal(problem, name) from problem
    text = normalise_newlines(text, work, limits.max_field_bytes)
    try:
        return (text, *_read(con, text, staged, layout, records, limits, store))
    except (_Unaccounted, duckdb.InvalidInputException) as problem:
        raise _refusal(problem, name) from problem


def _refusal(problem: Exception, name: str) -> Exception:
    if isinstance(problem, _Unaccounted):
        return LinesUnaccounted(problem.lines, problem.accounted)
    first = str(problem).splitlines()[0]
    return NotTabular(name, f"the CSV parser stopped: {first}", f"CSV 解析失败：{first}")


def _read(
    con: duckdb.DuckDBPyConnection,
    text: TextFile,
    staged: Staged,
    layout: Layout,
    records: list[Record],
    limits: ReadLimits,
    store: Callable[[Staged], T],
) -> tuple[_Loaded, T]:
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(layout.width)) + "}"
    forget_rejects(con)  # a second attempt must not see the first's
    scan = (
        f"read_csv({sql_literal(str(text.path))}, skip = {layout.skip}, "
        f"delim = {sql_literal(staged.delimiter or ',')}, quote = '\"', escape = '\"', "
        f"new_line = {sql_literal(text.newline_option)}, columns = {columns}, null_padding = false, "
        f"{csv_options(limits)}, "
    )
    relation, rescan = scan + "store_rejects = true)", scan + "ignore_errors = true)"
    stored = store(replace(staged, relation=relation, rescan=rescan))
    rejects = _rejects(con, text, layout.width, limits)
    blank_lines, blank_rows = _account(con, text, layout, records, rejects, stored.rows, rescan)
    whitespace = [reject for reject in rejects if not reject.raw.strip()]
    kept = tuple(reject for reject in rejects if reject.raw.strip())
    return _Loaded(kept, blank_lines + len(whitespace) + blank_rows, relation, rescan), stored


def _rejects(con: duckdb.DuckDBPyConnection, text: TextFile, width: int, limits: ReadLimits) -> list[Reject]:
    rows = con.execute(
        "SELECT line, line_byte_position, error_type, error_message, csv_line FROM reject_errors "
        "ORDER BY line, line_byte_position"
    ).fetchall()
    unique = list({int(row[0]): row for row in reversed(rows)}.values())[::-1]
    for line, position, error_type, _, _ in unique:
        if error_type == "LINE SIZE OVER MAXIMUM":
            raise FieldTooLarge(int(line), limits.max_field_bytes)
        if error_type == "INVALID ENCODING" and text.fallbacks:
            raise _WrongEncoding(int(position or 0))
    positions = [int(row[1]) for row in unique if row[1] is not None]
    physical = physical_lines(text.path, positions)
    return [
        Reject(
            physical.get(int(position), int(line)) if position is not None else int(line),
            _reason(str(error_type), str(message), width),
            str(raw or "").lstrip("\r\n").rstrip("\r\n"),
        )
        for line, position, error_type, message, raw in unique
    ]


def _reason(error_type: str, message: str, width: int) -> str:
    found = re.search(r"Found: (\d+)", message)
    reason = _REASONS.get(error_type, message.splitlines()[0] if message else error_type.lower())
    return f"{reason}: expected {width}, found {found.group(1)}" if found else reason


def physical_lines(path: Path, positions: list[int]) -> dict[int, int]:
    """The 1-based line on which each byte offset of `path` falls, in one streaming pass."""
    targets = sorted(set(positions))
    found: dict[int, int] = {}
    newlines = offset = 0
    with path.open("rb") as file:
        while targets and (chunk := file.read(CHUNK)):
            end = offset + len(chunk)
            while targets and targets[0] <= end:
                target = targets.pop(0)
                found[target] = newlines + chunk[: target - offset].count(b"\n") + 1
            newlines += chunk.count(b"\n")
            offset = end
    found.update((target, newlines + 1) for target in targets)
    return found


def _account(
    con: duckdb.DuckDBPyConnection,
    text: TextFile,
    layout: Layout,
    records: list[Record],
    rejects: list[Reject],
    written: int,
    scan: str,
) -> tuple[int, int]:
    """Prove rows + rejected + blank lines = the file's data lines; return the blank lines DuckDB
    skipped and the blank rows it parsed (which the store left out of the `written` rows).

    Usually the rows written and the rejects alone add up, and the file is not read again.
    Otherwise the file has blank rows, empty lines or line ends inside quoted cells, and one
    more pass counts them (DuckDB skips empty lines of a multi-column file but keeps them as
    NULL rows of a one-column one).
    """
    skipped = records[: layout.skip]
    data_lines = text.lines - sum(record.lines for record in skipped)
    reject_lines = sum(1 + reject.raw.count("\n") for reject in rejects)
    if written + reject_lines == data_lines:
        return 0, 0
    rows, blank_rows, newlines, empty_inside = _recount(con, layout.width, scan)
    blank = 0
    if layout.width > 1:
        empty = count_empty_lines(text.path) - sum(1 for record in skipped if not record.fields)
        blank = empty - empty_inside - sum(_inner_empty_lines(reject.raw) for reject in rejects)
    accounted = rows + newlines + reject_lines + blank
    if accounted != data_lines or rows - blank_rows != written:
        raise _Unaccounted(data_lines, accounted)
    return blank, blank_rows


def _recount(con: duckdb.DuckDBPyConnection, width: int, scan: str) -> tuple[int, int, int, int]:
    """Rows parsed, blank rows among them, line ends inside quoted cells, and the empty lines among those."""
    blank_row = " AND ".join(blank_cell(quote_name(f"c{i}")) for i in range(width))
    parts = ["count(*)", f"count_if({blank_row})"]
    for column in (quote_name(f"c{i}") for i in range(width)):
        parts.append(
            f"sum(strlen({column}) - strlen(replace({column}, chr(10), ''))) FILTER (WHERE contains({column}, chr(10)))"
        )
        split = f"string_split({column}, chr(10))"
        parts.append(
            f"sum(len(list_filter(list_slice({split}, 2, len({split}) - 1), lambda x: x = '' OR x = chr(13))))"
            f" FILTER (WHERE contains({column}, chr(10) || chr(10))"
            f" OR contains({column}, chr(10) || chr(13) || chr(10)))"
        )
    row = con.execute(f"SELECT {', '.join(parts)} FROM {scan}").fetchone() or ()
    values = [int(value or 0) for value in row]
    return values[0], values[1], sum(values[2::2]), sum(values[3::2])


def _inner_empty_lines(text: str) -> int:
    segments = text.split("\n")[1:-1]
    return sum(1 for segment in segments if segment in ("", "\r"))
