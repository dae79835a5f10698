"""Sharing (共享): departments request data, the source department and the platform approve, a grant
opens a masked, audited data API.

`request_share`, the decisions and the grant's life are in `service`; the data API in `data`;
masks in `masking`.
"""

from digigov.sharing import actions as _actions  # noqa: F401  (declares the permissions)
