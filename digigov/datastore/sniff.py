"""Looking at the start of a file before reading it: format, encoding, delimiter and header rows.

Everything here works on a bounded sample (the first megabyte or so), never the whole file.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import statistics
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from digigov.datastore.errors import NotTabular
from digigov.datastore.infer import looks_like_value
from digigov.datastore.report import Format

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
DELIMITERS = (",", "\t", ";", "|")
HEADER_SEARCH = 30  # a header below this many non-blank rows is not looked for
_CONTROL = bytes(range(0, 9)) + b"\x0b\x0e\x0f" + bytes(range(0x10, 0x1A)) + bytes(range(0x1C, 0x20))

# Frequent characters of Chinese public data, in both simplified and traditional forms; a wrong
# decoding of GBK as Big5 (or back) turns them into rare characters, so their share ranks the two.
COMMON_HAN = frozenset(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种"
    "面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本"
    "去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比"
    "或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总"
    "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做"
    "必战先回则任取据处府研司限责科技京市街号楼室术服务贸易咨询销售心集团股份营商店厂站局委办县镇村乡园"
    "這個們來為國時對會說發動過種經現實體製機當點從業還與關樣間數線問總質運區務廣場東電車長門開際價格"
    "書記認識號碼臺灣縣鄉鎮單專產權設計劃維護環境衛條權負責倉庫貨幣銀銷售團購買賣費額資訊網絡"
)


@dataclass(frozen=True)
class Record:
    """One record of a sample: the 1-based line (or sheet row) it starts on, lines spanned, its fields."""

    line: int
    lines: int
    fields: tuple[str, ...]

    @property
    def blank(self) -> bool:
        return not any(field.strip() for field in self.fields)


@dataclass(frozen=True)
class Layout:
    """Where the header is and what it says; `skip` counts the records before the first data record."""

    width: int
    names: tuple[str, ...]
    source_names: tuple[str, ...]
    header_index: int | None
    skip: int


def sniff_format(path: Path, head: bytes) -> Format | None:
    """The format the content shows (None: delimited text, told apart as csv/tsv later)."""
    if head.startswith(ZIP_MAGIC):
        return _zip_format(path)
    if head.startswith(OLE2_MAGIC):
        return "xls"
    return None


def _zip_format(path: Path) -> Format:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as error:
        raise NotTabular(path.name, "a damaged zip archive", "损坏的压缩包") from error
    if "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names):
        return "xlsx"
    raise NotTabular(path.name, "a zip archive that is not an Excel workbook", "不是 Excel 工作簿的压缩包")


def json_format(text: str) -> Format | None:
    """'json' or 'jsonl' when decoded text starts like JSON, else None.

    >>> json_format('[{"a": 1}]'), json_format('{"a": 1}\\n{"a": 2}\\n'), json_format('[交易日期],名称')
    ('json', 'jsonl', None)
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped or stripped[0] not in "[{":
        return None
    after = stripped[1:].lstrip(" \t\r\n")[:1]
    if stripped[0] == "[":
        return "json" if after == "" or after in '{["]-tfn0123456789' else None
    if after not in ('"', "}"):
        return None
    first, _, rest = stripped.partition("\n")
    return "jsonl" if _is_object(first) and rest.lstrip().startswith("{") else "json"


def _is_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def looks_binary(sample: bytes) -> bool:
    """True for content no text table has: NUL bytes or many control characters.

    >>> looks_binary(b"a,b\\r\\n1,2\\r\\n"), looks_binary(bytes(range(256)))
    (False, True)
    """
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    return controls > len(sample) // 100


def encoding_candidates(sample: bytes) -> list[str]:
    """Encodings worth trying on the whole file, most likely first.

    >>> encoding_candidates("北京公司名称".encode("gbk")), encoding_candidates("北京公司名稱".encode("big5"))
    (['gb18030', 'big5'], ['big5', 'gb18030'])
    """
    if sample.startswith(codecs.BOM_UTF8):
        return ["utf-8-sig"]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ["utf-16"]
    if decodes(sample, "utf-8"):
        # Only an ASCII start leaves room for a Chinese encoding further down.
        return ["utf-8", "gb18030", "big5"] if sample.isascii() else ["utf-8"]
    if _damaged_utf8(sample):
        return ["utf-8"]  # a few bad bytes in UTF-8 text: those rows are rejected, the rest is read
    window = sample[: 64 * 1024]
    return [encoding for encoding in rank_chinese(window) if decodes(sample, encoding)]


def _damaged_utf8(sample: bytes) -> bool:
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(sample, final=False)
    bad = text.count("\ufffd")
    wide = sum(1 for char in text if ord(char) > 0x7F) - bad
    return wide > 2 * bad


def decodes(data: bytes, encoding: str) -> bool:
    """True if `data` decodes, allowing a character cut off at the end."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def rank_chinese(data: bytes) -> list[str]:
    """GB18030 and Big5, the one whose decoding reads more like Chinese first (GB18030 on a tie)."""
    scores = {encoding: _han_score(data, encoding) for encoding in ("gb18030", "big5")}
    return sorted(scores, key=lambda encoding: -scores[encoding])


def _han_score(data: bytes, encoding: str) -> float:
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(data, final=False)
    wide = [char for char in text if ord(char) > 0x7F]
    if not wide:
        return 0.0
    return sum(char in COMMON_HAN for char in wide) / len(wide)


def decode_sample(sample: bytes, encoding: str) -> str:
    """The sample as text, without a BOM and without a character cut off at its end."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    return text.removeprefix("\ufeff")


def read_records(text: str, delimiter: str, *, complete: bool, limit: int = 300) -> list[Record]:
    """Parse the start of decoded text into records, noting the physical lines each one spans.

    >>> [(r.line, r.lines, r.fields) for r in read_records('a,"b\\nc"\\n\\n1,2\\n', ",", complete=True)]
    [(1, 2, ('a', 'b\\nc')), (3, 1, ()), (4, 1, ('1', '2'))]
    """
    pieces = text.split("\n")
    tail = pieces.pop()
    lines = [piece + "\n" for piece in pieces]
    if complete and tail:
        lines.append(tail)
    source = _CountingLines(lines)
    reader = csv.reader(source, delimiter=delimiter, quotechar='"')
    records: list[Record] = []
    while len(records) < limit:
        start = source.taken
        try:
            fields = next(reader)
        except (StopIteration, csv.Error):
            break
        records.append(Record(start + 1, source.taken - start, tuple(fields)))
    if not complete and source.taken == len(lines) and records:
        records.pop()  # may be cut off by the end of the sample
    return records


class _CountingLines(Iterator[str]):
    def __init__(self, lines: list[str]) -> None:
        self._lines = iter(lines)
        self.taken = 0

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken += 1
        return line


def sniff_delimiter(text: str, *, complete: bool) -> str:
    """The candidate that splits the sample's rows into the most consistent width above one.

    >>> sniff_delimiter("a\\tb,c\\n1\\t2,3\\n4\\t5\\n", complete=True), sniff_delimiter("名称\\n甲\\n", complete=True)
    ('\\t', ',')
    """
    best, best_score = ",", 0.0
    for delimiter in DELIMITERS:
        widths = [len(r.fields) for r in read_records(text, delimiter, complete=complete, limit=200) if not r.blank]
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        score = count / len(widths) if width > 1 else 0.0
        if score > best_score + 0.01:
            best, best_score = delimiter, score
    return best


def normalise_name(text: str) -> str:
    """Header text with its whitespace (newlines included) collapsed to single spaces.

    >>> normalise_name(" 公司属性\\n[交易日期]  最新收盘日 ")
    '公司属性 [交易日期] 最新收盘日'
    """
    return " ".join(text.replace("\ufeff", "").split())


def find_layout(records: list[Record], *, width: int | None = None) -> Layout:
    """Find the header under any title or metadata rows; merge a two-row header.

    With `width` None the records come from delimited text and a header must have the dominant
    field count; otherwise (workbook rows, trailing empty cells cut) `width` is the sheet's width.
    """
    rows = [index for index, record in enumerate(records) if not record.blank]
    exact = width is None
    if width is None:
        width = Counter(len(records[i].fields) for i in rows).most_common(1)[0][0] if rows else 1
    for position, index in enumerate(rows[:HEADER_SEARCH]):
        record = records[index]
        if exact and len(record.fields) != width:
            continue
        following = [records[i] for i in rows[position + 1 : position + 21]]
        if _is_header(record, following, width):
            return _header_layout(records, index, width, exact)
    return Layout(width, ("",) * width, ("",) * width, None, 0)


def _cells(record: Record, width: int) -> list[str]:
    fields = list(record.fields[:width])
    return fields + [""] * (width - len(fields))


def _filled(record: Record, width: int) -> int:
    return sum(1 for cell in _cells(record, width) if cell.strip())


def _is_header(record: Record, following: list[Record], width: int) -> bool:
    filled = [name for name in map(normalise_name, _cells(record, width)) if name]
    typical = statistics.median(_filled(r, width) for r in following) if following else 1
    if len(filled) < max(1, math.ceil(0.6 * typical)):
        return False
    return sum(map(looks_like_value, filled)) <= 0.2 * len(filled)


def _header_layout(records: list[Record], index: int, width: int, exact: bool) -> Layout:
    top = _cells(records[index], width)
    below = records[index + 1] if index + 1 < len(records) else None
    if below is not None and not below.blank and (not exact or len(below.fields) == width):
        sub = _cells(below, width)
        merged = merge_header_rows([normalise_name(c) for c in top], [normalise_name(c) for c in sub])
        if merged is not None:
            sources = tuple(" / ".join(part for part in pair if part.strip()) for pair in zip(top, sub, strict=True))
            return Layout(width, tuple(merged), sources, index, index + 2)
    return Layout(width, tuple(normalise_name(c) for c in top), tuple(top), index, index + 1)


def merge_header_rows(top: list[str], sub: list[str]) -> list[str] | None:
    """Flatten a group-label row over a sub-label row, or None if `sub` is not a sub-label row.

    >>> merge_header_rows(["序号", "企业", "", "地址"], ["", "名称", "代码", ""])
    ['序号', '企业_名称', '企业_代码', '地址']
    >>> merge_header_rows(["名称", "", "地址"], ["甲公司", "乙", "北京"]) is None
    True
    """
    if any(looks_like_value(cell) for cell in sub if cell):
        return None
    names: list[str] = []
    group, grouped, single = "", False, False
    for upper, lower in zip(top, sub, strict=True):
        if upper:
            group = upper if lower else ""
            single = single or not lower
            names.append(f"{upper}_{lower}" if lower else upper)
        elif lower and group:
            grouped = True
            names.append(f"{group}_{lower}")
        else:
            group = "" if not lower else group
            names.append(lower)
    return names if grouped and single else None
