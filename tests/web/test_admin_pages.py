"""Sign-in and the administration pages, driven through the real forms."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core.audit import AuditRecord
from digigov.core.db import utcnow
from digigov.identity.models import Department, Region, User
from tests.conftest import DEMO_PASSWORD, database_state, login
from tests.helpers import flash_error, last_event, signed_in


def sign_in(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    """Post the real sign-in form."""
    response = login(client, username, password)
    assert isinstance(response, httpx.Response)
    return response


def user_named(session: Session, username: str) -> User:
    return session.scalars(
        select(User).where(User.username == username).execution_options(populate_existing=True)
    ).one()


# ---- sign-in ------------------------------------------------------------------------------


def test_session_cookie_is_httponly_secure_and_lax(client: TestClient) -> None:
    response = sign_in(client, "admin")
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("digigov_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax"} <= flags
    home = client.get("/")
    assert "欢迎，平台管理员" in home.text


def test_five_wrong_passwords_lock_the_account(client: TestClient, session: Session) -> None:
    for _ in range(4):
        assert sign_in(client, "consumer", "wrong-password-1").status_code == 401
    user = user_named(session, "consumer")
    assert (user.failed_logins, user.locked_until) == (4, None)

    before = utcnow()
    fifth = sign_in(client, "consumer", "wrong-password-1")
    after = utcnow()
    assert fifth.status_code == 401
    user = user_named(session, "consumer")
    assert user.failed_logins == 0  # the count restarts once the lock is set
    assert user.locked_until is not None
    assert before + timedelta(minutes=15) <= user.locked_until <= after + timedelta(minutes=15)

    refused = sign_in(client, "consumer")
    assert refused.status_code == 423
    assert "登录失败次数过多，账号已锁定" in refused.text
    assert "digigov_session" not in refused.headers.get("set-cookie", "")
    assert client.get("/", follow_redirects=False).status_code == 303
    reasons = [e.detail for e in session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(2))]
    assert '"reason":"locked"' in reasons[0] and '"reason":"locked_now"' in reasons[1]


# ---- permissions and CSRF -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/departments", "/admin/users"])
def test_steward_cannot_open_admin_pages(client: TestClient, path: str) -> None:
    sign_in(client, "steward")
    response = client.get(path)
    assert response.status_code == 403
    assert "403 · 无法完成请求" in response.text and "您的角色无权执行" in response.text


def test_admin_pages_need_sign_in(client: TestClient) -> None:
    response = client.get("/admin/users", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin/users"


@pytest.mark.parametrize("token", [None, "", "not-the-session-token"])
def test_form_without_the_right_csrf_token_changes_nothing(
    client: TestClient, session: Session, token: str | None
) -> None:
    signed_in(client, "admin", "/admin/departments")
    before = database_state(session)
    form = {"code": "HZ-JYJ", "name": "杭州市教育局", "region_code": "330100"}
    if token is not None:
        form["csrf"] = token
    response = client.post("/admin/departments", data=form)
    assert response.status_code == 403
    assert "表单安全令牌缺失或已过期" in response.text
    assert database_state(session) == before


def test_steward_posting_a_user_is_refused_by_the_service(client: TestClient, session: Session) -> None:
    csrf = signed_in(client, "steward", "/")
    before = database_state(session)
    form = {"username": "sneaky", "display_name": "x", "password": "long-enough-password", "roles": "platform_admin"}
    response = client.post("/admin/users", data=form | {"csrf": csrf})
    assert response.status_code == 403
    assert database_state(session) == before


# ---- departments --------------------------------------------------------------------------


def test_departments_page_lists_code_name_region_and_parent(client: TestClient) -> None:
    sign_in(client, "admin")
    html = client.get("/admin/departments").text
    row = re.search(r"<td><code>HZ-XH-SJJ</code></td>(.*?)</tr>", html, re.S)
    assert row, html
    assert "杭州市西湖区市场监督管理局" in row.group(1)
    assert "西湖区" in row.group(1) and "330106" in row.group(1)
    assert "杭州市市场监督管理局" in row.group(1)
    assert '<option value="330100">' in html  # the current region select


def test_create_department_shows_it_and_audits_it(client: TestClient, session: Session) -> None:
    csrf = signed_in(client, "admin", "/admin/departments")
    parent = session.scalars(select(Department).where(Department.code == "HZ-SJJ")).one()
    form = {
        "code": "HZ-BJ-SJJ",
        "name": "杭州市滨江区市场监督管理局",
        "region_code": "330108",
        "parent_id": str(parent.id),
    }
    response = client.post("/admin/departments", data=form | {"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    created = session.scalars(select(Department).where(Department.code == "HZ-BJ-SJJ")).one()
    assert (created.region_code, created.parent_id) == ("330108", parent.id)
    page = client.get(response.headers["location"])
    assert "部门“杭州市滨江区市场监督管理局”（HZ-BJ-SJJ）已创建" in page.text
    assert "<td><code>HZ-BJ-SJJ</code></td>" in page.text
    event = last_event(session)
    assert (event.kind, event.target, event.actor_name) == (
        "identity.department_created",
        f"department:{created.id}",
        "admin",
    )


def test_taken_department_code_is_shown_and_changes_nothing(client: TestClient, session: Session) -> None:
    csrf = signed_in(client, "admin", "/admin/departments")
    before = database_state(session)
    form = {"code": "HZ-SJJ", "name": "重复的部门", "region_code": "330100", "csrf": csrf}
    response = client.post("/admin/departments", data=form)
    assert response.status_code == 409
    assert "部门代码 HZ-SJJ 已被使用" in flash_error(response.text)
    assert 'value="重复的部门"' in response.text  # the form keeps what was typed
    assert database_state(session) == before


def test_abolished_region_is_refused(client: TestClient, session: Session) -> None:
    abolished = session.scalars(select(Region).where(Region.valid_to.is_not(None)).order_by(Region.code)).first()
    assert abolished is not None, "the Zhejiang table should hold an abolished code (e.g. 330103 下城区)"
    csrf = signed_in(client, "admin", "/admin/departments")
    before = database_state(session)
    form = {"code": "OLD-1", "name": "旧区部门", "region_code": abolished.code, "csrf": csrf}
    response = client.post("/admin/departments", data=form)
    assert response.status_code == 422
    assert f"{abolished.name} 已于 {abolished.valid_to} 年撤销" in flash_error(response.text)
    assert f'<option value="{abolished.code}"' not in response.text  # only current regions are offered
    assert database_state(session) == before


# ---- users --------------------------------------------------------------------------------


def test_users_page_shows_departments_roles_and_last_login(client: TestClient) -> None:
    sign_in(client, "admin")
    html = client.get("/admin/users").text
    row = re.search(r"<td><code>steward</code></td>(.*?)</tr>", html, re.S)
    assert row, html
    assert "王芳" in row.group(1) and "杭州市市场监督管理局" in row.group(1)
    assert '<span class="tag">部门数据管理员</span>' in row.group(1)
    assert "启用" in row.group(1) and "从未登录" in row.group(1)
    own = re.search(r"<td><code>admin</code></td>(.*?)</tr>", html, re.S)
    assert own and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", own.group(1))  # just signed in
    assert "停用</button>" not in own.group(1)  # no button to disable oneself


def test_create_user_with_two_roles(client: TestClient, session: Session) -> None:
    csrf = signed_in(client, "admin", "/admin/users")
    dept = session.scalars(select(Department).where(Department.code == "HZ-RSJ")).one()
    form = {
        "username": "sun.li",
        "display_name": "孙丽",
        "password": "a-good-long-secret",
        "department_id": str(dept.id),
        "roles": ["data_steward", "data_consumer"],
        "csrf": csrf,
    }
    response = client.post("/admin/users", data=form, follow_redirects=False)
    assert response.status_code == 303
    user = user_named(session, "sun.li")
    assert (user.display_name, user.department_id, user.role_names) == (
        "孙丽",
        dept.id,
        ["data_consumer", "data_steward"],
    )
    page = client.get(response.headers["location"]).text
    assert "用户“孙丽”（sun.li）已创建" in page
    row = re.search(r"<td><code>sun.li</code></td>(.*?)</tr>", page, re.S)
    assert row and "数据使用者" in row.group(1) and "部门数据管理员" in row.group(1)
    event = last_event(session)
    assert (event.kind, event.target) == ("identity.user_created", f"user:{user.id}")
    assert sign_in(client, "sun.li", "a-good-long-secret").status_code == 303


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"username": "weak", "password": "short", "roles": "data_consumer"}, 422, "密码长度须为 10 到 128 个字符"),
        (
            {"username": "steward", "password": "a-good-long-secret", "roles": "data_consumer"},
            409,
            "用户名 steward 已被使用",
        ),
        ({"username": "noroles", "password": "a-good-long-secret"}, 422, "用户至少须有一个角色"),
        (
            {"username": "nodept", "password": "a-good-long-secret", "roles": "auditor", "department_id": ""},
            422,
            "工作人员角色须归属部门",
        ),
        ({"username": "badrole", "password": "a-good-long-secret", "roles": "emperor"}, 422, "角色须为以下之一"),
    ],
    ids=["weak-password", "taken-username", "no-role", "staff-without-department", "unknown-role"],
)
def test_refused_user_is_explained_and_changes_nothing(
    client: TestClient, session: Session, form: dict[str, str], status: int, message: str
) -> None:
    csrf = signed_in(client, "admin", "/admin/users")
    dept = session.scalars(select(Department).where(Department.code == "HZ-RSJ")).one()
    before = database_state(session)
    data = {"display_name": "某人", "department_id": str(dept.id)} | form | {"csrf": csrf}
    response = client.post("/admin/users", data=data)
    assert response.status_code == status
    assert message in flash_error(response.text)
    assert database_state(session) == before


def test_disable_ends_sessions_and_enable_lets_the_user_back(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    with TestClient(app, base_url="https://testserver") as consumer:
        sign_in(consumer, "consumer")
        assert consumer.get("/").status_code == 200
        csrf = signed_in(client, "admin", "/admin/users")
        target = user_named(session, "consumer")

        response = client.post(f"/admin/users/{target.id}/active", data={"active": "false", "csrf": csrf})
        assert response.status_code == 200 and response.url.path == "/admin/users"
        assert not user_named(session, "consumer").is_active
        row = re.search(r"<td><code>consumer</code></td>(.*?)</tr>", response.text, re.S)
        assert row and '<span class="tag bad">停用</span>' in row.group(1)
        assert '"active":false' in last_event(session).detail
        assert consumer.get("/", follow_redirects=False).status_code == 303  # signed out at once
        assert sign_in(consumer, "consumer").status_code == 401

        client.post(f"/admin/users/{target.id}/active", data={"active": "true", "csrf": csrf})
        assert user_named(session, "consumer").is_active
        assert sign_in(consumer, "consumer").status_code == 303


def test_admin_cannot_disable_themself(client: TestClient, session: Session) -> None:
    csrf = signed_in(client, "admin", "/admin/users")
    admin = user_named(session, "admin")
    before = database_state(session)
    response = client.post(f"/admin/users/{admin.id}/active", data={"active": "false", "csrf": csrf})
    assert response.status_code == 422
    assert "不能停用自己的账号" in flash_error(response.text)
    assert database_state(session) == before
