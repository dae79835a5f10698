"""What reading a file produced: the limits it ran under and the report it returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Format = Literal["csv", "tsv", "xlsx", "xls", "json", "jsonl"]
ColumnType = Literal["string", "integer", "decimal", "date", "timestamp", "boolean"]

MB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what a single file may demand; past any of them the file is refused."""

    max_columns: int = 2_000
    max_field_bytes: int = 10 * MB
    max_json_depth: int = 64
    max_unpacked_bytes: int = 2048 * MB  # a workbook's zip members, uncompressed, in total
    max_compression_ratio: int = 200  # for any zip member over 1 MB uncompressed
    memory_limit: str = "1GB"  # DuckDB's; it spills to a temp directory beyond this
    sample_bytes: int = 1 * MB  # read to sniff encoding, delimiter and header


@dataclass(frozen=True)
class Column:
    """One stored column: its name, type, the header text it came from and why, if notable."""

    name: str
    type: ColumnType
    source_name: str
    nullable: bool
    note: str | None = None


@dataclass(frozen=True)
class TextFallback:
    """A column whose values looked typed but `failed` of them are not, so it stayed text."""

    column: str
    type: ColumnType
    failed: int
    example: str


@dataclass(frozen=True)
class Rename:
    """A repeated header name made unique: 名称, 名称 -> 名称, 名称_2."""

    source_name: str
    name: str


@dataclass(frozen=True)
class ReadReport:
    """The ingestion report; `to_dict()` is its stable JSON shape."""

    format: Format
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    header_row: int | None
    rows: int
    rejected: int
    blank_rows: int
    dropped_columns: int
    columns: tuple[Column, ...]
    text_fallbacks: tuple[TextFallback, ...] = ()
    renamed: tuple[Rename, ...] = ()
    notes: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        """The stored column called `name`."""
        return next(column for column in self.columns if column.name == name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; keys rows, rejected, blank_rows, columns [{name, type}], encoding are stable."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}
