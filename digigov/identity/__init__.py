"""Identity (foundation): regions, departments, users, roles, API tokens, web sessions."""

from digigov.identity.service import acting_as, actor_for_user, get_department, get_region, register_public_user
from digigov.identity.tokens import authenticate_token

__all__ = ["acting_as", "actor_for_user", "authenticate_token", "get_department", "get_region", "register_public_user"]
