"""Policy search benchmark: retrieval quality and latency of `digigov.policy.index`, each against a same-run baseline.

    python bench/policy_search.py [--data DIR] [--passages 100000] [--queries 200] [--seed 1]
                                  [--skip-quality] [--skip-latency] [--ablation] [--set NAME=VALUE ...]

Quality (real data from ../shared/data/policy):
  ncp_covid_policy_qa  each document is indexed as one "document" passage (title = the text up to its
                       first space, at most 40 characters, else the first 30) plus "clause" passages of
                       300-character windows with stride 200. Document R@1/R@10/MRR@10: a document's rank
                       is that of its best passage in `search(question, limit=100)`. Passage R@5:
                       `search(question, limit=5, kinds=["clause"])` has a window of the gold document
                       covering the whole answer span (only 364 of 389 answers fit in any window).
  msgabench_gov_qa     FAQ retrieval, two variants. held-out: only the answer is indexed (title empty),
                       the question is the query, so nothing of the question is in the index. in-index:
                       question (title) and answer are indexed, the same question is the query (the
                       "have we answered this before" lookup; near 1.0 by construction).
  Questions reach the index with their quote marks turned into spaces, as the Q&A layer should pass
  them (a quoted phrase is a strict filter in search); a "quotes kept" row shows the strict result
  (28 of 389 NCP and 35 of 644 MSGABench questions quote something).
  The baseline is plain BM25 (k1 1.2, b 0.75, tantivy's idf) over character bigrams of the passage
  text, written out in this file: no title field, characters, synonyms or document prior.
  `--ablation` adds the index with each feature switched off, and pure-Python BM25 variants that add
  jieba words (government-term user dictionary) or whole government terms to the bigrams.

Latency: the NCP passages are copied until there are at least --passages of them (new keys, document
ids, 文号 and issuers per copy) and written with `rebuild` (passages/s, size on disk). Then --queries
real questions (three quarters NCP, a quarter MSGABench) are searched as typed, with kinds=["clause"],
with an issuer filter, their first four characters as a quoted phrase, and a 文号 of the corpus in
[] brackets; p50/p99 per search in ms, wall clock and CPU time (on a shared machine the CPU time is
the cost, the wall time adds waiting for a core). Same-run baselines on the same index: a tantivy
BM25 OR-query of the question's bigrams on the text field alone (top 10, no stored fields read),
one single-term query, the query analysis alone, and the reader reload done before every search.
The issue's goal is p99 < 50 ms over 100,000 passages.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import tantivy

from digigov.policy import index as policy_index
from digigov.policy import tokens
from digigov.policy.index import Passage, PolicyIndex, rebuild
from digigov.policy.tokens import analyze_query, index_terms

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "policy"
WINDOW, STRIDE = 300, 200
QUOTES = re.compile('["“”＂]')
KNOBS = {
    "title": (policy_index, "TITLE_WEIGHT"),
    "chars": (policy_index, "CHAR_WEIGHT"),
    "prior": (policy_index, "DOCUMENT_PRIOR"),
    "candidates": (policy_index, "CANDIDATES"),
    "synonyms": (tokens, "SYNONYM_WEIGHT"),
    "question words": (tokens, "DROP_QUESTION_WORDS"),
}


@dataclass(frozen=True)
class Question:
    text: str
    document: int  # gold document id (position in the corpus), or gold FAQ position
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Window:
    document: int
    start: int
    end: int


# --- data ------------------------------------------------------------------------------------


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _title(text: str) -> str:
    head = text.split(" ", 1)[0]
    return head if " " in text[:41] and len(head) <= 40 else text[:30]


def ncp(data: Path) -> tuple[list[Passage], dict[str, Window], list[Question]]:
    """NCP passages, where each clause window lies in its document, and the questions."""
    corpus = _jsonl(data / "ncp_covid_policy_qa" / "corpus.jsonl")
    position = {str(doc["docid"]): i for i, doc in enumerate(corpus)}
    passages: list[Passage] = []
    windows: dict[str, Window] = {}
    for i, doc in enumerate(corpus):
        text = str(doc["text"])
        base = Passage(f"d:{i}", i, "document", _title(text), None, None, None, "in_force", None, (), "", text)
        passages.append(base)
        for start in range(0, max(len(text) - WINDOW, 0) + STRIDE, STRIDE):
            key = f"c:{i}:{start}"
            passages.append(replace(base, key=key, kind="clause", text=text[start : start + WINDOW]))
            windows[key] = Window(i, start, min(start + WINDOW, len(text)))
            if start + WINDOW >= len(text):
                break
    questions = [
        Question(
            str(q["question"]), position[str(q["gold_docid"])], int(q["answer_char_start"]), int(q["answer_char_end"])
        )
        for q in _jsonl(data / "ncp_covid_policy_qa" / "qa.jsonl")
    ]
    return passages, windows, questions


def faqs(data: Path, *, with_question: bool) -> tuple[list[Passage], list[Question]]:
    rows = _jsonl(data / "msgabench_gov_qa" / "gov_qa.jsonl")
    passages = [
        Passage(
            f"f:{i}",
            i,
            "faq",
            str(row["question"]) if with_question else "",
            None,
            str(row["department"]),
            None,
            "in_force",
            None,
            (),
            "",
            str(row["answer"]),
        )
        for i, row in enumerate(rows)
    ]
    return passages, [Question(str(row["question"]), i) for i, row in enumerate(rows)]


# --- the baseline: plain BM25 over character bigrams, in pure Python --------------------------------


class PlainBM25:
    """Okapi BM25 (k1 1.2, b 0.75, idf ln(1 + (N - n + 0.5) / (n + 0.5))) over a passage's text terms."""

    def __init__(self, passages: Sequence[Passage], analyse: Callable[[str], list[str]] = index_terms) -> None:
        self.passages, self.analyse = passages, analyse
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = []
        for i, passage in enumerate(passages):
            counts = Counter(analyse(passage.text))
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self.postings[term].append((i, tf))
        average = sum(lengths) / len(lengths)
        self.norm = [1.2 * (0.25 + 0.75 * length / average) for length in lengths]
        n = len(passages)
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def search(self, query: str, limit: int, kinds: Iterable[str] | None = None) -> list[Passage]:
        wanted = set(kinds) if kinds else None
        scores: dict[int, float] = defaultdict(float)
        for term in self.analyse(query):
            for i, tf in self.postings.get(term, ()):
                if wanted is None or self.passages[i].kind in wanted:
                    scores[i] += self.idf[term] * tf * 2.2 / (tf + self.norm[i])
        return [self.passages[i] for i in sorted(scores, key=lambda i: -scores[i])[:limit]]


Searcher = Callable[[str, int, Sequence[str] | None], list[Passage]]


def ours(index: PolicyIndex, *, strict_quotes: bool = False) -> Searcher:
    """The index as a Q&A caller uses it: quote marks in a question are punctuation, not a phrase operator."""

    def search(query: str, limit: int, kinds: Sequence[str] | None) -> list[Passage]:
        typed = query if strict_quotes else QUOTES.sub(" ", query)
        return [hit.passage for hit in index.search(typed, limit=limit, kinds=kinds)]

    return search


# --- quality ---------------------------------------------------------------------------------


def document_metrics(search: Searcher, questions: list[Question], windows: dict[str, Window]) -> dict[str, float]:
    r1 = r10 = mrr = passage5 = 0.0
    for q in questions:
        ranking = list(dict.fromkeys(p.document_id for p in search(q.text, 100, None)))[:10]
        r1 += ranking[:1] == [q.document]
        if q.document in ranking:
            r10 += 1
            mrr += 1 / (ranking.index(q.document) + 1)
        top = (windows[p.key] for p in search(q.text, 5, ["clause"]))
        passage5 += any(w.document == q.document and w.start <= q.start and q.end <= w.end for w in top)
    n = len(questions)
    return {"doc R@1": r1 / n, "doc R@10": r10 / n, "doc MRR@10": mrr / n, "passage R@5": passage5 / n}


def faq_metrics(search: Searcher, questions: list[Question]) -> dict[str, float]:
    r1 = r10 = mrr = 0.0
    for q in questions:
        ranking = [p.document_id for p in search(q.text, 10, None)]
        r1 += ranking[:1] == [q.document]
        if q.document in ranking:
            r10 += 1
            mrr += 1 / (ranking.index(q.document) + 1)
    n = len(questions)
    return {"R@1": r1 / n, "R@10": r10 / n, "MRR@10": mrr / n}


def _row(name: str, metrics: dict[str, float]) -> str:
    return f"  {name:<34}" + "".join(f"{value:>12.3f}" for value in metrics.values())


def _header(metrics: Iterable[str]) -> str:
    return f"  {'':<34}" + "".join(f"{name:>12}" for name in metrics)


def quality(data: Path, work: Path, ablation: bool) -> None:
    passages, windows, questions = ncp(data)
    print(
        f"\nNCP: {sum(p.kind == 'document' for p in passages)} documents, {len(passages)} passages, "
        f"{len(questions)} questions"
    )
    rebuild(work / "ncp", passages)
    variants = [("digigov index", ours(PolicyIndex(work / "ncp")))]
    strict = [("  quotes kept: strict phrases", ours(PolicyIndex(work / "ncp"), strict_quotes=True))]
    baselines: list[tuple[str, Searcher]] = [("baseline: plain bigram BM25", PlainBM25(passages).search)]
    if ablation:
        features = ("synonyms", "question words", "prior", "chars", "title")
        variants += [(f"  without {name}", _without(name, work / "ncp")) for name in features]
        baselines += _word_variants(passages)
    for label, search in baselines + variants + strict:
        metrics = document_metrics(search, questions, windows)
        if label.startswith("baseline"):
            print(_header(metrics))
        print(_row(label, metrics))
    _two_folds(variants[0][1], baselines[0][1], questions, windows)
    for with_question in (False, True):
        faq_passages, faq_questions = faqs(data, with_question=with_question)
        name = "in-index (question+answer indexed)" if with_question else "held-out (answer only indexed)"
        folder = work / f"faq-{with_question}"
        rebuild(folder, faq_passages)
        print(f"\nMSGABench FAQ, {name}: {len(faq_questions)} questions")
        rows = [
            ("baseline: plain bigram BM25", _plain_with_title(faq_passages)),
            ("digigov index", ours(PolicyIndex(folder))),
            ("  quotes kept: strict phrases", ours(PolicyIndex(folder), strict_quotes=True)),
        ]
        for label, search in rows:
            metrics = faq_metrics(search, faq_questions)
            if label.startswith("baseline"):
                print(_header(metrics))
            print(_row(label, metrics))


def _plain_with_title(passages: list[Passage]) -> Searcher:
    """The baseline sees the same text as the index: title and answer."""
    merged = [replace(p, text=f"{p.title}\n{p.text}") for p in passages]
    return PlainBM25(merged).search


def _two_folds(index: Searcher, base: Searcher, questions: list[Question], windows: dict[str, Window]) -> None:
    """The same comparison on odd and even questions, to see whether a gain holds on both halves."""
    for parity in (0, 1):
        half = questions[parity::2]
        a, b = document_metrics(index, half, windows), document_metrics(base, half, windows)
        print(f"  half {parity} ({len(half)} q): index - baseline = " + ", ".join(f"{k} {a[k] - b[k]:+.3f}" for k in a))


def _without(name: str, folder: Path) -> Searcher:
    module, attribute = KNOBS[name]
    index = PolicyIndex(folder)

    def search(query: str, limit: int, kinds: Sequence[str] | None) -> list[Passage]:
        saved = getattr(module, attribute)
        setattr(module, attribute, 0.0)
        try:
            return [hit.passage for hit in index.search(query, limit=limit, kinds=kinds)]
        finally:
            setattr(module, attribute, saved)

    return search


def _word_variants(passages: list[Passage]) -> list[tuple[str, Searcher]]:
    """Pure-Python BM25 with jieba words or whole government terms added to the bigrams (not indexed: no gain)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    for term in tokens.TERMS:
        jieba.add_word(term, freq=100_000)
    longest = max(map(len, tokens.TERMS))

    def with_words(text: str) -> list[str]:
        words = [w for w in jieba.cut_for_search(tokens.normalize(text)) if tokens.RUN.fullmatch(w)]
        return index_terms(text) + [f"w:{w}" for w in words]

    def with_terms(text: str) -> list[str]:
        found = [
            f"t:{run[i:j]}"
            for run in tokens.RUN.findall(tokens.normalize(text))
            for i in range(len(run))
            for j in range(i + 2, min(i + longest, len(run)) + 1)
            if run[i:j] in tokens.TERMS
        ]
        return index_terms(text) + found

    return [
        ("  bigram + jieba words (userdict)", PlainBM25(passages, with_words).search),
        ("  bigram + whole government terms", PlainBM25(passages, with_terms).search),
    ]


# --- latency ---------------------------------------------------------------------------------


def corpus_copies(passages: list[Passage], at_least: int) -> list[Passage]:
    """Copies of the passages with new keys, document ids, 文号 and issuers, until there are `at_least`."""
    copies = math.ceil(at_least / len(passages))
    issuers = ["浙江省人民政府", "杭州市人民政府", "国务院办公厅", "浙江省人力资源和社会保障厅"]
    out = []
    for copy in range(copies):
        for p in passages:
            document = copy * 1000 + p.document_id
            out.append(
                replace(
                    p,
                    key=f"{copy}:{p.key}",
                    document_id=document,
                    issuer=issuers[copy % len(issuers)],
                    doc_number=f"测政发〔{2000 + copy % 25}〕{document}号",
                    year=2000 + copy % 25,
                )
            )
    return out


def _timed(run: Callable[[str], object], queries: list[str]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each call (CPU time shows the cost when other jobs share the cores)."""
    wall, cpu = [], []
    for query in queries:
        started, started_cpu = time.perf_counter(), time.process_time()
        run(query)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return wall, cpu


def _p(times: list[float]) -> str:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return f"p50 {statistics.median(times):6.2f}  p99 {cuts[98]:6.2f}"


def latency(data: Path, work: Path, at_least: int, count: int, seed: int) -> None:
    passages, _, questions = ncp(data)
    big = corpus_copies(passages, at_least)
    folder = work / "big"
    started = time.perf_counter()
    written = rebuild(folder, big)
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    print(
        f"\nLatency corpus: {written:,} passages ({len(big) // len(passages)} copies of NCP), "
        f"rebuild {seconds:.1f} s = {written / seconds:,.0f} passages/s, {size / 1e6:.1f} MB on disk "
        f"({sum(len(p.text) for p in big) / 1e6:.1f} M characters of text)"
    )
    rng = random.Random(seed)
    _, faq_questions = faqs(data, with_question=False)
    mix = rng.sample([q.text for q in questions], count * 3 // 4) + rng.sample(
        [q.text for q in faq_questions], count - count * 3 // 4
    )
    index = PolicyIndex(folder)
    raw = tantivy.Index.open(str(folder / json.loads((folder / "CURRENT").read_text())["generation"]))
    raw_searcher = raw.searcher()
    for query in mix[:20]:  # warm the page cache and tantivy's readers
        index.search(query)

    numbers = [p.doc_number or "" for p in big if p.kind == "document"]
    number_for = {q: rng.choice(numbers).replace("〔", "[").replace("〕", "]") for q in mix}

    def plain(query: str) -> None:
        terms = index_terms(query)
        clauses = [(tantivy.Occur.Should, tantivy.Query.term_query(raw.schema, "text", t)) for t in terms]
        raw_searcher.search(tantivy.Query.boolean_query(clauses), 10, count=False)

    cases: list[tuple[str, Callable[[str], object]]] = [
        ("search(q)", lambda q: index.search(q)),
        ("search(q, kinds=[clause])", lambda q: index.search(q, kinds=["clause"])),
        ("search(q, issuer=...)", lambda q: index.search(q, issuer="杭州市人民政府")),
        ('search("<first 4 chars>")', lambda q: index.search(f"“{q[:4]}”")),
        ("search(<文号 in [] brackets>)", lambda q: index.search(number_for[q])),
        ("baseline: tantivy bigram OR-query", plain),
        (
            "baseline: one-term tantivy query",
            lambda q: raw_searcher.search(
                tantivy.Query.term_query(raw.schema, "text", index_terms(q)[0]), 10, count=False
            ),
        ),
        ("baseline: analyze_query(q) only", analyze_query),
        ("Index.reload() (done per search)", lambda q: raw.reload()),
    ]
    ncp_count = count * 3 // 4
    print(
        f"{count} queries ({ncp_count} NCP questions, {count - ncp_count} MSGABench questions), "
        f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for name, run in cases:
        wall, cpu = _timed(run, mix)
        print(f"  {name:<36} wall {_p(wall)} ms   cpu {_p(cpu)} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--ablation", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=f"override {sorted(KNOBS)}")
    args = parser.parse_args()
    for setting in args.set:
        name, value = setting.split("=")
        module, attribute = KNOBS[name]
        setattr(module, attribute, type(getattr(module, attribute))(float(value)))
    print("settings: " + ", ".join(f"{n}={getattr(m, a)}" for n, (m, a) in KNOBS.items()))
    work = Path(tempfile.mkdtemp(prefix="policy-bench-"))
    try:
        if not args.skip_quality:
            quality(args.data, work, args.ablation)
        if not args.skip_latency:
            latency(args.data, work, args.passages, args.queries, args.seed)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
