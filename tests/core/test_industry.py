"""GB/T 4754-2017 sections and divisions, checked against the published code list.

The list is read from the shared data folder at test time (never copied into the repo); see
/work/shared/data/real/SOURCES.md for where it comes from.
"""

from __future__ import annotations

import csv

import pytest

from digigov.core.errors import InvalidCode
from digigov.core.industry import INDUSTRIES, divisions, industry, parse_industry_code, sections
from tests.conftest import SHARED_DATA

CODE_LIST = SHARED_DATA / "real" / "codes" / "industry" / "gbt4754_2017_industry_codes.csv"


def published_rows() -> dict[str, tuple[str, str]]:
    """Level-1 and level-2 rows of the published list: code -> (name, section)."""
    if not CODE_LIST.exists():
        pytest.skip(f"{CODE_LIST} is absent: the shared GB/T 4754 code list is not available here")
    rows = {}
    with CODE_LIST.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code = {"1": row["class1_section"], "2": row["class2_division"]}.get(row["level"])
            if code is not None:
                # Eleven names in that file carry a trailing space; the standard's names do not.
                rows[code] = (row["name"].strip(), row["class1_section"])
    return rows


def test_table_matches_the_published_list() -> None:
    published = published_rows()
    ours = {row.code: (row.name, row.section) for row in INDUSTRIES}
    assert ours == published


def test_table_has_20_sections_and_97_divisions() -> None:
    assert [s.code for s in sections()] == list("ABCDEFGHIJKLMNOPQRST")
    assert [d.code for d in divisions()] == [f"{n:02d}" for n in range(1, 98)]
    assert [d.code for d in divisions("F")] == ["51", "52"]


@pytest.mark.parametrize(
    ("text", "code"),
    [("C", "C"), ("c", "C"), ("C13", "13"), ("13", "13"), ("1311", "1311"), ("C1311", "1311"), (" 131 ", "131"),
     ("K70", "70"), ("T97", "97")],
)  # fmt: skip
def test_parse_accepts_sections_and_codes_with_or_without_their_letter(text: str, code: str) -> None:
    assert parse_industry_code(text) == code


@pytest.mark.parametrize(
    ("text", "hint"),
    [("", "section letter"), ("U", "neither"), ("1", "section letter"), ("13111", "section letter"),
     ("C1a", "section letter"), ("98", "not a GB/T 4754-2017 division"), ("00", "not a GB/T 4754-2017 division"),
     ("A13", "belongs to section C"), ("G5111", "belongs to section F")],
)  # fmt: skip
def test_parse_refuses_with_a_helpful_message_in_both_languages(text: str, hint: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        parse_industry_code(text)
    assert hint in caught.value.message
    assert "行业代码" in caught.value.message_zh


def test_lookup() -> None:
    assert industry("c").name == "制造业"
    assert industry("65").section == "I"
    with pytest.raises(InvalidCode):
        industry("1311")
