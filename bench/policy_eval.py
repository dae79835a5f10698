"""Policy Q&A evaluation through the service (import → index → search/ask), every figure beside a same-run baseline.

    python bench/policy_eval.py [--data DIR] [--seed-file FILE] [--limit-questions N] [--seed 1]
                                [--skip-sweep] [--skip-batch-import] [--examples 8] [--cache DIR]

1. Imports into a temporary data home, one unit of work per document as `digigov policy import` does:
   the NCP corpus (`text`, source "ncp:<docid>"), the 410 LawRefBook regulations (`markdown`, as
   "<id>.md" through `import_bytes`, source "lawrefbook:<id>"), the 28 gov.cn documents (`text`,
   source "govcn:<id>") and the seed 浙政发〔2022〕20号 (`import_file`, source "seed"); documents/s,
   with the time in index writes; then the same texts again through `index_batch` into a second home.
2. NCP questions: document R@1/R@10/MRR@10 (documents in the order of their best clause hit in
   `search(q, kinds=("clause",), limit=100)`), passage R@5 (one of the top 5 clause hits is in the
   gold document and its text contains the gold answer, both NFKC-normalised without whitespace:
   the stored text is cleaned, so offsets differ), answer containment (`ask()`: the answer or a
   citation contains the gold answer), abstention and precision of the answers given.
3. The same on our own questions (bench/data/policy_questions.jsonl); a passage also counts when its
   clause path is the gold clause (or inside it).
4. FAQ retrieval on MSGABench: imported with `import_faqs`, each question searched with
   kinds=("faq",) (near-trivial: the question itself is indexed); and the held-out setting where
   each FAQ is indexed by its answer only (a `PolicyIndex` of Passage(kind="faq", title="")).
   Questions reach the index with quote marks made spaces, as `ask()` passes them (in the search
   box a quoted phrase is a strict filter; a "quotes kept" row gives that too).
5. Abstention: `ask()` on bench/data/policy_unanswerable.jsonl without and with the FAQs imported;
   the wrongly answered ones are listed with what they cited. A sweep of answering.CONFIDENT
   (0.30 … 0.80, monkeypatched in this process only) gives declined share vs answered/contained on
   NCP and on our own questions.
6. BASELINE, same run: Okapi BM25 (k1 1.5, b 0.75) over character bigrams of the raw texts (runs of
   word characters, no normalisation, synonyms, boosts or fields) in 300-character windows with
   stride 200; a document ranks by its best window; passage = window covering the NCP answer
   offsets (own questions: window containing the answer); "answer" = the top-1 window passes that
   test. FAQ baselines: BM25 over question + answer, and over the answer only. The baseline never
   declines, so its declined share is 0.
Goals from the issue: beat the baseline on every figure, passage R@5 ≥ 0.85, declined ≥ 0.80.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import math
import random
import re
import shutil
import statistics
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from digigov.core import migrate
from digigov.core.auth import SYSTEM
from digigov.core.db import make_engine, unit_of_work
from digigov.core.errors import DigigovError
from digigov.policy import answering, faqs, service, tokens
from digigov.policy import index as policy_index
from digigov.policy.clauses import clause_tree
from digigov.policy.furniture import strip_furniture
from digigov.policy.index import Passage, PolicyIndex
from digigov.policy.metadata import extract_metadata
from digigov.policy.models import PolicyDocument, PolicyFaq
from digigov.policy.reading import read_document

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "data" / "policy"
SEED = SHARED / "seed" / "zhejiang-digital-government-2022-20.txt"
OWN = Path(__file__).resolve().parent / "data"
WINDOW, STRIDE, K1, B = 300, 200, 1.5, 0.75
WORD_RUN = re.compile(r"\w+")
QUOTES = answering.QUOTES  # what ask() turns into spaces before it searches
LAW_PREFIX = re.compile(r"^(?:第[^ ]+?[编章节] )+")
SENTENCE_END = re.compile("[。！？；!?;]")
THRESHOLDS = [round(0.30 + 0.05 * k, 2) for k in range(11)]


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    source: str  # "ncp:<docid>", "lawrefbook:<id>", "govcn:<id>" or "seed"
    text: str  # as given, not cleaned


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    gold: str  # the gold document's source
    answer: str
    start: int = -1  # NCP answer offsets in the raw text
    end: int = -1
    clause: str = ""  # own questions: the clause as the document labels it
    near: bool = True  # unanswerable questions: topically close to the corpus


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_corpus(data: Path, seed: Path) -> list[Doc]:
    docs = [Doc(f"ncp:{r['docid']}", r["text"]) for r in jsonl(data / "ncp_covid_policy_qa" / "corpus.jsonl")]
    docs += [
        Doc(f"lawrefbook:{r['id']}", r["markdown"])
        for r in jsonl(data / "lawrefbook_zhejiang_local_regulations" / "docs.jsonl")
    ]
    docs += [Doc(f"govcn:{r['id']}", r["text"]) for r in jsonl(data / "govcn_state_council_docs" / "docs.jsonl")]
    return [*docs, Doc("seed", seed.read_text(encoding="utf-8"))]


def load_ncp(data: Path) -> list[Question]:
    return [
        Question(
            r["qid"], r["question"], f"ncp:{r['gold_docid']}", r["answer"], r["answer_char_start"], r["answer_char_end"]
        )
        for r in jsonl(data / "ncp_covid_policy_qa" / "qa.jsonl")
    ]


def load_own(path: Path, texts: dict[str, str]) -> list[Question]:
    """Our questions; each answer must be a literal substring of its document's text, or this fails loudly."""
    questions = []
    for r in jsonl(path):
        source = "seed" if r["gold_source"] == "seed" else f"lawrefbook:{r['gold_source']}"
        if r["answer"] not in texts[source]:
            raise SystemExit(f"{r['id']}: answer is not in {source}: {r['answer']}")
        questions.append(Question(r["id"], r["question"], source, r["answer"], clause=r["gold_clause"]))
    return questions


def load_unanswerable(path: Path) -> list[Question]:
    return [Question(r["id"], r["question"], "", "", near=r.get("near_corpus", True)) for r in jsonl(path)]


def sample(questions: list[Question], limit: int | None, rng: random.Random) -> list[Question]:
    return questions if limit is None or limit >= len(questions) else rng.sample(questions, limit)


def norm(text: str) -> str:
    """NFKC, no whitespace: the stored text is cleaned (full-width punctuation, squeezed spaces).

    >>> norm("县(市、区) 人民政府,") == norm("县（市、区）人民政府，")
    True
    """
    return "".join(unicodedata.normalize("NFKC", text).split())


# --- the baseline: plain BM25 over character bigrams of raw 300-character windows ---------------------


def bigrams(text: str) -> list[str]:
    """Character bigrams of each run of word characters; a one-character run stays itself.

    >>> bigrams("免申即享，A1")
    ['免申', '申即', '即享', 'A1']
    """
    terms: list[str] = []
    for run in WORD_RUN.findall(text):
        terms.extend([run] if len(run) == 1 else [a + b for a, b in zip(run, run[1:], strict=False)])
    return terms


@dataclass(frozen=True)
class Window:
    doc: str
    start: int
    end: int
    text: str


def windows(doc: Doc) -> Iterator[Window]:
    for start in range(0, max(len(doc.text) - WINDOW, 0) + STRIDE, STRIDE):
        yield Window(doc.source, start, min(start + WINDOW, len(doc.text)), doc.text[start : start + WINDOW])
        if start + WINDOW >= len(doc.text):
            break


class PlainBM25:
    """Okapi BM25, idf ln(1 + (N - n + 0.5) / (n + 0.5)), over the bigrams of each text, in pure Python."""

    def __init__(self, texts: Sequence[str]) -> None:
        counts = [Counter(bigrams(text)) for text in texts]
        lengths = [sum(c.values()) for c in counts]
        average = max(sum(lengths) / max(len(lengths), 1), 1.0)
        rows: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, c in enumerate(counts):
            norm_len = K1 * (1 - B + B * lengths[i] / average)
            for term, tf in c.items():
                rows[term].append((i, tf * (K1 + 1) / (tf + norm_len)))
        n = len(texts)
        self.postings = {
            term: [(i, w * math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5))) for i, w in p] for term, p in rows.items()
        }

    def search(self, query: str, limit: int) -> list[int]:
        """Indexes of the best-scoring texts, best first (ties by position)."""
        scores: dict[int, float] = defaultdict(float)
        for term in set(bigrams(query)):
            for i, weight in self.postings.get(term, ()):
                scores[i] += weight
        return heapq.nsmallest(limit, scores, key=lambda i: (-scores[i], i))


# --- our library -------------------------------------------------------------------------------


@dataclass
class Library:
    engine: Engine
    home: Path
    ids: dict[str, int] = field(default_factory=dict)  # source -> document id
    merged: list[tuple[str, str]] = field(default_factory=list)  # (source, outcome) not "created"
    failed: list[tuple[str, str]] = field(default_factory=list)


def build_library(home: Path, docs: list[Doc]) -> Library:
    engine = make_engine(f"sqlite:///{home / 'digigov.db'}")
    migrate.upgrade(engine)
    library = Library(engine, home)
    for doc in docs:
        try:
            with unit_of_work(engine) as session:
                done = _import(session, home, doc)
        except DigigovError as error:
            library.failed.append((doc.source, error.message))
            continue
        library.ids[doc.source] = done.id
        if done.outcome != "created":
            library.merged.append((doc.source, done.outcome))
    return library


def batch_import(home: Path, docs: list[Doc]) -> tuple[float, int]:
    """The bulk path (as the demo loader): one session, a savepoint per document, one index commit at the end."""
    engine = make_engine(f"sqlite:///{home / 'digigov.db'}")
    migrate.upgrade(engine)
    started, done = time.perf_counter(), 0
    with unit_of_work(engine) as session, service.index_batch(home):
        for doc in docs:
            try:
                with session.begin_nested():
                    _import(session, home, doc)
                    done += 1
            except DigigovError:
                continue
    return time.perf_counter() - started, done


def _import(session: Any, home: Path, doc: Doc) -> service.Imported:
    if doc.source == "seed":
        return service.import_file(session, SYSTEM, home, SEED, source="seed")
    if doc.source.startswith("lawrefbook:"):
        name = doc.source.partition(":")[2] + ".md"
        return service.import_bytes(session, SYSTEM, home, doc.text.encode(), name, source=doc.source)
    return service.import_text(session, SYSTEM, home, doc.text, source=doc.source)


def replaced_sources(library: Library) -> set[str]:
    """Sources whose text a later import with the same identity key replaced (its newest revision is another text)."""
    current = {doc_id: source for source, doc_id in library.ids.items()}  # the last import of an id wins
    return {source for source, doc_id in library.ids.items() if current[doc_id] != source}


def search(library: Library, query: str, limit: int, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    with unit_of_work(library.engine) as session:
        return service.search(session, SYSTEM, library.home, query, limit=limit, kinds=kinds)


def ask(library: Library, question: str, *, include_expired: bool = False) -> answering.Answer:
    with unit_of_work(library.engine) as session:
        return answering.ask(session, SYSTEM, library.home, question, include_expired=include_expired, record=False)


# --- metrics ---------------------------------------------------------------------------------

Figures = dict[str, float]


def ranking_figures(rankings: list[list[str]], golds: list[str]) -> Figures:
    r1 = r10 = mrr = 0.0
    for ranking, gold in zip(rankings, golds, strict=True):
        top = ranking[:10]
        r1 += top[:1] == [gold]
        if gold in top:
            r10 += 1
            mrr += 1 / (top.index(gold) + 1)
    n = max(len(golds), 1)
    return {"doc R@1": r1 / n, "doc R@10": r10 / n, "doc MRR@10": mrr / n}


def clause_matches(path: str, gold: str) -> bool:
    """A hit's clause path is the gold clause or inside it; chapters and sections are ignored.

    >>> clause_matches("第五章 第二十二条(一)", "第二十二条"), clause_matches("二(四)", "二(四)")
    (True, True)
    >>> clause_matches("三(四)", "二"), clause_matches("第三章 第十二条", "第十二条")
    (False, True)
    """
    path = LAW_PREFIX.sub("", path)
    return bool(gold) and (path == gold or path.startswith(gold + "(") or path.startswith(gold + " "))


def hit_ok(q: Question, doc_id: int | None, library: Library, clause: str, text: str) -> bool:
    if doc_id is None or doc_id != library.ids.get(q.gold):
        return False
    return norm(q.answer) in norm(text) or clause_matches(clause, q.clause)


def window_ok(q: Question, w: Window) -> bool:
    if w.doc != q.gold:
        return False
    if q.start >= 0:
        return w.start <= q.start and q.end <= w.end
    return norm(q.answer) in norm(w.text)


def rouge_l(gold: str, said: str) -> tuple[float, float]:
    """Character ROUGE-L (recall, F1) of a said text against the gold answer, both normalised.

    >>> rouge_l("免征增值税", "对其收入免征增值税。")
    (1.0, 0.6666666666666666)
    """
    a, b = norm(gold), norm(said)
    if not a or not b:
        return 0.0, 0.0
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], previous + 1 if x == y else max(row[j], row[j - 1])
    lcs = row[-1]
    recall, precision = lcs / len(a), lcs / len(b)
    return recall, (2 * recall * precision / (recall + precision) if lcs else 0.0)


def answer_ok(q: Question, answer: answering.Answer) -> bool:
    wanted = norm(q.answer)
    return not answer.abstained and (
        wanted in norm(answer.answer) or any(wanted in norm(c.text) for c in answer.citations)
    )


@dataclass
class Outcome:
    """Per-question results of our system, kept for the failure analysis."""

    q: Question
    ranking: list[int]
    passage: bool
    answer: answering.Answer | None = None


def evaluate_ours(library: Library, questions: list[Question], *, quotes: bool = True) -> list[Outcome]:
    outcomes = []
    for q in questions:
        text = q.text if quotes else QUOTES.sub(" ", q.text)
        hits = search(library, text, 100, ("clause",))
        ranking = list(dict.fromkeys(h["document"]["id"] for h in hits))
        passage = any(hit_ok(q, h["document"]["id"], library, h["clause"], h["text"]) for h in hits[:5])
        outcomes.append(Outcome(q, ranking, passage))
    return outcomes


def ask_all(library: Library, outcomes: list[Outcome], *, include_expired: bool = False, quotes: bool = True) -> None:
    for o in outcomes:
        o.answer = ask(library, o.q.text if quotes else QUOTES.sub(" ", o.q.text), include_expired=include_expired)


def figures_ours(library: Library, outcomes: list[Outcome]) -> Figures:
    # by document id: two crawls of one notice are one document, and either source's question is about it
    golds = [str(library.ids.get(o.q.gold)) for o in outcomes]
    figures = ranking_figures([[str(i) for i in o.ranking] for o in outcomes], golds)
    n = max(len(outcomes), 1)
    figures["passage R@5"] = sum(o.passage for o in outcomes) / n
    if any(o.answer is None for o in outcomes):
        return figures
    given = [(o.q, o.answer) for o in outcomes if o.answer is not None and not o.answer.abstained]
    contained = sum(answer_ok(q, a) for q, a in given)
    figures["answer contains gold"] = contained / n
    figures["declined (answerable)"] = 1 - len(given) / n
    figures["precision of answers given"] = contained / max(len(given), 1)
    scores = [max((rouge_l(q.answer, c.text) for c in a.citations), default=(0.0, 0.0)) for q, a in given]
    figures["answer char ROUGE-L recall"] = sum(r for r, _ in scores) / n
    figures["answer char ROUGE-L F1"] = sum(f for _, f in scores) / n
    figures["cites gold document"] = (
        sum(any(c.document_id == library.ids.get(q.gold) for c in a.citations) for q, a in given) / n
    )
    if any(o.q.clause for o in outcomes):
        figures["cites gold clause"] = (
            sum(any(hit_ok(q, c.document_id, library, c.clause, c.text) for c in a.citations) for q, a in given) / n
        )
    return figures


def figures_baseline(
    bm25: PlainBM25, ws: list[Window], questions: list[Question], library: Library | None = None
) -> Figures:
    """The baseline's figures; with a library, two crawls of one notice count as one document, as for ours."""

    def same(source: str) -> str:
        return str(library.ids.get(source, source)) if library is not None else source

    rankings, passage, answer, first_doc, recall, f1 = [], 0, 0, 0, 0.0, 0.0
    for q in questions:
        top = [ws[i] for i in bm25.search(q.text, 1000)]
        rankings.append(list(dict.fromkeys(same(w.doc) for w in top)))
        passage += any(window_ok(q, w) for w in top[:5])
        answer += bool(top) and window_ok(q, top[0])
        first_doc += bool(top) and same(top[0].doc) == same(q.gold)
        r, f = rouge_l(q.answer, top[0].text) if top else (0.0, 0.0)
        recall, f1 = recall + r, f1 + f
    figures = ranking_figures(rankings, [same(q.gold) for q in questions])
    n = max(len(questions), 1)
    figures["passage R@5"] = passage / n
    figures["answer contains gold"] = answer / n
    figures["declined (answerable)"] = 0.0
    figures["precision of answers given"] = answer / n
    figures["answer char ROUGE-L recall"] = recall / n
    figures["answer char ROUGE-L F1"] = f1 / n
    figures["cites gold document"] = first_doc / n
    if any(q.clause for q in questions):
        figures["cites gold clause"] = answer / n
    return figures


# --- printing --------------------------------------------------------------------------------


@dataclass
class Report:
    rows: list[tuple[str, str, float | None, float | None, str]] = field(default_factory=list)
    phases: list[tuple[str, float, float]] = field(default_factory=list)  # name, wall s, CPU s

    def add(self, section: str, name: str, ours: float | None, base: float | None, goal: str = "") -> None:
        self.rows.append((section, name, ours, base, goal))

    def add_all(self, section: str, ours: Figures, base: Figures, goals: dict[str, str] | None = None) -> None:
        for name in list(dict.fromkeys([*ours, *base])):
            self.add(section, name, ours.get(name), base.get(name), (goals or {}).get(name, ""))

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started, cpu = time.perf_counter(), time.process_time()
        print(f"\n== {name}", flush=True)
        try:
            yield
        finally:
            self.phases.append((name, time.perf_counter() - started, time.process_time() - cpu))

    def print(self) -> None:
        print(f"\n{'section':<22}{'figure':<30}{'ours':>9}{'baseline':>10}{'delta':>9}  goal / verdict")
        for section, name, ours, base, goal in self.rows:
            cells = [_cell(ours), _cell(base), _cell(ours - base if ours is not None and base is not None else None)]
            verdict = _verdict(name, ours, base)
            print(f"{section:<22}{name:<30}{cells[0]:>9}{cells[1]:>10}{cells[2]:>9}  {goal} {verdict}".rstrip())
        print(f"\n{'phase':<62}{'wall s':>9}{'CPU s':>9}  (CPU: this process; the machine is shared)")
        for name, seconds, cpu in self.phases:
            print(f"  {name:<60}{seconds:9.1f}{cpu:9.1f}")


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}" if value < 0 else f"{value:.3f}"


def _verdict(name: str, ours: float | None, base: float | None) -> str:
    if ours is None or base is None:
        return ""
    lower_is_better = name.startswith("declined (answerable)")
    better = ours < base if lower_is_better else ours > base
    return "beats baseline" if better else ("ties baseline" if ours == base else "BELOW baseline")


# --- phases ----------------------------------------------------------------------------------


def print_library(library: Library, docs: list[Doc], seconds: float) -> None:
    kinds = Counter(d.source.partition(":")[0] for d in docs)
    print(
        f"imported {len(library.ids)} of {len(docs)} texts ({dict(kinds)}) in {seconds:.1f} s = "
        f"{len(docs) / seconds:.2f} documents/s; failed {len(library.failed)}; "
        f"not 'created' (merged into another document by identity key) {len(library.merged)}"
    )
    with unit_of_work(library.engine) as session:
        by_id = {d.id: d for d in session.scalars(select(PolicyDocument))}
        print(f"documents in the library: {len(by_id)}; index passages: {service.open_index(library.home).count()}")
        today = time.strftime("%Y-%m-%d")
        for kind in ("ncp", "lawrefbook", "govcn", "seed"):
            mine = [d for d in by_id.values() if d.source.partition(":")[0] == kind]
            statuses = Counter(str(d.status) for d in mine)
            expired = sum(d.expiry_date is not None and d.expiry_date.isoformat() < today for d in mine)
            print(f"  {kind}: {len(mine)} documents, status {dict(statuses)}, expiry date before today: {expired}")
        for source, outcome in library.merged[:10]:
            other = by_id[library.ids[source]]
            print(f"  {outcome}: {source} -> document {other.id} (source {other.source}) title «{other.title[:50]}»")
    for source, message in library.failed[:10]:
        print(f"  failed: {source}: {message}")


def baseline_index(docs: list[Doc]) -> tuple[PlainBM25, list[Window], float]:
    started = time.perf_counter()
    ws = [w for doc in docs for w in windows(doc)]
    bm25 = PlainBM25([w.text for w in ws])
    return bm25, ws, time.perf_counter() - started


def pieces(body: str, window: int, stride: int) -> list[str]:
    """A clause cut as service.passages() cuts it (whole when short, else windows)."""
    if len(body) <= window + stride // 2:
        return [body]
    return [body[o : o + window] for o in range(0, max(len(body) - stride // 2, 1), stride)]


def ncp_ceiling(library: Library, questions: list[Question], ws: list[Window]) -> dict[str, tuple[float, float]]:
    """Share of questions whose answer lies whole in one passage: ours by WINDOW/STRIDE (whole clauses
    with 0/0), against the baseline's raw windows. Shows whether the windows cap passage recall."""
    clauses: dict[int, list[str]] = {}
    with unit_of_work(library.engine) as session:
        for doc_id in {library.ids[q.gold] for q in questions if q.gold in library.ids}:
            document = session.get_one(PolicyDocument, doc_id)
            clauses[doc_id] = [c.text for c in service.document_clauses(session, document) if c.text.strip()]
    by_doc = defaultdict(list)
    for w in ws:
        by_doc[w.doc].append(w)
    n = max(len(questions), 1)
    base = sum(any(window_ok(q, w) for w in by_doc[q.gold]) for q in questions) / n
    found = {}
    for window, stride in ((service.WINDOW, service.STRIDE), (400, 300), (500, 400), (300, 150), (0, 0)):
        inside = 0
        for q in questions:
            texts = clauses.get(library.ids.get(q.gold, -1), [])
            cut = [p for body in texts for p in (pieces(body, window, stride) if window else [body])]
            inside += any(norm(q.answer) in norm(p) for p in cut)
        label = f"{window}/{stride}" if window else "whole clauses"
        found[label] = (inside / n, base)
    return found


def faq_figures(rank: Callable[[str], list[int]], questions: list[tuple[str, str]], answers: list[str]) -> Figures:
    r1 = r10 = mrr = 0.0
    for question, gold in questions:
        top = [answers[i] == gold for i in rank(question)[:10]]
        r1 += bool(top) and top[0]
        if any(top):
            r10 += 1
            mrr += 1 / (top.index(True) + 1)
    n = max(len(questions), 1)
    return {"FAQ R@1": r1 / n, "FAQ R@10": r10 / n, "FAQ MRR@10": mrr / n}


def run_faqs(library: Library, data: Path, report: Report, limit: int | None, rng: random.Random) -> None:
    path = data / "msgabench_gov_qa" / "gov_qa.jsonl"
    started = time.perf_counter()
    with unit_of_work(library.engine) as session:
        done = faqs.import_faqs(session, SYSTEM, library.home, path.read_bytes(), path.name)
        rows = list(session.scalars(select(PolicyFaq).order_by(PolicyFaq.id)))
    print(f"import_faqs: {done.added} added, {done.unchanged} unchanged in {time.perf_counter() - started:.1f} s")
    position = {row.id: k for k, row in enumerate(rows)}
    answers = [row.answer for row in rows]
    records = jsonl(path)
    questions = [(r["question"], r["answer"]) for r in records]
    if limit is not None and limit < len(questions):
        questions = rng.sample(questions, limit)

    def ours_in(q: str) -> list[int]:  # quote marks made spaces, as ask() passes a question to the index
        return [position[h["faq_id"]] for h in search(library, QUOTES.sub(" ", q), 10, ("faq",))]

    full = PlainBM25([f"{row.question}\n{row.answer}" for row in rows])
    report.add_all(
        "FAQ question+answer",
        faq_figures(ours_in, questions, answers),
        faq_figures(lambda q: full.search(q, 10), questions, answers),
        {"FAQ R@10": "(near-trivial: the question is indexed)"},
    )
    folder = Path(tempfile.mkdtemp(prefix="faq-answers-", dir=library.home))
    held_out = PolicyIndex(folder)
    held_out.add(
        Passage(f"f:{k}", 0, "faq", "", None, row.department, None, "in_force", None, (), "", row.answer)
        for k, row in enumerate(rows)
    )

    def ours_out(q: str, quotes: bool = False) -> list[int]:
        query = q if quotes else QUOTES.sub(" ", q)
        return [int(hit.passage.key[2:]) for hit in held_out.search(query, limit=10, kinds=("faq",))]

    only = PlainBM25(answers)
    report.add_all(
        "FAQ answer only",
        faq_figures(ours_out, questions, answers),
        faq_figures(lambda q: only.search(q, 10), questions, answers),
        {"FAQ R@10": "(held out; research §2.3 bigram BM25: 0.868)"},
    )
    strict = faq_figures(lambda q: ours_out(q, quotes=True), questions, answers)
    report.add("FAQ answer only", "FAQ R@10, quotes kept", strict["FAQ R@10"], None, "(a quoted phrase is strict)")


def run_unanswerable(library: Library, questions: list[Question], label: str, report: Report, show: int) -> None:
    answers = [ask(library, q.text) for q in questions]
    declined = [a.abstained for a in answers]
    near = [d for d, q in zip(declined, questions, strict=True) if q.near]
    far = [d for d, q in zip(declined, questions, strict=True) if not q.near]
    report.add(f"unanswerable {label}", "declined (all)", sum(declined) / len(declined), 0.0, "goal ≥ 0.80")
    report.add(f"unanswerable {label}", "declined (near the corpus)", sum(near) / max(len(near), 1), 0.0)
    report.add(f"unanswerable {label}", "declined (out of domain)", sum(far) / max(len(far), 1), 0.0)
    wrong = [(q, a) for q, a in zip(questions, answers, strict=True) if not a.abstained]
    print(f"{len(wrong)} of {len(questions)} unanswerable questions answered {label}:")
    for q, a in wrong:
        cited = a.citations[0] if a.citations else None
        where = f"{cited.kind} «{cited.title[:40]}» {cited.clause}" if cited else "—"
        quote = (cited.text if cited else a.answer)[:60].replace("\n", " ")
        print(f"  {q.id} conf {a.confidence:.2f} {'near' if q.near else 'far '} {q.text}\n      -> {where}: “{quote}”")


def sweep(library: Library, ncp: list[Question], own: list[Question], unanswerable: list[Question]) -> None:
    """answering.CONFIDENT from 0.30 to 0.80: declined share on unanswerable vs answered/contained on NCP and own."""
    saved = answering.CONFIDENT
    print(
        f"{'CONFIDENT':>10}{'unans. declined':>17}{'NCP answered':>14}{'NCP contains':>14}{'NCP precision':>15}"
        f"{'own answered':>14}{'own contains':>14}"
    )
    try:
        for threshold in THRESHOLDS:
            answering.CONFIDENT = threshold
            declined = sum(ask(library, q.text).abstained for q in unanswerable) / len(unanswerable)
            answered, contained = _answered(library, ncp)
            own_answered, own_contained = _answered(library, own)
            print(
                f"{threshold:>10.2f}{declined:>17.3f}{answered / len(ncp):>14.3f}{contained / len(ncp):>14.3f}"
                f"{contained / max(answered, 1):>15.3f}{own_answered / len(own):>14.3f}"
                f"{own_contained / len(own):>14.3f}",
                flush=True,
            )
    finally:
        answering.CONFIDENT = saved


def _answered(library: Library, questions: list[Question]) -> tuple[int, int]:
    """How many questions ask() answers, and how many of those answers contain the gold answer."""
    answers = [(q, ask(library, q.text)) for q in questions]
    return sum(not a.abstained for _, a in answers), sum(answer_ok(q, a) for q, a in answers)


# --- failure analysis -------------------------------------------------------------------------


def failure_analysis(library: Library, outcomes: list[Outcome], show: int) -> None:
    """Which NCP questions we miss and why, with examples."""
    with unit_of_work(library.engine) as session:
        documents = {d.id: d for d in session.scalars(select(PolicyDocument))}
        clauses = {
            d.id: {c.path: c.text for c in service.document_clauses(session, d)}
            for d in documents.values()
            if d.source.startswith("ncp:")
        }
    sizes = {doc_id: [len(text) for text in texts.values()] for doc_id, texts in clauses.items()}
    _clause_shape(sizes, documents)
    merged = replaced_sources(library)
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        gold = library.ids.get(o.q.gold)
        if o.q.gold in merged:
            groups["(info) gold is a duplicate crawl merged by identity key; a later copy's text is current"].append(o)
        if gold not in o.ranking[:10]:
            groups["gold document not in top 10"].append(o)
        elif o.ranking[0] != gold:
            groups["gold document ranked 2-10"].append(o)
        if not o.passage and gold in o.ranking[:10]:
            groups["document found, no passage in top 5"].append(o)
        if o.answer is not None and o.answer.abstained:
            groups["declined an answerable question"].append(o)
        elif o.answer is not None and not answer_ok(o.q, o.answer):
            groups[f"answered without the gold answer: {_why(o, gold, clauses)}"].append(o)
    for name, members in groups.items():
        print(f"\n-- {name}: {len(members)}")
        for o in members[:show]:
            _example(o, documents, library)


def _why(o: Outcome, gold: int | None, clauses: dict[int, dict[str, str]]) -> str:
    """Why an answer given misses the gold answer: which document and clause it quoted."""
    assert o.answer is not None
    own = [c for c in o.answer.citations if c.document_id == gold and gold is not None]
    if not own:
        return "quoted another document"
    if not any(norm(o.q.answer) in norm(clauses.get(gold or 0, {}).get(c.clause, "")) for c in own):
        return "quoted the gold document, another clause"
    if SENTENCE_END.search(o.q.answer.strip().rstrip("。！？；!?;")):
        return "quoted the gold clause; the gold answer runs over more sentences than the quote"
    return "quoted the gold clause; the quote picked other sentences"


def _clause_shape(sizes: dict[int, list[int]], documents: dict[int, PolicyDocument]) -> None:
    counts = [len(s) for s in sizes.values()]
    longest = [max(s, default=0) for s in sizes.values()]
    over_1k, over_3k = sum(x > 1000 for x in longest), sum(x > 3000 for x in longest)
    print(
        f"NCP documents: {len(sizes)}; clauses per document: median {statistics.median(counts):.0f}, "
        f"1 clause only: {sum(c == 1 for c in counts)}; longest clause median {statistics.median(longest):.0f} "
        f"chars, >1,000 chars in {over_1k} documents, >3,000 in {over_3k}"
    )
    titles = [documents[i].title for i in sizes]
    print(
        f"NCP titles: median {statistics.median([len(t) for t in titles]):.0f} chars, >60 chars: "
        f"{sum(len(t) > 60 for t in titles)}, no 文号: {sum(documents[i].doc_number is None for i in sizes)}; "
        f"examples: " + " | ".join(f"«{t[:45]}»" for t in titles[:5])
    )


def _example(o: Outcome, documents: dict[int, PolicyDocument], library: Library) -> None:
    gold = library.ids.get(o.q.gold)
    rank = o.ranking.index(gold) + 1 if gold in o.ranking else None
    top = documents.get(o.ranking[0]) if o.ranking else None
    print(
        f"  [{o.q.id[:8]}] {o.q.text}  gold «{documents[gold].title[:30] if gold else '?'}» rank {rank}; "
        f"top «{top.title[:30] if top else '—'}»; answer “{o.q.answer[:40]}”"
    )
    if o.answer is not None:
        cited = o.answer.citations[0] if o.answer.citations else None
        said = f"cited {cited.clause or '(preamble)'} of «{cited.title[:25]}»: “{cited.text[:50]}”" if cited else ""
        print(f"      ask: {'declined' if o.answer.abstained else 'answered'} conf {o.answer.confidence:.2f} {said}")


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seed-file", type=Path, default=SEED)
    parser.add_argument("--limit-questions", type=int, default=None, help="sample N questions of each set")
    parser.add_argument("--seed", type=int, default=1, help="random seed for --limit-questions")
    parser.add_argument("--skip-sweep", action="store_true", help="no CONFIDENT threshold sweep")
    parser.add_argument("--skip-batch-import", action="store_true", help="no second, index_batch import")
    parser.add_argument("--examples", type=int, default=8, help="failure examples per kind")
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="keep the imported library in DIR and reuse it while the import code is unchanged "
        "(for tuning answering; import figures are then not measured)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    report = Report()
    home = Path(tempfile.mkdtemp(prefix="policy-eval-"))
    try:
        run(args, rng, report, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    report.print()


def run(args: argparse.Namespace, rng: random.Random, report: Report, home: Path) -> None:
    docs = load_corpus(args.data, args.seed_file)
    texts = {d.source: d.text for d in docs}
    ncp = sample(load_ncp(args.data), args.limit_questions, rng)
    own = sample(load_own(OWN / "policy_questions.jsonl", texts), args.limit_questions, rng)
    unanswerable = load_unanswerable(OWN / "policy_unanswerable.jsonl")
    print(
        f"questions: {len(ncp)} NCP, {len(own)} own, {len(unanswerable)} unanswerable; "
        f"CONFIDENT {answering.CONFIDENT}, FAQ_MATCH {answering.FAQ_MATCH}, "
        f"WINDOW/STRIDE {service.WINDOW}/{service.STRIDE}"
    )
    print(f"code under test: {fingerprint()}")
    with report.phase("baseline: windows + BM25 index"):
        bm25, ws, built = baseline_index(docs)
        print(f"baseline: {len(ws)} windows indexed in {built:.1f} s = {len(docs) / built:.1f} documents/s")
    cached = restore_library(args.cache, home) if args.cache else None
    if cached is not None:
        library = cached
        print(f"import: reused the library cached in {args.cache} (import code unchanged); not measured")
    else:
        library = measured_import(report, home, docs, built)
        if args.cache:
            save_library(library, args.cache)
    if cached is None and not args.skip_batch_import and hasattr(service, "index_batch"):
        with report.phase("batch import (index_batch, one session) into a second home"):
            batch_home = home / "batch"
            batch_home.mkdir()
            batch_seconds, batch_done = batch_import(batch_home, docs)
            print(f"batch import: {batch_done} documents in {batch_seconds:.1f} s = {batch_done / batch_seconds:.2f}/s")
            report.add("import", "documents/s, index_batch", batch_done / batch_seconds, len(docs) / built)
            shutil.rmtree(batch_home, ignore_errors=True)
    with report.phase(f"NCP search ({len(ncp)} questions, ours + baseline)"):
        ncp_out = evaluate_ours(library, ncp)
        base_ncp = figures_baseline(bm25, ws, ncp, library)
    with report.phase(f"NCP ask ({len(ncp)} questions, default and include_expired=True)"):
        expired = [Outcome(o.q, o.ranking, o.passage) for o in ncp_out]
        ask_all(library, ncp_out)
        ask_all(library, expired, include_expired=True)
    report.add_all("NCP", figures_ours(library, ncp_out), base_ncp, {"passage R@5": "goal ≥ 0.85"})
    _variant_rows(report, library, expired, ncp_out)
    for label, (ours, base) in ncp_ceiling(library, ncp, ws).items():
        current = label == f"{service.WINDOW}/{service.STRIDE}"
        note = "(ceiling of passage R@5)" if current else "(if clauses were cut so)"
        report.add("NCP ceiling", f"answer in 1 passage {label}", ours, base, note)
    with report.phase(f"own questions ({len(own)}: search + ask, ours + baseline)"):
        own_out = evaluate_ours(library, own)
        ask_all(library, own_out)
        report.add_all("own questions", figures_ours(library, own_out), figures_baseline(bm25, ws, own, library))
    with report.phase("unanswerable, no FAQs imported"):
        run_unanswerable(library, unanswerable, "(no FAQs)", report, args.examples)
    if not args.skip_sweep:
        asks = len(ncp) + len(own) + len(unanswerable)
        with report.phase(f"CONFIDENT sweep ({len(THRESHOLDS)} values x {asks} asks)"):
            sweep(library, ncp, own, unanswerable)
    with report.phase("FAQs: import_faqs + retrieval, both settings"):
        run_faqs(library, args.data, report, args.limit_questions, rng)
    with report.phase("unanswerable, FAQs imported"):
        run_unanswerable(library, unanswerable, "(with FAQs)", report, args.examples)
    with report.phase("NCP ask with FAQs imported"):
        with_faqs = [Outcome(o.q, o.ranking, o.passage) for o in ncp_out]
        ask_all(library, with_faqs)
        figures = figures_ours(library, with_faqs)
        for name in ("answer contains gold", "declined (answerable)", "precision of answers given"):
            report.add("NCP, FAQs imported", name, figures[name], base_ncp[name])
    with report.phase("failure analysis (NCP)"):
        failure_analysis(library, ncp_out, args.examples)
        print("\nown questions:")
        for o in own_out:
            if not o.passage or o.answer is None or not answer_ok(o.q, o.answer):
                _example(o, _documents(library), library)


def measured_import(report: Report, home: Path, docs: list[Doc], built: float) -> Library:
    with report.phase("import documents through the service"), index_timer() as indexing:
        started, cpu = time.perf_counter(), time.process_time()
        library = build_library(home, docs)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print_library(library, docs, seconds)
    report.add("import", "documents/s", len(docs) / seconds, len(docs) / built, "(baseline: its in-memory BM25)")
    report.add("import", "documents/CPU-s", len(docs) / cpu, None, "(this process's CPU time)")
    with report.phase("parse only: clean + metadata + clause tree, nothing stored"):
        parsing = parse_only(docs)
        print(
            f"import breakdown: {seconds:.1f} s = index writes {indexing[0]:.1f} s (tantivy writer + commit, "
            f"{len(docs)} commits) + parsing ~{parsing:.1f} s + database, audit, links ~"
            f"{seconds - indexing[0] - parsing:.1f} s"
        )
    return library


def import_key() -> str:
    """A hash of the code and word lists an import depends on (digigov/policy but Q&A and synonyms)."""
    folder = Path(service.__file__).parent
    parts = [p for p in sorted(folder.glob("*.py")) if p.name not in ("answering.py", "faqs.py", "pages.py", "api.py")]
    parts += [p for p in sorted(folder.glob("*.txt")) if p.name != "synonyms.txt"]  # synonyms are query-side
    return hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()[:16]


def save_library(library: Library, cache: Path) -> None:
    shutil.rmtree(cache, ignore_errors=True)
    library.engine.dispose()
    shutil.copytree(library.home, cache, ignore=shutil.ignore_patterns("batch", "faq-answers-*"))
    state = {"key": import_key(), "ids": library.ids, "merged": library.merged, "failed": library.failed}
    (cache / "library.json").write_text(json.dumps(state, ensure_ascii=False))


def restore_library(cache: Path, home: Path) -> Library | None:
    """A fresh copy of the cached library when its import key still matches, else None."""
    state_file = cache / "library.json"
    if not state_file.exists():
        return None
    state = json.loads(state_file.read_text())
    if state["key"] != import_key():
        print(f"import: the cache in {cache} was built by other import code; importing again")
        return None
    shutil.copytree(cache, home, dirs_exist_ok=True)
    engine = make_engine(f"sqlite:///{home / 'digigov.db'}")
    merged = [tuple(pair) for pair in state["merged"]]
    failed = [tuple(pair) for pair in state["failed"]]
    return Library(engine, home, state["ids"], merged, failed)


def _documents(library: Library) -> dict[int, PolicyDocument]:
    with unit_of_work(library.engine) as session:
        return {d.id: d for d in session.scalars(select(PolicyDocument))}


def _variant_rows(report: Report, library: Library, expired: list[Outcome], ncp_out: list[Outcome]) -> None:
    """ask(include_expired=True); and the questions with quote marks as typed vs quote marks made spaces."""
    figures = figures_ours(library, expired)
    for name in ("answer contains gold", "declined (answerable)", "precision of answers given"):
        report.add("NCP include_expired", name, figures[name], None, "(ask(include_expired=True))")
    quoted = [o for o in ncp_out if QUOTES.search(o.q.text)]
    if not quoted:
        return
    stripped = evaluate_ours(library, [o.q for o in quoted], quotes=False)
    ask_all(library, stripped, quotes=False)
    as_typed, spaces = figures_ours(library, quoted), figures_ours(library, stripped)
    section = f"NCP quoted ({len(quoted)} q)"
    for name in ("doc R@1", "passage R@5", "answer contains gold", "declined (answerable)"):
        report.add(section, f"{name}: as typed", as_typed[name], None)
        report.add(section, f"{name}: quotes->spaces", spaces[name], None, "(what ask() could pass)")


def fingerprint() -> str:
    """Which search/Q&A code this run measured: a hash of digigov/policy/*.py and the tuning constants."""
    folder = Path(service.__file__).parent
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.glob("*.py")))).hexdigest()[:12]
    knobs = {
        name: getattr(module, name, None)
        for module, names in (
            (policy_index, ("TITLE_WEIGHT", "CHAR_WEIGHT", "DOCUMENT_PRIOR", "CANDIDATES")),
            (tokens, ("SYNONYM_WEIGHT",)),
            (answering, ("CONFIDENT", "FAQ_MATCH")),
            (service, ("WINDOW", "STRIDE")),
        )
        for name in names
    }
    return f"digigov/policy sha256 {digest}; " + ", ".join(f"{k}={v}" for k, v in knobs.items())


def parse_only(docs: list[Doc]) -> float:
    """Seconds to read, clean, extract metadata and build the clause tree of every text, nothing stored."""
    started = time.perf_counter()
    for doc in docs:
        markdown = doc.source.startswith("lawrefbook:")
        text = read_document(doc.text.encode(), "x.md").text if markdown else doc.text
        cleaned = strip_furniture(text)
        extract_metadata(cleaned)
        clause_tree(cleaned)
    return time.perf_counter() - started


@contextmanager
def index_timer() -> Iterator[list[float]]:
    """Time spent in PolicyIndex.add/remove_document/replace (tantivy writer, commit), in this process."""
    spent = [0.0]
    names = [name for name in ("add", "remove_document", "replace") if hasattr(PolicyIndex, name)]
    originals = {name: getattr(PolicyIndex, name) for name in names}

    def timed(original: Callable[..., None]) -> Callable[..., None]:
        def wrapper(*args: Any, **kwargs: Any) -> None:
            started = time.perf_counter()
            try:
                original(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        return wrapper

    for name, original in originals.items():
        setattr(PolicyIndex, name, timed(original))
    try:
        yield spent
    finally:
        for name, original in originals.items():
            setattr(PolicyIndex, name, original)


if __name__ == "__main__":
    main()
