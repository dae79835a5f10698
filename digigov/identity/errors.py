"""Errors of the identity domain (see `digigov.core.errors` for the tree)."""

from digigov.core.errors import Conflict, Invalid


class WeakPassword(Invalid):
    code = "weak_password"


class UsernameTaken(Conflict):
    code = "username_taken"


class DepartmentCodeTaken(Conflict):
    code = "department_code_taken"


class UnknownScope(Invalid):
    code = "unknown_scope"
