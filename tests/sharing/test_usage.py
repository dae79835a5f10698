"""Usage statistics across grants (调用统计): by grant, consuming department and resource, by kind and by
China day; who sees which calls (API matrix), the page with its charts, and `digigov share usage`."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from digigov.cli import app
from digigov.core import migrate, workdays
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work, utcnow
from digigov.core.errors import Forbidden, Invalid
from digigov.datastore import versions
from digigov.demo import load_demo, load_reference_data
from digigov.sharing import data, export, service, usage
from digigov.sharing.models import GrantCall
from digigov.sharing.schemas import UsageBy
from tests.conftest import actor_named
from tests.sharing.conftest import CODE, PERSONS, publish_persons
from tests.sharing.test_sharing import approved
from tests.sharing.test_sharing_api import BASE, DATA, body, granted
from tests.sharing.test_sharing_pages import as_user

ID, NAME = "公民身份号码", "姓名"
FIRST = PERSONS.slice(0, 1).to_pylist()[0]
RSJ, DSJ = "杭州市人力资源和社会保障局", "浙江省大数据发展管理局"


def called(client: TestClient, token_for: Any) -> dict[str, int]:
    """The consumer's lookup grant called three times, the platform's own query grant twice: grant ids."""
    lookup_id, lookup_key = granted(client, token_for)
    for headers in [{"X-Grant-Key": lookup_key}] * 2:
        assert client.get(f"{DATA}/lookup", params={"key": FIRST[ID]}, headers=headers).status_code == 200
    verify = {"values": {ID: FIRST[ID], NAME: FIRST[NAME]}}
    assert client.post(f"{DATA}/verify", json=verify, headers={"X-Grant-Key": lookup_key}).status_code == 200
    # the bureau's admin asks for the same resource for its own department (浙江省大数据局)
    request = client.post(
        f"{BASE}/requests", json=body(access="query", key_field=None), headers=token_for("admin")
    ).json()
    url = f"{BASE}/requests/{request['id']}"
    client.post(f"{url}/source-decision", json={"approve": True}, headers=token_for("steward"))
    decided = client.post(f"{url}/platform-decision", json={"approve": True}, headers=token_for("reviewer")).json()
    issued = client.post(f"{BASE}/grants/{decided['grant_id']}/credential", headers=token_for("admin")).json()
    query_key = {"X-Grant-Key": issued["credential"]}
    assert client.post(f"{DATA}/query", json={"limit": 5}, headers=query_key).status_code == 200
    assert client.get(f"{DATA}/export", headers=query_key).status_code == 200
    return {"lookup": lookup_id, "query": decided["grant_id"]}


def stats(client: TestClient, headers: dict[str, str], **params: str) -> Any:
    reply = client.get(f"{BASE}/usage", params=params, headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.mark.usefixtures("persons")
def test_statistics_by_department_grant_and_resource(client: TestClient, token_for: Any) -> None:
    grants = called(client, token_for)
    today = workdays.china_today().isoformat()
    by_department = stats(client, token_for("reviewer"), by="department")
    assert (by_department["calls"], by_department["rows"]) == (5, 2 + 5 + len(PERSONS))
    assert by_department["by_day"] == {today: {"calls": 5, "rows": 207}}
    consumer, platform = by_department["groups"]  # most calls first
    assert (consumer["name"], consumer["calls"], consumer["rows"]) == (RSJ, 3, 2)
    assert consumer["by_kind"] == {"lookup": {"calls": 2, "rows": 2}, "verify": {"calls": 1, "rows": 0}}
    assert (platform["name"], platform["calls"]) == (DSJ, 2)
    assert platform["by_kind"] == {"query": {"calls": 1, "rows": 5}, "export": {"calls": 1, "rows": len(PERSONS)}}
    assert platform["by_day"] == {today: {"calls": 2, "rows": 205}}

    by_grant = stats(client, token_for("admin"), by="grant")
    assert [(g["key"], g["code"], g["calls"]) for g in by_grant["groups"]] == [
        (grants["lookup"], CODE, 3),
        (grants["query"], CODE, 2),
    ]
    (resource,) = stats(client, token_for("auditor"), by="resource")["groups"]
    assert (resource["code"], resource["name"], resource["calls"]) == (CODE, "人口基础信息（合成）", 5)
    assert sorted(resource["by_kind"]) == ["export", "lookup", "query", "verify"]


# by department, what each role sees of the five calls: the platform all; the source department the
# use of its resource by both; the consumer its own three; the inspector (no right) nothing.
MATRIX = {
    "admin": (200, {DSJ, RSJ}),
    "reviewer": (200, {DSJ, RSJ}),
    "auditor": (200, {DSJ, RSJ}),
    "steward": (200, {DSJ, RSJ}),
    "consumer": (200, {RSJ}),
    "inspector": (403, set()),
}


@pytest.mark.usefixtures("persons")
def test_who_sees_which_calls(client: TestClient, token_for: Any) -> None:
    called(client, token_for)
    for role, (status, names) in MATRIX.items():
        reply = client.get(f"{BASE}/usage", params={"by": "department"}, headers=token_for(role))
        assert reply.status_code == status, (role, reply.text)
        if status == 200:
            assert {g["name"] for g in reply.json()["groups"]} == names, role
        else:
            assert reply.json()["code"] == "forbidden" and "查看共享调用统计" in reply.json()["detail"]
    mine = stats(client, token_for("consumer"), by="grant")
    assert (mine["calls"], len(mine["groups"])) == (3, 1)


@pytest.mark.usefixtures("persons")
def test_a_period_is_checked(client: TestClient, token_for: Any) -> None:
    called(client, token_for)
    reviewer = token_for("reviewer")
    today = workdays.china_today()
    empty = stats(
        client, reviewer, since=(today + timedelta(days=1)).isoformat(), until=(today + timedelta(days=9)).isoformat()
    )
    assert (empty["calls"], empty["groups"], empty["by_day"]) == (0, [], {})
    default = stats(client, reviewer)
    assert (default["by"], default["since"], default["until"]) == ("grant", str(today - timedelta(days=29)), str(today))
    for params, words in [
        ({"since": "2026-03-02", "until": "2026-03-01"}, "晚于截止日"),
        ({"since": "2024-01-01", "until": "2026-01-01"}, "最长 366 天"),
    ]:
        reply = client.get(f"{BASE}/usage", params=params, headers=reviewer)
        assert (reply.status_code, reply.json()["code"]) == (422, "invalid") and words in reply.json()["detail"]
    for params in ({"by": "person"}, {"since": "2026-02-30"}):
        assert client.get(f"{BASE}/usage", params=params, headers=reviewer).status_code == 422


@pytest.mark.usefixtures("persons")
def test_days_are_china_days(session: Session, consumer: Actor, steward: Actor, admin: Actor) -> None:
    grant = approved(session, consumer, steward, admin)
    # 15:59 UTC is 23:59 in China on 1 March; 16:00 UTC is already 2 March there
    for at, kind, rows in [
        (datetime(2026, 3, 1, 15, 59), "lookup", 1),
        (datetime(2026, 3, 1, 16, 0), "lookup", 2),
        (datetime(2026, 3, 2, 2, 0), "verify", 0),
        (datetime(2026, 2, 28, 15, 59), "lookup", 9),  # 28 February in China: before the period
    ]:
        hashes = {"request_hash": "0" * 64, "response_hash": "0" * 64}
        session.add(
            GrantCall(grant_id=grant.id, at=at, kind=kind, caller="x", fields=[], rows=rows, version_number=1, **hashes)
        )
    session.flush()
    found = usage.usage_statistics(session, admin, by=UsageBy.grant, since=date(2026, 3, 1), until=date(2026, 3, 2))
    (group,) = found.groups
    assert {d.isoformat(): (t.calls, t.rows) for d, t in group.by_day.items()} == {
        "2026-03-01": (1, 1),
        "2026-03-02": (2, 2),
    }
    assert (group.calls, group.rows, found.calls) == (3, 3, 3)
    with pytest.raises(Forbidden):
        inspector = actor_named(session, "inspector")
        usage.usage_statistics(session, inspector, by=UsageBy.grant, since=date(2026, 3, 1), until=date(2026, 3, 2))
    with pytest.raises(Invalid):
        usage.period(date(2026, 3, 2), date(2026, 3, 1), today=date(2026, 3, 2))


@pytest.mark.usefixtures("persons")
def test_the_usage_page(client: TestClient, token_for: Any) -> None:
    grants = called(client, token_for)
    as_user(client, "reviewer", "/sharing")
    assert 'id="usage-link"' in client.get("/sharing").text
    page = client.get("/sharing/usage")
    assert page.status_code == 200 and "共享调用统计" in page.text and 'id="usage-calls">5<' in page.text
    assert f'id="usage-{grants["lookup"]}"' in page.text and f'href="/sharing/grants/{grants["query"]}"' in page.text
    assert "/static/echarts.min.js" in page.text and '"按键查询"' in page.text and "批量导出 1 次 / 200 条" in page.text
    by_department = client.get("/sharing/usage", params={"by": "department"}).text
    assert RSJ in by_department and DSJ in by_department and "按需求部门" in by_department
    bad = client.get("/sharing/usage", params={"since": "2026-13-01"})
    assert bad.status_code == 422 and "起始日“2026-13-01”不是日期" in bad.text and 'id="usage-table"' not in bad.text
    as_user(client, "consumer", "/sharing/usage?by=department")
    mine = client.get("/sharing/usage", params={"by": "department"}).text
    assert RSJ in mine and DSJ not in mine and 'id="usage-calls">3<' in mine
    as_user(client, "inspector", "/sharing")
    assert 'id="usage-link"' not in client.get("/sharing").text
    assert client.get("/sharing/usage").status_code == 403


# ---- the command line -----------------------------------------------------------------------------


def run(home: Path, *args: str) -> tuple[int, str, str]:
    env = {"DIGIGOV_HOME": str(home), "LANG": "C.UTF-8", "DIGIGOV_LANG": None, "DIGIGOV_DATABASE_URL": None}
    result = CliRunner().invoke(app, ["share", "usage", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data home with the steward's persons and a query grant of the consumer's, called twice."""
    path = tmp_path_factory.mktemp("usage-home")
    engine = make_engine(Settings(home=path).resolved_database_url())
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_reference_data(session)
        load_demo(session, password="cli-test-password-2026")
    with unit_of_work(engine) as session:
        steward, consumer = actor_named(session, "steward"), actor_named(session, "consumer")
        publish_persons(session, steward, actor_named(session, "reviewer"), path)
        grant = approved(session, consumer, steward, actor_named(session, "admin"), access="query", key_field=None)
        _, secret = service.issue_credential(session, consumer, grant_id=grant.id, today=workdays.china_today())
    with unit_of_work(engine) as session:  # as the data API calls: a session that has written nothing
        opened = data.open_grant(session, secret, today=workdays.china_today())
        caller = data.Caller("chenjing")
        data.verify(session, path, opened, values={ID: FIRST[ID]}, caller=caller, now=utcnow())
        shutil.rmtree(export.export(session, path, opened, fmt="csv", number=None, caller=caller, now=utcnow()).folder)
    versions.wait_for_lookups()
    engine.dispose()
    return path


def test_share_usage_prints_each_group(home: Path) -> None:
    code, out, err = run(home, "--by", "department")
    assert code == 0, err
    assert f"by department: 2 calls, {len(PERSONS)} rows" in out
    assert f"HZ-RSJ {RSJ}: 2 calls, {len(PERSONS)} rows (export 1, verify 1)" in out
    code, out, err = run(home, "--by", "resource", "--json")
    assert code == 0, err
    (group,) = json.loads(out)["groups"]
    assert (group["code"], group["by_kind"]["export"]) == (CODE, {"calls": 1, "rows": len(PERSONS)})
    code, out, _ = run(home, "--as", "consumer")
    assert code == 0 and f"#1 {CODE} {RSJ}: 2 calls" in out


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["--as", "inspector"], 4, "Your roles do not allow 'sharing.usage.read'"),
        (["--as", "nobody"], 3, "No user is named nobody."),
        (["--since", "2026-03-02", "--until", "2026-03-01"], 2, "The period starts (2026-03-02) after it ends"),
        (["--since", "2026-13-01"], 2, "Invalid value for '--since'"),
        (["--by", "person"], 2, "'person' is not one of"),
    ],
)
def test_share_usage_refuses_bad_input(home: Path, args: list[str], exit_code: int, message: str) -> None:
    code, _, err = run(home, *args)
    assert code == exit_code and message in " ".join(err.split()), err
