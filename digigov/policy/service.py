"""The policy library's use cases: import documents and FAQs, browse, search, rebuild the index.

A document's identity is its normalised 文号, or its title and issuer when it has none. Importing
the same text again changes nothing; a changed text becomes the next immutable revision, and the
document's metadata, clauses and links follow the newest one. The search index in the data home
is derived: it is updated at the end of each import and can always be rebuilt from the database.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import Actor, require
from digigov.core.db import utcnow
from digigov.core.errors import Invalid, NotFound
from digigov.policy import actions as _actions  # noqa: F401  (declares the actions)
from digigov.policy.citations import find_citations
from digigov.policy.clauses import clause_tree
from digigov.policy.events import DocumentImported, DocumentRepealed, IndexRebuilt
from digigov.policy.furniture import strip_furniture
from digigov.policy.index import Hit, Passage, PolicyIndex, rebuild
from digigov.policy.metadata import Metadata, extract_metadata, find_repeals
from digigov.policy.models import PolicyClause, PolicyDocument, PolicyFaq, PolicyLink, PolicyRevision, PolicyStatus
from digigov.policy.reading import read_document

SUFFIXES = {".txt", ".html", ".htm", ".docx", ".pdf", ".md"}
WINDOW, STRIDE = 300, 200  # long clauses are indexed as overlapping windows so citations stay short
MAX_BYTES = 50 * 1024 * 1024

Outcome = Literal["created", "revised", "unchanged"]


class TooLarge(Invalid):
    code = "policy_file_too_large"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is larger than 50 MB.", f"{name} 超过 50 MB。")


@dataclass(frozen=True)
class Imported:
    """What one import did; `as_json` is the stable line `digigov policy import --json` prints."""

    id: int
    source: str
    title: str
    doc_number: str | None
    issuer: str | None
    issue_date: date | None
    status: str
    revision: int
    outcome: Outcome

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "title": self.title,
            "doc_number": self.doc_number,
            "issuer": self.issuer,
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "status": self.status,
            "revision": self.revision,
            "outcome": self.outcome,
        }


# --- the index -------------------------------------------------------------------------------

_indexes: dict[Path, PolicyIndex] = {}
_lock = threading.Lock()


def index_folder(home: Path) -> Path:
    return home / "policy" / "index"


def open_index(home: Path) -> PolicyIndex:
    """The process's handle on the data home's policy index, opened once."""
    folder = index_folder(home).resolve()
    with _lock:
        if folder not in _indexes:
            folder.mkdir(parents=True, exist_ok=True)
            _indexes[folder] = PolicyIndex(folder)
        return _indexes[folder]


@dataclass
class _Batch:
    removed: set[int] = field(default_factory=set)
    added: list[Passage] = field(default_factory=list)


_batch: ContextVar[_Batch | None] = ContextVar("policy_index_batch", default=None)


@contextmanager
def index_batch(home: Path) -> Iterator[None]:
    """Gather the index changes of many imports and write them with one commit at the end.

    Committing the index once per document dominates a bulk import; inside this block imports
    only queue their changes. If the block fails, nothing is written to the index.
    """
    batch = _Batch()
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    if batch.removed or batch.added:
        open_index(home).replace(batch.removed, batch.added)


def replace_in_index(home: Path, document_ids: list[int], entries: list[Passage]) -> None:
    """Swap a document's passages in the index (now, or at the end of the current batch)."""
    batch = _batch.get()
    if batch is None:
        open_index(home).replace(set(document_ids), entries)
        return
    gone = set(document_ids)
    batch.added = [p for p in batch.added if p.document_id not in gone or p.kind == "faq"]
    batch.removed |= gone
    batch.added.extend(entries)


def index_passages(home: Path, entries: list[Passage]) -> None:
    """Add passages that replace nothing (FAQs)."""
    batch = _batch.get()
    if batch is None:
        open_index(home).add(entries)
    else:
        batch.added.extend(entries)


def passages(document: PolicyDocument, clauses: list[PolicyClause], revision_text: str) -> Iterator[Passage]:
    """The index entries of a document: one for the whole text, and each clause (long ones in windows)."""
    common = Passage(
        key=f"d:{document.id}",
        document_id=document.id,
        kind="document",
        title=document.title,
        doc_number=document.doc_number,
        issuer=document.issuer,
        year=document.year,
        status=str(document.status),
        region=document.region,
        topics=tuple(document.topics or ()),
        path="",
        text=revision_text,
    )
    yield common
    for clause in clauses:
        body = clause.text
        if not body.strip():
            continue
        starts = [0] if len(body) <= WINDOW + STRIDE // 2 else range(0, max(len(body) - STRIDE // 2, 1), STRIDE)
        for offset in starts:
            piece = body[offset : offset + WINDOW] if len(starts) > 1 else body
            yield replace(
                common, key=f"c:{clause.id}:{clause.start + offset}", kind="clause", path=clause.path, text=piece
            )


def faq_passage(faq: PolicyFaq) -> Passage:
    return Passage(
        key=f"f:{faq.id}",
        document_id=0,
        kind="faq",
        title=faq.question,
        doc_number=None,
        issuer=faq.department,
        year=None,
        status=PolicyStatus.in_force,
        region=None,
        topics=(),
        path="",
        text=faq.answer,
    )


def clause_offset(hit: Hit) -> tuple[int, int] | None:
    """For a clause hit: (clause id, start offset of the passage in the revision text)."""
    kind, _, rest = hit.passage.key.partition(":")
    if kind != "c":
        return None
    clause_id, _, start = rest.partition(":")
    return int(clause_id), int(start or 0)


# --- importing -------------------------------------------------------------------------------


def document_key(meta: Metadata) -> str:
    """Identity across imports: the 文号, else title and issuer."""
    if meta.doc_number:
        return f"no:{meta.doc_number}"
    return f"title:{meta.title}|{meta.issuer or ''}"[:400]


def import_file(session: Session, actor: Actor, home: Path, path: Path, *, source: str | None = None) -> Imported:
    """Import one file (text, HTML, DOCX, PDF or Markdown)."""
    require(actor, "policy.library.manage")
    if not path.is_file():
        raise NotFound(f"No such file: {path}", f"文件不存在：{path}")
    if path.stat().st_size > MAX_BYTES:
        raise TooLarge(path.name)
    return import_bytes(session, actor, home, path.read_bytes(), path.name, source=source or str(path))


def import_bytes(session: Session, actor: Actor, home: Path, data: bytes, filename: str, *, source: str) -> Imported:
    """Import a document's file content, recognised by content."""
    require(actor, "policy.library.manage")
    raw = read_document(data, filename)
    return import_text(session, actor, home, raw.text, source=source, format=raw.format, title_hint=raw.title_hint)


def files_under(path: Path) -> list[Path]:
    """The importable files of a folder, recursively, in a stable order (a file is itself)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise NotFound(f"No such file or folder: {path}", f"文件或文件夹不存在：{path}")
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def import_text(
    session: Session,
    actor: Actor,
    home: Path,
    raw_text: str,
    *,
    source: str,
    format: str = "txt",
    title_hint: str | None = None,
) -> Imported:
    """Import a document's text: clean it, extract metadata and clauses, store a revision if it is new."""
    require(actor, "policy.library.manage")
    text = strip_furniture(raw_text)
    if not text.strip():
        raise Invalid(f"{source} has no text once page furniture is removed.", f"{source} 去除页面杂项后没有正文。")
    meta = extract_metadata(text, title_hint=title_hint)
    sha = hashlib.sha256(text.encode()).hexdigest()
    document = session.scalars(select(PolicyDocument).where(PolicyDocument.key == document_key(meta))).one_or_none()
    if document is not None:
        seen = session.scalars(
            select(PolicyRevision.number).where(PolicyRevision.document_id == document.id, PolicyRevision.sha256 == sha)
        ).first()
        if seen is not None:
            return _imported(document, source, "unchanged")
    outcome: Outcome = "created" if document is None else "revised"
    if document is None:
        document = PolicyDocument(key=document_key(meta), source=source, revision=0, status=PolicyStatus.in_force)
        session.add(document)
    _apply_metadata(document, meta)
    document.revision += 1
    document.updated_at = utcnow()
    session.flush()
    revision = PolicyRevision(
        document_id=document.id,
        number=document.revision,
        sha256=sha,
        source=source,
        format=format,
        text=text,
        metadata_=_metadata_json(meta),
        imported_by=actor.username,
    )
    session.add(revision)
    session.flush()
    clauses = _store_clauses(session, document, revision)
    changed = _store_links(session, actor, document, text)
    audit.record(
        session,
        actor,
        DocumentImported(document_id=document.id, revision=revision.number, doc_number=document.doc_number, sha256=sha),
    )
    session.flush()
    replace_in_index(home, [document.id], list(passages(document, clauses, text)))
    for other in changed:
        _reindex(session, home, other)
    return _imported(document, source, outcome)


def _apply_metadata(document: PolicyDocument, meta: Metadata) -> None:
    document.title = meta.title[:500]
    document.doc_number = meta.doc_number
    document.issuer = meta.issuer
    document.recipients = list(meta.recipients)
    document.issue_date = meta.issue_date
    document.effective_date = meta.effective_date
    document.expiry_date = meta.expiry_date
    document.validity = meta.validity[:500] if meta.validity else None
    document.region = meta.region
    document.topics = list(meta.topics)
    if meta.status != PolicyStatus.in_force or document.replaced_by_id is None:
        document.status = PolicyStatus(meta.status)


def _metadata_json(meta: Metadata) -> dict[str, Any]:
    return {
        "title": meta.title,
        "doc_number": meta.doc_number,
        "issuer": meta.issuer,
        "recipients": list(meta.recipients),
        "issue_date": meta.issue_date.isoformat() if meta.issue_date else None,
        "effective_date": meta.effective_date.isoformat() if meta.effective_date else None,
        "expiry_date": meta.expiry_date.isoformat() if meta.expiry_date else None,
        "validity": meta.validity,
        "region": meta.region,
        "status": meta.status,
        "topics": list(meta.topics),
    }


def _store_clauses(session: Session, document: PolicyDocument, revision: PolicyRevision) -> list[PolicyClause]:
    rows = [
        PolicyClause(
            revision_id=revision.id,
            document_id=document.id,
            ordinal=ordinal,
            path=clause.path[:200],
            heading=clause.heading[:500],
            level=clause.level,
            parent_ordinal=clause.parent,
            start=clause.start,
            end=clause.end,
            text=clause.text,
        )
        for ordinal, clause in enumerate(clause_tree(revision.text))
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _store_links(session: Session, actor: Actor, document: PolicyDocument, text: str) -> list[PolicyDocument]:
    """Replace its outgoing links, resolve links to it, apply repeals; return other documents whose status changed."""
    session.query(PolicyLink).filter(PolicyLink.document_id == document.id).delete()
    found = [("repeals", c) for c in find_repeals(text)]
    found += [("cites", c) for c in find_citations(text, own_number=document.doc_number)]
    seen: set[str] = set()
    for kind, citation in found:
        names = {n for n in (citation.title, citation.doc_number) if n}
        if not names or names & seen:
            continue  # one link per cited document; a repeal says more than a citation
        seen.update(names)
        session.add(
            PolicyLink(
                document_id=document.id,
                kind=kind,
                cited_title=citation.title[:500] if citation.title else None,
                cited_number=citation.doc_number,
                cited_id=_resolve(session, citation.title, citation.doc_number, not_id=document.id),
            )
        )
    session.flush()
    matches = [PolicyLink.cited_title == document.title]
    if document.doc_number:
        matches.append(PolicyLink.cited_number == document.doc_number)
    session.execute(
        update(PolicyLink)
        .where(PolicyLink.cited_id.is_(None), PolicyLink.document_id != document.id, or_(*matches))
        .values(cited_id=document.id)
    )
    changed: list[PolicyDocument] = []
    repealing = session.scalars(
        select(PolicyLink).where(
            PolicyLink.kind == "repeals", or_(PolicyLink.document_id == document.id, PolicyLink.cited_id == document.id)
        )
    ).all()
    for link in repealing:
        if link.cited_id is None:
            continue
        target = session.get(PolicyDocument, link.cited_id)
        if target is None or target.status == PolicyStatus.repealed:
            continue
        target.status = PolicyStatus.repealed
        target.replaced_by_id = link.document_id
        audit.record(session, actor, DocumentRepealed(document_id=target.id, repealed_by=link.document_id))
        if target.id != document.id:
            changed.append(target)
    session.flush()
    return changed


def _resolve(session: Session, title: str | None, number: str | None, *, not_id: int) -> int | None:
    if number:
        found = session.scalars(
            select(PolicyDocument.id).where(PolicyDocument.doc_number == number, PolicyDocument.id != not_id)
        ).first()
        if found is not None:
            return found
    if title:
        return session.scalars(
            select(PolicyDocument.id).where(PolicyDocument.title == title, PolicyDocument.id != not_id)
        ).first()
    return None


def _reindex(session: Session, home: Path, document: PolicyDocument) -> None:
    revision = current_revision(session, document)
    replace_in_index(home, [document.id], list(passages(document, document_clauses(session, document), revision.text)))


def _imported(document: PolicyDocument, source: str, outcome: Outcome) -> Imported:
    return Imported(
        id=document.id,
        source=source,
        title=document.title,
        doc_number=document.doc_number,
        issuer=document.issuer,
        issue_date=document.issue_date,
        status=str(document.status),
        revision=document.revision,
        outcome=outcome,
    )


# --- reading ---------------------------------------------------------------------------------


def require_read(actor: Actor) -> None:
    require(actor, "policy.library.read")


def titles(session: Session, ids: set[int | None]) -> dict[int, tuple[str, str | None]]:
    """Title and 文号 of each document id, for links."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(PolicyDocument.id, PolicyDocument.title, PolicyDocument.doc_number).where(PolicyDocument.id.in_(wanted))
    )
    return {i: (title, number) for i, title, number in rows}


def get_document(session: Session, actor: Actor, document_id: int) -> PolicyDocument:
    require(actor, "policy.library.read")
    document = session.get(PolicyDocument, document_id)
    if document is None:
        raise NotFound(f"Policy document {document_id} does not exist.", f"政策文件 {document_id} 不存在。")
    return document


def current_revision(session: Session, document: PolicyDocument) -> PolicyRevision:
    return session.scalars(
        select(PolicyRevision).where(
            PolicyRevision.document_id == document.id, PolicyRevision.number == document.revision
        )
    ).one()


def document_clauses(session: Session, document: PolicyDocument) -> list[PolicyClause]:
    revision = current_revision(session, document)
    return list(
        session.scalars(
            select(PolicyClause).where(PolicyClause.revision_id == revision.id).order_by(PolicyClause.ordinal)
        )
    )


def document_links(session: Session, document: PolicyDocument) -> tuple[list[PolicyLink], list[PolicyLink]]:
    """(what it cites or repeals, what cites or repeals it)."""
    outgoing = list(session.scalars(select(PolicyLink).where(PolicyLink.document_id == document.id)))
    incoming = list(session.scalars(select(PolicyLink).where(PolicyLink.cited_id == document.id)))
    return outgoing, incoming


def search(
    session: Session,
    actor: Actor,
    home: Path,
    query: str,
    *,
    limit: int = 10,
    kinds: tuple[str, ...] | None = None,
    issuer: str | None = None,
    year: int | None = None,
    status: tuple[str, ...] | None = None,
    region: str | None = None,
    topic: str | None = None,
) -> list[dict[str, Any]]:
    """Full-text search over documents, clauses and FAQs, best first, each hit with its document."""
    require(actor, "policy.library.read")
    if not 1 <= limit <= 100:
        raise Invalid("limit must be 1 to 100.", "limit 须在 1 到 100 之间。")
    hits = open_index(home).search(
        query, limit=limit, kinds=kinds, issuer=issuer, year=year, status=status, region=region, topic=topic
    )
    ids = {h.passage.document_id for h in hits if h.passage.kind != "faq"}
    sources = (
        dict(session.execute(select(PolicyDocument.id, PolicyDocument.source).where(PolicyDocument.id.in_(ids))).all())
        if ids
        else {}
    )
    found = []
    for hit in hits:
        passage = hit.passage
        if passage.kind != "faq" and passage.document_id not in sources:
            continue  # the index is ahead of an import that was rolled back
        document = None
        if passage.kind != "faq":
            document = {
                "id": passage.document_id,
                "source": sources[passage.document_id],
                "title": passage.title,
                "doc_number": passage.doc_number,
            }
        found.append(
            {
                "kind": passage.kind,
                "document": document,
                "faq_id": int(passage.key.partition(":")[2]) if passage.kind == "faq" else None,
                "question": passage.title if passage.kind == "faq" else None,
                "clause": passage.path,
                "text": passage.text if passage.kind != "document" else passage.text[:500],
                "snippet": hit.snippet,
                "status": passage.status,
                "score": round(float(hit.score), 4),
            }
        )
    return found


def browse(
    session: Session,
    actor: Actor,
    *,
    issuer: str | None = None,
    year: int | None = None,
    status: str | None = None,
    topic: str | None = None,
    region: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[PolicyDocument], int]:
    """Documents newest first with the filters applied, and how many match in all."""
    require(actor, "policy.library.read")
    query = select(PolicyDocument)
    if issuer:
        query = query.where(PolicyDocument.issuer == issuer)
    if year:
        query = query.where(
            PolicyDocument.issue_date >= date(year, 1, 1), PolicyDocument.issue_date <= date(year, 12, 31)
        )
    if status:
        query = query.where(PolicyDocument.status == status)
    if region:
        query = query.where(PolicyDocument.region == region)
    documents = (
        list(session.scalars(query.order_by(PolicyDocument.issue_date.desc().nulls_last(), PolicyDocument.id.desc())))
        if topic
        else None
    )
    if documents is not None:  # topics are a JSON list: filter them here, the list is small
        matching = [d for d in documents if topic in (d.topics or [])]
        return matching[offset : offset + limit], len(matching)
    count = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    page = session.scalars(
        query.order_by(PolicyDocument.issue_date.desc().nulls_last(), PolicyDocument.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(page), count


def facets(session: Session) -> dict[str, list[tuple[str, int]]]:
    """Issuers, years, statuses and topics with their document counts, for the browse page's filters."""
    issuers = session.execute(
        select(PolicyDocument.issuer, func.count())
        .where(PolicyDocument.issuer.is_not(None))
        .group_by(PolicyDocument.issuer)
        .order_by(func.count().desc())
        .limit(30)
    ).all()
    statuses = session.execute(select(PolicyDocument.status, func.count()).group_by(PolicyDocument.status)).all()
    years: dict[str, int] = {}
    topics: dict[str, int] = {}
    for issued, listed in session.execute(select(PolicyDocument.issue_date, PolicyDocument.topics)):
        if issued:
            years[str(issued.year)] = years.get(str(issued.year), 0) + 1
        for topic in listed or []:
            topics[topic] = topics.get(topic, 0) + 1
    return {
        "issuer": [(str(i), int(n)) for i, n in issuers],
        "year": sorted(years.items(), reverse=True)[:20],
        "status": [(str(s), int(n)) for s, n in statuses],
        "topic": sorted(topics.items(), key=lambda item: -item[1])[:20],
    }


def rebuild_index(session: Session, actor: Actor, home: Path) -> int:
    """Write a fresh index from the database and swap it in; returns the number of passages."""
    require(actor, "policy.library.manage")

    def everything() -> Iterator[Passage]:
        for document in session.scalars(select(PolicyDocument).order_by(PolicyDocument.id)):
            revision = current_revision(session, document)
            yield from passages(document, document_clauses(session, document), revision.text)
        for faq in session.scalars(select(PolicyFaq).order_by(PolicyFaq.id)):
            yield faq_passage(faq)

    folder = index_folder(home).resolve()
    with _lock:
        _indexes.pop(folder, None)
    count = rebuild(folder, everything())
    audit.record(session, actor, IndexRebuilt(passages=count))
    return count
