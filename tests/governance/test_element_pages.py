"""Data-element pages: the dictionary with search, an element's page and its actions, a code table."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.core.config import Settings
from digigov.governance import elements
from tests.conftest import actor_named, database_state, login
from tests.governance.test_conflicts import CHANGED, needs_listed, two_sources
from tests.governance.test_elements import ENTERPRISE, make_resource
from tests.helpers import csrf_of, flash_error


def test_the_dictionary_page_searches(client: TestClient) -> None:
    login(client, "consumer")
    html = client.get("/governance/elements").text
    assert "共 15 个数据元" in html and "统一社会信用代码" in html and "GB/T 2261.1" in html
    found = client.get("/governance/elements", params={"q": "性别"}).text
    assert "共 1 个数据元" in found and "DE0008" in found and "DE0001" not in found


def test_an_element_page_shows_its_standard_source_and_usage(client: TestClient, session: Session) -> None:
    steward = actor_named(session, "steward")
    make_resource(session, steward, "hz-qy", "HZ-SJJ", ENTERPRISE)
    elements.set_authoritative_source(session, steward, element="DE0004", resource_code="hz-qy", field="企业名称")
    login(client, "steward")
    html = client.get("/governance/elements/DE0006").text
    assert "行政区划代码" in html and 'href="/governance/code-tables/gbt-2260"' in html and "尚未登记" in html
    html = client.get("/governance/elements/DE0004").text
    assert 'href="/catalog/hz-qy"' in html and "权威来源" in html and "登记权威来源后才能比对" not in html
    assert client.get("/governance/elements/DE9999").status_code == 404


def test_a_second_source_is_refused_on_the_page(client: TestClient, session: Session) -> None:
    steward = actor_named(session, "steward")
    make_resource(session, steward, "hz-qy", "HZ-SJJ", ENTERPRISE)
    make_resource(session, steward, "hz-qy2", "HZ-SJJ", ENTERPRISE)
    login(client, "steward")
    page = client.get("/governance/elements/DE0004")
    form = {"csrf": csrf_of(page.text), "resource_code": "hz-qy", "field": "企业名称"}
    done = client.post("/governance/elements/DE0004/source", data=form, follow_redirects=True)
    assert "已登记权威来源" in done.text
    before = database_state(session)
    refused = client.post("/governance/elements/DE0004/source", data={**form, "resource_code": "hz-qy2"})
    assert refused.status_code == 409 and "一数一源" in flash_error(refused.text)
    changed = client.post(
        "/governance/elements/DE0004/source", data={**form, "resource_code": "hz-qy2", "replace": "true"}
    )
    assert changed.status_code == 403
    after = database_state(session)
    assert {k for k in before if before[k] != after[k]} <= {"web_session"}


@needs_listed
def test_the_bureau_checks_conflicts_on_the_page(client: TestClient, session: Session, settings: Settings) -> None:
    two_sources(session, settings.home)
    login(client, "reviewer")
    page = client.get("/governance/elements/DE0004")
    assert 'id="check-conflicts"' in page.text and "尚未比对" in page.text
    done = client.post(
        "/governance/elements/DE0004/conflicts",
        data={"csrf": csrf_of(page.text), "key_element": "DE0001"},
        follow_redirects=True,
    )
    assert "已完成多源比对" in done.text and f'<strong class="conflict-count">{len(CHANGED)}</strong>' in done.text
    assert "（名称已变更）" in done.text and "新发现" in done.text
    client.cookies.clear()
    login(client, "steward")
    page = client.get("/governance/elements/DE0004").text
    assert "（名称已变更）" in page and 'id="check-conflicts"' not in page


def test_a_code_table_page_pages_and_narrows(client: TestClient) -> None:
    login(client, "consumer")
    html = client.get("/governance/code-tables/gbt-2260").text
    assert "中华人民共和国行政区划代码" in html and "6887 个代码" in html and "下一页" in html
    hangzhou = client.get("/governance/code-tables/gbt-2260", params={"parent": "330100"}).text
    assert "临平区" in hangzhou and "2021" in hangzhou and "上一页" not in hangzhou
    industry = client.get("/governance/code-tables/gbt-4754", params={"q": "制造业"}).text
    assert "门类 20" in industry and "大类 97" in industry and "C" in industry
    assert client.get("/governance/code-tables/nothing").status_code == 404
