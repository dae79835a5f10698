"""Read one uploaded file into typed Parquet: `read_to_parquet`.

The steps: refuse what is not a readable file; recognise the format by content; load the
rows as text into DuckDB (per format: `delimited`, `workbook`, `jsonfile`); drop columns with
neither a name nor a value; name the rest uniquely; type them over the whole table (`infer`);
write `data.parquet` without blank rows, check that every typed value survived its cast, and
write `rejects.csv`. All of it happens in a hidden directory beside `out_dir` that is renamed
to `out_dir` at the end, so a failure leaves nothing behind.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path

import duckdb

from digigov.datastore.delimited import read_sample, stage_delimited
from digigov.datastore.errors import EmptyFile, NotTabular, SourceMissing, UnknownEncoding
from digigov.datastore.infer import (
    NULL_TOKENS,
    STRING,
    Typing,
    blank_cell,
    cast_expression,
    infer_types,
    null_count,
)
from digigov.datastore.jsonfile import stage_json
from digigov.datastore.query import lookup_file
from digigov.datastore.report import Column, ReadLimits, ReadReport, Rename, TextFallback
from digigov.datastore.sniff import encoding_candidates, json_format, looks_binary, sniff_format
from digigov.datastore.staging import Reject, Staged, connect, quote_name, sql_literal
from digigov.datastore.textfile import prepare_text
from digigov.datastore.workbook import stage_workbook

DATA_FILE = "data.parquet"
REJECTS_FILE = "rejects.csv"
ROW_GROUP_ROWS = 32_768  # small enough that reading one row for a lookup decodes little
LOOKUP_MIN_ROWS = 100_000  # below this a filtered scan is already quick


def read_to_parquet(
    source: Path, out_dir: Path, *, sheet: str | None = None, limits: ReadLimits = ReadLimits()
) -> ReadReport:
    """Read `source` into `out_dir`/data.parquet and rejects.csv; raise a ReadError and leave nothing if refused."""
    _check_source(source)
    with _output(out_dir) as work, closing(connect(work / "tmp" / "duckdb", limits)) as con:
        staged = _stage(con, source, work / "tmp", sheet, limits)
        return _store(con, staged, work, source.name)


def _check_source(source: Path) -> None:
    if not source.is_file():
        raise SourceMissing(source.name, is_directory=source.is_dir())
    if source.stat().st_size == 0:
        raise EmptyFile(source.name)


@contextmanager
def _output(out_dir: Path) -> Iterator[Path]:
    """A hidden working directory next to `out_dir`, renamed to it on success and removed on failure."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir} exists and is not an empty directory")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    try:
        (work / "tmp").mkdir()
        yield work
        shutil.rmtree(work / "tmp")
        os.chmod(work, 0o755)
        if out_dir.exists():
            out_dir.rmdir()
        work.rename(out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _stage(con: duckdb.DuckDBPyConnection, source: Path, tmp: Path, sheet: str | None, limits: ReadLimits) -> Staged:
    with source.open("rb") as file:
        head = file.read(limits.sample_bytes)
    fmt = sniff_format(source, head)
    if fmt is not None:
        return stage_workbook(con, source, tmp, fmt, sheet, limits)
    candidates = encoding_candidates(head)
    if candidates[:1] != ["utf-16"] and looks_binary(head):
        raise NotTabular(source.name, "binary content", "二进制内容")
    if not candidates:
        raise UnknownEncoding(source.name, 1, ("utf-8", "gb18030", "big5"))
    text = prepare_text(source, tmp, candidates, limits.max_field_bytes)
    sample, _ = read_sample(text.path, limits.sample_bytes)
    if not sample.strip():
        raise EmptyFile(source.name)
    json_kind = json_format(sample)
    if json_kind is not None:
        return stage_json(con, text, json_kind, limits)
    return stage_delimited(con, text, tmp, source.name, limits)


def _store(con: duckdb.DuckDBPyConnection, staged: Staged, work: Path, name: str) -> ReadReport:
    columns = [f"c{i}" for i in range(len(staged.names))]
    kept = _kept_columns(con, columns, staged.names)
    if not kept:
        raise EmptyFile(name)
    names, renamed, notes = _final_names(staged, kept)
    typings = infer_types(con, [columns[i] for i in kept], names)
    rows, nulls, typings, fallbacks = _write_data(con, [columns[i] for i in kept], names, typings, work)
    if rows >= LOOKUP_MIN_ROWS:
        _write_lookups(con, work / DATA_FILE, names, typings)
    _write_rejects(staged.rejects, work / REJECTS_FILE)
    row = con.execute("SELECT count(*) FROM raw").fetchone()
    loaded = int(row[0]) if row else 0
    stored = tuple(
        Column(names[k], typing.type, staged.source_names[i], nulls[k] > 0, typing.note or notes.get(k))
        for k, (i, typing) in enumerate(zip(kept, typings, strict=True))
    )
    return ReadReport(
        format=staged.format,
        encoding=staged.encoding,
        delimiter=staged.delimiter,
        sheet=staged.sheet,
        header_row=staged.header_row,
        rows=rows,
        rejected=len(staged.rejects),
        blank_rows=staged.blank_rows + loaded - rows,
        dropped_columns=staged.dropped_columns + len(columns) - len(kept),
        columns=stored,
        text_fallbacks=tuple(fallbacks),
        renamed=renamed,
        notes=staged.notes,
    )


def _kept_columns(con: duckdb.DuckDBPyConnection, columns: list[str], names: Sequence[str]) -> list[int]:
    """Indexes of the columns to keep: all but those with neither a header nor a non-blank value."""
    nameless = [i for i, name in enumerate(names) if not name]
    if not nameless:
        return list(range(len(columns)))
    parts = ", ".join(f"count(*) FILTER (WHERE NOT {blank_cell(quote_name(columns[i]))})" for i in nameless)
    row = con.execute(f"SELECT {parts} FROM raw").fetchone() or ()
    empty = {i for i, count in zip(nameless, row, strict=True) if not count}
    return [i for i in range(len(columns)) if i not in empty]


def _final_names(staged: Staged, kept: list[int]) -> tuple[list[str], tuple[Rename, ...], dict[int, str]]:
    """Unique names: header text, or column_N (N its position in the source); repeats get _2, _3…"""
    bases = [staged.names[i] or f"column_{i + 1}" for i in kept]
    notes = {k: "no header text; named by its position" for k, i in enumerate(kept) if not staged.names[i]}
    taken, names, renamed = set(bases), [], []
    seen: set[str] = set()
    for base in bases:
        name, number = base, 2
        while name in seen:
            name, number = f"{base}_{number}", number + 1
            if name in taken:
                name = base
        seen.add(name)
        names.append(name)
        if name != base:
            renamed.append(Rename(base, name))
    return names, tuple(renamed), notes


def _write_data(
    con: duckdb.DuckDBPyConnection, columns: list[str], names: list[str], typings: list[Typing], work: Path
) -> tuple[int, list[int], list[Typing], list[TextFallback]]:
    """Write the Parquet file, then prove each typed column kept every value it was expected to.

    A column that lost values is written again trimming all kinds of space, and if it still
    loses some, as text, reported as a text fallback with the count and an example.
    """
    path = work / DATA_FILE
    fallbacks: list[TextFallback] = []
    while True:
        rows = _copy(con, columns, names, typings, path)
        nulls = _null_counts(con, path, len(columns))
        rewrite = False
        for k, typing in enumerate(typings):
            if typing.type == "string" or rows - nulls[k] >= typing.expected:
                continue
            typing = replace(typing, expected=_expected_values(con, columns[k]))
            if rows - nulls[k] >= typing.expected:  # null tokens wrapped in odd spaces: nothing lost
                typings[k] = typing
            elif typing.trim_all:
                failed = typing.expected - (rows - nulls[k])
                fallbacks.append(TextFallback(names[k], typing.type, failed, _uncastable(con, columns[k], typing)))
                typings[k], rewrite = STRING, True
            else:
                typings[k], rewrite = replace(typing, trim_all=True), True
        if not rewrite:
            return rows, nulls, typings, fallbacks


def _expected_values(con: duckdb.DuckDBPyConnection, column: str) -> int:
    """Non-null cells that are no null token even once every kind of space is trimmed."""
    name = quote_name(column)
    row = con.execute(f"SELECT count({name}) - {null_count(name, padded=True)} FROM raw").fetchone()
    return int(row[0]) if row else 0


def _copy(
    con: duckdb.DuckDBPyConnection, columns: list[str], names: list[str], typings: list[Typing], path: Path
) -> int:
    select = ", ".join(
        f"{cast_expression(column, typing)} AS {quote_name(name)}"
        for column, name, typing in zip(columns, names, typings, strict=True)
    )
    blank_row = " AND ".join(blank_cell(quote_name(column)) for column in columns)
    row = con.execute(
        f"COPY (SELECT {select} FROM raw WHERE NOT ({blank_row})) TO {sql_literal(str(path))} "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
    ).fetchone()
    return int(row[0]) if row else 0


def _write_lookups(con: duckdb.DuckDBPyConnection, path: Path, names: list[str], typings: list[Typing]) -> None:
    """For each text column with too many distinct values for a Parquet dictionary (identifiers,
    codes, names), a copy of its values with their row numbers sorted by value, so an equality
    filter reads one row group of it and then only the row groups of the data that match.
    """
    plain = {
        int(column)
        for column, encodings in con.execute(
            f"SELECT column_id, encodings FROM parquet_metadata({sql_literal(str(path))})"
        ).fetchall()
        if "DICTIONARY" not in str(encodings)
    }
    for k, (name, typing) in enumerate(zip(names, typings, strict=True)):
        if typing.type != "string" or k not in plain:
            continue
        out = lookup_file(path, k)
        out.parent.mkdir(exist_ok=True)
        con.execute(
            f"COPY (SELECT {quote_name(name)} AS v, file_row_number AS i "
            f"FROM read_parquet({sql_literal(str(path))}, file_row_number = true) "
            f"WHERE {quote_name(name)} IS NOT NULL ORDER BY v, i) TO {sql_literal(str(out))} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
        )


def _null_counts(con: duckdb.DuckDBPyConnection, path: Path, width: int) -> list[int]:
    rows = con.execute(
        f"SELECT column_id, sum(stats_null_count) FROM parquet_metadata({sql_literal(str(path))}) GROUP BY column_id"
    ).fetchall()
    counts = {int(column): int(nulls or 0) for column, nulls in rows}
    return [counts.get(k, 0) for k in range(width)]


def _uncastable(con: duckdb.DuckDBPyConnection, column: str, typing: Typing) -> str:
    name = quote_name(column)
    tokens = ", ".join(map(sql_literal, NULL_TOKENS))
    row = con.execute(
        f"SELECT {name} FROM raw WHERE {cast_expression(column, typing)} IS NULL "
        f"AND NOT {blank_cell(name)} AND trim({name}) NOT IN ({tokens}) LIMIT 1"
    ).fetchone()
    return str(row[0]) if row else ""


def _write_rejects(rejects: Sequence[Reject], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["line", "reason", "raw"])
        writer.writerows((reject.line, reject.reason, reject.raw) for reject in rejects)
