"""Ingestion benchmark: `read_to_parquet` against DuckDB's raw copy and a row-by-row insert, same run.

    python bench/ingest.py [--rows 5000000 | --size-gb 5] [--slice 100000] [--memory-limit 1GB]
                           [--repeat 1] [--phases] [--database-url postgresql://…/helper_c] [--tmp /tmp]

Generates a CSV of N rows x 20 columns (text, codes with leading zeros, credit codes, integers,
decimals, ISO / slash / Chinese dates, day-first timestamps, 是/否, null tokens) in a temp dir
(`--size-gb` picks N so the file is about that many GiB), then measures, each in its own
subprocess so that peak memory is its own:

  (a) DuckDB `read_csv` -> Parquet with auto-detection and no checks (the baseline);
  (b) `read_to_parquet` on the same file (sniffing, encoding check, line accounting,
      whole-file typing, cast verification);
  (c) the DataPusher way on the first `--slice` rows: parse with the csv module and send each
      row to PostgreSQL as its own INSERT into a table of text columns, one commit at the end.
      This is how CKAN's DataPusher filled the datastore (the datastore's `insert_data`
      executes one INSERT per row on CKAN's PostgreSQL). It is still kinder than DataPusher:
      no HTTP/JSON hop to CKAN, no messytables type guessing, no `_id`/`_full_text` columns
      or full-text trigger, prepared statements after the fifth row. The table is dropped after.
  (c') the same loop into an in-process SQLite file: the floor of any row-by-row insert (no
      server, no round trip), printed to show how much of (c) is Python parsing; not the goal's
      baseline, and the reason the old figure (b)/(c') ~ 1x said nothing about DataPusher.

(a) and (b) alternate `--repeat` times; the fastest of each is kept. `--phases` adds one more
process that runs `read_to_parquet` while a thread samples, every 5 ms, which phase the main
thread is in (the innermost known function on its stack: line count, sniffing, typing from the
first rows, the one checked pass, rejects and line accounting, verification, cleanup) and the
process's CPU time and RSS; it prints wall and CPU seconds and peak RSS per phase, next to a
copy of (a) run afterwards in that process. It also times `write_lookups` on the result: the
lookup files are built after a version is committed, in the background, so they are not in (b).
The library is measured as it is: the commit and any uncommitted change to it are printed.

Peak memory is VmHWM from the worker's own /proc/self/status: the high-water RSS of the
process's own address space. ru_maxrss is not used: after fork/exec it can carry the parent's
high water, and for RUSAGE_CHILDREN it is the maximum over all children.

Prints rows/s (wall and CPU seconds) for each, the time ratio (b)/(a) (goal <= 1.5), the speed
ratio (b)/(c) (goal >= 20), peak RSS per process and the load average before and after. The
machine may be shared: CPU-time ratios are steadier than wall-time ones when it is.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import duckdb

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/helper_c"
DATAPUSHER_TABLE = "digigov_bench_datapusher"
GIB = 1024**3
INGESTION = [f"digigov/datastore/{name}.py" for name in ("reader", "staging", "delimited", "textfile", "infer")]
INGESTION += [f"digigov/datastore/{name}.py" for name in ("sniff", "report", "query", "versions")]

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

# Phases of read_to_parquet for a delimited file, by the innermost of these functions on the stack.
PHASES = {
    ("reader", "read_to_parquet"): "other: connect, close DuckDB, rename",
    ("reader", "_stage"): "sniffing: format, encoding, delimiter, header",
    ("delimited", "_stage"): "sniffing: format, encoding, delimiter, header",
    ("textfile", "prepare_text"): "encoding check + line count (Python pass)",
    ("textfile", "transcode"): "encoding check + line count (Python pass)",
    ("textfile", "normalise_newlines"): "encoding check + line count (Python pass)",
    ("reader", "_store"): "type inference: first rows",
    ("reader", "_sample"): "type inference: first rows",
    ("reader", "_checked_copy"): "one pass: read_csv + checked casts -> Parquet",
    ("reader", "_store_exactly"): "exact typing over all rows (sample contradicted)",
    ("reader", "_null_counts"): "verification: null counts, day check",
    ("reader", "_prove_day_first"): "verification: null counts, day check",
    ("delimited", "_rejects"): "rejects + line accounting",
    ("delimited", "_account"): "rejects + line accounting",
    ("reader", "_report"): "other: connect, close DuckDB, rename",
    ("reader", "_output"): "cleanup: remove spill and temp files",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--size-gb", type=float, help="generate about this many GiB instead of --rows rows")
    parser.add_argument("--slice", type=int, default=100_000, help="rows for the row-by-row inserts")
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit for (a) and (b)")
    parser.add_argument("--repeat", type=int, default=1, help="alternate (a) and (b) this many times, keep the best")
    parser.add_argument("--phases", action="store_true", help="also split read_to_parquet's time by phase")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help="PostgreSQL for (c)")
    parser.add_argument("--tmp", type=Path, default=None, help="directory for the generated files")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        work = WORKERS[args.worker]
        print(json.dumps(measure(lambda: work(args))))
        return
    with tempfile.TemporaryDirectory(prefix="digigov-bench-", dir=args.tmp) as folder:
        run(args, Path(folder))


def run(args: argparse.Namespace, base: Path) -> None:
    print(f"code: {code_version()}; load average before: {load()}")
    csv_path = base / "enterprises.csv"
    rows = args.rows if args.size_gb is None else rows_for(base, args.size_gb * GIB)
    made = run_worker("generate", args, csv_path, base, rows=rows)
    size = csv_path.stat().st_size
    print(f"generated {made['rows']:,.0f} rows x 20 columns, {size / GIB:.2f} GiB ({size:,} bytes)", end="")
    print(f" in {made['seconds']:.0f} s, peak RSS {made['peak_mb']:,.0f} MB")
    raws, ours = [], []
    for attempt in range(args.repeat):
        raws.append(run_worker("raw", args, csv_path, base / f"raw{attempt}"))
        ours.append(run_worker("reader", args, csv_path, base / f"reader{attempt}"))
    datapusher = run_worker("datapusher", args, csv_path, base / "datapusher", rows=args.slice)
    floor = run_worker("sqlite", args, csv_path, base / "sqlite", rows=args.slice)
    report(best(raws), best(ours), datapusher, floor)
    if args.phases:
        report_phases(run_worker("phases", args, csv_path, base / "phases"), best(ours))
    print(f"load average after: {load()}")


def rows_for(base: Path, size: float) -> int:
    """Rows that make a file of about `size` bytes, from the width of a 100,000-row sample."""
    sample = base / "sample.csv"
    duckdb.connect().execute(GENERATE.format(rows=100_000, path=sample))
    width = sample.stat().st_size / 100_000
    sample.unlink()
    return int(size / width)


def run_worker(
    kind: str, args: argparse.Namespace, csv_path: Path, out: Path, rows: int | None = None
) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; it reports seconds, rows and its own peak RSS."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, __file__, "--worker", kind, "--csv", str(csv_path), "--out", str(out)]
    command += ["--rows", str(args.rows if rows is None else rows), "--memory-limit", args.memory_limit]
    command += ["--database-url", args.database_url]
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    finally:
        if out != csv_path.parent:
            shutil.rmtree(out, ignore_errors=True)  # the outputs of a 5 GB run add up
    if done.returncode:
        sys.exit(f"worker {kind} failed with exit code {done.returncode}:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Wall and CPU seconds of `work`, what it returns, and this process's peak RSS."""
    start, cpu = time.perf_counter(), cpu_seconds()
    result = work()
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {"seconds": seconds, "cpu": cpu, "peak_mb": peak_rss_mb(), **result}


def cpu_seconds() -> float:
    """User and system CPU time of this process so far, all threads (DuckDB's too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """VmHWM of this process: its own high-water RSS since exec (ru_maxrss where there is no /proc)."""
    return rss_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM its peak), 0 if unknown."""
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.exists() else ():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def generate(args: argparse.Namespace) -> dict[str, Any]:
    duckdb.connect(config={"memory_limit": args.memory_limit}).execute(GENERATE.format(rows=args.rows, path=args.csv))
    return {"rows": args.rows}


def raw_copy(args: argparse.Namespace) -> dict[str, Any]:
    con = duckdb.connect(config={"memory_limit": args.memory_limit})
    row = con.execute(f"COPY (SELECT * FROM read_csv('{args.csv}')) TO '{args.out / 'raw.parquet'}'").fetchone()
    return {"rows": row[0] if row else 0}


def reader(args: argparse.Namespace) -> dict[str, Any]:
    from digigov.datastore.reader import read_to_parquet
    from digigov.datastore.report import ReadLimits

    report = read_to_parquet(args.csv, args.out / "version", limits=ReadLimits(memory_limit=args.memory_limit))
    types = {column.type for column in report.columns}
    assert report.rejected == 0 and {"integer", "decimal", "date", "timestamp", "boolean"} <= types, report
    return {"rows": report.rows}


def datapusher(args: argparse.Namespace) -> dict[str, Any]:
    """CKAN DataPusher's way: csv module, one INSERT per row into PostgreSQL text columns, commit at the end."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(args.database_url) as connection, args.csv.open(encoding="utf-8", newline="") as file:
        rows = csv.reader(file)
        header = next(rows)
        table = sql.Identifier(DATAPUSHER_TABLE)
        columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(name)) for name in header)
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        connection.execute(sql.SQL("CREATE TABLE {} ({})").format(table, columns))
        connection.commit()
        insert = sql.SQL("INSERT INTO {} VALUES ({})").format(
            table, sql.SQL(", ").join(sql.Placeholder() * len(header))
        )
        with connection.cursor() as cursor:
            for row in itertools.islice(rows, args.rows):
                cursor.execute(insert, row)
        connection.commit()
        stored = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
        connection.execute(sql.SQL("DROP TABLE {}").format(table))
    return {"rows": stored[0] if stored else 0}


def sqlite_rows(args: argparse.Namespace) -> dict[str, Any]:
    """The same loop into an in-process SQLite file: row-by-row with no server and no round trip."""
    connection = sqlite3.connect(args.out / "datapusher.sqlite")
    with args.csv.open(encoding="utf-8", newline="") as file:
        rows = csv.reader(file)
        header = next(rows)
        columns = ", ".join('"' + name.replace('"', '""') + '" TEXT' for name in header)
        connection.execute(f"CREATE TABLE data ({columns})")
        insert = f"INSERT INTO data VALUES ({', '.join('?' for _ in header)})"
        for row in itertools.islice(rows, args.rows):
            connection.execute(insert, row)
    connection.commit()
    (stored,) = connection.execute("SELECT count(*) FROM data").fetchone()
    connection.close()
    return {"rows": stored}


def phases(args: argparse.Namespace) -> dict[str, Any]:
    """read_to_parquet with a sampler thread: seconds and peak RSS per phase; then (a) again here for scale."""
    from digigov.datastore.reader import read_to_parquet, write_lookups
    from digigov.datastore.report import ReadLimits

    sampler = PhaseSampler(threading.get_ident())
    sampler.start()
    start = time.perf_counter()
    report = read_to_parquet(args.csv, args.out / "version", limits=ReadLimits(memory_limit=args.memory_limit))
    total = time.perf_counter() - start
    sampler.stop()
    start, cpu = time.perf_counter(), cpu_seconds()
    lookups = len(write_lookups(args.out / "version", ReadLimits(memory_limit=args.memory_limit)))
    lookup_s, lookup_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    start, cpu = time.perf_counter(), cpu_seconds()
    raw_copy(args)
    raw_here, raw_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {
        "rows": report.rows,
        "total": total,
        "phases": sampler.phases,
        "raw_here": raw_here,
        "raw_cpu": raw_cpu,
        "lookups": [lookups, lookup_s, lookup_cpu],
    }


class PhaseSampler(threading.Thread):
    """Every few milliseconds, which phase the main thread is in, and the process's CPU time and RSS.

    DuckDB releases the GIL while it works, so the samples keep coming during long queries.
    Each interval is charged to the phase seen at its end: at most one interval off per phase.
    """

    def __init__(self, main: int, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.main, self.interval = main, interval
        self.phases: dict[str, dict[str, float]] = {}
        self.done = threading.Event()

    def run(self) -> None:
        last, last_cpu = time.perf_counter(), cpu_seconds()
        while not self.done.wait(self.interval):
            now, cpu = time.perf_counter(), cpu_seconds()
            phase = self.phase(sys._current_frames().get(self.main))
            if phase is not None:
                seen = self.phases.setdefault(phase, {"seconds": 0.0, "cpu": 0.0, "peak_mb": 0.0})
                seen["seconds"] += now - last
                seen["cpu"] += cpu - last_cpu
                seen["peak_mb"] = max(seen["peak_mb"], rss_mb("VmRSS"))
            last, last_cpu = now, cpu

    def stop(self) -> None:
        self.done.set()
        self.join()

    @staticmethod
    def phase(frame: FrameType | None) -> str | None:
        while frame is not None:
            phase = PHASES.get((Path(frame.f_code.co_filename).stem, frame.f_code.co_name))
            if phase is not None:
                return phase
            frame = frame.f_back
        return None


WORKERS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "generate": generate,
    "raw": raw_copy,
    "reader": reader,
    "datapusher": datapusher,
    "sqlite": sqlite_rows,
    "phases": phases,
}


def best(results: list[dict[str, Any]]) -> dict[str, Any]:
    return min(results, key=lambda result: float(result["seconds"]))


def code_version() -> str:
    """The commit measured, and whether the datastore has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    git = ["git", "-C", str(root)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    status = subprocess.run([*git, "status", "--porcelain", *INGESTION], capture_output=True, text=True).stdout
    changed = [line[3:] for line in status.splitlines()]
    return f"{commit or 'unknown'}" + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def report(raw: dict[str, Any], ours: dict[str, Any], datapusher: dict[str, Any], floor: dict[str, Any]) -> None:
    for label, result in (
        ("(a) DuckDB read_csv -> Parquet, no checks", raw),
        ("(b) read_to_parquet", ours),
        ("(c) DataPusher: csv + INSERT per row, PostgreSQL", datapusher),
        ("(c') same loop into in-process SQLite", floor),
    ):
        print(
            f"{label:50} {result['rows']:>12,.0f} rows {result['seconds']:8.2f} s"
            f" {result['rows'] / result['seconds']:>10,.0f} rows/s  cpu {result['cpu']:8.2f} s"
            f" {result['rows'] / result['cpu']:>10,.0f} rows/cpu-s  peak RSS {result['peak_mb']:,.0f} MB"
        )
    print("(cpu of (c) is the Python client's only: the PostgreSQL server's is not in it)")
    wall, cpu = ours["seconds"] / raw["seconds"], ours["cpu"] / raw["cpu"]
    print(f"time (b)/(a): {wall:.2f}x wall, {cpu:.2f}x cpu (goal <= 1.5x)")
    for name, baseline in (("(c)", datapusher), ("(c')", floor)):  # (c)'s cpu leaves out the PostgreSQL server's
        print(f"speed (b)/{name}: {speed(ours, baseline):.1f}x wall (goal >= 20x against (c))")


def speed(ours: dict[str, Any], baseline: dict[str, Any]) -> float:
    return float((ours["rows"] / ours["seconds"]) / (baseline["rows"] / baseline["seconds"]))


def report_phases(result: dict[str, Any], ours: dict[str, Any]) -> None:
    total, raw_here = float(result["total"]), float(result["raw_here"])
    print(f"phases of read_to_parquet, sampled: {total:.2f} s (unsampled (b) {ours['seconds']:.2f} s)")
    split: dict[str, dict[str, float]] = result["phases"]
    for label, phase in sorted(split.items(), key=lambda item: -item[1]["seconds"]):
        seconds, cpu = phase["seconds"], phase["cpu"]
        print(
            f"  {label:47} {seconds:8.2f} s {seconds / total:6.1%} {seconds / raw_here:5.2f}x (a)"
            f"  cpu {cpu:7.2f} s {cpu / result['raw_cpu']:5.2f}x (a)  peak RSS {phase['peak_mb']:,.0f} MB"
        )
    files, seconds, cpu = result["lookups"]
    print(
        f"  after it, not part of it: write_lookups ({files} files, built after commit in the background)"
        f" {seconds:8.2f} s {seconds / raw_here:5.2f}x (a)  cpu {cpu:7.2f} s {cpu / result['raw_cpu']:5.2f}x (a)"
    )
    print(
        f"  (a) in the same process after it: {raw_here:.2f} s, cpu {result['raw_cpu']:.2f} s;"
        f" process peak RSS {result['peak_mb']:,.0f} MB"
    )


if __name__ == "__main__":
    main()
