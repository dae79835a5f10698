"""The common middle of every reader: a file seen by DuckDB as text, before typing.

Each format's reader provides VARCHAR columns c0, c1, … in source order (workbooks and JSON
load them into table `raw`; delimited text is scanned where it lies, by `read_csv`) and
returns a `Staged` describing where they came from; `reader` types and stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb

from digigov.datastore.report import Format, ReadLimits


@dataclass(frozen=True)
class Reject:
    """A source row that could not be parsed: where it starts, why, and its text."""

    line: int
    reason: str
    raw: str


RAW = "raw"


class Written(Protocol):
    """What storing a staged file gives back: at least the rows it wrote."""

    @property
    def rows(self) -> int: ...


@dataclass(frozen=True)
class Staged:
    """Where the text columns are and what is known about them; `blank_rows` were dropped before loading.

    `relation` is what to read once to store the rows (a table, or a scan that records rejects);
    `rescan` the same rows for any further look (for a table, the table itself).
    """

    format: Format
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    header_row: int | None
    names: tuple[str, ...]  # normalised header text per column, "" where there is none
    source_names: tuple[str, ...]
    rejects: tuple[Reject, ...] = ()
    blank_rows: int = 0
    notes: tuple[str, ...] = ()
    dropped_columns: int = 0  # trailing columns with neither name nor value, never loaded
    relation: str = RAW
    rescan: str = RAW


def sql_literal(text: str) -> str:
    """A DuckDB string literal.

    >>> sql_literal("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"


def quote_name(name: str) -> str:
    """A DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def forget_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the tables where a scan with `store_rejects` records bad rows, before a scan that must fill them afresh."""
    for table in ("reject_errors", "reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def connect(spill: Path, limits: ReadLimits) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills to `spill` past the memory limit and keeps row order."""
    con = duckdb.connect(
        config={
            "memory_limit": limits.memory_limit,
            "temp_directory": str(spill),
            "preserve_insertion_order": True,
        }
    )
    con.execute("SET enable_progress_bar = false")  # a long scan's bar would go to the caller's terminal
    return con


def csv_options(limits: ReadLimits) -> str:
    """read_csv options shared by every text source: all text, nothing guessed, long lines refused."""
    buffer = max(32 * 1024 * 1024, 2 * limits.max_field_bytes)
    return f"header = false, auto_detect = false, max_line_size = {limits.max_field_bytes}, buffer_size = {buffer}"
