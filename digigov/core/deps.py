"""FastAPI dependencies shared by every domain's routes (Annotated aliases).

The app puts the settings, a session factory and the token authenticator on `app.state`;
core stays free of domain imports.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from digigov.core.auth import PUBLIC, Actor
from digigov.core.config import Settings
from digigov.core.errors import NotAuthenticated

_bearer = HTTPBearer(
    auto_error=False, description="An API token created on the 令牌 page or with `digigov token create`."
)


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed if the route returns, rolled back if it raises."""
    with request.app.state.sessionmaker() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": commit before the response is sent, so a client that follows a redirect
# (or reads what it just wrote) always finds the change, and a failed commit is the reply.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_actor(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The actor behind the request's bearer token."""
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated(
            "This API needs a bearer token: send 'Authorization: Bearer <token>'.",
            "此接口需要令牌：请在请求头中携带“Authorization: Bearer <令牌>”。",
        )
    actor: Actor = request.app.state.authenticate_token(session, credentials.credentials)
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]


def get_actor_or_public(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The actor behind the bearer token, or the anonymous public when there is none."""
    if credentials is None or not credentials.credentials:
        return PUBLIC
    actor: Actor = request.app.state.authenticate_token(session, credentials.credentials)
    return actor


PublicActorDep = Annotated[Actor, Depends(get_actor_or_public)]

# Ids fit PostgreSQL's integer; larger values are refused before they reach the database.
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


def language(request: Request) -> str:
    """'en' when the client prefers English, else 'zh' (Chinese first)."""
    header = request.headers.get("accept-language", "").lower()
    for part in header.split(","):
        tag = part.split(";")[0].strip()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "zh"
