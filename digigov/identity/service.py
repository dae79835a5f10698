"""Identity services: departments, users, sign-in, web sessions and API tokens."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import Actor, Role, require
from digigov.core.codes import parse_division_code
from digigov.core.commands import operator
from digigov.core.db import utcnow
from digigov.core.errors import Invalid, NotFound
from digigov.identity import actions as _actions  # noqa: F401  (declares the actions)
from digigov.identity.errors import DepartmentCodeTaken, UsernameTaken, WeakPassword
from digigov.identity.events import (
    DepartmentCreated,
    UserActivation,
    UserCreated,
)
from digigov.identity.models import ApiToken, Department, Region, User, UserRole, WebSession

password_hasher = PasswordHasher()


def secret_digest(value: str) -> str:
    """How secrets the platform hands out (session cookies, API tokens) are stored: their SHA-256."""
    return hashlib.sha256(value.encode()).hexdigest()


# ---- regions and departments ------------------------------------------------------------


def get_region(session: Session, code: str) -> Region:
    """A region by its six-digit code."""
    region = session.get(Region, parse_division_code(code))
    if region is None:
        raise NotFound(f"Region {code} is not in the platform's table.", f"平台区划表中没有 {code}。")
    return region


def read_region(session: Session, actor: Actor, code: str) -> Region:
    """A region for a caller allowed to read the table."""
    require(actor, "identity.region.read")
    return get_region(session, code)


def list_regions(
    session: Session,
    actor: Actor,
    *,
    parent_code: str | None = None,
    level: str | None = None,
    current_only: bool = False,
) -> list[Region]:
    """Regions filtered by parent, level and whether the code is still in use."""
    require(actor, "identity.region.read")
    stmt = select(Region).order_by(Region.code)
    if parent_code:
        stmt = stmt.where(Region.parent_code == parent_code)
    if level:
        stmt = stmt.where(Region.level == level)
    if current_only:
        stmt = stmt.where(Region.valid_to.is_(None))
    return list(session.scalars(stmt))


def get_department(session: Session, department_id: int) -> Department:
    """A department by id."""
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(f"Department {department_id} does not exist.", f"部门 {department_id} 不存在。")
    return department


def list_departments(session: Session, actor: Actor) -> list[Department]:
    """All departments, by code."""
    require(actor, "identity.department.read")
    return list(session.scalars(select(Department).order_by(Department.code)))


def create_department(
    session: Session, actor: Actor, *, code: str, name: str, region_code: str, parent_id: int | None = None
) -> Department:
    """Create a department under a region and, optionally, a parent department."""
    require(actor, "identity.department.create")
    region = get_region(session, region_code)
    if region.valid_to is not None:
        raise Invalid(
            f"Region {region.code} {region.name} was abolished in {region.valid_to}.",
            f"行政区划 {region.code} {region.name} 已于 {region.valid_to} 年撤销。",
        )
    if parent_id is not None:
        get_department(session, parent_id)
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise Invalid("A department needs a code and a name.", "部门须填写代码和名称。")
    if session.scalar(select(Department.id).where(Department.code == code)) is not None:
        raise DepartmentCodeTaken(f"Department code {code} is taken.", f"部门代码 {code} 已被使用。")
    department = Department(code=code, name=name, region_code=region.code, parent_id=parent_id)
    session.add(department)
    session.flush()
    audit.record(session, actor, DepartmentCreated(department.id, code, name, region.code))
    return department


def department_subtree(session: Session, department_id: int | None) -> frozenset[int]:
    """A department and every department under it."""
    if department_id is None:
        return frozenset()
    children: dict[int | None, list[int]] = {}
    for dept_id, parent_id in session.execute(select(Department.id, Department.parent_id)):
        children.setdefault(parent_id, []).append(dept_id)
    found, pending = {department_id}, [department_id]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return frozenset(found)


# ---- users ------------------------------------------------------------------------------


def check_password_strength(password: str, username: str) -> None:
    """Refuse short passwords and ones that repeat the username (ASVS 6.2; no composition rules)."""
    if len(password) < 10 or len(password) > 128:
        raise WeakPassword("A password must have 10 to 128 characters.", "密码长度须为 10 到 128 个字符。")
    if username.lower() in password.lower() or len(set(password)) < 4:
        raise WeakPassword(
            "The password is too easy to guess (it contains the username or repeats characters).",
            "密码过于简单（包含用户名或字符重复）。",
        )


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    password: str,
    department_id: int | None,
    roles: list[Role],
) -> User:
    """Create a user with roles; staff roles need a department."""
    require(actor, "identity.user.create")
    return _add_user(
        session,
        actor,
        username=username,
        display_name=display_name,
        password=password,
        department_id=department_id,
        roles=roles,
    )


def register_public_user(session: Session, *, username: str, display_name: str, password: str) -> User:
    """A visitor's own account (a public portal's registration): Role.public only, no department.

    Nobody grants it, so no permission is checked; the audit event names the new user as its actor.
    """
    return _add_user(
        session,
        None,
        username=username,
        display_name=display_name,
        password=password,
        department_id=None,
        roles=[Role.public],
    )


def _add_user(
    session: Session,
    actor: Actor | None,
    *,
    username: str,
    display_name: str,
    password: str,
    department_id: int | None,
    roles: list[Role],
) -> User:
    username = username.strip()
    if not username or len(username) > 50 or not username.replace("_", "").replace(".", "").isalnum():
        raise Invalid("A username has 1-50 letters, digits, '_' or '.'.", "用户名须为 1-50 个字母、数字、“_”或“.”。")
    if not roles:
        raise Invalid("A user needs at least one role.", "用户至少须有一个角色。")
    if department_id is None and set(roles) - {Role.public}:
        raise Invalid("Staff roles need a department.", "工作人员角色须归属部门。")
    if department_id is not None:
        get_department(session, department_id)
    check_password_strength(password, username)
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise UsernameTaken(f"Username {username} is taken.", f"用户名 {username} 已被使用。")
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=password_hasher.hash(password),
        department_id=department_id,
        roles=[UserRole(role=role.value) for role in sorted(set(roles))],
    )
    session.add(user)
    session.flush()
    by = actor or Actor(user.id, user.username, None, frozenset({Role.public}))
    audit.record(session, by, UserCreated(user.id, username, department_id, tuple(user.role_names)))
    return user


def get_user(session: Session, user_id: int) -> User:
    """A user by id."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist.", f"用户 {user_id} 不存在。")
    return user


def list_users(session: Session, actor: Actor) -> list[User]:
    """Users the actor may see: all for the bureau, their own departments' for stewards."""
    require(actor, "identity.user.read")
    stmt = select(User).order_by(User.username)
    if not any(role.platform_wide for role in actor.roles):
        stmt = stmt.where(User.department_id.in_(list(actor.departments)))
    return list(session.scalars(stmt))


def set_user_active(session: Session, actor: Actor, *, user_id: int, active: bool) -> User:
    """Disable or enable a user; disabling ends every web session at once."""
    require(actor, "identity.user.manage")
    user = get_user(session, user_id)
    if user.id == actor.user_id and not active:
        raise Invalid("You cannot disable yourself.", "不能停用自己的账号。")
    user.is_active = active
    if not active:
        session.execute(
            update(WebSession)
            .where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
    session.flush()
    audit.record(session, actor, UserActivation(user.id, active))
    return user


def actor_for_user(session: Session, user: User, token: ApiToken | None = None) -> Actor:
    """The acting identity of a user, optionally narrowed by an API token's scopes."""
    return Actor(
        user_id=user.id,
        username=user.username,
        department_id=user.department_id,
        roles=frozenset(Role(r) for r in user.role_names),
        departments=department_subtree(session, user.department_id),
        token_id=token.id if token else None,
        token_scopes=tuple(token.scope_list) if token else None,
    )


def acting_as(session: Session, username: str | None) -> Actor:
    """Who a command acts as: the named user (`--as`), else the operator as the system."""
    if username is None:
        return operator()
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"No user is named {username}.", f"没有名为 {username} 的用户。")
    return actor_for_user(session, user)
