"""Authorised operation pages (授权运营): the journey through the forms (a licence, its credential shown once,
an operator's analyses released or held, revocation), refusals that change nothing, who sees which page, and
that a group under k never reaches a page."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import database_state
from tests.helpers import flash_error
from tests.sharing.conftest import CODE, PERSONS
from tests.sharing.test_operation import expected_counts, uscc_with_check
from tests.sharing.test_sharing_pages import as_user

USCC = uscc_with_check("91330100MA2B0QJX4")
WRONG_USCC = USCC[:-1] + ("1" if USCC[-1] != "1" else "2")
LICENCE = {
    "operator": "浙江某数据科技有限公司",
    "operator_uscc": USCC,
    "resources": CODE,
    "purpose": "就业状态的区县分布分析",
    "k": "10",
    "review_releases": "true",
    "days": "365",
}
BY_STATUS = {
    "resource_code": CODE,
    "group_by": ["就业状态"],
    "aggregates": [{"fn": "count"}, {"fn": "avg", "field": "月缴社保月数"}],
    "filters": [{"field": "性别", "op": "in", "value": ["男", "女"]}],
}
SMALL = "学龄前"  # 8 of the 200 synthetic persons: under k = 10


def secret_of(html: str) -> str:
    return html.split('id="credential-secret">', 1)[1].split("<", 1)[0]


def granted(client: TestClient, **change: str) -> tuple[str, str]:
    """A licence through the admin's form; its id and the credential shown once."""
    token = as_user(client, "admin", "/operate/licences")
    made = client.post("/operate/licences", data=LICENCE | change | {"csrf": token})
    assert made.status_code == 200 and 'id="credential-secret"' in made.text, made.text
    licence_id = made.text.split("授权运营许可 #", 1)[1].split("（", 1)[0]
    return licence_id, secret_of(made.text)


def submitted(client: TestClient, secret: str, body: dict[str, Any] = BY_STATUS) -> int:
    """An operator's analysis through the API; its id."""
    sent = client.post("/api/v1/operate/analyses", json=body, headers={"X-Licence-Key": secret})
    assert sent.status_code == 201, sent.text
    return int(sent.json()["id"])


@pytest.mark.usefixtures("persons")
def test_the_journey_through_the_forms(client: TestClient) -> None:
    as_user(client, "admin", "/")
    assert 'href="/operate/licences"' in client.get("/").text and 'href="/operate/analyses"' in client.get("/").text
    licence_id, secret = granted(client)
    assert secret.startswith("dgo_")
    listing = client.get("/operate/licences").text
    assert secret not in listing and secret[:12] + "…" in listing and "浙江某数据科技有限公司" in listing
    assert f'id="licence-{licence_id}"' in listing and "有效" in listing and "审核后发布" in listing
    released_id, held_id = submitted(client, secret), submitted(client, secret, BY_STATUS | {"filters": []})

    token = as_user(client, "reviewer", "/operate/analyses")
    queue = client.get("/operate/analyses").text
    assert f'id="analysis-{released_id}"' in queue and f'id="analysis-{held_id}"' in queue
    counts = expected_counts("就业状态")
    assert f'<td class="nowrap groups">{len(counts)}</td>' in queue
    assert '<td class="nowrap suppressed">1</td>' in queue and "性别 属于 男、女" in queue
    detail = client.get(f"/operate/analyses/{released_id}")
    assert "就业状态" in detail.text and "月缴社保月数（平均值）" in detail.text and "待审核" in detail.text
    assert f'<td class="num">{counts["在职"]}</td>' in detail.text and 'id="release-button"' in detail.text
    done = client.post(f"/operate/analyses/{released_id}/release", data={"csrf": token})
    assert "已发布分析结果" in done.text and 'id="release-button"' not in done.text and "审核人 reviewer" in done.text
    seen = client.get(f"/api/v1/operate/analyses/{released_id}", headers={"X-Licence-Key": secret}).json()
    assert {row["就业状态"] for row in seen["result"]} == {v for v, n in counts.items() if n >= 10}
    held = client.post(f"/operate/analyses/{held_id}/hold", data={"reason": "与另一查询相减可逆推个体", "csrf": token})
    assert "已暂缓发布分析结果" in held.text and "与另一查询相减可逆推个体" in held.text
    assert "暂缓发布的统计结果（运营单位看不到）" in held.text and 'id="hold-button"' not in held.text
    assert client.get(f"/api/v1/operate/analyses/{held_id}", headers={"X-Licence-Key": secret}).json()["result"] is None
    assert f'id="analysis-{held_id}"' in client.get("/operate/analyses?state=held").text
    assert f'id="analysis-{released_id}"' in client.get("/operate/analyses", params={"state": "released"}).text
    assert "没有待审核的分析结果" in client.get("/operate/analyses").text

    token = as_user(client, "admin", "/operate/licences")
    again = client.post(f"/operate/licences/{licence_id}/credential", data={"csrf": token})
    renewed = secret_of(again.text)
    assert renewed != secret and again.headers["cache-control"] == "no-store"
    assert client.post("/api/v1/operate/analyses", json=BY_STATUS, headers={"X-Licence-Key": secret}).status_code == 401
    revoked = client.post(f"/operate/licences/{licence_id}/revoke", data={"reason": "合同终止", "csrf": token})
    assert "已撤销授权运营许可" in revoked.text and "已撤销" in revoked.text and "理由：合同终止" in revoked.text
    assert f'id="revoke-{licence_id}"' not in revoked.text and renewed not in revoked.text
    closed = client.post("/api/v1/operate/analyses", json=BY_STATUS, headers={"X-Licence-Key": renewed})
    assert closed.status_code == 403


@pytest.mark.usefixtures("persons")
def test_refusals_re_render_the_form_and_change_nothing(client: TestClient, session: Session) -> None:
    token = as_user(client, "admin", "/operate/licences")
    before = database_state(session)
    wrong = client.post("/operate/licences", data=LICENCE | {"operator_uscc": WRONG_USCC, "csrf": token})
    assert wrong.status_code == 422 and "校验" in flash_error(wrong.text)
    assert 'value="浙江某数据科技有限公司"' in wrong.text and ">就业状态的区县分布分析</textarea>" in wrong.text
    blank = client.post("/operate/licences", data=LICENCE | {"purpose": " ", "k": "1", "csrf": token})
    assert (
        blank.status_code == 422
        and flash_error(blank.text) == "请检查以下填写项：运营用途、最小分组记录数 k（2 至 10000）。"
    )
    unpublished = client.post("/operate/licences", data=LICENCE | {"resources": f"{CODE}, no-such", "csrf": token})
    assert unpublished.status_code == 422 and flash_error(unpublished.text) == "没有已发布的数据资源：no-such。"
    assert 'id="credential-secret"' not in unpublished.text and 'value="rk-jcxx, no-such"' in unpublished.text
    no_review = {name: value for name, value in LICENCE.items() if name != "review_releases"}
    unticked = client.post("/operate/licences", data=no_review | {"k": "x", "csrf": token})
    assert unticked.status_code == 422 and 'id="review_releases" checked' not in unticked.text
    assert database_state(session) == before

    licence_id, secret = granted(client)
    token = as_user(client, "admin", "/operate/licences")
    before = database_state(session)
    no_reason = client.post(f"/operate/licences/{licence_id}/revoke", data={"reason": "  ", "csrf": token})
    assert no_reason.status_code == 422 and flash_error(no_reason.text) == "撤销须说明理由。"
    assert f'id="revoke-{licence_id}"' in no_reason.text
    assert database_state(session) == before

    analysis_id = submitted(client, secret)
    token = as_user(client, "reviewer", f"/operate/analyses/{analysis_id}")
    before = database_state(session)
    unheld = client.post(f"/operate/analyses/{analysis_id}/hold", data={"reason": " ", "csrf": token})
    assert unheld.status_code == 422 and flash_error(unheld.text) == "暂缓发布须说明理由。"
    assert 'id="release-button"' in unheld.text and "待审核" in unheld.text
    unknown = client.post(f"/operate/analyses/{analysis_id}/approve", data={"csrf": token})
    assert unknown.status_code == 422 and flash_error(unknown.text) == "未知的审核操作“approve”。"
    forged = client.post(f"/operate/analyses/{analysis_id}/release", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert database_state(session) == before
    client.post(f"/operate/analyses/{analysis_id}/release", data={"csrf": token})
    twice = client.post(f"/operate/analyses/{analysis_id}/hold", data={"reason": "晚了", "csrf": token})
    assert twice.status_code == 409 and "已处理" in flash_error(twice.text) and ">晚了<" not in twice.text
    unknown_state = client.get("/operate/analyses", params={"state": "done"})
    assert unknown_state.status_code == 422 and "状态须为以下之一" in unknown_state.text


@pytest.mark.usefixtures("persons")
def test_who_sees_which_page(client: TestClient) -> None:
    licence_id, secret = granted(client)
    analysis_id = submitted(client, secret)
    client.cookies.clear()
    for url in ("/operate/licences", "/operate/analyses", f"/operate/analyses/{analysis_id}"):
        anonymous = client.get(url, follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"] == f"/login?next={url}"
    # the reviewer reviews but does not manage licences: no menu entry, and the page is refused
    token = as_user(client, "reviewer", "/")
    home = client.get("/").text
    assert 'href="/operate/analyses"' in home and 'href="/operate/licences"' not in home
    assert client.get("/operate/licences").status_code == 403
    refused = client.post("/operate/licences", data=LICENCE | {"csrf": token})
    assert refused.status_code == 403 and "dgo_" not in refused.text
    assert client.post(f"/operate/licences/{licence_id}/revoke", data={"reason": "x", "csrf": token}).status_code == 403
    # the auditor, the steward and the consumer see neither
    for username in ("auditor", "steward", "consumer"):
        token = as_user(client, username, "/")
        home = client.get("/").text
        assert 'href="/operate/analyses"' not in home and 'href="/operate/licences"' not in home
        assert client.get("/operate/analyses").status_code == 403
        assert client.get(f"/operate/analyses/{analysis_id}").status_code == 403
        assert client.get("/operate/licences").status_code == 403
        assert client.post(f"/operate/analyses/{analysis_id}/release", data={"csrf": token}).status_code == 403
    as_user(client, "reviewer", "/operate/analyses")
    assert 'id="release-button"' in client.get(f"/operate/analyses/{analysis_id}").text  # nothing was released
    assert client.get("/operate/analyses/999999").status_code == 404


@pytest.mark.usefixtures("persons")
def test_a_group_under_k_never_reaches_a_page(client: TestClient) -> None:
    _, secret = granted(client)
    by_status = submitted(client, secret, BY_STATUS | {"filters": []})
    by_person = submitted(client, secret, BY_STATUS | {"group_by": ["公民身份号码"], "filters": []})
    people = PERSONS.column("公民身份号码").to_pylist()
    token = as_user(client, "reviewer", "/operate/analyses")
    pages = [client.get("/operate/analyses").text]
    pages += [client.get(f"/operate/analyses/{n}").text for n in (by_status, by_person)]
    assert "个记录数少于 k = 10" in pages[1] and 'id="no-groups"' in pages[2]
    client.post(f"/operate/analyses/{by_status}/release", data={"csrf": token})
    client.post(f"/operate/analyses/{by_person}/release", data={"csrf": token})
    pages += [client.get(f"/operate/analyses/{n}").text for n in (by_status, by_person)]
    pages.append(client.get("/operate/analyses?state=released").text)
    for html in pages:
        assert SMALL not in html and not any(person in html for person in people)
    assert "在职" in pages[3]  # the large groups are there
