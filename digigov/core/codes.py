"""Codes with check digits, parsed once at the boundary into NewTypes.

- resident ID number (公民身份号码, GB 11643): ISO 7064 MOD 11-2 check character,
  a real birth date, and a known birth-place prefix;
- unified social credit code (统一社会信用代码, GB 32100): MOD 31 check character;
- administrative division code (行政区划代码, GB/T 2260): six digits, a known province,
  a known code in the national table.

python-stdnum does the check-digit arithmetic and holds the national division table
(`stdnum/cn/loc.dat`); that table stops before 2021, so later codes are added here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import NewType

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

from digigov.core.errors import InvalidCode

ResidentId = NewType("ResidentId", str)
Uscc = NewType("Uscc", str)
DivisionCode = NewType("DivisionCode", str)

# Divisions created after python-stdnum's table was compiled: (code, name, first year valid).
LATER_DIVISIONS: dict[str, tuple[str, int]] = {
    "330113": ("临平区", 2021),
    "330114": ("钱塘区", 2021),
}

_DIVISION = re.compile(r"^[1-9]\d{5}$")
_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")
_SPAN = re.compile(r"^\[(?:\d{4})?-(?P<end>\d{4})?\]")
_PERIOD = re.compile(r"^\[(?P<start>\d{4})?-(?P<end>\d{4})?\](?P<name>.+)$")


def _compact(text: str) -> str:
    return re.sub(r"[\s\-]", "", text).upper()


def known_division(code: str) -> bool:
    """True if the code is in the national table or added since."""
    if code in LATER_DIVISIONS:
        return True
    parts = numdb.get("cn/loc").info(code)
    return len(parts) == 2 and bool(parts[0][1]) and bool(parts[1][1])


def division_spans() -> list[tuple[str, int | None]]:
    """Every six-digit code of the national table (and those added since) with the last year it was in use.

    None means still in use: at least one of the names the table gives the code has no end year.
    """
    spans: dict[str, int | None] = {}
    for _, province, _, _, counties in numdb.get("cn/loc").prefixes:
        for _, county, _, info, _ in counties:
            names = [name.strip() for name in info.get("county", "").split(",") if name.strip()]
            ends: list[str | None] = [match["end"] if (match := _SPAN.match(name)) else None for name in names]
            years = [int(end) for end in ends if end is not None]
            spans[province + county] = max(years) if ends and len(years) == len(ends) else None
    spans.update((code, None) for code in LATER_DIVISIONS)
    return sorted(spans.items())


def _withdrawn_before(code: str, year: int) -> bool:
    """True if every name the national table gives the code ended before `year`.

    >>> _withdrawn_before("110201", 1993), _withdrawn_before("120110", 1993), _withdrawn_before("330113", 2030)
    (True, False, False)
    """
    if code in LATER_DIVISIONS:
        return False
    parts = numdb.get("cn/loc").info(code)
    names = parts[1][1].get("county", "").split(",") if len(parts) == 2 else []
    ends = [match["end"] if (match := _SPAN.match(name.strip())) else None for name in names]
    return bool(ends) and all(end is not None and int(end) < year for end in ends)


def parse_division_code(text: str) -> DivisionCode:
    """Return the six-digit division code if it exists in GB/T 2260, else raise InvalidCode.

    >>> parse_division_code(" 330113 ")
    '330113'
    """
    code = text.strip()
    if not _DIVISION.match(code):
        raise InvalidCode(
            f"Division code '{text}' must be six digits, not starting with 0 (e.g. 330106).",
            f"行政区划代码“{text}”应为 6 位数字且首位不为 0（例如 330106）。",
        )
    if not known_division(code):
        raise InvalidCode(
            f"Division code {code} is not in the GB/T 2260 table; check the digits.",
            f"行政区划代码 {code} 不在 GB/T 2260 代码表中，请核对。",
        )
    return DivisionCode(code)


@dataclass(frozen=True)
class ResidentIdFacts:
    """What a resident ID number says about its holder."""

    number: ResidentId
    birth_date: date
    sex: str  # "男" or "女"
    division: str


def parse_resident_id(text: str) -> ResidentId:
    """Return the 18-character ID number if it is valid, else raise InvalidCode.

    >>> parse_resident_id("11010519491231002x")
    '11010519491231002X'
    """
    return resident_id_facts(text).number


def resident_id_facts(text: str, *, today: date | None = None) -> ResidentIdFacts:
    """Parse an ID number and read its birth date, sex and birth-place division."""
    number = _compact(text)
    # str.isdigit() would let full-width and other non-ASCII digits through; the standard has none
    if not _RESIDENT_ID.fullmatch(number):
        raise InvalidCode(
            f"Resident ID '{text}' must be 17 digits and a check character (0-9 or X).",
            f"公民身份号码“{text}”应为 17 位数字加 1 位校验码（0-9 或 X）。",
        )
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidCode(
            f"Resident ID '{text}' has a wrong check character; it is mistyped.",
            f"公民身份号码“{text}”校验码错误，请核对是否录入有误。",
        )
    try:
        birth = ric.get_birth_date(number)
    except ValidationError:
        birth = None
    if birth is None or birth > (today or date.today()) or birth.year < 1880:
        raise InvalidCode(
            f"Resident ID '{text}' holds an impossible birth date.",
            f"公民身份号码“{text}”中的出生日期不成立。",
        )
    if not known_division(number[:6]):
        raise InvalidCode(
            f"Resident ID '{text}' starts with an unknown division code {number[:6]}.",
            f"公民身份号码“{text}”的前 6 位 {number[:6]} 不是已知的行政区划代码。",
        )
    # The prefix is where the number was assigned, possibly years after birth (a first ID card
    # at 16), so a code created after the birth year is fine; one withdrawn before it is not.
    if _withdrawn_before(number[:6], birth.year):
        raise InvalidCode(
            f"Resident ID '{text}' starts with division code {number[:6]}, withdrawn before the birth year "
            f"{birth.year}; check the digits.",
            f"公民身份号码“{text}”的前 6 位 {number[:6]} 在出生年份 {birth.year} 之前已撤销，请核对。",
        )
    sex = "男" if int(number[16]) % 2 else "女"
    return ResidentIdFacts(ResidentId(number), birth, sex, number[:6])


def parse_uscc(text: str) -> Uscc:
    """Return the 18-character credit code if its GB 32100 check character is right.

    >>> parse_uscc("91110000600037341L")
    '91110000600037341L'
    """
    if not _compact(text).isascii():
        # python-stdnum would read full-width and other Unicode digits as ASCII ones; the engine's
        # validators do not, and GB 32100 has no such characters
        raise InvalidCode(
            f"Credit code '{text}' has characters that GB 32100 does not allow "
            "(digits and capitals except I, O, S, V, Z).",
            f"统一社会信用代码“{text}”含有 GB 32100 不允许的字符（I、O、S、V、Z 等）。",
        )
    try:
        return Uscc(uscc.validate(text))
    except InvalidLength:
        raise InvalidCode(
            f"Credit code '{text}' must have 18 characters.",
            f"统一社会信用代码“{text}”应为 18 位。",
        ) from None
    except InvalidChecksum:
        raise InvalidCode(
            f"Credit code '{text}' has a wrong check character; it is mistyped.",
            f"统一社会信用代码“{text}”校验码错误，请核对是否录入有误。",
        ) from None
    except (InvalidComponent, ValidationError):
        raise InvalidCode(
            f"Credit code '{text}' has characters that GB 32100 does not allow "
            "(digits and capitals except I, O, S, V, Z).",
            f"统一社会信用代码“{text}”含有 GB 32100 不允许的字符（I、O、S、V、Z 等）。",
        ) from None


def division_names() -> dict[str, tuple[str, int | None]]:
    """Every code of `division_spans` with its latest name and the first year it was in use (None: unknown).

    >>> division_names()["110111"], division_names()["330113"]
    (('房山区', 1986), ('临平区', 2021))
    """
    found: dict[str, tuple[str, int | None]] = {}
    for _, province, _, _, counties in numdb.get("cn/loc").prefixes:
        for _, county, _, info, _ in counties:
            names = [name.strip() for name in info.get("county", "").split(",") if name.strip()]
            periods = [_PERIOD.match(name) for name in names]
            starts = [int(m["start"]) if m and m["start"] else None for m in periods]
            latest = periods[-1]["name"] if periods and periods[-1] else (names[-1] if names else "")
            first = None if not starts or None in starts else min(s for s in starts if s is not None)
            found[province + county] = (latest, first)
    found.update((code, (name, since)) for code, (name, since) in LATER_DIVISIONS.items())
    return found
