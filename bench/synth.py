"""Synthetic-population benchmark: generation speed against random UUID strings, same run.

    python bench/synth.py [--persons 1000000] [--enterprises 100000] [--seed 1] [--no-files]

Prints rows per second for enterprises, for persons (streamed in record batches, linked to
the enterprises), and for `write_population` (Parquet + CSV), each against generating the same
number of `str(uuid4())` values, plus peak memory. Ratios, not bare times, are the figures to
compare across machines.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from digigov.synth import iter_persons, synth_enterprises, write_population


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _uuids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


def _line(label: str, rows: int, seconds: float, baseline: float) -> str:
    return f"{label:<34}: {rows / seconds:10.0f} rows/s  {seconds:6.2f} s  (ratio {baseline / seconds:.3f} of baseline)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-files", action="store_true", help="Skip timing write_population.")
    args = parser.parse_args()

    uuid_enterprises = _timed(lambda: _uuids(args.enterprises))
    uuid_persons = _timed(lambda: _uuids(args.persons))
    firms = synth_enterprises(args.enterprises, args.seed)
    enterprises_s = _timed(lambda: synth_enterprises(args.enterprises, args.seed))
    persons_s = _timed(lambda: sum(b.num_rows for b in iter_persons(args.persons, args.seed, employers=firms)))
    print(f"{args.enterprises} enterprises, {args.persons} persons, seed {args.seed}")
    print(_line("baseline uuid4 strings", args.persons, uuid_persons, uuid_persons))
    print(_line("synth_enterprises", args.enterprises, enterprises_s, uuid_enterprises))
    print(_line("iter_persons (linked, streamed)", args.persons, persons_s, uuid_persons))
    if not args.no_files:
        with tempfile.TemporaryDirectory() as folder:
            files_s = _timed(
                lambda: write_population(
                    Path(folder), enterprises=args.enterprises, persons=args.persons, seed=args.seed
                )
            )
            size = sum(path.stat().st_size for path in Path(folder).iterdir())
        total = args.enterprises + args.persons
        print(_line("write_population (Parquet + CSV)", total, files_s, uuid_enterprises + uuid_persons))
        print(f"files: {size / 1e6:.1f} MB")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
