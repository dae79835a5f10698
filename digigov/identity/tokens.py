"""API tokens: shown once, stored as SHA-256, scoped, expiring, revocable, kept for audit."""

from __future__ import annotations

import secrets
from datetime import timedelta
from fnmatch import fnmatchcase

from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import ACTIONS, Actor, allows, require
from digigov.core.config import Settings
from digigov.core.db import utcnow
from digigov.core.errors import Invalid, NotFound, TokenRejected
from digigov.identity.errors import UnknownScope
from digigov.identity.events import TokenCreated, TokenRevoked
from digigov.identity.models import ApiToken
from digigov.identity.service import actor_for_user, get_user, secret_digest

TOKEN_PREFIX = "dg_"


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
        token_hash=secret_digest(secret),
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
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == secret_digest(secret)))
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
