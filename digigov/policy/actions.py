"""Permissions the policy library declares."""

from digigov.core.auth import Role, declare

declare(
    "policy.library.manage",
    "Import policy documents and FAQs, and rebuild the policy search index.",
    "管理政策文件库",
    {Role.platform_admin, Role.policy_officer},
    department_scoped=False,
)
declare(
    "policy.library.read",
    "Browse and search the policy library and ask policy questions (open to the public).",
    "查阅政策与政策问答",
    set(Role),
    department_scoped=False,
)
declare(
    "policy.feedback.read",
    "See the questions people asked, their ratings, and the most-asked unanswered ones.",
    "查看政策问答民意数据",
    {Role.platform_admin, Role.policy_officer, Role.auditor},
    department_scoped=False,
)
