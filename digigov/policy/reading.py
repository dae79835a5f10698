"""Turn the bytes of an uploaded policy document into text: plain text, HTML, Markdown, DOCX or PDF.

The format is recognised by content (PDF magic, a ZIP holding word/document.xml, HTML markup);
the filename only breaks ties (Markdown vs plain text). Text is decoded strictly as UTF-8 (with or
without BOM), UTF-16 with a BOM, GB18030 (a superset of GBK and GB2312) or Big5, ranking the two
Chinese encodings by how ordinary the decoded characters are, so Big5 bytes never come out as
GBK mojibake or the other way round.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

import docx
import pypdf
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf.errors import DependencyError, PdfReadError
from selectolax.lexbor import LexborHTMLParser

from digigov.policy.errors import (
    BrokenDocx,
    BrokenPdf,
    DocumentTooLarge,
    EmptyDocument,
    EncryptedPdf,
    TextlessPdf,
    UnknownFormat,
)

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
"""Largest upload read, and the most a DOCX may unpack to (its images included) times four."""

Format = Literal["txt", "html", "docx", "pdf", "md"]


@dataclass(frozen=True)
class RawDocument:
    """A document's text with its lines, and the title its container declares, if any."""

    text: str
    format: Format
    title_hint: str | None


def read_document(data: bytes, filename: str) -> RawDocument:
    """Read an uploaded document; raises a `PolicyReadError` saying what is wrong and what to do."""
    name = PurePath(filename).name or "document"
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(name, len(data), MAX_DOCUMENT_BYTES)
    if not data.strip():
        raise EmptyDocument(name)
    if data[:1024].lstrip().startswith(b"%PDF-"):
        document = _read_pdf(data, name)
    elif data.startswith(b"PK\x03\x04"):
        document = _read_docx(data, name)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnknownFormat(name, "a legacy Word .doc or other OLE file", "旧版 Word .doc 或其他 OLE 文件")
    else:
        document = _read_text(data, name)
    if not document.text.strip():
        raise EmptyDocument(name)
    return document


# ---- text ----------------------------------------------------------------------------------

_SAMPLE = 256 * 1024  # bytes looked at to rank GB18030 against Big5
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_HTML_TAG = re.compile(r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|span|table|br|h[1-6])\b", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.I)
_MARKDOWN_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)

# Frequent characters of government documents in simplified and traditional forms; decoding
# GBK bytes as Big5 (or back) turns them into rare characters, so their share ranks the two.
_COMMON_HAN = frozenset(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种"
    "面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本"
    "去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比"
    "或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总"
    "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别手角期根论运农指几九区强放决西被干做"
    "必战先回则任取据处府研司限责科技京市号务服务贸易县镇村乡园省施意见规划保障监督落实推进完善健全加强"
    "這個們來為國時對會說發動過種經現實體製機當點從業還與關樣間數線問總質運區務廣場東電車長門開際價格"
    "書記認識號碼臺灣縣鄉鎮單專產權設計劃維護環境衛條負責貨幣銀銷團購買賣費額資訊網絡規劃保障監督落實推進"
)


def _read_text(data: bytes, name: str) -> RawDocument:
    if _looks_binary(data[:8192]):
        raise UnknownFormat(name, "binary content", "二进制内容")
    text = _decode(data, name).replace("\r\n", "\n").replace("\r", "\n")
    if _HTML_TAG.search(text[:65536]) and text.lstrip()[:1] == "<":
        return _read_html(text)
    suffix = PurePath(name).suffix.lower()
    if suffix in (".md", ".markdown") or (suffix not in (".txt", ".text") and _starts_with_heading(text)):
        return _read_markdown(text)
    return RawDocument(text, "txt", None)


def _looks_binary(sample: bytes) -> bool:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = sum(byte < 9 or 13 < byte < 32 for byte in sample if byte != 27)
    return b"\x00" in sample or controls > len(sample) // 100


def _decode(data: bytes, name: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="strict").removeprefix("\ufeff")
    tried: set[str] = set()
    for encoding in _candidate_encodings(data):
        if encoding not in tried:
            tried.add(encoding)
            try:
                return data.decode(encoding, errors="strict")
            except UnicodeDecodeError:
                continue
    raise UnknownFormat(name, "text in none of UTF-8, GB18030/GBK or Big5", "文字编码不是 UTF-8、GB18030/GBK 或 Big5")


def _candidate_encodings(data: bytes) -> Iterator[str]:
    """UTF-8, then a charset the HTML declares, then GB18030 and Big5 ranked (only computed if needed)."""
    yield "utf-8"
    yield from _declared_charset(data)
    yield from _rank_chinese(data[:_SAMPLE])


def _declared_charset(data: bytes) -> list[str]:
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return []
    declared = match.group(1).decode("ascii", errors="ignore").lower()
    if declared in ("gb2312", "gbk", "gb18030", "x-gbk"):
        return ["gb18030"]
    return ["big5"] if declared in ("big5", "big5-hkscs") else []


def _rank_chinese(data: bytes) -> list[str]:
    """GB18030 and Big5, the one whose decoding reads more like Chinese first (GB18030 on a tie).

    >>> _rank_chinese("数字政府建设的实施意见".encode("gbk"))
    ['gb18030', 'big5']
    >>> _rank_chinese("數位政府建設的實施意見".encode("big5"))
    ['big5', 'gb18030']
    """
    scores = {encoding: _han_score(data, encoding) for encoding in ("gb18030", "big5")}
    return sorted(scores, key=lambda encoding: -scores[encoding])


def _han_score(data: bytes, encoding: str) -> float:
    text = data.decode(encoding, errors="replace")
    wide = [char for char in text if ord(char) > 0x7F]
    return sum(char in _COMMON_HAN for char in wide) / len(wide) if wide else 0.0


def _starts_with_heading(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    return bool(_MARKDOWN_HEADING.match(first))


# ---- markdown ------------------------------------------------------------------------------

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")


def _read_markdown(text: str) -> RawDocument:
    """Markdown as plain lines: headings keep their words, comments and bold markers go."""
    heading = _MARKDOWN_HEADING.search(text)
    plain = _HTML_COMMENT.sub("", text)
    plain = _MARKDOWN_HEADING.sub(lambda match: match.group(1), plain)
    plain = _EMPHASIS.sub(lambda match: match.group(1) or match.group(2), plain)
    return RawDocument(plain, "md", heading.group(1).strip() if heading else None)


# ---- HTML ----------------------------------------------------------------------------------

_DROPPED = "script, style, noscript, template, nav, iframe, svg, canvas, button, select, input, textarea, object"
_BLOCKS = (
    "p, div, br, hr, h1, h2, h3, h4, h5, h6, li, dt, dd, tr, table, section, article, header, footer, "
    "aside, main, blockquote, pre, ul, ol, dl, form, fieldset, address, figure, figcaption, center, caption"
)
_CELLS = "td, th"
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜| - | — |——)\s*")


def _read_html(markup: str) -> RawDocument:
    tree = LexborHTMLParser(markup)
    hint = _html_title(tree)
    for node in tree.css(_DROPPED):
        node.decompose()
    for node in tree.css(_BLOCKS):
        node.insert_before("\n")
        node.insert_after("\n")
    for node in tree.css(_CELLS):
        node.insert_after("\t")
    root = tree.body or tree.root
    raw = root.text(separator="", deep=True) if root is not None else ""
    return RawDocument(_tidy_lines(raw), "html", hint)


def _html_title(tree: LexborHTMLParser) -> str | None:
    meta = tree.css_first('meta[name="ArticleTitle"], meta[property="og:title"]')
    if meta is not None and (content := (meta.attributes.get("content") or "").strip()):
        return content
    for node in tree.css("h1"):
        text = " ".join(node.text(separator=" ").split())
        if 4 <= len(text) <= 150:
            return text
    title = tree.css_first("title")
    text = " ".join(title.text().split()) if title is not None else ""
    return _TITLE_SEPARATORS.split(text, maxsplit=1)[0] or None


def _tidy_lines(raw: str) -> str:
    """One line per block (table cells joined by tabs), inner whitespace collapsed, no empty lines."""
    lines: list[str] = []
    for line in raw.split("\n"):
        cells = [" ".join(cell.replace("\xa0", " ").split()) for cell in line.split("\t")]
        if tidy := "\t".join(cell for cell in cells if cell):
            lines.append(tidy)
    return "\n".join(lines)


# ---- DOCX ----------------------------------------------------------------------------------


def _read_docx(data: bytes, name: str) -> RawDocument:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.namelist()
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise BrokenDocx(name, f"damaged ZIP: {error}", "ZIP 压缩包已损坏") from error
    if "word/document.xml" not in members:
        raise BrokenDocx(name, "a ZIP archive without word/document.xml", "ZIP 压缩包中没有 word/document.xml")
    if unpacked > 4 * MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(name, unpacked, 4 * MAX_DOCUMENT_BYTES)
    try:
        document = docx.Document(io.BytesIO(data))
        lines = [line for block in document.iter_inner_content() for line in _block_lines(block)]
        title = document.core_properties.title
    except Exception as error:  # noqa: BLE001  (python-docx raises KeyError, lxml and zip errors alike)
        raise BrokenDocx(name, f"{type(error).__name__}: {error}", "文档结构已损坏") from error
    return RawDocument("\n".join(lines).strip(), "docx", title.strip() or None)


def _block_lines(block: Paragraph | Table) -> list[str]:
    if isinstance(block, Paragraph):
        return [block.text]
    lines: list[str] = []
    for row in block.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats in every grid column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        lines.append("\t".join(cells))
    return lines


# ---- PDF -----------------------------------------------------------------------------------


def _read_pdf(data: bytes, name: str) -> RawDocument:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _opens_without_password(reader):
            raise EncryptedPdf(name)
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise BrokenPdf(name, f"{type(error).__name__}: {error}") from error
    text = "\n".join(page.strip("\n") for page in pages).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise TextlessPdf(name, len(pages))
    return RawDocument(text, "pdf", title.strip() if isinstance(title, str) and title.strip() else None)


def _opens_without_password(reader: pypdf.PdfReader) -> bool:
    """Many published PDFs are encrypted only to restrict printing: the empty password opens them."""
    try:
        return bool(reader.decrypt(""))
    except (DependencyError, NotImplementedError, PdfReadError):
        return False
