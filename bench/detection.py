"""Classification benchmark: detection over a 1 M-row, 30-column version, and its precision and recall.

    python bench/detection.py [--rows 1000000] [--columns 30] [--seed 1] [--skip-quality]

Builds a Parquet version of `--columns` generated columns (those of `tests/governance/labelled.py`:
every sensitive kind under telling and neutral names, masked ones, and decoys), made of 100,000
generated rows repeated to `--rows`, and times `digigov.governance.detection.detect_fields` on it
(best of 3) against, in the same run, a scan that only counts the values of every column (what
reading the version costs the engine at all). Issue 5's goal: under 10 s for 1 M rows × 30 columns.

Then, unless `--skip-quality`, it reports precision and recall of the detected kinds over the
labelled sets: the generated columns of `labelled.py` (5,000 rows, three seeds), the second set of
`tests/governance/heldout.py` (110 columns built by another agent without seeing the detector), and
the hand-labelled columns of the real Beijing files in ../shared/data/real, per kind too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.governance.labelled

from digigov.core.engine import cursor, quote_name, sql_literal  # noqa: E402
from digigov.datastore.reader import read_to_parquet  # noqa: E402
from digigov.governance.detection import detect_fields  # noqa: E402
from tests.governance import heldout  # noqa: E402
from tests.governance.labelled import BEIJING, REAL_LABELS, generated_table, score  # noqa: E402

BASE_ROWS = 100_000


def build_version(folder: Path, rows: int, width: int, seed: int) -> tuple[Path, list[dict[str, str]]]:
    """A Parquet file of `width` generated columns and `rows` rows (generated rows repeated)."""
    table, _ = generated_table(min(rows, BASE_ROWS), seed)
    names = table.column_names
    while len(names) < width:  # wider than the labelled set: repeat columns under new names
        extra = table.column(len(names) % table.num_columns)
        table = table.append_column(f"{names[len(names) % table.num_columns]}_{len(names)}", extra)
        names = table.column_names
    table = table.select(names[:width])
    base = folder / "base.parquet"
    pq.write_table(table, base)
    target = folder / "data.parquet"
    repeat = -(-rows // table.num_rows)
    with cursor() as con:
        con.execute(
            f"COPY (SELECT b.* FROM read_parquet({sql_literal(str(base))}) b, range({repeat}) LIMIT {rows}) "
            f"TO {sql_literal(str(target))} (FORMAT parquet, ROW_GROUP_SIZE 32768)"
        )
    return target, [{"name": n, "type": "string"} for n in table.column_names]


def best_of(runs: int, work: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def speed(rows: int, width: int, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-detection-") as tmp:
        parquet, columns = build_version(Path(tmp), rows, width, seed)
        count_all = ", ".join(f"count({quote_name(c['name'])})" for c in columns)

        def scan() -> None:
            with cursor() as con:
                con.execute(f"SELECT {count_all} FROM read_parquet({sql_literal(str(parquet))})").fetchall()

        def detect() -> None:
            detect_fields(parquet, columns, rows=rows)

        base = best_of(3, scan)
        took = best_of(3, detect)
        print(f"version: {rows:,} rows × {len(columns)} columns, {parquet.stat().st_size / 2**20:.0f} MiB Parquet")
        print(f"  baseline, count every column's values: {base:.3f} s")
        print(f"  detect_fields:                         {took:.3f} s   ({took / base:.1f}× the scan; goal < 10 s)")


def quality(seed: int) -> None:
    pairs: list[tuple[str | None, str | None, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-detection-") as tmp:
        for k in range(3):
            table, labels = generated_table(5000, seed + k)
            path = Path(tmp) / f"generated-{k}.parquet"
            pq.write_table(table, path)
            found = detect_fields(path, [{"name": n, "type": "string"} for n in table.column_names], rows=5000)
            pairs += [(labels[d.field], d.kind, f"generated:{d.field}") for d in found]
        table, labels = heldout.heldout_table(3000, seed + 10)
        path = Path(tmp) / "second.parquet"
        pq.write_table(table, path)
        columns = [{"name": n, "type": heldout.COLUMN_TYPES[n]} for n in table.column_names]
        found = detect_fields(path, columns, rows=table.num_rows)
        pairs += [(labels[d.field], d.kind, f"second:{d.field}") for d in found]
        if BEIJING.is_dir():
            for name, labels in REAL_LABELS.items():
                out = Path(tmp) / f"real-{len(pairs)}"
                report = read_to_parquet(BEIJING / name, out)
                columns = [{"name": c.name, "type": c.type} for c in report.columns]
                found = detect_fields(out / "data.parquet", columns, rows=report.rows)
                pairs += [(labels.get(d.field), d.kind, f"{name}:{d.field}") for d in found]
        else:
            print(f"  ({BEIJING} is absent: real columns left out)")
    groups = {
        "all": pairs,
        "generated": [p for p in pairs if p[2].startswith("generated:")],
        "second": [p for p in pairs if p[2].startswith("second:")],
        "real": [p for p in pairs if not p[2].startswith(("generated:", "second:"))],
    }
    for title, subset in groups.items():
        if subset:
            precision, recall, guessed, labelled = score([(a, b) for a, b, _ in subset])
            print(
                f"  {title:9} columns {len(subset):4}: precision {precision:.3f} ({guessed} detected), "
                f"recall {recall:.3f} ({labelled} labelled)"
            )
    kinds = Counter(a for a, _, _ in pairs if a)
    for kind in sorted(kinds):
        precision, recall, _, _ = score([(a if a == kind else None, b if b == kind else None) for a, b, _ in pairs])
        print(f"    {kind:12} labelled {kinds[kind]:3}: precision {precision:.3f}, recall {recall:.3f}")
    for label, guess, where in pairs:
        if label != guess:
            print(f"    wrong: {where} labelled {label}, detected {guess}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    print(f"pyarrow {pa.__version__}")
    speed(args.rows, args.columns, args.seed)
    if not args.skip_quality:
        print("precision and recall over the labelled columns:")
        quality(args.seed)


if __name__ == "__main__":
    main()
