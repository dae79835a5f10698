"""Pydantic shapes of identity data going in and out of the API."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from digigov.core.auth import Role
from digigov.core.types import UtcDateTime


def _no_control(value: str) -> str:
    if any(ord(ch) < 32 for ch in value):
        raise ValueError("must not contain control characters")
    return value


def Text(max_length: int, min_length: int = 1) -> object:  # noqa: N802  (a type factory)
    """A single-line string with bounds and no control characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_control)]


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    level: str
    parent_code: str | None
    valid_from: int | None
    valid_to: int | None
    former_names: str


class DepartmentCreate(BaseModel):
    code: Text(50)  # type: ignore[valid-type]
    name: Text(100)  # type: ignore[valid-type]
    region_code: Annotated[str, Field(pattern=r"^\d{6}$")]
    parent_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None


class DepartmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    region_code: str
    parent_id: int | None


class UserCreate(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.]+$")]
    display_name: Text(100)  # type: ignore[valid-type]
    password: Annotated[str, Field(min_length=10, max_length=128)]
    department_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None
    roles: Annotated[list[Role], Field(min_length=1, max_length=7)]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    department_id: int | None
    is_active: bool
    role_names: list[str]
    last_login_at: UtcDateTime | None


class UserActiveUpdate(BaseModel):
    active: bool


class TokenCreate(BaseModel):
    name: Text(100)  # type: ignore[valid-type]
    scopes: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(min_length=1, max_length=50)] = [
        "*"
    ]
    days: Annotated[int, Field(ge=1, le=3660)] | None = None


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    scope_list: list[str]
    created_at: UtcDateTime
    expires_at: UtcDateTime
    revoked_at: UtcDateTime | None
    last_used_at: UtcDateTime | None


class TokenIssued(TokenRead):
    secret: str = Field(description="The token itself; shown only now, never again.")


class MeRead(BaseModel):
    user_id: int | None
    username: str
    department_id: int | None
    roles: list[str]
    token_scopes: list[str] | None
