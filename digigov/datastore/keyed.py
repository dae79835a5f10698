"""Point reads by key: a version's rows by the value of one column, in tens of microseconds.

A keyed lookup (the sharing data API's "look up this ID number") must not pay for a query plan and
a Parquet row-group decode on every call. Beside a version's lookup files, `write_keyed` keeps

- `keyed/rows.arrow`: the version as an uncompressed Arrow IPC file, so row `i` is read from the
  memory-mapped file without decoding anything else; and
- `keyed/<column position>.arrow`: the column's lookup file (values and row numbers, sorted by value)
  in the same form, searched by bisection.

Both are derived from the immutable `data.parquet` and written under a hidden name, then renamed,
so a reader sees a whole file or none; `rows_by_key` answers None without them and the caller reads
through `read_rows` instead. The memory maps are shared by every thread and process through the
operating system's page cache.
"""

from __future__ import annotations

import bisect
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.ipc as ipc

from digigov.core.engine import sql_literal

KEYED_DIR = "keyed"
ROWS_FILE = "rows.arrow"
BATCH_ROWS = 1 << 17  # rows per record batch: a batch is found by bisection on its first row number
OPEN_FILES = 64  # memory-mapped files kept open per process


def keyed_rows_file(parquet: Path) -> Path:
    """Where the memory-mappable copy of a version's rows lives, if it has one."""
    return parquet.parent / KEYED_DIR / ROWS_FILE


def keyed_index_file(parquet: Path, position: int) -> Path:
    """Where the sorted value → row number index of the column at `position` lives, if it has one."""
    return parquet.parent / KEYED_DIR / f"{position}.arrow"


def write_keyed(con: duckdb.DuckDBPyConnection, parquet: Path, lookups: dict[int, Path]) -> list[Path]:
    """Write the keyed files a version lacks for its lookup files (`position → lookup parquet`)."""
    if not lookups:
        return []
    written = []
    rows = keyed_rows_file(parquet)
    if not rows.is_file():
        _write_arrow(con, f"SELECT * FROM read_parquet({sql_literal(str(parquet))})", rows)
        written.append(rows)
    for position, lookup in sorted(lookups.items()):
        out = keyed_index_file(parquet, position)
        if not out.is_file():
            # the lookup file is sorted by (v, i) already; file order keeps it
            _write_arrow(con, f"SELECT v, i FROM read_parquet({sql_literal(str(lookup))})", out)
            written.append(out)
    return written


def _write_arrow(con: duckdb.DuckDBPyConnection, query: str, out: Path) -> None:
    out.parent.mkdir(exist_ok=True)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
    with pa.OSFile(str(partial), "wb") as sink, ipc.new_file(sink, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
    partial.replace(out)


@dataclass(frozen=True)
class _Mapped:
    """A memory-mapped Arrow file: its batches and the row number each one starts at."""

    batches: list[pa.RecordBatch]
    starts: list[int]
    firsts: list[Any]  # each batch's first value of its first column (an index's `v`)

    @classmethod
    def open(cls, path: Path) -> _Mapped:
        reader = ipc.open_file(pa.memory_map(str(path)))
        batches = [b for k in range(reader.num_record_batches) if (b := reader.get_batch(k)).num_rows]
        starts, total = [], 0
        for batch in batches:
            starts.append(total)
            total += batch.num_rows
        return cls(batches, starts, [batch.column(0)[0].as_py() for batch in batches])

    def locate(self, row: int) -> tuple[pa.RecordBatch, int]:
        k = bisect.bisect_right(self.starts, row) - 1
        return self.batches[k], row - self.starts[k]


class _Files:
    """The open memory maps, by file identity (path, size, mtime): versions never change in place."""

    def __init__(self) -> None:
        self.items: OrderedDict[tuple[str, int, int], _Mapped] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, path: Path) -> _Mapped | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        mapped = _Mapped.open(path)
        with self.lock:
            self.items[key] = mapped
            while len(self.items) > OPEN_FILES:
                self.items.popitem(last=False)
        return mapped


_files = _Files()


class _Values:
    """One batch's sorted `v` column as a sequence of str, for `bisect`."""

    def __init__(self, column: pa.Array) -> None:
        self.column = column

    def __len__(self) -> int:
        return len(self.column)

    def __getitem__(self, k: int) -> str:
        value: str = self.column[k].as_py()
        return value


def rows_by_key(
    parquet: Path, position: int, value: str, fields: list[str], *, limit: int
) -> list[dict[str, Any]] | None:
    """Up to `limit` rows whose column at `position` equals `value` (in row order), with `_id` and `fields`.

    None when the version has no keyed files for that column (the caller reads through `read_rows`).
    Values come back as Arrow gives them to Python (str, int, Decimal, date, datetime, …).
    """
    index = _files.get(keyed_index_file(parquet, position))
    rows = _files.get(keyed_rows_file(parquet)) if index is not None else None
    if index is None or rows is None:
        return None
    numbers = _row_numbers(index, value, limit)
    found = []
    for number in numbers:
        batch, offset = rows.locate(number)
        record = {"_id": number + 1}
        for name in fields:
            record[name] = batch.column(name)[offset].as_py()
        found.append(record)
    return found


def _row_numbers(index: _Mapped, value: str, limit: int) -> list[int]:
    """The row numbers holding `value`, by bisection over the batches' first values and within them."""
    k = max(bisect.bisect_left(index.firsts, value) - 1, 0)  # a run of `value` may start in the batch before
    numbers: list[int] = []
    while k < len(index.batches) and len(numbers) < limit:
        batch = index.batches[k]
        values = _Values(batch.column(0))
        at = bisect.bisect_left(values, value)
        while at < batch.num_rows and len(numbers) < limit and values[at] == value:
            numbers.append(int(batch.column(1)[at].as_py()))
            at += 1
        if at < batch.num_rows:  # the run ended inside this batch
            break
        k += 1
    return sorted(numbers)
