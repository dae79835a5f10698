"""Permissions governance declares: the data-element dictionary, code tables and conflicts between sources."""

from digigov.core.auth import Role, declare

STAFF = {Role.platform_admin, Role.data_steward, Role.data_consumer, Role.reviewer, Role.auditor, Role.inspector}

declare(
    "governance.element.read",
    "Read the data-element dictionary, its code tables and where each element is used.",
    "查看数据元与代码表",
    STAFF,
    department_scoped=False,
)
declare(
    "governance.element.edit",
    "Create and edit data elements, load code tables, and move an element's authoritative source (the bureau).",
    "维护数据元目录",
    {Role.platform_admin, Role.reviewer},
    department_scoped=False,
)
declare(
    "governance.element.source",
    "Name a field of one's department's resource as the authoritative source of a data element that has none.",
    "登记数据元权威来源",
    {Role.platform_admin, Role.reviewer, Role.data_steward},
)
declare(
    "governance.conflict.check",
    "Compare an element's values between its authoritative source and every other resource that publishes it.",
    "比对数据元多源冲突",
    {Role.platform_admin, Role.reviewer},
    department_scoped=False,
)
declare(
    "governance.conflict.read",
    "See the conflicts found between an authoritative source and a resource of one's department.",
    "查看数据元多源冲突",
    {Role.platform_admin, Role.reviewer, Role.auditor, Role.data_steward},
)
