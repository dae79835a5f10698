"""Structured queries over a version's Parquet file in DuckDB: fields, filters, text search, sort, pages.

Callers never send SQL: field names are checked against the version's columns and quoted, and
values are bound as parameters (CKAN's own SQL search endpoint had two injection CVEs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

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
    stops once the page is full. An `eq` filter on a
    column with a lookup file first finds the matching row numbers there, which lets the scan
    skip every row group that holds none of them.
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
    where, params = _where(query, known, lookups)
    keyset = query.after is not None and not query.sort
    paged_where = where + ([f"file_row_number >= {int(query.after)}"] if keyset and query.after is not None else [])
    select = ", ".join([f"{ROW_ID} AS _id", *(quote(f) for f in chosen if f != "_id")])
    sql = f"SELECT {select} FROM {SOURCE}{_clause(paged_where)}"
    if query.sort:
        sql += " ORDER BY " + ", ".join(f"{_column(f)} {'DESC' if d else 'ASC'}" for f, d in query.sort)
        sql += ", file_row_number"
    elif lookups:
        sql += " ORDER BY file_row_number"  # a join does not keep scan order; its matches are few to sort
    sql += f" LIMIT {query.limit}"
    if not keyset:
        sql += f" OFFSET {int(query.offset)}"
    with engine.cursor() as con:
        try:
            result = con.execute(sql, [str(parquet), *params])
            names = [d[0] for d in result.description]
            records = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
            total = None
            if query.include_total:
                total = _total(con, where, params, parquet, rows, query, len(records))
        except (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException) as error:
            raise Invalid(f"A filter value does not fit its field: {error}", "筛选值与数据项类型不符。") from None
    fields = [{"id": "_id", "type": "integer"}] + [{"id": f, "type": known[f]} for f in chosen if f != "_id"]
    next_after = records[-1]["_id"] if records and len(records) == query.limit else None
    return RowPage(fields, records, total, next_after)


def _column(name: str) -> str:
    return ROW_ID if name == "_id" else quote(name)


def _where(query: RowQuery, known: dict[str, str], lookups: dict[str, Path]) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for name, wanted in (query.filters or {}).items():
        tests = wanted if isinstance(wanted, dict) else {"eq": wanted}
        for op, value in tests.items():
            if op not in OPERATORS:
                raise Invalid(f"Unknown operator '{op}'; use {', '.join(OPERATORS)}.", f"未知运算符“{op}”。")
            values = value if isinstance(value, list) and op == "eq" else [value]
            marks = ", ".join("?" for _ in values)
            if op == "eq" and name in lookups:
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
    found = con.execute(f"SELECT count(*) FROM {SOURCE}{_clause(where)}", [str(parquet), *params]).fetchone()
    return int(found[0]) if found else 0
