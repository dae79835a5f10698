"""Portal pages: an anonymous visitor's search and resource pages (masked preview, download, no staff
header), registration through the form, the API key shown once, the application through its forms,
ratings, comments and data requests."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.core.audit import AuditRecord
from digigov.identity.models import User
from digigov.opendata.models import PortalProfile
from tests.conftest import login
from tests.helpers import csrf_of
from tests.opendata.conftest import FIRST, ID, OPEN, PASSWORD, PROHIBITED, RESTRICTED, USCC

pytestmark = pytest.mark.usefixtures("opened")
MASKED = FIRST[ID][:6] + "*" * 8 + FIRST[ID][-4:]


def as_user(client: TestClient, username: str, url: str, password: str | None = None) -> str:
    """Sign in afresh as `username`, open `url` and return its CSRF token."""
    client.cookies.clear()
    signed = login(client, username, password) if password else login(client, username)
    assert signed.status_code == 303  # type: ignore[attr-defined]
    page = client.get(url)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def counts(session: Session) -> tuple[int, ...]:
    """How many users, portal profiles and audit events there are."""
    return tuple(session.query(model).count() for model in (User, PortalProfile, AuditRecord))


def register(client: TestClient, username: str = "shuzhi", **change: str) -> object:
    client.cookies.clear()
    token = csrf_of(client.get("/open/register").text)
    form = {
        "kind": "enterprise",
        "username": username,
        "display_name": "王经理",
        "password": PASSWORD,
        "organisation": "杭州数智科技有限公司",
        "uscc": USCC,
        "csrf": token,
    } | change
    return client.post("/open/register", data=form, follow_redirects=False)


def test_an_anonymous_visitor_searches_and_sees_a_masked_preview(client: TestClient) -> None:
    home = client.get("/open")
    assert home.status_code == 200 and "公共数据开放平台" in home.text
    assert "闭环工单" not in home.text and "数据质量" not in home.text  # no staff navigation
    found = client.get("/open/datasets", params={"q": "人口"}).text
    assert f"/open/datasets/{OPEN}" in found and f"/open/datasets/{RESTRICTED}" in found
    assert PROHIBITED not in found and "共 2 个" in found
    page = client.get(f"/open/datasets/{OPEN}").text
    assert MASKED in page and FIRST[ID] not in page and FIRST["姓名"] not in page
    assert 'id="download-csv"' in page and "证件号脱敏" in page


def test_a_prohibited_page_is_the_missing_page(client: TestClient) -> None:
    hidden = client.get(f"/open/datasets/{PROHIBITED}")
    missing = client.get("/open/datasets/no-such-code")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text.replace(PROHIBITED, "…") == missing.text.replace("no-such-code", "…")
    for tail in ("/download", "/apply"):
        hidden, missing = (
            client.get(f"/open/datasets/{code}{tail}", follow_redirects=False) for code in (PROHIBITED, "no")
        )
        assert hidden.status_code == missing.status_code, tail


def test_a_page_download_is_counted(client: TestClient) -> None:
    def count() -> str:
        match = re.search(r'id="download-count">(\d+)<', client.get(f"/open/datasets/{OPEN}").text)
        assert match
        return match.group(1)

    assert count() == "0"
    csv = client.get(f"/open/datasets/{OPEN}/download", params={"format": "csv"})
    assert csv.status_code == 200 and MASKED in csv.content.decode("utf-8-sig")
    assert count() == "1"


def test_a_restricted_page_shows_metadata_and_the_apply_button_only(client: TestClient) -> None:
    page = client.get(f"/open/datasets/{RESTRICTED}").text
    assert 'id="apply-button"' in page and "受限开放" in page and "仅限科研与公益用途" in page
    assert 'id="preview"' not in page and 'id="download-csv"' not in page
    assert client.get(f"/open/datasets/{RESTRICTED}/download").status_code == 403


def test_registration_then_the_key_shown_once(client: TestClient, session: Session) -> None:
    before = counts(session)
    client.cookies.clear()
    client.get("/open/register")
    forged = client.post("/open/register", data={"username": "x", "password": PASSWORD, "csrf": "forged"})
    assert forged.status_code == 403 and counts(session) == before
    bad = register(client, uscc="91330100MA2KD8GH9T")
    assert bad.status_code == 422 and "校验码错误" in bad.text and PASSWORD not in bad.text  # type: ignore[attr-defined]
    made = register(client)
    assert made.status_code == 303 and "/login" in made.headers["location"]  # type: ignore[attr-defined]
    token = as_user(client, "shuzhi", "/open/account", PASSWORD)
    shown = client.post("/open/account/keys", data={"csrf": token})
    secret = re.search(r'id="key-secret">([^<]+)<', shown.text)
    assert secret and shown.headers["cache-control"] == "no-store"
    assert secret.group(1) not in client.get("/open/account").text
    rows = client.get(
        f"/api/v1/open/resources/{OPEN}/rows", params={"limit": 1}, headers={"X-API-Key": secret.group(1)}
    )
    assert rows.status_code == 200


def test_the_application_through_the_forms(client: TestClient) -> None:
    assert register(client).status_code == 303  # type: ignore[attr-defined]
    token = as_user(client, "shuzhi", f"/open/datasets/{RESTRICTED}/apply", PASSWORD)
    form = {"purpose": "研究杭州市人口结构变化", "days": "30", "csrf": token}
    unticked = client.post(f"/open/datasets/{RESTRICTED}/apply", data=form)
    assert unticked.status_code == 422 and "安全承诺" in unticked.text
    made = client.post(f"/open/datasets/{RESTRICTED}/apply", data=form | {"commitment": "true"}, follow_redirects=False)
    assert made.status_code == 303
    url = made.headers["location"].split("?")[0]
    token = as_user(client, "reviewer", url)
    assert 'id="decision-form"' not in client.get(url).text  # the source department decides first
    token = as_user(client, "steward", url)
    assert (
        client.post(f"{url}/source", data={"approve": "true", "reason": "用途合理", "csrf": token}).status_code == 200
    )
    token = as_user(client, "reviewer", url)
    assert url.rsplit("/", 1)[1] in client.get("/open/review").text
    done = client.post(f"{url}/platform", data={"approve": "true", "csrf": token})
    assert "申请人现在可以预览和下载" in done.text
    as_user(client, "shuzhi", "/open/account", PASSWORD)
    page = client.get(f"/open/datasets/{RESTRICTED}").text
    assert MASKED in page and 'id="download-csv"' in page and 'id="apply-button"' not in page


def test_rating_comment_and_data_request_forms(client: TestClient) -> None:
    assert register(client).status_code == 303  # type: ignore[attr-defined]
    token = as_user(client, "shuzhi", f"/open/datasets/{OPEN}", PASSWORD)
    for stars in ("4", "2"):
        client.post(f"/open/datasets/{OPEN}/rating", data={"stars": stars, "csrf": token})
    page = client.get(f"/open/datasets/{OPEN}").text
    assert 'id="rating-average">2.0<' in page and "评分（1 人）" in page
    too_long = client.post(f"/open/datasets/{OPEN}/comments", data={"body": "长" * 600, "csrf": token})
    assert too_long.status_code == 422
    client.post(f"/open/datasets/{OPEN}/comments", data={"body": "<b>很好</b>", "csrf": token})
    assert "&lt;b&gt;很好&lt;/b&gt;" in client.get(f"/open/datasets/{OPEN}").text  # plain text, escaped
    client.post("/open/requests", data={"title": "公交客流", "description": "按站点汇总", "csrf": token})
    token = as_user(client, "reviewer", "/open/requests")
    listed = client.get("/open/requests").text
    request_id = re.search(r'action="/open/requests/(\d+)/answer"', listed)
    assert request_id
    client.post(
        f"/open/requests/{request_id.group(1)}/answer",
        data={"accept": "true", "reason": "已开放", "resource_code": OPEN, "csrf": token},
    )
    client.cookies.clear()
    public = client.get("/open/requests").text
    assert "已采纳" in public and "已开放" in public and "企业 · 杭州数智科技有限公司" in public
