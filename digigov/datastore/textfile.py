"""One streaming pass over a text file: count its lines, transcoding it to UTF-8 if need be.

DuckDB reads only UTF-8. Files in GB18030/GBK, Big5 or UTF-16 are decoded strictly, chunk by
chunk, into a UTF-8 copy (trying the next candidate encoding if one fails part-way); UTF-8
files are read in place and DuckDB itself reports invalid bytes. Memory stays at one chunk
whatever the file size. The counts let the reader prove every line was accounted for.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from digigov.datastore.errors import FieldTooLarge, UnknownEncoding
from digigov.datastore.sniff import rank_chinese

CHUNK = 1024 * 1024
_EMPTY_LINE = re.compile(rb"\n(?=\r?\n)")
_IN_PLACE = ("utf-8", "utf-8-sig")


@dataclass(frozen=True)
class TextFile:
    """A UTF-8 file DuckDB can read (the source itself or a copy) and what is known of its lines."""

    source: Path
    path: Path
    encoding: str
    lines: int
    newlines: int
    newline: str  # the line end of most lines in the first chunk
    has_cr: bool
    fallbacks: tuple[str, ...] = ()  # to try if DuckDB finds bytes that are not UTF-8
    notes: tuple[str, ...] = ()

    @property
    def newline_option(self) -> str:
        """`newline` as DuckDB's new_line option spells it."""
        return self.newline.replace("\r", "\\r").replace("\n", "\\n")


class _DecodeFailure(Exception):
    def __init__(self, offset: int, line: int) -> None:
        super().__init__(offset, line)
        self.offset, self.line = offset, line


class _LineCounter:
    """Counts line ends across chunks and refuses a line longer than the field limit."""

    def __init__(self, max_line_bytes: int) -> None:
        self.newlines = 0
        self.has_cr = False
        self.newline = ""
        self._run = 0  # bytes since the last line end
        self._last = b""
        self._limit = max_line_bytes

    def feed(self, data: bytes) -> None:
        if not data:
            return
        self._check_length(data)
        count = data.count(b"\n")
        if not self.newline and count:
            self.newline = "\r\n" if data.count(b"\r\n") * 2 > count else "\n"
        self.newlines += count
        self.has_cr = self.has_cr or b"\r" in data
        self._last = data[-1:]

    def _check_length(self, data: bytes) -> None:
        first = data.find(b"\n")
        if first == -1:
            self._run += len(data)
        else:
            longest = self._run + first
            if self._limit < len(data):
                longest = max(longest, *map(len, data[first:].split(b"\n")))
            self._run = len(data) - data.rfind(b"\n") - 1
            if longest > self._limit:
                raise FieldTooLarge(self.newlines + 1, self._limit)
        if self._run > self._limit:
            raise FieldTooLarge(self.newlines + 1, self._limit)

    def finish(self, source: Path, path: Path, encoding: str) -> TextFile:
        lines = self.newlines + (self._last not in (b"", b"\n"))
        return TextFile(source, path, encoding, lines, self.newlines, self.newline or "\n", self.has_cr)


def prepare_text(source: Path, work: Path, candidates: list[str], max_line_bytes: int) -> TextFile:
    """Count `source` in place if it is UTF-8, else transcode it with the first candidate that decodes it all."""
    if candidates[0] in _IN_PLACE:
        counter = _LineCounter(max_line_bytes)
        for chunk in _chunks(source):
            counter.feed(chunk)
        return replace(counter.finish(source, source, candidates[0]), fallbacks=tuple(candidates[1:]))
    return transcode(source, work, candidates, max_line_bytes)


def transcode(source: Path, work: Path, candidates: list[str], max_line_bytes: int, offset: int = 0) -> TextFile:
    """A strict UTF-8 copy of `source`; `offset` is where an earlier guess failed, to rank the candidates by."""
    tried: list[str] = []
    pending = _rerank(source, offset, candidates) if offset else list(candidates)
    first_failure = 0
    while pending:
        encoding = pending.pop(0)
        tried.append(encoding)
        try:
            text = _transcode(source, work, encoding, max_line_bytes)
        except _DecodeFailure as failure:
            first_failure = first_failure or failure.line
            pending = _rerank(source, failure.offset, pending)
            continue
        failed = ", ".join(tried[:-1])
        return replace(text, notes=(f"read as {encoding}: {failed} failed",) if failed else ())
    raise UnknownEncoding(source.name, first_failure or 1, tuple(tried))


def _rerank(source: Path, offset: int, pending: list[str]) -> list[str]:
    """Order the remaining encodings by how well they read the bytes around `offset`."""
    with source.open("rb") as file:
        file.seek(max(0, offset - 32 * 1024))
        window = file.read(64 * 1024)
    ranked = [encoding for encoding in rank_chinese(window) if encoding in pending]
    return ranked + [encoding for encoding in pending if encoding not in ranked]


def _transcode(source: Path, work: Path, encoding: str, max_line_bytes: int) -> TextFile:
    copy = work / f"source.{encoding}.utf8"
    counter = _LineCounter(max_line_bytes)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with copy.open("wb") as out:
        offset = 0
        for chunk in _chunks(source):
            data = _decode(decoder, chunk, offset, counter).encode("utf-8")
            out.write(data)
            counter.feed(data)
            offset += len(chunk)
        out.write(_decode(decoder, b"", offset, counter, final=True).encode("utf-8"))
    return counter.finish(source, copy, encoding)


def _decode(
    decoder: codecs.IncrementalDecoder, chunk: bytes, offset: int, counter: _LineCounter, *, final: bool = False
) -> str:
    try:
        return decoder.decode(chunk, final=final)
    except UnicodeDecodeError as error:
        line = counter.newlines + chunk[: error.start].count(b"\n") + 1
        raise _DecodeFailure(offset + error.start, line) from error


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            yield chunk


def count_empty_lines(path: Path) -> int:
    """Lines with no characters at all (\\n or \\r\\n alone), in one streaming pass.

    A line end is "decided" once the two bytes after it are known; the last two bytes of a
    chunk wait for the next one, and the file is treated as if a line end preceded it.
    """
    empty, carry = 0, b"\n"
    for chunk in _chunks(path):
        buffer = carry + chunk
        if b"\n\n" in buffer or b"\n\r\n" in buffer:
            decided = len(buffer) - 2
            empty += sum(1 for match in _EMPTY_LINE.finditer(buffer) if match.start() < decided)
        carry = buffer[-2:]
    return empty + (carry == b"\n\n")


def normalise_newlines(text: TextFile, work: Path, max_line_bytes: int) -> TextFile:
    """A copy with every \\r\\n and lone \\r written as \\n, for files that mix line ends."""
    copy = work / "source.lf.utf8"
    counter = _LineCounter(max_line_bytes)
    held = b""
    with copy.open("wb") as out:
        for chunk in _chunks(text.path):
            data = held + chunk
            held = b"\r" if data.endswith(b"\r") else b""
            data = (data[:-1] if held else data).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            out.write(data)
            counter.feed(data)
        if held:
            out.write(b"\n")
            counter.feed(b"\n")
    note = "line ends normalised to LF: the file mixes CRLF, LF or CR"
    return replace(counter.finish(text.source, copy, text.encoding), notes=(*text.notes, note))
