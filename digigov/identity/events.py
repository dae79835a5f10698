"""Audit events of the identity domain."""

from __future__ import annotations

from dataclasses import dataclass

from digigov.core.audit import AuditEvent


@dataclass(frozen=True)
class RegionsLoaded(AuditEvent):
    kind = "identity.regions_loaded"
    description = "The region table was loaded or refreshed."
    province: str
    count: int

    @property
    def target(self) -> str:
        return f"region:{self.province}"


@dataclass(frozen=True)
class DepartmentCreated(AuditEvent):
    kind = "identity.department_created"
    description = "A department was created."
    department_id: int
    code: str
    name: str
    region_code: str

    @property
    def target(self) -> str:
        return f"department:{self.department_id}"


@dataclass(frozen=True)
class UserCreated(AuditEvent):
    kind = "identity.user_created"
    description = "A user was created with roles."
    user_id: int
    username: str
    department_id: int | None
    roles: tuple[str, ...]

    @property
    def target(self) -> str:
        return f"user:{self.user_id}"


@dataclass(frozen=True)
class UserActivation(AuditEvent):
    kind = "identity.user_activation"
    description = "A user was disabled or enabled; disabling ends their sessions."
    user_id: int
    active: bool

    @property
    def target(self) -> str:
        return f"user:{self.user_id}"


@dataclass(frozen=True)
class LoginSucceeded(AuditEvent):
    kind = "identity.login_succeeded"
    description = "A user signed in on the web."
    user_id: int

    @property
    def target(self) -> str:
        return f"user:{self.user_id}"


@dataclass(frozen=True)
class LoginFailed(AuditEvent):
    kind = "identity.login_failed"
    description = "A sign-in failed: wrong password, locked or disabled account."
    user_id: int
    reason: str
    failures: int

    @property
    def target(self) -> str:
        return f"user:{self.user_id}"


@dataclass(frozen=True)
class LoggedOut(AuditEvent):
    kind = "identity.logged_out"
    description = "A user signed out."
    user_id: int

    @property
    def target(self) -> str:
        return f"user:{self.user_id}"


@dataclass(frozen=True)
class TokenCreated(AuditEvent):
    kind = "identity.token_created"
    description = "An API token was created (its secret is never stored)."
    token_id: int
    user_id: int
    prefix: str
    scopes: str
    expires_at: str

    @property
    def target(self) -> str:
        return f"token:{self.token_id}"


@dataclass(frozen=True)
class TokenRevoked(AuditEvent):
    kind = "identity.token_revoked"
    description = "An API token was revoked."
    token_id: int
    user_id: int

    @property
    def target(self) -> str:
        return f"token:{self.token_id}"
