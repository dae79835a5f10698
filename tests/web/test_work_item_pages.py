"""Work-item pages (/work-items, /work-items/{id}), driven through the real forms."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.core import workflow
from digigov.core.audit import AuditHead
from digigov.core.auth import Actor
from digigov.core.workflow import WorkItem, WorkItemStep
from digigov.identity.models import Department
from tests.conftest import actor_named, login
from tests.helpers import csrf_of, flash_error, signed_in

NOTE = "材料不全，请补正"


def open_as(client: TestClient, username: str, path: str = "/work-items") -> str:
    """Sign in, open a page, and return the CSRF token its forms carry."""
    return signed_in(client, username, path)


def dept(session: Session, code: str) -> int:
    return session.scalars(select(Department.id).where(Department.code == code)).one()


def make_item(session: Session, actor: Actor, code: str = "HZ-SJJ", **kwargs: Any) -> WorkItem:
    kwargs.setdefault("kind", "问题数据")
    kwargs.setdefault("subject", "企业注册地址缺失")
    kwargs.setdefault("due_in_working_days", 5)
    item = workflow.open_item(session, actor, department_id=dept(session, code), **kwargs)
    session.flush()
    return item


def item_state(session: Session, item: WorkItem) -> tuple[Any, ...]:
    """What a refused post must leave alone."""
    session.refresh(item)
    steps = session.scalar(select(func.count()).select_from(WorkItemStep).where(WorkItemStep.item_id == item.id))
    head = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    return item.state, item.updated_at, steps, tuple(head)


def row_of(html: str, item: WorkItem) -> str:
    match = re.search(rf'<tr id="item-{item.id}".*?</tr>', html, re.S)
    assert match, f"item {item.id} is not listed"
    return match.group(0)


def move(client: TestClient, csrf: str | None, item: WorkItem, action: str, note: str = "") -> Any:
    data = {"action": action, "note": note}
    if csrf is not None:
        data["csrf"] = csrf
    return client.post(f"/work-items/{item.id}/moves", data=data, follow_redirects=False)


def buttons(html: str) -> list[str]:
    return re.findall(r'id="move-(\w+)"', html)


# ---- the list -----------------------------------------------------------------------------------


def test_list_marks_provisional_and_overdue_due_dates(client: TestClient, session: Session, admin: Actor) -> None:
    provisional = make_item(session, admin, kind="list-test", due_in_working_days=10, today=date(2026, 12, 28))
    late = make_item(session, admin, kind="list-test", today=date.today() - timedelta(days=60))
    fresh = make_item(session, admin, kind="list-test")
    open_as(client, "admin")
    html = client.get("/work-items", params={"kind": "list-test"}).text
    assert provisional.due_provisional
    assert "2027-01-11" in row_of(html, provisional) and "暂定" in row_of(html, provisional)
    assert "已超期" in row_of(html, late) and 'class="overdue"' in row_of(html, late)
    assert "已超期" not in row_of(html, fresh)
    for item in (provisional, late, fresh):
        assert ("暂定" in row_of(html, item)) == item.due_provisional
        assert ("已超期" in row_of(html, item)) == item.is_overdue(date.today())
    assert "待受理" in row_of(html, fresh) and "杭州市市场监督管理局" in row_of(html, fresh)


def test_list_filters_by_state_kind_and_overdue(client: TestClient, session: Session, admin: Actor) -> None:
    late = make_item(session, admin, kind="filter-test", today=date.today() - timedelta(days=60))
    accepted = make_item(session, admin, kind="filter-test")
    workflow.move_item(session, admin, item_id=accepted.id, action="accept")
    other = make_item(session, admin, kind="another-kind")
    session.flush()
    open_as(client, "admin")

    def listed(**params: str) -> set[int]:
        html = client.get("/work-items", params=params).text
        return {int(i) for i in re.findall(r'<tr id="item-(\d+)"', html)}

    assert listed(kind="filter-test") == {late.id, accepted.id}
    assert listed(kind="filter-test", state="accepted") == {accepted.id}
    assert listed(kind="filter-test", overdue="true") == {late.id}
    assert other.id in listed(state="", kind="")
    html = client.get("/work-items", params={"state": "accepted", "overdue": "true"}).text
    assert 'value="accepted" selected' in html and 'id="filter-overdue" checked' in html


def test_an_unknown_state_filter_is_422(client: TestClient) -> None:
    open_as(client, "admin")
    response = client.get("/work-items", params={"state": "done"})
    assert response.status_code == 422
    assert "状态须为以下之一" in response.text


def test_departments_see_only_their_items(client: TestClient, session: Session, admin: Actor, steward: Actor) -> None:
    district = make_item(session, admin, "HZ-XH-SJJ", kind="scope-test")
    city = make_item(session, admin, "HZ-SJJ", kind="scope-test")
    open_as(client, "inspector")
    html = client.get("/work-items", params={"kind": "scope-test"}).text
    assert f'id="item-{district.id}"' in html and f'id="item-{city.id}"' not in html
    open_as(client, "steward")
    html = client.get("/work-items", params={"kind": "scope-test"}).text
    assert f'id="item-{district.id}"' in html and f'id="item-{city.id}"' in html


# ---- opening an item ------------------------------------------------------------------------------


def test_opening_an_item_through_the_form(client: TestClient, session: Session) -> None:
    csrf = open_as(client, "admin")
    form = {
        "kind": "督办指令",
        "subject": "核查西湖区企业登记问题",
        "department_id": str(dept(session, "HZ-XH-SJJ")),
        "due_in_working_days": "10",
        "detail": "见附件一",
        "csrf": csrf,
    }
    response = client.post("/work-items", data=form, follow_redirects=False)
    assert response.status_code == 303
    item_id = int(re.fullmatch(r"/work-items/(\d+)\?done=open", response.headers["location"]).group(1))  # type: ignore[union-attr]
    html = client.get(response.headers["location"]).text
    assert "已发起。" in html and "核查西湖区企业登记问题" in html and "见附件一" in html
    assert '<span class="tag" id="state">待受理</span>' in html
    assert "杭州市西湖区市场监督管理局" in html
    item = session.get_one(WorkItem, item_id)
    assert (item.opened_by, item.kind, item.state) == ("admin", "督办指令", "open")
    due = item.due_on.isoformat()
    assert due in html and ("暂定" in html) == item.due_provisional


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"department_id": ""}, "请选择承办部门。"),
        ({"subject": "  "}, "工单须填写类型和事项。"),
        ({"department_id": "999999"}, "部门 999999 不存在"),
    ],
)
def test_opening_with_bad_input_shows_the_error_and_keeps_the_form(
    client: TestClient, session: Session, fields: dict[str, str], message: str
) -> None:
    csrf = open_as(client, "admin")
    form = {"kind": "问题数据", "subject": "字段缺失", "department_id": str(dept(session, "HZ-SJJ")), "csrf": csrf}
    count = session.scalar(select(func.count()).select_from(WorkItem))
    response = client.post("/work-items", data=form | fields, follow_redirects=False)
    assert response.status_code == 422
    assert message in flash_error(response.text)
    assert 'value="问题数据"' in response.text
    assert session.scalar(select(func.count()).select_from(WorkItem)) == count


def test_opening_without_the_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    open_as(client, "admin")
    count = session.scalar(select(func.count()).select_from(WorkItem))
    form = {"kind": "问题数据", "subject": "无令牌", "department_id": str(dept(session, "HZ-SJJ"))}
    response = client.post("/work-items", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(WorkItem)) == count


def test_the_open_form_is_only_for_those_who_may_open(client: TestClient, session: Session) -> None:
    open_as(client, "auditor")
    assert 'id="open-form"' not in client.get("/work-items").text
    csrf = open_as(client, "steward")
    assert 'id="open-form"' in client.get("/work-items").text
    open_as(client, "auditor")
    auditor_csrf = csrf_of(client.get("/work-items").text)
    form = {"kind": "k", "subject": "s", "department_id": str(dept(session, "HZ-SJJ")), "csrf": auditor_csrf}
    response = client.post("/work-items", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert "发起闭环工单" in flash_error(response.text)
    assert csrf != auditor_csrf


def test_a_data_consumer_has_no_work_items_page(client: TestClient) -> None:
    assert login(client, "consumer").status_code == 303  # type: ignore[attr-defined]
    response = client.get("/work-items")
    assert response.status_code == 403
    assert "查看工单" in response.text


# ---- one item ---------------------------------------------------------------------------------------


def test_detail_shows_only_the_moves_this_user_may_make(client: TestClient, session: Session, admin: Actor) -> None:
    item = make_item(session, admin, "HZ-SJJ")
    open_as(client, "steward")
    assert buttons(client.get(f"/work-items/{item.id}").text) == ["accept", "return"]
    workflow.move_item(session, admin, item_id=item.id, action="accept")
    workflow.move_item(session, admin, item_id=item.id, action="resolve")
    session.flush()
    html = client.get(f"/work-items/{item.id}").text
    assert buttons(html) == [] and "当前状态下您没有可执行的操作" in html  # verifying is the opener's
    open_as(client, "admin")
    assert buttons(client.get(f"/work-items/{item.id}").text) == ["verify", "reject"]


def test_the_whole_loop_through_the_forms(client: TestClient, session: Session, admin: Actor) -> None:
    item = make_item(session, admin, "HZ-SJJ")
    csrf = open_as(client, "admin", f"/work-items/{item.id}")
    for action, label, state in [
        ("accept", "受理", "处理中"),
        ("resolve", "办结", "待核验"),
        ("reject", "核验不通过", "处理中"),
        ("resolve", "办结", "待核验"),
        ("verify", "核验通过", "已办结"),
        ("reopen", "重启", "已重启"),
    ]:
        response = move(client, csrf, item, action, note=NOTE)
        assert response.status_code == 303, response.text
        html = client.get(response.headers["location"]).text
        assert f"已{label}。" in html and f'id="state">{state}</span>' in html
    steps = html.split('id="steps"', 1)[1]
    assert steps.count("<tr>") == 8  # header + open + six moves
    assert "已办结 → 已重启" in steps and NOTE in steps


def test_history_shows_the_time_spent_in_each_state(client: TestClient, session: Session, admin: Actor) -> None:
    item = make_item(session, admin, "HZ-SJJ")
    item.updated_at -= timedelta(hours=3, minutes=5)  # as if the item had waited
    session.flush()
    csrf = open_as(client, "admin", f"/work-items/{item.id}")
    assert move(client, csrf, item, "accept").status_code == 303
    html = client.get(f"/work-items/{item.id}").text
    assert "3 小时 5 分" in html or "3 小时 6 分" in html


def test_return_without_a_reason_is_shown_and_changes_nothing(
    client: TestClient, session: Session, admin: Actor
) -> None:
    item = make_item(session, admin, "HZ-SJJ")
    csrf = open_as(client, "steward", f"/work-items/{item.id}")
    before = item_state(session, item)
    response = move(client, csrf, item, "return", note="  ")
    assert response.status_code == 422
    assert "“退回”须说明理由。" in flash_error(response.text)
    assert item_state(session, item) == before
    assert move(client, csrf, item, "return", note=NOTE).status_code == 303
    assert item_state(session, item)[0] == "returned"


def test_an_illegal_move_is_409_and_changes_nothing(client: TestClient, session: Session, admin: Actor) -> None:
    item = make_item(session, admin, "HZ-SJJ")
    csrf = open_as(client, "admin", f"/work-items/{item.id}")
    before = item_state(session, item)
    response = move(client, csrf, item, "verify")
    assert response.status_code == 409
    assert "工单当前状态为“待受理”，不能执行“核验通过”。" in flash_error(response.text)
    assert buttons(response.text) == ["accept", "return"]
    response = move(client, csrf, item, "close")
    assert response.status_code == 422 and "未知操作“close”" in flash_error(response.text)
    assert item_state(session, item) == before


def test_a_move_without_the_csrf_token_is_refused(client: TestClient, session: Session, admin: Actor) -> None:
    item = make_item(session, admin, "HZ-SJJ")
    open_as(client, "admin", f"/work-items/{item.id}")
    before = item_state(session, item)
    for token in (None, "forged-token"):
        response = move(client, token, item, "accept")
        assert response.status_code == 403
        assert "表单安全令牌缺失或已过期" in response.text
    assert item_state(session, item) == before


def test_another_department_can_neither_see_nor_move(client: TestClient, session: Session, admin: Actor) -> None:
    item = make_item(session, admin, "HZ-SJJ")
    csrf = open_as(client, "inspector")  # 西湖区, a child of the assignee: no rights upwards
    assert client.get(f"/work-items/{item.id}").status_code == 403
    before = item_state(session, item)
    response = move(client, csrf, item, "accept")
    assert response.status_code == 403
    assert item_state(session, item) == before


def test_the_parent_department_handles_a_childs_item(client: TestClient, session: Session, admin: Actor) -> None:
    item = make_item(session, admin, "HZ-XH-SJJ")
    csrf = open_as(client, "steward", f"/work-items/{item.id}")
    assert move(client, csrf, item, "accept").status_code == 303
    assert item_state(session, item)[0] == "accepted"
    assert actor_named(session, "steward").department_id != item.department_id


def test_unknown_item_is_404(client: TestClient) -> None:
    csrf = open_as(client, "admin")
    assert client.get("/work-items/999999").status_code == 404
    response = client.post("/work-items/999999/moves", data={"action": "accept", "csrf": csrf})
    assert response.status_code == 404
    assert client.get("/work-items/0").status_code == 422
