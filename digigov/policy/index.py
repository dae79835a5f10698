"""The policy search index: passages (documents, clauses, FAQs) in a tantivy index in the data home.

Layout: `folder/CURRENT` names the live generation `folder/g-<time>-<pid>/`. `rebuild` writes a
new generation beside it and swaps CURRENT with one `os.replace`, so a reader sees the old index
or the new one, never half of one; open handles notice the swap before their next search.

Ranking (figures from bench/policy_search.py, NCP policy QA, against plain bigram BM25):
BM25 over character bigrams of the text, plus single characters (CHAR_WEIGHT; doc R@1 +0.012,
FAQ R@1 +0.04) and the title's bigrams (TITLE_WEIGHT), synonyms and question words as in
`tokens`; then a document prior: a clause gains DOCUMENT_PRIOR x the score of its document's
full text, found in the same search (passage R@5 0.848 -> 0.864). Characters in more than
COMMON_CHAR of the passages are left out of queries on large indexes (p50 15 -> 5 ms at 100k).
A 文号 in the query puts that document's passages first; a quoted phrase must occur literally
(a phrase query per run of the phrase, then a check of the stored text).

Every search reloads the reader (0.1 ms), so commits by other processes are seen at once.
tantivy allows one writer per index across processes: `add`, `replace`, `remove_document` and
`rebuild` take it, retry while another holds it, and raise `IndexBusy` after `lock_timeout` s.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import threading
import time
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tantivy
from tantivy import Occur, Query

from digigov.core.errors import NotReady
from digigov.policy.tokens import (
    RUN,
    analyze_query,
    analyzed,
    find_doc_numbers,
    index_terms,
    normalize,
    normalize_doc_number,
    quoted_phrases,
    snippet,
)

__all__ = ["Hit", "IndexBusy", "IndexOutdated", "Passage", "PolicyIndex", "rebuild"]

SCHEMA_VERSION = 1
TITLE_WEIGHT = 0.3
CHAR_WEIGHT = 1.0
DOCUMENT_PRIOR = 0.3
CANDIDATES = 100  # passages re-ranked with the document prior
COMMON_CHAR = 0.3  # a character in more passages than this share says little and costs most of the search time
WRITER_HEAP = 64_000_000
REBUILD_HEAP = 256_000_000
KINDS = {"document": 0, "clause": 1, "faq": 2}
DOCUMENT, CLAUSE = KINDS["document"], KINDS["clause"]
WS = "ws"  # whitespace tokenizer: fields receive pre-analysed, space-joined terms

Kind = Literal["document", "clause", "faq"]


@dataclass(frozen=True)
class Passage:
    """One searchable unit: a whole document, a clause (or a window of a long one), or an FAQ."""

    key: str
    document_id: int
    kind: Kind
    title: str
    doc_number: str | None
    issuer: str | None
    year: int | None
    status: str
    region: str | None
    topics: tuple[str, ...]
    path: str
    text: str


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    snippet: str


class IndexBusy(NotReady):
    """Another process kept the index's writer lock for longer than the lock timeout."""

    def __init__(self, folder: Path, seconds: float) -> None:
        super().__init__(
            f"The policy index in {folder} is being written by another process (an import or a rebuild) "
            f"and stayed locked for {seconds:g} s; try again when it has finished.",
            f"政策检索索引（{folder}）正被其他进程写入（导入或重建），{seconds:g} 秒内未释放；请在其完成后重试。",
        )


class IndexOutdated(NotReady):
    """The folder holds an index written with another schema version."""

    def __init__(self, folder: Path, found: int) -> None:
        super().__init__(
            f"The policy index in {folder} has schema version {found}, this version needs {SCHEMA_VERSION}; "
            "rebuild the index (digigov policy reindex).",
            f"政策检索索引（{folder}）的结构版本为 {found}，当前需要 {SCHEMA_VERSION}；请重建索引。",
        )


# --- on-disk layout -------------------------------------------------------------------------


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in ("key", "issuer", "status", "region", "topic", "doc_number"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("document_id", indexed=True, fast=True)
    builder.add_integer_field("kind", indexed=True, fast=True)
    builder.add_integer_field("year", indexed=True)
    builder.add_text_field("title", tokenizer_name=WS)
    builder.add_text_field("text", tokenizer_name=WS)
    builder.add_text_field("chars", tokenizer_name=WS, index_option="freq")
    builder.add_bytes_field("passage", stored=True)
    return builder.build()


SCHEMA = _schema()
ANALYZER = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def _open(path: Path) -> tantivy.Index:
    path.mkdir(exist_ok=True)
    index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
    index.register_tokenizer(WS, ANALYZER)
    return index


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Serialises creating the first generation and swapping CURRENT between processes."""
    with open(folder / "lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_current(folder: Path, *, check: bool = True) -> str | None:
    try:
        pointer = json.loads((folder / "CURRENT").read_text())
    except FileNotFoundError:
        return None
    if check and pointer["schema"] != SCHEMA_VERSION:
        raise IndexOutdated(folder, pointer["schema"])
    return str(pointer["generation"])


def _write_current(folder: Path, generation: str) -> None:
    temporary = folder / f"CURRENT.{os.getpid()}.tmp"
    with open(temporary, "w") as handle:
        json.dump({"generation": generation, "schema": SCHEMA_VERSION}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / "CURRENT")


def _new_generation() -> str:
    return f"g-{time.time_ns():x}-{os.getpid()}"


def _current_generation(folder: Path) -> str:
    """The live generation, creating an empty first one if the folder has none."""
    folder.mkdir(parents=True, exist_ok=True)
    generation = _read_current(folder)
    if generation is not None:
        return generation
    with _folder_lock(folder):
        generation = _read_current(folder)
        if generation is None:
            generation = _new_generation()
            _open(folder / generation)
            _write_current(folder, generation)
    return generation


def _pointer_stamp(folder: Path) -> tuple[int, int]:
    stat = (folder / "CURRENT").stat()
    return stat.st_ino, stat.st_mtime_ns


def _acquire_writer(folder: Path, timeout: float, heap: int) -> tuple[str, tantivy.IndexWriter]:
    """The writer of the live generation, waiting while another process holds it."""
    deadline, pause = time.monotonic() + timeout, 0.02
    while True:
        generation = _current_generation(folder)
        try:
            writer = _open(folder / generation).writer(heap, 1)
        except ValueError as error:
            if "LockBusy" not in str(error):
                raise
        else:
            if _read_current(folder) == generation:
                return generation, writer
            writer.wait_merging_threads()  # a rebuild swapped generations while we waited
            continue
        if time.monotonic() >= deadline:
            raise IndexBusy(folder, timeout)
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def _document(passage: Passage) -> tantivy.Document:
    document = tantivy.Document()
    document.add_text("key", passage.key)
    document.add_integer("document_id", passage.document_id)
    document.add_integer("kind", KINDS[passage.kind])
    document.add_text("status", passage.status)
    for field, value in (("issuer", passage.issuer), ("region", passage.region)):
        if value:
            document.add_text(field, value)
    if passage.doc_number:
        document.add_text("doc_number", normalize_doc_number(passage.doc_number) or passage.doc_number)
    if passage.year is not None:
        document.add_integer("year", passage.year)
    for topic in passage.topics:
        document.add_text("topic", topic)
    # An FAQ's question is what a new question must match, so it also counts as text there.
    bigrams, chars = analyzed(f"{passage.title}\n{passage.text}" if passage.kind == "faq" else passage.text)
    document.add_text("title", analyzed(passage.title)[0])
    document.add_text("text", bigrams)
    document.add_text("chars", chars)
    document.add_bytes("passage", json.dumps(vars(passage), ensure_ascii=False).encode())
    return document


def _passage(document: tantivy.Document) -> Passage:
    payload = document.get_first("passage")
    assert isinstance(payload, bytes), "every passage stores its fields"
    fields: dict[str, Any] = json.loads(payload)
    fields["topics"] = tuple(fields["topics"])
    return Passage(**fields)


# --- the index ------------------------------------------------------------------------------


class PolicyIndex:
    """Search over policy passages kept in `folder`; safe to share between threads of one process."""

    def __init__(self, folder: Path, *, lock_timeout: float = 5.0) -> None:
        self.folder = folder
        self.lock_timeout = lock_timeout
        self._guard = threading.Lock()
        self._open_current()

    def _open_current(self) -> None:
        generation = _current_generation(self.folder)
        self._stamp = _pointer_stamp(self.folder)
        self._index = _open(self.folder / generation)

    def _searcher(self) -> tantivy.Searcher:
        """A searcher on the newest commit of the live generation."""
        with self._guard:
            if _pointer_stamp(self.folder) != self._stamp:
                self._open_current()
            self._index.reload()
            return self._index.searcher()

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        """The writer, committed and released on exit; searches in other threads go on meanwhile."""
        _, writer = _acquire_writer(self.folder, self.lock_timeout, WRITER_HEAP)
        try:
            yield writer
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()

    def add(self, passages: Iterable[Passage]) -> None:
        """Insert passages, replacing any with the same key."""
        self.replace((), passages)

    def replace(self, document_ids: Collection[int], passages: Iterable[Passage]) -> None:
        """Remove every passage of these documents and insert `passages`, in one commit."""
        with self._writer() as writer:
            for document_id in document_ids:
                writer.delete_documents_by_term("document_id", document_id)
            for passage in passages:
                writer.delete_documents_by_term("key", passage.key)
                writer.add_document(_document(passage))

    def remove_document(self, document_id: int) -> None:
        """Remove every passage of a document."""
        with self._writer() as writer:
            writer.delete_documents_by_term("document_id", document_id)

    def count(self) -> int:
        return int(self._searcher().num_docs)

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        kinds: Collection[str] | None = None,
        issuer: str | None = None,
        year: int | None = None,
        status: Collection[str] | None = None,
        region: str | None = None,
        topic: str | None = None,
        document_id: int | None = None,
    ) -> list[Hit]:
        """Passages best first; a blank query finds nothing. Filters are exact; `kinds`/`status` take any of."""
        if not query.strip() or limit < 1:
            return []
        searcher = self._searcher()
        plan = _Plan.of(query, searcher)
        if plan is None:
            return []
        filters = _filters(issuer=issuer, year=year, status=status, region=region, topic=topic, document_id=document_id)
        return _Search(searcher, plan, filters).run(limit, kinds)


def rebuild(folder: Path, passages: Iterable[Passage], *, lock_timeout: float = 5.0) -> int:
    """Write a fresh index of `passages` beside the live one and swap it in; returns how many were written.

    The live generation's writer is held throughout, so an `add` from elsewhere waits or fails
    loudly instead of landing in the generation about to be replaced. Also the way to upgrade
    an index written with an older schema.
    """
    old, hold = _hold_live(folder, lock_timeout)
    generation = _new_generation()
    try:
        count = _write_generation(folder / generation, passages)
        with _folder_lock(folder):
            _write_current(folder, generation)
            for stale in folder.glob("g-*"):
                if stale.name not in (old, generation):  # the old one may still be open in a reader
                    shutil.rmtree(stale, ignore_errors=True)
    except BaseException:
        shutil.rmtree(folder / generation, ignore_errors=True)
        raise
    finally:
        if hold is not None:
            hold.wait_merging_threads()
    return count


def _hold_live(folder: Path, timeout: float) -> tuple[str | None, tantivy.IndexWriter | None]:
    try:
        return _acquire_writer(folder, timeout, 15_000_000)
    except IndexOutdated:
        return _read_current(folder, check=False), None  # nothing writes to an outdated index


def _write_generation(path: Path, passages: Iterable[Passage]) -> int:
    writer = _open(path).writer(REBUILD_HEAP, min(4, os.cpu_count() or 1))
    seen: set[str] = set()
    try:
        for passage in passages:
            if passage.key in seen:
                writer.delete_documents_by_term("key", passage.key)
            seen.add(passage.key)
            writer.add_document(_document(passage))
        writer.commit()
    finally:
        writer.wait_merging_threads()
    return len(seen)


# --- queries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What a query asks for: weighted terms, literal phrases, 文号s, and the terms to highlight."""

    scoring: Query
    phrases: tuple[str, ...]
    phrase_query: Query | None
    doc_numbers: tuple[str, ...]
    marks: frozenset[str]

    @classmethod
    def of(cls, query: str, searcher: tantivy.Searcher) -> _Plan | None:
        if not query.strip():
            return None
        terms = analyze_query(query)
        clauses = [_term("text", term, weight) for term, weight in terms.bigrams.items()]
        clauses += [_term("title", term, weight * TITLE_WEIGHT) for term, weight in terms.bigrams.items()]
        chars = _uncommon(terms.chars, searcher) if clauses else terms.chars
        clauses += [_term("chars", term, weight * CHAR_WEIGHT) for term, weight in chars.items()]
        phrases = tuple(quoted_phrases(query))
        numbers = tuple(find_doc_numbers(query))
        if not clauses and not numbers:
            return None
        return cls(
            scoring=Query.boolean_query([(Occur.Should, clause) for clause in clauses]),
            phrases=phrases,
            phrase_query=_all([_phrase(phrase) for phrase in phrases]) if phrases else None,
            doc_numbers=numbers,
            marks=frozenset(terms.bigrams),
        )


def _uncommon(chars: dict[str, float], searcher: tantivy.Searcher) -> dict[str, float]:
    """The characters that are not in more than COMMON_CHAR of the passages (all of them in small indexes)."""
    total = searcher.num_docs
    if total < 1000:
        return chars
    return {char: weight for char, weight in chars.items() if searcher.doc_freq("chars", char) <= COMMON_CHAR * total}


def _term(field: str, term: str, weight: float) -> Query:
    query = Query.term_query(SCHEMA, field, term)
    return query if weight == 1.0 else Query.boost_query(query, weight)


def _all(queries: list[Query]) -> Query:
    return Query.boolean_query([(Occur.Must, query) for query in queries])


def _filter(query: Query) -> Query:
    return Query.const_score_query(query, 0.0)


def _phrase(phrase: str) -> Query:
    """Candidates for a literal phrase: each of its runs at consecutive positions, in the text or the title.

    The runs' order and what lies between them are checked on the stored text (`_has_phrases`).
    """
    runs = RUN.findall(normalize(phrase))
    alternatives = [_all([_run("text", run) for run in runs])]
    if all(len(run) > 1 or run[0] < "\u3400" for run in runs):
        alternatives.append(_all([_run("title", run) for run in runs]))
    return _filter(Query.boolean_query([(Occur.Should, query) for query in alternatives]))


def _run(field: str, run: str) -> Query:
    if run[0] >= "\u3400" and len(run) == 1:
        return Query.term_query(SCHEMA, "chars", run)
    terms: list[str | tuple[int, str]] = list(index_terms(run))
    return Query.phrase_query(SCHEMA, field, terms) if len(terms) > 1 else Query.term_query(SCHEMA, field, terms[0])


def _filters(
    *,
    issuer: str | None,
    year: int | None,
    status: Collection[str] | None,
    region: str | None,
    topic: str | None,
    document_id: int | None,
) -> list[Query]:
    found: list[Query] = []
    pairs = (("issuer", issuer), ("region", region), ("topic", topic), ("year", year), ("document_id", document_id))
    for field, value in pairs:
        if value is not None:
            found.append(_filter(Query.term_query(SCHEMA, field, value)))
    if status is not None:
        found.append(_filter(Query.term_set_query(SCHEMA, "status", list(status))))
    return found


def _kinds(codes: Collection[int]) -> Query:
    return _filter(Query.term_set_query(SCHEMA, "kind", list(codes)))


class _Search:
    """One search: exact 文号 matches first, then the rest ranked by BM25 plus the document prior."""

    def __init__(self, searcher: tantivy.Searcher, plan: _Plan, filters: list[Query]) -> None:
        self.searcher, self.plan = searcher, plan
        self.filters = filters + ([plan.phrase_query] if plan.phrase_query is not None else [])

    def run(self, limit: int, kinds: Collection[str] | None) -> list[Hit]:
        wanted = None if kinds is None else {KINDS[kind] for kind in kinds if kind in KINDS}
        if not self.plan.doc_numbers:
            return self._ranked([], limit, wanted)
        numbers = _filter(Query.term_set_query(SCHEMA, "doc_number", list(self.plan.doc_numbers)))
        kind_filter = [] if wanted is None else [_kinds(wanted)]
        required = [(Occur.Must, query) for query in (numbers, *self.filters, *kind_filter)]
        exact = self._ranked([], limit, wanted, Query.boolean_query([*required, (Occur.Should, self.plan.scoring)]))
        return exact + self._ranked([(Occur.MustNot, numbers)], limit - len(exact), wanted)

    def _ranked(
        self, extra: list[tuple[Occur, Query]], limit: int, wanted: set[int] | None, query: Query | None = None
    ) -> list[Hit]:
        """The top `limit` passages of the wanted kinds; a clause gains DOCUMENT_PRIOR x its document's score.

        Whole documents are searched along with the wanted kinds, so one search yields both.
        """
        if limit < 1:
            return []
        candidates = max(limit, CANDIDATES)
        if query is None:
            searched = None if wanted is None else wanted | {DOCUMENT}
            share = self._share(searched)
            # A filter on most of the index costs more than it saves (it stops tantivy skipping
            # blocks of low scores): read proportionally more candidates and filter them here.
            kind_filter = [] if share >= 0.5 else [(Occur.Must, _kinds(searched or ()))]
            candidates = math.ceil(candidates / share) if share >= 0.5 else candidates
            required = [(Occur.Must, query) for query in (self.plan.scoring, *self.filters)]
            query = Query.boolean_query([*required, *kind_filter, *extra])
        found = self.searcher.search(query, candidates, count=False).hits
        addresses = [address for _, address in found]
        kinds = self.searcher.fast_field_values("kind", addresses)
        ids = self.searcher.fast_field_values("document_id", addresses)
        documents = {id: score for (score, _), kind, id in zip(found, kinds, ids, strict=True) if kind == DOCUMENT}
        ranked = sorted(
            (
                (score + DOCUMENT_PRIOR * (documents.get(id, 0.0) if kind == CLAUSE else score), address)
                for (score, address), kind, id in zip(found, kinds, ids, strict=True)
                if wanted is None or kind in wanted
            ),
            key=lambda pair: -pair[0],
        )
        return self._hits(ranked, limit)

    def _share(self, kinds: set[int] | None) -> float:
        """The share of passages that are of these kinds (1 when any kind will do)."""
        total = self.searcher.num_docs
        if kinds is None or not total:
            return 1.0
        return min(1.0, sum(self.searcher.doc_freq("kind", kind) for kind in kinds) / total)

    def _hits(self, ranked: list[tuple[float, tantivy.DocAddress]], limit: int) -> list[Hit]:
        hits: list[Hit] = []
        for score, address in ranked:
            passage = _passage(self.searcher.doc(address))
            if self.plan.phrases and not _has_phrases(passage, self.plan.phrases):
                continue
            hits.append(Hit(passage=passage, score=score, snippet=snippet(passage.text, self.plan.marks)))
            if len(hits) == limit:
                break
        return hits


def _has_phrases(passage: Passage, phrases: tuple[str, ...]) -> bool:
    haystack = normalize(passage.title) + "\n" + normalize(passage.text)
    return all(phrase in haystack for phrase in phrases)
