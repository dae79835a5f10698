"""Governance (数据治理): classification and grading, quality rules, problem data.

`raise_problem` is the front door for other domains and rules to open a problem-data item.
Importing the package registers the masks (`rows`) through which staff outside a resource's
department read its rows.

Everything here runs set-wise in the engine, never as a Python loop over rows.
"""

from digigov.governance import problems as _problems  # noqa: F401  (declares actions, owns the work-item kind)
from digigov.governance import rows as _rows  # noqa: F401  (registers the masks of rows read without clear text)
from digigov.governance import service as _service  # noqa: F401  (registers the version hook)
from digigov.governance.problems import raise_problem
from digigov.governance.validators import (
    compact,
    count_valid,
    load_check_tables,
    luhn_valid,
    resident_id_valid,
    uscc_valid,
    validity_query,
)

__all__ = [
    "compact",
    "count_valid",
    "load_check_tables",
    "luhn_valid",
    "raise_problem",
    "resident_id_valid",
    "uscc_valid",
    "validity_query",
]
