"""Errors of the open-data portal (see `digigov.core.errors` for the tree).

A 禁止开放 resource is never an error of its own: it is the `not_found` of a code that does not exist.
"""

from digigov.core.errors import Forbidden, Invalid, NotAuthenticated


class BadRegistration(Invalid):
    """A registration without what its kind needs (an enterprise's name and credit code, an institution)."""

    code = "bad_registration"


class BadApplication(Invalid):
    """An application without the security commitment, for a resource open to all, or a refusal without reason."""

    code = "bad_open_application"


class BadFeedback(Invalid):
    """A rating outside 1-5, an empty or over-long comment, a data request without a title, an answer without reason."""

    code = "bad_feedback"


class ProfileNeeded(Forbidden):
    """Only a registered enterprise or researcher may apply for 受限开放 data."""

    code = "portal_profile_needed"


class AccessNeeded(Forbidden):
    """A 受限开放 resource's rows need an approved application that is still running."""

    code = "open_access_needed"


class ApiKeyNeeded(NotAuthenticated):
    """The portal's data API needs an API key in `X-API-Key`."""

    code = "api_key_needed"


class DailyQuotaUsed(Forbidden):
    """The API key's calls for today are used up."""

    status, code = 429, "open_quota_exceeded"
