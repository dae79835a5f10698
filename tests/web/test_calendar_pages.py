"""The working-day calendar page (/admin/calendar), driven through the real forms."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core import workdays
from digigov.core.audit import AuditHead, AuditRecord
from tests.helpers import flash_error, signed_in

NEXT_YEAR = workdays.china_today().year + 1


def open_as(client: TestClient, username: str, path: str = "/admin/calendar") -> str:
    """Sign in, open a page, and return the CSRF token its forms carry."""
    return signed_in(client, username, path)


def calendar_state(session: Session) -> tuple[Any, ...]:
    years = [(y.year, y.source, y.loaded_by, y.loaded_at) for y in workdays.loaded_years(session)]
    days = [(d.day, d.is_working, d.name) for d in workdays.year_days(session, 2027)]
    head = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    return years, days, tuple(head)


def post_schedule(client: TestClient, csrf: str | None, year: int, text: str, source: str = "国办通知") -> Any:
    data = {"year": str(year), "text": text, "source": source}
    if csrf is not None:
        data["csrf"] = csrf
    return client.post("/admin/calendar", data=data, follow_redirects=False)


def test_admin_sees_loaded_years_and_a_years_holidays(client: TestClient) -> None:
    open_as(client, "admin")
    html = client.get("/admin/calendar", params={"year": 2026}).text
    years = html.split('id="years"', 1)[1].split("</table>", 1)[0]
    assert "<td>2026</td><td>chinese-calendar</td>" in years
    days = html.split('id="days"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"2026-10-01</td><td>四</td>\s*<td><span class=\"tag ok\">休</span></td>\s*<td>国庆节</td>", days)
    assert re.search(r"2026-10-10</td><td>六</td>\s*<td><span class=\"tag warn\">班</span></td>", days)
    assert "国庆节调休上班" in days


def test_page_warns_when_next_year_has_no_schedule(client: TestClient) -> None:
    open_as(client, "admin")
    html = client.get("/admin/calendar").text
    assert f"{NEXT_YEAR} 年尚未导入节假日安排，截止日期按仅周末推算，标注为暂定" in html


def test_an_unloaded_year_says_so(client: TestClient) -> None:
    open_as(client, "admin")
    html = client.get("/admin/calendar", params={"year": 2030}).text
    assert 'id="year-missing"' in html and "2030 年尚未导入节假日安排" in html
    assert "没有记录。" in html


def test_loading_next_year_through_the_form(client: TestClient, session: Session) -> None:
    csrf = open_as(client, "admin")
    text = f"{NEXT_YEAR}-01-01,休,元旦\n{NEXT_YEAR}-02-06~{NEXT_YEAR}-02-08,休,春节\n"
    response = post_schedule(client, csrf, NEXT_YEAR, text, source="国办发明电")
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/calendar?year={NEXT_YEAR}&loaded={NEXT_YEAR}"
    html = client.get(response.headers["location"]).text
    assert f"已导入 {NEXT_YEAR} 年节假日安排。" in html
    assert "尚未导入节假日安排" not in html
    assert f"<td>{NEXT_YEAR}</td><td>国办发明电</td>" in html
    assert f"{NEXT_YEAR}-02-07" in html
    event = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).one()
    assert (event.kind, event.actor_name, event.target) == ("calendar.loaded", "admin", f"calendar:{NEXT_YEAR}")
    assert not workdays.is_working_day(session, date(NEXT_YEAR, 2, 8))[1]


def test_a_blank_source_falls_back_to_the_default(client: TestClient, session: Session) -> None:
    csrf = open_as(client, "admin")
    assert post_schedule(client, csrf, 2027, "2027-01-01,休,元旦", source="  ").status_code == 303
    assert [y.source for y in workdays.loaded_years(session) if y.year == 2027] == ["国务院办公厅通知"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-02-30,休,春节", "第 1 行：2027-02-30 不是有效日期。"),
        ("2027-01-01,休,元旦\n元旦放假一天", "第 2 行“元旦放假一天”格式应为"),
        ("2026-10-01,休,国庆节", "第 1 行：日期须在 2027 年内且起止顺序正确。"),
        ("", "节假日安排为空。"),
        ("# 仅注释", "节假日安排为空。"),
    ],
)
def test_a_malformed_schedule_is_shown_and_changes_nothing(
    client: TestClient, session: Session, text: str, message: str
) -> None:
    csrf = open_as(client, "admin")
    before = calendar_state(session)
    response = post_schedule(client, csrf, 2027, text)
    assert response.status_code == 422
    assert message in flash_error(response.text)
    assert f">{text}</textarea>" in response.text  # the admin's text is kept for correction
    assert calendar_state(session) == before


def test_a_post_without_the_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    open_as(client, "admin")
    before = calendar_state(session)
    for token in (None, "forged-token"):
        response = post_schedule(client, token, 2027, "2027-01-01,休,元旦")
        assert response.status_code == 403
        assert "表单安全令牌缺失或已过期" in response.text
    assert calendar_state(session) == before


def test_a_data_steward_may_neither_see_nor_load(client: TestClient, session: Session) -> None:
    csrf = open_as(client, "steward", "/work-items")
    response = client.get("/admin/calendar")
    assert response.status_code == 403
    assert "导入节假日安排" in response.text
    before = calendar_state(session)
    assert post_schedule(client, csrf, 2027, "2027-01-01,休,元旦").status_code == 403
    assert calendar_state(session) == before


def test_menu_links_to_the_calendar_for_admins_only(client: TestClient) -> None:
    open_as(client, "admin", "/")
    assert 'href="/admin/calendar"' in client.get("/").text
    open_as(client, "steward", "/")
    assert 'href="/admin/calendar"' not in client.get("/").text


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/admin/calendar", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/admin/calendar")


@pytest.mark.parametrize("query", ["year=1800", "year=abc", "year=2201"])
def test_an_out_of_range_year_is_422(client: TestClient, query: str) -> None:
    open_as(client, "admin")
    assert client.get(f"/admin/calendar?{query}").status_code == 422
