"""Problem data over HTTP: raise, see, answer, extend, escalate and count, with the access rules."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.core.config import Settings
from tests.catalog.test_service import dept
from tests.conftest import actor_named
from tests.governance.test_problems import (  # noqa: F401  (fixtures)
    BAD_CODE,
    BAD_ROW,
    CODE,
    USCC,
    fixed_code,
    haidian,
    haidian_text,
    ingest,
)

BASE = "/api/v1/governance/problems"
CLAIM = {
    "resource_code": CODE,
    "field": USCC,
    "key_field": "序号",
    "key_value": BAD_ROW,
    "description": "统一社会信用代码校验位错误",
    "validator": "uscc",
}


@pytest.mark.usefixtures("haidian")
def test_the_loop_over_http(
    client: TestClient,
    session: Session,
    token_for: Any,
    settings: Settings,
) -> None:
    as_consumer, as_steward = token_for("consumer"), token_for("steward")
    raised = client.post(BASE, json=CLAIM, headers=as_consumer)
    assert raised.status_code == 201, raised.text
    problem = raised.json()
    assert (problem["state"], problem["observed"], problem["source"], problem["version"]) == (
        "open",
        BAD_CODE,
        "consumer",
        1,
    )
    again = client.post(BASE, json=CLAIM, headers=as_consumer).json()
    assert (again["id"], again["raises"]) == (problem["id"], 2)
    url = f"{BASE}/{problem['id']}"
    assert client.post(f"{url}/fixed", json={"version_number": 2}, headers=as_steward).status_code == 404
    ingest(session, actor_named(session, "steward"), settings.home, haidian_text())
    failed = client.post(f"{url}/fixed", json={"version_number": 2}, headers=as_steward).json()
    assert (failed["state"], failed["verified"]) == ("accepted", False)
    assert BAD_CODE in failed["verification"]["reason"]
    ingest(
        session, actor_named(session, "steward"), settings.home, haidian_text().replace(BAD_CODE, fixed_code(BAD_CODE))
    )
    closed = client.post(f"{url}/fixed", json={"version_number": 3}, headers=as_steward).json()
    assert (closed["state"], closed["verified"], closed["fixed_version"]) == ("closed", True, 3)
    steps = client.get(f"{url}/steps", headers=as_consumer).json()
    assert [s["action"] for s in steps] == ["open", "accept", "resolve", "reject", "resolve", "verify"]
    stats = client.get(f"{BASE}/statistics", headers=token_for("admin")).json()
    (row,) = [r for r in stats if r["department_id"] == dept(session, "HZ-SJJ")]
    assert (row["department"], row["raised"], row["closed"]) == ("杭州市市场监督管理局", 1, 1)


@pytest.mark.usefixtures("haidian")
def test_refusals_over_http(
    client: TestClient,
    session: Session,
    token_for: Any,
) -> None:
    problem = client.post(BASE, json=CLAIM, headers=token_for("consumer")).json()
    url = f"{BASE}/{problem['id']}"
    assert client.get(url, headers=token_for("auditor")).status_code == 200
    assert client.get(url, headers=token_for("inspector")).status_code == 404
    assert client.post(f"{url}/rejected", json={"reason": "x"}, headers=token_for("consumer")).status_code == 403
    assert client.post(f"{url}/rejected", json={"reason": ""}, headers=token_for("steward")).status_code == 422
    extended = client.post(f"{url}/extend", json={"reason": "需核实"}, headers=token_for("steward"))
    assert extended.status_code == 200 and extended.json()["extended"] is True
    assert client.post(f"{url}/extend", json={"reason": "再延"}, headers=token_for("steward")).status_code == 409
    bad = client.post(BASE, json=CLAIM | {"key_value": "999999"}, headers=token_for("consumer"))
    assert bad.status_code == 422 and "序号=999999" in bad.json()["detail"]
    assert client.post(f"{BASE}/escalate", headers=token_for("steward")).status_code == 403
    assert client.post(f"{BASE}/escalate", headers=token_for("admin")).status_code == 200
    move = client.post(
        f"/api/v1/work-items/{problem['item_id']}/moves", json={"action": "accept"}, headers=token_for("admin")
    )
    assert move.status_code == 409
    narrow = token_for("steward", scopes=["governance.problem.*"])
    assert client.post(f"{url}/rejected", json={"reason": "数据无误"}, headers=narrow).json()["state"] == "returned"
