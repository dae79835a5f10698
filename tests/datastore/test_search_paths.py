"""Every way a filtered read of a big version is answered gives the rows, order and totals a plain scan would.

A version of 150,000 rows spans several row groups; with and without the lookup files for its
identifier columns, the lookup shortcut, the two-step page read, the counted totals and the
one-query read of large pages all run, and each answer is checked against rows computed here.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.catalog import service
from digigov.catalog.schemas import ResourceCreate
from digigov.core.config import Settings
from digigov.datastore import versions
from tests.catalog.test_service import dept
from tests.conftest import actor_named

ROWS = 150_000
DISTRICTS = ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区", "富阳区", "临安区"]
LONG = "长" * 90  # 270 bytes: longer than the 256 bytes DuckDB keeps of a string in row-group statistics
URL = "/api/v1/resources/zj-paths/versions/1/rows"


def ident(n: int) -> str:
    """Row n's identifier: a permutation of 0..ROWS-1 with leading zeros, so the file is not sorted by it."""
    return f"{(n * 7919) % ROWS:08d}"


def note(n: int) -> str:
    """Unique text; every third row's shares a prefix longer than the statistics keep."""
    return f"{LONG}{n:06d}" if n % 3 == 0 else f"备注{n}"


def district(n: int) -> str:
    return DISTRICTS[(n * n) % len(DISTRICTS)]


def amount(n: int) -> int:
    return n % 977


def line(n: int) -> str:
    staff = "" if n % 11 == 0 else str(n % 300)
    active = "" if n % 13 == 0 else ("是" if n % 2 else "否")
    return (
        f"{ident(n)},{note(n)},{district(n)},{amount(n)},{n % 1000}.{n % 100:02d},{staff},"
        f"2021-03-{n % 28 + 1:02d},2021-03-{n % 28 + 1:02d} 08:{n % 60:02d}:00,{active}\n"
    )


CSV = "证件号码,备注,区县,金额,资本,人数,日期,登记时间,在业\n" + "".join(line(n) for n in range(ROWS))


@pytest.fixture(params=[True, False], ids=["with lookups", "without lookups"])
def search(request, session: Session, settings: Settings, client: TestClient, token_for):  # type: ignore[no-untyped-def]
    steward, reviewer = actor_named(session, "steward"), actor_named(session, "reviewer")
    body = {
        "code": "zj-paths",
        "title": "大表",
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": "unconditional",
        "open_type": "unconditional",
    }
    service.create_resource(session, steward, ResourceCreate.model_validate(body))
    versions.ingest_file(
        session,
        steward,
        home=settings.home,
        resource_code="zj-paths",
        upload=io.BytesIO(CSV.encode()),
        filename="p.csv",
    )
    service.submit_resource(session, steward, code="zj-paths")
    service.publish_resource(session, reviewer, code="zj-paths")
    headers = token_for("consumer")

    def get(filters: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        if filters is not None:
            params["filters"] = json.dumps(filters, ensure_ascii=False)
        response = client.get(URL, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    return get


def ids(page: dict[str, Any]) -> list[int]:
    return [r["_id"] for r in page["records"]]


def rows_where(test: Any) -> list[int]:
    return [n + 1 for n in range(ROWS) if test(n)]


def test_identifier_filters_with_other_conditions(search) -> None:  # type: ignore[no-untyped-def]
    row = 98_765
    one = search({"证件号码": ident(row)}, fields="金额,证件号码")
    assert one["records"] == [{"_id": row + 1, "金额": amount(row), "证件号码": ident(row)}]
    assert [f["id"] for f in one["fields"]] == ["_id", "金额", "证件号码"] and one["total"] == 1
    assert search({"证件号码": ident(row)}, fields="_id")["records"] == [{"_id": row + 1}]
    assert search({"区县": "西湖区"}, fields="区县,_id", limit=2)["records"] == [
        {"_id": n, "区县": "西湖区"} for n in rows_where(lambda n: district(n) == "西湖区")[:2]
    ]
    assert search({"证件号码": ident(row), "区县": district(row)})["total"] == 1
    assert search({"证件号码": ident(row), "区县": "不存在区"}) | {"fields": []} == {
        "fields": [],
        "records": [],
        "total": 0,
        "next_after": None,
    }
    assert ids(search({"证件号码": {"eq": ident(row)}, "金额": {"ge": amount(row)}})) == [row + 1]
    assert search({"证件号码": ident(row)}, q="备注")["total"] == (0 if row % 3 == 0 else 1)
    assert search({"证件号码": ident(row)}, offset=1)["records"] == []


def test_identifier_lists_sort_page_and_count(search) -> None:  # type: ignore[no-untyped-def]
    chosen = [5, 40_000, 77_777, 149_999, 120_000, 3]
    values = [ident(n) for n in chosen] + ["no-such-id"]
    in_order = sorted(n + 1 for n in chosen)
    assert ids(search({"证件号码": values})) == in_order
    assert search({"证件号码": values})["total"] == len(chosen)
    second = search({"证件号码": values}, limit=2, offset=2)
    assert ids(second) == in_order[2:4] and second["total"] == len(chosen) and second["next_after"] == in_order[3]
    assert ids(search({"证件号码": values}, limit=2, after=in_order[3])) == in_order[4:6]
    by_amount = sorted(chosen, key=lambda n: (-amount(n), n))
    page = search({"证件号码": values}, sort="金额 desc", limit=3, offset=1)
    assert ids(page) == [n + 1 for n in by_amount[1:4]] and page["total"] == len(chosen)
    assert search({"证件号码": values}, limit=0) | {"fields": []} == {
        "fields": [],
        "records": [],
        "total": len(chosen),
        "next_after": None,
    }


def test_long_text_values_are_found_despite_truncated_statistics(search) -> None:  # type: ignore[no-untyped-def]
    for n in (0, 3, 74_997, 149_997):
        assert ids(search({"备注": note(n)})) == [n + 1]
    assert search({"备注": LONG})["total"] == 0
    assert search({"备注": LONG + "0"})["total"] == 0
    wanted = [note(n) for n in (149_997, 6, 60_000)]
    assert ids(search({"备注": wanted})) == [7, 60_001, 149_998]


def test_district_totals_are_exact_however_asked(search) -> None:  # type: ignore[no-untyped-def]
    west = rows_where(lambda n: district(n) == "西湖区")
    deep = search({"区县": "西湖区"}, limit=25, offset=10_000)
    assert ids(deep) == west[10_000:10_025] and deep["total"] == len(west)
    assert search({"区县": {"eq": "西湖区"}}, limit=0)["total"] == len(west)
    two = rows_where(lambda n: district(n) in {"西湖区", "滨江区"})
    assert search({"区县": ["西湖区", "滨江区", "西湖区", "无此区"]}, limit=5)["total"] == len(two)
    rich = rows_where(lambda n: district(n) == "西湖区" and amount(n) >= 900)
    both = search({"区县": "西湖区", "金额": {"ge": 900}}, limit=10, offset=3)
    assert ids(both) == rich[3:13] and both["total"] == len(rich)
    assert search({"区县": "无此区"})["total"] == 0
    assert search({"区县": {"ne": "西湖区"}}, limit=1)["total"] == ROWS - len(west)


def test_small_and_large_pages_return_the_same_values(search) -> None:  # type: ignore[no-untyped-def]
    """Pages of up to 1,000 rows are read in two steps, larger ones in one query: both give equal records."""
    for filters, sort in [({"区县": "滨江区"}, None), (None, "资本 desc, 日期"), ({"人数": {"lt": 50}}, None)]:
        small = search(filters, sort=sort, limit=40)
        large = search(filters, sort=sort, limit=1_200)
        assert small["records"] == large["records"][:40]
        assert small["total"] == large["total"] and small["fields"] == large["fields"]
    record = search({"证件号码": ident(11)})["records"][0]
    assert record == search({"证件号码": ident(11)}, limit=1_001)["records"][0]
    assert record["人数"] is None and record["在业"] is True and record["日期"] == "2021-03-12"


def test_ckan_datastore_search_reads_the_same_rows(client: TestClient, token_for, search) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": token_for("consumer")["Authorization"].removeprefix("Bearer ")}
    chosen = [ident(n) for n in (11, 90_000, 4)]

    def action(**body: Any) -> dict[str, Any]:
        reply = client.post("/api/3/action/datastore_search", json={"resource_id": "zj-paths", **body}, headers=headers)
        assert reply.status_code == 200, reply.text
        return reply.json()["result"]  # type: ignore[no-any-return]

    found = action(filters={"证件号码": chosen}, limit=2)
    assert [r["_id"] for r in found["records"]] == [5, 12] and found["total"] == 3
    assert found["records"][0]["证件号码"] == ident(4) and found["records"][0]["资本"] == 4.04
    assert action(filters={"区县": "萧山区"}, limit=1, include_total=False)["total"] is None
    west = action(filters={"区县": "西湖区"}, limit=3, offset=7)
    assert west["total"] == len(rows_where(lambda n: district(n) == "西湖区"))


def test_a_filter_value_that_is_not_unicode_text_is_refused(client: TestClient, token_for, search) -> None:  # type: ignore[no-untyped-def]
    """A lone surrogate (valid JSON, not UTF-8) is a 422 on every path, the lookup one too."""
    filters = json.dumps({"证件号码": "\ud800"})  # ASCII JSON: the escape reaches the server as written
    response = client.get(URL, params={"filters": filters}, headers=token_for("consumer"))
    assert response.status_code == 422, response.text
    body = '{"resource_id": "zj-paths", "filters": ' + filters + "}"
    headers = {**token_for("consumer"), "Content-Type": "application/json"}
    ckan = client.post("/api/3/action/datastore_search", content=body, headers=headers)
    assert ckan.status_code == 409 and ckan.json()["success"] is False, ckan.text
