"""Code parsers against python-stdnum's vectors and real credit codes, plus our own rules and the API.

The vectors are read from the shared data folder at test time (never copied into the repo);
see /work/shared/data/real/idcodes/STDNUM_NOTES.md for where they come from.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from digigov.core import codes
from digigov.core.errors import InvalidCode
from tests.conftest import SHARED_DATA

IDCODES = SHARED_DATA / "real" / "idcodes"

RIC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

# Where our parser disagrees with stdnum on purpose, and why.
RIC_DELIBERATE = {
    # GB 11643: the prefix is the division where the number was assigned. 房山区 (110111) dates
    # from 1986; someone born in 1980 who got a first ID card at 16 in 1996 carries it.
    "110111198012010078": "valid",
}


def ric_check(body: str) -> str:
    """ISO 7064 MOD 11-2, written out here so stdnum is not its own oracle."""
    value = (12 - sum(int(d) * w for d, w in zip(body, RIC_WEIGHTS, strict=True)) % 11) % 11
    return "X" if value == 10 else str(value)


def uscc_check(body: str) -> str:
    """GB 32100 MOD 31 check character."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def vectors(name: str, id_column: str) -> list[Any]:
    path = IDCODES / name
    if not path.exists():
        reason = f"{path} is absent: the shared stdnum/real-code vectors are not available here"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason))]
    with path.open(encoding="utf-8", newline="") as handle:
        return [pytest.param(row, id=row[id_column]) for row in csv.DictReader(handle)]


def test_vectors_folder_is_there() -> None:
    if not IDCODES.exists():
        pytest.skip(f"{IDCODES} is absent: the shared stdnum/real-code vectors are not available here")
    assert (IDCODES / "STDNUM_NOTES.md").exists()


# ---- resident ID numbers -------------------------------------------------------------------


@pytest.mark.parametrize("row", vectors("ric_test_vectors_stdnum.csv", "value"))
def test_resident_id_agrees_with_stdnum_vectors(row: dict[str, str]) -> None:
    expected = RIC_DELIBERATE.get(row["value"], row["expected"])
    if expected == "valid":
        facts = codes.resident_id_facts(row["value"])
        assert facts.number == row["value"].upper()
        assert facts.division == row["value"][:6]
        if row["birth_date"]:
            assert facts.birth_date == date.fromisoformat(row["birth_date"])
    else:
        with pytest.raises(InvalidCode):
            codes.resident_id_facts(row["value"])


def test_resident_id_withdrawn_before_birth_is_refused() -> None:
    # 110201 (昌平县) was withdrawn in 1982: nobody born in 1993 can have been given it.
    with pytest.raises(InvalidCode, match="withdrawn before the birth year 1993"):
        codes.parse_resident_id("110201199312010077")


def test_resident_id_renamed_division_is_valid_on_both_sides_of_the_change() -> None:
    assert codes.resident_id_facts("120110198012010073").birth_date == date(1980, 12, 1)  # 东郊区
    assert codes.resident_id_facts("120110199212010072").birth_date == date(1992, 12, 1)  # 东丽区


@pytest.mark.parametrize("prefix", ["330113", "330114"])
def test_resident_id_with_divisions_newer_than_stdnum_is_accepted(prefix: str) -> None:
    body = f"{prefix}19900101001"
    facts = codes.resident_id_facts(body + ric_check(body))
    assert facts.division == prefix
    assert facts.birth_date == date(1990, 1, 1)
    assert facts.sex == "男"


def test_resident_id_with_unknown_division_is_refused() -> None:
    body = "99042619911201007"
    with pytest.raises(InvalidCode, match="unknown division code 990426"):
        codes.resident_id_facts(body + ric_check(body))


def test_resident_id_with_future_birth_date_is_refused() -> None:
    body = "33010620140101002"
    number = body + ric_check(body)
    assert codes.resident_id_facts(number, today=date(2014, 1, 1)).sex == "女"
    with pytest.raises(InvalidCode, match="impossible birth date"):
        codes.resident_id_facts(number, today=date(2013, 12, 31))


def test_resident_id_lowercase_x_and_separators_are_compacted() -> None:
    assert codes.parse_resident_id(" 44011320141005001x ") == "44011320141005001X"
    assert codes.parse_resident_id("110102 19910101 0078") == "110102199101010078"


@given(
    prefix=st.sampled_from(["330106", "330113", "330114", "110102", "360426"]),
    born=st.dates(min_value=date(1990, 1, 1), max_value=date.today() - timedelta(days=1)),
    serial=st.integers(min_value=0, max_value=999),
)
def test_resident_id_with_right_check_character_is_accepted(prefix: str, born: date, serial: int) -> None:
    body = f"{prefix}{born:%Y%m%d}{serial:03d}"
    facts = codes.resident_id_facts(body + ric_check(body))
    assert (facts.birth_date, facts.division) == (born, prefix)
    assert facts.sex == ("男" if serial % 2 else "女")


@given(body=st.text(alphabet="0123456789", min_size=17, max_size=17), data=st.data())
def test_resident_id_with_wrong_check_character_is_refused(body: str, data: st.DataObject) -> None:
    wrong = data.draw(st.sampled_from([c for c in "0123456789X" if c != ric_check(body)]))
    with pytest.raises(InvalidCode):
        codes.parse_resident_id(body + wrong)


@pytest.mark.parametrize(
    "text", ["", "3301061990010100", "33010619900101001X1", "33010619900101X011", "ABCDEFGHIJKLMNOPQR"]
)
def test_resident_id_of_wrong_shape_is_refused(text: str) -> None:
    with pytest.raises(InvalidCode, match="17 digits and a check character"):
        codes.parse_resident_id(text)


# ---- unified social credit codes --------------------------------------------------------------


@pytest.mark.parametrize("row", vectors("uscc_test_vectors_stdnum.csv", "value"))
def test_uscc_agrees_with_stdnum_vectors(row: dict[str, str]) -> None:
    if row["expected"] == "valid":
        assert codes.parse_uscc(row["value"]) == row["value"].replace(" ", "").replace("-", "").upper()
    else:
        with pytest.raises(InvalidCode):
            codes.parse_uscc(row["value"])


def test_uscc_agrees_with_stdnum_on_real_beijing_values() -> None:
    path = IDCODES / "uscc_real_values_stdnum_verdict.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared real credit codes are not available here")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    disagreements = [row["raw_value"] for row in rows if uscc_verdict(row["raw_value"]) != row["stdnum_result"]]
    assert disagreements == []
    assert sum(row["stdnum_result"] == "invalid" for row in rows) == 7


def uscc_verdict(text: str) -> str:
    try:
        codes.parse_uscc(text)
    except InvalidCode:
        return "invalid"
    return "valid"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12345", "must have 18 characters"),
        ("91110000600037341N", "wrong check character"),
        ("9111000060003IOZSV", "does not allow"),
        ("A1110000600037341L", "does not allow"),
    ],
)
def test_uscc_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidCode, match=message):
        codes.parse_uscc(text)


@given(
    head=st.text(alphabet="0123456789", min_size=8, max_size=8),
    tail=st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
    data=st.data(),
)
def test_uscc_check_character(head: str, tail: str, data: st.DataObject) -> None:
    body = head + tail
    assert codes.parse_uscc(body + uscc_check(body)) == body + uscc_check(body)
    wrong = data.draw(st.sampled_from([c for c in USCC_ALPHABET if c != uscc_check(body)]))
    with pytest.raises(InvalidCode):
        codes.parse_uscc(body + wrong)


# ---- division codes ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["330106", "330113", "330114", " 330100 ", "110102"])
def test_division_code_known(text: str) -> None:
    assert codes.parse_division_code(text) == text.strip()


@pytest.mark.parametrize("text", ["000000", "12345", "abcdef", "990000", "3301060", "", "033010"])
def test_division_code_unknown_or_malformed(text: str) -> None:
    with pytest.raises(InvalidCode):
        codes.parse_division_code(text)


# ---- the API ----------------------------------------------------------------------------------


def valid_ric(prefix: str = "330113", born: str = "19850615", serial: str = "002") -> str:
    body = prefix + born + serial
    return body + ric_check(body)


def test_codes_api_reads_resident_id_facts(client: TestClient, token_for: Any) -> None:
    number = valid_ric()
    response = client.get(f"/api/v1/codes/resident-id/{number}", headers=token_for("consumer"))
    assert response.status_code == 200
    assert response.json() == {"number": number, "birth_date": "1985-06-15", "sex": "女", "division": "330113"}


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [("uscc", "91110000600037341L", "91110000600037341L"), ("division", "330114", "330114")],
)
def test_codes_api_accepts_good_codes(client: TestClient, token_for: Any, kind: str, value: str, expected: str) -> None:
    response = client.get(f"/api/v1/codes/{kind}/{value}", headers=token_for("consumer"))
    assert response.status_code == 200
    assert response.json() == {"value": expected}


@pytest.mark.parametrize(
    ("kind", "value"),
    [("resident-id", "36042619910102009X"), ("uscc", "91110000600037341N"), ("division", "990000")],
)
def test_codes_api_refuses_bad_codes_as_problem(client: TestClient, token_for: Any, kind: str, value: str) -> None:
    response = client.get(f"/api/v1/codes/{kind}/{value}", headers=token_for("consumer"))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "invalid_code"
    assert value in body["detail"]


def test_codes_api_speaks_english_when_asked(client: TestClient, token_for: Any) -> None:
    headers = {**token_for("consumer"), "Accept-Language": "en"}
    response = client.get("/api/v1/codes/uscc/12345", headers=headers)
    assert response.json()["detail"] == "Credit code '12345' must have 18 characters."


@pytest.mark.parametrize("path", ["resident-id/" + "1" * 18, "uscc/91110000600037341L", "division/330106"])
def test_codes_api_needs_a_token(client: TestClient, path: str) -> None:
    response = client.get(f"/api/v1/codes/{path}")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
