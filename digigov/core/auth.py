"""Who is acting and what they may do: `Actor`, roles, declared actions, and `require()`.

`require()` is the one permission check in the platform. Actions are declared as data
(name, description, roles) by the domain that owns them and listed in docs/permissions.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Protocol

from digigov.core.errors import Forbidden


class Role(StrEnum):
    """Roles a user can hold; the Chinese label is what the UI shows."""

    platform_admin = "platform_admin"
    data_steward = "data_steward"
    data_consumer = "data_consumer"
    reviewer = "reviewer"
    auditor = "auditor"
    inspector = "inspector"
    policy_officer = "policy_officer"
    public = "public"

    @property
    def label(self) -> str:
        """The role's Chinese name."""
        return ROLE_LABELS[self]

    @property
    def platform_wide(self) -> bool:
        """Roles of the big-data bureau act across departments; the rest only in their own."""
        return self in {Role.platform_admin, Role.reviewer, Role.auditor}


ROLE_LABELS = {
    Role.platform_admin: "平台管理员",
    Role.data_steward: "部门数据管理员",
    Role.data_consumer: "数据使用者",
    Role.reviewer: "审核员",
    Role.auditor: "审计员",
    Role.inspector: "执法检查员",
    Role.policy_officer: "政策管理员",
    Role.public: "社会公众",
}


@dataclass(frozen=True)
class Actor:
    """The user (or system) behind a request, resolved once at the edge."""

    user_id: int | None
    username: str
    department_id: int | None
    roles: frozenset[Role]
    departments: frozenset[int] = frozenset()  # own department and everything under it
    token_id: int | None = None
    token_scopes: tuple[str, ...] | None = None  # None: a web session or the CLI, no narrowing


SYSTEM = Actor(user_id=None, username="system", department_id=None, roles=frozenset(Role))
PUBLIC = Actor(user_id=None, username="public", department_id=None, roles=frozenset({Role.public}))


@dataclass(frozen=True)
class Action:
    """A permission: what it lets one do, and which roles hold it."""

    name: str
    description: str
    label: str  # Chinese name shown in the UI and in Chinese error messages
    roles: frozenset[Role]
    department_scoped: bool = True  # department-bound roles may act only inside their department


ACTIONS: dict[str, Action] = {}


def declare(name: str, description: str, label: str, roles: set[Role], *, department_scoped: bool = True) -> Action:
    """Register an action; each domain declares its own in its `actions.py`."""
    if name in ACTIONS:
        raise ValueError(f"action {name} declared twice")
    action = Action(name, description, label, frozenset(roles), department_scoped)
    ACTIONS[name] = action
    return action


class DepartmentOwned(Protocol):
    """Anything that belongs to a department: a user, a resource, a work item."""

    @property
    def department_id(self) -> int | None: ...


@dataclass(frozen=True)
class InDepartment:
    """A target that is only a department, for actions such as creating something in it."""

    department_id: int | None = field(default=None)


def allows(actor: Actor, action_name: str, target: DepartmentOwned | None = None) -> bool:
    """True if `require` would let the actor do this."""
    try:
        require(actor, action_name, target)
    except Forbidden:
        return False
    return True


def require(actor: Actor, action_name: str, target: DepartmentOwned | None = None) -> None:
    """Raise Forbidden unless the actor's roles, token scope and department allow the action."""
    action = ACTIONS[action_name]
    if actor.token_scopes is not None and not any(fnmatchcase(action_name, scope) for scope in actor.token_scopes):
        raise Forbidden(
            f"This API token's scope does not include '{action_name}'; create a token with that scope.",
            f"该 API 令牌的权限范围不包含“{action_name}”，请创建包含该范围的令牌。",
        )
    granting = actor.roles & action.roles
    if not granting:
        raise Forbidden(
            f"Your roles do not allow '{action_name}' ({action.description}).",
            f"您的角色无权执行“{action.label}”（{action_name}）。",
        )
    if not action.department_scoped or target is None:
        return
    if any(role.platform_wide for role in granting):
        return
    if target.department_id not in actor.departments:
        raise Forbidden(
            f"'{action_name}' is allowed only inside your own department; this belongs to another.",
            f"只能在本部门范围内执行“{action_name}”，该对象属于其他部门。",
        )
