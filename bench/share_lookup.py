"""Keyed lookup through the sharing data API over HTTP, with masks and audit on, against the engine, same run.

    python bench/share_lookup.py [--rows 10000000] [--seconds 20] [--connections 4] [--home DIR]
                                 [--workers 2] [--database postgresql://…/share_bench]

Builds a data home (SQLite metadata) with the demo users and a published 有条件共享 resource of N
synthetic persons (valid resident ID numbers, names, mobiles, birth dates, regions; generated in
DuckDB), ingested with `datastore.versions.ingest_file` (so the version has its lookup files and
its classification), and a provisioned lookup grant of 杭州市人社局 by 公民身份号码 with 姓名, 手机号码
and 出生日期 masked by their class. Then, in the same run:

- the engine alone: the same masked lookup as one DuckDB statement over the Parquet file (a scan),
  and `datastore.read_rows` (the lookup files) — no HTTP, no permission, no audit;
- the service in-process: `sharing.data.lookup` (grant checks, quota, masks, usage row, audit event);
- HTTP: `GET /api/v1/share/lookup?key=…` with `X-Grant-Key` under uvicorn on 127.0.0.1, driven by
  `wrk` (Debian package `wrk`) with a Lua script rotating over existing keys, for `--seconds`; one
  keep-alive httpx client measures the sequential p50/p99 and `/api/v1/health` as the baseline.

The issue's goal: p99 under 20 ms and at least 1,000 lookups/s with masking and audit on. `--home`
keeps the data home and reuses it when it already holds `--rows` rows (ingesting 10 M rows takes minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
from loopback import free_port, percentiles, serve  # bench/loopback.py
from sqlalchemy import select
from sqlalchemy.engine import Engine

from digigov.catalog import service as catalog
from digigov.catalog.schemas import ResourceCreate
from digigov.core import migrate
from digigov.core.auth import SYSTEM
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work, utcnow
from digigov.core.engine import cursor, quote_name
from digigov.datastore import RowQuery, latest_version, parquet_path, read_rows
from digigov.datastore.keyed import rows_by_key
from digigov.datastore.versions import ingest_file, wait_for_lookups
from digigov.demo import load_demo, load_reference_data
from digigov.governance.masking import mask_sql, mask_value
from digigov.governance.validators import RIC_CHECK, RIC_WEIGHTS
from digigov.identity import service as identity
from digigov.identity.models import Department, User
from digigov.sharing import data, service
from digigov.sharing.models import Grant
from digigov.sharing.schemas import Decision, ShareRequestCreate

PASSWORD = "bench-demo-password-2026"
RESOURCE = "rk-bench"
KEY, NAME, PHONE, BORN = "公民身份号码", "姓名", "手机号码", "出生日期"
DIGIT = "(ascii(substr(body, {p}, 1)) - 48)"
GENERATE = """
COPY (
  WITH b AS (
    SELECT i, (['330102', '330105', '330106', '330108', '330109', '330110', '330212', '330302'])[i % 8 + 1]
        || strftime(DATE '1950-01-01' + CAST(hash(i) % 25000 AS INTEGER), '%Y%m%d')
        || lpad(CAST(i % 1000 AS VARCHAR), 3, '0') AS body,
      DATE '1950-01-01' + CAST(hash(i) % 25000 AS INTEGER) AS born
    FROM range({rows}) t(i)
  )
  SELECT body || substr('{check}', ({total}) % 11 + 1, 1) AS 公民身份号码,
    (['张', '王', '李', '赵', '陈', '刘', '杨', '黄'])[i % 8 + 1]
      || (['伟', '芳', '娜', '敏', '静', '强', '磊', '洋'])[i // 8 % 8 + 1]
      || (['', '华', '明', '红'])[i // 64 % 4 + 1] AS 姓名,
    '1' || CAST(3 + hash(i + 1) % 7 AS VARCHAR) || lpad(CAST(hash(i + 2) % 1000000000 AS VARCHAR), 9, '0') AS 手机号码,
    born AS 出生日期,
    substr(body, 1, 6) AS 户籍地行政区划代码
  FROM b
) TO '{path}' (HEADER, DELIMITER ',')
"""


def build_home(home: Path, rows: int, database: str) -> tuple[Engine, dict[str, Any]]:
    engine = make_engine(database)
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_reference_data(session)
        load_demo(session, password=PASSWORD)
    csv_path = home / "人口.csv"
    total = " + ".join(f"{w} * {DIGIT.format(p=k + 1)}" for k, w in enumerate(RIC_WEIGHTS))
    start = time.perf_counter()
    duckdb.connect().execute(GENERATE.format(rows=rows, path=csv_path, check=RIC_CHECK, total=total))
    figures: dict[str, Any] = {"generate_s": time.perf_counter() - start, "csv_mb": csv_path.stat().st_size / 1e6}
    with unit_of_work(engine) as session:
        department = session.scalars(select(Department.id).where(Department.code == "HZ-SJJ")).one()
        body = {
            "code": RESOURCE,
            "title": "人口基础信息（压测）",
            "department_id": department,
            "share_type": "conditional",
            "share_condition": "用于社保待遇核验",
            "open_type": "prohibited",
        }
        catalog.create_resource(session, SYSTEM, ResourceCreate.model_validate(body))
        catalog.submit_resource(session, SYSTEM, code=RESOURCE)
        catalog.publish_resource(session, SYSTEM, code=RESOURCE)
    with unit_of_work(engine) as session, csv_path.open("rb") as upload:
        start = time.perf_counter()
        version = ingest_file(session, SYSTEM, home=home, resource_code=RESOURCE, upload=upload, filename=csv_path.name)
        figures["ingest_s"] = time.perf_counter() - start
        figures["rows"] = version.rows
    start = time.perf_counter()
    wait_for_lookups()
    figures["lookups_s"] = time.perf_counter() - start
    csv_path.unlink()
    return engine, figures


def provision(engine: Engine) -> tuple[int, str]:
    """The consumer's lookup grant by ID number, through both approvals, and its credential."""
    with unit_of_work(engine) as session:
        actor = {
            name: identity.actor_for_user(session, session.scalars(select(User).where(User.username == name)).one())
            for name in ("consumer", "steward", "reviewer")
        }
        body = {
            "resource_code": RESOURCE,
            "fields": [KEY, NAME, PHONE, BORN],
            "access": "lookup",
            "key_field": KEY,
            "purpose": "压测：核对社保待遇申领人的身份信息",
            "legal_basis": "《社会保险法》第七十四条",
            "expected_daily_calls": 10_000_000,
        }
        today = utcnow().date()
        request = service.request_share(
            session, actor["consumer"], ShareRequestCreate.model_validate(body), today=today
        )
        service.decide_as_source(session, actor["steward"], request_id=request.id, decision=Decision(approve=True))
        limits = Decision(approve=True, rate_per_minute=100_000, daily_quota=10_000_000)
        service.decide_as_platform(session, actor["reviewer"], request_id=request.id, decision=limits)
        grant = service.grant_of(session, request)
        assert grant is not None
        _, secret = service.issue_credential(session, actor["consumer"], grant_id=grant.id, today=today)
        print(f"grant {grant.id}: masks {grant.masks}")
        return grant.id, secret


def engine_alone(
    home: Path, engine: Engine, grant_id: int, keys: list[str]
) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds per lookup: a masked DuckDB scan of the file, read_rows by the lookup files, the keyed read."""
    with unit_of_work(engine) as session:
        grant = session.get_one(Grant, grant_id)
        version = latest_version(session, grant.resource_id)
        assert version is not None
        masks = service.field_masks(session, grant, version)
        salt = grant.salt
    types = {c["name"]: c["type"] for c in version.columns}
    path = str(parquet_path(home, version))
    columns = ", ".join(f"{mask_sql(m, quote_name(n), types[n], salt)} AS {quote_name(n)}" for n, m in masks.items())
    scan, lookup, keyed = [], [], []
    with cursor() as con:
        for key in keys[:20]:
            start = time.perf_counter()
            con.execute(f"SELECT {columns} FROM read_parquet(?) WHERE {quote_name(KEY)} = ?", [path, key]).fetchall()
            scan.append((time.perf_counter() - start) * 1000)
    position = next(k for k, c in enumerate(version.columns) if c["name"] == KEY)
    for key in keys:
        start = time.perf_counter()
        found = rows_by_key(Path(path), position, key, list(masks), limit=100)
        assert found is not None, "the version has no keyed files: run build_lookups"
        [{n: mask_value(masks[n], v, types[n], salt) if n in masks else v for n, v in r.items()} for r in found]
        keyed.append((time.perf_counter() - start) * 1000)
    for key in keys:
        start = time.perf_counter()
        read_rows(
            Path(path),
            version.columns,
            RowQuery(fields=list(masks), filters={KEY: key}, limit=100, include_total=False),
            rows=version.rows,
        )
        lookup.append((time.perf_counter() - start) * 1000)
    return scan, lookup, keyed


def service_in_process(home: Path, engine: Engine, grant_id: int, keys: list[str]) -> list[float]:
    times = []
    for key in keys:
        start = time.perf_counter()
        with unit_of_work(engine) as session:
            grant = session.get_one(Grant, grant_id)
            data.lookup(session, home, grant, key=key, caller=data.Caller("bench"), now=utcnow())
        times.append((time.perf_counter() - start) * 1000)
    return times


LUA = """
local keys = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/api/v1/share/lookup?key=" .. keys[(n %% #keys) + 1], {["X-Grant-Key"] = "%s"})
end
"""


def run_wrk(base: str, secret: str, keys: list[str], seconds: int, connections: int, folder: Path) -> dict[str, float]:
    script = folder / "lookup.lua"
    script.write_text(LUA % (", ".join(f'"{k}"' for k in keys), secret))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    print(out)

    def millis(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, label
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "p50": millis("50"),
        "p99": millis("99"),
        "rps": float(rate.group(1)) if rate else 0.0,
        "non2xx": float(errors.group(1)) if errors else 0.0,
    }


def served_by_workers(
    home: Path, secret: str, keys: list[str], args: argparse.Namespace, folder: Path
) -> tuple[float, dict[str, float]]:
    """wrk against `digigov serve --workers N` on the same home: health (the baseline) then lookups."""
    port = free_port()
    env = {**os.environ, "DIGIGOV_HOME": str(home), "DIGIGOV_DEMO": "true", "DIGIGOV_DATABASE_URL": args.database}
    command = [str(Path(sys.executable).with_name("digigov")), "serve", "--port", str(port)]
    server = subprocess.Popen([*command, "--workers", str(args.workers)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        for _ in range(200):  # every worker warm
            httpx.get(f"{base}/api/v1/share/lookup", params={"key": keys[0]}, headers={"X-Grant-Key": secret})
        health = subprocess.run(
            ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", f"{base}/api/v1/health"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rate = re.search(r"Requests/sec:\s+([\d.]+)", health)
        found = run_wrk(base, secret, keys, args.seconds, args.connections, folder)
        return (float(rate.group(1)) if rate else 0.0), found
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--workers", type=int, default=2, help="processes of `digigov serve` for the second wrk run")
    parser.add_argument(
        "--database",
        help="metadata store URL (default: SQLite in the home); a PostgreSQL database must be empty or this bench's",
    )
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-share-") as folder:
        home = args.home or Path(folder)
        saved = home / "bench.json"
        args.database = Settings(home=home, database_url=args.database).resolved_database_url()
        before = json.loads(saved.read_text()) if args.home and saved.is_file() else {}
        if before.get("rows") == args.rows and before.get("database", args.database) == args.database:
            figures = before
            engine = make_engine(args.database)
            migrate.upgrade(engine)
            print(f"reusing {home}")
        else:
            home.mkdir(parents=True, exist_ok=True)
            engine, figures = build_home(home, args.rows, args.database)
            figures["database"] = args.database
            saved.write_text(json.dumps(figures))
        print(f"metadata store: {engine.dialect.name}")
        print(
            f"{figures['rows']:,} rows: generated in {figures['generate_s']:.1f} s ({figures['csv_mb']:,.0f} MB), "
            f"ingested in {figures['ingest_s']:.1f} s, lookup files {figures['lookups_s']:.1f} s later"
        )
        grant_id, secret = provision(engine)
        with cursor() as con, unit_of_work(engine) as session:
            version = latest_version(session, session.get_one(Grant, grant_id).resource_id)
            assert version is not None
            sample = con.execute(
                f"SELECT {quote_name(KEY)} FROM read_parquet(?) USING SAMPLE 200 ROWS",
                [str(parquet_path(home, version))],
            ).fetchall()
        keys = [k for (k,) in sample]
        random.Random(1).shuffle(keys)
        scan, lookup, keyed = engine_alone(home, engine, grant_id, keys)
        in_process = service_in_process(home, engine, grant_id, keys)
        settings = Settings(home=home, demo=True, database_url=args.database)
        with serve(settings, engine) as base:
            with httpx.Client(base_url=base, timeout=60) as client:
                answer = client.get("/api/v1/share/lookup", params={"key": keys[0]}, headers={"X-Grant-Key": secret})
                print(f"check: {answer.status_code} {answer.text[:300]}")
                health, sequential = [], []
                for i in range(args.requests):
                    start = time.perf_counter()
                    client.get("/api/v1/health")
                    health.append((time.perf_counter() - start) * 1000)
                    start = time.perf_counter()
                    reply = client.get(
                        "/api/v1/share/lookup", params={"key": keys[i % len(keys)]}, headers={"X-Grant-Key": secret}
                    )
                    sequential.append((time.perf_counter() - start) * 1000)
                    assert reply.status_code == 200, reply.text
            loaded = (
                run_wrk(base, secret, keys, args.seconds, args.connections, Path(folder))
                if shutil.which("wrk")
                else None
            )
        workers = (
            served_by_workers(home, secret, keys, args, Path(folder))
            if shutil.which("wrk") and args.workers > 1
            else None
        )
        engine.dispose()
    print()
    for label, times in (
        ("engine: masked DuckDB scan of the file", scan),
        ("engine: read_rows through the lookup files", lookup),
        ("engine: keyed read + masks (what the API does)", keyed),
    ):
        p50, p99 = percentiles(times)
        print(f"{label:52} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms")
    s50, s99 = percentiles(in_process)
    print(f"{'service in-process (grant, quota, masks, audit)':52} p50 {s50:8.2f} ms  p99 {s99:8.2f} ms")
    h50, h99 = percentiles(health)
    q50, q99 = percentiles(sequential)
    print(f"{'HTTP GET /api/v1/health (baseline)':52} p50 {h50:8.2f} ms  p99 {h99:8.2f} ms")
    print(f"{'HTTP lookup, one client, sequential':52} p50 {q50:8.2f} ms  p99 {q99:8.2f} ms")
    k50 = percentiles(keyed)[0]
    ratio = f"HTTP lookup / keyed read in the engine: p50 {q50 / k50:.0f}x"
    print(f"overhead {ratio}; HTTP lookup / health: p50 {q50 / h50:.1f}x")
    if loaded:
        print(
            f"wrk, {args.connections} connections, {args.seconds} s: {loaded['rps']:,.0f} lookups/s, "
            f"p50 {loaded['p50']:.2f} ms, p99 {loaded['p99']:.2f} ms, non-2xx {loaded['non2xx']:.0f}"
            f"   (goal: p99 < 20 ms and >= 1,000 lookups/s)"
        )
        if workers:
            health_rps, found = workers
            print(
                f"wrk, `digigov serve --workers {args.workers}`, {args.connections} connections: "
                f"{found['rps']:,.0f} lookups/s, p50 {found['p50']:.2f} ms, p99 {found['p99']:.2f} ms, "
                f"non-2xx {found['non2xx']:.0f}; /api/v1/health {health_rps:,.0f}/s (baseline, same server)"
            )
    else:
        print("wrk is not installed (apt-get install wrk): no throughput figure")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
