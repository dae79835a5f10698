"""Conflicts between two sources in the engine: the query `find_conflicts` runs per pair, against a Python join.

    python bench/element_conflicts.py [--rows 2000000] [--other 1000000] [--changed 0.01] [--seed 1]

Writes an authoritative Parquet file of `--rows` (credit-code-like key, name) and another of
`--other` rows drawn from it, some names changed and some keys lower-cased or padded, then times
`digigov.governance.conflicts.compare_sql` on the engine (best of 3) and a plain-Python join of the
same two files (dicts of normalised key → set of values; the reading time is counted in neither)
on the same data, in the same run, and checks both find the same number of conflicts.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq

from digigov.core import engine
from digigov.governance.conflicts import compare_sql

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def write(folder: Path, rows: int, other: int, changed: float, rng: random.Random) -> tuple[Path, Path, int]:
    keys = [f"9133{i:08d}" + "".join(rng.choice(ALPHABET) for _ in range(6)) for i in range(rows)]
    names = [f"杭州{rng.randrange(10**6):06d}科技有限公司" for _ in range(rows)]
    source = folder / "source.parquet"
    pq.write_table(pa.table({"k": keys, "v": names}), source)
    picks = rng.sample(range(rows), other)
    okeys, onames, flips = [], [], 0
    for i in picks:
        key, name = keys[i], names[i]
        if rng.random() < changed:
            name, flips = name + "（变更）", flips + 1
        if rng.random() < 0.05:
            key = f" {key.lower()} "
        okeys.append(key)
        onames.append(name)
    target = folder / "other.parquet"
    pq.write_table(pa.table({"k": okeys, "v": onames}), target)
    return source, target, flips


def python_join(source: Path, other: Path) -> tuple[float, int]:
    left, right = pq.read_table(source).to_pylist(), pq.read_table(other).to_pylist()
    started = time.perf_counter()
    known: dict[str, set[str]] = {}
    for row in left:
        known.setdefault(row["k"].strip().upper(), set()).add(row["v"].strip())
    theirs: dict[str, set[str]] = {}
    for row in right:
        theirs.setdefault(row["k"].strip().upper(), set()).add(row["v"].strip())
    found = sum(1 for k, vs in theirs.items() if k in known and not vs <= known[k])
    return time.perf_counter() - started, found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--other", type=int, default=1_000_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        source, other, flips = write(Path(scratch), args.rows, args.other, args.changed, random.Random(args.seed))
        sides: Any = [SimpleNamespace(field="v", key_field="k") for _ in range(2)]
        sql = compare_sql(cast(Any, sides[0]), cast(Any, sides[1]), 1000)
        best = float("inf")
        for _ in range(3):
            with engine.cursor() as con:
                started = time.perf_counter()
                compared, conflicts, _ = con.execute(sql, [str(source), str(other)]).fetchone() or (0, 0, None)
                best = min(best, time.perf_counter() - started)
        loop, found = python_join(source, other)
    print(f"authoritative rows {args.rows:,}, other rows {args.other:,}, names changed {flips:,}")
    print(f"engine: {best:.2f} s (best of 3), {compared:,} keys compared, {conflicts:,} conflicts")
    print(f"python join: {loop:.2f} s, {found:,} conflicts; engine is {loop / best:.1f}x faster")
    assert conflicts == found == flips, (conflicts, found, flips)


if __name__ == "__main__":
    main()
