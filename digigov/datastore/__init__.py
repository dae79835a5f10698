"""Datastore: uploads become typed, immutable Parquet versions.

`reader.read_to_parquet` turns one file (CSV/TSV in any common Chinese encoding, XLSX, XLS,
JSON, JSON Lines) into `data.parquet` plus `rejects.csv` and a `ReadReport`; it needs no database.
`versions.query_rows` is the one way a user reads a version's rows: in clear for those who
`reads_clear`, else through the masks a higher layer registers with `mask_rows_with`.
The names below are the front door that higher domains use.
"""

from digigov.datastore.errors import MaskedField
from digigov.datastore.masked import FieldMask, mask_rows_with
from digigov.datastore.models import Version
from digigov.datastore.query import RowQuery, read_rows
from digigov.datastore.versions import (
    allows_rows,
    get_version,
    latest_version,
    list_versions,
    on_new_version,
    parquet_path,
    reads_clear,
    require_rows,
)

__all__ = [
    "FieldMask",
    "MaskedField",
    "RowQuery",
    "Version",
    "allows_rows",
    "get_version",
    "latest_version",
    "list_versions",
    "mask_rows_with",
    "on_new_version",
    "parquet_path",
    "read_rows",
    "reads_clear",
    "require_rows",
]
