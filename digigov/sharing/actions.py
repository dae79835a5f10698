"""Permissions the sharing domain declares (the data API itself is opened by a grant's credential)."""

from digigov.core.auth import Role, declare

STAFF = {Role.platform_admin, Role.data_steward, Role.data_consumer, Role.reviewer, Role.auditor, Role.inspector}

declare(
    "sharing.request.create",
    "Request fields of a published resource for one's department.",
    "申请共享数据",
    {Role.platform_admin, Role.data_steward, Role.data_consumer},
)
declare(
    "sharing.request.read",
    "See share requests and grants one's department made or received (platform roles: all).",
    "查看共享申请与授权",
    STAFF,
)
declare(
    "sharing.request.approve_source",
    "Approve or refuse share requests for one's department's resources (the source department).",
    "数源部门审核共享申请",
    {Role.platform_admin, Role.data_steward},
)
declare(
    "sharing.request.approve_platform",
    "Approve or refuse share requests after the source department (the big-data bureau).",
    "平台审核共享申请",
    {Role.platform_admin, Role.reviewer},
    department_scoped=False,
)
declare(
    "sharing.grant.credential",
    "Issue (or rotate) the credential of a grant made to one's department.",
    "获取共享授权凭证",
    {Role.platform_admin, Role.data_steward, Role.data_consumer},
)
declare(
    "sharing.grant.revoke",
    "Revoke a grant of one's department's resource (source department) or any grant (platform admin, reviewer).",
    "撤销共享授权",
    {Role.platform_admin, Role.reviewer, Role.data_steward},
)
declare(
    "sharing.usage.read",
    "See usage statistics of grants: one's department's consumption and the use of its resources (platform: all).",
    "查看共享调用统计",
    {Role.platform_admin, Role.reviewer, Role.auditor, Role.data_steward, Role.data_consumer},
)
declare(
    "sharing.licence.manage",
    "Grant, list and revoke licences for authorised operation (授权运营), and issue their credentials.",
    "管理授权运营许可",
    {Role.platform_admin},
    department_scoped=False,
)
declare(
    "sharing.release.review",
    "Release or hold the aggregates an operator's analysis produced.",
    "审核授权运营结果发布",
    {Role.platform_admin, Role.reviewer},
    department_scoped=False,
)
