"""The data page: upload through the form, the report and preview, and refusals shown in place."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.catalog import service
from digigov.catalog.schemas import ResourceCreate
from tests.catalog.test_service import dept
from tests.conftest import actor_named, database_state, login
from tests.helpers import csrf_of, flash_error


def test_upload_report_and_preview(client: TestClient, session: Session) -> None:
    body = {"code": "hz-up", "title": "上传测试", "department_id": dept(session, "HZ-SJJ")}
    service.create_resource(session, actor_named(session, "steward"), ResourceCreate.model_validate(body))
    login(client, "steward")
    page = client.get("/catalog/hz-up/data")
    assert "还没有数据版本" in page.text and "上传新版本" in page.text
    csv = "统一社会信用代码,名称,注册资本（万元）\n91110000600037341L,甲,100.5\n".encode("gb18030")
    done = client.post(
        "/catalog/hz-up/data",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("名录.csv", csv, "text/csv")},
        follow_redirects=True,
    )
    assert "已导入为第 1 版" in done.text and "gb18030" in done.text and "91110000600037341L" in done.text
    before = database_state(session)
    refused = client.post(
        "/catalog/hz-up/data", data={"csrf": csrf_of(done.text)}, files={"file": ("e.csv", b"", "text/csv")}
    )
    assert refused.status_code == 422 and "空" in flash_error(refused.text)
    assert database_state(session) == before
    assert client.post("/catalog/hz-up/data", data={"csrf": "x"}, files={"file": ("a.csv", csv)}).status_code == 403
