"""Check-digit validation in the engine: values per second against a Python loop, same run.

    python bench/check_digits.py [--values 5000000] [--slice 200000] [--seed 1]

Generates resident ID numbers (about 70 % valid; the rest with a wrong check character, an
impossible birth date or an unknown division), unified social credit codes and bank card numbers,
stores them in a DuckDB table, and times `digigov.governance` validators counting the valid ones
over the whole table (best of 3, wall and CPU), against `digigov.core.codes.parse_resident_id`
and python-stdnum in a Python loop over a slice. Issue 5's goal: at least 5 M ID numbers per second.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import date, timedelta

import duckdb
import pyarrow as pa
from stdnum.cn import uscc

from digigov.core.codes import InvalidCode, parse_resident_id
from digigov.governance import compact, load_divisions, luhn_valid, resident_id_valid, uscc_valid

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


def timed(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, float, int]:
    best = (float("inf"), float("inf"), 0)
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        valid = con.execute(sql).fetchall()[0][0]
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu, valid))
    return best


def python_loop(values: list[str]) -> tuple[float, float, int]:
    wall, cpu, valid = time.perf_counter(), time.process_time(), 0
    for value in values:
        try:
            parse_resident_id(value)
            valid += 1
        except InvalidCode:
            pass
    return time.perf_counter() - wall, time.process_time() - cpu, valid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=5_000_000)
    parser.add_argument("--slice", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    distinct = min(args.values, 250_000)
    repeat = -(-args.values // distinct)
    con = duckdb.connect()
    load_divisions(con)
    for name, values in (
        ("ids", resident_ids(distinct, rng)),
        ("codes", credit_codes(distinct, rng)),
        ("cards", cards(distinct, rng)),
    ):
        con.execute(f"CREATE TABLE {name}_distinct (raw VARCHAR)")
        con.register("incoming", pa.table({"raw": values}))
        con.execute(f"INSERT INTO {name}_distinct SELECT raw FROM incoming")
        con.unregister("incoming")
        con.execute(
            f"CREATE TABLE {name} AS SELECT {compact('raw')} AS v "
            f"FROM {name}_distinct, range({repeat}) LIMIT {args.values}"
        )
    print(f"{args.values:,} values of each kind ({distinct:,} distinct, repeated)")
    rows = []
    for label, table, check in (
        ("resident ID (GB 11643 + birth date + division)", "ids", resident_id_valid("v")),
        ("credit code (GB 32100)", "codes", uscc_valid("v")),
        ("bank card (Luhn)", "cards", luhn_valid("v")),
    ):
        wall, cpu, valid = timed(con, f"SELECT count(*) FILTER (WHERE {check}) FROM {table}")
        rows.append((label, wall, cpu, valid))
        print(
            f"engine  {label:48s} {args.values / wall / 1e6:6.2f} M values/s wall  "
            f"{args.values / cpu / 1e6:6.2f} M/CPU-s  ({valid / args.values:.1%} valid)"
        )
    sample = con.execute(f"SELECT raw FROM ids_distinct LIMIT {args.slice}").fetchall()
    wall, cpu, valid = python_loop([r[0] for r in sample])
    base = len(sample) / wall
    print(
        f"python  core.codes.parse_resident_id loop, {len(sample):,} values   {base / 1e6:6.3f} M values/s wall  "
        f"({valid / len(sample):.1%} valid)"
    )
    engine = args.values / rows[0][1]
    print(f"ratio engine / Python loop for ID numbers: {engine / base:.0f}x")
    verdict = "meets it" if engine >= 5e6 else "misses it"
    print(f"goal: >= 5 M ID numbers per second -> {verdict} ({engine / 1e6:.2f} M/s)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
