"""Identity services: departments, users, sign-in with lock-out, tokens, permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import ACTIONS, Actor, InDepartment, Role, require
from digigov.core.config import Settings
from digigov.core.db import utcnow
from digigov.core.errors import AccountLocked, BadCredentials, Forbidden, InvalidCode, NotFound, TokenRejected
from digigov.identity import service, sessions, tokens
from digigov.identity.errors import DepartmentCodeTaken, UnknownScope, UsernameTaken, WeakPassword
from digigov.identity.models import ApiToken, Department, Region, User
from tests.conftest import DEMO_PASSWORD, actor_named, database_state


def _department(session: Session, code: str) -> Department:
    return session.scalars(select(Department).where(Department.code == code)).one()


def test_zhejiang_regions_have_real_codes_and_years(session: Session) -> None:
    assert session.get(Region, "330000").name == "浙江省"  # type: ignore[union-attr]
    linping, qiantang = session.get(Region, "330113"), session.get(Region, "330114")
    assert (linping.name, linping.parent_code, linping.valid_from) == ("临平区", "330100", 2021)  # type: ignore[union-attr]
    assert qiantang.name == "钱塘区" and qiantang.current  # type: ignore[union-attr]
    xiacheng = session.get(Region, "330103")
    assert (xiacheng.name, xiacheng.valid_to) == ("下城区", 2021)  # type: ignore[union-attr]
    current = session.scalars(select(Region).where(Region.valid_to.is_(None), Region.level == "city")).all()
    assert {r.name for r in current} >= {
        "杭州市",
        "宁波市",
        "温州市",
        "湖州市",
        "嘉兴市",
        "绍兴市",
        "金华市",
        "衢州市",
        "舟山市",
        "台州市",
        "丽水市",
    }


def test_create_department_checks_region_and_code(session: Session, admin: Actor, steward: Actor) -> None:
    dept = service.create_department(
        session, admin, code="HZ-QT-SJJ", name="钱塘区市场监督管理局", region_code="330114"
    )
    assert dept.region_code == "330114"
    before = database_state(session)
    with pytest.raises(DepartmentCodeTaken):
        service.create_department(session, admin, code="HZ-QT-SJJ", name="重复", region_code="330114")
    with pytest.raises(InvalidCode):
        service.create_department(session, admin, code="X1", name="坏代码", region_code="33011")
    with pytest.raises(NotFound):
        service.create_department(session, admin, code="X2", name="外省", region_code="110105")
    with pytest.raises(Forbidden):
        service.create_department(session, steward, code="X3", name="越权", region_code="330106")
    abolished = pytest.raises(Exception, match="撤销|abolished")
    with abolished:
        service.create_department(session, admin, code="X4", name="下城区某局", region_code="330103")
    assert database_state(session) == before


def test_create_user_rules(session: Session, admin: Actor) -> None:
    dept = _department(session, "HZ-SJJ")
    user = service.create_user(
        session,
        admin,
        username="wang.li",
        display_name="王丽",
        password="a long enough secret",
        department_id=dept.id,
        roles=[Role.data_steward, Role.inspector],
    )
    assert user.password_hash.startswith("$argon2id$")
    assert user.role_names == ["data_steward", "inspector"]
    before = database_state(session)
    with pytest.raises(UsernameTaken):
        service.create_user(
            session,
            admin,
            username="WANG.LI",
            display_name="x",
            password="another long secret",
            department_id=dept.id,
            roles=[Role.data_consumer],
        )
    with pytest.raises(WeakPassword):
        service.create_user(
            session,
            admin,
            username="short",
            display_name="x",
            password="short",
            department_id=dept.id,
            roles=[Role.data_consumer],
        )
    with pytest.raises(WeakPassword):
        service.create_user(
            session,
            admin,
            username="echo",
            display_name="x",
            password="echo-echo-echo-1",
            department_id=dept.id,
            roles=[Role.data_consumer],
        )
    with pytest.raises(Exception, match="department|部门"):
        service.create_user(
            session,
            admin,
            username="nodept",
            display_name="x",
            password="a long enough secret",
            department_id=None,
            roles=[Role.data_steward],
        )
    assert database_state(session) == before


def test_login_locks_after_repeated_failures(session: Session, settings: Settings) -> None:
    for _ in range(settings.login_max_failures - 1):
        outcome = sessions.log_in(session, settings, username="consumer", password="wrong password!")
        assert isinstance(outcome.error, BadCredentials)
    user = session.scalars(select(User).where(User.username == "consumer")).one()
    assert user.failed_logins == settings.login_max_failures - 1 and user.locked_until is None
    sessions.log_in(session, settings, username="consumer", password="wrong password!")
    assert user.locked_until is not None and user.locked_until > utcnow()
    locked = sessions.log_in(session, settings, username="consumer", password=DEMO_PASSWORD)
    assert isinstance(locked.error, AccountLocked) and locked.cookie is None
    kinds = [
        e.kind
        for e in audit.search_events(
            session, actor_named(session, "auditor"), audit.AuditQuery(target=f"user:{user.id}", limit=10)
        )
    ]
    assert kinds.count("identity.login_failed") == settings.login_max_failures + 1
    user.locked_until = utcnow() - timedelta(seconds=1)  # the lock has run out
    assert sessions.log_in(session, settings, username="consumer", password=DEMO_PASSWORD).cookie


def test_wrong_password_changes_only_the_failure_counter(session: Session, settings: Settings) -> None:
    before = database_state(session)
    outcome = sessions.log_in(session, settings, username="reviewer", password="not the password")
    assert isinstance(outcome.error, BadCredentials)
    after = database_state(session)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"user_account", "audit_event", "audit_head"}
    unknown = sessions.log_in(session, settings, username="nobody", password="whatever at all")
    assert isinstance(unknown.error, BadCredentials)
    assert database_state(session) == after  # an unknown name leaves no trace to probe


def test_sessions_expire_and_end_on_disable(session: Session, settings: Settings, admin: Actor) -> None:
    outcome = sessions.log_in(session, settings, username="steward", password=DEMO_PASSWORD)
    assert outcome.cookie and sessions.session_for_cookie(session, settings, outcome.cookie)
    web = sessions.session_for_cookie(session, settings, outcome.cookie)
    assert web is not None
    web.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    assert sessions.session_for_cookie(session, settings, outcome.cookie) is None
    again = sessions.log_in(session, settings, username="steward", password=DEMO_PASSWORD)
    assert again.cookie
    service.set_user_active(session, admin, user_id=again.user.id, active=False)  # type: ignore[union-attr]
    assert sessions.session_for_cookie(session, settings, again.cookie) is None


def test_tokens_are_hashed_scoped_expiring_and_revocable(session: Session, settings: Settings) -> None:
    auditor = actor_named(session, "auditor")
    token, secret = tokens.create_token(session, auditor, settings, name="审计脚本", scopes=["audit.*"], days=30)
    assert secret.startswith("dg_") and secret not in token.token_hash and token.prefix == secret[:10]
    acting = tokens.authenticate_token(session, secret)
    assert acting.token_scopes == ("audit.*",) and token.last_used_at is not None
    require(acting, "audit.read")
    with pytest.raises(Forbidden, match="scope"):
        require(acting, "workflow.read")
    token.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(TokenRejected, match="expired"):
        tokens.authenticate_token(session, secret)
    token.expires_at = utcnow() + timedelta(days=1)
    tokens.revoke_token(session, auditor, token_id=token.id)
    with pytest.raises(TokenRejected, match="revoked"):
        tokens.authenticate_token(session, secret)
    assert session.get(ApiToken, token.id) is not None  # kept for the audit trail
    with pytest.raises(TokenRejected, match="not known"):
        tokens.authenticate_token(session, secret + "x")


def test_token_creation_refuses_bad_requests(session: Session, settings: Settings) -> None:
    steward = actor_named(session, "steward")
    before = database_state(session)
    with pytest.raises(UnknownScope):
        tokens.create_token(session, steward, settings, name="x", scopes=["nothing.matches"])
    with pytest.raises(Exception, match="1 to"):
        tokens.create_token(session, steward, settings, name="x", scopes=["*"], days=settings.token_max_days + 1)
    other = actor_named(session, "consumer")
    token, _ = tokens.create_token(session, other, settings, name="mine", scopes=["*"])
    state = database_state(session)
    with pytest.raises(NotFound):
        tokens.revoke_token(session, steward, token_id=token.id)  # someone else's token
    assert database_state(session) == state
    assert before != state


def test_require_keeps_department_roles_inside_their_department(session: Session) -> None:
    steward, inspector = actor_named(session, "steward"), actor_named(session, "inspector")
    own = _department(session, "HZ-SJJ")
    child = _department(session, "HZ-XH-SJJ")
    other = _department(session, "HZ-RSJ")
    require(steward, "workflow.handle", InDepartment(own.id))
    require(steward, "workflow.handle", InDepartment(child.id))  # a department covers those under it
    with pytest.raises(Forbidden, match="department|部门"):
        require(steward, "workflow.handle", InDepartment(other.id))
    with pytest.raises(Forbidden):
        require(inspector, "workflow.handle", InDepartment(own.id))  # not upwards
    admin = actor_named(session, "admin")
    require(admin, "workflow.handle", InDepartment(other.id))


def test_every_action_has_a_description_and_roles() -> None:
    for action in ACTIONS.values():
        assert action.description.endswith(".") and action.label and action.roles
