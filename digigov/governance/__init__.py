"""Governance (数据治理): classification and grading, quality rules, problem data.

Everything here runs set-wise in the engine, never as a Python loop over rows.
"""

from digigov.governance.validators import (
    compact,
    count_valid,
    load_divisions,
    luhn_valid,
    resident_id_valid,
    uscc_valid,
    validity_query,
)

__all__ = [
    "compact",
    "count_valid",
    "load_divisions",
    "luhn_valid",
    "resident_id_valid",
    "uscc_valid",
    "validity_query",
]
