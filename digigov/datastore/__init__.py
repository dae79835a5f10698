"""Datastore: uploads become typed, immutable Parquet versions.

`reader.read_to_parquet` turns one file (CSV/TSV in any common Chinese encoding, XLSX, XLS,
JSON, JSON Lines) into `data.parquet` plus `rejects.csv` and a `ReadReport`; it needs no database.
The names below are the front door that higher domains use.
"""

from digigov.datastore.models import Version
from digigov.datastore.query import RowQuery, read_rows
from digigov.datastore.versions import (
    get_version,
    latest_version,
    list_versions,
    on_new_version,
    parquet_path,
    require_rows,
)

__all__ = [
    "RowQuery",
    "Version",
    "get_version",
    "latest_version",
    "list_versions",
    "on_new_version",
    "parquet_path",
    "read_rows",
    "require_rows",
]
