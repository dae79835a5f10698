"""文号 (发文字号): find them in text, write them one way, and tell who issued them.

Three shapes (research note §6): 机关代字〔年份〕序号号 (浙政发〔2022〕20号, also with [] ［］ 【】 () （）,
spaces and 第 before the serial), 令 numbers (国令第706号, 中华人民共和国国务院令 第706号) and
announcements (财政部 税务总局公告2020年第9号). The normal form uses 〔〕, no spaces and no 第
in the first shape, 国令 for the State Council's orders, and one space between joint issuers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_HAN = r"\u4e00-\u9fff"
_BRACKETED = re.compile(
    rf"(?P<prefix>[{_HAN}]{{1,12}})\s*[〔\[［【（(]\s*(?P<year>(?:19|20)\d\d)\s*[〕\]］】）)]\s*第?\s*(?P<serial>\d{{1,5}})\s*号"
)
_ORDER = re.compile(rf"(?P<prefix>[{_HAN}]{{0,15}}令)\s*[（(〔]?\s*第\s*(?P<serial>\d{{1,5}})\s*号")
_ANNOUNCEMENT = re.compile(
    rf"(?P<prefix>[{_HAN}]{{2,16}}(?:[ \u3000、]+[{_HAN}]{{2,16}})*)\s*公告\s*(?P<year>(?:19|20)\d\d)\s*年\s*第?\s*"
    r"(?P<serial>\d{1,5})\s*号"
)
_BARE_CODES = ("公告", "通告")  # 公告〔2019〕3号: the whole 机关代字 is a lead word
_STATE_COUNCIL_ORDERS = ("中华人民共和国国务院令", "国务院令", "国令")
# Words that end the running text before a 文号 glued to it: 按照浙政发〔2022〕20号, 根据国令第706号.
_LEAD_WORDS = re.compile(
    r".*(?:根据|按照|依据|依照|参照|对照|比照|遵照|执行|贯彻|落实|印发|转发|发布|出台|下发|废止|修改|确保|公告|通知|决定|意见"
    r"|办法|规定|见|和|及|与|或|即|的|了|从|以|是|为|在|对|将|按|据|同)"
)

_STATE = {
    "国发": "国务院",
    "国函": "国务院",
    "国令": "国务院",
    "国办发": "国务院办公厅",
    "国办函": "国务院办公厅",
    "国办秘函": "国务院办公厅秘书局",
    "川办": "四川省人民政府办公厅",
    "粤办": "广东省人民政府办公厅",
    "中发": "中共中央",
    "中办发": "中共中央办公厅",
    "厅字": "中共中央办公厅",
}
_MINISTRIES = {
    "财": "财政部",
    "财税": "财政部、税务总局",
    "税总发": "国家税务总局",
    "税总函": "国家税务总局",
    "国家税务总局": "国家税务总局",
    "人社部": "人力资源社会保障部",
    "人社厅": "人力资源社会保障部办公厅",
    "工信部": "工业和信息化部",
    "工信厅": "工业和信息化部办公厅",
    "发改": "国家发展改革委",
    "发改办": "国家发展改革委办公厅",
    "教": "教育部",
    "国科发": "科技部",
    "民发": "民政部",
    "民函": "民政部",
    "公通字": "公安部",
    "建": "住房城乡建设部",
    "交": "交通运输部",
    "农": "农业农村部",
    "商": "商务部",
    "国卫": "国家卫生健康委",
    "国卫办": "国家卫生健康委办公厅",
    "医保发": "国家医保局",
    "国市监": "市场监管总局",
    "银保监发": "银保监会",
    "银发": "中国人民银行",
    "应急": "应急管理部",
    "自然资": "自然资源部",
    "环": "生态环境部",
    "文旅": "文化和旅游部",
    "国资发": "国务院国资委",
}
_PROVINCES = {
    "京政": "北京市", "津政": "天津市", "冀政": "河北省", "晋政": "山西省", "内政": "内蒙古自治区",
    "辽政": "辽宁省", "吉政": "吉林省", "黑政": "黑龙江省", "沪府": "上海市", "苏政": "江苏省",
    "浙政": "浙江省", "皖政": "安徽省", "闽政": "福建省", "赣府": "江西省", "鲁政": "山东省",
    "豫政": "河南省", "鄂政": "湖北省", "湘政": "湖南省", "粤府": "广东省", "桂政": "广西壮族自治区",
    "琼府": "海南省", "渝府": "重庆市", "川府": "四川省", "黔府": "贵州省", "云政": "云南省",
    "藏政": "西藏自治区", "陕政": "陕西省", "甘政": "甘肃省", "青政": "青海省", "宁政": "宁夏回族自治区",
    "新政": "新疆维吾尔自治区",
    "杭政": "杭州市", "甬政": "宁波市", "温政": "温州市", "嘉政": "嘉兴市", "湖政": "湖州市",
    "绍政": "绍兴市", "金政": "金华市", "衢政": "衢州市", "舟政": "舟山市", "台政": "台州市",
    "丽政": "丽水市",
}  # fmt: skip
_ZHEJIANG = {
    "浙委发": "中共浙江省委",
    "浙委办发": "中共浙江省委办公厅",
    "浙财": "浙江省财政厅",
    "浙人社": "浙江省人力资源和社会保障厅",
    "浙发改": "浙江省发展和改革委员会",
    "浙经信": "浙江省经济和信息化厅",
    "浙数据": "浙江省大数据发展管理局",
    "浙卫": "浙江省卫生健康委员会",
    "浙教": "浙江省教育厅",
    "浙科": "浙江省科学技术厅",
    "浙建": "浙江省住房和城乡建设厅",
    "浙民": "浙江省民政厅",
    "浙商务": "浙江省商务厅",
    "浙市监": "浙江省市场监督管理局",
    "浙医保": "浙江省医疗保障局",
    "浙税": "国家税务总局浙江省税务局",
}

ISSUERS: dict[str, str] = {
    **_STATE,
    **_MINISTRIES,
    **{code: f"{name}人民政府" for code, name in _PROVINCES.items()},
    **{f"{code}办": f"{name}人民政府办公厅" for code, name in _PROVINCES.items()},
    **_ZHEJIANG,
}
"""机关代字 prefix → issuing body; the longest prefix of a 文号 wins. Add entries for local codes."""


@dataclass(frozen=True)
class DocNumberMatch:
    """A 文号 found in text: where it stands and its normal form."""

    start: int
    end: int
    number: str


def iter_doc_numbers(text: str) -> Iterator[DocNumberMatch]:
    """Every 文号 in `text`, in order, without overlaps; running text glued before one is left out.

    >>> [m.number for m in iter_doc_numbers("按照浙政发[2022]20号和国务院令 第706号执行")]
    ['浙政发〔2022〕20号', '国令第706号']
    """
    found: list[DocNumberMatch] = []
    for pattern, write in _SHAPES:
        for match in pattern.finditer(text):
            start = match.start() + _lead_length(match.group("prefix"))
            if match.group("prefix")[start - match.start() :] and not _overlaps(found, start, match.end()):
                found.append(DocNumberMatch(start, match.end(), write(match, start - match.start())))
    yield from sorted(found, key=lambda found_match: found_match.start)


def normalise_doc_number(text: str) -> str | None:
    """The first 文号 in `text` in its normal form (〔〕 brackets, no spaces, no 第), or None.

    >>> [normalise_doc_number(t) for t in ("浙政发(2022)20号", "浙政发［2022］第 20 号", "浙政发【2022】20号")]
    ['浙政发〔2022〕20号', '浙政发〔2022〕20号', '浙政发〔2022〕20号']
    >>> normalise_doc_number("中华人民共和国国务院令 第706号"), normalise_doc_number("财政部  税务总局公告2020年第9号")
    ('国令第706号', '财政部 税务总局公告2020年第9号')
    >>> normalise_doc_number("第二十条") is None
    True
    """
    return next((match.number for match in iter_doc_numbers(text)), None)


def issuer_for_number(number: str) -> str | None:
    """The issuing body named by a normal-form 文号's prefix (longest known prefix), or None.

    >>> issuer_for_number("浙政办发〔2022〕3号"), issuer_for_number("国令第706号"), issuer_for_number("X〔2020〕1号")
    ('浙江省人民政府办公厅', '国务院', None)
    """
    order = _ORDER.fullmatch(number)
    if order and order.group("prefix") not in _STATE_COUNCIL_ORDERS:
        return order.group("prefix").removesuffix("令")
    announcement = _ANNOUNCEMENT.fullmatch(number)
    if announcement:
        return "、".join(announcement.group("prefix").split())
    for length in range(min(len(number), 12), 0, -1):
        if number[:length] in ISSUERS:
            return ISSUERS[number[:length]]
    return None


def _lead_length(prefix: str) -> int:
    """How many characters at the start of a matched prefix are running text, not 机关代字."""
    for index in range(len(prefix)):
        if any(prefix.startswith(code, index) for code in _codes_at(prefix[index])):
            return index
    if "中华人民共和国" in prefix:
        return prefix.index("中华人民共和国")
    lead = _LEAD_WORDS.match(prefix)
    end = lead.end() if lead and prefix not in _BARE_CODES else 0
    return end + len(prefix[end:]) - len(prefix[end:].lstrip(" \u3000、"))


def _codes_at(char: str) -> list[str]:
    return [code for code in ISSUERS if code[0] == char and len(code) > 1]


def _overlaps(found: list[DocNumberMatch], start: int, end: int) -> bool:
    return any(start < other.end and other.start < end for other in found)


def _write_bracketed(match: re.Match[str], lead: int) -> str:
    return f"{match.group('prefix')[lead:]}〔{match.group('year')}〕{int(match.group('serial'))}号"


def _write_order(match: re.Match[str], lead: int) -> str:
    prefix = match.group("prefix")[lead:]
    if any(prefix.endswith(name) for name in _STATE_COUNCIL_ORDERS):
        prefix = "国令"
    return f"{prefix}第{int(match.group('serial'))}号"


def _write_announcement(match: re.Match[str], lead: int) -> str:
    issuers = " ".join(re.split(r"[ \u3000、]+", match.group("prefix")[lead:]))
    return f"{issuers}公告{match.group('year')}年第{int(match.group('serial'))}号"


_SHAPES = ((_ANNOUNCEMENT, _write_announcement), (_ORDER, _write_order), (_BRACKETED, _write_bracketed))
