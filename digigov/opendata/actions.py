"""Permissions the open-data portal declares. Reading the portal is for everyone, signed in or not."""

from digigov.core.auth import Role, declare

EVERYONE = set(Role)
STAFF = {Role.platform_admin, Role.data_steward, Role.data_consumer, Role.reviewer, Role.auditor, Role.inspector}

declare(
    "opendata.portal.read",
    "Search the open-data portal and read open resources' metadata, ratings, comments and data requests.",
    "浏览开放数据",
    EVERYONE,
    department_scoped=False,
)
declare(
    "opendata.data.read",
    "Preview and download open data (always masked); the portal's data API needs an API key holding it.",
    "获取开放数据",
    EVERYONE,
    department_scoped=False,
)
declare(
    "opendata.register",
    "Register as a portal user (an enterprise or a researcher).",
    "注册开放平台用户",
    {Role.public},
    department_scoped=False,
)
declare(
    "opendata.feedback",
    "Rate and comment on open resources, and ask for data not yet open (数据需求).",
    "评价与提出数据需求",
    {Role.public},
    department_scoped=False,
)
declare(
    "opendata.feedback.moderate",
    "Hide a comment, with a reason, and answer data requests (the big-data bureau).",
    "管理评论与答复数据需求",
    {Role.platform_admin, Role.reviewer},
    department_scoped=False,
)
declare(
    "opendata.application.create",
    "Apply for a 受限开放 resource (a registered enterprise or researcher).",
    "申请受限开放数据",
    {Role.public},
    department_scoped=False,
)
declare(
    "opendata.application.read",
    "See applications: one's own; a steward those for its department's resources; platform roles all.",
    "查看开放申请",
    STAFF | {Role.public},
)
declare(
    "opendata.application.approve_source",
    "Approve or refuse applications for one's department's resources (the source department).",
    "数源部门审核开放申请",
    {Role.platform_admin, Role.data_steward},
)
declare(
    "opendata.application.approve_platform",
    "Approve or refuse applications after the source department (the big-data bureau).",
    "平台审核开放申请",
    {Role.platform_admin, Role.reviewer},
    department_scoped=False,
)
