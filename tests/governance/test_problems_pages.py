"""Problem-data pages: raise from the resource page, the list with deadlines, the item and its answers, statistics."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.core.config import Settings
from tests.conftest import actor_named, login
from tests.governance.test_problems import (  # noqa: F401  (fixtures)
    BAD_CODE,
    BAD_ROW,
    CODE,
    USCC,
    fixed_code,
    haidian,
    haidian_text,
    ingest,
)


def csrf(client: TestClient, url: str) -> str:
    return client.get(url).text.split('name="csrf" value="', 1)[1].split('"', 1)[0]


@pytest.mark.usefixtures("haidian")
def test_raise_answer_and_see_it_on_the_pages(client: TestClient, session: Session, settings: Settings) -> None:
    login(client, "consumer")
    resource_page = client.get(f"/catalog/{CODE}")
    assert f'href="/catalog/{CODE}/problems/new"' in resource_page.text
    form_url = f"/catalog/{CODE}/problems/new"
    form = client.get(form_url)
    assert form.status_code == 200 and "提出问题数据" in form.text and f'<option value="{USCC}">' in form.text
    token = csrf(client, form_url)
    bad = client.post(
        form_url, data={"field": USCC, "key_field": "序号", "key_value": "999999", "description": "x", "csrf": token}
    )
    assert bad.status_code == 422 and "没有 序号=999999 的记录" in bad.text and 'value="999999"' in bad.text
    claim = {"field": USCC, "key_field": "序号", "key_value": BAD_ROW, "validator": "uscc", "description": "校验位错误"}
    raised = client.post(form_url, data=claim | {"csrf": token}, follow_redirects=False)
    assert raised.status_code == 303, raised.text
    url = raised.headers["location"].split("?")[0]
    item = client.get(url)
    assert (
        "待受理" in item.text and BAD_CODE in item.text and 'id="answer"' not in item.text
    )  # the consumer cannot answer
    client.post("/logout", data={"csrf": csrf(client, url)})

    login(client, "steward")
    listing = client.get("/governance/problems")
    assert url.rsplit("/", 1)[1] in listing.text and "答复期限" in listing.text
    ingest(session, actor_named(session, "steward"), settings.home, haidian_text())
    token = csrf(client, url)
    failed = client.post(f"{url}/fixed", data={"version_number": "2", "csrf": token}, follow_redirects=True)
    assert "整改核验未通过" in failed.text and f"仍为“{BAD_CODE}”" in failed.text
    ingest(
        session, actor_named(session, "steward"), settings.home, haidian_text().replace(BAD_CODE, fixed_code(BAD_CODE))
    )
    closed = client.post(f"{url}/fixed", data={"version_number": "3", "csrf": token}, follow_redirects=True)
    assert "已办结" in closed.text and "已在第 3 版核验通过" in closed.text
    stats = client.get("/governance/problems/statistics")
    assert "杭州市市场监督管理局" in stats.text and "按期办结" in stats.text


@pytest.mark.usefixtures("haidian")
def test_other_departments_get_not_found_and_a_bad_answer_is_shown(
    client: TestClient, session: Session, settings: Settings
) -> None:
    login(client, "consumer")
    form_url = f"/catalog/{CODE}/problems/new"
    claim = {"field": USCC, "key_field": "序号", "key_value": BAD_ROW, "validator": "uscc", "description": "校验位错误"}
    url = (
        client.post(form_url, data=claim | {"csrf": csrf(client, form_url)}, follow_redirects=False)
        .headers["location"]
        .split("?")[0]
    )
    client.post("/logout", data={"csrf": csrf(client, url)})
    login(client, "inspector")
    assert client.get(url).status_code == 404
    client.post("/logout", data={"csrf": csrf(client, "/governance/problems")})
    login(client, "steward")
    token = csrf(client, url)
    refused = client.post(f"{url}/rejected", data={"reason": " ", "csrf": token})
    assert refused.status_code == 422 and "不予整改须说明理由" in refused.text
    extended = client.post(f"{url}/extend", data={"reason": "需核实", "csrf": token}, follow_redirects=True)
    assert "已延期" in extended.text and 'id="extend"' not in extended.text
