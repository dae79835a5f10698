"""CKAN package_search over HTTP: the shape of results and facets, paging, and bad requests."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api.test_ckan import _publish


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
