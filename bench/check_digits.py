"""Check-digit validation in the engine: values per second against a Python loop, same run.

    python bench/check_digits.py [--values 5000000] [--slice 200000] [--seed 1] [--threads N]

Generates resident ID numbers (about 70 % valid; the rest with a wrong check character, an
impossible birth date or an unknown division), unified social credit codes and bank card numbers,
stores them in a DuckDB table, and times each `digigov.governance` validator over the whole table
(best of 3, wall and CPU): the expression counting over compacted values, `count_valid` over the
raw column, and `validity_query` written to a table in row order; against a Python loop over a
slice in the same run (`core.codes` parsers, a Luhn loop). Issue 5's goal: at least 5 M ID
numbers per second. `--threads` sets DuckDB's threads (default: the cores).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

import duckdb
import pyarrow as pa
from stdnum.cn import uscc

from digigov.core.codes import InvalidCode, parse_resident_id, parse_uscc
from digigov.governance import (
    compact,
    count_valid,
    load_check_tables,
    luhn_valid,
    resident_id_valid,
    uscc_valid,
    validity_query,
)
from digigov.governance.validators import Kind

WEIGHTS, CHECKS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), "10X98765432"
REGIONS = ["330106", "330102", "330113", "330205", "330302", "110101", "440113", "320102", "510104", "990426"]


def resident_ids(n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 80 * 365))
        body = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        check = CHECKS[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]
        if rng.random() < 0.1:
            check = CHECKS[(CHECKS.index(check) + 1) % 11]
        out.append(body + check)
    return out


def credit_codes(n: int, rng: random.Random) -> list[str]:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    out = []
    for _ in range(n):
        body = (
            "9133"
            + "".join(rng.choice("0123456789") for _ in range(4))
            + "".join(rng.choice(alphabet) for _ in range(9))
        )
        out.append(body + (uscc.calc_check_digit(body + "0") if rng.random() < 0.9 else rng.choice(alphabet)))
    return out


def cards(n: int, rng: random.Random) -> list[str]:
    return ["".join(rng.choice("0123456789") for _ in range(rng.choice((16, 19)))) for _ in range(n)]


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def valid_count(con: duckdb.DuckDBPyConnection, kind: Kind, table: str) -> int:
    return count_valid(con, kind, table, "raw")[1]


def timed(run: Callable[[], int]) -> tuple[float, float, int]:
    """Best of 3 wall and CPU seconds, and what the run counted."""
    best = (float("inf"), float("inf"), 0)
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        valid = run()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu, valid))
    return best


def luhn(number: str) -> bool:
    total = 0
    for k, c in enumerate(reversed(number), 1):
        d = int(c) * (2 if k % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return 13 <= len(number) <= 19 and number.isascii() and number.isdigit() and total % 10 == 0


def parses(parse: Callable[[str], object]) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            parse(value)
        except InvalidCode:
            return False
        return True

    return check


def python_loop(values: list[str], check: Callable[[str], bool]) -> tuple[float, int]:
    wall = time.perf_counter()
    valid = sum(check(value) for value in values)
    return time.perf_counter() - wall, valid


KINDS: tuple[tuple[Kind, str, str, Callable[[str], str], Callable[[str], bool], str], ...] = (
    (
        "resident_id",
        "resident ID (GB 11643 + date + division)",
        "ids",
        resident_id_valid,
        parses(parse_resident_id),
        "core.codes.parse_resident_id",
    ),
    ("uscc", "credit code (GB 32100)", "codes", uscc_valid, parses(parse_uscc), "core.codes.parse_uscc"),
    ("bank_card", "bank card (Luhn)", "cards", luhn_valid, luhn, "a Luhn loop"),
)


def load(con: duckdb.DuckDBPyConnection, n: int, rng: random.Random) -> None:
    distinct = min(n, 250_000)
    repeat = -(-n // distinct)
    for name, values in (
        ("ids", resident_ids(distinct, rng)),
        ("codes", credit_codes(distinct, rng)),
        ("cards", cards(distinct, rng)),
    ):
        con.register("incoming", pa.table({"raw": values}))
        con.execute(f"CREATE TABLE {name}_distinct AS SELECT raw FROM incoming")
        con.unregister("incoming")
        # the expression wants compacted values; the query reads the raw column and compacts itself
        con.execute(
            f"CREATE TABLE {name} AS SELECT raw, {compact('raw')} AS v FROM {name}_distinct, range({repeat}) LIMIT {n}"
        )
    print(f"{n:,} values of each kind ({distinct:,} distinct, repeated)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=5_000_000)
    parser.add_argument("--slice", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    print(f"DuckDB {duckdb.__version__}, threads = {args.threads}")
    load_check_tables(con)
    load(con, args.values, random.Random(args.seed))
    n = args.values
    print(f"{'validator':42s} {'how':28s} {'M values/s':>10s} {'M/CPU-s':>8s} {'valid':>6s} {'x Python':>9s}")
    ids_rate = 0.0
    for kind, label, table, expression, check, loop in KINDS:
        sample = [r[0] for r in con.execute(f"SELECT raw FROM {table}_distinct LIMIT {args.slice}").fetchall()]
        wall, valid = python_loop(sample, check)
        base = len(sample) / wall
        print(f"{label:42s} {'Python loop: ' + loop:28.28s} {base / 1e6:10.3f} {'':8s} {valid / len(sample):6.1%}")
        expression_sql = f"SELECT count(*) FILTER (WHERE {expression('v')}) FROM {table}"
        runs: tuple[tuple[str, Callable[[], int]], ...] = (
            ("expression (compacted v)", partial(count, con, expression_sql)),
            ("count_valid (raw column)", partial(valid_count, con, kind, table)),
        )
        for how, run in runs:
            wall, cpu, valid = timed(run)
            rate = n / wall
            print(f"{label:42s} {how:28s} {rate / 1e6:10.2f} {n / cpu / 1e6:8.2f} {valid / n:6.1%} {rate / base:8.0f}x")
            if kind == "resident_id" and how.startswith("count_valid"):
                ids_rate = rate
        wall, cpu = materialise(con, validity_query(kind, table, "raw"))
        print(f"{label:42s} {'validity_query -> table':28s} {n / wall / 1e6:10.2f} {n / cpu / 1e6:8.2f}")
    verdict = "meets it" if ids_rate >= 5e6 else "misses it"
    print(f"goal: >= 5 M ID numbers per second (set-wise count) -> {verdict} ({ids_rate / 1e6:.2f} M/s)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def materialise(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, float]:
    """Best of 3 wall and CPU seconds to write the ordered query into a table."""
    best = (float("inf"), float("inf"))
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        con.execute(f"CREATE OR REPLACE TEMP TABLE checked AS {sql}")
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    con.execute("DROP TABLE checked")
    return best


if __name__ == "__main__":
    main()
