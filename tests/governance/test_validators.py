"""The engine's check-digit validators give the same verdicts as the Python parsers in core.codes."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta

import duckdb
import pytest
from stdnum.cn import uscc

from digigov.core.codes import InvalidCode, parse_resident_id
from digigov.governance import compact, load_divisions, luhn_valid, resident_id_valid, uscc_valid
from tests.conftest import SHARED_DATA

IDCODES = SHARED_DATA / "real" / "idcodes"


def verdicts(values: list[str | None], check: str) -> list[bool]:
    """Run one validator over a column of values in DuckDB, in order."""
    con = duckdb.connect()
    load_divisions(con)
    con.execute("CREATE TABLE t (k INTEGER, raw VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    rows = con.execute(f"SELECT {check} FROM (SELECT k, {compact('raw')} AS v FROM t) ORDER BY k").fetchall()
    return [bool(r[0]) for r in rows]


def python_resident_id(value: str) -> bool:
    try:
        parse_resident_id(value)
    except InvalidCode:
        return False
    return True


def shared_rows(name: str) -> list[dict[str, str]]:
    path = IDCODES / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared stdnum test vectors are not available here")
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_resident_id_vectors_of_stdnum_including_division_validity() -> None:
    rows = shared_rows("ric_test_vectors_stdnum.csv")
    got = verdicts([r["value"] for r in rows], resident_id_valid("v"))
    assert got == [python_resident_id(r["value"]) for r in rows], "the same verdicts as core.codes"
    # core.codes departs from stdnum on purpose in one case: a number is assigned where the holder
    # lives when the first card is made, so a division created after the birth year is fine
    differ = [r["note"] for r, ok in zip(rows, got, strict=True) if ok != (r["expected"] == "valid")]
    assert differ == ["county was not registered yet at birth year"]


def test_credit_code_vectors_and_real_values_of_stdnum() -> None:
    rows = shared_rows("uscc_test_vectors_stdnum.csv") + [
        {"value": r["raw_value"], "expected": r["stdnum_result"]}
        for r in shared_rows("uscc_real_values_stdnum_verdict.csv")
    ]
    got = verdicts([r["value"] for r in rows], uscc_valid("v"))
    assert got == [r["expected"] == "valid" for r in rows]
    assert sum(got) > 600 and not all(got)


def test_resident_ids_agree_with_the_python_parser_on_generated_numbers() -> None:
    """Valid numbers, and each broken one way: check character, birth date, division, length, letters."""
    rng = random.Random(7)
    weights, checks = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), "10X98765432"
    values: list[str | None] = [None, "", "x"]
    for _ in range(400):
        region = rng.choice(["330106", "330113", "110101", "110103", "440113", "990426", "330100", "320000"])
        born = date(1880, 1, 1) + timedelta(days=rng.randrange(0, 150 * 365))
        body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
        good = body + checks[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
        wrong_check = body + checks[(checks.index(good[-1]) + 1) % 11]
        values += [good, good.lower(), f"{good[:6]} {good[6:14]} {good[14:]}", wrong_check, good[:17], "A" + good[1:]]
        values.append(body[:10] + "1332" + body[14:] + good[-1])  # month 13
    got = verdicts(values, resident_id_valid("v"))
    assert got == [value is not None and python_resident_id(value) for value in values]
    assert 100 < sum(got) < len(values) - 100, "the sample holds both verdicts"


def test_credit_codes_agree_with_stdnum_on_generated_codes() -> None:
    rng = random.Random(11)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    values = []
    for _ in range(500):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(rng.choice(alphabet) for _ in range(9))
        good = body + uscc.calc_check_digit(body + "0")
        values += [good, body + rng.choice(alphabet), good.replace(good[9], "I"), good[:17], good.lower()]
    got = verdicts(values, uscc_valid("v"))
    assert got == [uscc.is_valid(value) for value in values]


def test_bank_card_numbers_pass_or_fail_the_luhn_check() -> None:
    cards = ["6222021234567890128", "4111111111111111", "6212262502009182455", "378282246310005"]

    def luhn(number: str) -> bool:
        total = 0
        for k, c in enumerate(reversed(number), 1):
            d = int(c) * (2 if k % 2 == 0 else 1)
            total += d - 9 if d > 9 else d
        return 13 <= len(number) <= 19 and number.isdigit() and total % 10 == 0

    rng = random.Random(3)
    values = cards + ["4111111111111112", "2023", "411111111111", "41111111111111111111", None]
    values += ["".join(rng.choice("0123456789") for _ in range(rng.randint(12, 20))) for _ in range(300)]
    got = verdicts(values, luhn_valid("v"))
    assert got == [value is not None and luhn(value) for value in values]
    assert got[:4] == [True, True, luhn(cards[2]), True]
