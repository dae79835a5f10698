"""Open data (开放): the public portal. Search and resource pages over the published 无条件开放 and
受限开放 resources (禁止开放 ones do not exist here), masked previews and downloads, ratings, comments,
data requests (数据需求), portal registration and API keys, and applications for 受限开放 data.

The portal's view of the catalog is in `service`; rows and downloads in `data`; registration and
keys in `accounts`; ratings, comments and data requests in `feedback`; applications in `applications`.
"""

from digigov.opendata import actions as _actions  # noqa: F401  (declares the permissions)
