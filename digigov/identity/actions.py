"""Permissions the identity domain declares."""

from digigov.core.auth import Role, declare

ALL_STAFF = {Role.platform_admin, Role.data_steward, Role.data_consumer, Role.reviewer, Role.auditor, Role.inspector}

declare(
    "identity.department.create", "Create a department.", "新建部门", {Role.platform_admin}, department_scoped=False
)
declare("identity.department.read", "List departments.", "查看部门", ALL_STAFF, department_scoped=False)
declare(
    "identity.user.create",
    "Create a user and assign roles.",
    "新建用户",
    {Role.platform_admin},
    department_scoped=False,
)
declare(
    "identity.user.manage",
    "Disable or enable a user.",
    "停用或启用用户",
    {Role.platform_admin},
    department_scoped=False,
)
declare(
    "identity.user.read",
    "List users of one's department (all departments for the bureau).",
    "查看用户",
    {Role.platform_admin, Role.auditor, Role.data_steward},
)
declare(
    "identity.token.create",
    "Create an API token for oneself.",
    "创建 API 令牌",
    ALL_STAFF | {Role.public},
    department_scoped=False,
)
declare(
    "identity.token.revoke_any",
    "Revoke anyone's API token.",
    "吊销任意令牌",
    {Role.platform_admin},
    department_scoped=False,
)
declare(
    "identity.region.read", "Read the region table.", "查看行政区划", ALL_STAFF | {Role.public}, department_scoped=False
)
