"""Identity API: who am I, regions, departments, users, tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from digigov.core.deps import ActorDep, Id, SessionDep
from digigov.identity import service, tokens
from digigov.identity.models import ApiToken, Department, Region, User
from digigov.identity.schemas import (
    DepartmentCreate,
    DepartmentRead,
    MeRead,
    RegionRead,
    TokenRead,
    UserActiveUpdate,
    UserCreate,
    UserRead,
)

router = APIRouter(tags=["identity"])


@router.get("/me", response_model=MeRead)
def me(actor: ActorDep) -> MeRead:
    """The identity behind the token."""
    return MeRead(
        user_id=actor.user_id,
        username=actor.username,
        department_id=actor.department_id,
        roles=sorted(actor.roles),
        token_scopes=list(actor.token_scopes) if actor.token_scopes is not None else None,
    )


@router.get("/regions", response_model=list[RegionRead])
def regions(
    session: SessionDep,
    actor: ActorDep,
    parent: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    level: Annotated[str | None, Query(pattern=r"^(province|city|county)$")] = None,
    current: bool = False,
) -> list[Region]:
    """Administrative divisions, filtered by parent code, level and current validity."""
    return service.list_regions(session, actor, parent_code=parent, level=level, current_only=current)


@router.get("/regions/{code}", response_model=RegionRead)
def region(code: str, session: SessionDep, actor: ActorDep) -> Region:
    """One division by its six-digit code."""
    return service.read_region(session, actor, code)


@router.get("/departments", response_model=list[DepartmentRead])
def departments(session: SessionDep, actor: ActorDep) -> list[Department]:
    """All departments."""
    return service.list_departments(session, actor)


@router.post("/departments", response_model=DepartmentRead, status_code=status.HTTP_201_CREATED)
def create_department(body: DepartmentCreate, session: SessionDep, actor: ActorDep) -> Department:
    """Create a department (platform admin)."""
    return service.create_department(
        session, actor, code=body.code, name=body.name, region_code=body.region_code, parent_id=body.parent_id
    )


@router.get("/users", response_model=list[UserRead])
def users(session: SessionDep, actor: ActorDep) -> list[User]:
    """Users the caller may see."""
    return service.list_users(session, actor)


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: SessionDep, actor: ActorDep) -> User:
    """Create a user with roles (platform admin)."""
    return service.create_user(
        session,
        actor,
        username=body.username,
        display_name=body.display_name,
        password=body.password,
        department_id=body.department_id,
        roles=body.roles,
    )


@router.put("/users/{user_id}/active", response_model=UserRead)
def set_active(user_id: Id, body: UserActiveUpdate, session: SessionDep, actor: ActorDep) -> User:
    """Disable or enable a user; disabling ends their web sessions."""
    return service.set_user_active(session, actor, user_id=user_id, active=body.active)


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(session: SessionDep, actor: ActorDep) -> list[ApiToken]:
    """The caller's API tokens, revoked ones included."""
    return tokens.list_tokens(session, actor)


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_token(token_id: Id, session: SessionDep, actor: ActorDep) -> ApiToken:
    """Revoke a token; it stops working on the next call and stays listed."""
    return tokens.revoke_token(session, actor, token_id=token_id)
