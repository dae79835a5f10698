"""Web sign-in: passwords with lock-out, browser sessions with idle and absolute timeouts, CSRF."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import Actor, Role
from digigov.core.config import Settings
from digigov.core.db import utcnow
from digigov.core.errors import AccountLocked, BadCredentials
from digigov.identity.events import LoggedOut, LoginFailed, LoginSucceeded
from digigov.identity.models import User, WebSession
from digigov.identity.service import get_user, password_hasher, secret_digest

_DUMMY_HASH = password_hasher.hash("not a real password, only for equal timing")


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
            token_hash=secret_digest(cookie),
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
        return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def session_for_cookie(session: Session, settings: Settings, cookie: str) -> WebSession | None:
    """The live web session behind a cookie, or None if unknown, ended, idle or too old."""
    web = session.scalar(select(WebSession).where(WebSession.token_hash == secret_digest(cookie)))
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
    web = session.scalar(select(WebSession).where(WebSession.token_hash == secret_digest(cookie)))
    if web is None or web.ended_at is not None:
        return
    web.ended_at = utcnow()
    session.flush()
    user = get_user(session, web.user_id)
    audit.record(session, _self(user), LoggedOut(user.id))


def csrf_matches_token(expected: str, token: str | None) -> bool:
    """Compare a submitted CSRF token with the expected one, in constant time."""
    return bool(token) and hmac.compare_digest(expected.encode(), (token or "").encode())
