"""read_to_parquet on the real Beijing open-data files, on generated files, and on bad input."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digigov.datastore.errors import (
    EmptyFile,
    FieldTooLarge,
    JsonTooDeep,
    NotTabular,
    SheetNotFound,
    SourceMissing,
    TooManyColumns,
    UnknownEncoding,
    WorkbookBomb,
)
from digigov.datastore.reader import read_to_parquet
from digigov.datastore.report import ReadLimits, ReadReport
from tests.datastore.xls_writer import workbook

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"  # /work/shared beside /work/main
BEIJING = SHARED / "real" / "opendata" / "beijing"

# SOURCES.md §1: records (data rows after the header, blank rows included) = rows + blank_rows.
BEIJING_FILES: list[tuple[str, str, str | None, int, int, dict[str, str]]] = [
    (
        "12315绿色通道.csv",
        "csv",
        "utf-8-sig",
        23904,
        0,
        {"时间": "timestamp", "注册号": "string", "是否有效": "string"},
    ),
    ("中关村新三板企业名单.csv", "csv", "utf-8-sig", 19, 0, {"挂牌日期": "date", "所属行业": "string"}),
    ("内资企业设立登记公告数据 (1).csv", "csv", "utf-8", 8376, 0, {"统一社会信用代码": "string", "核准日期": "date"}),
    (
        "北京市制造业创新中心清单.csv",
        "csv",
        "utf-8-sig",
        24,
        2,
        {"成立时间": "decimal", "注册资本（万元）": "decimal", "建设单位统一社会信用代码": "string"},
    ),
    ("北京市密云区建筑业企业资质证书信息.csv", "xlsx", None, 194, 8, {"发证日期": "date", "注册资本金": "string"}),
    ("境内上市公司清单.csv", "csv", "utf-8", 5281, 1, {"证券代码": "string", "更新时间": "date", "序号": "integer"}),
    (
        "密云区应急管理局执法检查信息.csv",
        "csv",
        "gb18030",
        4270,
        0,
        {"现场检查时间": "date", "现场检查文书编号": "string"},
    ),
    (
        "市交通委-汽车租赁企业信用评价结果数据.csv",
        "csv",
        "utf-8-sig",
        1176,
        0,
        {"年度": "integer", "统一社会信用代码": "string"},
    ),
    ("市住房城乡建设委-北京市建筑起重机械登记编号信息.csv", "csv", "utf-8-sig", 19152, 0, {"登记编号": "string"}),
    ("市市场监督管理局-上市公司名录.csv", "csv", "utf-8-sig", 6024, 0, {"更新时间": "timestamp", "主键": "string"}),
    (
        "市市场监督管理局-食品安全监督抽检信息.csv",
        "csv",
        "utf-8-sig",
        3011,
        0,
        {"更新时间": "timestamp", "主键": "string"},
    ),
    ("建设工程规划许可证（建筑类）.csv", "csv", "gb18030", 1743, 0, {"核发日期": "date"}),
    (
        "当年北京市企业上市名单.csv",
        "csv",
        "utf-8-sig",
        20,
        0,
        {"上市日期": "date", "组织机构代码或统一社会信用代码": "string"},
    ),
    ("房地产开发企业二级及以下资质核定.csv", "csv", "gb18030", 463, 0, {"许可日期": "date", "有效期至": "date"}),
    (
        "海淀区中关村高新技术企业库（截止2023年7月）.csv",
        "csv",
        "gb18030",
        9461,
        0,
        {"统一社会信用代码": "string", "法人代码": "string", "证书编号": "string", "序号": "integer"},
    ),
    ("瞪羚企业名单信息.csv", "csv", "utf-8-sig", 5629, 0, {"序号": "integer", "法人单位名称": "string"}),
    ("科技型中小企业.csv", "csv", "utf-8-sig", 8202, 0, {"统计年份": "string", "统一社会信用代码": "string"}),
    ("经营异常企业信息.csv", "csv", "gb18030", 104259, 0, {"企业名称": "string"}),
]

needs_beijing = pytest.mark.skipif(not BEIJING.is_dir(), reason=f"real Beijing files not present at {BEIJING}")


def read(source: Path, tmp_path: Path, **options: Any) -> tuple[ReadReport, pa.Table]:
    out = tmp_path / f"out-{source.stem}"
    report = read_to_parquet(source, out, **options)
    return report, pq.read_table(out / "data.parquet")


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rejects(report_dir: Path) -> list[dict[str, str]]:
    with (report_dir / "rejects.csv").open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def types(report: ReadReport) -> dict[str, str]:
    return {column.name: column.type for column in report.columns}


# --- the real files -------------------------------------------------------------------------


@needs_beijing
@pytest.mark.parametrize(("name", "fmt", "encoding", "rows", "blank", "expected"), BEIJING_FILES, ids=lambda v: str(v))
def test_beijing_file_ingests_with_its_record_count(
    tmp_path: Path, name: str, fmt: str, encoding: str | None, rows: int, blank: int, expected: dict[str, str]
) -> None:
    report, table = read(BEIJING / name, tmp_path)
    assert (report.format, report.encoding, report.rows, report.blank_rows) == (fmt, encoding, rows, blank)
    assert report.rejected == 0 and table.num_rows == rows
    assert {name: types(report)[name] for name in expected} == expected
    assert table.column_names == [column.name for column in report.columns]


@needs_beijing
def test_codes_stay_text_exactly_as_published(tmp_path: Path) -> None:
    _, table = read(BEIJING / "12315绿色通道.csv", tmp_path)
    assert table["注册号"][0].as_py() == "1100009001100202209090463"
    assert set(table["是否有效"].to_pylist()) == {"09"}
    assert table.schema.field("时间").type == pa.timestamp("us")


@needs_beijing
def test_day_first_timestamps_become_timestamps(tmp_path: Path) -> None:
    report, table = read(BEIJING / "市市场监督管理局-上市公司名录.csv", tmp_path)
    assert table["更新时间"][0].as_py() == dt.datetime(2023, 7, 19, 10, 31, 50)
    assert table["统一社会信用代码"].null_count == 10
    assert report.column("统一社会信用代码").nullable


@needs_beijing
def test_chinese_dates_become_dates(tmp_path: Path) -> None:
    _, table = read(BEIJING / "密云区应急管理局执法检查信息.csv", tmp_path)
    assert table.schema.field("现场检查时间").type == pa.date32()
    assert table["现场检查时间"][0].as_py() == dt.date(2023, 4, 12)


@needs_beijing
def test_header_with_embedded_newline_is_flattened_and_slash_is_null(tmp_path: Path) -> None:
    report, table = read(BEIJING / "境内上市公司清单.csv", tmp_path)
    assert "公司属性 [交易日期] 最新收盘日" in table.column_names
    assert report.column("公司属性 [交易日期] 最新收盘日").source_name == "公司属性\n[交易日期] 最新收盘日"
    assert table["更新时间"].drop_null().to_pylist() == [dt.date(2023, 9, 19)]


@needs_beijing
def test_workbook_named_csv_is_read_as_xlsx(tmp_path: Path) -> None:
    report, table = read(BEIJING / "北京市密云区建筑业企业资质证书信息.csv", tmp_path)
    assert (report.format, report.sheet, report.header_row, report.dropped_columns) == ("xlsx", "Sheet1", 1, 2)
    assert table["注册资本金"][0].as_py() == "1000人民币(万元)"
    assert table["发证日期"].null_count == 0  # the last one is text with a no-break space


@needs_beijing
def test_float_years_and_capital_are_exact_decimals(tmp_path: Path) -> None:
    _, table = read(BEIJING / "北京市制造业创新中心清单.csv", tmp_path)
    assert table["成立时间"][0].as_py() == Decimal("2016.5")
    assert table["注册资本（万元）"][0].as_py() == Decimal("93000")


# --- sniffing: header, layout, encodings, formats ---------------------------------------------


def test_title_and_metadata_rows_above_the_header_are_skipped(tmp_path: Path) -> None:
    text = "北京市某区企业名单,,\n截止日期：2023-07-01,,\n单位：元,,\n序号,名称,金额\n1,甲公司,1.50\n2,乙公司,20\n"
    report, table = read(write(tmp_path, "t.csv", text), tmp_path)
    assert report.header_row == 4 and table.column_names == ["序号", "名称", "金额"]
    assert table["金额"].to_pylist() == [Decimal("1.50"), Decimal("20.00")]


def test_two_row_merged_header_is_flattened(tmp_path: Path) -> None:
    text = "序号,企业,,地址\n,名称,代码,\n1,甲,A1,北京\n2,乙,B2,上海\n"
    report, table = read(write(tmp_path, "m.csv", text), tmp_path)
    assert table.column_names == ["序号", "企业_名称", "企业_代码", "地址"] and report.rows == 2


def test_blank_rows_are_dropped_and_counted(tmp_path: Path) -> None:
    text = "a,b\r\n1,x\r\n\r\n,\r\n   \r\n2,y\r\n\r\n"
    report, table = read(write(tmp_path, "b.csv", text), tmp_path)
    assert (report.rows, report.blank_rows, report.rejected) == (2, 4, 0)
    assert table["a"].to_pylist() == [1, 2]


def test_columns_without_name_or_value_are_dropped_named_empty_kept(tmp_path: Path) -> None:
    text = "a,b,空列,,,\n1,2,,,x,\n3,4,,,,\n"
    report, table = read(write(tmp_path, "e.csv", text), tmp_path)
    assert table.column_names == ["a", "b", "空列", "column_5"] and report.dropped_columns == 2
    assert report.column("空列").nullable and report.column("column_5").note


def test_repeated_names_are_made_unique(tmp_path: Path) -> None:
    report, table = read(write(tmp_path, "d.csv", "名称,名称,名称_2\n甲,乙,丙\n"), tmp_path)
    assert table.column_names == ["名称", "名称_3", "名称_2"]
    assert [(r.source_name, r.name) for r in report.renamed] == [("名称", "名称_3")]


def test_big5_text_is_detected(tmp_path: Path) -> None:
    text = "公司名稱,統一編號,登記日期\n臺灣積體電路製造股份有限公司,22099131,1987/2/21\n"
    text += "聯發科技股份有限公司,23432384,1997/5/28\n"
    report, table = read(write(tmp_path, "b5.csv", text, "big5"), tmp_path)
    assert report.encoding == "big5" and table["公司名稱"][1].as_py() == "聯發科技股份有限公司"
    assert types(report)["統一編號"] == "string" and types(report)["登記日期"] == "date"


def test_gbk_after_a_long_ascii_start_falls_back(tmp_path: Path) -> None:
    text = "id,name\n" + "".join(f"{i},company{i}\n" for i in range(120_000)) + "120000,北京某某科技有限公司\n"
    report, table = read(write(tmp_path, "late.csv", text, "gbk"), tmp_path)
    assert report.encoding == "gb18030" and table["name"][-1].as_py() == "北京某某科技有限公司"
    assert report.rows == 120_001 and report.notes


def test_damaged_utf8_byte_rejects_its_row_only(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes("名称,数量\n甲,1\n".encode() + b"\xff\xfe,2\n" + "丙,3\n".encode())
    report, table = read(path, tmp_path)
    assert (report.encoding, report.rows, report.rejected) == ("utf-8", 2, 1)
    assert rejects(tmp_path / "out-bad")[0]["line"] == "3"


def test_tab_separated_and_utf16(tmp_path: Path) -> None:
    text = "名称\t金额\r\n甲\t1.5\r\n乙\t2\r\n"
    report, table = read(write(tmp_path, "u.txt", "\ufeff" + text, "utf-16-le"), tmp_path)
    assert (report.format, report.encoding, report.delimiter) == ("tsv", "utf-16", "\t")
    assert table["金额"].to_pylist() == [Decimal("1.5"), Decimal("2.0")]


def test_mixed_line_ends_are_normalised(tmp_path: Path) -> None:
    report, table = read(write(tmp_path, "mix.csv", 'a,b\n1,2\r\n3,"x\r\ny"\n4,5\r\n'), tmp_path)
    assert report.rows == 3 and table["b"].to_pylist() == ["2", "x\ny", "5"] and report.notes


def test_rows_that_cannot_be_parsed_go_to_rejects_with_their_line(tmp_path: Path) -> None:
    text = 'a,b,c\n1,"two\nlines",3\n4,5\n6,7,8\n9,10,11,12\n13,"open,14\n'
    report, _ = read(write(tmp_path, "r.csv", text), tmp_path)
    found = rejects(tmp_path / "out-r")
    assert (report.rows, report.rejected) == (2, 3)
    assert [(row["line"], row["raw"]) for row in found] == [("4", "4,5"), ("6", "9,10,11,12"), ("7", '13,"open,14')]
    assert found[0]["reason"] == "too few fields: expected 3, found 2"


def test_jsonl_with_a_bad_line(tmp_path: Path) -> None:
    text = '{"名称": "甲", "数量": 1, "标签": ["a"]}\n\n{"名称": "乙", "数量": 2, "备注": "x"}\nnot json\n[1]\n'
    report, table = read(write(tmp_path, "j.jsonl", text), tmp_path)
    assert (report.format, report.rows, report.rejected, report.blank_rows) == ("jsonl", 2, 2, 1)
    assert table.column_names == ["名称", "数量", "标签", "备注"] and table["标签"][0].as_py() == '["a"]'
    assert [(r["line"], r["reason"]) for r in rejects(tmp_path / "out-j")] == [
        ("4", "not valid JSON"),
        ("5", "not a JSON object"),
    ]


def test_json_array_and_wrapped_records(tmp_path: Path) -> None:
    report, table = read(write(tmp_path, "a.json", '[{"a": 1, "b": "2022-03-01"}, {"a": 2}, 3]'), tmp_path)
    assert (report.format, report.rows, report.rejected) == ("json", 2, 1) and types(report)["b"] == "date"
    wrapped = json.dumps({"code": 0, "data": [{"名称": "甲"}, {"名称": "乙"}]}, ensure_ascii=False)
    report, table = read(write(tmp_path, "w.json", wrapped), tmp_path)
    assert (report.sheet, table["名称"].to_pylist()) == ("data", ["甲", "乙"])


def test_xlsx_with_title_rows_picks_first_non_empty_sheet_or_the_named_one(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("数据")
    for row in (["企业名单（2023年）"], [], ["名称", "成立日期", "人数"], ["甲", dt.datetime(2020, 1, 10), 5]):
        sheet.append(row)
    book.create_sheet("其他").append(["x", "y"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    report, table = read(path, tmp_path)
    assert (report.sheet, report.header_row, table.column_names) == ("数据", 3, ["名称", "成立日期", "人数"])
    assert types(report) == {"名称": "string", "成立日期": "date", "人数": "integer"}
    report = read_to_parquet(path, tmp_path / "other", sheet="其他")
    assert report.sheet == "其他"
    with pytest.raises(SheetNotFound, match="说明, 数据, 其他"):
        read_to_parquet(path, tmp_path / "missing", sheet="没有")


def test_legacy_xls(tmp_path: Path) -> None:
    rows = [["序号", "名称", "日期"], [1, "甲公司", dt.datetime(2020, 1, 10)], [2, "乙", dt.datetime(2021, 3, 4)]]
    path = tmp_path / "old.csv"
    path.write_bytes(workbook({"空表": [], "名单": rows}))
    report, table = read(path, tmp_path)
    assert (report.format, report.sheet, report.rows) == ("xls", "名单", 2)
    assert table["日期"].to_pylist() == [dt.date(2020, 1, 10), dt.date(2021, 3, 4)]


# --- typing ---------------------------------------------------------------------------------


def test_types_and_their_arrow_types(tmp_path: Path) -> None:
    text = (
        "序号,金额,日期,时间,有效,名称,月日\n"
        "1,1.25,2022年3月1日,19/7/2023 10:31:50,是,甲,3/13/2022\n"
        "2,-3,2022年12月31日,1/1/2024 00:00:00,否,乙,12/1/2022\n"
        "/,NULL,无,—,-,null,\n"
    )
    report, table = read(write(tmp_path, "t.csv", text), tmp_path)
    assert [str(table.schema.field(name).type) for name in table.column_names] == [
        "int64",
        "decimal128(18, 2)",
        "date32[day]",
        "timestamp[us]",
        "bool",
        "string",
        "date32[day]",
    ]
    assert table["时间"][0].as_py() == dt.datetime(2023, 7, 19, 10, 31, 50)
    assert table["月日"][0].as_py() == dt.date(2022, 3, 13) and "month-first" in (report.column("月日").note or "")
    assert table["名称"][2].as_py() == "null"  # text keeps null tokens verbatim


def test_codes_never_become_numbers(tmp_path: Path) -> None:
    text = "区划,注册号,联系电话,代码,数量,批次,成立日期,批号\n"
    for i in range(1, 9):
        text += f"1101{i:02d},110000900110020220909{i:04d},1381234{i:04d},{i},{i},0{i},202203{i:02d},202203{i:02d}\n"
    report, _ = read(write(tmp_path, "c.csv", text), tmp_path)
    assert types(report) == {
        "区划": "string",
        "注册号": "string",
        "联系电话": "string",
        "代码": "string",
        "数量": "integer",
        "批次": "string",
        "成立日期": "date",
        "批号": "string",
    }


def test_a_value_that_fails_the_type_keeps_the_column_as_text_and_says_so(tmp_path: Path) -> None:
    text = "数量,日期,金额\n" + "".join(f"{i},2022-03-{i % 28 + 1:02d},{i}.5\n" for i in range(1, 2000))
    text += "N/A,2022-02-30,1.25\n"
    report, table = read(write(tmp_path, "f.csv", text), tmp_path)
    assert types(report) == {"数量": "string", "日期": "string", "金额": "decimal"}
    assert {(f.column, f.type, f.failed, f.example) for f in report.text_fallbacks} == {
        ("数量", "integer", 1, "N/A"),
        ("日期", "date", 1, "2022-02-30"),
    }
    assert table["数量"][-1].as_py() == "N/A" and table["金额"][-1].as_py() == Decimal("1.25")


def test_to_dict_is_the_stable_json_shape(tmp_path: Path) -> None:
    report, _ = read(write(tmp_path, "s.csv", "名称,数量\n甲,1\n"), tmp_path)
    shape = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert {"rows", "rejected", "blank_rows", "columns", "encoding"} <= shape.keys()
    assert shape["columns"] == [
        {"name": "名称", "type": "string", "source_name": "名称", "nullable": False, "note": None},
        {"name": "数量", "type": "integer", "source_name": "数量", "nullable": False, "note": None},
    ]


CELL = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from('\n\t,;|"'), max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(CELL, min_size=1, max_size=30))
def test_text_values_survive_whatever_they_hold(tmp_path_factory: pytest.TempPathFactory, values: list[str]) -> None:
    folder = tmp_path_factory.mktemp("hypothesis")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["键", "文本"])
    writer.writerows([f"k{i}", value] for i, value in enumerate(values))
    report, table = read(write(folder, "h.csv", buffer.getvalue()), folder)
    stored = dict(zip(table["键"].to_pylist(), table["文本"].to_pylist(), strict=True))
    assert report.rows == len(values) and report.rejected == 0
    for i, value in enumerate(values):
        expected = None if not value.strip(" \t\n\x0b\x0c\u00a0\u3000\ufeff") else value
        if report.column("文本").type == "string":
            assert stored[f"k{i}"] == expected


# --- bad input ------------------------------------------------------------------------------


def assert_refused(tmp_path: Path, source: Path, error: type[Exception], **options: Any) -> None:
    out = tmp_path / "refused"
    with pytest.raises(error) as raised:
        read_to_parquet(source, out, **options)
    assert not out.exists() and not list(tmp_path.glob(".refused*"))
    assert getattr(raised.value, "message_zh", "")


def test_zero_byte_file(tmp_path: Path) -> None:
    assert_refused(tmp_path, write(tmp_path, "empty.csv", ""), EmptyFile)


def test_binary_garbage_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 64)
    assert_refused(tmp_path, path, NotTabular)


def test_undecodable_text(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(b"a,b\n" + b"\x81\x20\xff\x80" * 100)
    assert_refused(tmp_path, path, UnknownEncoding)


def test_xlsx_zip_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            zeros = b"\0" * (16 * 1024 * 1024)
            for _ in range(4):
                member.write(zeros)
    assert_refused(tmp_path, path, WorkbookBomb)


def test_workbook_with_ten_thousand_columns(tmp_path: Path) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("宽")
    sheet.append([f"c{i}" for i in range(10_000)])
    sheet.append(list(range(10_000)))
    path = tmp_path / "wide.xlsx"
    book.save(path)
    assert_refused(tmp_path, path, TooManyColumns)


def test_csv_with_too_many_columns(tmp_path: Path) -> None:
    text = ",".join(f"c{i}" for i in range(3000)) + "\n" + ",".join("1" * 3000) + "\n"
    assert_refused(tmp_path, write(tmp_path, "wide.csv", text), TooManyColumns)


def test_a_fifty_megabyte_field(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as file:
        file.write("名称,内容\n甲,".encode())
        file.write(b"x" * (50 * 1024 * 1024))
        file.write(b"\n")
    assert_refused(tmp_path, path, FieldTooLarge)


def test_a_large_quoted_field_spanning_lines(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_bytes(b'a,b\n1,"' + b"line\n" * 40_000 + b'"\n')
    assert_refused(tmp_path, path, FieldTooLarge, limits=ReadLimits(max_field_bytes=64 * 1024))


def test_json_nested_ten_thousand_deep(tmp_path: Path) -> None:
    assert_refused(tmp_path, write(tmp_path, "deep.json", "[" * 10_000 + "]" * 10_000), JsonTooDeep)


def test_directory_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    assert_refused(tmp_path, tmp_path / "folder", SourceMissing)
    assert_refused(tmp_path, tmp_path / "nothing.csv", SourceMissing)


def test_existing_output_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        read_to_parquet(write(tmp_path, "a.csv", "a\n1\n"), tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "x"


def test_error_messages_are_bilingual() -> None:
    error = TooManyColumns(10_000, 2_000)
    assert "10000" in error.message and "列" in error.message_zh and error.status == 422
    assert codecs.lookup("gb18030")


# --- typed from the first rows, checked over all of them ------------------------------------


def test_rows_after_the_sample_that_contradict_it_are_typed_over_the_whole_file(tmp_path: Path) -> None:
    rows = [f"{110100 + i % 50},{i % 9}.5,{i % 12 + 1}/3/2022,," for i in range(3000)]
    rows.append("11010,1.125,25/3/2022,x,7")  # another width, more decimals, a day above 12, late values
    text = "区划,金额,日期,,备注\n" + "\n".join(rows) + "\n"
    report, table = read(write(tmp_path, "late.csv", text), tmp_path)
    assert types(report) == {
        "区划": "integer",
        "金额": "decimal",
        "日期": "date",
        "column_4": "string",
        "备注": "integer",
    }
    assert str(table.schema.field("金额").type) == "decimal128(18, 3)" and table["金额"][-1].as_py() == Decimal("1.125")
    assert report.column("日期").note is None and table["日期"][-1].as_py() == dt.date(2022, 3, 25)
    assert report.rows == 3001 and report.dropped_columns == 0 and not report.text_fallbacks


def test_what_the_sample_shows_holds_for_the_whole_file(tmp_path: Path) -> None:
    rows = [f"{110100 + i % 50},{i % 9}.5,{i % 12 + 1}/3/2022,,{i}" for i in range(3000)]
    text = "区划,金额,日期,,备注\n" + "\n".join(rows) + "\n\n,,,,\n"
    report, table = read(write(tmp_path, "same.csv", text), tmp_path)
    assert types(report) == {"区划": "string", "金额": "decimal", "日期": "date", "备注": "integer"}
    assert "6 digits" in (report.column("区划").note or "") and "12 or less" in (report.column("日期").note or "")
    assert (report.rows, report.blank_rows, report.dropped_columns) == (3000, 2, 1)
    assert str(table.schema.field("金额").type) == "decimal128(18, 1)"
