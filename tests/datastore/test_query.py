"""Querying a version: fields, filters, text search, sort, keyset pages, exact totals; no SQL from callers."""

from __future__ import annotations

import io
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.catalog import service
from digigov.catalog.schemas import ResourceCreate
from digigov.core.config import Settings
from digigov.datastore import versions
from tests.catalog.test_service import dept
from tests.conftest import actor_named

CSV = "统一社会信用代码,企业名称,从业人数,成立日期\n" + "".join(
    f"91330100MA{n:07d}X,企业{n},{n * 3},2020-01-{n % 28 + 1:02d}\n" for n in range(1, 251)
)


@pytest.fixture
def published(session: Session, settings: Settings) -> str:
    steward, reviewer = actor_named(session, "steward"), actor_named(session, "reviewer")
    body = {
        "code": "zj-qy",
        "title": "企业名录",
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": "unconditional",
        "open_type": "unconditional",
    }
    service.create_resource(session, steward, ResourceCreate.model_validate(body))
    versions.ingest_file(
        session, steward, home=settings.home, resource_code="zj-qy", upload=io.BytesIO(CSV.encode()), filename="qy.csv"
    )
    service.submit_resource(session, steward, code="zj-qy")
    service.publish_resource(session, reviewer, code="zj-qy")
    return "/api/v1/resources/zj-qy/versions/1/rows"


def test_fields_filters_sort_and_totals(client: TestClient, token_for, published: str) -> None:  # type: ignore[no-untyped-def]
    headers = token_for("consumer")
    page = client.get(published, params={"limit": 5}, headers=headers).json()
    assert page["total"] == 250 and [r["_id"] for r in page["records"]] == [1, 2, 3, 4, 5]
    assert page["fields"][0] == {"id": "_id", "type": "integer"}
    filtered = client.get(
        published,
        headers=headers,
        params={
            "fields": "企业名称,从业人数",
            "filters": json.dumps({"从业人数": {"ge": 600}}),
            "sort": "从业人数 desc",
            "limit": 3,
        },
    ).json()
    assert filtered["total"] == 51 and [r["从业人数"] for r in filtered["records"]] == [750, 747, 744]
    assert set(filtered["records"][0]) == {"_id", "企业名称", "从业人数"}
    exact = client.get(
        published, headers=headers, params={"filters": json.dumps({"统一社会信用代码": "91330100MA0000007X"})}
    )
    assert [r["企业名称"] for r in exact.json()["records"]] == ["企业7"]
    text = client.get(published, headers=headers, params={"q": "企业12", "limit": 100}).json()
    assert text["total"] == 11  # 企业12, 企业120-129
    fields_only = client.get(published, headers=headers, params={"limit": 0}).json()
    assert fields_only["records"] == [] and len(fields_only["fields"]) == 5


def test_keyset_paging_visits_every_row_once(client: TestClient, token_for, published: str) -> None:  # type: ignore[no-untyped-def]
    headers, seen, after = token_for("consumer"), [], None
    while True:
        params = {"limit": 100} | ({"after": after} if after is not None else {})
        page = client.get(published, params=params, headers=headers).json()
        seen += [r["_id"] for r in page["records"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == list(range(1, 251))


@pytest.mark.parametrize(
    "params",
    [
        {"fields": "企业名称,password"},
        {"filters": json.dumps({"企业名称; DROP TABLE x": 1})},
        {"filters": json.dumps({"从业人数": {"like": "%"}})},
        {"filters": json.dumps({"从业人数": "many"})},
        {"filters": "not json"},
        {"sort": "nosuchfield desc"},
    ],
)
def test_bad_queries_are_specific_422s(client: TestClient, token_for, published: str, params: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    response = client.get(published, params=params, headers=token_for("consumer"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid"


def test_conditional_resources_need_a_grant(
    client: TestClient, token_for, session: Session, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    steward = actor_named(session, "steward")
    body = {
        "code": "zj-cond",
        "title": "有条件",
        "department_id": dept(session, "HZ-SJJ"),
        "share_condition": "监管用途",
        "open_type": "prohibited",
    }
    service.create_resource(session, steward, ResourceCreate.model_validate(body))
    versions.ingest_file(
        session, steward, home=settings.home, resource_code="zj-cond", upload=io.BytesIO(CSV.encode()), filename="c.csv"
    )
    service.submit_resource(session, steward, code="zj-cond")
    service.publish_resource(session, actor_named(session, "reviewer"), code="zj-cond")
    url = "/api/v1/resources/zj-cond/versions/1/rows"
    assert client.get(url, headers=token_for("consumer")).status_code == 403
    assert client.get(url, headers=token_for("steward")).json()["total"] == 250


def test_ckan_datastore_search_and_resource_show(client: TestClient, token_for, published: str) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": token_for("consumer")["Authorization"].removeprefix("Bearer ")}
    call = "/api/3/action/"
    fields = client.post(call + "datastore_search", json={"resource_id": "zj-qy", "limit": 0}, headers=headers).json()
    assert fields["success"] and fields["result"]["records"] == []
    assert [f["type"] for f in fields["result"]["fields"]] == ["int", "text", "text", "int", "date"]
    found = client.post(
        call + "datastore_search",
        headers=headers,
        json={"resource_id": "zj-qy-v1", "filters": {"企业名称": "企业9"}, "fields": ["企业名称", "成立日期"]},
    ).json()
    assert found["result"]["total"] == 1 and found["result"]["records"][0]["成立日期"] == "2020-01-10"
    shown = client.get(call + "resource_show", params={"id": "zj-qy-v1"}, headers=headers).json()["result"]
    assert shown["datastore_active"] and shown["package_id"] == "zj-qy"
    package = client.get(call + "package_show", params={"id": "zj-qy"}, headers=headers).json()["result"]
    assert [r["id"] for r in package["resources"]] == ["zj-qy-v1"]
    bad = client.post(call + "datastore_search", json={"resource_id": "zj-qy", "filters": {"x": 1}}, headers=headers)
    assert bad.status_code == 409 and bad.json()["error"]["__type"] == "Validation Error"


def test_downloads_in_every_format(client: TestClient, token_for, published: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import io as _io

    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    headers = token_for("consumer")
    base = "/api/v1/resources/zj-qy/versions/1/download"
    csv = client.get(base, params={"format": "csv"}, headers=headers)
    assert csv.content.startswith("\ufeff统一社会信用代码,".encode()) and csv.text.count("\n") == 251
    assert "attachment" in csv.headers["content-disposition"]
    rows = client.get(base, params={"format": "json"}, headers=headers).json()
    assert len(rows) == 250 and rows[0]["企业名称"] == "企业1"
    table = pq.read_table(_io.BytesIO(client.get(base, params={"format": "parquet"}, headers=headers).content))
    assert table.num_rows == 250
    book = load_workbook(_io.BytesIO(client.get(base, params={"format": "xlsx"}, headers=headers).content))
    assert book.active.max_row == 251
    package = client.get("/api/v1/resources/zj-qy/versions/1/datapackage.json", headers=headers).json()
    assert package["resources"][0]["schema"]["fields"][3] == {"name": "成立日期", "type": "date"}
    assert client.get(base, params={"format": "exe"}, headers=headers).status_code == 422


def test_xlsx_cells_cannot_run_formulas(client: TestClient, token_for, session: Session, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    import io as _io

    from openpyxl import load_workbook

    steward = actor_named(session, "steward")
    body = {
        "code": "zj-inj",
        "title": "注入",
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": "unconditional",
        "open_type": "unconditional",
    }
    service.create_resource(session, steward, ResourceCreate.model_validate(body))
    evil = '名称,备注\n"=HYPERLINK(""http://x"",""点我"")",+1\n@SUM(A1),-2-3\n'
    versions.ingest_file(
        session,
        steward,
        home=settings.home,
        resource_code="zj-inj",
        upload=io.BytesIO(evil.encode()),
        filename="evil.csv",
    )
    content = client.get(
        "/api/v1/resources/zj-inj/versions/1/download", params={"format": "xlsx"}, headers=token_for("steward")
    ).content
    cells = [c.value for row in load_workbook(_io.BytesIO(content)).active.iter_rows(min_row=2) for c in row]
    assert all(not str(v).startswith(("=", "+", "-", "@")) for v in cells), cells
    assert cells[0] == '\'=HYPERLINK("http://x","点我")'
