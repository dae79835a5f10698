"""The set-based engine: one embedded DuckDB per process, a cursor per piece of work.

Opening a DuckDB database costs tens of milliseconds and forgets the Parquet footers it has
read, so queries share one in-memory database and take a cursor each (cursors are DuckDB's
per-thread connections to the same database). Versions are immutable files, so the Parquet
metadata cache never goes stale.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

MEMORY_LIMIT = "1GB"  # beyond this, sorts and joins spill to a temporary directory

_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None


def _open() -> duckdb.DuckDBPyConnection:
    global _database
    with _lock:
        if _database is None:
            spill = tempfile.mkdtemp(prefix="digigov-engine-")
            atexit.register(shutil.rmtree, spill, ignore_errors=True)
            _database = duckdb.connect(
                config={
                    "memory_limit": MEMORY_LIMIT,
                    "temp_directory": spill,
                    "preserve_insertion_order": True,
                }
            )
            _database.execute("SET GLOBAL parquet_metadata_cache = true")
        return _database


@contextmanager
def cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB cursor on the process's engine, closed when the block ends."""
    con = _open().cursor()
    try:
        yield con
    finally:
        con.close()


def quote_name(name: str) -> str:
    """A DuckDB identifier for a column name, whatever it contains.

    >>> quote_name('a"b')
    '"a""b"'
    """
    return '"' + name.replace('"', '""') + '"'


def json_value(value: Any) -> Any:
    """A value the engine returned, as a JSON reply carries it: dates and times in ISO form, decimals as text.

    >>> json_value(Decimal("1.50")), json_value(date(2024, 1, 31)), json_value(3)
    ('1.50', '2024-01-31', 3)
    """
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def sql_literal(text: str) -> str:
    """A DuckDB string literal.

    >>> sql_literal("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"
