"""Read one uploaded file into typed Parquet: `read_to_parquet`; index it later: `write_lookups`.

The steps: refuse what is not a readable file; recognise the format by content; describe the
rows as text columns in DuckDB (per format: `delimited` streams the file itself, `workbook` and
`jsonfile` load table `raw`); drop columns with neither a name nor a value; name the rest
uniquely; type them (`infer`); write `data.parquet` without blank rows, proving that every typed
value survived its cast; write `rejects.csv`. All of it happens in a hidden directory beside
`out_dir` that is renamed to `out_dir` at the end, so a failure leaves nothing behind.

Typing and writing take one pass over a delimited file in the usual case: the first rows
propose the types and columns, and the copy raises if any row contradicts them (a value that
does not cast, a code of another width, a value in a column taken for empty). Only then is the
file typed over all its rows and written again, the way every file used to be.

The lookup files that speed up equality filters are not part of reading: `write_lookups` builds
them for a stored version, after it is live (a version without them answers the same, slower).
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from digigov.datastore.delimited import read_sample, stage_delimited
from digigov.datastore.errors import EmptyFile, NotTabular, SourceMissing, UnknownEncoding
from digigov.datastore.infer import (
    NULL_TOKENS,
    SAMPLE_ROWS,
    STRING,
    Typing,
    blank_cell,
    cast_expression,
    checked_expression,
    infer_types,
    null_count,
    number_cast,
)
from digigov.datastore.jsonfile import stage_json
from digigov.datastore.keyed import write_keyed
from digigov.datastore.query import lookup_file
from digigov.datastore.report import Column, ReadLimits, ReadReport, Rename, TextFallback
from digigov.datastore.sniff import encoding_candidates, json_format, looks_binary, sniff_format
from digigov.datastore.staging import RAW, Reject, Staged, connect, forget_rejects, quote_name, sql_literal
from digigov.datastore.textfile import prepare_text
from digigov.datastore.workbook import stage_workbook

DATA_FILE = "data.parquet"
REJECTS_FILE = "rejects.csv"
ROW_GROUP_ROWS = 32_768  # small enough that reading one row for a lookup decodes little
ZSTD_LEVEL = 1  # against the default 3: about a tenth less CPU for the whole read, files about 6 % larger
LOOKUP_MIN_ROWS = 100_000  # below this a filtered scan is already quick
SPARSE_ROWS = 100_000  # rows searched for values of a column empty in the first SAMPLE_ROWS
_CONTRADICTED = "digigov: the file contradicts its sample"  # raised by the checked copy


def read_to_parquet(
    source: Path, out_dir: Path, *, sheet: str | None = None, limits: ReadLimits = ReadLimits()
) -> ReadReport:
    """Read `source` into `out_dir`/data.parquet and rejects.csv; raise a ReadError and leave nothing if refused."""
    _check_source(source)
    with _output(out_dir) as work, closing(connect(work / "tmp" / "duckdb", limits)) as con:
        staged, stored = _stage(con, source, work, sheet, limits)
        return _report(con, staged, stored, work)


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


def _stage(
    con: duckdb.DuckDBPyConnection, source: Path, work: Path, sheet: str | None, limits: ReadLimits
) -> tuple[Staged, Stored]:
    tmp = work / "tmp"

    def store(staged: Staged) -> Stored:
        return _store(con, staged, work, source.name)

    with source.open("rb") as file:
        head = file.read(limits.sample_bytes)
    fmt = sniff_format(source, head)
    if fmt is not None:
        staged = stage_workbook(con, source, tmp, fmt, sheet, limits)
        return staged, store(staged)
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
        staged = stage_json(con, text, json_kind, limits)
        return staged, store(staged)
    return stage_delimited(con, text, tmp, source.name, limits, store)


@dataclass(frozen=True)
class Stored:
    """What writing the data file produced: its columns, their types and null counts, and what fell back to text."""

    rows: int
    kept: list[int]
    names: list[str]
    renamed: tuple[Rename, ...]
    notes: dict[int, str]
    typings: list[Typing]
    nulls: list[int]
    fallbacks: list[TextFallback]


def _store(con: duckdb.DuckDBPyConnection, staged: Staged, work: Path, name: str) -> Stored:
    """Write data.parquet from `staged.relation`: typed from a sample and checked in the copy, else over all rows."""
    columns = [f"c{i}" for i in range(len(staged.names))]
    sample = _sample(con, staged, columns)
    kept = _kept_columns(con, columns, staged.names, sample)
    if not kept:
        raise EmptyFile(name)
    names, renamed, notes = _final_names(staged, kept)
    typings = infer_types(con, [columns[i] for i in kept], names, sample)
    try:
        rows = _checked_copy(con, staged, columns, kept, names, typings, work / DATA_FILE)
    except duckdb.InvalidInputException as error:
        if _CONTRADICTED not in str(error):
            raise
        return _store_exactly(con, staged, work, name)
    nulls = _null_counts(con, work / DATA_FILE, len(kept))
    typings = _prove_day_first(con, work / DATA_FILE, names, typings)
    return Stored(rows, kept, names, renamed, notes, typings, nulls, [])


def _store_exactly(con: duckdb.DuckDBPyConnection, staged: Staged, work: Path, name: str) -> Stored:
    """Columns kept and typed over every row of the file, the data file written and proven after.

    The first copy reads `staged.relation` again, so that it records the rejects afresh.
    """
    forget_rejects(con)
    columns = [f"c{i}" for i in range(len(staged.names))]
    kept = _kept_columns(con, columns, staged.names, staged.rescan)
    if not kept:
        raise EmptyFile(name)
    names, renamed, notes = _final_names(staged, kept)
    typings = infer_types(con, [columns[i] for i in kept], names, staged.rescan)
    rows, nulls, typings, fallbacks = _write_data(con, staged, [columns[i] for i in kept], names, typings, work)
    return Stored(rows, kept, names, renamed, notes, typings, nulls, fallbacks)


def _sample(con: duckdb.DuckDBPyConnection, staged: Staged, columns: list[str]) -> str:
    """Table `sample`: the first rows, plus the first values further down of columns empty in them."""
    con.execute("DROP TABLE IF EXISTS sample")
    con.execute(f"CREATE TEMP TABLE sample AS SELECT * FROM {staged.rescan} LIMIT {SAMPLE_ROWS}")
    counts = con.execute(f"SELECT {', '.join(f'count({quote_name(c)})' for c in columns)} FROM sample").fetchone()
    empty = [c for c, count in zip(columns, counts or (), strict=True) if not count]
    if empty:
        head = f"(SELECT {', '.join(map(quote_name, empty))} FROM {staged.rescan} LIMIT {SPARSE_ROWS})"
        for source in (head, staged.rescan):
            any_value = " OR ".join(f"{quote_name(c)} IS NOT NULL" for c in empty)
            found = f"SELECT {', '.join(map(quote_name, empty))} FROM {source} WHERE {any_value} LIMIT {SAMPLE_ROWS}"
            con.execute(f"INSERT INTO sample BY NAME ({found})")
            counts = con.execute(f"SELECT {', '.join(f'count({quote_name(c)})' for c in empty)} FROM sample").fetchone()
            empty = [c for c, count in zip(empty, counts or (), strict=True) if not count]
            if not empty:
                break
    return "sample"


def _checked_copy(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    columns: list[str],
    kept: list[int],
    names: list[str],
    typings: list[Typing],
    path: Path,
) -> int:
    """One pass: the copy with every cast checked; raises `_CONTRADICTED` where a row disagrees with the sample."""
    # each number column's cast is computed once, in the inner query, and read twice or thrice outside it
    numbers = {i: number_cast(columns[i], typing) for i, typing in zip(kept, typings, strict=True)}
    inner = ", ".join(f"{cast} AS {quote_name(f'__number_{i}')}" for i, cast in numbers.items() if cast)
    select = ", ".join(
        f"{checked_expression(columns[i], typing, _CONTRADICTED, quote_name(f'__number_{i}') if numbers[i] else None)}"
        f" AS {quote_name(name)}"
        for i, name, typing in zip(kept, names, typings, strict=True)
    )
    keep = " AND ".join(blank_cell(quote_name(columns[i])) for i in kept)
    dropped = [i for i in range(len(columns)) if i not in kept]
    where = f"NOT ({keep})"
    if dropped:  # a column taken for empty that has a value after all: not a CASE the optimiser may reorder
        has_value = " OR ".join(f"NOT {blank_cell(quote_name(columns[i]))}" for i in dropped)
        where = f"CASE WHEN {has_value} THEN error({sql_literal(_CONTRADICTED)}) ELSE {where} END"
    rows = f"SELECT *{', ' + inner if inner else ''} FROM {staged.relation} WHERE {where}"
    return _copy_select(con, f"SELECT {select} FROM ({rows})", path)


def _copy_select(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    options = f"FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL {ZSTD_LEVEL}, ROW_GROUP_SIZE {ROW_GROUP_ROWS}"
    row = con.execute(f"COPY ({query}) TO {sql_literal(str(path))} ({options})").fetchone()
    return int(row[0]) if row else 0


def _prove_day_first(
    con: duckdb.DuckDBPyConnection, path: Path, names: list[str], typings: list[Typing]
) -> list[Typing]:
    """The sample saw no part above 12; if some stored day is above 12, the note saying so is dropped."""
    unproven = [k for k, typing in enumerate(typings) if typing.day_first_unproven]
    if not unproven:
        return typings
    parts = ", ".join(f"count_if(day({quote_name(names[k])}) > 12)" for k in unproven)
    row = con.execute(f"SELECT {parts} FROM read_parquet({sql_literal(str(path))})").fetchone() or ()
    typings = list(typings)
    for k, days in zip(unproven, row, strict=True):
        if days:
            typings[k] = replace(typings[k], note=None, day_first_unproven=False)
    return typings


def _report(con: duckdb.DuckDBPyConnection, staged: Staged, stored: Stored, work: Path) -> ReadReport:
    _write_rejects(staged.rejects, work / REJECTS_FILE)
    blank_rows = staged.blank_rows
    if staged.relation == RAW:  # a loaded table: its blank rows are those the copy left out
        row = con.execute("SELECT count(*) FROM raw").fetchone()
        blank_rows += (int(row[0]) if row else 0) - stored.rows
    columns = tuple(
        Column(
            stored.names[k],
            typing.type,
            staged.source_names[i],
            stored.nulls[k] > 0,
            typing.note or stored.notes.get(k),
        )
        for k, (i, typing) in enumerate(zip(stored.kept, stored.typings, strict=True))
    )
    return ReadReport(
        format=staged.format,
        encoding=staged.encoding,
        delimiter=staged.delimiter,
        sheet=staged.sheet,
        header_row=staged.header_row,
        rows=stored.rows,
        rejected=len(staged.rejects),
        blank_rows=blank_rows,
        dropped_columns=staged.dropped_columns + len(staged.names) - len(stored.kept),
        columns=columns,
        text_fallbacks=tuple(stored.fallbacks),
        renamed=stored.renamed,
        notes=staged.notes,
    )


def _kept_columns(con: duckdb.DuckDBPyConnection, columns: list[str], names: Sequence[str], relation: str) -> list[int]:
    """Indexes of the columns to keep: all but those with neither a header nor a non-blank value."""
    nameless = [i for i, name in enumerate(names) if not name]
    if not nameless:
        return list(range(len(columns)))
    parts = ", ".join(f"count(*) FILTER (WHERE NOT {blank_cell(quote_name(columns[i]))})" for i in nameless)
    row = con.execute(f"SELECT {parts} FROM {relation}").fetchone() or ()
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
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    columns: list[str],
    names: list[str],
    typings: list[Typing],
    work: Path,
) -> tuple[int, list[int], list[Typing], list[TextFallback]]:
    """Write the Parquet file, then prove each typed column kept every value it was expected to.

    A column that lost values is written again trimming all kinds of space, and if it still
    loses some, as text, reported as a text fallback with the count and an example.
    """
    path, relation = work / DATA_FILE, staged.rescan
    fallbacks: list[TextFallback] = []
    scan = staged.relation
    while True:
        rows, scan = _copy(con, scan, columns, names, typings, path), relation
        nulls = _null_counts(con, path, len(columns))
        rewrite = False
        for k, typing in enumerate(typings):
            if typing.type == "string" or rows - nulls[k] >= typing.expected:
                continue
            typing = replace(typing, expected=_expected_values(con, relation, columns[k]))
            if rows - nulls[k] >= typing.expected:  # null tokens wrapped in odd spaces: nothing lost
                typings[k] = typing
            elif typing.trim_all:
                failed = typing.expected - (rows - nulls[k])
                example = _uncastable(con, relation, columns[k], typing)
                fallbacks.append(TextFallback(names[k], typing.type, failed, example))
                typings[k], rewrite = STRING, True
            else:
                typings[k], rewrite = replace(typing, trim_all=True), True
        if not rewrite:
            return rows, nulls, typings, fallbacks


def _expected_values(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> int:
    """Non-null cells that are no null token even once every kind of space is trimmed."""
    name = quote_name(column)
    row = con.execute(f"SELECT count({name}) - {null_count(name, padded=True)} FROM {relation}").fetchone()
    return int(row[0]) if row else 0


def _copy(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: list[str],
    names: list[str],
    typings: list[Typing],
    path: Path,
) -> int:
    select = ", ".join(
        f"{cast_expression(column, typing)} AS {quote_name(name)}"
        for column, name, typing in zip(columns, names, typings, strict=True)
    )
    blank_row = " AND ".join(blank_cell(quote_name(column)) for column in columns)
    return _copy_select(con, f"SELECT {select} FROM {relation} WHERE NOT ({blank_row})", path)


def _null_counts(con: duckdb.DuckDBPyConnection, path: Path, width: int) -> list[int]:
    rows = con.execute(
        f"SELECT column_id, sum(stats_null_count) FROM parquet_metadata({sql_literal(str(path))}) GROUP BY column_id"
    ).fetchall()
    counts = {int(column): int(nulls or 0) for column, nulls in rows}
    return [counts.get(k, 0) for k in range(width)]


def _uncastable(con: duckdb.DuckDBPyConnection, relation: str, column: str, typing: Typing) -> str:
    name = quote_name(column)
    tokens = ", ".join(map(sql_literal, NULL_TOKENS))
    row = con.execute(
        f"SELECT {name} FROM {relation} WHERE {cast_expression(column, typing)} IS NULL "
        f"AND NOT {blank_cell(name)} AND trim({name}) NOT IN ({tokens}) LIMIT 1"
    ).fetchone()
    return str(row[0]) if row else ""


def _write_rejects(rejects: Sequence[Reject], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["line", "reason", "raw"])
        writer.writerows((reject.line, reject.reason, reject.raw) for reject in rejects)


def write_lookups(folder: Path, limits: ReadLimits = ReadLimits()) -> list[Path]:
    """Build the lookup files a stored version lacks; return those written.

    For each text column with too many distinct values for a Parquet dictionary (identifiers,
    codes, names), a copy of its values with their row numbers sorted by value, so an equality
    filter reads one row group of it and then only the row groups of the data that match. Each
    file is written under a hidden name and renamed into place, so a reader sees a whole lookup
    or none; a version without them answers the same queries by scanning. Then the keyed files
    for point reads by those columns (`keyed.write_keyed`). Safe to run again.
    """
    path = folder / DATA_FILE
    written: list[Path] = []
    spill = Path(tempfile.mkdtemp(prefix=".lookups.", dir=folder))
    try:
        with closing(connect(spill, limits)) as con:
            columns = _lookup_columns(con, path)
            for k, name in columns:
                out = lookup_file(path, k)
                if out.is_file():
                    continue
                out.parent.mkdir(exist_ok=True)
                partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
                _copy_select(
                    con,
                    f"SELECT {quote_name(name)} AS v, file_row_number AS i "
                    f"FROM read_parquet({sql_literal(str(path))}, file_row_number = true) "
                    f"WHERE {quote_name(name)} IS NOT NULL ORDER BY v, i",
                    partial,
                )
                partial.replace(out)
                written.append(out)
            written += write_keyed(con, path, {k: lookup_file(path, k) for k, _ in columns})
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    return written


def _lookup_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[int, str]]:
    """Positions and names of the text columns worth a lookup; none for a small file."""
    source = sql_literal(str(path))
    row = con.execute(f"SELECT sum(num_rows) FROM parquet_file_metadata({source})").fetchone()
    if not row or int(row[0] or 0) < LOOKUP_MIN_ROWS:
        return []
    plain = {
        int(column)
        for column, encodings in con.execute(f"SELECT column_id, encodings FROM parquet_metadata({source})").fetchall()
        if "DICTIONARY" not in str(encodings)
    }
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({source})").fetchall()
    return [(k, str(name)) for k, (name, kind, *_) in enumerate(described) if kind == "VARCHAR" and k in plain]
