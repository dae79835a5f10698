"""FAQ knowledge (常见问题): question/answer pairs from JSONL, CSV or XLSX, each with its department.

Columns are recognised by name in English or Chinese (question/问题, answer/答案/回答,
department/部门/来源部门). The same pair imported twice is one FAQ.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import Actor, require
from digigov.core.errors import Invalid, NotFound
from digigov.policy.events import FaqsImported
from digigov.policy.models import PolicyFaq
from digigov.policy.service import faq_passage, index_passages

HEADERS = {
    "question": ("question", "问题", "提问", "咨询问题"),
    "answer": ("answer", "答案", "回答", "答复", "官方回答"),
    "department": ("department", "部门", "来源部门", "答复部门"),
}
MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class FaqRow:
    question: str
    answer: str
    department: str | None


@dataclass(frozen=True)
class FaqImport:
    added: int
    unchanged: int
    source: str


def read_faqs(data: bytes, filename: str) -> Iterator[FaqRow]:
    """Rows of a JSONL, CSV or XLSX file; a missing column or a malformed line is an `Invalid` error."""
    if data[:2] == b"PK":
        yield from _from_table(_xlsx_rows(data), filename)
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise Invalid(
                f"{filename} is neither UTF-8 nor GB18030 text.", f"{filename} 既不是 UTF-8 也不是 GB18030 文本。"
            ) from None
    if text.lstrip().startswith("{"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise Invalid(
                    f"{filename} line {number} is not JSON: {error.msg}.", f"{filename} 第 {number} 行不是 JSON。"
                ) from None
            if not isinstance(record, dict):
                raise Invalid(f"{filename} line {number} is not an object.", f"{filename} 第 {number} 行不是对象。")
            yield from _from_table(iter([list(record), list(record.values())]), filename, one=True)
        return
    try:
        rows: list[list[object]] = [list(row) for row in csv.reader(io.StringIO(text))]
    except csv.Error as error:
        raise Invalid(f"{filename} is not readable CSV: {error}.", f"{filename} 不是可读取的 CSV：{error}。") from None
    yield from _from_table(iter(rows), filename)


def _xlsx_rows(data: bytes) -> Iterator[list[object]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001  (openpyxl raises many kinds for a broken file)
        raise Invalid("The file is not a readable XLSX workbook.", "该文件不是可读取的 XLSX 工作簿。") from None
    for row in book.worksheets[0].iter_rows(values_only=True):
        yield list(row)


def _from_table(rows: Iterator[list[object]], filename: str, *, one: bool = False) -> Iterator[FaqRow]:
    header = [str(h or "").strip().lower() for h in next(rows, [])]
    where = {}
    for name, names in HEADERS.items():
        where[name] = next((k for k, h in enumerate(header) if h in names), None)
    if where["question"] is None or where["answer"] is None:
        raise Invalid(
            f"{filename} needs a question and an answer column (question/问题, answer/答案).",
            f"{filename} 须有问题列和答案列（question/问题，answer/答案）。",
        )
    for row in rows:
        cells = [str(c).strip() if c is not None else "" for c in row]
        question = cells[where["question"]] if where["question"] < len(cells) else ""
        answer = cells[where["answer"]] if where["answer"] < len(cells) else ""
        column = where["department"]
        department = cells[column] if column is not None and column < len(cells) else ""
        if question and answer:
            yield FaqRow(question, answer, department or None)
        if one:
            return


def import_faqs(
    session: Session, actor: Actor, home: Path, data: bytes, filename: str, *, department: str | None = None
) -> FaqImport:
    """Import FAQ pairs; `department` fills rows that do not name one."""
    require(actor, "policy.library.manage")
    if len(data) > MAX_BYTES:
        raise Invalid(f"{filename} is larger than 50 MB.", f"{filename} 超过 50 MB。")
    rows = list(read_faqs(data, filename))
    if not rows:
        raise Invalid(f"{filename} holds no question/answer pair.", f"{filename} 中没有问答对。")
    added: list[PolicyFaq] = []
    unchanged = 0
    seen: set[str] = set()
    for row in rows:
        key = hashlib.sha256(f"{row.question}\n{row.answer}".encode()).hexdigest()
        if key in seen or session.scalars(select(PolicyFaq.id).where(PolicyFaq.key == key)).first() is not None:
            unchanged += 1
            continue
        seen.add(key)
        faq = PolicyFaq(
            key=key, question=row.question, answer=row.answer, department=row.department or department, source=filename
        )
        session.add(faq)
        added.append(faq)
    if not added:
        return FaqImport(0, unchanged, filename)  # nothing written, nothing to record
    session.flush()
    audit.record(session, actor, FaqsImported(added=len(added), unchanged=unchanged, source=filename[:200]))
    index_passages(home, [faq_passage(faq) for faq in added])
    return FaqImport(len(added), unchanged, filename)


def get_faq(session: Session, faq_id: int) -> PolicyFaq:
    faq = session.get(PolicyFaq, faq_id)
    if faq is None:
        raise NotFound(f"FAQ {faq_id} does not exist.", f"常见问题 {faq_id} 不存在。")
    return faq
