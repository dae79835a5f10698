"""Ingestion benchmark: `read_to_parquet` against DuckDB's raw copy and a row-by-row insert, same run.

    python bench/ingest.py [--rows 1000000] [--slice 100000] [--memory-limit 1GB]

Generates a CSV of N rows x 20 columns (text, codes with leading zeros, credit codes, integers,
decimals, ISO / slash / Chinese dates, day-first timestamps, 是/否, null tokens) in a temp dir,
then measures, each in its own subprocess so peak memory is its own:

  (a) DuckDB `read_csv` -> Parquet with auto-detection and no checks (the baseline);
  (b) `read_to_parquet` on the same file (sniffing, encoding check, line accounting,
      whole-file typing, cast verification);
  (c) the DataPusher way on the first `--slice` rows: parse with the csv module and insert each
      row into SQLite with its own `executemany` call.

Prints rows/s for each, the time ratio (b)/(a) (goal <= 1.5), the speed ratio (b)/(c)
(goal >= 20) and peak RSS. Ratios, not bare times, are what compare across machines.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

GENERATE = """
COPY (
    SELECT
        i + 1 AS 序号,
        '北京' || (['朝阳', '海淀', '丰台', '通州'])[i % 4 + 1] || '某某科技有限公司' || i AS 企业名称,
        '91110108MA' || lpad((i % 100000000)::VARCHAR, 8, '0') AS 统一社会信用代码,
        lpad((i % 1000)::VARCHAR, 6, '0') AS 行业代码,
        (i * 37) % 100000 AS 职工人数,
        round(((i * 7919) % 1000000) / 100.0, 2) AS 注册资本,
        strftime(DATE '2000-01-01' + (i % 9000)::INT, '%Y-%m-%d') AS 成立日期,
        strftime(DATE '2010-01-01' + (i % 5000)::INT, '%Y/%-m/%-d') AS 核准日期,
        strftime(DATE '2015-01-01' + (i % 3000)::INT, '%Y年%-m月%-d日') AS 检查日期,
        strftime(TIMESTAMP '2023-01-01' + INTERVAL (i * 61) SECOND, '%-d/%-m/%Y %-H:%M:%S') AS 更新时间,
        CASE WHEN i % 3 = 0 THEN '是' ELSE '否' END AS 是否有效,
        CASE WHEN i % 10 = 0 THEN '/' ELSE ((i * 13) % 5000)::VARCHAR END AS 纳税额,
        (['合格', '不合格', '待查'])[i % 3 + 1] AS 检查结果,
        '北京市' || (['东城区', '西城区', '朝阳区'])[i % 3 + 1] || '某某路' || (i % 300) || '号' AS 地址,
        '1' || lpad(((i * 7) % 10000000000)::VARCHAR, 10, '0') AS 联系电话,
        (2000 + i % 25) AS 年度,
        round((i % 1000) / 7.0, 3) AS 比率,
        CASE WHEN i % 50 = 0 THEN NULL ELSE '备注' || (i % 97) END AS 备注,
        md5(i::VARCHAR) AS 主键,
        lpad((110000 + i % 100)::VARCHAR, 6, '0') AS 区划代码
    FROM range({rows}) AS t(i)
) TO '{path}' (HEADER, DELIMITER ',')
"""


def generate(path: Path, rows: int) -> None:
    duckdb.connect().execute(GENERATE.format(rows=rows, path=path))


def run_worker(kind: str, csv_path: Path, out: Path, rows: int, memory_limit: str) -> dict[str, float]:
    """Run one measurement in a fresh interpreter; it reports seconds, rows and its own peak RSS."""
    command = [sys.executable, __file__, "--worker", kind, "--csv", str(csv_path), "--out", str(out)]
    command += ["--rows", str(rows), "--memory-limit", memory_limit]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def worker(kind: str, csv_path: Path, out: Path, rows: int, memory_limit: str) -> None:
    start = time.perf_counter()
    if kind == "raw":
        con = duckdb.connect(config={"memory_limit": memory_limit})
        (stored,) = con.execute(f"COPY (SELECT * FROM read_csv('{csv_path}')) TO '{out / 'raw.parquet'}'").fetchone()
    elif kind == "reader":
        from digigov.datastore.reader import read_to_parquet
        from digigov.datastore.report import ReadLimits

        report = read_to_parquet(csv_path, out / "version", limits=ReadLimits(memory_limit=memory_limit))
        stored = report.rows
        types = {column.type for column in report.columns}
        assert report.rejected == 0 and {"integer", "decimal", "date", "timestamp", "boolean"} <= types, report
    else:
        stored = row_by_row(csv_path, out / "datapusher.sqlite", rows)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": stored, "peak_mb": peak_mb}))


def row_by_row(csv_path: Path, database: Path, limit: int) -> int:
    """CKAN DataPusher's way: parse, then one insert call per row."""
    connection = sqlite3.connect(database)
    with csv_path.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        header = next(reader)
        columns = ", ".join(f'"{name}" TEXT' for name in header)
        connection.execute(f"CREATE TABLE data ({columns})")
        insert = f"INSERT INTO data VALUES ({', '.join('?' for _ in header)})"
        stored = 0
        for row in reader:
            if stored == limit:
                break
            connection.executemany(insert, [row])
            stored += 1
    connection.commit()
    connection.close()
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--slice", type=int, default=100_000, help="rows for the row-by-row insert")
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit for (a) and (b)")
    parser.add_argument("--worker", choices=["raw", "reader", "rowwise"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.csv, args.out, args.rows, args.memory_limit)
        return
    with tempfile.TemporaryDirectory(prefix="digigov-bench-") as folder:
        base = Path(folder)
        csv_path = base / "enterprises.csv"
        generate(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1024 / 1024
        print(f"generated {args.rows:,} rows x 20 columns, {size_mb:,.0f} MB")
        raw = run_worker("raw", csv_path, base, args.rows, args.memory_limit)
        ours = run_worker("reader", csv_path, base, args.rows, args.memory_limit)
        rowwise = run_worker("rowwise", csv_path, base, args.slice, args.memory_limit)
        report(raw, ours, rowwise)


def report(raw: dict[str, float], ours: dict[str, float], rowwise: dict[str, float]) -> None:
    for label, result in (
        ("(a) DuckDB read_csv -> Parquet, no checks", raw),
        ("(b) read_to_parquet", ours),
        ("(c) row-by-row SQLite insert", rowwise),
    ):
        rate = result["rows"] / result["seconds"]
        print(
            f"{label:44} {result['rows']:>10,.0f} rows {result['seconds']:7.2f} s {rate:>12,.0f} rows/s"
            f"  peak RSS {result['peak_mb']:,.0f} MB"
        )
    ratio = ours["seconds"] / raw["seconds"]
    speedup = (ours["rows"] / ours["seconds"]) / (rowwise["rows"] / rowwise["seconds"])
    print(f"time (b)/(a): {ratio:.2f}x  (goal <= 1.5x)")
    print(f"speed (b)/(c): {speedup:.1f}x  (goal >= 20x)")


if __name__ == "__main__":
    main()
