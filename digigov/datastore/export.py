"""Downloads of a version: CSV (UTF-8 with BOM, for Excel), XLSX (formula-safe), JSON, Parquet, datapackage.json."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import duckdb
from openpyxl import Workbook

from digigov.core import engine
from digigov.datastore.models import Version
from digigov.datastore.query import quote

Format = Literal["csv", "xlsx", "json", "parquet"]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}
FRICTIONLESS = {
    "string": "string",
    "integer": "integer",
    "decimal": "number",
    "date": "date",
    "timestamp": "datetime",
    "boolean": "boolean",
}
XLSX_MAX_ROWS = 1_048_575
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell value that Excel will not run as a formula (OWASP CSV injection).

    >>> safe_cell("=HYPERLINK(1)"), safe_cell("-3"), safe_cell(-3), safe_cell("北京")
    ("'=HYPERLINK(1)", "'-3", -3, '北京')
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_version(home: Path, version: Version, fmt: Format, *, select: str | None = None) -> Path:
    """Write the version in a download format into a temporary file and return its path.

    `select` is the SELECT list to write (a masked reader's masks); without it the rows go as stored,
    and a Parquet download is the version's own file.
    """
    parquet = home / version.path / "data.parquet"
    if fmt == "parquet" and select is None:
        return parquet
    out = Path(tempfile.mkdtemp(prefix="digigov-export-")) / f"data.{fmt}"
    rows = f"SELECT {select or '*'} FROM read_parquet(?)"
    with engine.cursor() as con:
        if fmt == "parquet":
            con.execute(f"COPY ({rows}) TO {_literal(out)} (FORMAT parquet)", [str(parquet)])
        elif fmt == "csv":
            body = out.with_suffix(".body")
            con.execute(f"COPY ({rows}) TO {_literal(body)} (FORMAT csv, HEADER true)", [str(parquet)])
            with out.open("wb") as target, body.open("rb") as source:
                target.write("\ufeff".encode())  # Excel reads Chinese correctly only with a BOM
                while chunk := source.read(1024 * 1024):
                    target.write(chunk)
            body.unlink()
        elif fmt == "json":
            con.execute(f"COPY ({rows}) TO {_literal(out)} (FORMAT json, ARRAY true)", [str(parquet)])
        else:
            _write_xlsx(con, parquet, rows, version, out)
    return out


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _rows(con: duckdb.DuckDBPyConnection, parquet: Path, rows: str) -> Iterator[tuple[Any, ...]]:
    result = con.execute(rows, [str(parquet)])
    while batch := result.fetchmany(10_000):
        yield from batch


def _write_xlsx(con: duckdb.DuckDBPyConnection, parquet: Path, rows: str, version: Version, out: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append([safe_cell(c["name"]) for c in version.columns])
    for count, row in enumerate(_rows(con, parquet, rows), start=1):
        if count > XLSX_MAX_ROWS:
            break  # Excel's limit; the CSV and Parquet downloads hold every row
        sheet.append([safe_cell(v) for v in row])
    book.save(out)


def datapackage(
    resource_code: str, title: str, version: Version, base_url: str, masked: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A Frictionless Data Package descriptor for one version; `masked` fields download as text."""
    path = f"{base_url}/api/v1/resources/{resource_code}/versions/{version.number}/download?format=csv"
    return {
        "profile": "tabular-data-package",
        "name": resource_code.lower(),
        "title": title,
        "version": str(version.number),
        "created": version.created_at.isoformat() + "Z",
        "resources": [
            {
                "profile": "tabular-data-resource",
                "name": f"{resource_code.lower()}-v{version.number}",
                "path": path,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig",
                "hash": f"sha256:{version.raw_sha256}",
                "schema": {"fields": [{"name": c["name"], "type": _type(c, masked)} for c in version.columns]},
            }
        ],
    }


def _type(column: dict[str, Any], masked: frozenset[str]) -> str:
    return "string" if column["name"] in masked else FRICTIONLESS.get(column["type"], "string")


__all__ = ["MEDIA", "Format", "datapackage", "export_version", "quote", "safe_cell"]
