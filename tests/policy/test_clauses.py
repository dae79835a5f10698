"""Clause trees of real policy texts: the seed page, gov.cn documents, LawRefBook regulations, one-line NCP crawls."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from digigov.policy.clauses import Clause, clause_tree, subtree_end
from digigov.policy.furniture import strip_furniture
from tests.conftest import SHARED_DATA

POLICY = SHARED_DATA / "policy"
SEED = SHARED_DATA.parent / "seed" / "zhejiang-digital-government-2022-20.txt"
needs_seed = pytest.mark.skipif(not SEED.is_file(), reason=f"seed page not present at {SEED}")
needs_policy = pytest.mark.skipif(not POLICY.is_dir(), reason=f"real policy data not present at {POLICY}")
ARTICLE_LINE = re.compile(r"^第[一二三四五六七八九十百千零〇\d]+条", re.M)


def records(name: str) -> list[dict[str, Any]]:
    path = next((POLICY / name).glob("*.jsonl"))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def assert_partition(text: str, clauses: list[Clause]) -> None:
    """Offsets point into `text`, clauses follow each other, and only whitespace is left between them."""
    position = 0
    for clause in clauses:
        assert text[clause.start : clause.end] == clause.text
        assert clause.start >= position and not text[position : clause.start].strip()
        position = clause.end
    assert not text[position:].strip()
    for index, clause in enumerate(clauses):
        if clause.parent is not None:
            assert clause.parent < index and clauses[clause.parent].level == clause.level - 1


def articles(clauses: list[Clause]) -> list[Clause]:
    return [clause for clause in clauses if re.fullmatch(r"第[^ (]+条(?:之[^ (]+)?", clause.path.split(" ")[-1])]


@pytest.fixture(scope="module")
def seed() -> str:
    if not SEED.is_file():
        pytest.skip(f"seed page not present at {SEED}")
    return strip_furniture(SEED.read_text(encoding="utf-8"))


def test_seed_clause_paths(seed: str) -> None:
    clauses = clause_tree(seed)
    assert_partition(seed, clauses)
    assert [c.path for c in clauses] == [
        "",
        "一",
        "一(一)",
        "一(二)",
        "二",
        *[f"二({n})" for n in "一二三四五六"],
        "三",
        "三(一)",
        "三(二)",
        "三(三)",
        "四",
        "四(一)",
    ]


def test_seed_clause_headings_levels_and_parents(seed: str) -> None:
    clauses = {c.path: c for c in clause_tree(seed)}
    service = clauses["二(四)"]
    assert service.heading == "（四）构建优质普惠的数字化公共服务体系"
    assert service.text.startswith("（四）构建优质普惠的数字化公共服务体系。全面提升公共服务数字化")
    assert service.text.endswith("推动优质公共服务向基层、特殊人群和欠发达地区延伸。")
    assert (service.level, clause_tree(seed)[service.parent or 0].path) == (2, "二")
    assert (clauses["一"].heading, clauses["一"].level, clauses["一"].parent) == ("一、总体要求", 1, None)
    preamble = clauses[""]
    assert preamble.level == 0 and preamble.text.startswith("浙江省人民政府关于深化数字政府建设的实施意见")
    assert preamble.text.endswith("现就深化我省数字政府建设提出如下实施意见。")


def test_subtree_end_covers_all_sub_clauses(seed: str) -> None:
    clauses = clause_tree(seed)
    two = next(index for index, c in enumerate(clauses) if c.path == "二")
    three = next(c for c in clauses if c.path == "三")
    assert (
        seed[clauses[two].start : subtree_end(clauses, two)].rstrip() == seed[clauses[two].start : three.start].rstrip()
    )
    assert subtree_end(clauses, len(clauses) - 1) == clauses[-1].end


@needs_policy
def test_every_govcn_document_is_partitioned() -> None:
    for doc in records("govcn_state_council_docs"):
        assert_partition(doc["text"], clause_tree(doc["text"]))


@needs_policy
def test_govcn_regulations_and_attachments() -> None:
    docs = {d["doc_number"]: d["text"] for d in records("govcn_state_council_docs")}
    order = [c.path for c in clause_tree(docs["国令第707号"])]
    assert order[:5] == ["", "第一条", "第二条", "第三条", "第三条(一)"]
    assert "第六条(五) 1" in order
    rules = [c.path for c in clause_tree(docs["国发〔2018〕41号"])]
    assert "第一章 第一条" in rules and "第六章 第十七条(二)" in rules
    annexed = clause_tree(docs["国函〔2018〕144号"])
    assert [c.path for c in annexed] == ["", "附件", "附件 一", "附件 二", "附件 三", "附件 四"]
    assert annexed[2].heading == "一、主要职能"


@needs_policy
def test_lawrefbook_articles_match_a_line_count() -> None:
    regulations = records("lawrefbook_zhejiang_local_regulations")
    for record in regulations:
        text = record["markdown"]
        clauses = clause_tree(text)
        assert_partition(text, clauses)
        found = articles(clauses)
        assert found, record["title"]
        assert len(found) == len(ARTICLE_LINE.findall(text)), record["title"]


@needs_policy
def test_lawrefbook_chapters_hold_their_articles() -> None:
    text = records("lawrefbook_zhejiang_local_regulations")[0]["markdown"]
    clauses = clause_tree(text)
    chapter = next(c for c in clauses if c.path == "第一章")
    assert (chapter.heading, chapter.level) == ("第一章 总则", 1)
    first = next(c for c in clauses if c.path == "第一章 第一条")
    assert (first.heading, first.level, clauses[first.parent or 0].path) == ("第一条", 2, "第一章")
    assert first.text.startswith("第一条 为了推进和保障中国（浙江）自由贸易试验区建设")
    items = [c.path for c in clauses if c.path.startswith("第二章 第七条(")]
    assert items == [f"第二章 第七条({n})" for n in "一二三四五六七"]
    assert clauses[-1].path == "第八章 第五十九条" and clauses[-1].text == "第五十九条 本条例自2018年1月1日起施行。"


@needs_policy
def test_one_line_ncp_texts_get_inline_headings() -> None:
    corpus = {record["docid"]: record["text"] for record in records("ncp_covid_policy_qa")}
    text = corpus["0013aa11eb73353abf1e2bd8bca41750"]
    clauses = clause_tree(text)
    assert [c.path for c in clauses] == ["", *"一二三四五六七八九十"]
    first = clauses[1]
    assert first.heading == "一、支持疫情防控物资供应"
    assert first.text.startswith("一、支持疫情防控物资供应 对生产、销售新型冠状病毒感染疫情防控重点物资的企业")
    assert first.text.endswith("提供对外支付税务备案便捷通道。")


@needs_policy
def test_every_ncp_text_is_partitioned() -> None:
    for record in records("ncp_covid_policy_qa"):
        assert_partition(record["text"], clause_tree(record["text"]))


def test_markers_out_of_sequence_or_in_references_stay_in_the_body() -> None:
    text = (
        "第一条 总则。\n第十条规定的情形除外。\n三、这不是标题\n1.5亿元用于补助\n第二条 适用范围。\n第二条之一 新增。"
    )
    assert [c.path for c in clause_tree(text)] == ["第一条", "第二条", "第二条之一"]


def test_list_families_nest_in_the_order_the_document_uses() -> None:
    text = "（一）总体要求\n1.目标\n（1）到2025年\n（2）到2035年\n2.原则\n（二）主要任务"
    assert [c.path for c in clause_tree(text)] == ["(一)", "(一) 1", "(一) 1(1)", "(一) 1(2)", "(一) 2", "(二)"]


def test_markdown_chapter_headings_and_sections() -> None:
    text = "# 某某条例\n\n## 第一章  总则\n\n### 第一节 一般规定\n\n第一条 目的。\n\n## 第二章 管理\n\n第二条 职责。"
    clauses = clause_tree(text)
    assert [c.path for c in clauses] == [
        "",
        "第一章",
        "第一章 第一节",
        "第一章 第一节 第一条",
        "第二章",
        "第二章 第二条",
    ]
    assert clauses[1].heading == "第一章 总则" and clauses[1].text == "## 第一章  总则"


def test_one_line_regulation_keeps_chapter_titles_short() -> None:
    text = "某某条例 第一章 总则 第一条 为了规范管理，制定本条例。 第二章 附则 第二条 本条例自2020年1月1日起施行。"
    clauses = clause_tree(text)
    assert [(c.path, c.heading) for c in clauses] == [
        ("", ""),
        ("第一章", "第一章 总则"),
        ("第一章 第一条", "第一条"),
        ("第二章", "第二章 附则"),
        ("第二章 第二条", "第二条"),
    ]
    assert clauses[2].text == "第一条 为了规范管理，制定本条例。"


def test_text_without_headings_is_one_preamble_and_blank_text_has_none() -> None:
    assert [(c.path, c.level, c.text) for c in clause_tree("  现将有关事项通知如下。\n请遵照执行。  ")] == [
        ("", 0, "现将有关事项通知如下。\n请遵照执行。")
    ]
    assert clause_tree(" \n ") == []
