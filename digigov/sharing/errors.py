"""Errors of the sharing domain (see `digigov.core.errors` for the tree)."""

from digigov.core.errors import Forbidden, Invalid, NotAuthenticated


class GrantClosed(Forbidden):
    """The grant is revoked, expired, not yet started, or its credential was never issued."""

    code = "grant_closed"


class NotGranted(Forbidden):
    """The grant does not cover this: another kind of call, a field outside it, a lookup without a key."""

    code = "not_granted"


class MaskedField(Forbidden):
    """A filter or key on a field the grant masks: answering would reveal the value."""

    code = "masked_field"


class QuotaExceeded(Forbidden):
    """The grant's rate limit or daily quota is used up."""

    status, code = 429, "quota_exceeded"


class CredentialRejected(NotAuthenticated):
    code = "credential_rejected"


class BadShareRequest(Invalid):
    code = "bad_share_request"


class BadAnalysis(Invalid):
    """A structured query naming unknown fields, aggregating a field it may not, or outside the licence."""

    code = "bad_analysis"
