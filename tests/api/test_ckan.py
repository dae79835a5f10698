"""The CKAN-compatible API, driven by the real `ckanapi` client against uvicorn on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import ckanapi
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.catalog import service
from digigov.catalog.schemas import ResourceCreate
from tests.catalog.test_service import dept
from tests.conftest import actor_named


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The real app under uvicorn on 127.0.0.1, its sessions inside the test's transaction."""
    port = _free_port()
    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not runner.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runner.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    runner.should_exit = True
    thread.join(10)


def _publish(session: Session, code: str, title: str, **extra: object) -> None:
    steward, reviewer = actor_named(session, "steward"), actor_named(session, "reviewer")
    body = {
        "code": code,
        "title": title,
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": "unconditional",
        "open_type": "unconditional",
        "abstract": "测试用的数据资源摘要，描述其内容与用途。",
        "keywords": ["企业"],
        **extra,
    }
    service.create_resource(session, steward, ResourceCreate.model_validate(body))
    service.submit_resource(session, steward, code=code)
    service.publish_resource(session, reviewer, code=code)
    session.commit()  # releases the savepoint; the test's outer transaction still rolls back


def test_remote_ckan_reads_the_catalog(server: str, session: Session, token_for) -> None:  # type: ignore[no-untyped-def]
    _publish(session, "bj-ssgs", "上市公司名录", subjects=["法人单位"], keywords=["上市公司", "企业"])
    _publish(session, "bj-gxqy", "高新技术企业库")
    key = token_for("consumer")["Authorization"].removeprefix("Bearer ")
    session.commit()
    ckan = ckanapi.RemoteCKAN(server, apikey=key)
    assert ckan.action.status_show()["ckan_version"].startswith("2.")
    assert ckan.action.package_list() == ["bj-gxqy", "bj-ssgs"]
    package = ckan.action.package_show(id="bj-ssgs")
    assert package["title"] == "上市公司名录" and package["organization"]["title"] == "杭州市市场监督管理局"
    assert {"key": "share_type", "value": "unconditional"} in package["extras"]
    found = ckan.action.package_search(q="上市", facet_field=None, **{"facet.field": '["organization","tags"]'})
    assert found["count"] == 1 and found["results"][0]["name"] == "bj-ssgs"
    assert found["search_facets"]["organization"]["items"][0]["name"] == "HZ-SJJ"
    by_org = ckan.action.package_search(fq="organization:HZ-SJJ", rows=1000)
    assert by_org["count"] == 2
    assert ckan.action.organization_show(id="HZ-SJJ")["package_count"] == 2
    assert "HZ-SJJ" in ckan.action.organization_list()
    assert ckan.action.group_list() == ["法人单位"]
    assert ckan.action.tag_list() == ["上市公司", "企业"]
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="nope")
    anonymous = ckanapi.RemoteCKAN(server)
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_list()


def test_remote_ckan_writes_as_a_steward(server: str, session: Session, token_for) -> None:  # type: ignore[no-untyped-def]
    key = token_for("steward")["Authorization"].removeprefix("Bearer ")
    session.commit()
    ckan = ckanapi.RemoteCKAN(server, apikey=key)
    created = ckan.action.package_create(
        name="hz-aqsc",
        title="安全生产检查信息",
        notes="区县安全生产执法检查记录。",
        owner_org="HZ-SJJ",
        tags=[{"name": "安全生产"}],
        extras=[{"key": "share_type", "value": "unconditional"}],
    )
    assert created["name"] == "hz-aqsc" and created["state"] == "draft"
    patched = ckan.action.package_patch(id="hz-aqsc", title="安全生产执法检查信息")
    assert patched["title"] == "安全生产执法检查信息"
    revised = ckan.action.package_revise(match={"name": "hz-aqsc"}, update={"notes": "更新后的摘要"})
    assert revised["package"]["notes"] == "更新后的摘要"
    with pytest.raises(ckanapi.ValidationError) as taken:
        ckan.action.package_create(name="hz-aqsc", title="重复", owner_org="HZ-SJJ")
    assert taken.value.error_dict["__type"] == "Validation Error"
    with pytest.raises(ckanapi.ValidationError) as bad:
        ckan.action.package_create(name="bad name!", title="x", owner_org="HZ-SJJ")
    assert "code" in bad.value.error_dict
    with pytest.raises(ckanapi.NotAuthorized):
        ckan.action.package_create(name="hz-other", title="他部门", owner_org="HZ-RSJ")


def test_ckanapi_cli_search_and_dump(server: str, session: Session, token_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _publish(session, "bj-a", "甲资源")
    _publish(session, "bj-b", "乙资源")
    key = token_for("consumer")["Authorization"].removeprefix("Bearer ")
    session.commit()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    cli = [str(Path(sys.executable).parent / "ckanapi")]
    searched = subprocess.run(
        [*cli, "search", "datasets", "-r", server, "-a", key], capture_output=True, text=True, env=env, timeout=120
    )
    assert searched.returncode == 0, searched.stderr
    names = sorted(json.loads(line)["name"] for line in searched.stdout.splitlines())
    assert names == ["bj-a", "bj-b"]
    out = tmp_path / "dump.jsonl"
    dumped = subprocess.run(
        [*cli, "dump", "datasets", "--all", "-r", server, "-a", key, "-O", str(out), "-p", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert dumped.returncode == 0, dumped.stderr
    assert sorted(json.loads(line)["name"] for line in out.read_text().splitlines()) == ["bj-a", "bj-b"]


def test_ckan_envelope_and_errors(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": token_for("consumer")["Authorization"].removeprefix("Bearer ")}
    ok = client.get("/api/3/action/package_search", params={"q": "x", "rows": 5}, headers=headers).json()
    assert ok["success"] is True and ok["help"].endswith("name=package_search")
    unknown = client.post("/api/3/action/datastore_search_sql", json={"sql": "SELECT 1"})
    assert unknown.status_code == 400 and unknown.json() == "Bad request - Action name not known: datastore_search_sql"
    too_many = client.get("/api/action/package_search", params={"rows": 1001}, headers=headers)
    assert too_many.status_code == 409 and too_many.json()["error"]["__type"] == "Validation Error"
    bad_fq = client.get("/api/action/package_search", params={"fq": "password:x"}, headers=headers)
    assert bad_fq.status_code == 400 and bad_fq.json()["error"]["__type"] == "Search Query Error"
    not_json = client.post("/api/action/package_show", content=b"{not json", headers=headers)
    assert not_json.status_code == 400
    deep = client.post("/api/action/package_show", content=b"[" * 100_000, headers=headers)
    assert deep.status_code == 400
    ignored = client.post("/api/action/package_list", json={"include_private": True, "whatever": 1}, headers=headers)
    assert ignored.json()["success"] is True
    assert client.get("/api/action/status_show").json()["success"] is True
    no_redirect = client.get("/api/action/package_list/", headers=headers, follow_redirects=False)
    assert no_redirect.status_code in {400, 404}
