"""Chinese numerals and dates as policy documents write them: 第一百零五条, 二〇二二年七月三十日, 2022年7月30日."""

from __future__ import annotations

import re
from datetime import date

_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "o": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
CHINESE_NUMERALS = "".join(_DIGITS) + "".join(_UNITS)

_YEAR = r"(?:19|20)\d\d|[〇○零一二三四五六七八九ＯOo]{4}"
_MONTH_DAY = r"\d{1,2}|[一二三四五六七八九十]{1,3}"
DATE = re.compile(rf"(?P<year>{_YEAR})\s*年\s*(?P<month>{_MONTH_DAY})\s*月\s*(?P<day>{_MONTH_DAY})\s*日")
"""A full date in Arabic or Chinese numerals; `parse_date` turns a match into a `date`."""


def chinese_int(text: str) -> int | None:
    """The value of a number in Arabic digits or Chinese numerals, or None.

    >>> [chinese_int(t) for t in ("12", "十", "十二", "二十", "一百零五", "一百二十", "二〇二二", "甲")]
    [12, 10, 12, 20, 105, 120, 2022, None]
    """
    if text.isdigit():
        return int(text)
    if not text or any(char not in _DIGITS and char not in _UNITS for char in text):
        return None
    if not any(char in _UNITS for char in text):  # written digit by digit: 二〇二二
        return int("".join(str(_DIGITS[char]) for char in text))
    total, current = 0, 0
    for char in text:
        if char in _DIGITS:
            current = _DIGITS[char]
        else:
            total += (current or 1) * _UNITS[char]
            current = 0
    return total + current


def date_from_match(match: re.Match[str]) -> date | None:
    """The date a `DATE` match names, or None when it is no calendar date (2月30日)."""
    year, month, day = (chinese_int(match.group(name)) for name in ("year", "month", "day"))
    if year is None or month is None or day is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    """The first full date in `text`, in Arabic or Chinese numerals.

    >>> parse_date("二〇二二年七月三十日"), parse_date("2018年12月4日"), parse_date("二○○四年六月二十六日")
    (datetime.date(2022, 7, 30), datetime.date(2018, 12, 4), datetime.date(2004, 6, 26))
    >>> parse_date("2022年2月30日") is None
    True
    """
    match = DATE.search(text)
    return date_from_match(match) if match else None
