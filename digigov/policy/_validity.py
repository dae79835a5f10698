"""The validity window a document sets for itself: 自…起施行, 自印发之日起施行, 有效期至…, 有效期X年."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from digigov.policy._chinese import DATE, chinese_int, date_from_match


@dataclass(frozen=True)
class Validity:
    """Effective and expiry dates where the text fixes them, and the sentences that set them."""

    effective_date: date | None
    expiry_date: date | None
    sentence: str | None


_SENTENCES = re.compile(r"[^。；\n]+[。；]?")
_EFFECTIVE = re.compile(r"自\s*(?P<when>[^，。；]{1,24}?)\s*(?:起|开始)\s*(?:施行|执行|实施|生效|试行)")
_EXPIRY = re.compile(r"有效期|执行期|实施期|执行至|实施至|截至|截止")
_UNTIL_EVENT = re.compile(r"[至到].{0,40}(?:止|解除|结束)|之日起.{0,8}(?:个月|年|日|天)止")
_UNTIL = re.compile(r"(?:至|到|截至|截止|截止到)\s*$")
_YEARS = re.compile(r"有效期(?:为|暂定)?\s*(?P<years>\d{1,2}|[一二三四五六七八九十]{1,2})\s*年")
_ISSUE_DAY = re.compile(r"印发|签发|下发|即日|成文")
_OWN = re.compile(
    r"本(?:实施意见|指导意见|意见|通知|办法|规定|条例|决定|方案|细则|公告|通告|措施|政策|文件|规则|制度|标准|令)"
)
_CITING = re.compile(r"《")
_PROMULGATING = re.compile(r"现(?:予)?公布|予以公布|现将")
_LEADING_MARKER = re.compile(
    r"^(?:第[^条\s]{1,8}条|[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十\d]{1,3}[）)]|\d{1,2}[.．、])\s*"
)


def read_validity(text: str, *, issue_date: date | None) -> Validity:
    """Read the validity sentences; sentences about cited documents (《…》) are not the document's own."""
    sentences = [match.group().strip() for match in _SENTENCES.finditer(text)]
    relevant = [s for s in sentences if (_EFFECTIVE.search(s) or _sets_expiry(s)) and _about_itself(s)]
    own = [s for s in relevant if _OWN.search(s)] or relevant[:1]
    effective = next((d for s in own if (d := _effective_date(s, issue_date))), None)
    expiry = next((d for s in own if (d := _expiry_date(s, effective or issue_date))), None)
    chosen = [_LEADING_MARKER.sub("", s) for s in own[:2]]
    return Validity(effective, expiry, "".join(chosen) or None)


def _about_itself(sentence: str) -> bool:
    return not _CITING.search(sentence) or bool(_OWN.search(sentence) or _PROMULGATING.search(sentence))


def _sets_expiry(sentence: str) -> bool:
    return bool(
        _EXPIRY.search(sentence) and (DATE.search(sentence) or _YEARS.search(sentence) or _UNTIL_EVENT.search(sentence))
    )


def _effective_date(sentence: str, issue_date: date | None) -> date | None:
    """自2022年8月1日起施行 → that day; 自印发之日起 / 自即日起 → the issue date; 自发布之日起 → unknown here.

    >>> _effective_date("本办法自二〇二二年八月一日起施行。", None)
    datetime.date(2022, 8, 1)
    >>> _effective_date("自印发之日起施行", date(2022, 7, 30))
    datetime.date(2022, 7, 30)
    >>> _effective_date("本通知自发布之日起施行", date(2022, 7, 30)) is None
    True
    """
    effective = _EFFECTIVE.search(sentence)
    if not effective:
        return None
    when = effective.group("when")
    if dated := DATE.search(when):
        return date_from_match(dated)
    return issue_date if _ISSUE_DAY.search(when) else None


def _expiry_date(sentence: str, effective: date | None) -> date | None:
    """有效期至2024年12月31日 → that day; 有效期5年 from 2022-08-01 → 2027-07-31.

    >>> _expiry_date("有效期至2024年12月31日。", None), _expiry_date("有效期5年。", date(2022, 8, 1))
    (datetime.date(2024, 12, 31), datetime.date(2027, 7, 31))
    """
    for dated in DATE.finditer(sentence):
        if _UNTIL.search(sentence[max(0, dated.start() - 8) : dated.start()]):
            return date_from_match(dated)
    years = _YEARS.search(sentence)
    count = chinese_int(years.group("years")) if years else None
    if count and effective:
        return _add_years(effective, count) - timedelta(days=1)
    return None


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
