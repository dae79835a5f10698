"""Identity (foundation): regions, departments, users, roles, API tokens, web sessions."""

from digigov.identity.service import (
    actor_for_user,
    authenticate_token,
    get_department,
    get_region,
)

__all__ = ["actor_for_user", "authenticate_token", "get_department", "get_region"]
