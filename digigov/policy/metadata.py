"""Metadata of a policy document read from its own text: title, 文号, issuer, recipients, dates, validity.

The header block of a Chinese official document is title (possibly broken over lines), 文号,
主送 line ("各市、县（市、区）人民政府，省政府直属各单位："); its end is the signature: issuer, then
the 成文日期 on a line of its own. The document's own 文号 is the one standing alone in that
header, never the first one cited in the body. Orders (国务院令 第707号) carry the title of the
regulation they promulgate in 《》. Region is the GB/T 2260 code of the issuer's province or city;
national bodies have none (None), since 000000 is no region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from digigov.policy._chinese import parse_date
from digigov.policy._docnumber import ISSUERS, issuer_for_number, iter_doc_numbers, normalise_doc_number
from digigov.policy._header import HeaderBlock, read_header
from digigov.policy._validity import read_validity
from digigov.policy.citations import Citation, find_citations
from digigov.policy.furniture import strip_furniture

__all__ = [
    "ISSUERS",
    "TOPICS",
    "Citation",
    "Metadata",
    "extract_metadata",
    "find_repeals",
    "issuer_for_number",
    "normalise_doc_number",
    "parse_date",
    "region_of",
    "topics_of",
]

Status = Literal["in_force", "amended", "repealed"]


@dataclass(frozen=True)
class Metadata:
    """What the text says about itself; None where it does not say."""

    title: str
    doc_number: str | None
    issuer: str | None
    recipients: tuple[str, ...]
    issue_date: date | None
    effective_date: date | None
    expiry_date: date | None
    validity: str | None
    region: str | None
    status: Status
    topics: tuple[str, ...]


def extract_metadata(text: str, *, title_hint: str | None = None) -> Metadata:
    """Read the metadata of one document; page furniture is removed first.

    `title_hint` (an HTML or DOCX title, a Markdown heading) is used when the text has no clear
    header block. Effective and expiry dates are set only when the text fixes them (a date, or
    自印发之日起 = the issue date); 自发布之日起 leaves them to the caller, who knows the publish date.
    """
    clean = strip_furniture(text)
    header = read_header(clean)
    validity = read_validity(clean, issue_date=header.issue_date)
    return Metadata(
        title=_title(header, title_hint, clean),
        doc_number=header.doc_number,
        issuer=header.issuer,
        recipients=header.recipients,
        issue_date=header.issue_date,
        effective_date=validity.effective_date,
        expiry_date=validity.expiry_date,
        validity=validity.sentence,
        region=region_of(header.issuer) or region_of(issuer_for_number(header.doc_number or "")),
        status=_status(clean),
        topics=topics_of(clean, header.title or title_hint or ""),
    )


def _title(header: HeaderBlock, hint: str | None, text: str) -> str:
    if header.title and (header.doc_number or not hint):
        return header.title
    if hint:
        return " ".join(hint.split())
    return header.title or text.strip().split("\n", 1)[0][:100]


# ---- region --------------------------------------------------------------------------------

_ZHEJIANG_CITIES = {
    "杭州": "330100", "宁波": "330200", "温州": "330300", "嘉兴": "330400", "湖州": "330500", "绍兴": "330600",
    "金华": "330700", "衢州": "330800", "舟山": "330900", "台州": "331000", "丽水": "331100",
}  # fmt: skip
_PROVINCES = {
    "北京": "110000", "天津": "120000", "河北": "130000", "山西": "140000", "内蒙古": "150000", "辽宁": "210000",
    "吉林": "220000", "黑龙江": "230000", "上海": "310000", "江苏": "320000", "浙江": "330000", "安徽": "340000",
    "福建": "350000", "江西": "360000", "山东": "370000", "河南": "410000", "湖北": "420000", "湖南": "430000",
    "广东": "440000", "广西": "450000", "海南": "460000", "重庆": "500000", "四川": "510000", "贵州": "520000",
    "云南": "530000", "西藏": "540000", "陕西": "610000", "甘肃": "620000", "青海": "630000", "宁夏": "640000",
    "新疆": "650000",
}  # fmt: skip


def region_of(issuer: str | None) -> str | None:
    """GB/T 2260 code of the issuer's region (a Zhejiang city, else a province); None for national bodies.

    >>> region_of("浙江省人民政府"), region_of("杭州市人民政府办公厅"), region_of("国务院"), region_of(None)
    ('330000', '330100', None, None)
    """
    if not issuer:
        return None
    for table in (_ZHEJIANG_CITIES, _PROVINCES):
        found = [(issuer.find(name), code) for name, code in table.items() if name in issuer]
        if found:
            return min(found)[1]
    return None


# ---- status and topics ---------------------------------------------------------------------

_BANNER = r"^[【\[（(]?\s*(?:(?:有效性|效力状态|时效性|效力)\s*[:：]\s*)?(?:本文件|本件|此件|该文件)?{}\s*[】\]）)]?$"
_REPEALED = re.compile(_BANNER.format("(?:已废止|已被废止|已失效|全文废止|失效|废止)"), re.M)
_AMENDED = re.compile(_BANNER.format("(?:已修订|已被修订|已修改|已被修改|部分修改|部分失效)"), re.M)


def _status(text: str) -> Status:
    if _REPEALED.search(text):
        return "repealed"
    return "amended" if _AMENDED.search(text) else "in_force"


TOPICS: dict[str, tuple[str, ...]] = {
    "就业": ("就业", "稳岗", "失业", "创业", "招聘", "技能培训"),
    "社保": ("社会保险", "社保", "养老保险", "医疗保险", "失业保险", "工伤保险", "社会保障"),
    "税收": ("税收", "增值税", "所得税", "减税", "退税", "纳税", "税费", "免征"),
    "数字政府": ("数字政府", "数字化改革", "政务服务", "一网通办", "电子政务", "政务数据", "公共数据", "政府网站"),
    "疫情防控": ("疫情", "新型冠状病毒", "新冠", "防疫", "防控物资"),
    "教育": ("教育", "学校", "幼儿园", "职业院校", "学生"),
    "医疗卫生": ("医疗", "卫生", "药品", "医院", "医保", "医务人员"),
    "科技": ("科技", "科学技术", "科研", "研发", "创新"),
    "农业农村": ("农业", "农村", "农机", "粮食", "农民"),
    "市场监管": ("市场监管", "双随机", "监管", "营商环境"),
    "财政金融": ("财政", "金融", "融资", "信贷", "贷款", "补贴"),
    "住房城建": ("住房", "物业", "房地产", "城乡建设", "公积金"),
    "交通运输": ("交通", "运输", "船舶", "航运", "机场"),
    "生态环境": ("生态环境", "环境保护", "污染", "节水", "碳排放"),
    "文化体育": ("文化", "体育", "旅游", "文物"),
}
"""Topic → keywords; a topic applies when its keywords occur in the title or at least three times."""


def topics_of(text: str, title: str = "") -> tuple[str, ...]:
    """Topics by keyword count, most mentioned first (at most five).

    >>> topics_of("关于做好疫情防控期间稳就业工作的通知", "关于做好疫情防控期间稳就业工作的通知")
    ('就业', '疫情防控')
    """
    counts = {topic: sum(text.count(word) for word in words) for topic, words in TOPICS.items()}
    chosen = [t for t, n in counts.items() if n >= 3 or any(word in title for word in TOPICS[t])]
    return tuple(sorted(chosen, key=lambda topic: -counts[topic])[:5])


# ---- repeals -------------------------------------------------------------------------------

_REPEAL = re.compile(r"同时废止|一并废止|予以废止|废止|停止执行|不再执行|同时失效|自行失效|宣布失效")
_SENTENCE_END = "。；;\n"
_CLAUSE_END = "，,：:" + _SENTENCE_END


def find_repeals(text: str) -> list[Citation]:
    """Documents this text repeals or replaces: "《…》（浙政发〔2018〕5号）同时废止", "…停止执行".

    A list after "下列文件同时废止：" counts too, one document a line.

    >>> [c.doc_number for c in find_repeals("本意见自印发之日起施行，《关于X的意见》（浙政发〔2018〕5号）同时废止。")]
    ['浙政发〔2018〕5号']
    """
    citations = find_citations(text)
    spans: list[tuple[int, int]] = []
    for match in _REPEAL.finditer(text):
        start, end = _clause_around(text, match.start(), match.end())
        if not any(start <= c.start < end for c in citations):
            start, end = _sentence_around(text, match.start(), match.end())
        if text[match.end() : end].lstrip().startswith(("：", ":")) or text[end - 1 : end] in ("：", ":"):
            end = _list_end(text, end)
        spans.append((start, end))
    return [c for c in citations if any(start <= c.start < end for start, end in spans)]


def _clause_around(text: str, start: int, end: int) -> tuple[int, int]:
    left = max(text.rfind(mark, 0, start) for mark in _CLAUSE_END) + 1
    rights = [index for mark in _CLAUSE_END if (index := text.find(mark, end)) != -1]
    return left, (min(rights) + 1 if rights else len(text))


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    left = max(text.rfind(mark, 0, start) for mark in _SENTENCE_END) + 1
    rights = [index for mark in "。；;" if (index := text.find(mark, end)) != -1]
    return left, (min(rights) + 1 if rights else len(text))


def _list_end(text: str, start: int) -> int:
    """The end of a list of documents following "下列文件同时废止：", one per line."""
    end = start
    for line in re.finditer(r"[^\n]*\n?", text[start:]):
        if line.group().strip() and "《" not in line.group() and not any(iter_doc_numbers(line.group())):
            break
        end = start + line.end()
        if not line.group():
            break
    return end
