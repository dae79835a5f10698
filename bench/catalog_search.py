"""Catalog search benchmark: CKAN `package_search` latency over HTTP against `/api/v1/health`, same run.

    python bench/catalog_search.py [--resources 10000] [--requests 400] [--warmup 40] [--seed 1]
                                   [--home DIR [--reuse]] [--postgres URL] [--profile server|statements]

Builds a data home with the reference data and the demo users and N resources created through
`catalog.service.create_resource` as SYSTEM (varied Chinese titles, abstracts, keywords, subjects
and fields across the demo departments; varied share / open types and update cycles), publishes
about 85% of them with one UPDATE (state, published_on), then serves the real app under uvicorn on
127.0.0.1 and measures, with one keep-alive httpx client and the demo user "consumer"'s API token,
a weighted mix of `GET /api/3/action/package_search` requests:

  browse    no q, rows=20, facet.field=["organization","tags"]            (weight 3)
  keyword   q=<Chinese term(s) or a code>, rows=20, the same two facets  (weight 4)
  facets    q=<term>, rows=20, all six facet fields                      (weight 2)
  fq        fq=organization:<dept> open_type:<type>, optional q          (weight 2)
  rows1000  no q, rows=1000 (CKAN's maximum), no facets                  (weight 1)

against GET /api/v1/health on the same client and server. Prints p50/p99 per kind, of the whole
mix, of the health baseline and their ratio; the issue's goal is p99 < 50 ms for package_search
over 10,000 resources. Ratios, not bare times, are what compare across machines.

The data home is a temp dir unless `--home DIR` names one; `--reuse` serves an existing home as it
is (build it once, measure many times). `--postgres URL` keeps the metadata in that PostgreSQL
database instead of SQLite: without `--reuse` its public schema is DROPPED and rebuilt.
`--profile server` prints the cProfile of the server side (the event-loop thread, where CKAN
actions run) over the timed searches; `--profile statements` prints SQL statements per request kind.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import loopback  # bench/loopback.py
from loopback import consumer_token, percentiles
from sqlalchemy import event, func, select, text, update
from sqlalchemy.engine import Engine

from digigov.catalog import service
from digigov.catalog.models import Resource
from digigov.catalog.schemas import ResourceCreate
from digigov.core import migrate
from digigov.core.auth import SYSTEM
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work, utcnow
from digigov.demo import DEPARTMENTS, load_demo, load_reference_data
from digigov.identity.models import Department

PASSWORD = "bench-demo-password-2026"

# Per department: (place prefix, themes). A title is place + theme + suffix.
THEMES = {
    "ZJ-DSJ": ("浙江省", ["公共数据目录", "政务服务事项", "一网通办办件", "数据共享调用", "电子证照归集", "信用评价"]),
    "HZ-SJZY": ("杭州市", ["城市大脑指标", "公共数据归集", "政务云资源", "数据质量检查", "数字化改革项目", "地名地址"]),
    "HZ-SJJ": (
        "杭州市",
        ["企业登记", "个体工商户", "食品经营许可", "特种设备检验", "上市公司", "商标专利", "行政处罚"],
    ),
    "HZ-RSJ": ("杭州市", ["社会保险参保", "养老保险待遇", "失业保险金", "就业登记", "职业技能培训", "人才引进"]),
    "HZ-XH-SJJ": ("西湖区", ["企业年报", "食品安全抽检", "市场主体", "广告监测", "价格监督检查", "消费投诉"]),
    "HZ-LP-SJJ": ("临平区", ["企业登记", "药品零售许可", "计量器具检定", "产品质量抽查", "网络交易监测"]),
    "WZ-MZJ": ("温州市", ["婚姻登记", "社会救助", "养老机构", "殡葬服务", "社会组织登记", "低保对象", "残疾人补贴"]),
}
SUFFIXES = ["信息", "名录", "台账", "统计", "明细", "数据", "目录", "清单", "年度汇总", "月报"]
SUBJECTS = ["法人单位", "人口", "社会信用", "电子证照", "民生服务", "市场监管", "社会保障", "城乡建设"]
KEYWORDS = [
    "企业", "许可", "登记", "社保", "养老", "就业", "食品", "药品", "信用", "处罚", "投诉", "证照",
    "婚姻", "救助", "补贴", "统计", "监管", "抽检", "年报", "人才", "培训", "质量", "价格", "广告",
]  # fmt: skip
FIELDS = [
    ("tyshxydm", "统一社会信用代码"), ("qymc", "企业名称"), ("fddbr", "法定代表人"), ("zcdz", "注册地址"),
    ("clrq", "成立日期"), ("zczb", "注册资本"), ("xm", "姓名"), ("sfzh", "公民身份号码"),
    ("cbrq", "参保日期"), ("jfjs", "缴费基数"), ("xkzh", "许可证号"), ("yxqz", "有效期至"),
    ("xzqh", "行政区划代码"), ("tjnd", "统计年度"), ("jg", "检查结果"), ("bz", "备注"),
]  # fmt: skip
ASPECTS = ["基本情况", "办理结果", "变更情况", "统计指标"]
USES = ["监管", "公共服务", "决策分析", "一网通办"]
CYCLES = ["realtime", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly", "irregular"]
CATEGORIES = ["department"] * 6 + ["thematic"] * 3 + ["base"]
BASE_TYPES = ["population", "legal_entity", "geospatial", "credit", "licence"]

KINDS = {"browse": 3, "keyword": 4, "facets": 2, "fq": 2, "rows1000": 1}

# Single words, two words, a code prefix, a code: what people type into the catalog's search box.
QUERIES = [
    "企业", "社保", "许可", "婚姻登记", "上市公司", "食品经营", "养老保险", "信用", "抽检", "名录",
    "企业 登记", "食品 许可", "社会保险 参保", "杭州市 统计", "养老 补贴", "市场主体 年报", "西湖区 投诉",
    "hz-sjj", "<code>", "统一社会信用代码",
]  # fmt: skip
# "<code>" becomes the code of a published resource in the middle of the catalog.


def resource_body(rng: random.Random, number: int, department: str, department_id: int) -> dict[str, object]:
    place, themes = THEMES[department]
    theme = rng.choice(themes)
    title = f"{place}{theme}{rng.choice(SUFFIXES)}"
    if rng.random() < 0.3:
        title = f"{2015 + number % 10}年{title}"
    share = rng.choices(["unconditional", "conditional", "none"], weights=[5, 4, 1])[0]
    open_type = rng.choices(["unconditional", "restricted", "prohibited"], weights=[3, 4, 3])[0]
    category = rng.choice(CATEGORIES)
    chosen = rng.sample(FIELDS, rng.randint(3, 7))
    body: dict[str, object] = {
        "code": f"{department.lower()}-{number:06d}",
        "title": title,
        "department_id": department_id,
        "abstract": (
            f"本资源由{place}相关部门归集，记录{theme}的{rng.choice(ASPECTS)}，"
            f"按{rng.choice(['日', '月', '季度', '年'])}更新，可用于{rng.choice(USES)}。"
        ),
        "keywords": rng.sample(KEYWORDS, rng.randint(1, 4)),
        "subjects": rng.sample(SUBJECTS, rng.randint(0, 2)),
        "category": category,
        "update_cycle": rng.choice(CYCLES),
        "share_type": share,
        "share_condition": "经申请审核后共享，仅用于履职需要。" if share == "conditional" else "",
        "share_basis": "《中华人民共和国个人信息保护法》第十三条" if share == "none" else "",
        "open_type": open_type,
        "open_condition": "经申请后向特定对象开放。" if open_type == "restricted" else "",
        "format": rng.choice(["CSV", "XLSX", "JSON", "数据库表"]),
        "contact": f"0571-8{number % 10_000_000:07d}",
        "fields": [{"name": n, "title": t, "is_key": i == 0} for i, (n, t) in enumerate(chosen)],
    }
    if category == "base":
        body["base_type"] = rng.choice(BASE_TYPES)
    return body


def build_home(engine: Engine, count: int, seed: int) -> float:
    """Migrate, load the demo and N resources, ~85% published; returns the seconds the resources took."""
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_reference_data(session)
        load_demo(session, password=PASSWORD)
    rng = random.Random(seed)
    start = time.perf_counter()
    with unit_of_work(engine) as session:
        ids = {code: dept_id for code, dept_id in session.execute(select(Department.code, Department.id))}
        codes = [d.code for d in DEPARTMENTS if d.code in THEMES]
        for number in range(count):
            department = codes[number % len(codes)]
            body = resource_body(rng, number, department, ids[department])
            service.create_resource(session, SYSTEM, ResourceCreate.model_validate(body))
            if number % 1000 == 999:
                session.flush()
                session.expunge_all()
        # Publishing one by one would add two audited transitions per resource; the state is what
        # search looks at, so one UPDATE sets it (published_on too) for ~85% of the resources.
        published = [r for r in session.scalars(select(Resource.id)) if rng.random() < 0.85]
        today = utcnow().date()
        for i in range(0, len(published), 900):
            chunk = published[i : i + 900]
            session.execute(
                update(Resource).where(Resource.id.in_(chunk)).values(state="published", published_on=today)
            )
    return time.perf_counter() - start


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def search_path(params: dict[str, object]) -> str:
    return str(httpx.URL("/api/3/action/package_search", params=params))  # type: ignore[arg-type]


def request_mix(rng: random.Random, n: int, queries: list[str], departments: list[str]) -> list[tuple[str, str]]:
    """N (kind, path) pairs drawn with the weights of KINDS."""
    two = json.dumps(["organization", "tags"])
    six = json.dumps(["organization", "category", "share_type", "open_type", "grade", "update_cycle"])
    kinds = rng.choices(list(KINDS), weights=list(KINDS.values()), k=n)
    mix = []
    for kind in kinds:
        params: dict[str, object] = {"rows": 20, "facet.field": two}
        if kind == "keyword":
            params["q"] = rng.choice(queries)
        elif kind == "facets":
            params.update({"q": rng.choice(queries[:10]), "facet.field": six})
        elif kind == "fq":
            open_type = rng.choice(["unconditional", "restricted", "prohibited"])
            params["fq"] = f"organization:{rng.choice(departments)} open_type:{open_type}"
            if rng.random() < 0.5:
                params["q"] = rng.choice(queries[:10])
        elif kind == "rows1000":
            params = {"rows": 1000}
        mix.append((kind, search_path(params)))
    return mix


def timed(client: httpx.Client, requests: list[tuple[str, str]], warmup: int) -> dict[str, list[float]]:
    """Milliseconds per request by kind, after `warmup` untimed ones; every answer must be 200."""
    for _, path in requests[:warmup]:
        client.get(path).raise_for_status()
    times: dict[str, list[float]] = {}
    for kind, path in requests[warmup:]:
        start = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - start) * 1000
        response.raise_for_status()
        times.setdefault(kind, []).append(elapsed)
    return times


class Statements:
    """Counts the SQL statements the engine runs (all threads)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += 1


class Collections:
    """Full (generation 2) garbage collections while on: they stop every thread, so they show as tails."""

    def __init__(self) -> None:
        self.on, self._start = False, 0.0
        self.times: list[float] = []
        gc.callbacks.append(self._seen)

    def _seen(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif self.on and info["generation"] == 2:
            self.times.append((time.perf_counter() - self._start) * 1000)

    def summary(self) -> str:
        longest = max(self.times, default=0.0)
        return f"{len(self.times)} full collections, {sum(self.times):.0f} ms in all, longest {longest:.0f} ms"


class Profiled:
    """An ASGI wrapper that runs cProfile around every request (on the event-loop thread)."""

    def __init__(self, app: Any) -> None:
        self.app, self.profile, self.on = app, cProfile.Profile(), False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not self.on or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.profile.enable()
        try:
            await self.app(scope, receive, send)
        finally:
            self.profile.disable()


@contextmanager
def serve(settings: Settings, engine: Engine, *, profiled: bool) -> Iterator[tuple[str, Profiled | None]]:
    """The real app under uvicorn on 127.0.0.1 (bench/loopback.py), wrapped in `Profiled` if asked."""
    wrapper: Profiled | None = None

    def wrap(app: Any) -> Profiled:
        nonlocal wrapper
        wrapper = Profiled(app)
        return wrapper

    with loopback.serve(settings, engine, wrap if profiled else None) as base:
        yield base, wrapper


def line(label: str, times: list[float]) -> str:
    p50, p99 = percentiles(times)
    return f"{label:34} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  max {max(times):7.2f} ms  ({len(times)} requests)"


def measure(args: argparse.Namespace, url: str, home: Path) -> None:
    engine = make_engine(url)
    seconds = None if args.reuse else build_home(engine, args.resources, args.seed)
    with unit_of_work(engine) as session:
        total = session.scalar(select(func.count()).select_from(Resource)) or 0
        published = session.scalar(select(func.count()).where(Resource.state == "published")) or 0
        middle = select(Resource.code).where(Resource.state == "published", Resource.id >= total // 2)
        code = session.scalars(middle.order_by(Resource.id).limit(1)).one()
        departments = [d.code for d in session.scalars(select(Department)) if d.code in THEMES]
    queries = [code if q == "<code>" else q for q in QUERIES]
    where = url.split("@")[-1] if args.postgres else str(home)
    print(f"resources: {total:,} ({published:,} published) in {where}; load {_load()}")
    if seconds is not None:
        print(f"  {seconds:.1f} s to create and publish, {total / seconds:,.0f} resources/s")
    settings = Settings(home=home, demo=True, database_url=url)
    secret = consumer_token(engine, settings)
    n = args.warmup + args.requests
    mix = request_mix(random.Random(args.seed), n, queries, departments)
    statements = Statements(engine) if args.profile == "statements" else None
    collections = Collections()
    with serve(settings, engine, profiled=args.profile == "server") as (base, profiled):
        headers = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            counts = {q: client.get(search_path({"q": q, "rows": 1})).json()["result"]["count"] for q in queries}
            health = timed(client, [("health", "/api/v1/health")] * n, args.warmup)["health"]
            if profiled:
                profiled.on = True
            if statements:
                per_kind = _statements(client, statements, mix)
            collections.on = True
            search = timed(client, mix, args.warmup)
            collections.on = False
            if profiled:
                profiled.on = False
    engine.dispose()
    print("matches per query: " + ", ".join(f"{q!r}={c}" for q, c in counts.items()))
    print(f"load after the run: {_load()}")
    print(line("GET /api/v1/health (baseline)", health))
    for kind in KINDS:
        if kind in search:
            print(line(f"package_search {kind}", search[kind]))
    everything = [t for times in search.values() for t in times]
    print(line("package_search, whole mix", everything))
    h50, h99 = percentiles(health)
    s50, s99 = percentiles(everything)
    print(f"garbage collector during the searches: {collections.summary()}")
    print(f"ratio package_search / health: p50 {s50 / h50:.1f}x  p99 {s99 / h99:.1f}x")
    verdict = "meets" if s99 < 50 else "misses"
    print(f"goal: package_search p99 < 50 ms over 10,000 resources -> {verdict} it ({s99:.1f} ms, {total:,} resources)")
    if statements:
        print("SQL statements per request: " + ", ".join(f"{k}={v}" for k, v in per_kind.items()))
    if profiled:
        pstats.Stats(profiled.profile).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiled.profile).sort_stats("tottime").print_stats(25)


def _statements(client: httpx.Client, statements: Statements, mix: list[tuple[str, str]]) -> dict[str, str]:
    """Statements per request of each kind, over one request of each."""
    seen: dict[str, str] = {}
    for kind, path in mix:
        if kind not in seen:
            before = statements.count
            client.get(path).raise_for_status()
            seen[kind] = str(statements.count - before)
    return seen


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--home", type=Path, help="build (or with --reuse, serve) this data home, kept afterwards")
    parser.add_argument("--reuse", action="store_true", help="serve the existing --home (or --postgres) as it is")
    parser.add_argument("--postgres", metavar="URL", help="metadata in this PostgreSQL database (emptied first)")
    parser.add_argument("--profile", choices=["server", "statements"])
    args = parser.parse_args()
    if args.reuse and not (args.home or args.postgres):
        parser.error("--reuse needs --home or --postgres")
    with tempfile.TemporaryDirectory(prefix="digigov-bench-") as folder:
        home = args.home or Path(folder)
        home.mkdir(parents=True, exist_ok=True)
        if args.postgres:
            url = "postgresql+psycopg://" + args.postgres.split("://", 1)[1]
            if not args.reuse:
                _empty_postgres(url)
        else:
            url = f"sqlite:///{home / 'digigov.db'}"
            if not args.reuse:
                (home / "digigov.db").unlink(missing_ok=True)
        measure(args, url, home)


if __name__ == "__main__":
    main()
