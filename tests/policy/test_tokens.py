"""Text analysis for policy search: terms, synonyms, 文号, quoted phrases, snippets."""

from __future__ import annotations

import html
import re

import pytest

from digigov.policy.tokens import (
    MAX_QUERY_TERMS,
    SYNONYMS,
    TERMS,
    analyze_query,
    char_terms,
    find_doc_numbers,
    index_terms,
    normalize,
    normalize_doc_number,
    query_terms,
    quoted_phrases,
    snippet,
    synonyms_in,
)


def visible(snippet_html: str) -> str:
    return html.unescape(re.sub(r"</?mark>", "", snippet_html))


def test_full_width_and_upper_case_fold_to_the_same_terms() -> None:
    assert normalize("ＡＰＰ２０２２") == "app2022"
    assert index_terms("ＡＰＰ　２０２２年") == index_terms("app 2022年") == ["app", "2022", "年"]


def test_cjk_runs_become_bigrams_and_ascii_words_stay_whole() -> None:
    assert index_terms("稳岗返还，12345热线") == ["稳岗", "岗返", "返还", "12345", "热线"]
    assert index_terms("税") == ["税"]
    assert char_terms("稳岗 app") == ["稳", "岗"]
    assert index_terms("…，。") == []


def test_everyday_words_expand_to_formal_ones() -> None:
    terms = query_terms("老人坐公交有优惠吗")
    assert {"老年", "年人", "乘坐", "公共", "交通"} <= set(terms)
    assert terms[:2] == ["老人", "人坐"]  # what was typed comes first
    assert "失业保险金" in synonyms_in("失业金怎么领")
    assert "社会保险" in synonyms_in("社保断缴")
    assert "中小微企业" in synonyms_in("小微企业贷款")


def test_synonym_of_a_prefix_is_not_expanded_inside_a_longer_word() -> None:
    assert synonyms_in("失业保险金") == ["失业金"]
    assert "没工作" not in synonyms_in("失业保险金")


def test_synonyms_count_less_than_the_words_typed() -> None:
    weights = analyze_query("老人坐公交").bigrams
    assert weights["老人"] == 1.0
    assert 0 < weights["老年"] < 1.0


def test_synonym_table_is_large_and_well_formed() -> None:
    assert len(SYNONYMS) >= 40
    for group in SYNONYMS:
        assert len(group) >= 2, group
        assert len(set(group)) == len(group), group
        assert all(word == normalize(word) and index_terms(word) for word in group), group


def test_government_terms_include_the_glossary_and_policy_words() -> None:
    assert {"免申即享", "一网通办", "政策找人", "稳岗返还", "失业保险费", "最多跑一次"} <= TERMS


def test_question_words_are_dropped_unless_nothing_else_is_left() -> None:
    assert "什么" not in query_terms("失业金是什么")
    assert "失业" in query_terms("失业金是什么")
    assert query_terms("什么") == ["什么"]


def test_a_long_query_is_capped() -> None:
    text = "".join(chr(0x4E00 + i) for i in range(10_000))
    terms = analyze_query(text)
    assert len(terms.bigrams) <= MAX_QUERY_TERMS and len(terms.chars) <= MAX_QUERY_TERMS


@pytest.mark.parametrize(
    "typed",
    [
        "浙政发〔2022〕20号",
        "浙政发[2022]20号",
        "浙政发［2022］20号",
        "浙政发(2022)20号",
        "浙政发（2022）20号",
        "浙政发【2022】20号",
        "浙政发﹝2022﹞20号",
        "浙政发 〔2022〕 020 号",
        "浙政发〔２０２２〕２０号",
        "浙政发〔2022〕第20号",
    ],
)
def test_doc_number_in_any_bracket_form_normalises(typed: str) -> None:
    assert normalize_doc_number(typed) == "浙政发〔2022〕20号"


def test_decree_numbers_and_non_numbers() -> None:
    assert normalize_doc_number("国令第707号") == "国令第707号"
    assert normalize_doc_number("国务院办公厅关于印发的通知") is None
    assert normalize_doc_number("2022年20号") is None


def test_doc_numbers_are_found_inside_text() -> None:
    found = find_doc_numbers("根据国办发〔2018〕121号和国令第707号执行")
    assert "国办发〔2018〕121号" in found and "国令第707号" in found
    assert find_doc_numbers("没有文号") == []


def test_quoted_phrases_in_every_quote_style() -> None:
    assert quoted_phrases('"稳岗返还" “免申即享” ＂一网通办＂ 「最多跑一次」') == [
        "稳岗返还",
        "免申即享",
        "一网通办",
        "最多跑一次",
    ]
    assert quoted_phrases("稳岗返还") == []
    assert quoted_phrases('"，"') == []


def test_snippet_escapes_html_and_marks_matches() -> None:
    result = snippet("<script>alert(1)</script>老年人优待", set(query_terms("老年人")))
    assert "<script>" not in result
    assert "&lt;script&gt;" in result
    assert "<mark>老年人</mark>" in result


def test_snippet_of_a_long_text_is_a_short_window_around_the_matches() -> None:
    text = "一般规定。" * 100 + "老年人凭证免费乘坐公共交通。" + "其他事项。" * 100
    result = snippet(text, set(query_terms("老年人 乘坐公共交通")))
    assert len(visible(result)) <= 160
    assert "<mark>老年人</mark>" in result and "<mark>乘坐公共交通</mark>" in result
    assert result.startswith("…") and result.endswith("…")


def test_ascii_terms_are_marked_as_whole_words_only() -> None:
    assert snippet("app 与 apple", {"app"}) == "<mark>app</mark> 与 apple"
