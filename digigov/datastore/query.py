"""Structured queries over a version's Parquet file in DuckDB: fields, filters, text search, sort, pages.

Callers never send SQL: field names are checked against the version's columns and quoted, and
values are bound as parameters (CKAN's own SQL search endpoint had two injection CVEs).

Two shortcuts keep filtered reads of big versions quick, both exact and both leaning on versions
being immutable: an equality filter on a column with a lookup file finds its row numbers there
(`_lookup`), so DuckDB reads only the row groups holding them; and the total of a lone equality
filter on a low-cardinality text column comes from the column's value counts (`_value_counts`),
counted once per process.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from digigov.core import engine
from digigov.core.errors import Invalid

OPERATORS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
MAX_LIMIT = 32_000


@dataclass(frozen=True)
class RowQuery:
    """What to read from a version; `after` is the keyset cursor (the last `_id` seen)."""

    fields: list[str] | None = None
    filters: dict[str, Any] | None = None
    q: str | None = None
    sort: list[tuple[str, bool]] | None = None  # (field, descending)
    limit: int = 100
    offset: int = 0
    after: int | None = None
    include_total: bool = True


@dataclass(frozen=True)
class RowPage:
    """One page of rows, with `_id` first, the total if asked, and the cursor for the next page."""

    fields: list[dict[str, str]]
    records: list[dict[str, Any]]
    total: int | None
    next_after: int | None


def quote(name: str) -> str:
    """A DuckDB identifier for a column name, whatever it contains.

    >>> quote('a"b')
    '"a""b"'
    """
    return '"' + name.replace('"', '""') + '"'


LOOKUP_DIR = "lookup"  # per version: lookup/<column position>.parquet, (v, i) sorted by value
SOURCE = "read_parquet(?, file_row_number = true)"
ROW_ID = "(file_row_number + 1)"


def lookup_file(parquet: Path, position: int) -> Path:
    """Where the sorted value → row lookup for a version's column at `position` lives, if it has one."""
    return parquet.parent / LOOKUP_DIR / f"{position}.parquet"


def read_rows(parquet: Path, columns: list[dict[str, str]], query: RowQuery, *, rows: int) -> RowPage:
    """Run a structured query; an unknown field, operator or bad value is an `Invalid` error.

    Rows come back in `_id` order unless `sort` says otherwise; without a sort and without a
    lookup no ORDER BY is sent (a filtered scan keeps file order), so DuckDB streams the scan and
    stops once the page is full. An `eq` filter on a column with a lookup file first finds the
    matching row numbers there, which lets the scan skip every row group that holds none of them.
    A page of up to `FETCH_MAX_ROWS` rows is read in two steps: DuckDB picks the page's row
    numbers reading only the columns the filters and sort name, then `_fetch` reads the fields
    from just the row groups that hold those rows.
    """
    known = {c["name"]: c["type"] for c in columns}
    positions = {c["name"]: k for k, c in enumerate(columns)}
    chosen = query.fields or list(known)
    for name in [*chosen, *(query.filters or {}), *(f for f, _ in query.sort or [])]:
        if name not in known and name != "_id":
            raise Invalid(f"Unknown field '{name}'.", f"没有数据项“{name}”。")
    if not 0 <= query.limit <= MAX_LIMIT:
        raise Invalid(f"limit must be 0 to {MAX_LIMIT}.", f"limit 须在 0 到 {MAX_LIMIT} 之间。")
    lookups = {
        name: path
        for name, k in positions.items()
        if name in (query.filters or {}) and (path := lookup_file(parquet, k)).is_file()
    }
    row_numbers = _row_numbers(query, lookups)
    exact = row_numbers if row_numbers is not None and _answered_by_lookups(query, lookups) else None
    inlined = row_numbers if row_numbers is not None and len(row_numbers) <= INLINE_MAX_ROWS else None
    where, params = _where(query, known, lookups, inlined)
    tail = _tail(query, where, bool(lookups))
    with engine.cursor() as con:
        try:
            picked = _sliced(exact, query) if exact is not None else None
            records = _page(con, parquet, chosen, (tail, params), query.limit, picked)
            total = None
            if query.include_total:
                total = (
                    len(exact) if exact is not None else _total(con, where, params, parquet, rows, query, len(records))
                )
        except (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException) as error:
            raise Invalid(f"A filter value does not fit its field: {error}", "筛选值与数据项类型不符。") from None
    fields = [{"id": "_id", "type": "integer"}] + [{"id": f, "type": known[f]} for f in chosen if f != "_id"]
    next_after = records[-1]["_id"] if records and len(records) == query.limit else None
    return RowPage(fields, records, total, next_after)


def _tail(query: RowQuery, where: list[str], lookups: bool) -> str:
    """WHERE, ORDER BY, LIMIT and OFFSET of a page."""
    keyset = query.after is not None and not query.sort
    paged_where = where + ([f"file_row_number >= {int(query.after)}"] if keyset and query.after is not None else [])
    sql = _clause(paged_where)
    if query.sort:
        sql += " ORDER BY " + ", ".join(f"{_column(f)} {'DESC' if d else 'ASC'}" for f, d in query.sort)
        sql += ", file_row_number"
    elif lookups or _has_lists(query):
        # a join does not keep scan order, and DuckDB 2 answers a long IN list with a join too
        # (seen returning rows out of order); a top-N over the matches keeps `_id` order
        sql += " ORDER BY file_row_number"
    sql += f" LIMIT {query.limit}"
    if not keyset and query.offset:  # even OFFSET 0 turns a streaming LIMIT into a join in DuckDB 2
        sql += f" OFFSET {int(query.offset)}"
    return sql


def _has_lists(query: RowQuery) -> bool:
    """True if a filter names a list of values."""
    for wanted in (query.filters or {}).values():
        if isinstance(wanted, list) or (isinstance(wanted, dict) and isinstance(wanted.get("eq"), list)):
            return True
    return False


def _page(
    con: duckdb.DuckDBPyConnection,
    parquet: Path,
    chosen: list[str],
    sql: tuple[str, list[Any]],
    limit: int,
    picked: list[int] | None,
) -> list[dict[str, Any]]:
    """The page's records, `_id` first, then the chosen fields in their order.

    `sql` is the page's tail (WHERE … OFFSET) and its parameters; `picked`, the page's row
    numbers when the lookups already know them.
    """
    tail, params = sql
    select = ", ".join([f"{ROW_ID} AS _id", *(quote(f) for f in chosen if f != "_id")])
    if picked is None and limit <= FETCH_MAX_ROWS:
        found = con.execute(f"SELECT file_row_number FROM {SOURCE}{tail}", [str(parquet), *params]).fetchall()
        picked = [int(row) for (row,) in found]
    if picked is None:
        return _records(con.execute(f"SELECT {select} FROM {SOURCE}{tail}", [str(parquet), *params]))
    records = _fetch(parquet, picked, [f for f in chosen if f != "_id"])
    if records is None:  # spread over many row groups: let DuckDB read them in parallel
        inlined = f" WHERE file_row_number IN ({', '.join(map(str, picked))})" if picked else " WHERE false"
        by_id = {r["_id"]: r for r in _records(con.execute(f"SELECT {select} FROM {SOURCE}{inlined}", [str(parquet)]))}
        records = [by_id[row + 1] for row in picked]
    return records


def _records(result: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _column(name: str) -> str:
    return ROW_ID if name == "_id" else quote(name)


def _where(
    query: RowQuery, known: dict[str, str], lookups: dict[str, Path], row_numbers: list[int] | None
) -> tuple[list[str], list[Any]]:
    """WHERE clauses and their parameters; `row_numbers`, when known, holds every row that can match."""
    clauses: list[str] = []
    params: list[Any] = []
    if row_numbers is not None:  # our own integers, inlined so DuckDB prunes row groups by them
        clauses.append(f"file_row_number IN ({', '.join(map(str, row_numbers))})" if row_numbers else "false")
    for name, wanted in (query.filters or {}).items():
        tests = wanted if isinstance(wanted, dict) else {"eq": wanted}
        for op, value in tests.items():
            if op not in OPERATORS:
                raise Invalid(f"Unknown operator '{op}'; use {', '.join(OPERATORS)}.", f"未知运算符“{op}”。")
            values = value if isinstance(value, list) and op == "eq" else [value]
            marks = ", ".join("?" for _ in values)
            if op == "eq" and name in lookups and row_numbers is None:
                clauses.append(f"file_row_number IN (SELECT i FROM read_parquet(?) WHERE v IN ({marks}))")
                params.extend([str(lookups[name]), *values])
            if op == "eq" and len(values) > 1:
                clauses.append(f"{_column(name)} IN ({marks})")
            else:
                clauses.append(f"{_column(name)} {OPERATORS[op]} ?")
            params.extend(values)
    if query.q:
        texts = [quote(n) for n, t in known.items() if t == "string"]
        if texts:
            clauses.append("(" + " OR ".join(f"contains({c}, ?)" for c in texts) + ")")
            params.extend([query.q] * len(texts))
        else:
            clauses.append("false")
    return clauses, params


def _clause(where: list[str]) -> str:
    return f" WHERE {' AND '.join(where)}" if where else ""


def _total(
    con: duckdb.DuckDBPyConnection,
    where: list[str],
    params: list[Any],
    parquet: Path,
    rows: int,
    query: RowQuery,
    returned: int,
) -> int:
    if not where:
        return rows  # exact, from the version's metadata
    if query.after is None and query.offset == 0 and returned < query.limit:
        return returned  # the first page held every match
    counted = _counted_total(parquet, query)
    if counted is not None:
        return counted
    found = con.execute(f"SELECT count(*) FROM {SOURCE}{_clause(where)}", [str(parquet), *params]).fetchone()
    return int(found[0]) if found else 0


# Row numbers from lookup files. A lookup file is sorted by value, so the Parquet statistics of
# its row groups (bounds: DuckDB truncates long strings to a lower min and a raised max) say which
# one or two groups can hold a value; pyarrow reads just those, with the footer parsed once.

LOOKUP_MAX_GROUPS = 4  # per value: one spread over more lookup row groups is left to DuckDB
INLINE_MAX_ROWS = 1_000  # more row numbers than this are not sent to DuckDB as a list
CACHE_SIZE = 256


class _Cache:
    """A small thread-safe LRU keyed by file identity (path, size, mtime): versions never change."""

    def __init__(self, size: int) -> None:
        self.size, self.items, self.lock = size, OrderedDict[tuple[Any, ...], Any](), threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


@dataclass(frozen=True)
class _LookupIndex:
    metadata: pq.FileMetaData
    bounds: list[tuple[bytes, bytes] | None]  # per row group: (min, max) of `v`, None without statistics


_lookup_indexes = _Cache(CACHE_SIZE)


def _file_key(path: Path, *extra: Any) -> tuple[Any, ...]:
    stat = path.stat()
    return (str(path), stat.st_size, stat.st_mtime_ns, *extra)


def _lookup_index(path: Path) -> _LookupIndex:
    key = _file_key(path)
    found: _LookupIndex | None = _lookup_indexes.get(key)
    if found is None:
        metadata = pq.read_metadata(path)
        column = metadata.schema.names.index("v")
        bounds: list[tuple[bytes, bytes] | None] = []
        for g in range(metadata.num_row_groups):
            stats = metadata.row_group(g).column(column).statistics
            bounds.append((stats.min_raw, stats.max_raw) if stats is not None and stats.has_min_max else None)
        found = _LookupIndex(metadata, bounds)
        _lookup_indexes.put(key, found)
    return found


def _lookup(path: Path, values: list[str]) -> set[int] | None:
    """Row numbers holding any of `values` by the lookup file at `path`; None when they fill too many groups."""
    index = _lookup_index(path)
    wanted = [v.encode() for v in values]
    groups = [
        g for g, bound in enumerate(index.bounds) if bound is None or any(bound[0] <= v <= bound[1] for v in wanted)
    ]
    if len(groups) > LOOKUP_MAX_GROUPS * len(values):
        return None
    if not groups:
        return set()
    with pq.ParquetFile(path, metadata=index.metadata) as file:
        table = file.read_row_groups(groups, columns=["v", "i"], use_threads=True)
    found = table.filter(pc.is_in(table.column("v"), value_set=pa.array(values, table.schema.field("v").type)))
    return {int(i) for i in found.column("i").to_pylist()}


def _text_values(wanted: Any) -> list[str] | None:
    """The values of a filter that only tests text equality (`v`, `[v, …]` or `{"eq": …}`), else None.

    >>> _text_values("a"), _text_values({"eq": ["a", "b"]}), _text_values(3), _text_values({"lt": "a"})
    (['a'], ['a', 'b'], None, None)
    """
    if isinstance(wanted, dict):
        wanted = wanted.get("eq") if list(wanted) == ["eq"] else None
    values = wanted if isinstance(wanted, list) else [wanted]
    return values if values and all(isinstance(v, str) for v in values) else None


def _row_numbers(query: RowQuery, lookups: dict[str, Path]) -> list[int] | None:
    """Every row that can match the query's text equality filters on lookup columns, sorted; None if unknown.

    A number or null is left to DuckDB, which compares it the way it casts it.
    """
    rows: set[int] | None = None
    for name, path in lookups.items():
        values = _text_values((query.filters or {})[name])
        if values is None:
            continue
        found = _lookup(path, values)
        if found is None:
            return None
        rows = found if rows is None else rows & found
    return sorted(rows) if rows is not None else None


def _answered_by_lookups(query: RowQuery, lookups: dict[str, Path]) -> bool:
    """True when the lookups' rows are exactly the matches, in order: text equality filters on lookup columns only."""
    filters = query.filters or {}
    return (
        not query.q
        and not query.sort
        and all(name in lookups and _text_values(wanted) is not None for name, wanted in filters.items())
    )


def _sliced(rows: list[int], query: RowQuery) -> list[int]:
    """The page of `rows` (sorted row numbers) that the query's keyset cursor or offset and limit pick."""
    if query.after is not None:
        return [row for row in rows if row >= query.after][: query.limit]
    return rows[query.offset : query.offset + query.limit]


# Totals of a lone equality filter on a text column: one GROUP BY over the column, kept per file.

COUNTED_MIN_ROWS = 100_000  # below this a count is quick anyway
COUNTED_MAX_VALUES = 10_000  # more distinct values than this and the column is not counted
_value_count_cache = _Cache(CACHE_SIZE // 8)


def _counted_total(parquet: Path, query: RowQuery) -> int | None:
    """The exact total from the column's value counts, when the query is one text equality filter."""
    if query.q or len(query.filters or {}) != 1:
        return None
    [(name, wanted)] = (query.filters or {}).items()
    values = _text_values(wanted)
    if values is None:
        return None
    counts = _value_counts(parquet, name)
    return None if counts is None else sum(counts.get(v, 0) for v in set(values))


def _value_counts(parquet: Path, name: str) -> dict[str, int] | None:
    """How often each value of a dictionary-encoded text column occurs; None for other columns."""
    key = _file_key(parquet, name)
    found: dict[str, int] | None = _value_count_cache.get(key)
    if found is None:
        found = _count_values(parquet, name) or {}  # {}: remembered as not counted
        _value_count_cache.put(key, found)
    return found or None


def _count_values(parquet: Path, name: str) -> dict[str, int] | None:
    metadata = pq.read_metadata(parquet)
    if metadata.num_rows < COUNTED_MIN_ROWS or name not in metadata.schema.names:
        return None
    column = metadata.schema.names.index(name)
    for g in range(metadata.num_row_groups):
        chunk = metadata.row_group(g).column(column)
        if chunk.physical_type != "BYTE_ARRAY" or not chunk.has_dictionary_page:
            return None  # not text, or too varied for a Parquet dictionary (an identifier)
    with engine.cursor() as con:
        counted = con.execute(
            f"SELECT {quote(name)}, count(*) FROM read_parquet(?) WHERE {quote(name)} IS NOT NULL "
            f"GROUP BY ALL LIMIT {COUNTED_MAX_VALUES + 1}",
            [str(parquet)],
        ).fetchall()
    if len(counted) > COUNTED_MAX_VALUES or not all(isinstance(v, str) for v, _ in counted):
        return None
    return {v: int(n) for v, n in counted}


# Fields of a page's rows, read with pyarrow from only the row groups that hold them. Decoding a
# row group is most of a point read; pyarrow decodes its columns in parallel and needs no plan.

FETCH_MAX_ROWS = 1000  # larger pages are read in one DuckDB query
FETCH_MAX_GROUPS = 4  # rows spread over more row groups are read by DuckDB, in parallel


@dataclass(frozen=True)
class _Layout:
    metadata: pq.FileMetaData
    starts: list[int]  # the first row number of each row group, then the row count


_layouts = _Cache(CACHE_SIZE)


def _layout(parquet: Path) -> _Layout:
    key = _file_key(parquet)
    found: _Layout | None = _layouts.get(key)
    if found is None:
        metadata = pq.read_metadata(parquet)
        starts = [0]
        for g in range(metadata.num_row_groups):
            starts.append(starts[-1] + metadata.row_group(g).num_rows)
        found = _Layout(metadata, starts)
        _layouts.put(key, found)
    return found


def _fetch(parquet: Path, rows: list[int], names: list[str]) -> list[dict[str, Any]] | None:
    """Records of `rows` (file row numbers) in the given order; None if they span too many row groups."""
    layout = _layout(parquet)
    groups: dict[int, list[int]] = {}
    for row in rows:
        groups.setdefault(bisect.bisect_right(layout.starts, row) - 1, []).append(row)
    if len(groups) > FETCH_MAX_GROUPS:
        return None
    if not names:  # only `_id`: nothing to read
        return [{"_id": row + 1} for row in rows]
    fetched: dict[int, dict[str, Any]] = {}
    with pq.ParquetFile(parquet, metadata=layout.metadata) as file:
        for group, wanted in groups.items():
            table = file.read_row_group(group, columns=names, use_threads=True)
            taken = table.take([row - layout.starts[group] for row in wanted]).to_pylist()
            fetched.update(zip(wanted, taken, strict=True))
    return [{"_id": row + 1, **fetched[row]} for row in rows]
