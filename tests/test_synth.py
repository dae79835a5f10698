"""The synthetic population: deterministic, every code valid, columns coherent, nothing real.

Real values to stay clear of are read from the shared data folder at test time (never copied
into the repo); that check is skipped with its reason when the folder is absent.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from digigov import synth
from digigov.core import codes
from digigov.core.errors import Invalid
from digigov.core.industry import industry, parse_industry_code
from digigov.identity.regions import province_rows
from tests.conftest import SHARED_DATA

REAL = SHARED_DATA / "real"
KIND_BY_TYPE = {"91": "企业", "92": "个体工商户", "93": "农民专业合作社"}


@pytest.fixture(scope="module")
def population() -> synth.Population:
    return synth.synth_population(enterprises=3000, persons=6000, seed=7)


@pytest.fixture(scope="module")
def firms(population: synth.Population) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = population.enterprises.to_pylist()
    return rows


@pytest.fixture(scope="module")
def people(population: synth.Population) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = population.persons.to_pylist()
    return rows


def current_zhejiang_counties() -> set[str]:
    """Worked out here from the region table, not taken from the code under test."""
    return {
        row.code
        for row in province_rows("33")
        if row.level == "county" and row.valid_to is None and row.name != "市辖区"
    }


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# ---------------------------------------------------------------------------- determinism


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    first = synth.write_population(tmp_path / "a", enterprises=300, persons=800, seed=11)
    again = synth.write_population(tmp_path / "b", enterprises=300, persons=800, seed=11)
    other = synth.write_population(tmp_path / "c", enterprises=300, persons=800, seed=12)
    for path, same, different in zip(first, again, other, strict=True):
        assert path.read_bytes() == same.read_bytes(), path.name
        assert path.read_bytes() != different.read_bytes(), path.name


def test_files_hold_the_tables_and_csv_starts_with_a_bom(tmp_path: Path) -> None:
    files = synth.write_population(tmp_path, enterprises=200, persons=500, seed=3)
    expected = synth.synth_population(enterprises=200, persons=500, seed=3)
    assert pq.read_table(files.enterprises_parquet).equals(expected.enterprises)
    assert pq.read_table(files.persons_parquet).equals(expected.persons)
    for path, table in ((files.enterprises_csv, expected.enterprises), (files.persons_csv, expected.persons)):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), path.name
        header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert header == table.column_names
        strings = pacsv.ConvertOptions(column_types={name: pa.string() for name in table.column_names})
        assert pacsv.read_csv(path, convert_options=strings).num_rows == table.num_rows


def test_batches_do_not_change_the_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = synth.synth_persons(700, 5)
    monkeypatch.setattr(synth, "PERSON_BATCH_ROWS", 128)
    batches = list(synth.iter_persons(700, 5))
    assert [b.num_rows for b in batches] == [128] * 5 + [60]
    assert pa.Table.from_batches(batches).equals(whole)


def test_persons_do_not_depend_on_employers_except_the_employer_column() -> None:
    firms = synth.synth_enterprises(100, 9)
    alone = synth.synth_persons(500, 9).drop_columns(["就业单位统一社会信用代码"])
    linked = synth.synth_persons(500, 9, employers=firms).drop_columns(["就业单位统一社会信用代码"])
    assert alone.equals(linked)


def test_negative_counts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="0 or more"):
        synth.synth_enterprises(-1, 1)
    with pytest.raises(Invalid) as caught:
        synth.write_population(tmp_path, enterprises=1, persons=-5, seed=1)
    assert "人员" in caught.value.message_zh
    assert synth.synth_persons(0, 1).num_rows == 0
    assert synth.synth_enterprises(0, 1).schema == synth.ENTERPRISE_SCHEMA


# ---------------------------------------------------------------------------- enterprises


def test_credit_codes_are_valid_unique_and_match_their_columns(firms: list[dict[str, Any]]) -> None:
    seen = set()
    for firm in firms:
        code = firm["统一社会信用代码"]
        assert codes.parse_uscc(code) == code
        assert KIND_BY_TYPE[code[:2]] == firm["主体类型"]
        assert code[2:8] == firm["行政区划代码"]
        assert synth.organisation_check(code[8:16]) == code[16], code
        if firm["成立日期"] >= date(2015, 10, 1) or code[:2] != "91":
            assert code[8:10] == "MA", code
        seen.add(code)
    assert len(seen) == len(firms)
    assert {code[:2] for code in seen} == set(KIND_BY_TYPE)


def test_regions_are_current_zhejiang_counties(firms: list[dict[str, Any]], people: list[dict[str, Any]]) -> None:
    current = current_zhejiang_counties()
    assert len(current) == 90  # 37 districts, 20 county-level cities, 33 counties
    used = {f["行政区划代码"] for f in firms} | {p["户籍地行政区划代码"] for p in people}
    assert used <= current
    assert len(used) > 80
    assert set(synth.current_counties()) == current
    for code in used:
        codes.parse_division_code(code)


def test_industry_codes_are_gbt4754_divisions_of_their_section(firms: list[dict[str, Any]]) -> None:
    pairs = {(f["行业门类"], f["行业代码"]) for f in firms}
    for section, division in pairs:
        assert parse_industry_code(section + division) == division
        assert industry(division).section == section
    shares = Counter(f["行业门类"] for f in firms)
    assert {s for s, _ in shares.most_common(4)} <= {"C", "F", "I", "L", "M", "O"}


def test_dates_names_and_figures_are_plausible(firms: list[dict[str, Any]]) -> None:
    assert all(date(1995, 1, 1) <= f["成立日期"] <= date(2025, 12, 31) for f in firms)
    assert all(f["从业人数"] >= 1 and f["营业收入（万元）"] > 0 and f["注册资本（万元）"] > 0 for f in firms)
    names = [f["企业名称"] for f in firms]
    assert len(set(names)) == len(names)
    for firm in firms:
        name = firm["企业名称"]
        if firm["主体类型"] == "企业":
            assert name.endswith("有限公司"), name
        assert not any(word in name for word in synth._FAMOUS_WORDS), name


def test_more_staff_means_more_revenue(firms: list[dict[str, Any]]) -> None:
    small = [f["营业收入（万元）"] for f in firms if f["从业人数"] < 10]
    large = [f["营业收入（万元）"] for f in firms if f["从业人数"] >= 50]
    assert sorted(large)[len(large) // 2] > 5 * sorted(small)[len(small) // 2]


def test_sizes_follow_the_rule_and_most_firms_are_micro(firms: list[dict[str, Any]]) -> None:
    for firm in firms:
        assert firm["企业规模"] == synth.enterprise_size(firm["行业代码"], firm["从业人数"], firm["营业收入（万元）"])
    sizes = Counter(f["企业规模"] for f in firms)
    assert sizes["微型"] / len(firms) > 0.5
    assert sizes["微型"] > sizes["小型"] > sizes["中型"] > sizes["大型"]


def test_high_tech_share_is_a_few_percent(firms: list[dict[str, Any]]) -> None:
    high_tech = [f for f in firms if f["是否高新技术企业"]]
    assert 0.01 < len(high_tech) / len(firms) < 0.06
    assert all(f["主体类型"] == "企业" for f in high_tech)


@pytest.mark.parametrize(
    ("division", "staff", "revenue", "size"),
    [
        ("34", 1000, 40000.0, "大型"),
        ("34", 999, 90000.0, "中型"),  # every floor must be met, so 999 staff drops a tier
        ("34", 20, 300.0, "小型"),
        ("34", 19, 5000.0, "微型"),
        ("51", 5, 1000.0, "小型"),  # wholesale has lower staff floors
        ("01", 1, 600.0, "中型"),  # agriculture counts revenue only
        ("72", 100, 1.0, "中型"),  # leasing and business services: staff only
    ],
)
def test_enterprise_size_rule(division: str, staff: int, revenue: float, size: str) -> None:
    assert synth.enterprise_size(division, staff, revenue) == size


# ---------------------------------------------------------------------------- persons


def test_id_numbers_are_valid_unique_and_agree_with_the_columns(people: list[dict[str, Any]]) -> None:
    numbers = set()
    for person in people:
        facts = codes.resident_id_facts(person["公民身份号码"])
        assert facts.number == person["公民身份号码"]
        assert facts.birth_date == person["出生日期"]
        assert facts.sex == person["性别"]
        assert facts.division == person["户籍地行政区划代码"]
        numbers.add(facts.number)
    assert len(numbers) == len(people)
    assert max(p["出生日期"] for p in people) <= synth.REFERENCE_DATE < date.today()
    assert {p["性别"] for p in people} == {"男", "女"}


def test_names_and_mobiles_look_right(people: list[dict[str, Any]]) -> None:
    for person in people:
        assert 2 <= len(person["姓名"]) <= 4
        mobile = person["手机号码"]
        if mobile is not None:
            assert len(mobile) == 11 and mobile[0] == "1" and mobile[1] in "3456789", mobile
    mobiles = [p["手机号码"] for p in people if p["手机号码"] is not None]
    assert len(set(mobiles)) == len(mobiles)
    assert all(p["手机号码"] is None for p in people if age_on(p["出生日期"], synth.REFERENCE_DATE) < 12)


def test_employers_exist_and_the_old_and_young_have_none(
    population: synth.Population, people: list[dict[str, Any]]
) -> None:
    firms = set(population.enterprises.column("统一社会信用代码").to_pylist())
    employed = [p for p in people if p["就业单位统一社会信用代码"] is not None]
    assert len(employed) > len(people) * 0.25
    assert {p["就业单位统一社会信用代码"] for p in employed} <= firms
    assert all(p["就业状态"] == "在职" and age_on(p["出生日期"], synth.REFERENCE_DATE) >= 16 for p in employed)
    elderly = [p for p in people if age_on(p["出生日期"], synth.REFERENCE_DATE) >= 60]
    assert all(p["就业单位统一社会信用代码"] is None for p in elderly)
    assert sum(p["就业状态"] == "退休" for p in elderly) > 0.7 * len(elderly)


def test_social_insurance_and_minimum_living_are_coherent(people: list[dict[str, Any]]) -> None:
    for person in people:
        months = person["月缴社保月数"]
        age = age_on(person["出生日期"], synth.REFERENCE_DATE)
        assert 0 <= months <= max(0, age - 18) * 12, person
        if person["就业状态"] == "退休":
            assert months >= 180
        if person["就业状态"] in ("学龄前", "在校"):
            assert months == 0
    share = sum(p["是否享受低保"] for p in people) / len(people)
    assert 0.002 < share < 0.05
    assert not any(p["是否享受低保"] for p in people if p["就业状态"] == "在职")


# ---------------------------------------------------------------------------- nothing real


def _cells(path: Path) -> set[str]:
    raw = path.read_bytes()
    if raw[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):  # an XLSX or XLS saved as .csv
        return set()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")
    return {cell.strip().upper() for row in csv.reader(io.StringIO(text)) for cell in row if cell.strip()}


@pytest.fixture(scope="module")
def real_values() -> set[str]:
    folders = [REAL / "idcodes", REAL / "opendata" / "beijing"]
    if not all(folder.is_dir() for folder in folders):
        pytest.skip(f"{REAL} is absent: the shared real data vectors are not available here")
    return {cell for folder in folders for path in sorted(folder.glob("*.csv")) for cell in _cells(path)}


def test_no_generated_value_is_a_real_one(
    real_values: set[str], firms: list[dict[str, Any]], people: list[dict[str, Any]]
) -> None:
    assert len(real_values) > 10_000
    generated = {f["统一社会信用代码"] for f in firms} | {f["企业名称"].upper() for f in firms}
    generated |= {p["公民身份号码"] for p in people} | {p["手机号码"] for p in people if p["手机号码"]}
    assert not generated & real_values


def test_person_names_are_not_drawn_from_real_data(real_values: set[str], people: list[dict[str, Any]]) -> None:
    # A common name such as 王浩 is borne by many thousands and turns up in the real files too
    # (as the 建设单位 of a house rebuild), so equality alone cannot be ruled out; what must not
    # happen is names taken from those files, which would show as a large overlap.
    names = {p["姓名"] for p in people}
    assert len(names & real_values) < 0.01 * len(names)
