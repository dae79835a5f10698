"""Structured queries over a version's Parquet file in DuckDB: fields, filters, text search, sort, pages.

Callers never send SQL: field names are checked against the version's columns and quoted, and
values are bound as parameters (CKAN's own SQL search endpoint had two injection CVEs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

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


def read_rows(parquet: Path, columns: list[dict[str, str]], query: RowQuery, *, rows: int) -> RowPage:
    """Run a structured query; an unknown field, operator or bad value is an `Invalid` error."""
    known = {c["name"]: c["type"] for c in columns}
    chosen = query.fields or list(known)
    for name in [*chosen, *(query.filters or {}), *(f for f, _ in query.sort or [])]:
        if name not in known and name != "_id":
            raise Invalid(f"Unknown field '{name}'.", f"没有数据项“{name}”。")
    if not 0 <= query.limit <= MAX_LIMIT:
        raise Invalid(f"limit must be 0 to {MAX_LIMIT}.", f"limit 须在 0 到 {MAX_LIMIT} 之间。")
    where, params = _where(query, known)
    source = "read_parquet(?, file_row_number = true)"
    base = f"FROM (SELECT file_row_number + 1 AS _id, * EXCLUDE (file_row_number) FROM {source}) AS t"
    order = ", ".join(f"{quote(f)} {'DESC' if d else 'ASC'}" for f, d in query.sort or []) or "_id"
    if query.sort:
        order += ", _id"
    select = ", ".join(["_id", *(quote(f) for f in chosen if f != "_id")])
    keyset = query.after is not None and not query.sort
    paged_where = where + ([f"_id > {int(query.after)}"] if keyset and query.after is not None else [])
    sql = f"SELECT {select} {base}{_clause(paged_where)} ORDER BY {order} LIMIT {query.limit}"
    if not keyset:
        sql += f" OFFSET {int(query.offset)}"
    with duckdb.connect() as con:
        try:
            result = con.execute(sql, [str(parquet), *params])
            names = [d[0] for d in result.description]
            records = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
            total = _total(con, base, where, params, parquet, rows, query.include_total)
        except (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException) as error:
            raise Invalid(f"A filter value does not fit its field: {error}", "筛选值与数据项类型不符。") from None
    fields = [{"id": "_id", "type": "integer"}] + [{"id": f, "type": known[f]} for f in chosen if f != "_id"]
    next_after = records[-1]["_id"] if records and len(records) == query.limit else None
    return RowPage(fields, records, total, next_after)


def _where(query: RowQuery, known: dict[str, str]) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for name, wanted in (query.filters or {}).items():
        tests = wanted if isinstance(wanted, dict) else {"eq": wanted}
        for op, value in tests.items():
            if op not in OPERATORS:
                raise Invalid(f"Unknown operator '{op}'; use {', '.join(OPERATORS)}.", f"未知运算符“{op}”。")
            values = value if isinstance(value, list) and op == "eq" else [value]
            if op == "eq" and len(values) > 1:
                clauses.append(f"{quote(name)} IN ({', '.join('?' for _ in values)})")
            else:
                clauses.append(f"{quote(name)} {OPERATORS[op]} ?")
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
    base: str,
    where: list[str],
    params: list[Any],
    parquet: Path,
    rows: int,
    wanted: bool,
) -> int | None:
    if not wanted:
        return None
    if not where:
        return rows  # exact, from the version's metadata
    found = con.execute(f"SELECT count(*) {base}{_clause(where)}", [str(parquet), *params]).fetchone()
    return int(found[0]) if found else 0
