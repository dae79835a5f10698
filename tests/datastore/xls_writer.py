"""A minimal legacy XLS (BIFF8 in an OLE2 container) writer, enough for xlrd to read test files.

No XLS writer is a project dependency, and real .xls files cannot be committed, so the tests
build their workbooks from records: BOF, XF (16 style XFs plus one date XF), BOUNDSHEET, LABEL,
NUMBER, EOF.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Sequence

Cell = str | float | dt.datetime | None
DATE_XF = 16
END, FREE, FAT_SECTOR, NO_STREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))


def _xf(number_format: int, style: bool) -> bytes:
    return _record(
        0x00E0, struct.pack("<HHHBBBBIIH", 0, number_format, 0xFFF5 if style else 1, 0x20, 0, 0, 0, 0, 0, 0x20C0)
    )


def _cell(row: int, column: int, value: Cell) -> bytes:
    if isinstance(value, str):
        return _record(0x0204, struct.pack("<HHHHB", row, column, 0, len(value), 1) + value.encode("utf-16-le"))
    if isinstance(value, dt.datetime):
        serial = (value - dt.datetime(1899, 12, 30)).total_seconds() / 86400
        return _record(0x0203, struct.pack("<HHHd", row, column, DATE_XF, serial))
    return _record(0x0203, struct.pack("<HHHd", row, column, 0, float(value or 0)))


def _sheet(rows: Sequence[Sequence[Cell]]) -> bytes:
    cells = b"".join(_cell(r, c, v) for r, row in enumerate(rows) for c, v in enumerate(row) if v is not None)
    return _bof(0x0010) + cells + _record(0x000A, b"")


def _globals(names: list[str], offsets: list[int]) -> bytes:
    out = _bof(0x0005) + _xf(0, True) * DATE_XF + _xf(14, False)
    for name, offset in zip(names, offsets, strict=True):
        out += _record(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name), 1) + name.encode("utf-16-le"))
    return out + _record(0x000A, b"")


def workbook(sheets: dict[str, Sequence[Sequence[Cell]]]) -> bytes:
    """The bytes of an .xls file holding `sheets` (name -> rows of cells)."""
    names = list(sheets)
    bodies = [_sheet(rows) for rows in sheets.values()]
    position = len(_globals(names, [0] * len(names)))
    offsets = []
    for body in bodies:
        offsets.append(position)
        position += len(body)
    return _container(_globals(names, offsets) + b"".join(bodies))


def _entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
    encoded = name.encode("utf-16-le") + b"\0\0" if name else b""
    head = encoded.ljust(64, b"\0") + struct.pack("<HBBIII", len(encoded), kind, 1, NO_STREAM, NO_STREAM, child)
    return head + b"\0" * 36 + struct.pack("<II", start, size) + b"\0" * 4


def _container(stream: bytes) -> bytes:
    stream = stream.ljust(max(4096, -(-len(stream) // 512) * 512), b"\0")
    sectors = len(stream) // 512
    fat = [FAT_SECTOR, END] + [3 + i for i in range(sectors - 1)] + [END]
    fat += [FREE] * (128 - len(fat))
    header = bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
    header += b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", FREE) * 108
    directory = _entry("Root Entry", 5, 1, END, 0) + _entry("Workbook", 2, NO_STREAM, 2, len(stream))
    directory += _entry("", 0, NO_STREAM, 0, 0) * 2
    return header + struct.pack("<128I", *fat) + directory + stream
