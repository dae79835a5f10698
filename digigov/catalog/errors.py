"""Errors of the catalog domain (see `digigov.core.errors` for the tree)."""

from digigov.core.errors import Conflict, Invalid


class ResourceCodeTaken(Conflict):
    code = "resource_code_taken"


class MissingBasis(Invalid):
    code = "missing_basis"
