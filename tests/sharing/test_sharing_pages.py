"""Sharing pages: the whole journey through the forms (request, both approvals, the credential shown once,
revocation), who sees which page and form, and refusals that re-render the form and change nothing."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.core.auth import Actor
from digigov.core.config import Settings
from tests.conftest import database_state, login
from tests.helpers import csrf_of, flash_error
from tests.sharing.conftest import CODE, PERSONS, publish_persons

ID, NAME, PHONE = "公民身份号码", "姓名", "手机号码"
FIRST = PERSONS.slice(0, 1).to_pylist()[0]
ASK = {
    "resource": CODE,
    "fields": [ID, NAME, PHONE],
    "clear_fields": [NAME],
    "access": "lookup",
    "key_field": ID,
    "purpose": "核对社保待遇申领人的身份信息",
    "legal_basis": "《社会保险法》第七十四条",
    "days": "365",
    "expected_daily_calls": "500",
}


def as_user(client: TestClient, username: str, url: str) -> str:
    """Sign in afresh as `username`, open `url` and return its CSRF token."""
    client.cookies.clear()
    assert login(client, username).status_code == 303  # type: ignore[attr-defined]
    page = client.get(url)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def submitted(client: TestClient, **change: object) -> str:
    """The consumer's request through the form; returns the request's page."""
    token = as_user(client, "consumer", f"/sharing/new?resource={CODE}")
    made = client.post("/sharing/new", data=ASK | change | {"csrf": token}, follow_redirects=False)
    assert made.status_code == 303, made.text
    return str(made.headers["location"]).split("?")[0]


def approved(client: TestClient) -> str:
    """A request through both approvals; returns the grant's page."""
    url = submitted(client)
    token = as_user(client, "steward", url)
    client.post(f"{url}/source", data={"approve": "true", "allow_clear": [ID, NAME], "csrf": token})
    token = as_user(client, "reviewer", url)
    done = client.post(f"{url}/platform", data={"approve": "true", "csrf": token})
    return "/sharing/grants/" + done.text.split('href="/sharing/grants/', 1)[1].split('"', 1)[0]


@pytest.mark.usefixtures("persons")
def test_the_journey_through_the_forms(client: TestClient, session: Session) -> None:
    as_user(client, "consumer", "/sharing")
    assert 'href="/sharing"' in client.get("/").text  # the top nav
    resource = client.get(f"/catalog/{CODE}")
    assert f'href="/sharing/new?resource={CODE}"' in resource.text
    form = client.get(f"/sharing/new?resource={CODE}")
    assert f'name="fields" value="{ID}"' in form.text and "证件号脱敏" in form.text and "姓名脱敏" in form.text
    url = submitted(client)
    page = client.get(url)
    assert "待数源部门审核" in page.text and 'id="source-decision"' not in page.text
    assert "核对社保待遇申领人的身份信息" in page.text and f"{NAME}（明文）" in page.text

    token = as_user(client, "steward", "/sharing")
    assert url in client.get("/sharing").text
    page = client.get(url)
    assert 'id="source-decision"' in page.text and 'id="platform-decision"' not in page.text
    assert f'name="allow_clear" value="{NAME}" id=' in page.text  # a box to untick; the key has none
    assert f'<input type="hidden" name="allow_clear" value="{ID}">' in page.text  # the lookup key stays clear
    denied = client.post(f"{url}/source", data={"approve": "true", "allow_clear": [ID], "csrf": token})
    assert "已同意（数源部门）" in denied.text and "待平台审核" in denied.text

    token = as_user(client, "reviewer", url)
    page = client.get(url)
    assert 'id="platform-decision"' in page.text and 'id="source-decision"' not in page.text
    limits = {"approve": "true", "rate_per_minute": "60", "daily_quota": "200", "reason": "同意", "csrf": token}
    done = client.post(f"{url}/platform", data=limits)
    assert "已批准" in done.text and 'id="grant-link"' in done.text
    grant_url = "/sharing/grants/" + done.text.split('href="/sharing/grants/', 1)[1].split('"', 1)[0]

    token = as_user(client, "consumer", grant_url)
    grant = client.get(grant_url)
    assert "待领取凭证" in grant.text and "60 次/分钟，200 次/日" in grant.text
    assert "姓名脱敏" in grant.text and "电话脱敏" in grant.text and 'id="revoke-button"' not in grant.text
    issued = client.post(f"{grant_url}/credential", data={"csrf": token})
    secret = issued.text.split('id="credential-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith("dgs_") and issued.headers["cache-control"] == "no-store"
    again = client.get(grant_url)
    assert secret not in again.text and "已开通" in again.text and "更换凭证" in again.text
    called = client.get("/api/v1/share/lookup", params={"key": FIRST[ID]}, headers={"X-Grant-Key": secret})
    assert called.status_code == 200, called.text
    assert 'id="usage-calls">1<' in client.get(grant_url).text

    token = as_user(client, "steward", grant_url)
    revoked = client.post(f"{grant_url}/revoke", data={"reason": "项目结束", "csrf": token})
    assert "已撤销共享授权" in revoked.text and "项目结束（steward）" in revoked.text
    assert 'id="revoke-button"' not in revoked.text
    closed = client.get("/api/v1/share/lookup", params={"key": FIRST[ID]}, headers={"X-Grant-Key": secret})
    assert closed.status_code == 403


@pytest.mark.usefixtures("persons")
def test_refusals_re_render_the_form_and_change_nothing(client: TestClient, session: Session) -> None:
    token = as_user(client, "consumer", f"/sharing/new?resource={CODE}")
    before = database_state(session)
    blank = client.post("/sharing/new", data=ASK | {"purpose": "", "fields": [], "csrf": token})
    assert (
        blank.status_code == 422 and "申请的数据项" in flash_error(blank.text) and "共享用途" in flash_error(blank.text)
    )
    no_key = client.post("/sharing/new", data=ASK | {"key_field": "", "purpose": "核对身份", "csrf": token})
    assert no_key.status_code == 422 and "须指定查询键" in flash_error(no_key.text)
    assert 'value="核对身份"' not in no_key.text and ">核对身份</textarea>" in no_key.text  # what was typed stays
    assert re.search(f'value="{PHONE}" id="field-[0-9]+" aria-label="[^"]+" checked', no_key.text)
    assert re.search(f'value="{ID}" id="clear-[0-9]+" aria-label="[^"]+">', no_key.text)  # not asked in clear
    assert database_state(session) == before

    url = submitted(client)
    token = as_user(client, "steward", url)
    before = database_state(session)
    unchosen = client.post(f"{url}/source", data={"reason": "用途不明", "csrf": token})
    assert unchosen.status_code == 422 and flash_error(unchosen.text) == "请选择同意或驳回。"
    assert ">用途不明</textarea>" in unchosen.text
    refused = client.post(f"{url}/source", data={"approve": "false", "reason": "  ", "csrf": token})
    assert refused.status_code == 422 and flash_error(refused.text) == "驳回须说明理由。"
    assert "待数源部门审核" in refused.text and 'id="source-decision"' in refused.text
    assert database_state(session) == before
    refused = client.post(f"{url}/source", data={"approve": "false", "reason": "用途与共享条件不符", "csrf": token})
    assert "已驳回（数源部门）" in refused.text and "未批准" in refused.text and "用途与共享条件不符" in refused.text
    assert 'id="source-decision"' not in refused.text

    grant_url = approved(client)
    token = as_user(client, "steward", grant_url)
    before = database_state(session)
    blank = client.post(f"{grant_url}/revoke", data={"reason": " ", "csrf": token})
    assert blank.status_code == 422 and flash_error(blank.text) == "撤销须说明理由。"
    assert database_state(session) == before


@pytest.mark.usefixtures("persons")
def test_who_sees_which_page_and_form(client: TestClient) -> None:
    grant_url = approved(client)
    request_url = (
        "/sharing/requests/" + client.get(grant_url).text.split('href="/sharing/requests/', 1)[1].split('"')[0]
    )
    # another department's inspector: neither page exists for it, and its list is empty
    as_user(client, "inspector", "/sharing")
    assert client.get(request_url).status_code == 404 and client.get(grant_url).status_code == 404
    listing = client.get("/sharing").text
    assert "没有符合条件的共享申请" in listing and 'id="new-request"' not in listing
    # the auditor sees everything and may do nothing
    as_user(client, "auditor", "/sharing")
    page = client.get(grant_url).text
    assert 'id="credential-button"' not in page and 'id="revoke-button"' not in page
    assert 'id="source-decision"' not in client.get(request_url).text
    # the reviewer sees the grant and may revoke it, but does not fetch its credential (the consumer's)
    as_user(client, "reviewer", grant_url)
    page = client.get(grant_url).text
    assert 'id="credential-button"' not in page and 'id="revoke-button"' in page
    # the steward of the source department revokes; the consumer fetches the credential
    as_user(client, "steward", grant_url)
    page = client.get(grant_url).text
    assert 'id="revoke-button"' in page and 'id="credential-button"' not in page
    # the policy officer has no sharing: no menu entry, and the page is refused
    as_user(client, "policy", "/")
    assert 'href="/sharing"' not in client.get("/").text and client.get("/sharing").status_code == 403
    # the source department does not request its own data
    as_user(client, "steward", f"/catalog/{CODE}")
    assert 'id="share-link"' not in client.get(f"/catalog/{CODE}").text
    assert "本部门的数据无需申请共享即可使用" in client.get(f"/sharing/new?resource={CODE}").text


@pytest.mark.usefixtures("persons")
def test_the_list_filters_by_state_and_refuses_an_unknown_one(client: TestClient) -> None:
    url = submitted(client)
    request_id = url.rsplit("/", 1)[1]
    pending = client.get("/sharing", params={"state": "pending_source"}).text
    assert f'id="request-{request_id}"' in pending and "待数源部门审核" in pending
    assert f'id="request-{request_id}"' not in client.get("/sharing", params={"state": "approved"}).text
    unknown = client.get("/sharing", params={"state": "done"})
    assert unknown.status_code == 422 and "状态须为以下之一" in unknown.text
    picker = client.get("/sharing/new")
    assert 'id="pick-resource"' in picker.text
    mistyped = client.get("/sharing/new", params={"resource": "no-such"})
    assert mistyped.status_code == 404 and 'id="pick-resource"' in mistyped.text
    assert flash_error(mistyped.text) == "数据资源 no-such 不存在。" and 'value="no-such"' in mistyped.text


def test_unconditional_and_unshared_resources_are_decided_at_once(
    client: TestClient, session: Session, steward: Actor, reviewer: Actor, settings: Settings
) -> None:
    publish_persons(session, steward, reviewer, settings.home, code="rk-open", share_type="unconditional")
    publish_persons(session, steward, reviewer, settings.home, code="rk-closed", share_type="none")
    token = as_user(client, "consumer", "/sharing/new?resource=rk-open")
    assert "该资源无条件共享，提交后自动批准" in client.get("/sharing/new?resource=rk-open").text
    granted = client.post("/sharing/new", data=ASK | {"resource": "rk-open", "csrf": token})
    assert "已批准" in granted.text and "无条件共享，自动批准" in granted.text and 'id="grant-link"' in granted.text
    closed = client.get("/sharing/new?resource=rk-closed").text
    assert "该资源不予共享，提交的申请将被自动驳回（依据：《中华人民共和国个人信息保护法》第十三条）" in closed
    refused = client.post("/sharing/new", data=ASK | {"resource": "rk-closed", "csrf": token})
    assert "未批准" in refused.text and "自动审核" in refused.text and 'id="grant-link"' not in refused.text
    assert 'id="share-link"' not in client.get("/catalog/rk-closed").text  # 不予共享: no link to a sure refusal
