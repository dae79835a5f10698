"""Catalog pages: search with facets, the resource page, the review queue and its actions."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.catalog import service
from digigov.catalog.schemas import ResourceCreate
from tests.catalog.test_service import dept
from tests.conftest import actor_named, database_state, login
from tests.helpers import csrf_of, flash_error


def _draft(session: Session, code: str = "hz-sbwx", title: str = "设备维修信息") -> None:
    steward = actor_named(session, "steward")
    body = {
        "code": code,
        "title": title,
        "department_id": dept(session, "HZ-SJJ"),
        "open_type": "unconditional",
        "share_type": "unconditional",
        "abstract": "特种设备维修单位的维修记录，每月更新一次。",
        "keywords": ["特种设备"],
    }
    service.create_resource(session, steward, ResourceCreate.model_validate(body))


def test_search_page_with_facets(client: TestClient, session: Session) -> None:
    _draft(session)
    login(client, "steward")
    html = client.get("/catalog", params={"q": "维修"}).text
    assert "设备维修信息" in html and "共 1 个数据资源" in html
    assert "无条件共享" in html and "无条件开放" in html and "杭州市市场监督管理局" in html
    none = client.get("/catalog", params={"q": "维修", "open_type": "prohibited"}).text
    assert "共 0 个数据资源" in none and "没有找到匹配的数据资源" in none


def test_submit_then_review_through_the_pages(client: TestClient, session: Session) -> None:
    _draft(session)
    login(client, "steward")
    page = client.get("/catalog/hz-sbwx")
    assert page.status_code == 200 and "提交审核" in page.text and "元数据完整度" in page.text
    submitted = client.post("/catalog/hz-sbwx/submit", data={"csrf": csrf_of(page.text)}, follow_redirects=True)
    assert "已提交审核" in submitted.text and "待审核" in submitted.text
    client.cookies.clear()
    login(client, "reviewer")
    queue = client.get("/catalog/review").text
    assert "设备维修信息" in queue and "新发布" in queue
    page = client.get("/catalog/hz-sbwx")
    refused = client.post("/catalog/hz-sbwx/return", data={"csrf": csrf_of(page.text), "reason": " "})
    assert refused.status_code == 400 and "请填写理由" in flash_error(refused.text)
    published = client.post("/catalog/hz-sbwx/publish", data={"csrf": csrf_of(page.text)}, follow_redirects=True)
    assert "已发布" in published.text


def test_refused_actions_change_nothing(client: TestClient, session: Session) -> None:
    _draft(session)
    login(client, "steward")
    page = client.get("/catalog/hz-sbwx")
    before = database_state(session)
    assert client.post("/catalog/hz-sbwx/submit", data={"csrf": "wrong"}).status_code == 403
    refused = client.post("/catalog/hz-sbwx/publish", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    after = database_state(session)
    assert {k for k in before if before[k] != after[k]} <= {"web_session"}
    client.cookies.clear()
    login(client, "consumer")
    assert client.get("/catalog/hz-sbwx").status_code == 404  # someone else's draft
    assert client.get("/catalog/review").status_code == 403
