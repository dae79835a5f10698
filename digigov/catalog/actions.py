"""Permissions the catalog declares."""

from digigov.core.auth import Role, declare

STAFF = {Role.platform_admin, Role.data_steward, Role.data_consumer, Role.reviewer, Role.auditor, Role.inspector}

declare(
    "catalog.resource.edit",
    "Create, edit, submit or withdraw resources of one's department.",
    "编目本部门数据资源",
    {Role.platform_admin, Role.data_steward},
)
declare(
    "catalog.resource.review",
    "Publish or return submitted resources and changes (the bureau's reviewers).",
    "审核数据资源",
    {Role.platform_admin, Role.reviewer},
    department_scoped=False,
)
declare(
    "catalog.resource.read",
    "See published resources of every department, and drafts of one's own.",
    "查看数据目录",
    STAFF,
)
