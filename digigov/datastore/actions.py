"""Permissions the datastore declares."""

from digigov.core.auth import Role, declare

declare(
    "datastore.read",
    "Read the rows of a resource of one's department in clear text (any resource for the bureau's reviewers); "
    "all staff read published 无条件共享 resources masked by each field's class.",
    "读取数据资源内容",
    {Role.platform_admin, Role.reviewer, Role.data_steward},
)
