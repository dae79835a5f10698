"""CKAN package_search over HTTP: the shape of results and facets, paging, and bad requests."""

from __future__ import annotations

import io
import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog import service
from digigov.catalog.models import Resource
from digigov.catalog.schemas import ResourceCreate
from digigov.core.config import Settings
from digigov.datastore import versions
from digigov.datastore.models import Version
from tests.api.test_ckan import _publish
from tests.catalog.test_service import dept
from tests.conftest import actor_named


def _search(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    return client.get("/api/3/action/package_search", params=params, headers=headers).json()


def test_results_have_the_package_show_shape(client: TestClient, session: Session, token_for) -> None:  # type: ignore[no-untyped-def]
    _publish(session, "bj-s1", "上市公司名录", keywords=["企业", "上市"], subjects=["法人单位"])
    _publish(session, "bj-s2", "企业年报统计")
    headers = token_for("consumer")
    found = _search(client, headers, q="上市", rows=5)["result"]
    shown = client.get("/api/3/action/package_show", params={"id": "bj-s1"}, headers=headers).json()["result"]
    assert found["count"] == 1 and found["results"] == [shown]
    assert found["facets"] == {} and found["search_facets"] == {}


def test_facets_are_those_asked_and_pages_follow_the_order(client: TestClient, session: Session, token_for) -> None:  # type: ignore[no-untyped-def]
    for n in range(4):
        _publish(session, f"bj-p{n}", f"食品抽检结果{n}", open_type="prohibited" if n == 0 else "unconditional")
    headers = token_for("consumer")
    fields = json.dumps(["organization", "open_type", "tags"])
    whole = _search(client, headers, q="食品抽检", rows=4, **{"facet.field": fields})["result"]
    assert whole["count"] == 4
    assert whole["facets"] == {"organization": {"HZ-SJJ": 4}, "open_type": {"unconditional": 3, "prohibited": 1}}
    items = whole["search_facets"]["open_type"]["items"]
    assert items[0] == {"name": "unconditional", "display_name": "无条件开放", "count": 3}
    names = [r["name"] for r in whole["results"]]
    paged = [_search(client, headers, q="食品抽检", rows=1, start=i)["result"]["results"][0]["name"] for i in range(4)]
    assert paged == names
    narrowed = _search(client, headers, q="食品抽检", fq="open_type:prohibited organization:HZ-SJJ")["result"]
    assert [r["name"] for r in narrowed["results"]] == ["bj-p0"]


def test_a_bad_facet_field_is_a_validation_error(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    headers = token_for("consumer")
    for bad in ["organization", '"organization"', "3", '{"a": 1}']:
        reply = client.get("/api/3/action/package_search", params={"facet.field": bad}, headers=headers)
        assert reply.status_code == 409, bad
        assert reply.json()["error"] == {"facet.field": ["Not a JSON list"], "__type": "Validation Error"}
    missing_token = client.get("/api/3/action/package_search", params={"facet.field": "3"})
    assert missing_token.status_code == 403


def test_the_package_shape_is_pinned(client: TestClient, session: Session, settings: Settings, token_for) -> None:  # type: ignore[no-untyped-def]
    steward, reviewer = actor_named(session, "steward"), actor_named(session, "reviewer")
    body = {
        "code": "zj-pin",
        "title": "企业名录",
        "department_id": dept(session, "HZ-SJJ"),
        "abstract": "全省登记企业的名称与信用代码。",
        "keywords": ["企业", "登记"],
        "subjects": ["法人单位"],
        "category": "base",
        "base_type": "legal_entity",
        "update_cycle": "monthly",
        "share_type": "conditional",
        "share_condition": "经申请审核后共享",
        "open_type": "unconditional",
        "format": "CSV",
        "contact": "0571-80000000",
        "fields": [
            {"name": "tyshxydm", "title": "统一社会信用代码", "is_key": True},
            {"name": "qymc", "title": "企业名称"},
        ],
    }
    service.create_resource(session, steward, ResourceCreate.model_validate(body))
    for n, name in enumerate(["a.csv", "b.csv"]):
        csv = f"统一社会信用代码,企业名称\n91330100MA0000001X,企业{n}\n".encode()
        versions.ingest_file(
            session, steward, home=settings.home, resource_code="zj-pin", upload=io.BytesIO(csv), filename=name
        )
    service.submit_resource(session, steward, code="zj-pin")
    service.publish_resource(session, reviewer, code="zj-pin")
    session.commit()
    resource = session.scalars(select(Resource).where(Resource.code == "zj-pin")).one()
    made = {v.number: v for v in session.scalars(select(Version).where(Version.resource_id == resource.id))}
    reply = client.get("/api/3/action/package_search", params={"q": "企业名录"}, headers=token_for("consumer"))
    found = reply.json()["result"]["results"]
    assert reply.headers["content-type"] == "application/json"
    assert json.dumps(found, ensure_ascii=False) == json.dumps([_pinned(resource, made)], ensure_ascii=False)


def _pinned(resource: Resource, made: dict[int, Version]) -> dict[str, Any]:
    """The package of test_the_package_shape_is_pinned, keys in order, as CKAN clients have seen it."""
    org = {"id": "HZ-SJJ", "name": "HZ-SJJ", "title": "杭州市市场监督管理局", "type": "organization"}
    extras = [("category", "base"), ("base_type", "legal_entity"), ("update_cycle", "monthly")]
    extras += [("share_type", "conditional"), ("share_condition", "经申请审核后共享"), ("open_type", "unconditional")]
    # the grade is the highest level classification gave the fields: a credit code is L1
    extras += [("format", "CSV"), ("contact", "0571-80000000"), ("grade", "L1")]
    return {
        "id": "zj-pin",
        "name": "zj-pin",
        "title": "企业名录",
        "notes": "全省登记企业的名称与信用代码。",
        "type": "dataset",
        "state": "active",
        "private": False,
        "owner_org": "HZ-SJJ",
        "organization": org,
        "tags": [{"name": "企业", "display_name": "企业"}, {"name": "登记", "display_name": "登记"}],
        "groups": [{"name": "法人单位", "title": "法人单位", "display_name": "法人单位"}],
        "extras": [{"key": k, "value": v} for k, v in extras],
        "metadata_created": resource.created_at.isoformat(),
        "metadata_modified": resource.updated_at.isoformat(),
        "num_resources": 2,
        "num_tags": 2,
        "resources": [
            {
                "id": f"zj-pin-v{n}",
                "package_id": "zj-pin",
                "name": f"企业名录（第 {n} 版）",
                "format": "Parquet",
                "url": f"/api/v1/resources/zj-pin/versions/{n}",
                "url_type": "upload",
                "size": made[n].raw_bytes,
                "hash": f"sha256:{made[n].raw_sha256}",
                "created": made[n].created_at.isoformat(),
                "datastore_active": True,
            }
            for n in (2, 1)
        ],
        "digigov_state": "published",
    }
