"""Catalog over HTTP: create, search with facets, review, refusals as problem+json."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.identity.models import Department
from tests.conftest import database_state


def _body(session: Session, code: str, title: str) -> dict[str, object]:
    dept = session.scalars(select(Department.id).where(Department.code == "HZ-SJJ")).one()
    return {
        "code": code,
        "title": title,
        "department_id": dept,
        "category": "base",
        "base_type": "legal_entity",
        "abstract": "北京市登记的上市公司分支机构名称、性质、统一社会信用代码。",
        "update_cycle": "monthly",
        "share_type": "conditional",
        "share_condition": "用于企业监管",
        "open_type": "restricted",
        "open_condition": "申请审批后开放",
        "keywords": ["上市公司", "企业"],
        "fields": [{"name": "统一社会信用代码", "title": "统一社会信用代码", "type": "string", "is_key": True}],
    }


def test_steward_creates_reviewer_publishes_consumer_finds(client: TestClient, token_for, session: Session) -> None:  # type: ignore[no-untyped-def]
    steward, reviewer, consumer = token_for("steward"), token_for("reviewer"), token_for("consumer")
    created = client.post("/api/v1/resources", json=_body(session, "bj-ssgs", "上市公司名录"), headers=steward)
    assert created.status_code == 201, created.text
    assert created.json()["labels"] == {
        "category": "基础库",
        "base_type": "法人单位",
        "update_cycle": "每月",
        "share_type": "有条件共享",
        "open_type": "受限开放",
        "grade": None,
        "state": "草稿",
    }
    assert client.get("/api/v1/resources/bj-ssgs", headers=consumer).status_code == 404  # a draft
    assert client.post("/api/v1/resources/bj-ssgs/submit", headers=steward).status_code == 200
    queue = client.get("/api/v1/resources/review-queue", headers=reviewer).json()
    assert [r["code"] for r in queue] == ["bj-ssgs"]
    assert client.post("/api/v1/resources/bj-ssgs/publish", headers=reviewer).json()["state"] == "published"
    found = client.get("/api/v1/resources", params={"q": "上市 公司"}, headers=consumer).json()
    assert [r["code"] for r in found["results"]] == ["bj-ssgs"]
    assert found["facets"]["category"] == [{"value": "base", "label": "基础库", "count": 1}]
    assert found["facets"]["department"][0]["label"] == "杭州市市场监督管理局"
    score = client.get("/api/v1/resources/bj-ssgs/completeness", headers=consumer).json()
    assert score["score"] >= 80 and "联系方式" in score["missing"]


def test_refusals_are_specific_and_change_nothing(client: TestClient, token_for, session: Session) -> None:  # type: ignore[no-untyped-def]
    steward, consumer = token_for("steward"), token_for("consumer")
    assert client.post("/api/v1/resources", json=_body(session, "bj-x", "甲"), headers=steward).status_code == 201
    before = database_state(session)
    bad_share = {**_body(session, "bj-y", "乙"), "share_type": "none"}
    cases = [
        ("post", "/api/v1/resources", _body(session, "bj-x", "重复"), steward, 409, "resource_code_taken"),
        ("post", "/api/v1/resources", bad_share, steward, 422, "missing_basis"),
        ("post", "/api/v1/resources", {**_body(session, "bad/code", "丙")}, steward, 422, "invalid"),
        ("post", "/api/v1/resources", _body(session, "bj-z", "丁"), consumer, 403, "forbidden"),
        ("post", "/api/v1/resources/bj-x/publish", None, steward, 403, "forbidden"),
        ("post", "/api/v1/resources/bj-x/withdraw", {"reason": "x"}, steward, 409, "illegal_transition"),
        ("patch", "/api/v1/resources/bj-x", {}, steward, 422, "invalid"),
        ("get", "/api/v1/resources/nope", None, steward, 404, "not_found"),
    ]
    for method, url, body, headers, status, code in cases:
        response = client.request(method, url, json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (status, code), (url, response.text)
    after = database_state(session)
    assert {k for k in before if before[k] != after[k]} <= {"api_token"}
