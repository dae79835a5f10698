"""Identity services: departments, users, sign-in, web sessions and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from fnmatch import fnmatchcase

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import ACTIONS, Actor, Role, allows, require
from digigov.core.codes import parse_division_code
from digigov.core.config import Settings
from digigov.core.db import utcnow
from digigov.core.errors import AccountLocked, BadCredentials, Invalid, NotFound, TokenRejected
from digigov.identity import actions as _actions  # noqa: F401  (declares the actions)
from digigov.identity.errors import DepartmentCodeTaken, UnknownScope, UsernameTaken, WeakPassword
from digigov.identity.events import (
    DepartmentCreated,
    LoggedOut,
    LoginFailed,
    LoginSucceeded,
    TokenCreated,
    TokenRevoked,
    UserActivation,
    UserCreated,
)
from digigov.identity.models import ApiToken, Department, Region, User, UserRole, WebSession

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password, only for equal timing")
TOKEN_PREFIX = "dg_"


def _sha256(value: str) -> str:
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
        password_hash=_hasher.hash(password),
        department_id=department_id,
        roles=[UserRole(role=role.value) for role in sorted(set(roles))],
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, UserCreated(user.id, username, department_id, tuple(user.role_names)))
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


# ---- web sign-in and sessions -----------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a sign-in attempt; failures are returned so the edge can commit them."""

    user: User | None
    cookie: str | None
    error: BadCredentials | AccountLocked | None


def log_in(session: Session, settings: Settings, *, username: str, password: str) -> LoginOutcome:
    """Check a password; count failures and lock the account after too many in a row."""
    now = utcnow()
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    wrong = BadCredentials("Wrong username or password.", "用户名或密码错误。")
    if user is None:
        _verify(_DUMMY_HASH, password)  # same time as a real check: no username probing
        return LoginOutcome(None, None, wrong)
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        locked = AccountLocked(
            f"Too many failed sign-ins; try again in {minutes} minutes or ask an administrator.",
            f"登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试或联系管理员。",
        )
        audit.record(session, _self(user), LoginFailed(user.id, "locked", user.failed_logins))
        return LoginOutcome(None, None, locked)
    if not _verify(user.password_hash, password) or not user.is_active:
        user.failed_logins += 1
        reason = "disabled" if user.is_active is False else "wrong_password"
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
            user.failed_logins = 0
            reason = "locked_now"
        session.flush()
        audit.record(session, _self(user), LoginFailed(user.id, reason, user.failed_logins))
        return LoginOutcome(None, None, wrong)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    cookie = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_sha256(cookie),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    audit.record(session, _self(user), LoginSucceeded(user.id))
    return LoginOutcome(user, cookie, None)


def _self(user: User) -> Actor:
    return Actor(user.id, user.username, user.department_id, frozenset(Role(r) for r in user.role_names))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def session_for_cookie(session: Session, settings: Settings, cookie: str) -> WebSession | None:
    """The live web session behind a cookie, or None if unknown, ended, idle or too old."""
    web = session.scalar(select(WebSession).where(WebSession.token_hash == _sha256(cookie)))
    if web is None or web.ended_at is not None:
        return None
    now = utcnow()
    idle = timedelta(minutes=settings.session_idle_minutes)
    absolute = timedelta(hours=settings.session_absolute_hours)
    user = session.get(User, web.user_id)
    if now - web.last_seen_at > idle or now - web.created_at > absolute or user is None or not user.is_active:
        web.ended_at = now
        session.flush()
        return None
    if now - web.last_seen_at > timedelta(seconds=60):  # one write a minute is enough for idle tracking
        web.last_seen_at = now
        session.flush()
    return web


def log_out(session: Session, cookie: str) -> None:
    """End the web session behind a cookie."""
    web = session.scalar(select(WebSession).where(WebSession.token_hash == _sha256(cookie)))
    if web is None or web.ended_at is not None:
        return
    web.ended_at = utcnow()
    session.flush()
    user = get_user(session, web.user_id)
    audit.record(session, _self(user), LoggedOut(user.id))


def csrf_matches_token(expected: str, token: str | None) -> bool:
    """Compare a submitted CSRF token with the expected one, in constant time."""
    return bool(token) and hmac.compare_digest(expected.encode(), (token or "").encode())


# ---- API tokens -------------------------------------------------------------------------


def check_scopes(scopes: list[str]) -> list[str]:
    """Each scope is an action name or a pattern (`audit.*`, `*`) that matches a declared action."""
    cleaned = sorted({s.strip() for s in scopes if s.strip()})
    if not cleaned:
        raise UnknownScope("A token needs at least one scope, e.g. '*'.", "令牌至少须有一个权限范围，例如“*”。")
    for scope in cleaned:
        if len(scope) > 100 or not any(fnmatchcase(name, scope) for name in ACTIONS):
            raise UnknownScope(
                f"Scope '{scope}' matches no action; see docs/permissions.md.",
                f"权限范围“{scope}”不匹配任何操作，参见 docs/permissions.md。",
            )
    return cleaned


def create_token(
    session: Session, actor: Actor, settings: Settings, *, name: str, scopes: list[str], days: int | None = None
) -> tuple[ApiToken, str]:
    """Issue a token for the actor; the secret is returned once and only its hash is kept."""
    require(actor, "identity.token.create")
    if actor.user_id is None:
        raise Invalid("Tokens belong to users; name one.", "令牌须归属某个用户。")
    if actor.token_id is not None:
        raise Invalid("A token cannot create tokens; sign in instead.", "不能用令牌创建令牌，请登录后操作。")
    lifetime = settings.token_default_days if days is None else days
    if not 1 <= lifetime <= settings.token_max_days:
        raise Invalid(
            f"A token lives 1 to {settings.token_max_days} days.",
            f"令牌有效期须为 1 到 {settings.token_max_days} 天。",
        )
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("A token needs a name of 1-100 characters.", "令牌名称须为 1-100 个字符。")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=actor.user_id,
        name=name,
        prefix=secret[:10],
        token_hash=_sha256(secret),
        scopes=" ".join(check_scopes(scopes)),
        expires_at=utcnow() + timedelta(days=lifetime),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        TokenCreated(token.id, actor.user_id, token.prefix, token.scopes, token.expires_at.isoformat()),
    )
    return token, secret


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """The actor's own tokens, revoked ones included."""
    stmt = select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id.desc())
    return list(session.scalars(stmt))


def revoke_token(session: Session, actor: Actor, *, token_id: int) -> ApiToken:
    """Revoke a token: one's own, or anyone's for a platform admin. The row is kept."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not _may_revoke_any(actor)):
        raise NotFound(f"Token {token_id} does not exist.", f"令牌 {token_id} 不存在。")
    if token.revoked_at is None:
        token.revoked_at, token.revoked_by = utcnow(), actor.username
        session.flush()
        audit.record(session, actor, TokenRevoked(token.id, token.user_id))
    return token


def _may_revoke_any(actor: Actor) -> bool:
    return allows(actor, "identity.token.revoke_any")


def authenticate_token(session: Session, secret: str) -> Actor:
    """The actor behind a bearer token; refused if unknown, expired, revoked or disabled."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(secret)))
    if token is None:
        raise TokenRejected("The API token is not known.", "API 令牌无效。")
    now = utcnow()
    if token.revoked_at is not None:
        raise TokenRejected(
            f"The API token {token.prefix}… was revoked on {token.revoked_at:%Y-%m-%d}.",
            f"API 令牌 {token.prefix}… 已于 {token.revoked_at:%Y-%m-%d} 吊销。",
        )
    if token.expires_at <= now:
        raise TokenRejected(
            f"The API token {token.prefix}… expired on {token.expires_at:%Y-%m-%d}; create a new one.",
            f"API 令牌 {token.prefix}… 已于 {token.expires_at:%Y-%m-%d} 过期，请重新创建。",
        )
    user = get_user(session, token.user_id)
    if not user.is_active:
        raise TokenRejected("The token's user is disabled.", "令牌所属用户已停用。")
    if token.last_used_at is None or now - token.last_used_at > timedelta(seconds=60):
        token.last_used_at = now
        session.flush()
    return actor_for_user(session, user, token)
