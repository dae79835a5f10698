"""Policy parsing benchmark: metadata exact match on gov.cn, clause trees on LawRefBook, same run.

    python bench/policy_metadata.py [--data ../shared/data/policy]

1. Runs `extract_metadata` on the `text` of every govcn_state_council_docs record (its gold
   fields unseen) and prints the exact-match rate of 文号, issuer, 成文日期 (issue_date) and
   title against the gold 文号/发文机关/成文日期/标题, next to a naive BASELINE on the same
   records: the first 文号-shaped match anywhere, the issuer from the first line (its words
   before 关于/转发/印发, else the whole line), the first date anywhere, the first line as title.
   Every failure of the extractor is printed. The issue's goal is ≥ 0.95 on each field.
2. Runs `clause_tree` on every LawRefBook Zhejiang regulation and reports the share with at
   least one 第X条 clause, and the share whose article count equals a plain count of lines
   starting with 第X条.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from digigov.policy.clauses import clause_tree
from digigov.policy.metadata import extract_metadata, parse_date

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "policy"
FIELDS = ("doc_number", "issuer", "written_date", "title")
NAIVE_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,10}〔\d{4}〕\d+号")
NAIVE_ISSUER = re.compile(r"^(.+?)(?:关于|转发|印发)")
ARTICLE_LINE = re.compile(r"^第[一二三四五六七八九十百千零〇\d]+条", re.M)

Record = dict[str, Any]
Extractor = Callable[[str], dict[str, str | None]]


def records(path: Path) -> Iterator[Record]:
    with path.open(encoding="utf-8") as lines:
        yield from (json.loads(line) for line in lines if line.strip())


def ours(text: str) -> dict[str, str | None]:
    meta = extract_metadata(text)
    written = meta.issue_date.isoformat() if meta.issue_date else None
    return {"doc_number": meta.doc_number, "issuer": meta.issuer, "written_date": written, "title": meta.title}


def baseline(text: str) -> dict[str, str | None]:
    first = text.strip().split("\n", 1)[0].strip()
    number = NAIVE_NUMBER.search(text)
    issuer = NAIVE_ISSUER.match(first)
    written = parse_date(text)
    return {
        "doc_number": number.group() if number else None,
        "issuer": issuer.group(1) if issuer else first,
        "written_date": written.isoformat() if written else None,
        "title": first,
    }


def score(docs: list[Record], extract: Extractor) -> tuple[dict[str, float], list[str]]:
    hits = dict.fromkeys(FIELDS, 0)
    failures: list[str] = []
    for doc in docs:
        got = extract(doc["text"])
        for field in FIELDS:
            if got[field] == doc[field]:
                hits[field] += 1
            else:
                failures.append(f"  {doc['id']} {field}: got {got[field]!r}, gold {doc[field]!r}")
    return {field: hits[field] / len(docs) for field in FIELDS}, failures


def metadata_report(data: Path) -> None:
    docs = list(records(data / "govcn_state_council_docs" / "docs.jsonl"))
    started = time.perf_counter()
    rates, failures = score(docs, ours)
    elapsed = time.perf_counter() - started
    naive, _ = score(docs, baseline)
    print(f"gov.cn State Council documents: {len(docs)} (extract_metadata {elapsed * 1000 / len(docs):.1f} ms/doc)")
    print(f"  {'field':<14}{'extract_metadata':>18}{'baseline':>10}")
    for field in FIELDS:
        print(f"  {field:<14}{rates[field]:>18.3f}{naive[field]:>10.3f}")
    all_ours = sum(rates.values()) / len(FIELDS)
    all_naive = sum(naive.values()) / len(FIELDS)
    print(f"  {'mean':<14}{all_ours:>18.3f}{all_naive:>10.3f}")
    print(f"failures of extract_metadata ({len(failures)}):")
    print("\n".join(failures) or "  none")


def clause_report(data: Path) -> None:
    docs = list(records(data / "lawrefbook_zhejiang_local_regulations" / "docs.jsonl"))
    with_articles = matching = 0
    mismatches: list[str] = []
    started = time.perf_counter()
    for doc in docs:
        articles = sum(1 for clause in clause_tree(doc["markdown"]) if _is_article(clause.path))
        expected = len(ARTICLE_LINE.findall(doc["markdown"]))
        with_articles += articles > 0
        matching += articles == expected
        if articles != expected:
            mismatches.append(f"  {doc['title']}: clause_tree {articles}, lines starting 第X条 {expected}")
    elapsed = time.perf_counter() - started
    print(f"LawRefBook Zhejiang regulations: {len(docs)} (clause_tree {elapsed * 1000 / len(docs):.1f} ms/doc)")
    print(f"  with at least one 第X条 clause: {with_articles}/{len(docs)} = {with_articles / len(docs):.3f}")
    print(f"  article count = count of lines starting 第X条: {matching}/{len(docs)} = {matching / len(docs):.3f}")
    print("\n".join(mismatches))


def _is_article(path: str) -> bool:
    return bool(re.fullmatch(r"第[^ (]+条(?:之[^ (]+)?", path.split(" ")[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DATA, help="The shared policy data folder.")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"No policy data at {args.data}; pass --data.")
    metadata_report(args.data)
    print()
    clause_report(args.data)


if __name__ == "__main__":
    main()
