"""A version big enough to span many row groups: lookups for identifier columns, rows in `_id` order, exact totals."""

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

ROWS = 150_000
DISTRICTS = ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区", "富阳区", "临安区"]


def number(n: int) -> str:
    """Row n's identifier: a permutation of 0..ROWS-1 with leading zeros, so the file is not sorted by it."""
    return f"{(n * 7919) % ROWS:08d}"


def district(n: int) -> str:
    return DISTRICTS[(n * n) % len(DISTRICTS)]


CSV = "证件号码,区县,金额\n" + "".join(f"{number(n)},{district(n)},{n % 977}\n" for n in range(ROWS))


@pytest.fixture
def rows_url(session: Session, settings: Settings) -> str:
    steward, reviewer = actor_named(session, "steward"), actor_named(session, "reviewer")
    body = {
        "code": "zj-big",
        "title": "大表",
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": "unconditional",
        "open_type": "unconditional",
    }
    service.create_resource(session, steward, ResourceCreate.model_validate(body))
    version = versions.ingest_file(
        session, steward, home=settings.home, resource_code="zj-big", upload=io.BytesIO(CSV.encode()), filename="b.csv"
    )
    assert not (settings.home / version.path / "lookup").exists(), "lookups come after the commit, not in it"
    versions.build_lookups(settings.home, version)
    lookups = sorted(p.name for p in (settings.home / version.path / "lookup").iterdir())
    assert lookups == ["0.parquet"], "only the identifier column is distinct enough to need a lookup"
    service.submit_resource(session, steward, code="zj-big")
    service.publish_resource(session, reviewer, code="zj-big")
    return "/api/v1/resources/zj-big/versions/1/rows"


def test_equality_on_an_identifier_finds_exactly_its_rows(client: TestClient, token_for, rows_url: str) -> None:  # type: ignore[no-untyped-def]
    headers = token_for("consumer")
    row = 123_457

    def search(filters: dict[str, object], **params: object) -> dict:  # type: ignore[type-arg]
        return client.get(rows_url, params={"filters": json.dumps(filters), **params}, headers=headers).json()  # type: ignore[no-any-return]

    one = search({"证件号码": number(row)})
    assert one["total"] == 1
    assert one["records"] == [{"_id": row + 1, "证件号码": number(row), "区县": district(row), "金额": row % 977}]
    several = search({"证件号码": [number(99_999), "no-such-id", number(5)]})
    assert [r["_id"] for r in several["records"]] == [6, 100_000] and several["total"] == 2
    missing = search({"证件号码": "no-such-id"})
    assert missing["records"] == [] and missing["total"] == 0
    assert search({"证件号码": number(row), "区县": "不存在区"})["total"] == 0
    assert search({"证件号码": number(row)}, limit=0)["total"] == 1


def test_unsorted_reads_come_in_row_order_with_exact_totals(client: TestClient, token_for, rows_url: str) -> None:  # type: ignore[no-untyped-def]
    headers = token_for("consumer")
    wanted = [n + 1 for n in range(ROWS) if district(n) == "西湖区"]
    filters = json.dumps({"区县": "西湖区"})
    deep = client.get(rows_url, params={"filters": filters, "limit": 30, "offset": 40_000}, headers=headers).json()
    assert [r["_id"] for r in deep["records"]] == wanted[40_000:40_030]
    assert deep["total"] == len(wanted)
    seen: list[int] = []
    after = None
    for _ in range(3):  # keyset pages cross row-group boundaries (32,768 rows each) in order
        params = {"filters": filters, "limit": 20_000, **({"after": after} if after else {})}
        page = client.get(rows_url, params=params, headers=headers).json()
        seen += [r["_id"] for r in page["records"]]
        after = page["next_after"]
    assert seen == wanted[:60_000]
    everything = client.get(rows_url, params={"limit": 5, "offset": ROWS - 3}, headers=headers).json()
    assert [r["_id"] for r in everything["records"]] == [ROWS - 2, ROWS - 1, ROWS]


def test_ckan_datastore_search_uses_the_same_lookup(client: TestClient, token_for, rows_url: str) -> None:  # type: ignore[no-untyped-def]
    reply = client.post(
        "/api/3/action/datastore_search",
        json={"resource_id": "zj-big", "filters": {"证件号码": number(77)}, "limit": 5},
        headers=token_for("consumer"),
    ).json()
    assert reply["success"] is True
    assert [r["_id"] for r in reply["result"]["records"]] == [78] and reply["result"]["total"] == 1
