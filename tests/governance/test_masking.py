"""Masks run on real DuckDB: each mask's examples, NULL passthrough, types, quoting, default masks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from digigov.core.engine import quote_name
from digigov.governance.masking import Mask, default_mask, mask_sql, mask_value

COLUMN = '证件"号码'  # a double quote in the name proves the column goes through quote_name
SALT = "it's salt"  # a single quote proves the salt goes through sql_literal
SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "INTEGER",
    "decimal": "DECIMAL(10, 2)",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}
SAMPLES: dict[str, Any] = {
    "string": "张三",
    "integer": 20240131,
    "decimal": Decimal("12345.67"),
    "date": date(1990, 1, 2),
    "timestamp": datetime(1990, 1, 2, 3, 4, 5),
    "boolean": True,
}


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def masked(
    con: duckdb.DuckDBPyConnection, mask: Mask, values: list[Any], field_type: str = "string", salt: str = SALT
) -> list[Any]:
    """The masked values of a typed one-column table of `values`, in order."""
    con.execute(f"CREATE OR REPLACE TABLE t (k INTEGER, {quote_name(COLUMN)} {SQL_TYPES[field_type]})")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    expression = mask_sql(mask, quote_name(COLUMN), field_type, salt)
    return [row[0] for row in con.execute(f"SELECT {expression} FROM t ORDER BY k").fetchall()]


def result_type(con: duckdb.DuckDBPyConnection, mask: Mask, field_type: str) -> str:
    """The DuckDB type of a mask's expression over a column of the field type."""
    con.execute(f"CREATE OR REPLACE TABLE t ({quote_name(COLUMN)} {SQL_TYPES[field_type]})")
    row = con.execute(f"DESCRIBE SELECT {mask_sql(mask, quote_name(COLUMN), field_type, SALT)} AS m FROM t").fetchone()
    assert row is not None
    return str(row[1])


def test_id_number_keeps_the_first_6_and_last_4(con: duckdb.DuckDBPyConnection) -> None:
    values = ["330102199001011234", "33010219900101123X", "12345678901"]
    assert masked(con, Mask.id_number, values) == ["330102********1234", "330102********123X", "123456*8901"]


def test_id_number_too_short_to_keep_ends_is_all_stars(con: duckdb.DuckDBPyConnection) -> None:
    assert masked(con, Mask.id_number, ["1234567890", "12345", ""]) == ["*" * 10, "*****", ""]


def test_name_keeps_the_first_character(con: duckdb.DuckDBPyConnection) -> None:
    assert masked(con, Mask.name, ["张三", "欧阳娜娜", "李", "Li Lei"]) == ["张*", "欧***", "*", "L*****"]


def test_phone_keeps_the_first_3_and_last_4(con: duckdb.DuckDBPyConnection) -> None:
    values = ["13812345678", "057187654321", "12345678", "1234567"]
    assert masked(con, Mask.phone, values) == ["138****5678", "057*****4321", "123*5678", "*******"]


def test_email_keeps_the_first_character_and_the_domain(con: duckdb.DuckDBPyConnection) -> None:
    values = ["zhang.san@example.com", "王@政务.cn", "a@b@c.com", "@example.com"]
    assert masked(con, Mask.email, values) == ["z***@example.com", "王***@政务.cn", "a***@c.com", "***@example.com"]


def test_email_without_at_is_redacted(con: duckdb.DuckDBPyConnection) -> None:
    assert masked(con, Mask.email, ["Zhang3.san"]) == ["Xxxxxn*xxx"]


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        ("新疆维吾尔自治区乌鲁木齐市天山区解放路1号", "新疆维吾尔自治区乌鲁木齐市天山区"),
        ("浙江省杭州市西湖区文三路90号", "浙江省杭州市西湖区"),
        ("杭州市余杭区仓前街道", "杭州市余杭区"),
        ("浙江省淳安县千岛湖镇", "浙江省淳安县"),
        ("内蒙古自治区鄂尔多斯市伊金霍洛旗阿勒腾席热镇", "内蒙古自治区鄂尔多斯市伊金霍洛旗"),
        ("浙江省义乌市稠城街道", "浙江省义乌市"),  # no district: up to the city
        ("广西壮族自治区南宁市民族大道", "广西壮族自治区南宁市"),  # 自治区 is no district
        ("文三路90号", "文三路"),  # neither: the first 3 characters
        ("浙江省杭州市西湖区", "浙江省杭州市西湖区"),  # ends at the district anyway
    ],
)
def test_address_keeps_the_district(con: duckdb.DuckDBPyConnection, address: str, kept: str) -> None:
    assert masked(con, Mask.address, [address]) == [kept]


def test_date_year_of_dates_and_timestamps(con: duckdb.DuckDBPyConnection) -> None:
    assert masked(con, Mask.date_year, [date(1990, 1, 2)], "date") == ["1990"]
    assert masked(con, Mask.date_year, [datetime(2024, 12, 31, 23, 59)], "timestamp") == ["2024"]


def test_date_year_of_text_needs_4_leading_digits(con: duckdb.DuckDBPyConnection) -> None:
    assert masked(con, Mask.date_year, ["1990-01-02", "19900102", "abc", "90-01-02"]) == ["1990", "1990", None, None]


def test_date_year_of_other_types_is_null(con: duckdb.DuckDBPyConnection) -> None:
    assert masked(con, Mask.date_year, [19900102], "integer") == [None]


def test_hash_is_salted_sha256_of_the_text(con: duckdb.DuckDBPyConnection) -> None:
    expected = hashlib.sha256((SALT + "330102199001011234").encode()).hexdigest()
    assert masked(con, Mask.hash, ["330102199001011234"]) == [expected]
    assert masked(con, Mask.hash, [42], "integer") == [hashlib.sha256(f"{SALT}42".encode()).hexdigest()]


def test_hash_is_deterministic_per_salt(con: duckdb.DuckDBPyConnection) -> None:
    values = ["13812345678", "13812345678", "13812345679"]
    first, again, other = masked(con, Mask.hash, values)
    assert first == again != other
    assert masked(con, Mask.hash, values[:1], salt="another salt") != [first]
    assert re.fullmatch("[0-9a-f]{64}", first) and "13812345678" not in first


def test_show_last_4(con: duckdb.DuckDBPyConnection) -> None:
    values = ["6222021234567890123", "E12345678", "浙A12345", "1234", "ab"]
    assert masked(con, Mask.show_last_4, values) == ["*" * 15 + "0123", "*****5678", "***2345", "****", "**"]


def test_show_last_4_of_numbers_masks_their_text(con: duckdb.DuckDBPyConnection) -> None:
    assert masked(con, Mask.show_last_4, [Decimal("12345.67")], "decimal") == ["****5.67"]


def test_redact_is_rangers_mask(con: duckdb.DuckDBPyConnection) -> None:
    assert masked(con, Mask.redact, ["Ab1-张", "Zz9 \n"]) == ["Xxn**", "Xxn**"]


def test_null_mask_empties_every_value(con: duckdb.DuckDBPyConnection) -> None:
    assert masked(con, Mask.null, ["张三", ""]) == [None, None]


@pytest.mark.parametrize("mask", list(Mask))
@pytest.mark.parametrize("field_type", list(SQL_TYPES))
def test_null_in_null_out(con: duckdb.DuckDBPyConnection, mask: Mask, field_type: str) -> None:
    assert masked(con, mask, [None, SAMPLES[field_type], None], field_type)[::2] == [None, None]


@pytest.mark.parametrize("field_type", list(SQL_TYPES))
def test_clear_keeps_the_value_and_its_type(con: duckdb.DuckDBPyConnection, field_type: str) -> None:
    assert masked(con, Mask.clear, [SAMPLES[field_type]], field_type) == [SAMPLES[field_type]]
    assert result_type(con, Mask.clear, field_type) == SQL_TYPES[field_type].replace(" ", "")


@pytest.mark.parametrize("mask", [mask for mask in Mask if mask != Mask.clear])
def test_masks_give_text(con: duckdb.DuckDBPyConnection, mask: Mask) -> None:
    assert {result_type(con, mask, field_type) for field_type in SQL_TYPES} == {"VARCHAR"}


@pytest.mark.parametrize(
    ("kind", "mask"),
    [
        ("resident_id", Mask.id_number),
        ("passport", Mask.show_last_4),
        ("bank_card", Mask.show_last_4),
        ("plate", Mask.show_last_4),
        ("mobile", Mask.phone),
        ("landline", Mask.phone),
        ("email", Mask.email),
        ("person_name", Mask.name),
        ("address", Mask.address),
        ("birth_date", Mask.date_year),
        ("ip", Mask.hash),
        ("coordinate", Mask.hash),
        ("uscc", Mask.clear),
        ("org_code", Mask.clear),
    ],
)
def test_default_mask_by_kind(kind: str, mask: Mask) -> None:
    assert {default_mask(kind, level) for level in ("L1", "L2", "L3", "L4")} == {mask}


def test_default_mask_without_kind_by_level() -> None:
    masks = [default_mask(None, level) for level in ("L1", "L2", "L3", "L4")]
    assert masks == [Mask.clear, Mask.clear, Mask.hash, Mask.hash]


def test_every_mask_has_a_chinese_label() -> None:
    labels = {mask: mask.label for mask in Mask}
    assert all(re.search("[\u4e00-\u9fff]", label) for label in labels.values())
    assert len(set(labels.values())) == len(Mask)
    assert (Mask.clear.label, Mask.address.label, Mask.null.label) == ("明文", "地址保留到区县", "置空")


BATTERY: dict[str, list[Any]] = {
    "string": [
        "330102199001011234",
        "13812345678",
        "张三",
        "欧阳娜娜",
        "李",
        "",
        " ",
        "zhang.san@example.com",
        "a@b@c.com",
        "@",
        "Zhang3.san",
        "浙江省杭州市西湖区文三路90号",
        "新疆维吾尔自治区乌鲁木齐市天山区解放路1号",
        "文三路90号",
        "1990-01-02",
        "90年",
        "e\u0301é",  # a combining accent: code points, not grapheme clusters
        "😀👍🏽x",
        "line\nbreak@x.cn",
        "x" * 300,
        None,
    ],
    "integer": [0, -5, 7, 1234567, 20240131, 2_147_483_647, None],
    "decimal": [Decimal("0.00"), Decimal("-1.50"), Decimal("12345.67"), Decimal("0.01"), None],
    "date": [date(1990, 1, 2), date(1, 1, 1), date(9999, 12, 31), None],
    "timestamp": [datetime(1990, 1, 2, 3, 4, 5), datetime(2024, 1, 1), datetime(2024, 1, 1, 0, 0, 0, 120), None],
    "boolean": [True, False, None],
}


@pytest.mark.parametrize("field_type", sorted(BATTERY))
@pytest.mark.parametrize("mask", list(Mask))
def test_mask_value_gives_what_mask_sql_gives(con: duckdb.DuckDBPyConnection, mask: Mask, field_type: str) -> None:
    values = BATTERY[field_type]
    assert [mask_value(mask, v, field_type, SALT) for v in values] == masked(con, mask, values, field_type)
