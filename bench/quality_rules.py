"""Ten quality rules over a 10 M-row synthetic version, against Great Expectations and a Python loop, same run.

    python bench/quality_rules.py [--rows 10000000] [--ge-rows 1000000] [--slice 200000] [--seed 1]

Generates a Parquet version in DuckDB (resident ID numbers with about 5 % wrong check characters,
credit codes with about 5 % wrong, GB/T 2260 region codes with 1 % unknown, a sex code, a composite
key (登记编号, 年度) with repeats, amounts, dates, mobile numbers, names with some NULLs) and runs
10 rules through `digigov.governance.evaluate.evaluate`, the function the service calls on every
version. Baselines in the same run:

- Great Expectations 1.x (pandas) with the equivalent expectations, on the first `--ge-rows` rows
  (a pandas frame of all 10 M rows of nine text columns does not fit this shared machine's memory
  with room to spare); the engine runs on the same slice too, and per-row throughput is compared.
  GX has no check-digit expectation, so it runs twice:
  - "same checks": the two check-digit rules as custom ColumnMapExpectations the way GX documents
    them and its contrib expectations (IMEI, IBAN, ... via python-stdnum) are written: a pandas
    condition that calls a validator per value, here the validators of `digigov.core.codes`, whose
    verdicts are the engine's;
  - "regex stand-ins": the two rules as format-only regexes, less work than the real check, so
    that ratio flatters GX; the engine also runs those stand-ins on the slice for a like-for-like figure.
- A plain-Python loop doing the real checks (core.codes, python-stdnum, sets, re) over `--slice` rows.

Needs the `bench` extra: `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from check_digits import parses  # bench/ is on the path when this file runs

from digigov.core.codes import InvalidCode, division_spans, parse_resident_id, parse_uscc
from digigov.governance.evaluate import Outcome, evaluate
from digigov.governance.rules import CheckDigit, Pattern, Rule, RuleSet
from digigov.governance.validators import RIC_CHECK, RIC_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS

RULES = RuleSet.model_validate(
    {
        "rules": [
            {"check": "not_null", "field": "名称"},
            {"check": "check_digit", "field": "身份证号", "validator": "resident_id"},
            {"check": "check_digit", "field": "统一社会信用代码", "validator": "uscc"},
            {"check": "not_blank", "field": "统一社会信用代码"},
            {"check": "code_table", "field": "行政区划", "table": "gb2260_division"},
            {"check": "code_table", "field": "性别", "table": "gb2261_sex"},
            {"check": "unique", "fields": ["登记编号", "年度"]},
            {"check": "range", "field": "金额", "min": 0, "max": 10_000_000},
            {"check": "date_bounds", "field": "登记日期", "not_before": "2000-01-01", "not_in_future": True},
            {"check": "pattern", "field": "手机", "regex": "1[3-9][0-9]{9}"},
        ]
    }
).rules
TYPES = {"名称": "string", "身份证号": "string", "统一社会信用代码": "string", "行政区划": "string"}
TYPES |= {"性别": "string", "登记编号": "integer", "年度": "integer", "金额": "decimal", "登记日期": "date"}
TYPES |= {"手机": "string"}
ID_REGEX = r"^[0-9]{17}[0-9X]$"
USCC_REGEX = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"


def _hash(salt: int, modulo: int) -> str:
    return f"CAST(hash(i * 7919 + {salt}) % {modulo} AS BIGINT)"


def generate(path: Path, rows: int, seed: int) -> None:
    """Write the synthetic version with DuckDB, set-wise (a few seconds per 10 M rows)."""
    codes = [code for code, last in division_spans() if last is None and not code.endswith("00")][:400]
    con = duckdb.connect()
    regions = "[" + ", ".join(f"'{code}'" for code in codes) + "]"
    digit = "(ascii(substr(body, {p}, 1)) - 48)"
    ric_sum = " + ".join(f"{w} * {digit.format(p=k + 1)}" for k, w in enumerate(RIC_WEIGHTS))
    idx = "(instr('{a}', substr(ubody, {p}, 1)) - 1)"
    uscc_sum = " + ".join(f"{w} * {idx.format(a=USCC_ALPHABET, p=k + 1)}" for k, w in enumerate(USCC_WEIGHTS))
    s = seed * 1_000_003
    con.execute(
        f"""
        COPY (
        WITH base AS (
          SELECT i,
            {regions}[{_hash(s + 1, len(codes))} + 1] AS region,
            DATE '1950-01-01' + CAST({_hash(s + 2, 20000)} AS INTEGER) AS born,
            '9133' || lpad(CAST({_hash(s + 3, 10000)} AS VARCHAR), 4, '0')
              || lpad(CAST({_hash(s + 4, 1000000000)} AS VARCHAR), 9, '0') AS ubody
          FROM range({rows}) t(i)
        ), bodies AS (
          SELECT *, region || strftime(born, '%Y%m%d') || lpad(CAST(i % 1000 AS VARCHAR), 3, '0') AS body FROM base
        ), coded AS (
          SELECT *, substr('{RIC_CHECK}', ({ric_sum}) % 11 + 1, 1) AS ric_check,
                 substr('{USCC_ALPHABET}', (31 - ({uscc_sum}) % 31) % 31 + 1, 1) AS uscc_check
          FROM bodies
        )
        SELECT
          CASE WHEN {_hash(s + 5, 100)} = 0 THEN NULL ELSE '企业' || CAST(i AS VARCHAR) END AS 名称,
          body || CASE WHEN {_hash(s + 6, 20)} = 0
            THEN substr('{RIC_CHECK}', (instr('{RIC_CHECK}', ric_check) % 11) + 1, 1) ELSE ric_check END AS 身份证号,
          CASE WHEN {_hash(s + 7, 200)} = 0 THEN ' ' ELSE ubody || CASE WHEN {_hash(s + 8, 20)} = 0
            THEN substr('{USCC_ALPHABET}', (instr('{USCC_ALPHABET}', uscc_check) % 31) + 1, 1) ELSE uscc_check END
          END AS 统一社会信用代码,
          CASE WHEN {_hash(s + 9, 100)} = 0 THEN '999999' ELSE region END AS 行政区划,
          CASE WHEN {_hash(s + 10, 200)} = 0 THEN '3' ELSE CAST(1 + i % 2 AS VARCHAR) END AS 性别,
          CASE WHEN i % 5000 = 1 THEN i - 1 ELSE i END AS 登记编号,
          2024 AS 年度,
          CAST(({_hash(s + 11, 100000000)} - 100000) / 10.0 AS DECIMAL(12, 2)) AS 金额,
          DATE '2000-01-01' + CAST({_hash(s + 12, 9400)} AS INTEGER) AS 登记日期,
          '1' || CAST(3 + {_hash(s + 13, 7)} AS VARCHAR) || lpad(CAST({_hash(s + 14, 1000000000)} AS VARCHAR), 9, '0')
            || CASE WHEN {_hash(s + 15, 100)} = 0 THEN '0' ELSE '' END AS 手机
        FROM coded ORDER BY i
        ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)
        """
    )


STAND_INS = [
    Pattern(
        check="pattern",
        field=r.target_fields()[0],
        regex=ID_REGEX.strip("^$") if "身份" in r.rule_name() else USCC_REGEX.strip("^$"),
    )
    if isinstance(r, CheckDigit)
    else r
    for r in RULES
]


def run_engine(path: Path, rules: list[Rule] | None = None) -> tuple[float, list[Outcome]]:
    wall = time.perf_counter()
    outcomes = evaluate(path, TYPES, list(RULES) if rules is None else rules)
    return time.perf_counter() - wall, outcomes


def check_digit_expectations() -> tuple[type, type]:
    """GX custom expectations for the two check-digit rules, in GX's documented ColumnMapExpectation form."""
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

    class ColumnValuesValidResidentId(ColumnMapMetricProvider):
        condition_metric_name = "column_values.valid_resident_id"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: Any, **kwargs: Any) -> Any:
            return column.map(parses(parse_resident_id))

    class ColumnValuesValidUscc(ColumnMapMetricProvider):
        condition_metric_name = "column_values.valid_uscc"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: Any, **kwargs: Any) -> Any:
            return column.map(parses(parse_uscc))

    class ExpectColumnValuesToBeValidResidentId(ColumnMapExpectation):
        map_metric = "column_values.valid_resident_id"
        success_keys = ("mostly",)

    class ExpectColumnValuesToBeValidUscc(ColumnMapExpectation):
        map_metric = "column_values.valid_uscc"
        success_keys = ("mostly",)

    return ExpectColumnValuesToBeValidResidentId, ExpectColumnValuesToBeValidUscc


def run_ge(frame: Any, *, same_checks: bool) -> tuple[float, dict[str, int]]:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    if same_checks:
        resident_id, credit_code = check_digit_expectations()
        id_rule, uscc_rule = resident_id(column="身份证号"), credit_code(column="统一社会信用代码")
    else:  # stand-ins: format only
        id_rule = gxe.ExpectColumnValuesToMatchRegex(column="身份证号", regex=ID_REGEX)
        uscc_rule = gxe.ExpectColumnValuesToMatchRegex(column="统一社会信用代码", regex=USCC_REGEX)

    regions = sorted({code for code, _ in division_spans()})
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas(f"bench-{same_checks}")
        .add_dataframe_asset("version")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = context.suites.add(gx.ExpectationSuite(name="ten"))
    for expectation in (
        gxe.ExpectColumnValuesToNotBeNull(column="名称"),
        id_rule,
        uscc_rule,
        gxe.ExpectColumnValuesToNotMatchRegex(column="统一社会信用代码", regex=r"^\s*$"),
        gxe.ExpectColumnValuesToBeInSet(column="行政区划", value_set=regions),
        gxe.ExpectColumnValuesToBeInSet(column="性别", value_set=["0", "1", "2", "9"]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["登记编号", "年度"]),
        gxe.ExpectColumnValuesToBeBetween(column="金额", min_value=0, max_value=10_000_000),
        gxe.ExpectColumnValuesToBeBetween(
            column="登记日期", min_value="2000-01-01", max_value=date.today().isoformat()
        ),
        gxe.ExpectColumnValuesToMatchRegex(column="手机", regex=r"^1[3-9][0-9]{9}$"),
    ):
        suite.add_expectation(expectation)
    wall = time.perf_counter()
    result = batch.validate(suite)
    seconds = time.perf_counter() - wall
    failed = {
        r.expectation_config.type + ":" + str(r.expectation_config.kwargs.get("column", "")): int(
            r.result.get("unexpected_count") or 0
        )
        for r in result.results
    }
    return seconds, failed


def run_python(rows: list[tuple[Any, ...]]) -> tuple[float, list[int]]:
    from stdnum.cn import uscc

    known = {code for code, _ in division_spans()}
    mobile = re.compile(r"1[3-9][0-9]{9}")
    today = date.today()
    failed = [0] * 10
    seen: set[tuple[Any, Any]] = set()
    wall = time.perf_counter()
    for name, rid, code, region, sex, number, year, amount, day, phone in rows:
        failed[0] += name is None
        try:
            parse_resident_id(rid)
        except InvalidCode:
            failed[1] += 1
        blank = code is None or not code.strip()
        failed[2] += not blank and not uscc.is_valid(code)
        failed[3] += blank
        failed[4] += region not in known
        failed[5] += sex not in {"0", "1", "2", "9"}
        failed[6] += (number, year) in seen
        seen.add((number, year))
        failed[7] += not 0 <= amount <= 10_000_000
        failed[8] += not date(2000, 1, 1) <= day <= today
        failed[9] += mobile.fullmatch(phone) is None
    return time.perf_counter() - wall, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--ge-rows", type=int, default=1_000_000)
    parser.add_argument("--slice", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as folder:
        full, part = Path(folder) / "full.parquet", Path(folder) / "part.parquet"
        wall = time.perf_counter()
        generate(full, args.rows, args.seed)
        print(
            f"generated {args.rows:,} rows in {time.perf_counter() - wall:.1f} s ({full.stat().st_size / 1e6:.0f} MB)"
        )
        duckdb.execute(f"COPY (SELECT * FROM '{full}' LIMIT {args.ge_rows}) TO '{part}' (FORMAT parquet)")

        seconds, outcomes = run_engine(full)
        print(f"\nengine, {args.rows:,} rows, 10 rules: {seconds:.2f} s ({args.rows / seconds / 1e6:.2f} M rows/s)")
        for o in outcomes:
            print(f"  {o.rule:40s} failed {o.failed_rows:>9,} of {o.checked_rows:>10,}  {o.error or ''}")
        engine_rate = args.rows / seconds

        part_seconds, _ = run_engine(part)
        print(f"engine, {args.ge_rows:,} rows (the GX slice): {part_seconds:.2f} s")
        same_seconds, _ = run_engine(part, STAND_INS)
        print(
            f"engine, {args.ge_rows:,} rows, GX's work (check digits as the same regex stand-ins): {same_seconds:.2f} s"
        )

        import pandas as pd

        frame = pd.read_parquet(part)
        frame["金额"] = frame["金额"].astype(float)
        frame["登记日期"] = frame["登记日期"].astype(str)
        runs = {}
        for same_checks, label in (
            (True, "the same checks (custom check-digit expectations)"),
            (False, "check digits as regex stand-ins"),
        ):
            ge_seconds, ge_failed = run_ge(frame, same_checks=same_checks)
            runs[same_checks] = ge_seconds
            print(f"\nGreat Expectations (pandas), {args.ge_rows:,} rows, 10 expectations, {label}: {ge_seconds:.2f} s")
            for name, count in ge_failed.items():
                print(f"  {name:60s} unexpected {count:>9,}")
        del frame

        sample = duckdb.execute(f"SELECT * FROM '{full}' LIMIT {args.slice}").fetchall()
        py_seconds, py_failed = run_python(sample)
        print(f"\nPython loop, {args.slice:,} rows, the 10 checks: {py_seconds:.2f} s; failed {py_failed}")

    same, stand_in = runs[True], runs[False]
    ge_rate, py_rate = args.ge_rows / same, args.slice / py_seconds
    slice_rate = args.ge_rows / part_seconds
    print(
        f"\nrows/s: engine {engine_rate / 1e6:.3f} M ({args.rows:,} rows), engine {slice_rate / 1e6:.3f} M (GX slice)"
    )
    print(f"rows/s: GX same checks {ge_rate / 1e6:.3f} M, GX stand-ins {args.ge_rows / stand_in / 1e6:.3f} M")
    print(f"rows/s: Python loop {py_rate / 1e6:.3f} M")
    print(f"ratio engine / GX, same checks, same {args.ge_rows:,} rows: {same / part_seconds:.1f}x   (goal >= 10x)")
    print(f"ratio engine ({args.rows:,} rows) / GX same checks per row: {engine_rate / ge_rate:.1f}x")
    print(f"ratio engine (real checks) / GX (regex stand-ins), same rows: {stand_in / part_seconds:.1f}x")
    print(f"ratio engine / GX, both with the regex stand-ins, same rows: {stand_in / same_seconds:.1f}x")
    print(f"ratio engine ({args.rows:,} rows) / Python loop per row: {engine_rate / py_rate:.1f}x")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
