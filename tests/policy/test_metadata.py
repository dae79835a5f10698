"""Metadata, 文号, citations and repeals read from real policy texts and from documents written here."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from digigov.policy.citations import find_citations
from digigov.policy.metadata import (
    ISSUERS,
    extract_metadata,
    find_repeals,
    issuer_for_number,
    normalise_doc_number,
    parse_date,
    region_of,
)
from digigov.policy.reading import read_document
from tests.conftest import SHARED_DATA

POLICY = SHARED_DATA / "policy"
SEED = SHARED_DATA.parent / "seed" / "zhejiang-digital-government-2022-20.txt"
needs_seed = pytest.mark.skipif(not SEED.is_file(), reason=f"seed page not present at {SEED}")
needs_policy = pytest.mark.skipif(not POLICY.is_dir(), reason=f"real policy data not present at {POLICY}")

# gov.cn's disclosure table says 2004-04-17; the signed text itself says 二〇〇四年四月二十七日.
GOLD_DATE_DISAGREES_WITH_TEXT = {"govcn-07afededb346": "二〇〇四年四月二十七日"}

RED_HEADER = """浙江省人民政府文件
浙政发〔2022〕20号
浙江省人民政府关于深化数字政府建设的
实施意见
各市、县（市、区）人民政府，省政府直属各单位：
为贯彻落实《国务院关于加强数字政府建设的指导意见》（国发〔2022〕14号）精神，现提出如下实施意见。
一、总体要求
（一）指导思想。以数字化改革为牵引。
本意见自2022年8月1日起施行，有效期5年。《浙江省人民政府关于加快推进“最多跑一次”改革的意见》（浙政发〔2018〕5号）同时废止。
浙江省人民政府
二〇二二年七月三十日
（此件公开发布）"""


def records(name: str) -> list[dict[str, Any]]:
    path = next((POLICY / name).glob("*.jsonl"))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---- 文号 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "浙政发〔2022〕20号",
        "浙政发[2022]20号",
        "浙政发［2022］20号",
        "浙政发【2022】20号",
        "浙政发（2022）20号",
        "浙政发(2022)20号",
        "浙政发〔2022〕第20号",
        "浙政发 〔 2022 〕 20 号",
        "浙政发〔2022〕020号",
        "文号：浙政发〔2022〕20号",
    ],
)
def test_doc_number_forms_are_written_with_tortoise_shell_brackets(written: str) -> None:
    assert normalise_doc_number(written) == "浙政发〔2022〕20号"


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("国令第706号", "国令第706号"),
        ("中华人民共和国国务院令 第706号", "国令第706号"),
        ("中华人民共和国国务院令\n第707号", "国令第707号"),
        ("国务院令第588号", "国令第588号"),
        ("浙江省人民政府令第388号", "浙江省人民政府令第388号"),
        ("财政部 税务总局公告2020年第9号", "财政部 税务总局公告2020年第9号"),
        ("财政部、税务总局公告2020年第9号", "财政部 税务总局公告2020年第9号"),
        ("国家税务总局公告2018年第28号", "国家税务总局公告2018年第28号"),
        ("公告〔2019〕3号", "公告〔2019〕3号"),
        ("国办发明电〔2018〕15号", "国办发明电〔2018〕15号"),
        ("工信部联企业〔2011〕300号", "工信部联企业〔2011〕300号"),
        ("按照浙政办发〔2021〕5号执行", "浙政办发〔2021〕5号"),
    ],
)
def test_other_doc_number_shapes(written: str, normal: str) -> None:
    assert normalise_doc_number(written) == normal


@pytest.mark.parametrize("text", ["第二十条", "2022年第3季度", "浙政发", "", "全国人大四次会议第7264号建议"])
def test_texts_without_a_doc_number(text: str) -> None:
    assert normalise_doc_number(text) is None


@pytest.mark.parametrize(
    ("number", "issuer"),
    [
        ("国发〔2019〕4号", "国务院"),
        ("国办发〔2019〕2号", "国务院办公厅"),
        ("国办函〔2006〕69号", "国务院办公厅"),
        ("国函〔2018〕144号", "国务院"),
        ("国令第707号", "国务院"),
        ("浙政发〔2022〕20号", "浙江省人民政府"),
        ("浙政办发〔2022〕3号", "浙江省人民政府办公厅"),
        ("浙政函〔2022〕1号", "浙江省人民政府"),
        ("浙政办函〔2022〕9号", "浙江省人民政府办公厅"),
        ("杭政〔2021〕5号", "杭州市人民政府"),
        ("杭政办函〔2021〕8号", "杭州市人民政府办公厅"),
        ("财税〔2016〕36号", "财政部、税务总局"),
        ("人社部发〔2020〕11号", "人力资源社会保障部"),
        ("工信部联企业〔2011〕300号", "工业和信息化部"),
        ("国科发高〔2018〕235号", "科技部"),
        ("浙江省人民政府令第388号", "浙江省人民政府"),
        ("财政部 税务总局公告2020年第9号", "财政部、税务总局"),
        ("某某〔2020〕1号", None),
    ],
)
def test_issuer_comes_from_the_longest_known_prefix(number: str, issuer: str | None) -> None:
    assert issuer_for_number(number) == issuer


def test_issuer_table_is_extendable() -> None:
    ISSUERS["余政"] = "杭州市余杭区人民政府"
    try:
        assert issuer_for_number("余政发〔2022〕1号") == "杭州市余杭区人民政府"
    finally:
        del ISSUERS["余政"]


# ---- dates and regions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("二〇二二年七月三十日", date(2022, 7, 30)),
        ("二○○四年六月二十六日", date(2004, 6, 26)),
        ("一九八一年五月二十三日", date(1981, 5, 23)),
        ("二〇〇六年十月十八日", date(2006, 10, 18)),
        ("2022年7月30日", date(2022, 7, 30)),
        ("2019 年 1 月 1 日", date(2019, 1, 1)),
        ("2022年2月30日", None),
        ("七月三十日", None),
    ],
)
def test_dates_in_arabic_and_chinese_numerals(text: str, day: date | None) -> None:
    assert parse_date(text) == day


def test_region_is_the_issuer_s_division_code_and_none_for_national_bodies() -> None:
    assert [
        region_of(issuer) for issuer in ("浙江省人民政府", "杭州市人民政府办公厅", "丽水市人民代表大会常务委员会")
    ] == [
        "330000",
        "330100",
        "331100",
    ]
    assert region_of("国务院") is None and region_of("人力资源社会保障部") is None


# ---- whole documents ----------------------------------------------------------------------------


def test_red_header_document() -> None:
    meta = extract_metadata(RED_HEADER)
    assert meta.title == "浙江省人民政府关于深化数字政府建设的实施意见"
    assert (meta.doc_number, meta.issuer, meta.region) == ("浙政发〔2022〕20号", "浙江省人民政府", "330000")
    assert meta.recipients == ("各市、县（市、区）人民政府", "省政府直属各单位")
    assert meta.issue_date == date(2022, 7, 30)
    assert (meta.effective_date, meta.expiry_date) == (date(2022, 8, 1), date(2027, 7, 31))
    assert meta.validity == "本意见自2022年8月1日起施行，有效期5年。"
    assert meta.status == "in_force"
    assert "数字政府" in meta.topics


def test_repealed_documents_are_the_ones_this_text_repeals() -> None:
    assert [(c.title, c.doc_number) for c in find_repeals(RED_HEADER)] == [
        ("浙江省人民政府关于加快推进“最多跑一次”改革的意见", "浙政发〔2018〕5号")
    ]


def test_repeals_listed_one_a_line() -> None:
    text = (
        "本办法自2023年1月1日起施行。下列文件同时废止：\n"
        "1.《甲办法》（浙政办发〔2018〕5号）\n2.《乙规定》（浙政发〔2019〕3号）\n浙江省人民政府"
    )
    assert [c.doc_number for c in find_repeals(text)] == ["浙政办发〔2018〕5号", "浙政发〔2019〕3号"]


def test_stopping_execution_counts_as_a_repeal_but_a_mere_citation_does_not() -> None:
    text = "根据《国务院关于X的意见》（国发〔2017〕1号），原《关于Y的通知》（浙政办发〔2016〕82号）停止执行。"
    assert [c.doc_number for c in find_repeals(text)] == ["浙政办发〔2016〕82号"]


@pytest.mark.parametrize(
    ("sentence", "effective", "expiry"),
    [
        ("本通知自发布之日起施行。", None, None),
        ("本通知自印发之日起施行。", date(2021, 12, 1), None),
        ("本通告执行期限自发布之日起3个月止。", None, None),
        ("本办法自2022年1月1日起施行，有效期至2024年12月31日。", date(2022, 1, 1), date(2024, 12, 31)),
        ("本规定自二〇二二年三月一日起施行，有效期二年。", date(2022, 3, 1), date(2024, 2, 29)),
    ],
)
def test_validity_sentence_and_dates(sentence: str, effective: date | None, expiry: date | None) -> None:
    meta = extract_metadata(f"关于X的通知\n各区县：\n正文。\n{sentence}\n浙江省人民政府\n2021年12月1日")
    assert (meta.validity, meta.effective_date, meta.expiry_date) == (sentence, effective, expiry)


def test_validity_of_a_cited_document_is_not_the_document_s_own() -> None:
    meta = extract_metadata(
        "关于X的通知\n《某某条例》自2019年1月1日起施行以来成效明显。\n浙江省人民政府\n2021年12月1日"
    )
    assert (meta.validity, meta.effective_date) == (None, None)


@pytest.mark.parametrize(
    ("banner", "status"),
    [("【已废止】", "repealed"), ("有效性：失效", "repealed"), ("（已修订）", "amended"), ("", "in_force")],
)
def test_status_banners(banner: str, status: str) -> None:
    assert extract_metadata(f"{banner}\n关于X的通知\n正文。《Y》同时废止。").status == status


def test_title_hint_is_used_when_the_text_has_no_header_block() -> None:
    assert extract_metadata("为了做好工作，制定本办法。", title_hint="杭州市  某某办法").title == "杭州市 某某办法"


@needs_seed
def test_seed_page_metadata() -> None:
    meta = extract_metadata(SEED.read_text(encoding="utf-8"))
    assert meta.title == "浙江省人民政府关于深化数字政府建设的实施意见"
    assert (meta.doc_number, meta.issuer, meta.region) == ("浙政发〔2022〕20号", "浙江省人民政府", "330000")
    assert meta.recipients == ("各市、县（市、区）人民政府", "省政府直属各单位")
    # The scraped page stops mid-sentence in section 四, before the signature and its date.
    assert (meta.issue_date, meta.effective_date, meta.status) == (None, None, "in_force")
    assert meta.topics[0] == "数字政府"


@needs_seed
def test_seed_cites_the_state_council_opinion_but_not_itself() -> None:
    text = SEED.read_text(encoding="utf-8")
    citations = find_citations(text, own_number="浙政发〔2022〕20号")
    assert [(c.title, c.doc_number) for c in citations] == [
        ("国务院关于加强数字政府建设的指导意见", "国发〔2022〕14号")
    ]
    assert text[citations[0].start : citations[0].end] == "《国务院关于加强数字政府建设的指导意见》(国发〔2022〕14号)"
    assert find_repeals(text) == []


@needs_policy
def test_govcn_metadata_matches_the_disclosure_table() -> None:
    docs = records("govcn_state_council_docs")
    misses = []
    for doc in docs:
        meta = extract_metadata(doc["text"])
        got = (meta.doc_number, meta.issuer, meta.title, meta.issue_date.isoformat() if meta.issue_date else None)
        gold = (doc["doc_number"], doc["issuer"], doc["title"], doc["written_date"])
        misses += [(doc["id"], index) for index in range(4) if got[index] != gold[index]]
    assert misses == [(doc_id, 3) for doc_id in GOLD_DATE_DISAGREES_WITH_TEXT]


@needs_policy
def test_the_one_date_miss_is_the_gold_table_s_error() -> None:
    doc = next(d for d in records("govcn_state_council_docs") if d["id"] in GOLD_DATE_DISAGREES_WITH_TEXT)
    assert "国务院办公厅\n" + GOLD_DATE_DISAGREES_WITH_TEXT[doc["id"]] in doc["text"]
    assert extract_metadata(doc["text"]).issue_date == date(2004, 4, 27)


@needs_policy
def test_state_council_order_takes_the_title_of_the_regulation_it_promulgates() -> None:
    doc = next(d for d in records("govcn_state_council_docs") if d["doc_number"] == "国令第707号")
    meta = extract_metadata(doc["text"])
    assert (meta.title, meta.doc_number, meta.issuer) == ("中华人民共和国个人所得税法实施条例", "国令第707号", "国务院")
    assert (meta.effective_date, meta.validity) == (date(2019, 1, 1), "本条例自2019年1月1日起施行。")


@needs_policy
def test_govcn_recipients_and_repeals() -> None:
    docs = {d["doc_number"]: d for d in records("govcn_state_council_docs")}
    assert extract_metadata(docs["国函〔2018〕145号"]["text"]).recipients == (
        "科技部",
        "新疆维吾尔自治区人民政府",
        "新疆生产建设兵团",
    )
    assert extract_metadata(docs["国发〔2019〕4号"]["text"]).recipients == (
        "各省、自治区、直辖市人民政府",
        "国务院各部委",
        "各直属机构",
    )
    assert extract_metadata(docs["国办函〔2006〕69号"]["text"]).recipients == ("邓明义代表",)
    repealed = find_repeals(docs["国办发〔2018〕117号"]["text"])
    assert [c.doc_number for c in repealed] == ["国办发〔2016〕82号"]


@needs_policy
def test_govcn_citations_keep_offsets_and_skip_the_own_number() -> None:
    doc = next(d for d in records("govcn_state_council_docs") if d["doc_number"] == "国函〔2018〕144号")
    citations = find_citations(doc["text"], own_number=doc["doc_number"])
    assert [c.doc_number for c in citations] == ["教职成〔2018〕8号"]
    cited = citations[0]
    assert (
        doc["text"][cited.start : cited.end]
        == "《关于提请调整完善职业教育工作部际联席会议制度的请示》（教职成〔2018〕8号）"
    )


def test_aliases_are_not_citations() -> None:
    text = "《国家组织药品集中采购和使用试点方案》（以下简称《方案》）已经国务院同意。各地要按照《方案》要求实施。"
    assert [c.title for c in find_citations(text)] == ["国家组织药品集中采购和使用试点方案"]


@needs_policy
def test_lawrefbook_regulation_metadata() -> None:
    record = records("lawrefbook_zhejiang_local_regulations")[1]
    raw = read_document(record["markdown"].encode(), "regulation.md")
    meta = extract_metadata(raw.text, title_hint=raw.title_hint)
    assert meta.title == "丽水市传统村落保护条例" == record["title"]
    assert (meta.issuer, meta.region) == ("丽水市人民代表大会常务委员会", "331100")
    assert (meta.issue_date, meta.effective_date) == (date(2019, 5, 28), date(2019, 11, 1))
    assert meta.validity == "本条例自2019年11月1日起施行。"


@needs_policy
def test_one_line_ncp_notices() -> None:
    corpus = {record["docid"]: record["text"] for record in records("ncp_covid_policy_qa")}
    notice = extract_metadata(corpus["0143034a905131c2b70495fc176a5a22"])
    assert notice.title == "内江经济技术开发区应对新型冠状病毒感染肺炎疫情应急指挥部通告（第8号）"
    assert (notice.issue_date, notice.effective_date) == (date(2020, 2, 10), date(2020, 2, 10))
    assert notice.validity == "本通告自即日起施行，有效期至新型冠状病毒感染肺炎疫情解除。"
    announcement = extract_metadata(corpus["106e7e512cf23c099d8ba4a340f2c9e8"])
    assert announcement.title == "财政部 税务总局关于支持新型冠状病毒感染的肺炎疫情防控有关税收政策的公告"
    assert announcement.doc_number == "财政部 税务总局公告2020年第8号"
    assert (announcement.effective_date, announcement.issue_date) == (date(2020, 1, 1), date(2020, 2, 6))
    tax = extract_metadata(corpus["0013aa11eb73353abf1e2bd8bca41750"])
    assert tax.recipients == ("国家税务总局各省辖市税务局", "国家税务总局郑州航空港经济综合实验区税务局", "局内各单位")
    assert "税收" in tax.topics and "疫情防控" in tax.topics


@needs_policy
def test_every_ncp_text_with_a_dated_signature_gets_its_issue_date() -> None:
    texts = [record["text"] for record in records("ncp_covid_policy_qa")]
    metas = [extract_metadata(text) for text in texts]
    assert all(meta.title for meta in metas)
    signed = [any(parse_date(piece) and piece.endswith("日") for piece in text.split()[1:]) for text in texts]
    assert [meta.issue_date is not None for meta in metas] == signed
