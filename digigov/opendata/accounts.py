"""Portal users: registration (an enterprise with its credit code, or a researcher with an institution)
and their API keys, which are identity tokens scoped to the portal (shown once, stored hashed)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import Actor, Role, require
from digigov.core.codes import parse_uscc
from digigov.core.config import Settings
from digigov.identity import register_public_user, tokens
from digigov.identity.models import ApiToken, User
from digigov.opendata.errors import BadRegistration
from digigov.opendata.events import PortalRegistered
from digigov.opendata.models import PortalProfile
from digigov.opendata.schemas import ProfileKind, ProfileRead, RegistrationCreate

KEY_NAME = "开放数据 API 密钥"
KEY_SCOPES = ["opendata.*"]  # the portal's actions only; the user's roles still decide the rest


def register(session: Session, actor: Actor, data: RegistrationCreate) -> tuple[User, PortalProfile]:
    """Create a user holding Role.public and its portal profile; an enterprise's credit code must check out."""
    require(actor, "opendata.register")
    if actor.user_id is not None:
        raise BadRegistration(
            "You are signed in already; sign out to register another account.", "您已登录，如需注册新账号请先退出。"
        )
    organisation = data.organisation.strip()
    if not organisation:
        what = "企业名称" if data.kind is ProfileKind.enterprise else "所在机构"
        raise BadRegistration(f"A {data.kind.value} registers with its {what}.", f"请填写{what}。")
    uscc = None
    if data.kind is ProfileKind.enterprise:
        if not (data.uscc or "").strip():
            raise BadRegistration(
                "An enterprise registers with its unified social credit code.", "企业用户须填写统一社会信用代码。"
            )
        uscc = parse_uscc((data.uscc or "").strip().upper())
    user = register_public_user(session, username=data.username, display_name=data.display_name, password=data.password)
    profile = PortalProfile(
        user_id=user.id, kind=data.kind.value, organisation=organisation, uscc=uscc, contact=data.contact.strip()
    )
    session.add(profile)
    session.flush()
    own = Actor(user.id, user.username, None, frozenset({Role.public}))
    audit.record(session, own, PortalRegistered(user.id, profile.kind, organisation))
    return user, profile


def get_profile(session: Session, user_id: int | None) -> PortalProfile | None:
    """A user's portal profile, if the user registered on the portal."""
    if user_id is None:
        return None
    return session.scalar(select(PortalProfile).where(PortalProfile.user_id == user_id))


def profile_read(user: User, profile: PortalProfile) -> ProfileRead:
    """A profile as the API and pages show it."""
    kind = ProfileKind(profile.kind)
    return ProfileRead(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        kind=kind,
        kind_label=kind.label,
        organisation=profile.organisation,
        uscc=profile.uscc,
        contact=profile.contact,
        created_at=profile.created_at,
    )


def signature(session: Session, user_id: int | None) -> str:
    """How the portal names a user in public: the display name and the organisation, or 社会公众."""
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        return "社会公众"
    profile = get_profile(session, user.id)
    return f"{user.display_name}（{profile.organisation}）" if profile else user.display_name


def organisation_of(session: Session, user_id: int) -> str:
    """The organisation behind a user (never a person's name): for data requests listed in public."""
    profile = get_profile(session, user_id)
    if profile is None:
        return "社会公众"
    return f"{ProfileKind(profile.kind).label} · {profile.organisation}"


def create_api_key(session: Session, actor: Actor, settings: Settings) -> tuple[ApiToken, str]:
    """A new portal API key for the signed-in user (an identity token scoped to the portal), shown once."""
    return tokens.create_token(session, actor, settings, name=KEY_NAME, scopes=KEY_SCOPES)


def list_api_keys(session: Session, actor: Actor) -> list[ApiToken]:
    """The user's portal API keys, revoked ones included, newest first."""
    return [t for t in tokens.list_tokens(session, actor) if t.scope_list == KEY_SCOPES]


def revoke_api_key(session: Session, actor: Actor, *, token_id: int) -> ApiToken:
    """Revoke one of the user's API keys; the next call with it is refused."""
    return tokens.revoke_token(session, actor, token_id=token_id)
