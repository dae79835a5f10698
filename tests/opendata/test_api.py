"""The open-data API over HTTP: what exists, masks, keys and quotas, counts, registration, feedback, and
the application's journey with real tokens."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.core.config import Settings
from digigov.opendata import accounts
from tests.conftest import actor_named
from tests.opendata.conftest import FIRST, ID, NAME, OPEN, PASSWORD, PROHIBITED, RESTRICTED, USCC

BASE = "/api/v1/open"
pytestmark = pytest.mark.usefixtures("opened")


def masked_id(value: str) -> str:
    return value[:6] + "*" * 8 + value[-4:]


def registered(client: TestClient, username: str = "shuzhi", **change: object) -> dict[str, Any]:
    body = {
        "username": username,
        "display_name": "王经理",
        "password": PASSWORD,
        "kind": "enterprise",
        "organisation": "杭州数智科技有限公司",
        "uscc": USCC,
    } | change
    reply = client.post(f"{BASE}/register", json=body)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def key_for(session: Session, settings: Settings, username: str) -> dict[str, str]:
    """A portal API key of a user, as the header the API wants (keys are made on the account page)."""
    _, secret = accounts.create_api_key(session, actor_named(session, username), settings)
    return {"X-API-Key": secret}


def detail(reply: Any, code: str) -> tuple[int, str, str]:
    body = reply.json()
    return reply.status_code, body["code"], body["detail"].replace(code, "…")


def test_prohibited_is_the_same_404_as_a_missing_code_everywhere(
    client: TestClient, session: Session, settings: Settings
) -> None:
    found = client.get(f"{BASE}/resources", params={"q": "人口"}).json()
    assert sorted(r["code"] for r in found["results"]) == [OPEN, RESTRICTED]
    assert {f["value"] for f in found["facets"]["open_type"]} == {"unconditional", "restricted"}
    assert client.get(f"{BASE}/resources", params={"open_type": "prohibited"}).json()["count"] == 0
    registered(client)
    key = key_for(session, settings, "shuzhi")
    for path, headers in (("", {}), ("/rows", key), ("/download", key), ("/comments", {}), ("/rating", {})):
        hidden = client.get(f"{BASE}/resources/{PROHIBITED}{path}", headers=headers)
        missing = client.get(f"{BASE}/resources/no-such-code{path}", headers=headers)
        assert detail(hidden, PROHIBITED) == detail(missing, "no-such-code"), path
        assert hidden.status_code == 404
    body = {"resource_code": PROHIBITED, "purpose": "研究", "commitment": True, "days": 30}
    applied = client.post(f"{BASE}/applications", json=body, headers=key)
    assert detail(applied, PROHIBITED) == detail(
        client.post(f"{BASE}/applications", json=body | {"resource_code": "no-such-code"}, headers=key), "no-such-code"
    )


def test_metadata_names_each_fields_mask(client: TestClient) -> None:
    reply = client.get(f"{BASE}/resources/{OPEN}")
    assert reply.status_code == 200
    masks = {f["name"]: f["mask"] for f in reply.json()["fields"]}
    assert masks[ID] == "id_number" and masks[NAME] == "name" and masks["就业单位统一社会信用代码"] == "clear"


def test_rows_need_a_key_are_masked_and_count_against_its_quota(
    client: TestClient, app: FastAPI, session: Session, settings: Settings
) -> None:
    without = client.get(f"{BASE}/resources/{OPEN}/rows")
    assert (without.status_code, without.json()["code"]) == (401, "api_key_needed")
    registered(client)
    key = key_for(session, settings, "shuzhi")
    app.state.settings = settings.model_copy(update={"open_daily_quota": 3})
    page = client.get(f"{BASE}/resources/{OPEN}/rows", params={"limit": 2}, headers=key).json()
    assert [r["_id"] for r in page["rows"]] == [1, 2] and page["next"] == 2
    assert page["rows"][0][ID] == masked_id(FIRST[ID]) and page["masks"][ID] == "id_number"
    second = client.get(f"{BASE}/resources/{OPEN}/rows", params={"after": page["next"], "limit": 2}, headers=key)
    assert second.json()["rows"][0]["_id"] == 3
    assert client.get(f"{BASE}/resources/{OPEN}/download", headers=key).status_code == 200
    over = client.get(f"{BASE}/resources/{OPEN}/rows", headers=key)
    assert (over.status_code, over.json()["code"]) == (429, "open_quota_exceeded")
    other = key_for(session, settings, "shuzhi")  # the quota is per key
    assert client.get(f"{BASE}/resources/{OPEN}/rows", params={"limit": 1}, headers=other).status_code == 200


def test_a_download_is_masked_and_counted(client: TestClient, session: Session, settings: Settings) -> None:
    registered(client)
    key = key_for(session, settings, "shuzhi")
    assert client.get(f"{BASE}/resources/{OPEN}").json()["downloads"] == 0
    csv = client.get(f"{BASE}/resources/{OPEN}/download", params={"format": "csv"}, headers=key)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert masked_id(FIRST[ID]) in text and FIRST[ID] not in text
    rows = json.loads(client.get(f"{BASE}/resources/{OPEN}/download", params={"format": "json"}, headers=key).content)
    assert rows[0][NAME] == FIRST[NAME][0] + "*" * (len(FIRST[NAME]) - 1)
    assert client.get(f"{BASE}/resources/{OPEN}").json()["downloads"] == 2


def test_registration_validates_the_credit_code(client: TestClient) -> None:
    bad = client.post(
        f"{BASE}/register",
        json={"username": "bad", "password": PASSWORD, "kind": "enterprise", "organisation": "某公司", "uscc": "123"},
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_code")
    made = registered(client, "yanjiu", kind="researcher", organisation="浙江大学", uscc=None)
    assert (made["kind"], made["kind_label"], made["uscc"]) == ("researcher", "科研人员", None)
    again = client.post(
        f"{BASE}/register",
        json={"username": "yanjiu", "password": PASSWORD, "kind": "researcher", "organisation": "浙江大学"},
    )
    assert again.json()["code"] == "username_taken"


def test_the_application_journey_opens_restricted_rows(
    client: TestClient, session: Session, settings: Settings, token_for: Any
) -> None:
    registered(client)
    key = key_for(session, settings, "shuzhi")
    refused = client.get(f"{BASE}/resources/{RESTRICTED}/rows", headers=key)
    assert (refused.status_code, refused.json()["code"]) == (403, "open_access_needed")
    body = {"resource_code": RESTRICTED, "purpose": "研究人口结构", "commitment": True, "days": 30}
    made = client.post(f"{BASE}/applications", json=body, headers=key)
    assert made.status_code == 201, made.text
    url = f"{BASE}/applications/{made.json()['id']}"
    assert (
        client.post(f"{url}/source-decision", json={"approve": True}, headers=token_for("consumer")).status_code == 404
    )
    assert (
        client.post(f"{url}/source-decision", json={"approve": True}, headers=token_for("reviewer")).status_code == 403
    )
    assert (
        client.post(f"{url}/source-decision", json={"approve": True}, headers=token_for("steward")).status_code == 200
    )
    assert (
        client.post(f"{url}/platform-decision", json={"approve": True}, headers=token_for("steward")).status_code == 403
    )
    done = client.post(f"{url}/platform-decision", json={"approve": True}, headers=token_for("reviewer")).json()
    assert done["state"] == "approved" and done["ends_on"]
    rows = client.get(f"{BASE}/resources/{RESTRICTED}/rows", params={"limit": 1}, headers=key).json()
    assert rows["rows"][0][ID] == masked_id(FIRST[ID])
    mine = client.get(f"{BASE}/applications", headers=key).json()
    assert [a["state"] for a in mine] == ["approved"]


def test_ratings_comments_and_data_requests(
    client: TestClient, session: Session, settings: Settings, token_for: Any
) -> None:
    registered(client)
    key = key_for(session, settings, "shuzhi")
    assert client.put(f"{BASE}/resources/{OPEN}/rating", json={"stars": 5}, headers=key).json()["count"] == 1
    again = client.put(f"{BASE}/resources/{OPEN}/rating", json={"stars": 2}, headers=key).json()
    assert (again["average"], again["count"], again["mine"]) == (2.0, 1, 2)
    assert client.put(f"{BASE}/resources/{OPEN}/rating", json={"stars": 3}).json()["code"] == "bad_feedback"
    posted = client.post(f"{BASE}/resources/{OPEN}/comments", json={"body": "字段说明很清楚"}, headers=key)
    assert posted.status_code == 201 and posted.json()["author"] == "王经理（杭州数智科技有限公司）"
    assert client.post(f"{BASE}/resources/{OPEN}/comments", json={"body": "长" * 501}, headers=key).status_code == 422
    assert [c["body"] for c in client.get(f"{BASE}/resources/{OPEN}/comments").json()] == ["字段说明很清楚"]
    asked = client.post(
        f"{BASE}/data-requests", json={"title": "公交客流", "description": "按站点按日汇总"}, headers=key
    ).json()
    answer = {"accept": False, "reason": "涉及个人行程，暂不开放"}
    assert client.post(f"{BASE}/data-requests/{asked['id']}/answer", json=answer, headers=key).status_code == 403
    answered = client.post(f"{BASE}/data-requests/{asked['id']}/answer", json=answer, headers=token_for("reviewer"))
    assert answered.json()["state_label"] == "暂不开放"
    public = client.get(f"{BASE}/data-requests").json()
    assert [(r["title"], r["answer"], r["asked_by"]) for r in public] == [
        ("公交客流", "涉及个人行程，暂不开放", "企业 · 杭州数智科技有限公司")
    ]
