"""The header and signature of an official document: title, own 文号, 主送 line, issuer, 成文日期."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from digigov.policy._chinese import DATE, date_from_match
from digigov.policy._docnumber import issuer_for_number, iter_doc_numbers, normalise_doc_number


@dataclass(frozen=True)
class HeaderBlock:
    title: str | None
    doc_number: str | None
    issuer: str | None
    recipients: tuple[str, ...]
    issue_date: date | None


_SEARCHED_LINES = 20  # the header block is at the top; the own 文号 is looked for this far down
_NUMBER_LABEL = re.compile(r"^(?:发文字号|发文文号|文号|文件编号|字号)\s*[:：]\s*")
_ORDER_SERIAL = re.compile(r"第\s*\d{1,5}\s*号")
_TRAILING_NUMBER = re.compile(r"[（(]([^（）()]{4,40})[）)]$")
_MASTHEAD = re.compile(r"^(?P<issuer>\S.{1,58}?)\s*文件$")  # 版头 of a 红头文件: 浙江省人民政府文件
_SENTENCE_MARK = re.compile(r"[。！？；]")
_DOC_TYPE_END = re.compile(
    r"(?:通知|意见|决定|办法|规定|条例|方案|批复|复函|函|公告|通告|细则|规划|计划|措施|答复|报告|纲要|规则|要点|令|决议|指引|清单|目录|标准)$"
)
_PROMULGATION = re.compile(r"(?:公布|发布|颁布|施行).{0,40}|.{0,40}(?:公布|发布|颁布)")
_LETTER_SPACED = re.compile(r"(?:[\u4e00-\u9fff] ){2,}[\u4e00-\u9fff](?![\u4e00-\u9fff])")
_AGENCY = re.compile(
    r"^[\u4e00-\u9fff（）()、 ]{2,60}"
    r"(?:政府|办公厅|办公室|委员会|委|部|局|厅|院|署|会|中心|办|行|指挥部|领导小组|小组|党委|党组|总局)$"
)
_RECIPIENT_END = re.compile(
    r"(?:政府|单位|部门|机构|部委|厅|局|委|办|部|院|会|兵团|代表|委员|主席|同志|省|市|区|县|学校|企业|公司|中心|组织|团体|党组|党委|处|室|所|行|社|馆|队|校|园|团|署)$"
)
_SPLITTABLE = re.compile(r"(?:政府|部|局|委|厅|办|院|会|兵团|署|行|中心|单位|机构)$")
_RECIPIENT_LABEL = re.compile(r"^主送(?:机关|单位)?\s*[:：]\s*(.+?)[。]?$")
_DATE_LINE = re.compile(r"[（(]?\s*(?:成文日期\s*[:：]\s*)?(?P<date>" + DATE.pattern + r")\s*[）)]?")
_CONGRESS = re.compile(
    r"(?P<place>[\u4e00-\u9fff]{2,12}?)第[一二三四五六七八九十]{1,3}届(?P<body>人民代表大会常务委员会|人民代表大会)"
)
_ADOPTION = re.compile(r"^[（(]?\s*(?P<date>" + DATE.pattern + r").{0,80}(?:通过|批准|公布|发布|施行)[）)]?$")


def read_header(text: str) -> HeaderBlock:
    """Find the header block and the signature in furniture-free text."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    joiner = ""
    if len(lines) <= 2 and sum(map(len, lines)) > 200:  # a one-line crawl: its line breaks became spaces
        lines, joiner = [piece for line in lines for piece in line.split()], " "
    number_at, number = _own_number(lines)
    title = _title(lines, number_at, number, joiner)
    recipients = _recipients(lines, max(number_at, 0))
    date_at, issue_date = _issue_date(lines, max(number_at, 0))
    issuer = (
        _signature(lines, date_at)
        or _masthead_issuer(lines[: max(number_at, 0)])
        or (issuer_for_number(number) if number else None)
        or _title_issuer(title)
        or _adopting_body(lines)
    )
    return HeaderBlock(title, number, issuer, recipients, issue_date)


def tidy_title(text: str) -> str:
    """A title without letter-spacing: "几 个 问 题 的 通 知" → "几个问题的通知"; "财政部 税务总局…" keeps its space.

    >>> tidy_title("国务院关于棉粮、糖粮挂钩奖售粮几 个 问 题 的 通 知"), tidy_title("财政部 税务总局关于X的公告")
    ('国务院关于棉粮、糖粮挂钩奖售粮几个问题的通知', '财政部 税务总局关于X的公告')
    >>> tidy_title("关于做好复工的通知 关于做好复工的通知")
    '关于做好复工的通知'

    """
    title = _LETTER_SPACED.sub(lambda match: match.group().replace(" ", ""), " ".join(text.split()))
    half, space, rest = title.partition(" ")
    while space and rest.startswith(half) and len(half) >= 4:  # a crawl that printed the title twice
        title = rest
        half, space, rest = title.partition(" ")
    return title


# ---- 文号 and title ------------------------------------------------------------------------


def _own_number(lines: list[str]) -> tuple[int, str | None]:
    """Where the document's own 文号 stands and its normal form; a 文号 cut in two pieces is joined in `lines`."""
    head = lines[:_SEARCHED_LINES]
    for index, line in enumerate(head):
        if number := _standalone_number(line):
            return index, number
        if index + 1 < len(head) and (number := _standalone_number(f"{line} {head[index + 1]}")):
            lines[index : index + 2] = [f"{line} {head[index + 1]}"]  # 财政部 / 税务总局公告2020年第8号
            return index, number
    for index, line in enumerate(head[:-1]):
        if line.endswith("令") and _ORDER_SERIAL.fullmatch(head[index + 1]):
            return index + 1, normalise_doc_number(line + head[index + 1])
    for index, line in enumerate(head[:3]):
        trailing = _TRAILING_NUMBER.search(line)
        if trailing and "《" not in line and (number := _standalone_number(trailing.group(1))):
            return index, number
    return -1, None


def _standalone_number(line: str) -> str | None:
    rest = _NUMBER_LABEL.sub("", line).strip("（）() ")
    found = list(iter_doc_numbers(rest))
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(rest):
        return found[0].number
    return None


def _title(lines: list[str], number_at: int, number: str | None, joiner: str) -> str | None:
    if number and "令第" in number:
        return _promulgated_title(lines[number_at + 1 : number_at + 4])
    if number_at < 0:
        return _title_from(lines, 0, joiner)
    trailing = _TRAILING_NUMBER.search(lines[number_at])
    if trailing and not _standalone_number(lines[number_at]):
        return tidy_title(lines[number_at][: trailing.start()])
    return _title_before(lines, number_at, joiner) or _title_from(lines, number_at + 1, joiner)


def _promulgated_title(lines: list[str]) -> str | None:
    for line in lines:
        titled = re.search(r"《([^《》]+)》", line)
        if titled and _PROMULGATION.search(line):
            return titled.group(1)
    return None


def _title_before(lines: list[str], number_at: int, joiner: str) -> str | None:
    start = number_at
    while start > 0 and number_at - start < 4 and _title_like(lines[start - 1]):
        start -= 1
    return tidy_title(joiner.join(lines[start:number_at])) or None


def _title_from(lines: list[str], start: int, joiner: str) -> str | None:
    taken: list[str] = []
    for line in lines[start : start + 4]:
        if not _title_like(line):
            break
        taken.append(line)
        if _DOC_TYPE_END.search(line):
            break
    return tidy_title(joiner.join(taken)) or None


def _title_like(line: str) -> bool:
    return (
        len(line) <= 80
        and not _SENTENCE_MARK.search(line)
        and not line.endswith(("：", ":"))
        and not _DATE_LINE.fullmatch(line)
        and not _standalone_number(line)
        and not _MASTHEAD.match(line)
    )


def _masthead_issuer(lines: list[str]) -> str | None:
    """The issuer printed in the 版头 of a 红头文件: "浙江省人民政府文件" above the 文号."""
    for line in lines:
        masthead = _MASTHEAD.match(line)
        if masthead and _AGENCY.match(masthead.group("issuer")):
            return masthead.group("issuer")
    return None


def _title_issuer(title: str | None) -> str | None:
    head = re.match(r"^(.{2,30}?)(?:关于|转发|印发|对)", title or "")
    return head.group(1) if head and _AGENCY.match(head.group(1)) else None


# ---- 主送 ----------------------------------------------------------------------------------


def _recipients(lines: list[str], start: int) -> tuple[str, ...]:
    for line in lines[:40]:
        if labelled := _RECIPIENT_LABEL.match(line):
            return split_recipients(labelled.group(1))
    for line in lines[start : start + 5]:
        head, colon, _ = line.partition("：")
        if colon and len(head) <= 200 and not _SENTENCE_MARK.search(head) and _RECIPIENT_END.search(head):
            return split_recipients(head)
    return ()


def split_recipients(text: str) -> tuple[str, ...]:
    """The bodies of a 主送 line; "、" splits only a list of whole names.

    >>> split_recipients("各市、县（市、区）人民政府，省政府直属各单位")
    ('各市、县（市、区）人民政府', '省政府直属各单位')
    >>> split_recipients("科技部、新疆维吾尔自治区人民政府、新疆生产建设兵团")
    ('科技部', '新疆维吾尔自治区人民政府', '新疆生产建设兵团')
    """
    parts: list[str] = []
    for part in re.split(r"[，,；;]", text.strip().rstrip("：:")):
        pieces = [piece.strip() for piece in part.split("、")]
        if len(pieces) > 1 and all(len(piece) >= 3 and _SPLITTABLE.search(piece) for piece in pieces):
            parts.extend(pieces)
        elif part.strip():
            parts.append(part.strip())
    return tuple(parts)


# ---- signature and 成文日期 -----------------------------------------------------------------


def _issue_date(lines: list[str], start: int) -> tuple[int, date | None]:
    for index in range(start, len(lines)):
        match = _DATE_LINE.fullmatch(lines[index]) or _signed_line(lines[index])
        if match and (found := date_from_match(match)):
            return index, found
    for line in lines[:10]:
        adoption = _ADOPTION.match(line)
        if adoption and (found := date_from_match(adoption)):
            return -1, found
    return -1, None


def _signed_line(line: str) -> re.Match[str] | None:
    """ "浙江省人民政府 2022年7月30日": signature and date on one line."""
    issuer, _, rest = line.rpartition(" ")
    return DATE.fullmatch(rest) if issuer and _AGENCY.match(issuer) else None


def _adopting_body(lines: list[str]) -> str | None:
    """The people's congress that adopted a regulation: "…丽水市第四届人民代表大会常务委员会第十六次会议通过"."""
    for line in lines[:10]:
        if _ADOPTION.match(line) and (body := _CONGRESS.search(line)):
            return body.group("place") + body.group("body")
    return None


def _signature(lines: list[str], date_at: int) -> str | None:
    if date_at < 0:
        return None
    dated = lines[date_at]
    if not _DATE_LINE.fullmatch(dated):
        return "、".join(dated.rpartition(" ")[0].split())
    if date_at > 0 and _AGENCY.match(lines[date_at - 1]):
        return "、".join(lines[date_at - 1].split())
    return None
