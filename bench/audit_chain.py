"""Audit-chain benchmark: chained appends and verification against plain baselines, same run.

    python bench/audit_chain.py [--url postgresql://postgres@127.0.0.1:5432/bench] [--events 2000] [--writers 4]

Prints appends per second for `audit.record` (hash chain, head row lock) and for a plain insert
of the same rows into an unchained copy of the table, with N concurrent writers, each event in
its own transaction; then verification speed against a plain full scan. Ratios, not bare times,
are the figures to compare across machines.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine

from digigov.core import audit, migrate
from digigov.core.auth import SYSTEM
from digigov.core.db import make_engine, unit_of_work


@dataclass(frozen=True)
class BenchEvent(audit.AuditEvent):
    kind = "bench.event"
    description = "Benchmark event."
    writer: int
    number: int

    @property
    def target(self) -> str:
        return f"bench:{self.writer}"


def _fresh(url: str) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE plain_event AS SELECT * FROM audit_event WHERE 1 = 0"))
    return engine


def _timed_writers(writers: int, per_writer: int, write: object) -> float:
    threads = [threading.Thread(target=write, args=(w, per_writer)) for w in range(writers)]  # type: ignore[arg-type]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=None, help="Database URL (default: a temporary SQLite file).")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = _fresh(url)
    per_writer = args.events // args.writers

    def chained(writer: int, count: int) -> None:
        for number in range(count):
            with unit_of_work(engine) as session:
                audit.record(session, SYSTEM, BenchEvent(writer, number))

    def plain(writer: int, count: int) -> None:
        for number in range(count):
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO plain_event (seq, occurred_at, actor_id, actor_name, department_id, kind, target,"
                        " detail, prev_hash, hash) VALUES (:seq, CURRENT_TIMESTAMP, NULL, 'system', NULL,"
                        " 'bench.event', :t, :d, :h, :h)"
                    ),
                    {"seq": writer * 10_000_000 + number, "t": f"bench:{writer}", "d": "{}", "h": "0" * 64},
                )

    total = per_writer * args.writers
    plain_s = _timed_writers(args.writers, per_writer, plain)
    chained_s = _timed_writers(args.writers, per_writer, chained)
    with unit_of_work(engine) as session:
        start = time.perf_counter()
        report = audit.verify_chain(session)
        verify_s = time.perf_counter() - start
        start = time.perf_counter()
        scanned = len(session.execute(text("SELECT * FROM audit_event ORDER BY seq")).all())
        scan_s = time.perf_counter() - start
    assert report.ok and report.count == total == scanned, report.summary()
    print(f"database: {engine.dialect.name}; {args.writers} writers x {per_writer} events, one transaction each")
    print(f"baseline plain insert : {total / plain_s:9.0f} events/s")
    print(f"hash-chained record() : {total / chained_s:9.0f} events/s  (ratio {plain_s / chained_s:.2f} of baseline)")
    print(f"baseline full scan    : {total / scan_s:9.0f} rows/s")
    print(f"verify_chain()        : {total / verify_s:9.0f} rows/s  (ratio {scan_s / verify_s:.2f} of baseline)")


if __name__ == "__main__":
    main()
